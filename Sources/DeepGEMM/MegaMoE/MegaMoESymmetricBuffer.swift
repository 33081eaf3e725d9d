import DeepGEMMCore

/// One rank's input views into a ``MegaMoESymmetricBuffer``: the tensors the caller fills before
/// every Mega MoE call (spec/megamoe-indexer.md §1.1). They alias the rank's region of the
/// symmetric memory; writing through them is what the other ranks read.
public struct MegaMoEBufferInputs: Sendable {
    /// `x`: FP8 E4M3 [T, H] (``MegaMoEBufferLayout/MMAType/fp8xfp4``) or BF16 [T, H], contiguous.
    public let x: Tensor
    /// `x_sf`: packed UE8M0 Int32 [T, H/128], K-major (one byte per 32 hidden elements); nil for BF16.
    public let xSF: Tensor?
    /// `topk_idx`: Int64 [T, k], a global expert per slot or -1 for a masked slot.
    public let topkIdx: Tensor
    /// `topk_weights`: F32 [T, k], the routing weight of each slot.
    public let topkWeights: Tensor
}

/// The Swift form of DeepGEMM's `SymmBuffer` for R thread ranks of one process: a zero-filled
/// ``SymmetricMemory`` with one region per rank, each laid out by ``MegaMoEBufferLayout``, and one
/// ``MegaMoERankBuffer`` per rank. T (``numMaxTokensPerRank``) is the aligned capacity.
///
/// The views keep the memory alive. Do not call ``SymmetricMemory/close()`` on ``memory`` while
/// a view or the buffer is still in use.
public final class MegaMoESymmetricBuffer: Sendable {
    /// R, the number of ranks (DeepGEMM's group size).
    public let numRanks: Int
    /// E, the number of experts over all ranks.
    public let numExperts: Int
    /// T, the per-rank token capacity: the requested maximum rounded up to a multiple of 384.
    public let numMaxTokensPerRank: Int
    /// k, the top-k slots per token.
    public let numTopk: Int
    /// H, the hidden size.
    public let hidden: Int
    /// I, the intermediate size.
    public let intermediateHidden: Int
    /// The element kinds of the expert GEMMs.
    public let mmaType: MegaMoEBufferLayout.MMAType
    /// The byte layout of every rank's region (its ring size is ``MegaMoEBufferLayout/ringTokens``).
    public let layout: MegaMoEBufferLayout
    /// The shared memory: region r is rank r's buffer.
    public let memory: SymmetricMemory
    /// Each rank's handle, index r for rank r: what the per-rank calls take.
    public let ranks: [MegaMoERankBuffer]

    /// The input views of each rank, index r for rank r.
    public var inputs: [MegaMoEBufferInputs] { ranks.map(\.inputs) }
    /// E_l = E / R, the experts of each rank.
    public var numLocalExperts: Int { numExperts / numRanks }

    fileprivate init(request: MegaMoEBufferRequest, timeout: Duration, threadsPerRank: Int) throws {
        let memory = try SymmetricMemory.local(rankCount: request.numRanks, regionBytes: request.layout.totalBytes)
        ranks = try (0..<request.numRanks).map { rank in
            try MegaMoERankBuffer(group: RankGroup(rank: rank, memory: memory, timeout: timeout), request: request,
                                  threadsPerRank: threadsPerRank, ownsMemory: false)
        }
        (numRanks, numExperts, numMaxTokensPerRank, numTopk) = (request.numRanks, request.numExperts, request.numMaxTokensPerRank, request.numTopk)
        (hidden, intermediateHidden, mmaType, layout, self.memory) = (request.hidden, request.intermediateHidden, request.mmaType, request.layout, memory)
    }
}

/// DeepGEMM's `get_symm_buffer_for_mega_moe(group, num_experts, num_max_tokens_per_rank, num_topk,
/// hidden, intermediate_hidden, use_fp8_dispatch=None, mma_type='fp8xfp4', activation='swiglu')`
/// (spec/megamoe-indexer.md §1.1, §1.4, §1.10) for `numRanks` thread ranks: the process group is
/// replaced by its size, and one call allocates every rank's region.
///
/// Rounds `numMaxTokensPerRank` up to 384, picks DeepGEMM's default ring size
/// (``MegaMoEBufferLayout/defaultRingTokens(maxTokensPerRank:expertsPerRank:topk:ranks:)``),
/// allocates a zero-filled ``SymmetricMemory/local(rankCount:regionBytes:)`` and returns the
/// buffer with each rank's handle and `x`, `x_sf`, `topk_idx` and `topk_weights` views. Rank waits
/// inside a call fail after `timeout` without progress (an arrival or a heartbeat after each expert
/// block) of the rank waited for, naming it. `threadsPerRank` (default: every thread of the backend)
/// is how many CPU threads each rank computes with; the ranks' threads share the process's worker
/// pool, so a rank that is done or waiting lends its cores to the others. Results do not depend on it.
///
/// Rules (each names its argument): `num_ranks` in 1...72; `num_experts` in 1...65536 and a multiple
/// of `num_ranks`; `num_max_tokens_per_rank` in 1...2^24; `num_topk` in 1...32; `hidden` and
/// `intermediate_hidden` positive, at most 65536, multiples of 128 for FP8 and of 64 for BF16;
/// `use_fp8_dispatch`, when given, must agree with `mma_type`; `activation` must be `swiglu`.
/// ``MegaMoEBufferLayout`` adds that every TMA-loaded row fills whole 16-byte units, which for FP8
/// means H/32 and I/32 scale bytes per row a multiple of 16 (H and I multiples of 512).
public func getSymmBufferForMegaMoE(
    numExperts: Int, numMaxTokensPerRank: Int, numTopk: Int, hidden: Int, intermediateHidden: Int, numRanks: Int,
    useFP8Dispatch: Bool? = nil, mmaType: MegaMoEBufferLayout.MMAType = .fp8xfp4, activation: String = "swiglu",
    timeout: Duration = .seconds(60), threadsPerRank: Int? = nil
) throws -> MegaMoESymmetricBuffer {
    let request = try MegaMoEBufferRequest(numExperts: numExperts, numMaxTokensPerRank: numMaxTokensPerRank, numTopk: numTopk,
                                           hidden: hidden, intermediateHidden: intermediateHidden, numRanks: numRanks,
                                           useFP8Dispatch: useFP8Dispatch, mmaType: mmaType, activation: activation)
    return try MegaMoESymmetricBuffer(request: request, timeout: timeout,
                                      threadsPerRank: megaMoEThreadsPerRank(threadsPerRank))
}
