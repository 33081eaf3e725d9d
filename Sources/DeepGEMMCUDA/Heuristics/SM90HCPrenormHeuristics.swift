import DeepGEMMCore

/// DeepGEMM's choices for `tf32_hc_prenorm_gemm` on SM90: 64-row blocks, K in 64-wide blocks,
/// BLOCK_N = N rounded up to 16 (N <= 32), as many stages (at most 12) as fit shared memory, one
/// CTA per (row block, split).
public enum SM90HCPrenormHeuristics {
    /// Tile rows (one wgmma M).
    public static let blockM = 64
    /// K per stage: one 128-byte BF16 row of A.
    public static let blockK = 64
    /// Deepest pipeline DeepGEMM tries.
    public static let maxStages = 12
    /// Widest N the SM90 kernel takes.
    public static let maxN = 32
    /// Math threads: one warpgroup.
    public static let numMathThreads = 128

    /// The configuration for M x N x K with `numSplits` splits. Throws
    /// ``DeepGEMMError/unsupported(argument:rule:)`` naming `b` for N past 32 (SM100's kernel takes
    /// up to 128) and `invalidArgument` for sizes Core's rules already exclude.
    public static func config(m: Int, n: Int, k: Int, numSplits: Int) throws -> SM90SplitKConfig {
        if n > maxN { throw DeepGEMMError.unsupported(argument: "b", rule: "SM90 tf32_hc_prenorm_gemm takes N <= \(maxN), got \(n) (N <= 128 needs SM100)") }
        try DeepGEMMError.require(n > 0 && n % 8 == 0, "b", "N must be a positive multiple of 8, got \(n)")
        try DeepGEMMError.require(k > 0 && k % blockK == 0, "a", "K must be a positive multiple of \(blockK), got \(k)")
        try DeepGEMMError.require(m >= 0 && m <= Int(UInt32.max), "a", "M must be in 0..<2^32, got \(m)")
        try DeepGEMMError.require(numSplits >= 1, "num_splits", "must be at least 1, got \(numSplits)")
        let blockN = align(n, 16)
        let stageBytes = blockM * blockK * 2 + blockN * blockK * 4
        guard let pipeline = SM90SplitKConfig.deepestPipeline(outputBytes: blockM * blockN * 4, stageBytes: stageBytes, maxStages: maxStages) else {
            throw DeepGEMMError.unsupported(argument: "b", rule: "no SM90 tf32_hc_prenorm_gemm pipeline fits shared memory for N = \(n)")
        }
        return SM90SplitKConfig(blockM: blockM, blockN: blockN, blockK: blockK, numStages: pipeline.stages, numMathThreads: numMathThreads,
                                sharedMemoryBytes: pipeline.bytes, splitK: numSplits, gridSize: numSplits * ceilDiv(m, blockM))
    }
}
