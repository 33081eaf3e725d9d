import DeepGEMMCore

/// The SM90 FP8 GEMM family with 1D1D scaling (`impls/sm90_fp8_gemm_1d1d.cuh`, recipe (1, 1,
/// 128)): FP8 E4M3 A and B, both K-major, F32 per-token A scales and per-channel B scales (one per
/// row, resp. column, and 128-wide K block), both in the MN-major TMA-aligned layout, added into an
/// F32 D that already holds C. Normal problems (`fp8_gemm_nt` with recipe (1, 1, 128)) and
/// k-grouped ones (`k_grouped_fp8_gemm_nt_contiguous`, see ``SM90FP8GEMM1D1DHeuristics/isKGrouped(_:)``),
/// whose launch also needs a table of per-group tensor maps in device memory (``planKGrouped(_:ks:layouts:table:pdl:)``).
public struct SM90FP8GEMM1D1DFamily: GEMMKernelFamily {
    /// Creates the family.
    public init() {}

    /// `sm90_fp8_gemm_1d1d`.
    public var name: String { SM90FP8GEMM1D1DKernel.name }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }

    /// Normal 1D1D problems with FP8 E4M3 operands and an F32 output (k-grouped ones included).
    public func accepts(_ problem: GEMMProblem) -> Bool {
        problem.kind == .normal && problem.kernelType == .oneD1D && problem.typeA == .float8E4M3 && problem.typeB == .float8E4M3
            && problem.typeCD == .float32
    }

    /// The heuristics' configuration and the generated kernel.
    public func select(_ problem: GEMMKernelProblem) throws -> KernelSelection {
        try configuredSelection(problem).selection
    }

    /// The selection with its configuration's concrete type.
    private func configuredSelection(_ problem: GEMMKernelProblem) throws -> (config: SM90GEMMConfig, selection: KernelSelection) {
        let config = try SM90FP8GEMM1D1DHeuristics.bestConfig(for: problem)
        return (config, KernelSelection(family: name, config: config, source: SM90FP8GEMM1D1DKernel.source(for: problem, config: config)))
    }

    /// The launch of a normal problem: A [M, K], B [N, K], `sfa` [M, ceil(K/128)], `sfb` [N,
    /// ceil(K/128)], D [M, N]. A k-grouped problem throws: it is planned by ``planKGrouped(_:ks:layouts:table:pdl:)``.
    public func plan(_ problem: GEMMKernelProblem, layouts: GEMMOperandLayouts, pdl: Bool) throws -> KernelPlan {
        try DeepGEMMError.require(!SM90FP8GEMM1D1DHeuristics.isKGrouped(problem.problem), "ks",
                                  "k-grouped GEMMs are planned with their per-group K sizes (CUDABackend.kGroupedFP8GEMMNTContiguous)")
        let (config, selection) = try configuredSelection(problem)
        let mapA = try operandMap("a", layouts.a, rows: problem.m, k: problem.k, blockMN: config.blockM)
        let mapB = try operandMap("b", layouts.b, rows: problem.n, k: problem.k, blockMN: config.blockN)
        let kBlocks = ceilDiv(problem.k, SM90FP8GEMM1D1DHeuristics.blockK)
        let arguments = try launchArguments(problem, config: config, layouts: layouts, kBlocks: kBlocks, table: 0, outputGroups: nil,
                                            mapA: mapA, mapB: mapB)
        return KernelPlan(selection: selection, arguments: arguments, launch: launchConfiguration(config, pdl: pdl))
    }

    /// The launch of a k-grouped problem (`problem.numGroups` groups, `problem.k` the largest K) with
    /// group K sizes `ks` (multiples of 128, at least one positive): `layouts.a` / `layouts.b` are the
    /// flat FP8 buffers (group g's [M, K_g] / [N, K_g] row-major block at element M·(K_0 + ... +
    /// K_{g-1})), `sfa` [M, ΣK/128] and `sfb` [N, ΣK/128], D [G, M, N]. `table` is the device address
    /// of ``KGroupedTable/byteCount(groups:)`` bytes that must hold ``KGroupedTable/bytes(maps:ks:on:)``
    /// of the returned group maps before the launch.
    public func planKGrouped(_ problem: GEMMKernelProblem, ks: [Int], layouts: GEMMOperandLayouts, table: UInt64, pdl: Bool) throws
        -> (plan: KernelPlan, groupMaps: [(a: TensorMapDescription, b: TensorMapDescription)?]) {
        try DeepGEMMError.require(ks.count == problem.numGroups && ks.allSatisfy { $0 >= 0 && $0 % SM90FP8GEMM1D1DHeuristics.blockK == 0 }
                                  && ks.max() == problem.k, "ks", "must hold \(problem.numGroups) multiples of 128 with maximum \(problem.k), got \(ks)")
        let (config, selection) = try configuredSelection(problem)
        var offset = 0
        let groupMaps = try ks.map { k -> (a: TensorMapDescription, b: TensorMapDescription)? in
            defer { offset += k }
            guard k > 0 else { return nil }
            return (try operandMap("a", groupBlock(layouts.a, rows: problem.m, offset: offset, k: k), rows: problem.m, k: k, blockMN: config.blockM),
                    try operandMap("b", groupBlock(layouts.b, rows: problem.n, offset: offset, k: k), rows: problem.n, k: k, blockMN: config.blockN))
        }
        guard let first = groupMaps.lazy.compactMap({ $0 }).first else {
            throw DeepGEMMError.invalidArgument(argument: "ks", rule: "a k-grouped launch needs a group with K > 0")
        }
        let arguments = try launchArguments(problem, config: config, layouts: layouts, kBlocks: offset / SM90FP8GEMM1D1DHeuristics.blockK,
                                            table: table, outputGroups: problem.numGroups, mapA: first.a, mapB: first.b)
        return (KernelPlan(selection: selection, arguments: arguments, launch: launchConfiguration(config, pdl: pdl)), groupMaps)
    }

    /// The entry point's parameters: the group table and its K list, the shapes, then the maps of
    /// A, B, the two scale vectors and D ([M, N], or [G, M, N] with `outputGroups` G).
    private func launchArguments(_ problem: GEMMKernelProblem, config: SM90GEMMConfig, layouts: GEMMOperandLayouts, kBlocks: Int,
                                 table: UInt64, outputGroups: Int?, mapA: TensorMapDescription, mapB: TensorMapDescription) throws -> [KernelArgument] {
        let mapSFA = try SM90FP8GEMMFamily.mnMajorScaleMap(layouts.sfa, name: "a_sf", rows: problem.m, kBlocks: kBlocks, groups: nil, box: config.blockM)
        let mapSFB = try SM90FP8GEMMFamily.mnMajorScaleMap(layouts.sfb, name: "b_sf", rows: problem.n, kBlocks: kBlocks, groups: nil, box: config.blockN)
        let d = layouts.d
        let shapeD = (outputGroups.map { [$0] } ?? []) + [problem.m, problem.n]
        try DeepGEMMError.require(d.dtype == .float32 && d.shape == shapeD, "d",
                                  "the SM90 FP8 1D1D kernel adds into float32 D of shape \(shapeD), got \(d.dtype) \(d.shape)")
        let groups = outputGroups ?? 1
        let mapD = try TensorMapDescription(
            name: "d", elementType: .float32, address: d.address, rowsName: "row-major",
            innerSize: problem.n, outerSize: problem.m, outerStride: d.stride(-2),
            groups: groups, groupStride: groups > 1 ? d.stride(0) : nil,
            boxInner: config.blockN, boxOuter: config.blockM, swizzleBytes: 0)
        let ksAddress = table == 0 ? 0 : table + UInt64(KGroupedTable.mapsByteCount(groups: groups))
        return [
            .pointer(table), .pointer(ksAddress), .u32(UInt32(problem.m)), .u32(UInt32(problem.n)), .u32(UInt32(problem.k)),
            .tensorMap(mapA), .tensorMap(mapB), .tensorMap(mapSFA), .tensorMap(mapSFB), .tensorMap(mapD),
        ]
    }

    /// One CTA per SM with the configuration's cluster.
    private func launchConfiguration(_ config: SM90GEMMConfig, pdl: Bool) -> LaunchConfiguration {
        LaunchConfiguration(gridSize: config.numSMs, blockSize: config.numThreads, sharedMemoryBytes: config.sharedMemoryBytes,
                            clusterSize: config.clusterSize, programmaticDependentLaunch: pdl)
    }

    /// The load map of a K-major FP8 operand [rows, K] (BLOCK_K x BLOCK_MN boxes, 128-byte swizzle).
    private func operandMap(_ name: String, _ layout: StridedLayout, rows: Int, k: Int, blockMN: Int) throws -> TensorMapDescription {
        try SM90BF16GEMMFamily.operandMap(name: name, layout: layout, major: .k, rows: rows, k: k, grouped: false,
                                          blockMN: blockMN, blockK: SM90FP8GEMM1D1DHeuristics.blockK, swizzle: 128)
    }

    /// Group g's row-major [rows, k] block of a flat k-grouped operand, starting at element rows·offset.
    func groupBlock(_ flat: StridedLayout, rows: Int, offset: Int, k: Int) -> StridedLayout {
        StridedLayout(address: flat.address + UInt64(rows * offset * flat.dtype.size), dtype: flat.dtype, shape: [rows, k], strides: [k, 1])
    }
}

/// The device table a k-grouped 1D1D launch reads: two 128-byte tensor maps per group (A's, then
/// B's; zeros for an empty group) followed by every group's K as a 32-bit integer.
public enum KGroupedTable {
    /// Bytes of one encoded tensor map.
    static let mapBytes = 128

    /// Bytes of the maps of `groups` groups.
    static func mapsByteCount(groups: Int) -> Int { 2 * groups * mapBytes }

    /// Bytes of the whole table.
    public static func byteCount(groups: Int) -> Int { mapsByteCount(groups: groups) + 4 * groups }

    /// The table's bytes for `maps` and `ks`, the maps encoded by `device`'s driver.
    public static func bytes(maps: [(a: TensorMapDescription, b: TensorMapDescription)?], ks: [Int], on device: CUDADevice) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount(groups: ks.count))
        for pair in maps {
            for map in [pair?.a, pair?.b] {
                guard let map else {
                    bytes += [UInt8](repeating: 0, count: mapBytes)
                    continue
                }
                var encoded = try map.encode(on: device)
                withUnsafeBytes(of: &encoded) { bytes += $0 }
            }
        }
        for k in ks { withUnsafeBytes(of: UInt32(k).littleEndian) { bytes += $0 } }
        return bytes
    }
}
