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
/// ``SymmetricMemory`` with one region per rank, each laid out by ``MegaMoEBufferLayout``, and
/// per-rank zero-copy views of the input regions. T (``numMaxTokensPerRank``) is the aligned capacity.
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
    /// The input views of each rank, index r for rank r.
    public let inputs: [MegaMoEBufferInputs]

    /// E_l = E / R, the experts of each rank.
    public var numLocalExperts: Int { numExperts / numRanks }

    fileprivate init(numRanks: Int, numExperts: Int, numMaxTokensPerRank: Int, numTopk: Int, hidden: Int, intermediateHidden: Int,
                     mmaType: MegaMoEBufferLayout.MMAType, layout: MegaMoEBufferLayout) throws {
        let memory = try SymmetricMemory.local(rankCount: numRanks, regionBytes: layout.totalBytes)
        let (t, k) = (numMaxTokensPerRank, numTopk)
        inputs = try (0..<numRanks).map { rank in
            let storage = TensorStorage(wrapping: memory.region(of: rank), byteCount: memory.regionBytes) { _, _ in
                withExtendedLifetime(memory) {}
            }
            func view(_ region: MegaMoEBufferLayout.Region, _ dtype: DType, _ shape: [Int]) throws -> Tensor {
                precondition(region.offset % dtype.size == 0 && region.byteCount == shape.reduce(dtype.size, *),
                             "buffer regions hold whole, aligned elements")
                return try Tensor(storage: storage, dtype: dtype, shape: shape, strides: Tensor.contiguousStrides(shape),
                                  offset: region.offset / dtype.size)
            }
            return MegaMoEBufferInputs(
                x: try view(layout.x, mmaType == .fp8xfp4 ? .float8E4M3 : .bfloat16, [t, hidden]),
                xSF: mmaType.hasScaleFactors ? try view(layout.xSF, .int32, [t, hidden / 128]) : nil,
                topkIdx: try view(layout.topkIdx, .int64, [t, k]),
                topkWeights: try view(layout.topkWeights, .float32, [t, k]))
        }
        (self.numRanks, self.numExperts, self.numMaxTokensPerRank, self.numTopk) = (numRanks, numExperts, numMaxTokensPerRank, numTopk)
        (self.hidden, self.intermediateHidden, self.mmaType, self.layout, self.memory) = (hidden, intermediateHidden, mmaType, layout, memory)
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
/// buffer with each rank's `x`, `x_sf`, `topk_idx` and `topk_weights` views.
///
/// Rules (each names its argument): `num_ranks` in 1...72; `num_experts` in 1...65536 and a multiple
/// of `num_ranks`; `num_max_tokens_per_rank` in 1...2^24; `num_topk` in 1...32; `hidden` and
/// `intermediate_hidden` positive, at most 65536, multiples of 128 for FP8 and of 64 for BF16;
/// `use_fp8_dispatch`, when given, must agree with `mma_type`; `activation` must be `swiglu`.
/// ``MegaMoEBufferLayout`` adds that every TMA-loaded row fills whole 16-byte units, which for FP8
/// means H/32 and I/32 scale bytes per row a multiple of 16 (H and I multiples of 512).
public func getSymmBufferForMegaMoE(
    numExperts: Int, numMaxTokensPerRank: Int, numTopk: Int, hidden: Int, intermediateHidden: Int, numRanks: Int,
    useFP8Dispatch: Bool? = nil, mmaType: MegaMoEBufferLayout.MMAType = .fp8xfp4, activation: String = "swiglu"
) throws -> MegaMoESymmetricBuffer {
    try DeepGEMMError.require(activation == "swiglu", "activation", "only 'swiglu' is supported, got '\(activation)'")
    if let useFP8Dispatch {
        try DeepGEMMError.require(useFP8Dispatch == (mmaType == .fp8xfp4), "use_fp8_dispatch",
                                  "must agree with mma_type '\(mmaType.rawValue)', got \(useFP8Dispatch)")
    }
    try DeepGEMMError.require(numRanks >= 1 && numRanks <= SymmetricMemory.maxRankCount, "num_ranks",
                              "must be in 1...\(SymmetricMemory.maxRankCount), got \(numRanks)")
    try DeepGEMMError.require(numExperts > 0 && numExperts <= 1 << 16 && numExperts % numRanks == 0, "num_experts",
                              "must be in 1...65536 and a multiple of the number of ranks (\(numRanks)), got \(numExperts)")
    try DeepGEMMError.require(numMaxTokensPerRank > 0 && numMaxTokensPerRank <= 1 << 24, "num_max_tokens_per_rank",
                              "must be in 1...\(1 << 24), got \(numMaxTokensPerRank)")
    try DeepGEMMError.require(numTopk > 0 && numTopk <= MegaMoEUnfusedProblem.maxTopk, "num_topk",
                              "must be in 1...\(MegaMoEUnfusedProblem.maxTopk), got \(numTopk)")
    let granularity = mmaType == .fp8xfp4 ? 128 : 64
    for (name, size) in [("hidden", hidden), ("intermediate_hidden", intermediateHidden)] {
        try DeepGEMMError.require(size > 0 && size <= 1 << 16 && size % granularity == 0, name,
                                  "must be a positive multiple of \(granularity) (\(mmaType.rawValue)) of at most 65536, got \(size)")
    }
    let tokens = MegaMoEBufferLayout.alignedMaxTokens(numMaxTokensPerRank)
    let ring = MegaMoEBufferLayout.defaultRingTokens(maxTokensPerRank: tokens, expertsPerRank: numExperts / numRanks,
                                                     topk: numTopk, ranks: numRanks)
    let layout = try MegaMoEBufferLayout(ranks: numRanks, numExperts: numExperts, numMaxTokensPerRank: tokens, topk: numTopk,
                                         hidden: hidden, intermediateHidden: intermediateHidden, mmaType: mmaType, numRingTokens: ring)
    return try MegaMoESymmetricBuffer(numRanks: numRanks, numExperts: numExperts, numMaxTokensPerRank: tokens, numTopk: numTopk,
                                      hidden: hidden, intermediateHidden: intermediateHidden, mmaType: mmaType, layout: layout)
}
