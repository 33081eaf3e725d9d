import DeepGEMMCore

/// A family of CUDA kernels that are not GEMMs (attention logits, schedule metadata, layout and
/// quantization kernels): its name, architecture and the launches `deepgemm jit compile` compiles.
/// GEMM families are ``GEMMKernelFamily`` values; both registries are read by the compile check
/// and `DG_PRINT_CONFIGS`, so adding a non-GEMM family is one conforming type plus its entry in
/// ``KernelFamilies/all``.
public protocol CUDAKernelFamily: Sendable {
    /// The family's name, e.g. `sm90_fp8_mqa_logits` (also the cache entries' prefix).
    var name: String { get }
    /// The architecture its kernels are compiled for.
    var architecture: CUDAArchitecture { get }
    /// The kernels the family selects for DeepGEMM's test shapes (trimmed) on a device with
    /// `numSMs` SMs, each under the op it serves.
    func representativeLaunches(numSMs: Int) throws -> [RepresentativeLaunch]
}

/// One kernel a non-GEMM family selects for one representative call.
public struct RepresentativeLaunch: Sendable {
    /// DeepGEMM's op name, e.g. `fp8_mqa_logits`.
    public var op: String
    /// The call's shape as the compile check lists it, e.g. `fp8_mqa_logits S=4096 SKV=16384 H=64 D=128`.
    public var label: String
    /// The family's choice and its generated source.
    public var selection: KernelSelection

    /// Creates a launch entry.
    public init(op: String, label: String, selection: KernelSelection) {
        self.op = op
        self.label = label
        self.selection = selection
    }
}

/// The configuration of a non-GEMM kernel, in the compile check's columns: block sizes along its
/// own three tiled dimensions (named in ``summary``), pipeline stages, threads and shared memory.
public struct TiledKernelConfig: GEMMKernelConfig, Equatable {
    /// First tiled dimension (e.g. query heads x query tokens per block).
    public var blockM: Int
    /// Second tiled dimension (e.g. key tokens per block).
    public var blockN: Int
    /// Reduced dimension per stage (e.g. the head dimension), 0 when none.
    public var blockK: Int
    /// Always 1: these kernels launch no clusters.
    public var clusterM: Int { 1 }
    /// Always 1: these kernels launch no clusters.
    public var clusterN: Int { 1 }
    /// Pipeline stages (1 without a pipeline).
    public var numStages: Int
    /// Threads per CTA.
    public var numThreads: Int
    /// Dynamic shared memory per CTA, in bytes.
    public var sharedMemoryBytes: Int
    /// What the three block sizes are, and anything else the kernel is specialised on.
    public var summary: String

    /// Creates a configuration.
    public init(blockM: Int, blockN: Int, blockK: Int, numStages: Int, numThreads: Int, sharedMemoryBytes: Int, summary: String) {
        self.blockM = blockM
        self.blockN = blockN
        self.blockK = blockK
        self.numStages = numStages
        self.numThreads = numThreads
        self.sharedMemoryBytes = sharedMemoryBytes
        self.summary = summary
    }

    /// `summary, stages S, threads T, smem B`.
    public var description: String {
        "\(summary), stages \(numStages), threads \(numThreads), smem \(sharedMemoryBytes)"
    }
}
