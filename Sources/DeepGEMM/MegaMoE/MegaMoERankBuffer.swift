import DeepGEMMCore

/// One rank's handle on a Mega MoE symmetric buffer: what DeepGEMM's `SymmBuffer` is to the
/// process that owns it. It holds the rank's input views, the buffer layout shared by every rank,
/// and the rank's membership in the group (barriers and failure reporting).
///
/// Thread ranks get theirs from ``MegaMoESymmetricBuffer/ranks``; a rank process gets its own from
/// ``getSymmBufferForMegaMoE(rankEnvironment:numExperts:numMaxTokensPerRank:numTopk:hidden:intermediateHidden:useFP8Dispatch:mmaType:activation:timeout:threadsPerRank:)``.
/// A rank buffer is used by one thread at a time. After a collective call failed (a peer died, timed
/// out or rejected its arguments) the group is broken for good: every later call fails with the
/// same ``RankFailure``.
public final class MegaMoERankBuffer: @unchecked Sendable {
    /// This rank, in `0..<numRanks`.
    public let rank: Int
    /// R, the number of ranks.
    public let numRanks: Int
    /// E, the number of experts over all ranks.
    public let numExperts: Int
    /// T, the per-rank token capacity (the requested maximum rounded up to a multiple of 384).
    public let numMaxTokensPerRank: Int
    /// k, the top-k slots per token.
    public let numTopk: Int
    /// H, the hidden size.
    public let hidden: Int
    /// I, the intermediate size.
    public let intermediateHidden: Int
    /// The element kinds of the expert GEMMs.
    public let mmaType: MegaMoEBufferLayout.MMAType
    /// The byte layout of every rank's region.
    public let layout: MegaMoEBufferLayout
    /// This rank's `x`, `x_sf`, `topk_idx` and `topk_weights` views; fill the first `num_tokens`
    /// rows before every call.
    public let inputs: MegaMoEBufferInputs
    /// CPU threads this rank's expert GEMMs, SwiGLU epilogue and combine are split over (default:
    /// every thread of the backend). Results do not depend on it.
    public let threadsPerRank: Int
    /// E_l = E / R, the experts of each rank.
    public var numLocalExperts: Int { numExperts / numRanks }

    /// The rank's membership in the group.
    let group: RankGroup
    /// Storage over this rank's whole region (tensor views of the rings are made from it).
    let regionStorage: TensorStorage
    /// Whether ``close()`` releases the memory (process ranks own their mapping).
    private let ownsMemory: Bool

    init(group: RankGroup, request: MegaMoEBufferRequest, threadsPerRank: Int, ownsMemory: Bool) throws {
        let layout = request.layout
        let storage = TensorStorage(wrapping: group.localRegion, byteCount: group.memory.regionBytes) { [memory = group.memory] _, _ in
            withExtendedLifetime(memory) {}
        }
        func view(_ region: MegaMoEBufferLayout.Region, _ dtype: DType, _ shape: [Int]) throws -> Tensor {
            precondition(region.offset % dtype.size == 0 && region.byteCount == shape.reduce(dtype.size, *),
                         "buffer regions hold whole, aligned elements")
            return try Tensor(storage: storage, dtype: dtype, shape: shape, strides: Tensor.contiguousStrides(shape),
                              offset: region.offset / dtype.size)
        }
        let (t, h, k) = (request.numMaxTokensPerRank, request.hidden, request.numTopk)
        inputs = MegaMoEBufferInputs(
            x: try view(layout.x, request.mmaType == .fp8xfp4 ? .float8E4M3 : .bfloat16, [t, h]),
            xSF: request.mmaType.hasScaleFactors ? try view(layout.xSF, .int32, [t, h / 128]) : nil,
            topkIdx: try view(layout.topkIdx, .int64, [t, k]),
            topkWeights: try view(layout.topkWeights, .float32, [t, k]))
        (rank, numRanks, numExperts, numMaxTokensPerRank) = (group.rank, request.numRanks, request.numExperts, t)
        (numTopk, hidden, intermediateHidden, mmaType) = (k, h, request.intermediateHidden, request.mmaType)
        (self.layout, self.group, self.threadsPerRank, self.ownsMemory) = (layout, group, max(1, threadsPerRank), ownsMemory)
        regionStorage = storage
    }

    /// The start of `rank`'s region of the symmetric memory.
    func region(of rank: Int) -> UnsafeMutableRawPointer { group.region(of: rank) }

    /// Leaves the group (peers still waiting for this rank fail with ``RankFailure/peerExited(rank:)``)
    /// and, for a rank process, unmaps the memory. No view of ``inputs`` may be used afterwards.
    public func close() {
        group.leave()
        if ownsMemory { group.memory.close() }
    }
}

/// The validated arguments of `get_symm_buffer_for_mega_moe` and the layout they give.
struct MegaMoEBufferRequest {
    let numRanks: Int, numExperts: Int, numMaxTokensPerRank: Int, numTopk: Int, hidden: Int, intermediateHidden: Int
    let mmaType: MegaMoEBufferLayout.MMAType
    let layout: MegaMoEBufferLayout

    /// Applies the rules of ``getSymmBufferForMegaMoE(numExperts:numMaxTokensPerRank:numTopk:hidden:intermediateHidden:numRanks:useFP8Dispatch:mmaType:activation:timeout:threadsPerRank:)``
    /// (each error names its argument), rounds the token capacity up to 384 and picks the ring.
    init(numExperts: Int, numMaxTokensPerRank: Int, numTopk: Int, hidden: Int, intermediateHidden: Int, numRanks: Int,
         useFP8Dispatch: Bool?, mmaType: MegaMoEBufferLayout.MMAType, activation: String) throws {
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
        layout = try MegaMoEBufferLayout(ranks: numRanks, numExperts: numExperts, numMaxTokensPerRank: tokens, topk: numTopk,
                                         hidden: hidden, intermediateHidden: intermediateHidden, mmaType: mmaType, numRingTokens: ring)
        (self.numRanks, self.numExperts, self.numMaxTokensPerRank, self.numTopk) = (numRanks, numExperts, tokens, numTopk)
        (self.hidden, self.intermediateHidden, self.mmaType) = (hidden, intermediateHidden, mmaType)
    }
}

extension MegaMoEBufferLayout {
    /// The layout `get_symm_buffer_for_mega_moe` gives every rank's region for these arguments
    /// (token capacity rounded up to 384, DeepGEMM's default ring), after the same argument checks,
    /// without allocating anything: what a launcher checks before it starts rank processes.
    public static func forSymmBuffer(
        numExperts: Int, numMaxTokensPerRank: Int, numTopk: Int, hidden: Int, intermediateHidden: Int, numRanks: Int,
        mmaType: MMAType = .fp8xfp4
    ) throws -> MegaMoEBufferLayout {
        try MegaMoEBufferRequest(numExperts: numExperts, numMaxTokensPerRank: numMaxTokensPerRank, numTopk: numTopk, hidden: hidden,
                                 intermediateHidden: intermediateHidden, numRanks: numRanks, useFP8Dispatch: nil,
                                 mmaType: mmaType, activation: "swiglu").layout
    }
}

/// DeepGEMM's `get_symm_buffer_for_mega_moe` for one rank process of the group `rankEnvironment`
/// describes (launched by ``RankLauncher/runProcesses(ranks:executable:arguments:jobID:failureGrace:)``):
/// rank 0 creates the POSIX shared memory, the others map it, and all meet at a barrier.
/// `rankEnvironment.rankCount` is the group size; every rank must pass the same arguments. The
/// memory is zero-filled. Waits (joining, and the barriers of every later call) fail after
/// `timeout` without progress of the rank waited for, with a ``RankFailure`` naming it. `threadsPerRank` (default:
/// every thread of the backend) is how many CPU threads this rank computes with: every rank process
/// takes all cores, and one that finished early leaves them to the others. Argument rules as in
/// ``getSymmBufferForMegaMoE(numExperts:numMaxTokensPerRank:numTopk:hidden:intermediateHidden:numRanks:useFP8Dispatch:mmaType:activation:timeout:threadsPerRank:)``.
/// Call ``MegaMoERankBuffer/close()`` when done.
public func getSymmBufferForMegaMoE(
    rankEnvironment: RankEnvironment, numExperts: Int, numMaxTokensPerRank: Int, numTopk: Int, hidden: Int,
    intermediateHidden: Int, useFP8Dispatch: Bool? = nil, mmaType: MegaMoEBufferLayout.MMAType = .fp8xfp4,
    activation: String = "swiglu", timeout: Duration = .seconds(60), threadsPerRank: Int? = nil
) throws -> MegaMoERankBuffer {
    let request = try MegaMoEBufferRequest(numExperts: numExperts, numMaxTokensPerRank: numMaxTokensPerRank, numTopk: numTopk,
                                           hidden: hidden, intermediateHidden: intermediateHidden, numRanks: rankEnvironment.rankCount,
                                           useFP8Dispatch: useFP8Dispatch, mmaType: mmaType, activation: activation)
    let threads = try megaMoEThreadsPerRank(threadsPerRank)
    let group = try RankGroup.joinProcessGroup(rankEnvironment, regionBytes: request.layout.totalBytes, timeout: timeout)
    do {
        return try MegaMoERankBuffer(group: group, request: request, threadsPerRank: threads, ownsMemory: true)
    } catch {
        group.markFailed()
        group.memory.close()
        throw error
    }
}

/// `threadsPerRank`, checked, or by default every thread of the backend (`DG_NUM_THREADS` or the
/// active processors).
///
/// Each rank splits the output tiles of its expert GEMMs (and the rows of its epilogue and combine)
/// over this many workers that take tiles from a shared counter, so a rank uses whatever cores are
/// free. Thread ranks of one process hand those workers to the process's one worker pool: while a
/// rank waits at a barrier (sleeping after a few yields) or has fewer rows, the pool's threads run
/// the tiles of the ranks still computing, which is the work sharing across ranks. Rank processes
/// each get all cores too; the kernel interleaves their workers, and since tiles are taken one at
/// a time, a process that finished early leaves its cores to the others. With one thread per rank,
/// a rank that received more pairs (or shares its core with other work) would leave the other cores
/// idle until it finished. Results do not depend on the count: every GEMM row and every epilogue
/// and combine row is computed the same way whichever worker takes it.
func megaMoEThreadsPerRank(_ threadsPerRank: Int?) throws -> Int {
    guard let threadsPerRank else { return CPUParallelism.threadCount }
    try DeepGEMMError.require(threadsPerRank >= 1, "threads_per_rank", "must be at least 1, got \(threadsPerRank)")
    return threadsPerRank
}
