import DeepGEMMCore

/// Chooses the SM90 BF16 GEMM configuration for a problem, following DeepGEMM's SM90 heuristics:
/// enumerate (block M, block N, cluster) candidates that fit shared memory with enough pipeline
/// stages and usable swizzles, then keep the one with the fewest modelled L1/L2 cycles divided
/// by wave efficiency (multicast only pays off with more than one wave).
public enum SM90BF16Heuristics {
    /// Opt-in shared memory per block on SM90 (227 KiB).
    public static let sharedMemoryCapacity = 232_448
    /// K per stage: 128 bytes of BF16, one 128-byte swizzle atom.
    public static let blockK = 64
    /// Most pipeline stages a kernel gets.
    public static let maxStages = 16

    /// The modelled cost of one candidate.
    public struct Score: Sendable, Equatable {
        /// Waves of tiles over the SMs.
        public var numWaves: Int
        /// Tiles in the last wave.
        public var lastWaveUtilization: Int
        /// Modelled cycles (lower is better).
        public var cycles: Int64
    }

    /// The best configuration for `problem`.
    public static func bestConfig(for problem: GEMMKernelProblem) throws -> SM90GEMMConfig {
        try validate(problem)
        let all = candidates(for: problem)
        guard var best = all.first else {
            throw DeepGEMMError.unsupported(argument: "b", rule: "no SM90 BF16 kernel configuration fits \(problem)")
        }
        var bestScore = score(best, for: problem)
        for candidate in all.dropFirst() {
            let candidateScore = score(candidate, for: problem)
            if candidateScore.cycles < bestScore.cycles {
                best = candidate
                bestScore = candidateScore
            }
        }
        return best
    }

    /// Every legal configuration, in DeepGEMM's enumeration order (cluster M, cluster N, block M, block N).
    public static func candidates(for problem: GEMMKernelProblem) -> [SM90GEMMConfig] {
        let blockMs = blockMCandidates(for: problem)
        let blockNs = Array(stride(from: 16, through: 256, by: 16))

        var result: [SM90GEMMConfig] = []
        for clusterM in 1...2 {
            for clusterN in 1...2 where clusterM * clusterN <= 2 && problem.numSMs % (clusterM * clusterN) == 0 {
                for blockM in blockMs {
                    for blockN in blockNs {
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

    /// DeepGEMM's SM90 block M candidates (every SM90 kernel type): 64 and 128 (plus 16/32 for tiny M
    /// and 256 for BF16 output) for normal GEMMs, the contiguous layout's alignment for the contiguous
    /// kinds, 64 and 128 for masked ones.
    static func blockMCandidates(for problem: GEMMKernelProblem) -> [Int] {
        switch problem.kind {
        case .normal:
            var blockMs = [64, 128]
            if problem.m <= 16 { blockMs.append(16) }
            if problem.m <= 32 { blockMs.append(32) }
            if problem.typeCD != .float32 { blockMs.append(256) }
            return blockMs
        case .mGroupedContiguous, .mGroupedContiguousPsum:
            return [problem.mkAlignment]
        case .mGroupedMasked:
            return [64, 128]
        }
    }

    /// The configuration for one (block, cluster) choice, or nil when its swizzles or stage count are unusable.
    static func makeConfig(_ problem: GEMMKernelProblem, blockM: Int, blockN: Int, clusterM: Int, clusterN: Int) -> SM90GEMMConfig? {
        let swizzleA = swizzleBytes(problem.majorA == .k ? blockK : blockM, elementSize: 2)
        let swizzleB = swizzleBytes(problem.majorB == .k ? blockK : blockN, elementSize: 2)
        // 32-byte (and narrower) swizzles are slow for wgmma operands
        guard swizzleA % 64 == 0, swizzleB % 64 == 0 else { return nil }
        let outputSize = problem.typeCD.size
        let swizzleD = problem.typeCD == .float32 ? 0 : swizzleBytes(blockN, elementSize: outputSize)

        let sharedD = (blockM * blockN * outputSize + 1023) / 1024 * 1024
        let barriers = maxStages * 8 * 2
        let perStage = (blockM + blockN) * blockK * 2
        let stages = min((sharedMemoryCapacity - sharedD - barriers) / perStage, maxStages)
        // Enough stages to hide TMA latency: at least 3, or 4 for small tiles
        guard stages >= 3, !(blockM * blockN < 128 * 192 && stages < 4) else { return nil }

        let multicastOnA = clusterN > 1
        return SM90GEMMConfig(
            blockM: blockM, blockN: blockN, blockK: blockK, clusterM: clusterM, clusterN: clusterN,
            swizzleA: swizzleA, swizzleB: swizzleB, swizzleD: swizzleD,
            numStages: stages, sharedMemoryBytes: sharedD + barriers + stages * perStage,
            numMathThreads: blockM <= 64 ? 128 : 256, numSMs: problem.numSMs,
            bandWidth: bandWidth(blockM: blockM, blockN: blockN, numSMs: problem.numSMs, multicastOnA: multicastOnA))
    }

    /// The widest TMA swizzle (128, 64, 32 or 16 bytes) dividing a row of `elements` elements.
    static func swizzleBytes(_ elements: Int, elementSize: Int) -> Int {
        [128, 64, 32, 16].first { (elements * elementSize) % $0 == 0 } ?? 0
    }

    /// Blocks per scheduler band: 8 or 16, whichever makes one wave touch the smaller operand footprint.
    static func bandWidth(blockM: Int, blockN: Int, numSMs: Int, multicastOnA: Bool) -> Int {
        var best = 0, bestUsage = Int.max
        for candidate in [8, 16] {
            let usage = multicastOnA
                ? candidate * blockN + ceilDiv(numSMs, candidate) * blockM
                : candidate * blockM + ceilDiv(numSMs, candidate) * blockN
            if usage < bestUsage { best = candidate; bestUsage = usage }
        }
        return best
    }

    /// DeepGEMM's cost model (shared by every SM90 family): L1/L2 traffic cycles for all tiles, divided
    /// by the last wave's efficiency; operand bytes are the problem's A element size.
    public static func score(_ config: SM90GEMMConfig, for problem: GEMMKernelProblem) -> Score {
        let expectedM = problem.expectedM ?? problem.m
        let numBlocks = ceilDiv(expectedM, config.blockM) * ceilDiv(problem.n, config.blockN) * problem.expectedNumGroups
        let numWaves = ceilDiv(numBlocks, problem.numSMs)
        let lastBlocks = numBlocks % problem.numSMs
        let lastWaveUtilization = lastBlocks == 0 ? problem.numSMs : lastBlocks

        let l2BytesPerCycle = Int64(min(64.0 * Double(problem.numSMs), 8e6 / 1.3e3))
        let l1BytesPerCycle = Int64(128 * problem.numSMs)
        let wgmmaM = 64
        let abSize = problem.typeA.size, cdSize = Int64(problem.typeCD.size)
        let k = Int64(problem.k), blockM = Int64(config.blockM), blockN = Int64(config.blockN)

        let l2AB = k * Int64(config.blockM / config.clusterN + config.blockN / config.clusterM) * Int64(abSize)
        let l1AB = k * (blockM + blockN) * Int64(abSize)
        let l1TensorCore = k * (Int64(max(wgmmaM, config.blockM)) + blockN) * Int64(abSize) + blockM * blockN * cdSize
        let cd = blockM * blockN * cdSize * (problem.accumulate ? 2 : 1)

        let l2Cycles = (l2AB + cd) * Int64(numBlocks) / l2BytesPerCycle
        let l1Cycles = (l1AB + l1TensorCore + cd) * Int64(numBlocks) / l1BytesPerCycle
        let waveEfficiency = Float(numBlocks) / Float(numWaves * problem.numSMs)
        var cycles = Int64(Float(max(l1Cycles, l2Cycles)) / waveEfficiency)
        if config.clusterSize > 1 && numWaves <= 1 { cycles = Int64.max }
        return Score(numWaves: numWaves, lastWaveUtilization: lastWaveUtilization, cycles: cycles)
    }

    /// Rejects problems the SM90 BF16 kernels cannot run although the op's rules allow them (the
    /// rules of the op itself were checked once, in Core), naming the DeepGEMM argument.
    static func validate(_ problem: GEMMKernelProblem) throws {
        try DeepGEMMError.require(problem.numSMs > 0 && problem.numSMs % 2 == 0, "num_sms", "must be a positive even number, got \(problem.numSMs)")
        try DeepGEMMError.require(problem.compiledDims.allSatisfy { "mnk".contains($0) }, "compiled_dims", "may only contain m, n and k, got '\(problem.compiledDims)'")
        if problem.kind != .normal {
            try DeepGEMMError.require(problem.k % blockK == 0, "k", "SM90 m-grouped BF16 GEMMs need K % 64 == 0, got \(problem.k)")
        }
        if problem.kind == .mGroupedContiguous || problem.kind == .mGroupedContiguousPsum {
            try DeepGEMMError.require([64, 128, 256].contains(problem.mkAlignment), "mk_alignment",
                                      "the SM90 BF16 kernel supports an m-grouped alignment (BLOCK_M) of 64, 128 or 256, got \(problem.mkAlignment)")
        }
    }
}
