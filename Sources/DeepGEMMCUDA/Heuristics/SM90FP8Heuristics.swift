import DeepGEMMCore

/// Chooses the SM90 FP8 1D2D GEMM configuration for a problem, following DeepGEMM's SM90
/// heuristics for that kernel type: block M as for every SM90 GEMM, block N 16...192 in steps of
/// 16 (wider tiles spill the promoted accumulators), block K 128, clusters of up to two CTAs; a
/// candidate must keep its block-scale promotion loop regular, fit shared memory with enough
/// stages, and the one with the fewest modelled cycles wins (``SM90BF16Heuristics/score(_:for:)``).
public enum SM90FP8Heuristics {
    /// K per stage: 128 FP8 bytes, one 128-byte swizzle atom, and B's scale block.
    public static let blockK = 128
    /// Widest block N of the 1D2D kernel.
    public static let maxBlockN = 192

    /// The best configuration for `problem`.
    public static func bestConfig(for problem: GEMMKernelProblem) throws -> SM90GEMMConfig {
        try validate(problem)
        let all = candidates(for: problem)
        guard var best = all.first else {
            throw DeepGEMMError.unsupported(argument: "b", rule: "no SM90 FP8 1D2D kernel configuration fits \(problem)")
        }
        var bestCycles = SM90BF16Heuristics.score(best, for: problem).cycles
        for candidate in all.dropFirst() {
            let cycles = SM90BF16Heuristics.score(candidate, for: problem).cycles
            if cycles < bestCycles {
                best = candidate
                bestCycles = cycles
            }
        }
        return best
    }

    /// Every legal configuration, in DeepGEMM's enumeration order (cluster M, cluster N, block M, block N).
    public static func candidates(for problem: GEMMKernelProblem) -> [SM90GEMMConfig] {
        let blockMs = SM90BF16Heuristics.blockMCandidates(for: problem)
        let blockNs = Array(stride(from: 16, through: maxBlockN, by: 16))
        var result: [SM90GEMMConfig] = []
        for clusterM in 1...2 {
            for clusterN in 1...2 where clusterM * clusterN <= 2 && problem.numSMs % (clusterM * clusterN) == 0 {
                for blockM in blockMs {
                    for blockN in blockNs {
                        // The promotion loop wants the 128-column scale boundary at a regular place of wide tiles
                        if blockN > blockK && blockN % (blockN - blockK) != 0 && blockK % (blockN - blockK) != 0 { continue }
                        if problem.runsGroupByGroup && ceilDiv(problem.n, blockN) % (clusterM * clusterN) != 0 { continue }
                        if blockM > 128 && blockN > 128 { continue }
                        guard let config = makeConfig(problem, blockM: blockM, blockN: blockN, clusterM: clusterM, clusterN: clusterN) else { continue }
                        result.append(config)
                    }
                }
            }
        }
        return result
    }

    /// Shared memory besides the stages: the BF16 output tile, DeepGEMM's fixed barrier allowance,
    /// and the tile's B scales for every K block (two per block when a tile can straddle two scale blocks).
    static func sharedMemoryOverhead(_ problem: GEMMKernelProblem, blockM: Int, blockN: Int) -> Int {
        let sharedD = align(blockM * blockN * problem.typeCD.size, 1024)
        let barriers = SM90BF16Heuristics.maxStages * 8 * 2
        let scalesPerKBlock = blockK % blockN == 0 ? 1 : 2
        let sharedSFB = align(ceilDiv(problem.k, blockK) * 4 * scalesPerKBlock, 8)
        return sharedD + barriers + sharedSFB
    }

    /// Shared memory of one stage: the A and B tiles and the A scales (128-byte aligned).
    static func sharedMemoryPerStage(blockM: Int, blockN: Int) -> Int {
        (blockM + blockN) * blockK + align(blockM * 4, 128)
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
            swizzleA: 128, swizzleB: 128, swizzleD: SM90BF16Heuristics.swizzleBytes(blockN, elementSize: problem.typeCD.size),
            numStages: stages, sharedMemoryBytes: overhead + stages * perStage,
            numMathThreads: blockM <= 64 ? 128 : 256, numSMs: problem.numSMs,
            bandWidth: SM90BF16Heuristics.bandWidth(blockM: blockM, blockN: blockN, numSMs: problem.numSMs, multicastOnA: clusterN > 1))
    }

    /// The launch options every SM90 FP8 kernel (1D2D and 1D1D) takes: an even SM count and compiled
    /// dimensions among m, n, k.
    static func requireLaunchOptions(_ problem: GEMMKernelProblem) throws {
        try DeepGEMMError.require(problem.numSMs > 0 && problem.numSMs % 2 == 0, "num_sms", "must be a positive even number, got \(problem.numSMs)")
        try DeepGEMMError.require(problem.compiledDims.allSatisfy { "mnk".contains($0) }, "compiled_dims", "may only contain m, n and k, got '\(problem.compiledDims)'")
    }

    /// Both FP8 operands K-major, as every SM90 FP8 kernel reads them.
    static func requireKMajorOperands(_ problem: GEMMKernelProblem) throws {
        try DeepGEMMError.require(problem.majorA == .k, "a", "the SM90 FP8 kernel needs a K-major A")
        try DeepGEMMError.require(problem.majorB == .k, "b", "the SM90 FP8 kernel needs a K-major B")
    }

    /// Rejects problems the SM90 FP8 1D2D kernels cannot run although the op's rules allow them (the
    /// op's own rules were checked once, in Core), naming the DeepGEMM argument.
    static func validate(_ problem: GEMMKernelProblem) throws {
        try requireLaunchOptions(problem)
        try requireKMajorOperands(problem)
        try DeepGEMMError.require(problem.typeCD == .bfloat16 && !problem.accumulate, "d",
                                  "the SM90 FP8 1D2D kernel writes BF16 D without C")
        if let splits = problem.headSplits {
            try DeepGEMMError.require(problem.kind == .normal && splits.count == 3 && splits.allSatisfy { $0 >= 0 && $0 % 64 == 0 }
                                      && splits[0] + splits[2] > 0, "head_splits",
                                      "the SM90 FP8 kernel stores whole 64-column atoms: (L, Mid, R) must be multiples of 64, got \(splits)")
        }
        if problem.kind == .mGroupedContiguous || problem.kind == .mGroupedContiguousPsum {
            try DeepGEMMError.require([64, 128, 256].contains(problem.mkAlignment), "mk_alignment",
                                      "the SM90 FP8 kernel supports an m-grouped alignment (BLOCK_M) of 64, 128 or 256, got \(problem.mkAlignment)")
        }
    }
}
