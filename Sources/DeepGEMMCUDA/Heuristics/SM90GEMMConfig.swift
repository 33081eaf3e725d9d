/// A complete SM90 GEMM kernel configuration: tiling, cluster, swizzles, pipeline depth and launch shape.
public struct SM90GEMMConfig: GEMMKernelConfig, Hashable {
    /// Tile rows.
    public var blockM: Int
    /// Tile columns.
    public var blockN: Int
    /// K per pipeline stage.
    public var blockK: Int
    /// CTAs per cluster along M (they share, and multicast, B).
    public var clusterM: Int
    /// CTAs per cluster along N (they share, and multicast, A).
    public var clusterN: Int
    /// TMA swizzle of the A, B and D tiles in bytes (0: none).
    public var swizzleA: Int
    /// TMA swizzle of B.
    public var swizzleB: Int
    /// TMA swizzle of D (0 for FP32 output).
    public var swizzleD: Int
    /// Pipeline stages.
    public var numStages: Int
    /// Dynamic shared memory per CTA, in bytes.
    public var sharedMemoryBytes: Int
    /// Consumer (math) threads: 128 or 256.
    public var numMathThreads: Int
    /// SMs of the persistent grid.
    public var numSMs: Int
    /// Blocks per scheduler band (8 or 16).
    public var bandWidth: Int

    /// Producer threads (one warpgroup).
    public static let numTMAThreads = 128

    /// CTAs per cluster.
    public var clusterSize: Int { clusterM * clusterN }
    /// Whether A is the multicast operand (a cluster along N).
    public var multicastOnA: Bool { clusterN > 1 }
    /// Threads per CTA.
    public var numThreads: Int { SM90GEMMConfig.numTMAThreads + numMathThreads }

    /// One line with every field, as `DG_PRINT_CONFIGS` prints it.
    public var description: String {
        "block=\(blockM)x\(blockN)x\(blockK) cluster=\(clusterM)x\(clusterN) swizzle(a,b,d)=\(swizzleA),\(swizzleB),\(swizzleD) "
            + "stages=\(numStages) smem=\(sharedMemoryBytes) threads=\(numThreads) sms=\(numSMs) band=\(bandWidth)"
    }
}
