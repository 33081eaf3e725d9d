import DeepGEMMCore

/// The tiling and pipeline of a kernel configuration, as the compile check's table shows it; each
/// family's configuration type adds its own fields.
public protocol GEMMKernelConfig: Sendable, CustomStringConvertible {
    /// Tile rows.
    var blockM: Int { get }
    /// Tile columns.
    var blockN: Int { get }
    /// K per pipeline stage.
    var blockK: Int { get }
    /// CTAs per cluster along M.
    var clusterM: Int { get }
    /// CTAs per cluster along N.
    var clusterN: Int { get }
    /// Pipeline stages.
    var numStages: Int { get }
    /// Threads per CTA.
    var numThreads: Int { get }
    /// Dynamic shared memory per CTA, in bytes.
    var sharedMemoryBytes: Int { get }
}

/// The kernel a family picks for a problem: its configuration and its generated translation unit.
public struct KernelSelection: Sendable {
    /// The family's name (also the cache entries' prefix).
    public var family: String
    /// The heuristics' configuration.
    public var config: any GEMMKernelConfig
    /// The generated source, holding only compile-time arguments.
    public var source: KernelSource
}

/// One family of GEMM kernels: which validated problems it runs, its heuristics, and how it plans a
/// launch. ``CUDABackend`` picks the family for a problem from ``GEMMKernelFamilies/all`` and runs
/// the plan; `deepgemm jit compile` and `DG_PRINT_CONFIGS` enumerate families the same way, so a
/// new family is one type conforming to this protocol plus its entry in the registry.
public protocol GEMMKernelFamily: Sendable {
    /// The family's name, e.g. `sm90_bf16_gemm`.
    var name: String { get }
    /// The architecture its kernels are compiled for.
    var architecture: CUDAArchitecture { get }
    /// Whether the family runs `problem` (kernel type, operand and output types, kind).
    func accepts(_ problem: GEMMProblem) -> Bool
    /// The configuration the heuristics pick for `problem` and the kernel source it generates;
    /// throws naming the argument when the family's kernels cannot run it.
    func select(_ problem: GEMMKernelProblem) throws -> KernelSelection
    /// Everything one launch needs, from the selection and the operands' layouts, without a device.
    func plan(_ problem: GEMMKernelProblem, layouts: GEMMOperandLayouts, pdl: Bool) throws -> KernelPlan
    /// The problems `deepgemm jit compile` plans for this family (DeepGEMM's test shapes, trimmed),
    /// on a device with `numSMs` SMs.
    func representativeProblems(numSMs: Int) -> [RepresentativeProblems.Entry]
}
