import DeepGEMMCore

/// Everything one SM90 BF16 GEMM launch needs, computed on the host without a device: the
/// configuration, the generated kernel, the three TMA descriptions and the launch shape.
struct SM90BF16GEMMPlan: Sendable {
    /// The problem.
    let problem: GEMMKernelProblem
    /// The heuristics' configuration.
    let config: SM90GEMMConfig
    /// The generated translation unit.
    let source: KernelSource
    /// TMA description of A (loads).
    let mapA: TensorMapDescription
    /// TMA description of B (loads).
    let mapB: TensorMapDescription
    /// TMA description of D (stores).
    let mapD: TensorMapDescription
    /// Grid, block, shared memory, cluster and PDL.
    let launch: LaunchConfiguration

    /// Plans `problem` for operands laid out as `a`, `b`, `d` (nt orientation; grouped operands 3-D).
    init(problem: GEMMKernelProblem, a: StridedLayout, b: StridedLayout, d: StridedLayout, pdl: Bool) throws {
        let config = try SM90BF16Heuristics.bestConfig(for: problem)
        self.problem = problem
        self.config = config
        self.source = SM90BF16GEMMKernel.source(for: problem, config: config)
        let blockK = config.blockK
        let masked = problem.kind == .mGroupedMasked
        let groupedB = problem.kind != .normal

        mapA = try SM90BF16GEMMPlan.operandMap(name: "a", layout: a, major: problem.majorA, rows: problem.m, k: problem.k,
                                                grouped: masked, blockMN: config.blockM, blockK: blockK, swizzle: config.swizzleA)
        mapB = try SM90BF16GEMMPlan.operandMap(name: "b", layout: b, major: problem.majorB, rows: problem.n, k: problem.k,
                                                grouped: groupedB, blockMN: config.blockN, blockK: blockK, swizzle: config.swizzleB)
        let outputElement: TensorMapDescription.ElementType = problem.outputType == .float32 ? .float32 : .bfloat16
        try DeepGEMMError.require(d.stride(-1) == 1, "d", "must be row-major (stride(-1) == 1), got strides \(d.strides)")
        mapD = try TensorMapDescription(
            name: "d", elementType: outputElement, address: d.address,
            innerSize: problem.n, outerSize: problem.m, outerStride: d.stride(-2),
            groups: masked ? problem.numGroups : 1, groupStride: masked ? d.stride(0) : nil,
            boxInner: config.swizzleD == 0 ? config.blockN : config.swizzleD / 2, boxOuter: config.blockM,
            swizzleBytes: config.swizzleD)
        launch = LaunchConfiguration(gridSize: config.numSMs, blockSize: config.numThreads, sharedMemoryBytes: config.sharedMemoryBytes,
                                     clusterSize: config.clusterSize, programmaticDependentLaunch: pdl)
    }

    /// The load map of a BF16 operand [(G,) rows, K]: K-major tiles are (BLOCK_K x BLOCK_MN) boxes,
    /// MN-major tiles one (swizzle atom x BLOCK_K) box per atom.
    static func operandMap(name: String, layout: StridedLayout, major: GEMMMajor, rows: Int, k: Int, grouped: Bool,
                           blockMN: Int, blockK: Int, swizzle: Int) throws -> TensorMapDescription {
        let groups = grouped ? layout.size(0) : 1
        let groupStride = grouped ? layout.stride(0) : nil
        switch major {
        case .k:
            try DeepGEMMError.require(layout.stride(-1) == 1 || k == 1, name, "must be K-major as planned")
            return try TensorMapDescription(name: name, elementType: .bfloat16, address: layout.address,
                                            innerSize: k, outerSize: rows, outerStride: layout.stride(-2),
                                            groups: groups, groupStride: groupStride,
                                            boxInner: blockK, boxOuter: blockMN, swizzleBytes: swizzle)
        case .mn:
            try DeepGEMMError.require(layout.stride(-2) == 1 || rows == 1, name, "must be MN-major as planned")
            return try TensorMapDescription(name: name, elementType: .bfloat16, address: layout.address,
                                            innerSize: rows, outerSize: k, outerStride: layout.stride(-1),
                                            groups: groups, groupStride: groupStride,
                                            boxInner: swizzle / 2, boxOuter: blockK, swizzleBytes: swizzle)
        }
    }

    /// The kernel arguments: layout pointer, the three shapes, then the encoded maps.
    func arguments(groupedLayout: UInt64, device: CUDADevice) throws -> KernelArguments {
        var arguments = KernelArguments()
        arguments.append(groupedLayout)
        arguments.append(UInt32(problem.m))
        arguments.append(UInt32(problem.n))
        arguments.append(UInt32(problem.k))
        arguments.append(try mapA.encode(on: device))
        arguments.append(try mapB.encode(on: device))
        arguments.append(try mapD.encode(on: device))
        return arguments
    }
}
