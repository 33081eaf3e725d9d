import Testing
import DeepGEMM
@testable import DeepGEMMCLI
import DeepGEMMTestSupport

/// Every GEMM op name of `deepgemm run`, aliases included, runs on the CPU and writes the same bits
/// as the Swift API on the same inputs, in every layout it has.
@Suite struct AliasRunTests {
    /// `x` transposed and laid out contiguously (how a file holds a transposed argument).
    static func transposedCopy(_ x: Tensor) throws -> Tensor { try x.transposed().contiguous() }

    /// Runs each op of `names` on `inputs` and expects `d` to equal `expected` bit for bit.
    static func expectEveryName(_ names: [String], _ inputs: [(String, Tensor)], settings: [String] = [], equal expected: Tensor,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(expected.doubleValues().contains { $0 != 0 }, sourceLocation: sourceLocation)
        for name in names {
            let d = try GEMMRunTests.run(name, inputs, settings: settings)
            #expect(bitwiseMismatch(d, expected) == nil, "\(name)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: GEMMLayout.allCases)
    func denseFP8NamesAndAliases(_ layout: GEMMLayout) throws {
        let a = try perTokenCastToFP8(Tensor.randn([24, 320], dtype: .bfloat16, seed: 1), useUE8M0: false)
        let b = try perBlockCastToFP8(Tensor.randn([72, 320], dtype: .bfloat16, seed: 2), useUE8M0: false)
        let argumentA = layout.transposesA ? QuantizedTensor(data: try Self.transposedCopy(a.data), sf: try Self.transposedCopy(a.sf)) : a
        let argumentB = layout.transposesB ? QuantizedTensor(data: try Self.transposedCopy(b.data), sf: try Self.transposedCopy(b.sf)) : b
        let expected = Tensor(zeros: [24, 72], dtype: .bfloat16)
        try fp8FP4GEMM(layout, a: argumentA, b: argumentB, d: expected, recipe: [1, 128, 128])
        try Self.expectEveryName(["fp8_fp4_gemm_", "fp8_gemm_"].map { $0 + layout.rawValue },
                                 [("a", argumentA.data), ("a_sf", argumentA.sf), ("b", argumentB.data), ("b_sf", argumentB.sf)],
                                 settings: ["recipe=1,128,128"], equal: expected)
    }

    @Test(arguments: GEMMLayout.allCases)
    func denseBF16AndCublasLtNames(_ layout: GEMMLayout) throws {
        let a = Tensor.randn([10, 96], dtype: .bfloat16, seed: 3), b = Tensor.randn([33, 96], dtype: .bfloat16, seed: 4)
        let argumentA = layout.transposesA ? try Self.transposedCopy(a) : a
        let argumentB = layout.transposesB ? try Self.transposedCopy(b) : b
        let viaBF16 = Tensor(zeros: [10, 33], dtype: .bfloat16), viaCublasLt = Tensor(zeros: [10, 33], dtype: .bfloat16)
        try bf16GEMM(layout, a: argumentA, b: argumentB, d: viaBF16)
        try cublasLtGEMM(layout, a: argumentA, b: argumentB, d: viaCublasLt)
        try Self.expectEveryName(["bf16_gemm_" + layout.rawValue], [("a", argumentA), ("b", argumentB)], equal: viaBF16)
        try Self.expectEveryName(["cublaslt_gemm_" + layout.rawValue], [("a", argumentA), ("b", argumentB)], equal: viaCublasLt)
    }

    /// Groups of 30 and 64 rows at α = 64 (rows 30..<64 are padding, -1), K = 128, N = 32.
    static func contiguousInputs() throws -> (x: Tensor, layout: Tensor, y: Tensor) {
        let x = Tensor.randn([128, 128], dtype: .bfloat16, seed: 5)
        try x.narrow(dim: 0, start: 30, length: 34).zero()
        let layout = try Tensor([Int32](repeating: 0, count: 30) + [Int32](repeating: -1, count: 34) + [Int32](repeating: 1, count: 64), shape: [128])
        return (x, layout, Tensor.randn([2, 32, 128], dtype: .bfloat16, seed: 6))
    }

    /// `y` [G, N, K] quantized per 128x128 block group by group (one block per group here).
    static func perBlockGroups(_ y: Tensor) throws -> QuantizedTensor {
        let data = Tensor(zeros: y.shape, dtype: .float8E4M3), sf = Tensor(zeros: [y.size(0), 1, 1], dtype: .float32)
        for group in 0..<y.size(0) {
            let q = try perBlockCastToFP8(y.select(dim: 0, index: group), useUE8M0: true)
            try data.select(dim: 0, index: group).copy(from: q.data)
            try sf.select(dim: 0, index: group).copy(from: q.sf)
        }
        return QuantizedTensor(data: data, sf: sf)
    }

    @Test(arguments: [GEMMLayout.nt, .nn])
    func mGroupedContiguousNamesAndAliases(_ layout: GEMMLayout) throws {
        let (x, groupedLayout, y) = try Self.contiguousInputs()
        let settings = DeepGEMMSettings(mkAlignmentForContiguousLayout: 64)
        let a = try perTokenCastToFP8(x, useUE8M0: true), stacked = try Self.perBlockGroups(y)
        let b = layout == .nn ? QuantizedTensor(data: try stacked.data.transposed(1, 2).contiguous(), sf: stacked.sf) : stacked
        let expected = Tensor(zeros: [128, 32], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMContiguous(layout, a: a, b: b, d: expected, groupedLayout: groupedLayout, settings: settings)
        try Self.expectEveryName(["m_grouped_fp8_fp4_gemm_", "m_grouped_fp8_gemm_"].map { $0 + layout.rawValue + "_contiguous" },
                                 [("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("grouped_layout", groupedLayout)],
                                 settings: ["mk_alignment=64"], equal: expected)

        let bf16B = layout == .nn ? try y.transposed(1, 2).contiguous() : y
        let bf16Expected = Tensor(zeros: [128, 32], dtype: .bfloat16)
        try mGroupedBF16GEMMContiguous(layout, a: x, b: bf16B, d: bf16Expected, groupedLayout: groupedLayout, settings: settings)
        try Self.expectEveryName(["m_grouped_bf16_gemm_\(layout.rawValue)_contiguous"], [("a", x), ("b", bf16B), ("grouped_layout", groupedLayout)],
                                 settings: ["mk_alignment=64"], equal: bf16Expected)
    }

    @Test func mGroupedMaskedNamesAndAliases() throws {
        let x = Tensor.randn([2, 16, 128], dtype: .bfloat16, seed: 7), y = Tensor.randn([2, 32, 128], dtype: .bfloat16, seed: 8)
        let d = Tensor.randn([2, 16, 32], dtype: .bfloat16, seed: 9), maskedM = try Tensor([Int32(16), 5], shape: [2])
        let tokens = try perTokenCastToFP8(x.reshaped([32, 128]), useUE8M0: true)
        let a = QuantizedTensor(data: try tokens.data.reshaped([2, 16, 128]), sf: try tokens.sf.reshaped([2, 16, 1]))
        let b = try Self.perBlockGroups(y)
        let expected = d.clone()
        try mGroupedFP8FP4GEMMNTMasked(a: a, b: b, d: expected, maskedM: maskedM, expectedM: 8)
        try Self.expectEveryName(["m_grouped_fp8_fp4_gemm_nt_masked", "m_grouped_fp8_gemm_nt_masked", "fp8_m_grouped_gemm_nt_masked"],
                                 [("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("d", d), ("masked_m", maskedM)],
                                 settings: ["expected_m=8"], equal: expected)

        let bf16Expected = d.clone()
        try mGroupedBF16GEMMNTMasked(a: x, b: y, d: bf16Expected, maskedM: maskedM, expectedM: 8)
        try Self.expectEveryName(["m_grouped_bf16_gemm_nt_masked", "bf16_m_grouped_gemm_nt_masked"],
                                 [("a", x), ("b", y), ("d", d), ("masked_m", maskedM)], settings: ["expected_m=8"], equal: bf16Expected)
        // Rows past masked_m of group 1 keep the d given in the file.
        #expect(bitwiseMismatch(try bf16Expected.select(dim: 0, index: 1).narrow(dim: 0, start: 5, length: 11),
                                try d.select(dim: 0, index: 1).narrow(dim: 0, start: 5, length: 11)) == nil)
    }
}
