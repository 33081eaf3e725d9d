import DeepGEMMCore

/// The SM90 FP8 GEMM family with 1D2D scaling (`impls/sm90_fp8_gemm_1d2d.cuh`, recipe (1, 128,
/// 128)): FP8 E4M3 A and B, both K-major, F32 per-token A scales in the MN-major TMA-aligned layout,
/// F32 per-128x128-block B scales, BF16 D without C; normal and m-grouped (contiguous, psum,
/// masked) kinds, and `fp8_gemm_nt_skip_head_mid`'s head-split D (``GEMMProblem/headSplits``).
public struct SM90FP8GEMMFamily: GEMMKernelFamily {
    /// Creates the family.
    public init() {}

    /// `sm90_fp8_gemm_1d2d`.
    public var name: String { SM90FP8GEMMKernel.name }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }

    /// 1D2D problems with FP8 E4M3 operands and a BF16 output.
    public func accepts(_ problem: GEMMProblem) -> Bool {
        problem.kernelType == .oneD2D && problem.typeA == .float8E4M3 && problem.typeB == .float8E4M3 && problem.typeCD == .bfloat16
    }

    /// The heuristics' configuration and the generated kernel.
    public func select(_ problem: GEMMKernelProblem) throws -> KernelSelection {
        try configuredSelection(problem).selection
    }

    /// The selection with its configuration's concrete type.
    private func configuredSelection(_ problem: GEMMKernelProblem) throws -> (config: SM90GEMMConfig, selection: KernelSelection) {
        let config = try SM90FP8Heuristics.bestConfig(for: problem)
        return (config, KernelSelection(family: name, config: config, source: SM90FP8GEMMKernel.source(for: problem, config: config)))
    }

    /// The launch: B's scales and their strides, the grouped layout, the three shapes, then the maps
    /// of A, B, A's scales and D (the entry point's parameter order), one CTA per SM with the
    /// configuration's cluster.
    public func plan(_ problem: GEMMKernelProblem, layouts: GEMMOperandLayouts, pdl: Bool) throws -> KernelPlan {
        let (config, selection) = try configuredSelection(problem)
        let grouped = problem.kind != .normal
        let masked = problem.kind == .mGroupedMasked
        let mapA = try SM90BF16GEMMFamily.operandMap(name: "a", layout: layouts.a, major: .k, rows: problem.m, k: problem.k, grouped: masked,
                                                     blockMN: config.blockM, blockK: config.blockK, swizzle: config.swizzleA)
        let mapB = try SM90BF16GEMMFamily.operandMap(name: "b", layout: layouts.b, major: .k, rows: problem.n, k: problem.k, grouped: grouped,
                                                     blockMN: config.blockN, blockK: config.blockK, swizzle: config.swizzleB)
        let mapSFA = try Self.scaleMapA(layouts.sfa, problem: problem, blockM: config.blockM)
        let sfb = try Self.scaleLayoutB(layouts.sfb, problem: problem)
        let d = layouts.d
        let mapD = try TensorMapDescription(
            name: "d", elementType: .bfloat16, address: d.address, rowsName: "row-major",
            innerSize: d.size(-1), outerSize: problem.m, outerStride: d.stride(-2),
            groups: masked ? problem.numGroups : 1, groupStride: masked ? d.stride(0) : nil,
            boxInner: config.swizzleD / 2, boxOuter: config.blockM, swizzleBytes: config.swizzleD)
        let arguments: [KernelArgument] = [
            .pointer(sfb.address), .pointer(layouts.groupedLayout),
            .u32(UInt32(problem.m)), .u32(UInt32(problem.n)), .u32(UInt32(problem.k)),
            .u32(UInt32(sfb.stride(-2))), .u32(UInt32(sfb.stride(-1))), .u32(UInt32(grouped ? sfb.stride(0) : 0)),
            .tensorMap(mapA), .tensorMap(mapB), .tensorMap(mapSFA), .tensorMap(mapD),
        ]
        let launch = LaunchConfiguration(gridSize: config.numSMs, blockSize: config.numThreads, sharedMemoryBytes: config.sharedMemoryBytes,
                                         clusterSize: config.clusterSize, programmaticDependentLaunch: pdl)
        return KernelPlan(selection: selection, arguments: arguments, launch: launch)
    }

    /// The TMA map of A's per-token scales: F32 [(G,) M, ceil(K/128)] in the MN-major TMA-aligned
    /// layout (rows contiguous, each K block's column 16-byte aligned), loaded as one BLOCK_M x 1 box
    /// per stage. Throws naming `a_sf` for any other layout.
    static func scaleMapA(_ layout: StridedLayout?, problem: GEMMKernelProblem, blockM: Int) throws -> TensorMapDescription {
        let masked = problem.kind == .mGroupedMasked
        return try mnMajorScaleMap(layout, name: "a_sf", rows: problem.m, kBlocks: ceilDiv(problem.k, SM90FP8Heuristics.blockK),
                                   groups: masked ? problem.numGroups : nil, box: blockM)
    }

    /// The TMA map of per-row scales F32 [(G,) rows, kBlocks] (`groups` nil: 2-D) in the MN-major
    /// TMA-aligned layout of `get_mn_major_tma_aligned_tensor` (rows contiguous, each K block's column
    /// 16-byte aligned), loaded as one `box` x 1 box per K block. Throws naming `name` for any other
    /// layout. Shared by the FP8 families (A's scales, and the 1D1D kernel's per-channel B scales).
    static func mnMajorScaleMap(_ layout: StridedLayout?, name: String, rows: Int, kBlocks: Int, groups: Int?, box: Int) throws
        -> TensorMapDescription {
        guard let layout else { throw DeepGEMMError.invalidArgument(argument: name, rule: "the SM90 FP8 kernel needs these scale factors") }
        let shape = groups.map { [$0, rows, kBlocks] } ?? [rows, kBlocks]
        try DeepGEMMError.require(layout.dtype == .float32 && layout.shape == shape, name,
                                  "the SM90 FP8 kernel needs float32 per-row scales of shape \(shape), got \(layout.dtype) \(layout.shape)")
        try DeepGEMMError.require(layout.stride(-2) == 1 || rows == 1, name,
                                  "the SM90 FP8 kernel reads MN-major, TMA-aligned scales (get_mn_major_tma_aligned_tensor / "
                                  + "transform_sf_into_required_layout), got strides \(layout.strides)")
        return try TensorMapDescription(name: name, elementType: .float32, address: layout.address, rowsName: "MN-major scale",
                                        innerSize: rows, outerSize: kBlocks, outerStride: layout.stride(-1),
                                        groups: groups ?? 1, groupStride: groups == nil ? nil : layout.stride(0),
                                        boxInner: box, boxOuter: 1, swizzleBytes: 0)
    }

    /// B's per-block scales: F32 [(G,) ceil(N/128), ceil(K/128)] with any strides (the kernel reads
    /// them per tile). Throws naming `b_sf` for another shape or type.
    static func scaleLayoutB(_ layout: StridedLayout?, problem: GEMMKernelProblem) throws -> StridedLayout {
        guard let layout else { throw DeepGEMMError.invalidArgument(argument: "b_sf", rule: "the SM90 FP8 kernel needs B's scale factors") }
        let blocks = [ceilDiv(problem.n, SM90FP8Heuristics.blockK), ceilDiv(problem.k, SM90FP8Heuristics.blockK)]
        let shape = problem.kind == .normal ? blocks : [problem.numGroups] + blocks
        try DeepGEMMError.require(layout.dtype == .float32 && layout.shape == shape, "b_sf",
                                  "the SM90 FP8 kernel needs float32 per-block scales of shape \(shape), got \(layout.dtype) \(layout.shape)")
        try DeepGEMMError.require(layout.strides.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "b_sf",
                                  "strides must be non-negative 32-bit values, got \(layout.strides)")
        return layout
    }
}
