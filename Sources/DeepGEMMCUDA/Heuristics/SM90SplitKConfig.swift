/// The configuration of the SM90 split-K kernels (`einsum("bmk,bnk->mn")` and
/// `tf32_hc_prenorm_gemm`): fixed tiles without clusters, a pipeline depth, and how K is split.
public struct SM90SplitKConfig: GEMMKernelConfig, Hashable {
    /// Tile rows.
    public var blockM: Int
    /// Tile columns.
    public var blockN: Int
    /// K per pipeline stage.
    public var blockK: Int
    /// Pipeline stages.
    public var numStages: Int
    /// Consumer (math) threads.
    public var numMathThreads: Int
    /// Dynamic shared memory per CTA, in bytes.
    public var sharedMemoryBytes: Int
    /// K blocks per CTA (the batched sum's split factor) or K splits (HC prenorm's `num_splits`).
    public var splitK: Int
    /// CTAs of the launch.
    public var gridSize: Int

    /// Always 1: these kernels launch no clusters.
    public var clusterM: Int { 1 }
    /// Always 1: these kernels launch no clusters.
    public var clusterN: Int { 1 }
    /// Threads per CTA: the math threads plus one producer warpgroup.
    public var numThreads: Int { numMathThreads + SM90GEMMConfig.numTMAThreads }

    /// One line with every field, as `DG_PRINT_CONFIGS` prints it.
    public var description: String {
        "block=\(blockM)x\(blockN)x\(blockK) split_k=\(splitK) stages=\(numStages) smem=\(sharedMemoryBytes) threads=\(numThreads) grid=\(gridSize)"
    }

    /// Bytes of the pipeline's shared memory (`SM90PipelineSmem` of `impls/sm90_split_k.cuh`): the
    /// output tile rounded up to 1024 bytes, the stages, and two 8-byte mbarriers per stage.
    static func pipelineBytes(outputBytes: Int, stageBytes: Int, stages: Int) -> Int {
        (outputBytes + 1023) / 1024 * 1024 + stages * (stageBytes + 16)
    }

    /// The deepest pipeline of at most `maxStages` stages that fits SM90's shared memory, or nil.
    static func deepestPipeline(outputBytes: Int, stageBytes: Int, maxStages: Int) -> (stages: Int, bytes: Int)? {
        for stages in stride(from: maxStages, through: 1, by: -1) {
            let bytes = pipelineBytes(outputBytes: outputBytes, stageBytes: stageBytes, stages: stages)
            if bytes <= SM90BF16Heuristics.sharedMemoryCapacity { return (stages, bytes) }
        }
        return nil
    }
}
