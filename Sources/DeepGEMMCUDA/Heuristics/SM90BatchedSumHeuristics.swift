import DeepGEMMCore

/// DeepGEMM's choices for `einsum("bmk,bnk->mn")` on SM90: 128 x 128 tiles, 64 K per stage, the
/// (batch, K block) pairs cut into runs so that all tiles together fill the SMs about once (split
/// factor `ceil(S·K/64 / max(SMs / tiles, 1))`), and up to 4 stages.
public enum SM90BatchedSumHeuristics {
    /// Tile rows.
    public static let blockM = 128
    /// Tile columns.
    public static let blockN = 128
    /// K per stage.
    public static let blockK = 64
    /// DeepGEMM's pipeline depth (it only shrinks when shared memory is short).
    public static let maxStages = 4
    /// Math threads: two warpgroups of 64 rows.
    public static let numMathThreads = 256

    /// The configuration for S batches of M x N x K on `numSMs` SMs; throws naming the DeepGEMM
    /// argument for sizes the kernel cannot take (Core's rules exclude them for the op).
    public static func config(s: Int, m: Int, n: Int, k: Int, numSMs: Int) throws -> SM90SplitKConfig {
        try DeepGEMMError.require(numSMs > 0, "num_sms", "must be positive, got \(numSMs)")
        try DeepGEMMError.require(s > 0 && m > 0 && m % 64 == 0, "a", "needs S > 0 and M a positive multiple of 64, got S = \(s), M = \(m)")
        try DeepGEMMError.require(n > 0 && n % 64 == 0, "b", "N must be a positive multiple of 64, got \(n)")
        try DeepGEMMError.require(k > 0 && k % blockK == 0, "a", "K must be a positive multiple of \(blockK), got \(k)")
        let span = s.multipliedReportingOverflow(by: max(m, n))
        try DeepGEMMError.require(!span.overflow && span.partialValue <= Int(Int32.max), "a", "S·max(M, N) must be at most 2^31 - 1, got \(s)·\(max(m, n))")
        let tiles = ceilDiv(m, blockM) * ceilDiv(n, blockN)
        let pairs = s * (k / blockK)
        let splitFactor = ceilDiv(pairs, max(numSMs / tiles, 1))
        let stageBytes = (blockM + blockN) * blockK * 2
        guard let pipeline = SM90SplitKConfig.deepestPipeline(outputBytes: 0, stageBytes: stageBytes, maxStages: maxStages) else {
            throw DeepGEMMError.unsupported(argument: "a", rule: "no SM90 bmk,bnk->mn pipeline fits shared memory")
        }
        return SM90SplitKConfig(blockM: blockM, blockN: blockN, blockK: blockK, numStages: pipeline.stages, numMathThreads: numMathThreads,
                                sharedMemoryBytes: pipeline.bytes, splitK: splitFactor, gridSize: tiles * ceilDiv(pairs, splitFactor))
    }
}
