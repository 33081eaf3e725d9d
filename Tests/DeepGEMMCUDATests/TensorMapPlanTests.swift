import DeepGEMMCore
import Testing
@testable import DeepGEMMCUDA

@Suite("TMA descriptors from strides")
struct TensorMapPlanTests {
    static let base: UInt64 = 0x7f00_0000_0000

    /// Plans a dense BF16 GEMM for operands of the given stored shapes (transposed views for MN-major).
    func plan(m: Int, n: Int, k: Int, majorA: GEMMMajor, majorB: GEMMMajor, output: DType = .bfloat16,
              aRowStride: Int? = nil) throws -> (config: SM90GEMMConfig, maps: [TensorMapDescription]) {
        let a = majorA == .k
            ? StridedLayout(address: Self.base, dtype: .bfloat16, shape: [m, k], strides: [aRowStride ?? k, 1])
            : StridedLayout(address: Self.base, dtype: .bfloat16, shape: [m, k], strides: [1, m])
        let b = majorB == .k
            ? StridedLayout(address: Self.base + 0x1000_0000, dtype: .bfloat16, shape: [n, k], strides: [k, 1])
            : StridedLayout(address: Self.base + 0x1000_0000, dtype: .bfloat16, shape: [n, k], strides: [1, n])
        let d = StridedLayout(address: Self.base + 0x2000_0000, dtype: output, shape: [m, n], strides: [n, 1])
        let problem = GEMMKernelProblem(GEMMProblem(kind: .normal, m: m, n: n, k: k, majorA: try a.operandMajor(name: "a"), majorB: try b.operandMajor(name: "b"), typeCD: output), numSMs: 132)
        let planned = try SM90BF16GEMMFamily().plan(problem, layouts: GEMMOperandLayouts(a: a, b: b, d: d), pdl: false)
        return (try #require(planned.selection.config as? SM90GEMMConfig), planned.tensorMaps)
    }

    /// The maps of a launch planned on the given layouts.
    func plannedMaps(_ problem: GEMMKernelProblem, a: StridedLayout, b: StridedLayout, d: StridedLayout) throws -> [TensorMapDescription] {
        try SM90BF16GEMMFamily().plan(problem, layouts: GEMMOperandLayouts(a: a, b: b, d: d), pdl: false).tensorMaps
    }

    @Test("nt: K-major boxes of 64 x BLOCK with 128-byte swizzle, D in swizzle atoms")
    func nt() throws {
        let (config, maps) = try plan(m: 4096, n: 2112, k: 7168, majorA: .k, majorB: .k)
        #expect(maps[0].dimensions == [7168, 4096, 1] && maps[0].byteStrides[0] == 7168 * 2)
        #expect(maps[0].box == [64, UInt32(config.blockM), 1] && maps[0].swizzleBytes == 128)
        #expect(maps[1].dimensions == [7168, 2112, 1] && maps[1].box == [64, UInt32(config.blockN), 1])
        #expect(maps[2].dimensions == [2112, 4096, 1] && maps[2].byteStrides[0] == 2112 * 2)
        #expect(maps[2].box == [UInt32(config.swizzleD / 2), UInt32(config.blockM), 1] && maps[2].swizzleBytes == config.swizzleD)
        #expect(maps[2].address == Self.base + 0x2000_0000)
    }

    @Test("tn: MN-major operands load one swizzle atom of M/N per box, K rows deep")
    func tn() throws {
        let (config, maps) = try plan(m: 4096, n: 7168, k: 2048, majorA: .mn, majorB: .mn)
        #expect(maps[0].dimensions == [4096, 2048, 1] && maps[0].byteStrides[0] == 4096 * 2)
        #expect(maps[0].box == [UInt32(config.swizzleA / 2), 64, 1])
        #expect(maps[1].dimensions == [7168, 2048, 1] && maps[1].box == [UInt32(config.swizzleB / 2), 64, 1])
    }

    @Test("FP32 output is one unswizzled BLOCK_N x BLOCK_M box")
    func floatOutput() throws {
        let (config, maps) = try plan(m: 4096, n: 256, k: 7168, majorA: .k, majorB: .k, output: .float32)
        #expect(maps[2].swizzleBytes == 0 && maps[2].box == [UInt32(config.blockN), UInt32(config.blockM), 1])
        #expect(maps[2].byteStrides[0] == 256 * 4)
    }

    @Test("a padded row stride is kept")
    func paddedStride() throws {
        let (_, maps) = try plan(m: 256, n: 512, k: 1000, majorA: .k, majorB: .k, aRowStride: 1024)
        #expect(maps[0].dimensions == [1000, 256, 1] && maps[0].byteStrides[0] == 2048)
    }

    @Test("grouped operands are 3-D with the group stride")
    func grouped() throws {
        let (groups, maxM, n, k) = (6, 1024, 4096, 2048)
        let a = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [groups, maxM, k], strides: [maxM * k, k, 1])
        let b = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [groups, n, k], strides: [n * k, k, 1])
        let d = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [groups, maxM, n], strides: [maxM * n, n, 1])
        let problem = GEMMKernelProblem(GEMMProblem(kind: .mGroupedMasked, m: maxM, n: n, k: k, numGroups: groups, expectedM: 480), numSMs: 132)
        let maps = try plannedMaps(problem, a: a, b: b, d: d)
        #expect(maps[0].dimensions == [2048, 1024, 6] && maps[0].byteStrides == [4096, UInt64(maxM * k * 2)])
        #expect(maps[1].dimensions == [2048, 4096, 6] && maps[1].byteStrides == [4096, UInt64(n * k * 2)])
        #expect(maps[2].dimensions == [4096, 1024, 6] && maps[2].byteStrides == [8192, UInt64(maxM * n * 2)])

        let contiguousA = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [4096, k], strides: [k, 1])
        let contiguousB = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [4, n, k], strides: [n * k, 1, n])
        let contiguousD = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [4096, n], strides: [n, 1])
        let contiguous = GEMMKernelProblem(GEMMProblem(kind: .mGroupedContiguous, m: 4096, n: n, k: k, numGroups: 4, majorB: .mn), numSMs: 132)
        let contiguousMaps = try plannedMaps(contiguous, a: contiguousA, b: contiguousB, d: contiguousD)
        #expect(contiguousMaps[0].dimensions == [2048, 4096, 1])
        #expect(contiguousMaps[1].dimensions == [4096, 2048, 4] && contiguousMaps[1].byteStrides == [UInt64(n * 2), UInt64(n * k * 2)])
        #expect(contiguousMaps[2].dimensions == [4096, 4096, 1])
    }

    @Test("rows that are not 16-byte multiples are rejected, naming the operand")
    func misalignedStride() {
        #expect(throws: DeepGEMMError.invalidArgument(argument: "a", rule: "K-major rows must be 16-byte aligned: TMA needs the row stride to be a multiple of 16 bytes, got 1001 elements of 2 bytes")) {
            _ = try plan(m: 256, n: 512, k: 1001, majorA: .k, majorB: .k)
        }
        #expect(throws: DeepGEMMError.self) {
            _ = try TensorMapDescription(name: "d", elementType: .bfloat16, address: Self.base + 2, rowsName: "row-major", innerSize: 64, outerSize: 64, outerStride: 64,
                                         boxInner: 64, boxOuter: 64, swizzleBytes: 128)
        }
    }

    @Test("operands that are neither K- nor MN-major are rejected")
    func majorness() throws {
        let odd = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [64, 64], strides: [128, 2])
        #expect(throws: DeepGEMMError.self) { _ = try odd.operandMajor(name: "b") }
        let row = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [64, 64], strides: [64, 1])
        #expect(try row.operandMajor(name: "a") == .k)
        #expect(try StridedLayout(address: 0, dtype: .bfloat16, shape: [64, 64], strides: [1, 64]).operandMajor(name: "a") == .mn)
    }

    @Test("m = 1 (tn/tt decode): a [1, K] view keeps whatever row stride it has; TMA gets a valid dummy one")
    func singleRow() throws {
        let (n, k) = (2112, 7168)
        // A stored [K, 1] and transposed: [1, K] with strides [1, 1], K-major by Core's rule
        let a = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [1, k], strides: [1, 1])
        let b = StridedLayout(address: Self.base + 0x1000_0000, dtype: .bfloat16, shape: [n, k], strides: [1, n])
        let d = StridedLayout(address: Self.base + 0x2000_0000, dtype: .bfloat16, shape: [1, n], strides: [n, 1])
        let problem = GEMMKernelProblem(GEMMProblem(kind: .normal, m: 1, n: n, k: k, majorA: try a.operandMajor(name: "a"), majorB: .mn),
                                        numSMs: 132, compiledDims: "mn")
        #expect(problem.majorA == .k)
        let maps = try plannedMaps(problem, a: a, b: b, d: d)
        #expect(maps[0].dimensions == [UInt64(k), 1, 1] && maps[0].byteStrides == [UInt64(k * 2), UInt64(k * 2)])
        #expect(maps.allSatisfy { $0.byteStrides.allSatisfy { $0 % 16 == 0 && $0 > 0 } })

        // An odd-sized single row of D gets the same treatment
        let oddD = StridedLayout(address: Self.base + 0x2000_0000, dtype: .float32, shape: [1, 2105], strides: [3, 1])
        let oddB = StridedLayout(address: Self.base + 0x1000_0000, dtype: .bfloat16, shape: [2105, k], strides: [k, 1])
        let oddProblem = GEMMKernelProblem(GEMMProblem(kind: .normal, m: 1, n: 2105, k: k, majorA: .k, majorB: .k, typeCD: .float32), numSMs: 132)
        #expect(try plannedMaps(oddProblem, a: a, b: oddB, d: oddD)[2].byteStrides[0] == UInt64(align(2105 * 4, 16)))
    }

    @Test("m = 999 MN-major A (tn/tt): K rows of 1998 bytes break TMA's 16-byte rule and are rejected naming a")
    func unalignedMNMajorRows() throws {
        let (m, n, k) = (999, 2104, 1032)
        let a = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [m, k], strides: [1, m])
        let b = StridedLayout(address: Self.base + 0x1000_0000, dtype: .bfloat16, shape: [n, k], strides: [1, n])
        let d = StridedLayout(address: Self.base + 0x2000_0000, dtype: .bfloat16, shape: [m, n], strides: [n, 1])
        let problem = GEMMKernelProblem(GEMMProblem(kind: .normal, m: m, n: n, k: k, majorA: .mn, majorB: .mn), numSMs: 132, compiledDims: "mn")
        #expect(throws: DeepGEMMError.invalidArgument(argument: "a", rule: "MN-major rows must be 16-byte aligned: TMA needs the row stride to be a multiple of 16 bytes, got 999 elements of 2 bytes")) {
            _ = try plannedMaps(problem, a: a, b: b, d: d)
        }
        // The same A padded to 1000 rows of storage plans
        let padded = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [m, k], strides: [1, 1000])
        #expect(try plannedMaps(problem, a: padded, b: b, d: d)[0].byteStrides[0] == 2000)
    }

    @Test("a layout whose major-ness is not the problem's is rejected")
    func plannedMajor() {
        let a = StridedLayout(address: Self.base, dtype: .bfloat16, shape: [256, 512], strides: [512, 1])
        #expect(throws: DeepGEMMError.invalidArgument(argument: "a", rule: "is k-major but was planned as mn-major")) {
            _ = try SM90BF16GEMMFamily.operandMap(name: "a", layout: a, major: .mn, rows: 256, k: 512, grouped: false, blockMN: 128, blockK: 64, swizzle: 128)
        }
    }
}
