import DeepGEMMCore

/// The CUDA backend's entry points on device tensors. The public ops validate arguments the same
/// way for every backend, then call these with views already in DeepGEMM's "nt" orientation
/// (`bf16_gemm_nn(a, b, ...)` is `bf16GEMM(a: a, b: b.transposed(0, 1), ...)`, as DeepGEMM does).
public enum CUDABackend {
    /// Settings DeepGEMM keeps as global state, per call here.
    public struct Options: Sendable, Equatable {
        /// SMs the persistent kernels use (`set_num_sms`); nil for all of the device's. Must be even.
        public var numSMs: Int?
        /// Programmatic dependent launch (`set_pdl`), off by default.
        public var pdl: Bool
        /// Ignore `compiled_dims` and bake no shape into kernels (`set_ignore_compile_dims`).
        public var ignoreCompiledDims: Bool
        /// BLOCK_M of m-grouped contiguous GEMMs (`set_mk_alignment_for_contiguous_layout`).
        public var mkAlignment: Int

        /// DeepGEMM's defaults.
        public init(numSMs: Int? = nil, pdl: Bool = false, ignoreCompiledDims: Bool = false, mkAlignment: Int = 128) {
            self.numSMs = numSMs
            self.pdl = pdl
            self.ignoreCompiledDims = ignoreCompiledDims
            self.mkAlignment = mkAlignment
        }
    }

    /// `D (+)= A · Bᵀ` in BF16 with FP32 accumulation (`bf16_gemm_nt` and, through transposed views,
    /// `_nn`/`_tn`/`_tt`). A is [M, K] and B is [N, K], each K-major or MN-major; D is [M, N] BF16 or
    /// FP32, row-major. With `accumulate` D is added to (the caller copies C into D first when C is
    /// a different tensor); with K = 0 D is left as it is when accumulating and zeroed otherwise.
    public static func bf16GEMM(a: Tensor, b: Tensor, d: Tensor, accumulate: Bool, compiledDims: String = "nk",
                                options: Options = Options(), stream: CUDAStream) throws {
        try DeepGEMMError.require(a.rank == 2 && b.rank == 2 && d.rank == 2, "a", "bf16 GEMM operands must be 2-D")
        let (m, k, n) = (a.size(0), a.size(1), b.size(0))
        try DeepGEMMError.require(b.size(1) == k && d.shape == [m, n], "d", "shapes must be a [m, k], b [n, k], d [m, n]; got \(a.shape), \(b.shape), \(d.shape)")
        try requireBF16(a, "a")
        try requireBF16(b, "b")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { try d.zero() }
            return
        }
        let problem = GEMMKernelProblem(kind: .normal, m: m, n: n, k: k, majorA: try a.layout.operandMajor(name: "a"), majorB: try b.layout.operandMajor(name: "b"),
                                  outputType: d.dtype, accumulate: accumulate, numSMs: try numSMs(options, try a.cudaDevice("a")),
                                  compiledDims: options.ignoreCompiledDims ? "" : compiledDims)
        try run(problem, a: a, b: b, d: d, groupedLayout: nil, options: options, stream: stream)
    }

    /// `m_grouped_bf16_gemm_{nt,nn}_contiguous`: A [M, K] K-major, B [G, N, K] (K-major, or MN-major for
    /// nn), D [M, N] BF16. Groups start at multiples of `options.mkAlignment`. Without the psum layout
    /// `groupedLayout` is int32 [M] with each row's group (-1 for padding rows, whose 64-row
    /// sub-blocks are written as zeros); with it, int32 [G] of cumulative group ends, group g covering
    /// rows [align(end[g-1]), end[g]) (each end must be at least the previous one aligned; 64-row
    /// sub-blocks wholly past an end are written as zeros, rows past the last aligned end untouched).
    public static func mGroupedBF16GEMMContiguous(a: Tensor, b: Tensor, d: Tensor, groupedLayout: Tensor,
                                                  usePsumLayout: Bool = false, expectedMForPsumLayout: Int? = nil,
                                                  compiledDims: String = "nk", options: Options = Options(), stream: CUDAStream) throws {
        try DeepGEMMError.require(a.rank == 2 && b.rank == 3 && d.rank == 2, "b", "a must be [m, k], b [g, n, k], d [m, n]")
        let (m, k, groups, n) = (a.size(0), a.size(1), b.size(0), b.size(1))
        try DeepGEMMError.require(b.size(2) == k && d.shape == [m, n], "d", "shapes must be a [m, k], b [g, n, k], d [m, n]; got \(a.shape), \(b.shape), \(d.shape)")
        let layoutCount = usePsumLayout ? groups : m
        try DeepGEMMError.require(groupedLayout.dtype == .int32 && groupedLayout.shape == [layoutCount] && groupedLayout.strides == [1], "grouped_layout",
                                  "must be a contiguous int32 [\(layoutCount)] tensor, got \(groupedLayout.dtype) \(groupedLayout.shape)")
        try DeepGEMMError.require(usePsumLayout || expectedMForPsumLayout == nil, "expected_m_for_psum_layout", "is only allowed with use_psum_layout")
        try requireBF16(a, "a")
        try requireBF16(b, "b")
        try DeepGEMMError.require(d.dtype == .bfloat16, "d", "must be bfloat16, got \(d.dtype)")
        if m == 0 { return }
        let problem = GEMMKernelProblem(kind: usePsumLayout ? .mGroupedContiguousPsum : .mGroupedContiguous, m: m, n: n, k: k, numGroups: groups,
                                  majorA: try a.layout.operandMajor(name: "a"), majorB: try b.layout.operandMajor(name: "b"),
                                  numSMs: try numSMs(options, try a.cudaDevice("a")), compiledDims: options.ignoreCompiledDims ? "" : compiledDims,
                                  expectedM: expectedMForPsumLayout, mkAlignment: options.mkAlignment)
        try run(problem, a: a, b: b, d: d, groupedLayout: groupedLayout, options: options, stream: stream)
    }

    /// `m_grouped_bf16_gemm_nt_masked`: A [G, Mmax, K], B [G, N, K] (both K-major), D [G, Mmax, N] BF16;
    /// group g computes its first `maskedM[g]` rows (int32 [G]); `expectedM` is the planning hint.
    public static func mGroupedBF16GEMMMasked(a: Tensor, b: Tensor, d: Tensor, maskedM: Tensor, expectedM: Int,
                                              compiledDims: String = "nk", options: Options = Options(), stream: CUDAStream) throws {
        try DeepGEMMError.require(a.rank == 3 && b.rank == 3 && d.rank == 3, "a", "a must be [g, m, k], b [g, n, k], d [g, m, n]")
        let (groups, m, k, n) = (a.size(0), a.size(1), a.size(2), b.size(1))
        try DeepGEMMError.require(b.size(0) == groups && b.size(2) == k && d.shape == [groups, m, n], "d",
                                  "shapes must be a [g, m, k], b [g, n, k], d [g, m, n]; got \(a.shape), \(b.shape), \(d.shape)")
        try DeepGEMMError.require(maskedM.dtype == .int32 && maskedM.shape == [groups] && maskedM.strides == [1], "masked_m",
                                  "must be a contiguous int32 [\(groups)] tensor, got \(maskedM.dtype) \(maskedM.shape)")
        try DeepGEMMError.require(expectedM > 0, "expected_m", "must be positive, got \(expectedM)")
        try requireBF16(a, "a")
        try requireBF16(b, "b")
        try DeepGEMMError.require(d.dtype == .bfloat16, "d", "must be bfloat16, got \(d.dtype)")
        let problem = GEMMKernelProblem(kind: .mGroupedMasked, m: m, n: n, k: k, numGroups: groups,
                                  majorA: try a.layout.operandMajor(name: "a"), majorB: try b.layout.operandMajor(name: "b"),
                                  numSMs: try numSMs(options, try a.cudaDevice("a")), compiledDims: options.ignoreCompiledDims ? "" : compiledDims,
                                  expectedM: expectedM)
        try run(problem, a: a, b: b, d: d, groupedLayout: maskedM, options: options, stream: stream)
    }

    /// Plans, compiles (or loads from the cache) and launches one SM90 BF16 GEMM.
    static func run(_ problem: GEMMKernelProblem, a: Tensor, b: Tensor, d: Tensor, groupedLayout: Tensor?,
                    options: Options, stream: CUDAStream) throws {
        let device = stream.device
        guard device.architecture == .sm90a else {
            throw DeepGEMMError.unsupported(argument: "device", rule: "the BF16 GEMM kernels exist for SM90 only; this device is sm_\(device.computeCapability.major)\(device.computeCapability.minor)")
        }
        let jit = try KernelJIT.shared.get()
        let plan = try SM90BF16GEMMPlan(problem: problem, a: a.layout, b: b.layout, d: d.layout, pdl: options.pdl)
        if jit.options.printConfigs || jit.options.debug {
            ConfigPrinter.shared.printOnce("\(problem) -> \(plan.config)")
        }
        let kernel = try jit.kernel(plan.source, on: device)
        let arguments = try plan.arguments(groupedLayout: groupedLayout?.deviceAddress ?? 0, device: device)
        if jit.options.debug {
            let launch = plan.launch
            printToStandardError("DeepGEMM launch: grid \(launch.gridSize) x \(launch.blockSize) threads, \(launch.sharedMemoryBytes) B shared, "
                                 + "cluster \(launch.clusterSize), pdl \(launch.programmaticDependentLaunch)")
        }
        try kernel.launch(plan.launch, arguments: arguments, stream: stream)
    }

    /// Plans the launch of `problem` (heuristics, generated kernel, TMA descriptions) on operand
    /// layouts, without a device; what `DG_PRINT_CONFIGS` and `deepgemm jit compile` show.
    public static func planSM90BF16GEMM(_ problem: GEMMKernelProblem, a: StridedLayout, b: StridedLayout, d: StridedLayout, pdl: Bool = false) throws
        -> (config: SM90GEMMConfig, source: KernelSource, maps: [TensorMapDescription], launch: LaunchConfiguration) {
        let plan = try SM90BF16GEMMPlan(problem: problem, a: a, b: b, d: d, pdl: pdl)
        return (plan.config, plan.source, [plan.mapA, plan.mapB, plan.mapD], plan.launch)
    }

    private static func requireBF16(_ tensor: Tensor, _ name: String) throws {
        try DeepGEMMError.require(tensor.dtype == .bfloat16, name, "must be bfloat16, got \(tensor.dtype)")
    }

    private static func numSMs(_ options: Options, _ device: CUDADevice) throws -> Int {
        guard let count = options.numSMs else { return device.multiprocessorCount }
        try DeepGEMMError.require(count > 0 && count <= device.multiprocessorCount && count % 2 == 0, "num_sms",
                                  "must be even and in 2...\(device.multiprocessorCount), got \(count)")
        return count
    }
}
