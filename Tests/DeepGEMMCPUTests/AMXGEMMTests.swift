import Testing
import DeepGEMMCore
import DeepGEMMTestSupport
@testable import DeepGEMMCPU

/// The AMX level's tile edges: 32 x 32 tiles made of 16 x 16 halves (M, N at 1, 15, 16, 17, 31,
/// 32, 33 and past), K blocks padded to whole 32-element tile rows (K of 1, 31, 32, 33, 47, 300;
/// scale blocks of 1, 33, 48, 128), swapped roles (N < 32 < M), and D written as BF16 with
/// accumulation. (The blocks where scales change are common to both operands: the engine reads
/// each scale at its block's first K.)
@Suite(.enabled(if: CPUKernelVariant.amx.isSupported, "needs AMX-BF16 and the OS tile grant"))
struct AMXGEMMTests {
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (16, 17, 31), (17, 16, 32), (31, 33, 33), (32, 32, 64), (33, 15, 300), (65, 100, 160), (15, 70, 47),
        (3, 70, 300), (70, 2, 160),  // the dot-product path (at most 4 rows on one side)
    ]

    static let cases: [GEMMCase] = [
        GEMMCase(a: GEMMOperandSpec(format: .e4m3, scales: (1, 128)), b: GEMMOperandSpec(format: .e4m3, scales: (128, 128)), shapes: shapes),
        GEMMCase(a: GEMMOperandSpec(format: .e4m3, scales: (1, 48)), b: GEMMOperandSpec(format: .e2m1, scales: (1, 48)), shapes: shapes),
        GEMMCase(a: GEMMOperandSpec(format: .e2m1, mnMajor: true, fp4AlongK: false), b: GEMMOperandSpec(format: .e2m1), shapes: shapes),
        GEMMCase(a: GEMMOperandSpec(format: .bf16), b: GEMMOperandSpec(format: .bf16, mnMajor: true), shapes: shapes),
        GEMMCase(a: GEMMOperandSpec(format: .bf16, scales: (1, 1)), b: GEMMOperandSpec(format: .e4m3, scales: (1, 33)), shapes: shapes),
    ]

    /// F32 D against FP64 and the Swift reference, on one and on three threads (same bits).
    @Test(arguments: cases)
    func tileEdgesMatchFP64(_ testCase: GEMMCase) throws {
        try Self.expectMatchesFP64(testCase, variant: .amx, seed: 41)
    }

    /// `variant` on every shape of `testCase` (A from seed `seed + 2·index`, B from the next seed): F32
    /// D within FP32 rounding of FP64 and of the reference, and the same bits on one and three threads.
    static func expectMatchesFP64(_ testCase: GEMMCase, variant: CPUKernelVariant, seed: UInt64,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (index, shape) in testCase.shapes.enumerated() {
            let a = try testCase.a.make(rows: shape.m, k: shape.k, seed: seed + UInt64(2 * index))
            let b = try testCase.b.make(rows: shape.n, k: shape.k, seed: seed + UInt64(2 * index + 1))
            let got = try GEMMEngineTests.product(a, b, variant: variant, threads: 1)
            #expect(calcDiff(got.doubleValues(), GEMMEngineTests.fp64Product(a, b)) < 1e-6, "\(shape)", sourceLocation: sourceLocation)
            #expect(try calcDiff(got, GEMMEngineTests.product(a, b, variant: .reference)) < 1e-10, "vs reference \(shape)",
                    sourceLocation: sourceLocation)
            #expect(try GEMMEngineTests.product(a, b, variant: variant, threads: 3).bitwiseEqual(got), "threads \(shape)",
                    sourceLocation: sourceLocation)
        }
    }

    /// BF16 D, fresh and accumulated, within one BF16 rounding of the reference element by element.
    @Test func bf16OutputAtTileEdges() throws {
        let testCase = Self.cases[0]
        for (index, shape) in testCase.shapes.enumerated() {
            let a = try testCase.a.make(rows: shape.m, k: shape.k, seed: UInt64(index + 60))
            let b = try testCase.b.make(rows: shape.n, k: shape.k, seed: UInt64(index + 70))
            let product = GEMMEngineTests.fp64Product(a, b)
            let initial = Tensor.randn([shape.m, shape.n], dtype: .bfloat16, seed: UInt64(index + 80), scale: 8)
            for start in [nil, initial] {
                let reference = try GEMMEngineTests.product(a, b, variant: .reference, dtype: .bfloat16, initial: start).doubleValues()
                let got = try GEMMEngineTests.product(a, b, variant: .amx, dtype: .bfloat16, initial: start).doubleValues()
                let base = start?.doubleValues() ?? [Double](repeating: 0, count: product.count)
                for i in got.indices {
                    let tolerance = (abs(base[i] + product[i]) + abs(product[i])) * 0x1p-8 + 1e-30
                    #expect(abs(got[i] - reference[i]) <= tolerance, "\(shape) accumulate=\(start != nil) element \(i)")
                }
            }
        }
    }
}
