import DeepGEMMCore

/// Chooses the SM90 FP8 1D1D GEMM configuration (FP32 D with C, recipe (1, 1, 128)), following
/// DeepGEMM's SM90 heuristics for that kernel type: block M 64 or 128, block N 16 then 24...160 in
/// steps of 16 (the odd multiples of 8 avoid shared-memory bank conflicts of the FP32 tile; wider
/// tiles spill), block K 128, clusters of up to two CTAs (none for k-grouped problems with more
/// than four groups); a candidate must fit shared memory with enough stages, and the one with the
/// fewest modelled cycles wins (``SM90BF16Heuristics/score(_:for:)``).
///
/// Two deviations from DeepGEMM, both where its kernel could not run the pick: block M 16/32
/// (DeepGEMM lists them for M ≤ 32, its 1D1D kernel needs whole 64-row warpgroups), and a k-grouped
/// cluster only when a group has an even number of tiles (a cluster's two tiles must share a group).
public enum SM90FP8GEMM1D1DHeuristics {
    /// K per stage and the scale block along K.
    public static let blockK = 128
    /// Widest block N of the 1D1D kernel.
    public static let maxBlockN = 160
    /// Bytes DeepGEMM sets aside for two pairs of tensor maps of a k-grouped kernel (kept so the
    /// stage counts match; this kernel reads its per-group maps from global memory).
    static let kGroupedTensorMapAllowance = 4 * 128

    /// The best configuration for `problem` (a normal 1D1D problem, or a k-grouped one: see ``isKGrouped(_:)``).
    public static func bestConfig(for problem: GEMMKernelProblem) throws -> SM90GEMMConfig {
        try validate(problem)
        let all = candidates(for: problem)
        guard var best = all.first else {
            throw DeepGEMMError.unsupported(argument: "b", rule: "no SM90 FP8 1D1D kernel configuration fits \(problem)")
        }
        var bestCycles = score(best, for: problem)
        for candidate in all.dropFirst() {
            let cycles = score(candidate, for: problem)
            if cycles < bestCycles {
                best = candidate
                bestCycles = cycles
            }
        }
        return best
    }

    /// Whether `problem` is `k_grouped_fp8_gemm_nt_contiguous`'s: the normal kind with more than one
    /// group, where `k` is the largest group's K (DeepGEMM's expected K) and D is [G, M, N].
    public static func isKGrouped(_ problem: GEMMProblem) -> Bool {
        problem.kind == .normal && problem.numGroups > 1
    }

    /// DeepGEMM's cost model with a k-grouped problem's tiles counted for every group.
    static func score(_ config: SM90GEMMConfig, for problem: GEMMKernelProblem) -> Int64 {
        guard isKGrouped(problem.problem) else { return SM90BF16Heuristics.score(config, for: problem).cycles }
        // Every group is one [M, N] grid: the model counts G grids of M rows, as M = G·M' grids of one
        var flattened = problem
        flattened.numGroups = 1
        flattened.expectedM = ceilDiv(problem.m, config.blockM) * config.blockM * problem.numGroups
        return SM90BF16Heuristics.score(config, for: flattened).cycles
    }

    /// Every legal configuration, in DeepGEMM's enumeration order (cluster M, cluster N, block M, block N).
    public static func candidates(for problem: GEMMKernelProblem) -> [SM90GEMMConfig] {
        let kGrouped = isKGrouped(problem.problem)
        let maxCluster = kGrouped && problem.numGroups > 4 ? 1 : 2
        let blockNs = [16] + Array(stride(from: 24, through: maxBlockN, by: 16))
        var result: [SM90GEMMConfig] = []
        for clusterM in 1...maxCluster {
            for clusterN in 1...maxCluster where clusterM * clusterN <= 2 && problem.numSMs % (clusterM * clusterN) == 0 {
                for blockM in [64, 128] {
                    for blockN in blockNs {
                        if kGrouped && clusterM * clusterN > 1 && (ceilDiv(problem.m, blockM) * ceilDiv(problem.n, blockN)) % 2 != 0 { continue }
                        guard let config = makeConfig(problem, blockM: blockM, blockN: blockN, clusterM: clusterM, clusterN: clusterN) else { continue }
                        result.append(config)
                    }
                }
            }
        }
        return result
    }

    /// Shared memory besides the stages: the FP32 output tile, DeepGEMM's fixed barrier allowance, and
    /// (k-grouped) its tensor-map allowance.
    static func sharedMemoryOverhead(_ problem: GEMMKernelProblem, blockM: Int, blockN: Int) -> Int {
        align(blockM * blockN * 4, 1024) + SM90BF16Heuristics.maxStages * 8 * 2
            + (isKGrouped(problem.problem) ? kGroupedTensorMapAllowance : 0)
    }

    /// Shared memory of one stage: the A and B tiles and their scale vectors (each 128-byte aligned).
    static func sharedMemoryPerStage(blockM: Int, blockN: Int) -> Int {
        (blockM + blockN) * blockK + align(blockM * 4, 128) + align(blockN * 4, 128)
    }

    /// The configuration for one (block, cluster) choice, or nil when its stage count is too low.
    static func makeConfig(_ problem: GEMMKernelProblem, blockM: Int, blockN: Int, clusterM: Int, clusterN: Int) -> SM90GEMMConfig? {
        let overhead = sharedMemoryOverhead(problem, blockM: blockM, blockN: blockN)
        let perStage = sharedMemoryPerStage(blockM: blockM, blockN: blockN)
        let stages = min((SM90BF16Heuristics.sharedMemoryCapacity - overhead) / perStage, SM90BF16Heuristics.maxStages)
        // Enough stages to hide TMA latency: at least 3, or 4 for small tiles
        guard stages >= 3, !(blockM * blockN < 128 * 192 && stages < 4) else { return nil }
        return SM90GEMMConfig(
            blockM: blockM, blockN: blockN, blockK: blockK, clusterM: clusterM, clusterN: clusterN,
            swizzleA: 128, swizzleB: 128, swizzleD: 0,
            numStages: stages, sharedMemoryBytes: overhead + stages * perStage,
            numMathThreads: blockM <= 64 ? 128 : 256, numSMs: problem.numSMs,
            bandWidth: SM90BF16Heuristics.bandWidth(blockM: blockM, blockN: blockN, numSMs: problem.numSMs, multicastOnA: clusterN > 1))
    }

    /// Rejects problems the SM90 FP8 1D1D kernel cannot run although the op's rules allow them (the
    /// op's own rules were checked once, in Core), naming the DeepGEMM argument.
    static func validate(_ problem: GEMMKernelProblem) throws {
        try SM90FP8Heuristics.requireLaunchOptions(problem)
        try DeepGEMMError.require(problem.kind == .normal, "a", "the SM90 FP8 1D1D kernel runs normal and k-grouped GEMMs, got \(problem.kind)")
        try SM90FP8Heuristics.requireKMajorOperands(problem)
        try DeepGEMMError.require(problem.typeCD == .float32 && problem.accumulate, "d", "the SM90 FP8 1D1D kernel adds into float32 D (C required)")
    }
}
