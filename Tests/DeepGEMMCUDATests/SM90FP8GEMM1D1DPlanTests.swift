import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

/// Launch plans of the SM90 FP8 1D1D family, computed without a device.
@Suite("SM90 FP8 1D1D launch plans")
struct SM90FP8GEMM1D1DPlanTests {
    static let base: UInt64 = 0x7f00_0000_0000

    /// F32 per-row scales [rows, kBlocks] in the MN-major TMA-aligned layout.
    static func scales(_ address: UInt64, rows: Int, kBlocks: Int) -> StridedLayout {
        StridedLayout(address: address, dtype: .float32, shape: [rows, kBlocks], strides: [1, align(rows, 4)])
    }

    @Test("a dense plan: no table, the shapes, then the maps of A, B, both scale vectors and D; refuses K-major B scales naming b_sf")
    func dense() throws {
        let (m, n, k) = (300, 520, 1040)
        let problem = fp8Problem1D1D(m: m, n: n, k: k)
        let kBlocks = ceilDiv(k, 128)
        var layouts = GEMMOperandLayouts(
            a: StridedLayout(address: Self.base, dtype: .float8E4M3, shape: [m, k], strides: [k, 1]),
            b: StridedLayout(address: Self.base + 0x100_0000, dtype: .float8E4M3, shape: [n, k], strides: [k, 1]),
            d: StridedLayout(address: Self.base + 0x200_0000, dtype: .float32, shape: [m, n], strides: [n, 1]),
            sfa: Self.scales(Self.base + 0x300_0000, rows: m, kBlocks: kBlocks), sfb: Self.scales(Self.base + 0x400_0000, rows: n, kBlocks: kBlocks))
        let plan = try SM90FP8GEMM1D1DFamily().plan(problem, layouts: layouts, pdl: false)
        let config = try #require(plan.selection.config as? SM90GEMMConfig)
        #expect(Array(plan.arguments.prefix(5)) == [.pointer(0), .pointer(0), .u32(UInt32(m)), .u32(UInt32(n)), .u32(UInt32(k))])
        #expect(plan.tensorMaps.map(\.address) == [Self.base, Self.base + 0x100_0000, Self.base + 0x300_0000, Self.base + 0x400_0000, Self.base + 0x200_0000])
        let d = plan.tensorMaps[4]
        #expect(d.box == [UInt32(config.blockN), UInt32(config.blockM), 1] && d.swizzleBytes == 0 && d.elementType == .float32)
        #expect(plan.tensorMaps[3].box == [UInt32(config.blockN), 1, 1] && plan.tensorMaps[3].dimensions == [UInt64(n), UInt64(kBlocks), 1])
        layouts.sfb = StridedLayout(address: Self.base + 0x400_0000, dtype: .float32, shape: [n, kBlocks], strides: [kBlocks, 1])
        #expect {
            try SM90FP8GEMM1D1DFamily().plan(problem, layouts: layouts, pdl: false)
        } throws: { error in
            if case DeepGEMMError.invalidArgument(argument: "b_sf", _) = error { return true }
            return false
        }
    }

    @Test("a k-grouped plan: one map pair per non-empty group at the group's block of the flat operands, the table's K list after the maps, D 3-D")
    func kGrouped() throws {
        let (m, n) = (300, 520)
        let ks = [256, 0, 128, 640]
        let sumK = ks.reduce(0, +)
        let problem = fp8Problem1D1D(m: m, n: n, k: ks.max()!, groups: ks.count)
        let table = Self.base + 0x500_0000
        let layouts = GEMMOperandLayouts(
            a: StridedLayout(address: Self.base, dtype: .float8E4M3, shape: [sumK * m], strides: [1]),
            b: StridedLayout(address: Self.base + 0x100_0000, dtype: .float8E4M3, shape: [sumK * n], strides: [1]),
            d: StridedLayout(address: Self.base + 0x200_0000, dtype: .float32, shape: [ks.count, m, n], strides: [m * n, n, 1]),
            sfa: Self.scales(Self.base + 0x300_0000, rows: m, kBlocks: sumK / 128), sfb: Self.scales(Self.base + 0x400_0000, rows: n, kBlocks: sumK / 128))
        let family = SM90FP8GEMM1D1DFamily()
        let (plan, groupMaps) = try family.planKGrouped(problem, ks: ks, layouts: layouts, table: table, pdl: false)
        #expect(Array(plan.arguments.prefix(2)) == [.pointer(table), .pointer(table + UInt64(2 * ks.count * 128))])
        #expect(KGroupedTable.byteCount(groups: ks.count) == 2 * ks.count * 128 + 4 * ks.count)
        #expect(groupMaps.map { $0 == nil } == [false, true, false, false])
        var offset = 0
        for (group, k) in ks.enumerated() {
            defer { offset += k }
            guard let pair = groupMaps[group] else { continue }
            #expect(pair.a.address == Self.base + UInt64(m * offset) && pair.b.address == Self.base + 0x100_0000 + UInt64(n * offset))
            #expect(pair.a.dimensions == [UInt64(k), UInt64(m), 1] && pair.a.byteStrides.first == UInt64(k))
            #expect(pair.b.dimensions == [UInt64(k), UInt64(n), 1] && pair.b.swizzleBytes == 128)
        }
        #expect(plan.tensorMaps[0] == groupMaps[0]!.a && plan.tensorMaps[4].dimensions == [UInt64(n), UInt64(m), UInt64(ks.count)])
        #expect(throws: DeepGEMMError.self) { try family.plan(problem, layouts: layouts, pdl: false) }
        #expect(throws: DeepGEMMError.self) { try family.planKGrouped(problem, ks: [256, 0, 100, 640], layouts: layouts, table: table, pdl: false) }
    }
}
