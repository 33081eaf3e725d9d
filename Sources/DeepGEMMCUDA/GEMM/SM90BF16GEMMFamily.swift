import DeepGEMMCore

/// The SM90 BF16 GEMM family (`impls/sm90_bf16_gemm.cuh`, kernel type no-SF): BF16 A and B, BF16
/// or FP32 D, normal and m-grouped (contiguous, psum, masked) kinds.
public struct SM90BF16GEMMFamily: GEMMKernelFamily {
    /// Creates the family.
    public init() {}

    /// `sm90_bf16_gemm`.
    public var name: String { SM90BF16GEMMKernel.name }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }

    /// No-SF problems with BF16 operands and a BF16 or FP32 output.
    public func accepts(_ problem: GEMMProblem) -> Bool {
        problem.kernelType == .noSF && problem.typeA == .bfloat16 && problem.typeB == .bfloat16
            && (problem.typeCD == .bfloat16 || problem.typeCD == .float32)
    }

    /// The heuristics' configuration and the generated kernel.
    public func select(_ problem: GEMMKernelProblem) throws -> KernelSelection {
        try configuredSelection(problem).selection
    }

    /// The selection with its configuration's concrete type.
    private func configuredSelection(_ problem: GEMMKernelProblem) throws -> (config: SM90GEMMConfig, selection: KernelSelection) {
        let config = try SM90BF16Heuristics.bestConfig(for: problem)
        return (config, KernelSelection(family: name, config: config, source: SM90BF16GEMMKernel.source(for: problem, config: config)))
    }

    /// The launch: the grouped-layout pointer, the three shapes, then the maps of A, B and D (the
    /// entry point's parameter order), one CTA per SM with the configuration's cluster.
    public func plan(_ problem: GEMMKernelProblem, layouts: GEMMOperandLayouts, pdl: Bool) throws -> KernelPlan {
        let (config, selection) = try configuredSelection(problem)
        let maps = try Self.tensorMaps(problem, config: config, layouts: layouts)
        let arguments: [KernelArgument] = [
            .pointer(layouts.groupedLayout), .u32(UInt32(problem.m)), .u32(UInt32(problem.n)), .u32(UInt32(problem.k)),
            .tensorMap(maps.a), .tensorMap(maps.b), .tensorMap(maps.d),
        ]
        let launch = LaunchConfiguration(gridSize: config.numSMs, blockSize: config.numThreads, sharedMemoryBytes: config.sharedMemoryBytes,
                                         clusterSize: config.clusterSize, programmaticDependentLaunch: pdl)
        return KernelPlan(selection: selection, arguments: arguments, launch: launch)
    }

    /// The TMA descriptions of A, B (loads) and D (stores) for `config`.
    static func tensorMaps(_ problem: GEMMKernelProblem, config: SM90GEMMConfig, layouts: GEMMOperandLayouts) throws
        -> (a: TensorMapDescription, b: TensorMapDescription, d: TensorMapDescription) {
        let masked = problem.kind == .mGroupedMasked
        let mapA = try operandMap(name: "a", layout: layouts.a, major: problem.majorA, rows: problem.m, k: problem.k,
                                  grouped: masked, blockMN: config.blockM, blockK: config.blockK, swizzle: config.swizzleA)
        let mapB = try operandMap(name: "b", layout: layouts.b, major: problem.majorB, rows: problem.n, k: problem.k,
                                  grouped: problem.kind != .normal, blockMN: config.blockN, blockK: config.blockK, swizzle: config.swizzleB)
        let d = layouts.d
        let mapD = try TensorMapDescription(
            name: "d", elementType: try .init(problem.typeCD, name: "d"), address: d.address, rowsName: "row-major",
            innerSize: problem.n, outerSize: problem.m, outerStride: d.stride(-2),
            groups: masked ? problem.numGroups : 1, groupStride: masked ? d.stride(0) : nil,
            boxInner: config.swizzleD == 0 ? config.blockN : config.swizzleD / problem.typeCD.size, boxOuter: config.blockM,
            swizzleBytes: config.swizzleD)
        return (mapA, mapB, mapD)
    }

    /// The load map of a BF16 or FP8 operand [(G,) rows, K] whose major-ness the problem states:
    /// K-major tiles are (BLOCK_K x BLOCK_MN) boxes, MN-major tiles one (swizzle atom x BLOCK_K) box
    /// per atom. Throws naming `name` when the layout's major-ness (Core's rule) is not the problem's.
    static func operandMap(name: String, layout: StridedLayout, major: GEMMMajor, rows: Int, k: Int, grouped: Bool,
                           blockMN: Int, blockK: Int, swizzle: Int) throws -> TensorMapDescription {
        let actual = try layout.operandMajor(name: name)
        try DeepGEMMError.require(actual == major, name, "is \(actual.rawValue)-major but was planned as \(major.rawValue)-major")
        let elementType = try TensorMapDescription.ElementType(layout.dtype, name: name)
        let groups = grouped ? layout.size(0) : 1
        let groupStride = grouped ? layout.stride(0) : nil
        switch major {
        case .k:
            return try TensorMapDescription(name: name, elementType: elementType, address: layout.address, rowsName: "K-major",
                                            innerSize: k, outerSize: rows, outerStride: layout.stride(-2),
                                            groups: groups, groupStride: groupStride,
                                            boxInner: blockK, boxOuter: blockMN, swizzleBytes: swizzle)
        case .mn:
            return try TensorMapDescription(name: name, elementType: elementType, address: layout.address, rowsName: "MN-major",
                                            innerSize: rows, outerSize: k, outerStride: layout.stride(-1),
                                            groups: groups, groupStride: groupStride,
                                            boxInner: swizzle / elementType.size, boxOuter: blockK, swizzleBytes: swizzle)
        }
    }
}
