import DeepGEMMCore

/// The CUDA backend's entry points on device tensors. The public ops validate arguments once, in
/// Core, for every backend, and call these with the validated ``GEMMProblem`` and views already in
/// DeepGEMM's "nt" orientation (`bf16_gemm_nn(a, b, ...)` is `bf16GEMM(problem, a: a, b:
/// b.transposed(0, 1), ...)`, as DeepGEMM does). The entry points check only what depends on the
/// device (its architecture, `num_sms`) and on the kernels' own limits; the kernel family that runs
/// a problem is picked from ``GEMMKernelFamilies``.
public enum CUDABackend {
    /// Settings DeepGEMM keeps as global state, per call here.
    public struct Options: Sendable, Equatable {
        /// SMs the persistent kernels use (`set_num_sms`); nil for all of the device's. Must be even.
        public var numSMs: Int?
        /// Programmatic dependent launch (`set_pdl`), off by default.
        public var pdl: Bool
        /// Ignore `compiled_dims` and bake no shape into kernels (`set_ignore_compile_dims`).
        public var ignoreCompiledDims: Bool

        /// DeepGEMM's defaults.
        public init(numSMs: Int? = nil, pdl: Bool = false, ignoreCompiledDims: Bool = false) {
            self.numSMs = numSMs
            self.pdl = pdl
            self.ignoreCompiledDims = ignoreCompiledDims
        }
    }

    /// `D (+)= A · Bᵀ` in BF16 with FP32 accumulation (`bf16_gemm_nt` and, through transposed views,
    /// `_nn`/`_tn`/`_tt`) for a validated normal `problem` with m, n, k > 0: A is [M, K] and B is
    /// [N, K], each K-major or MN-major; D is [M, N] BF16 or FP32, row-major, added to when
    /// `problem.accumulate` (the op has copied C into D).
    public static func bf16GEMM(_ problem: GEMMProblem, a: Tensor, b: Tensor, d: Tensor, compiledDims: String = "nk",
                                options: Options = Options(), stream: CUDAStream) throws {
        try launch(problem, a: a, b: b, d: d, groupedLayout: nil, compiledDims: compiledDims, options: options, stream: stream)
    }

    /// `m_grouped_bf16_gemm_{nt,nn}_contiguous` for a validated problem of kind `.mGroupedContiguous`
    /// or `.mGroupedContiguousPsum` (BLOCK_M is `problem.mkAlignment`): A [M, K] K-major, B [G, N, K]
    /// (K-major, or MN-major for nn), D [M, N] BF16. Without the psum layout `groupedLayout` is int32
    /// [M] with each row's group (-1 for padding rows, whose 64-row sub-blocks are written as zeros);
    /// with it, int32 [G] of cumulative group ends, group g covering rows [align(end[g-1]), end[g])
    /// (64-row sub-blocks wholly past an end are written as zeros, rows past the last aligned end
    /// untouched).
    public static func mGroupedBF16GEMMContiguous(_ problem: GEMMProblem, a: Tensor, b: Tensor, d: Tensor, groupedLayout: Tensor,
                                                  compiledDims: String = "nk", options: Options = Options(), stream: CUDAStream) throws {
        try launch(problem, a: a, b: b, d: d, groupedLayout: groupedLayout, compiledDims: compiledDims, options: options, stream: stream)
    }

    /// `m_grouped_bf16_gemm_nt_masked` for a validated problem of kind `.mGroupedMasked`: A [G, Mmax,
    /// K], B [G, N, K] (both K-major), D [G, Mmax, N] BF16; group g computes its first `maskedM[g]`
    /// rows (int32 [G]); `problem.expectedM` is the planning hint.
    public static func mGroupedBF16GEMMMasked(_ problem: GEMMProblem, a: Tensor, b: Tensor, d: Tensor, maskedM: Tensor,
                                              compiledDims: String = "nk", options: Options = Options(), stream: CUDAStream) throws {
        try launch(problem, a: a, b: b, d: d, groupedLayout: maskedM, compiledDims: compiledDims, options: options, stream: stream)
    }

    /// Picks the family for `problem` on the stream's device, plans the launch, compiles the kernel
    /// (or loads it from the cache) and queues it.
    static func launch(_ problem: GEMMProblem, a: Tensor, b: Tensor, d: Tensor, groupedLayout: Tensor?, sfa: Tensor? = nil, sfb: Tensor? = nil,
                       compiledDims: String, options: Options, stream: CUDAStream) throws {
        let device = stream.device
        let family = try GEMMKernelFamilies.family(for: problem, architecture: device.architecture)
        let kernelProblem = GEMMKernelProblem(problem, numSMs: try numSMs(options, device), compiledDims: options.ignoreCompiledDims ? "" : compiledDims)
        let sfa = try sfa.map { try tmaScales($0, rows: problem.m, problem: problem, stream: stream) }
        let sfb = try sfb.map { problem.kernelType == .oneD1D ? try tmaScales($0, rows: problem.n, problem: problem, stream: stream) : $0 }
        let layouts = GEMMOperandLayouts(a: a.layout, b: b.layout, d: d.layout, groupedLayout: groupedLayout?.deviceAddress ?? 0,
                                         sfa: sfa?.layout, sfb: sfb?.layout)
        let plan = try family.plan(kernelProblem, layouts: layouts, pdl: options.pdl)
        try plan.run(describing: "\(kernelProblem)", on: stream)
    }

    static func numSMs(_ options: Options, _ device: CUDADevice) throws -> Int {
        guard let count = options.numSMs else { return device.multiprocessorCount }
        try DeepGEMMError.require(count > 0 && count <= device.multiprocessorCount && count % 2 == 0, "num_sms",
                                  "must be even and in 2...\(device.multiprocessorCount), got \(count)")
        return count
    }
}
