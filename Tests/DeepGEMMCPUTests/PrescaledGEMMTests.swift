import Testing
import DeepGEMMCore
import DeepGEMMTestSupport
@testable import DeepGEMMCPU

/// The levels that take the prescaled plans, where this machine has them.
private let prescaledVariants = [CPUKernelVariant.amx, .avx512].filter(\.isSupported)

/// The AMX and AVX-512 BF16 levels with power-of-two scales (the "prescaled" plans of
/// gemm_prescale.c): the scales go into the packed values relative to each row's largest one, the
/// tiles sum over all of K, and the output is scaled by 2^(E_row + E_col). Checked against FP64 and
/// the reference at tile edges and swapped roles, for thread counts, for NaN data and NaN / 2^-127
/// scales, and on AMX for rows computed alone or inside a larger M (the Mega MoE's fused blocks and
/// unfused experts rely on it).
@Suite(.enabled(if: !prescaledVariants.isEmpty, "needs AMX-BF16 or AVX-512 BF16"))
struct PrescaledGEMMTests {
    /// The levels that take the prescaled plans, where this machine has them.
    static let variants = prescaledVariants

    /// Tile edges, swapped roles, and the dot-product path (at most 4 rows on one side).
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 32), (1, 70, 600), (16, 17, 31), (33, 15, 300), (65, 100, 160), (40, 33, 1100), (4, 70, 1100), (70, 3, 600),
    ]

    static let cases: [GEMMCase] = [
        GEMMCase(a: GEMMOperandSpec(format: .e4m3, scales: (1, 128), scaleExponents: -8...8),
                 b: GEMMOperandSpec(format: .e4m3, scales: (128, 128), scaleExponents: -8...8), shapes: shapes),
        GEMMCase(a: GEMMOperandSpec(format: .e4m3, scales: (1, 32), scaleExponents: -8...8),
                 b: GEMMOperandSpec(format: .e2m1, scales: (1, 32), scaleExponents: -8...8), shapes: shapes),
        // Scales 2^100 apart inside a row: blocks far below the row's largest add nothing visible.
        GEMMCase(a: GEMMOperandSpec(format: .e4m3, scales: (1, 128), scaleExponents: -90...10),
                 b: GEMMOperandSpec(format: .e2m1, scales: (1, 32), scaleExponents: -20...20), shapes: shapes),
        GEMMCase(a: GEMMOperandSpec(format: .bf16),
                 b: GEMMOperandSpec(format: .e2m1, scales: (1, 64), scaleExponents: -30...30), shapes: shapes),
    ]

    /// Float scales, which the same levels fold block by block (tiles and dot-product path alike).
    static let floatScaleCase = GEMMCase(a: GEMMOperandSpec(format: .e4m3, scales: (1, 128)),
                                         b: GEMMOperandSpec(format: .e2m1, scales: (1, 32)), shapes: shapes)

    @Test(arguments: cases + [floatScaleCase], variants)
    func matchesFP64AndTheReference(_ testCase: GEMMCase, variant: CPUKernelVariant) throws {
        try AMXGEMMTests.expectMatchesFP64(testCase, variant: variant, seed: 301)
    }

    /// Rows computed in a call of their own give the bits they get inside the full call (whose
    /// roles may be swapped when B is narrow, and which streams B's rows through the A tiles when
    /// A has at most 32 rows), with power-of-two scales and with float scales (per-block folds),
    /// when both calls take the same path: tiles, or the dot-product path when one side has at most
    /// `GEMMEngine.dotPathMaxRows` rows (where the two paths meet, their bits differ).
    @Test(.enabled(if: CPUKernelVariant.amx.isSupported, "needs AMX-BF16 and the OS tile grant"),
          arguments: cases + [floatScaleCase])
    func rowsDoNotDependOnTheirNeighbours(_ testCase: GEMMCase) throws {
        for (index, shape) in testCase.shapes.enumerated() where shape.m > 1 {
            let a = try testCase.a.make(rows: shape.m, k: shape.k, seed: UInt64(2 * index + 401))
            let b = try testCase.b.make(rows: shape.n, k: shape.k, seed: UInt64(2 * index + 402))
            let full = try GEMMEngineTests.product(a, b, variant: .amx)
            let dotPath = { (rows: Int) in min(rows, shape.n) <= GEMMEngine.dotPathMaxRows }
            for (start, length) in [(0, 1), (shape.m - 1, 1), (1, min(shape.m - 1, 17)), (2, min(shape.m - 2, 3))]
            where length > 0 && dotPath(length) == dotPath(shape.m) {
                let part = try GEMMEngineTests.product(try Self.rows(of: a, start: start, length: length), b, variant: .amx)
                #expect(try part.bitwiseEqual(full.narrow(dim: 0, start: start, length: length).contiguous()),
                        "\(shape) rows \(start)..<\(start + length)")
            }
        }
    }

    /// NaN data or a NaN scale makes its row NaN (as in the reference); a 2^-127 scale (UE8M0 code 0)
    /// still takes the prescaled path and matches the reference. Six rows run on tiles, rows 1-4
    /// alone on the dot-product path.
    @Test(arguments: variants)
    func nanAndTinyScales(variant: CPUKernelVariant) throws {
        let spec = GEMMOperandSpec(format: .e4m3, scales: (1, 32), scaleExponents: -4...4)
        let bSpec = GEMMOperandSpec(format: .e2m1, scales: (1, 32), scaleExponents: -4...4)
        let (m, n, k) = (6, 40, 96)
        let a = try spec.make(rows: m, k: k, seed: 501)
        let b = try bSpec.make(rows: n, k: k, seed: 502)
        let scales = a.scales!.values
        scales.dataPointer.assumingMemoryBound(to: Float.self)[1 * 3 + 2] = .nan               // row 1, last block
        scales.dataPointer.assumingMemoryBound(to: Float.self)[2 * 3 + 0] = Float(bitPattern: 0x0040_0000)  // row 2: 2^-127
        a.data.dataPointer.assumingMemoryBound(to: UInt8.self)[4 * k + 50] = 0x7F            // row 4: NaN
        let reference = try GEMMEngineTests.product(a, b, variant: .reference).doubleValues()
        for (first, rows) in [(0, m), (1, GEMMEngine.dotPathMaxRows)] {
            let got = try GEMMEngineTests.product(try Self.rows(of: a, start: first, length: rows), b, variant: variant).doubleValues()
            for row in first..<(first + rows) {
                let values = got[((row - first) * n)..<((row - first + 1) * n)], expected = reference[(row * n)..<((row + 1) * n)]
                if row == 1 || row == 4 {
                    #expect(values.allSatisfy(\.isNaN) && expected.allSatisfy(\.isNaN), "row \(row) of \(rows)")
                } else {
                    #expect(calcDiff(Array(values), Array(expected)) < 1e-10, "row \(row) of \(rows)")
                }
            }
        }
    }

    /// Grids the library decoded from UE8M0 skip the power-of-two check and give the same bits as
    /// the same values checked; assigning `values` drops the mark.
    @Test(arguments: variants)
    func ue8m0DecodedGridsSkipTheCheckWithTheSameBits(variant: CPUKernelVariant) throws {
        let testCase = Self.cases[1]
        let a = try testCase.a.make(rows: 20, k: 300, seed: 601), b = try testCase.b.make(rows: 90, k: 300, seed: 602)
        func marked(_ op: GEMMOperand) throws -> GEMMOperand {
            var copy = op
            copy.scales = op.scales.map { ScaleGrid(ue8m0Decoded: $0.values, granK: $0.granK) }
            return copy
        }
        let (markedA, markedB) = (try marked(a), try marked(b))
        #expect(markedA.scales?.decodedFromUE8M0 == true && a.scales?.decodedFromUE8M0 == false)
        #expect(try GEMMEngineTests.product(markedA, markedB, variant: variant)
            .bitwiseEqual(GEMMEngineTests.product(a, b, variant: variant)))
        var reassigned = markedA.scales!
        reassigned.values = reassigned.values.clone()
        #expect(!reassigned.decodedFromUE8M0)
    }

    /// Rows [start, start + length) of a row-scaled operand (scale grid rows of one row each).
    static func rows(of op: GEMMOperand, start: Int, length: Int) throws -> GEMMOperand {
        let scales = try op.scales.map {
            try ScaleGrid(values: $0.values.narrow(dim: 0, start: start / $0.granRows, length: Swift.max(1, length / $0.granRows)),
                          granRows: $0.granRows, granK: $0.granK)
        }
        return try GEMMOperand(format: op.format, rows: length, k: op.k, data: op.data.narrow(dim: 0, start: start, length: length),
                               fp4PackedAlongK: op.fp4PackedAlongK, scales: scales)
    }
}
