import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// Small valid arguments the grouped rules start from: m-grouped M = 128 (α = 128), G = 2, N = 16,
/// K = 128; masked G = 2, Mmax = 8; k-grouped ks = [128, 128], M = 8, N = 16.
enum GroupedFixture {
    typealias F = DenseFixture
    static let (m, n, k, groups) = (128, 16, 128, 2)

    static func fp8(_ shape: [Int]) -> Tensor { Tensor.randn(shape, dtype: .float8E4M3, seed: 1) }
    static func bf16(_ shape: [Int]) -> Tensor { Tensor(zeros: shape, dtype: .bfloat16) }
    static func f32(_ shape: [Int], _ value: Double = 1) -> Tensor { F.filled(shape, value) }
    static func i32(_ values: [Int32]) -> Tensor { (try? Tensor(values, shape: [values.count])) ?? Tensor(zeros: [values.count], dtype: .int32) }

    // m-grouped contiguous
    static var a: QuantizedTensor { QuantizedTensor(data: fp8([m, k]), sf: f32([m, 1])) }
    static var b: QuantizedTensor { QuantizedTensor(data: fp8([groups, n, k]), sf: f32([groups, 1, 1])) }
    static func d(_ dtype: DType = .bfloat16, rows: Int = m) -> Tensor { Tensor(zeros: [rows, n], dtype: dtype) }
    static var layout: Tensor { i32([Int32](repeating: 0, count: 64) + [Int32](repeating: -1, count: 64)) }
    static var psumLayout: Tensor { i32([64, 128]) }

    // masked
    static var maskedA: QuantizedTensor { QuantizedTensor(data: fp8([groups, 8, k]), sf: f32([groups, 8, 1])) }
    static var maskedD: Tensor { Tensor(zeros: [groups, 8, n], dtype: .bfloat16) }
    static var maskedM: Tensor { i32([8, 3]) }

    // k-grouped (ΣK = 256, M = 8)
    static let (km, ksCPU) = (8, [128, 128])
    static var kLayout: Tensor { i32([128, 128]) }
    static var kA: QuantizedTensor { QuantizedTensor(data: fp8([256, km]), sf: f32([2, km])) }
    static var kB: QuantizedTensor { QuantizedTensor(data: fp8([256, n]), sf: f32([2, n])) }
    static var kD: Tensor { Tensor(zeros: [2, km, n], dtype: .float32) }
    static var flatA: QuantizedTensor { QuantizedTensor(data: fp8([256 * km]), sf: f32([km, 2])) }
    static var flatB: QuantizedTensor { QuantizedTensor(data: fp8([256 * n]), sf: f32([n, 2])) }

    static let sm90 = DeepGEMMSettings(arch: .sm90), sm100 = DeepGEMMSettings(arch: .sm100)
    static func alignment(_ value: Int) -> DeepGEMMSettings { DeepGEMMSettings(mkAlignmentForContiguousLayout: value) }
}

/// Every bad-input rule of spec §7 and §8 raises a typed error naming the argument.
@Suite struct GroupedGEMMErrorTests {
    typealias G = GroupedFixture
    typealias F = DenseFixture

    static let contiguousRules: [DenseRule] = [
        DenseRule(rule: "layout neither nt nor nn", argument: "layout") {
            try mGroupedFP8FP4GEMMContiguous(.tn, a: G.a, b: G.b, d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "expected_m_for_psum_layout with nn", argument: "expected_m_for_psum_layout") {
            try mGroupedBF16GEMMContiguous(.nn, a: G.bf16([G.m, G.k]), b: G.bf16([G.groups, G.k, G.n]), d: G.d(), groupedLayout: G.psumLayout,
                                           usePsumLayout: true, expectedMForPsumLayout: 64)
        },
        DenseRule(rule: "expected_m_for_psum_layout without PSUM", argument: "expected_m_for_psum_layout") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(), groupedLayout: G.layout, expectedMForPsumLayout: 64)
        },
        DenseRule(rule: "a MN-major", argument: "a") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: QuantizedTensor(data: G.fp8([G.k, G.m]).transposed(), sf: G.a.sf), b: G.b, d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "a not 2-D", argument: "a") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([1, G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "b not 3-D", argument: "b") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([G.n, G.k]), d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "b groups not stacked densely", argument: "b") {
            let b = try G.bf16([G.groups, G.n, 2 * G.k]).narrow(dim: 2, start: 0, length: G.k)
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: b, d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "b MN-major under strict SM90", argument: "b", unsupported: true) {
            try mGroupedFP8FP4GEMMContiguous(.nn, a: G.a, b: QuantizedTensor(data: G.fp8([G.groups, G.k, G.n]), sf: G.f32([G.groups, 1, 1])),
                                             d: G.d(), groupedLayout: G.layout, settings: G.sm90, strictArch: true)
        },
        DenseRule(rule: "a of a non-FP8/FP4 dtype", argument: "a") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: QuantizedTensor(data: G.bf16([G.m, G.k]), sf: G.a.sf), b: G.b, d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "FP4 a under strict SM90", argument: "a", unsupported: true) {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: QuantizedTensor(data: Tensor(zeros: [G.m, G.k / 2], dtype: .int8), sf: G.a.sf), b: G.b, d: G.d(),
                                             groupedLayout: G.layout, settings: G.sm90, strictArch: true)
        },
        DenseRule(rule: "BF16 a of another dtype", argument: "a") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.f32([G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "K of b differs", argument: "b") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: QuantizedTensor(data: G.fp8([G.groups, G.n, 256]), sf: G.f32([G.groups, 1, 2])),
                                             d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "d of the wrong shape", argument: "d") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(rows: G.m - 1), groupedLayout: G.layout)
        },
        DenseRule(rule: "N == 0", argument: "b") {
            let b = F.strided([G.groups, 0, G.k], strides: [0, G.k, 1], dtype: .bfloat16, storageElements: 0)
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: b, d: G.bf16([G.m, 0]), groupedLayout: G.layout)
        },
        DenseRule(rule: "K == 0", argument: "a") {
            let b = F.strided([G.groups, G.n, 0], strides: [0, 0, 1], dtype: .bfloat16, storageElements: 0)
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, 0]), b: b, d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "G == 0", argument: "b") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([0, G.n, G.k]), d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "d not BF16", argument: "d") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(.float32), groupedLayout: G.layout)
        },
        DenseRule(rule: "d not row-major", argument: "d") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.bf16([G.n, G.m]).transposed(), groupedLayout: G.layout)
        },
        DenseRule(rule: "grouped_layout not int32", argument: "grouped_layout") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(), groupedLayout: Tensor(zeros: [G.m], dtype: .int64))
        },
        DenseRule(rule: "grouped_layout not contiguous", argument: "grouped_layout") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(), groupedLayout: Tensor(zeros: [G.m, 2], dtype: .int32).select(dim: 1, index: 0))
        },
        DenseRule(rule: "grouped_layout not [M]", argument: "grouped_layout") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(), groupedLayout: G.psumLayout)
        },
        DenseRule(rule: "PSUM grouped_layout not [G]", argument: "grouped_layout") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(), groupedLayout: G.layout, usePsumLayout: true)
        },
        DenseRule(rule: "group id out of range", argument: "grouped_layout") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.d(),
                                           groupedLayout: G.i32([Int32](repeating: 2, count: G.m)))
        },
        DenseRule(rule: "group id below -1", argument: "grouped_layout") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.d(),
                                           groupedLayout: G.i32([Int32](repeating: 0, count: G.m - 1) + [-2]))
        },
        DenseRule(rule: "two groups in one α block", argument: "grouped_layout") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.d(),
                                           groupedLayout: G.i32([Int32](repeating: 0, count: 64) + [Int32](repeating: 1, count: 64)))
        },
        DenseRule(rule: "valid rows in a block that starts with padding", argument: "grouped_layout") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.d(),
                                           groupedLayout: G.i32([-1] + [Int32](repeating: 1, count: G.m - 1)))
        },
        DenseRule(rule: "PSUM group ending before its aligned start", argument: "grouped_layout") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(), groupedLayout: G.i32([64, 100]), usePsumLayout: true)
        },
        DenseRule(rule: "PSUM group ending past M", argument: "grouped_layout") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.d(), groupedLayout: G.i32([0, 129]),
                                           usePsumLayout: true)
        },
        DenseRule(rule: "mk_alignment not positive", argument: "mk_alignment") {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.d(), groupedLayout: G.layout,
                                           settings: G.alignment(0))
        },
        DenseRule(rule: "b_sf not [G, ceil(N/gn), ceil(K/gk)]", argument: "b_sf") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: QuantizedTensor(data: G.b.data, sf: G.f32([G.groups, 1, 2])), d: G.d(), groupedLayout: G.layout)
        },
        DenseRule(rule: "recipe and recipe_a together", argument: "recipe") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: G.b, d: G.d(), groupedLayout: G.layout, recipe: [1, 128, 128], recipeA: [1, 128], recipeB: [128, 128])
        },
        DenseRule(rule: "non-power-of-two scales under strict SM100", argument: "a_sf") {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: QuantizedTensor(data: G.a.data, sf: G.f32([G.m, 1], 0.3)), b: G.b, d: G.d(), groupedLayout: G.layout,
                                             settings: G.sm100, strictArch: true)
        },
        DenseRule(rule: "SM90 1D1D recipe for an m-grouped GEMM", argument: "recipe", unsupported: true) {
            try mGroupedFP8FP4GEMMContiguous(.nt, a: G.a, b: QuantizedTensor(data: G.b.data, sf: G.f32([G.groups, G.n, 1])), d: G.d(),
                                             groupedLayout: G.layout, recipe: [1, 1, 128], settings: G.sm90, strictArch: true)
        },
        DenseRule(rule: "BF16 K % 64 under strict SM90", argument: "a", unsupported: true) {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, 96]), b: G.bf16([G.groups, G.n, 96]), d: G.d(), groupedLayout: G.layout,
                                           settings: G.sm90, strictArch: true)
        },
    ]

    static let maskedRules: [DenseRule] = [
        DenseRule(rule: "masked a not K-major", argument: "a") {
            try mGroupedFP8FP4GEMMNTMasked(a: QuantizedTensor(data: G.fp8([G.groups, G.k, 8]).transposed(1, 2), sf: G.maskedA.sf), b: G.b,
                                           d: G.maskedD, maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked b not K-major", argument: "b") {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([G.groups, 8, G.k]), b: G.bf16([G.groups, G.k, G.n]).transposed(1, 2), d: G.maskedD,
                                         maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked a not 3-D", argument: "a") {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([8, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.maskedD, maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked b with another G", argument: "b") {
            try mGroupedFP8FP4GEMMNTMasked(a: G.maskedA, b: QuantizedTensor(data: G.fp8([3, G.n, G.k]), sf: G.f32([3, 1, 1])), d: G.maskedD,
                                           maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked K of b differs", argument: "b") {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([G.groups, 8, G.k]), b: G.bf16([G.groups, G.n, 64]), d: G.maskedD, maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked d of the wrong shape", argument: "d") {
            try mGroupedFP8FP4GEMMNTMasked(a: G.maskedA, b: G.b, d: G.bf16([G.groups, 7, G.n]), maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked_m of the wrong length", argument: "masked_m") {
            try mGroupedFP8FP4GEMMNTMasked(a: G.maskedA, b: G.b, d: G.maskedD, maskedM: G.i32([8]), expectedM: 4)
        },
        DenseRule(rule: "masked_m not int32", argument: "masked_m") {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([G.groups, 8, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.maskedD,
                                         maskedM: Tensor(zeros: [2], dtype: .int64), expectedM: 4)
        },
        DenseRule(rule: "masked_m not contiguous", argument: "masked_m") {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([G.groups, 8, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.maskedD,
                                         maskedM: Tensor(zeros: [2, 2], dtype: .int32).select(dim: 1, index: 1), expectedM: 4)
        },
        DenseRule(rule: "masked_m entry past Mmax", argument: "masked_m") {
            try mGroupedFP8FP4GEMMNTMasked(a: G.maskedA, b: G.b, d: G.maskedD, maskedM: G.i32([9, 0]), expectedM: 4)
        },
        DenseRule(rule: "masked_m entry negative", argument: "masked_m") {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([G.groups, 8, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.maskedD, maskedM: G.i32([-1, 0]), expectedM: 4)
        },
        DenseRule(rule: "expected_m not positive", argument: "expected_m") {
            try mGroupedFP8FP4GEMMNTMasked(a: G.maskedA, b: G.b, d: G.maskedD, maskedM: G.maskedM, expectedM: 0)
        },
        DenseRule(rule: "Mmax == 0", argument: "a") {
            let a = F.strided([G.groups, 0, G.k], strides: [0, G.k, 1], dtype: .bfloat16, storageElements: 0)
            let d = F.strided([G.groups, 0, G.n], strides: [0, G.n, 1], dtype: .bfloat16, storageElements: 0)
            try mGroupedBF16GEMMNTMasked(a: a, b: G.bf16([G.groups, G.n, G.k]), d: d, maskedM: G.i32([0, 0]), expectedM: 4)
        },
        DenseRule(rule: "masked N == 0", argument: "b") {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([G.groups, 8, G.k]), b: G.bf16([G.groups, 0, G.k]), d: G.bf16([G.groups, 8, 0]),
                                         maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked K == 0", argument: "a") {
            try mGroupedFP8FP4GEMMNTMasked(a: QuantizedTensor(data: G.fp8([G.groups, 8, 0]), sf: G.f32([G.groups, 8, 0])),
                                           b: QuantizedTensor(data: G.fp8([G.groups, G.n, 0]), sf: G.f32([G.groups, 1, 0])), d: G.maskedD,
                                           maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked G == 0", argument: "b") {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([0, 8, G.k]), b: G.bf16([0, G.n, G.k]), d: G.bf16([0, 8, G.n]), maskedM: G.i32([]), expectedM: 4)
        },
        DenseRule(rule: "masked d not BF16", argument: "d") {
            try mGroupedFP8FP4GEMMNTMasked(a: G.maskedA, b: G.b, d: Tensor(zeros: [G.groups, 8, G.n], dtype: .float32), maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked a_sf not [G, Mmax, ceil(K/gk)]", argument: "a_sf") {
            try mGroupedFP8FP4GEMMNTMasked(a: QuantizedTensor(data: G.maskedA.data, sf: G.f32([G.groups, 8, 2])), b: G.b, d: G.maskedD,
                                           maskedM: G.maskedM, expectedM: 4)
        },
        DenseRule(rule: "masked BF16 K % 64 under strict SM90", argument: "a", unsupported: true) {
            try mGroupedBF16GEMMNTMasked(a: G.bf16([G.groups, 8, 96]), b: G.bf16([G.groups, G.n, 96]), d: G.maskedD, maskedM: G.maskedM, expectedM: 4,
                                         settings: G.sm90, strictArch: true)
        },
    ]

    static let kGroupedRules: [DenseRule] = [
        DenseRule(rule: "c absent", argument: "c") {
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: G.kD, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: nil)
        },
        DenseRule(rule: "c not contiguous", argument: "c") {
            let c = try Tensor(zeros: [2, G.n, G.km], dtype: .float32).transposed(1, 2)
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: G.kD, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: c)
        },
        DenseRule(rule: "c of another shape", argument: "c") {
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: G.kD, ksCPU: G.ksCPU, groupedLayout: G.kLayout,
                                             c: Tensor(zeros: [2, G.km, G.n + 1], dtype: .float32))
        },
        DenseRule(rule: "d not 3-D", argument: "d") {
            let d = Tensor(zeros: [G.km, G.n], dtype: .float32)
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "d not F32", argument: "d") {
            let d = Tensor(zeros: [2, G.km, G.n], dtype: .bfloat16)
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "d not contiguous", argument: "d") {
            let d = try Tensor(zeros: [2, G.n, G.km], dtype: .float32).transposed(1, 2)
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "mk_alignment not a multiple of 32", argument: "mk_alignment") {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d,
                                             settings: G.alignment(48))
        },
        DenseRule(rule: "k-grouped grouped_layout not int32", argument: "grouped_layout") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: Tensor(zeros: [2], dtype: .int64), c: d)
        },
        DenseRule(rule: "k-grouped grouped_layout not one entry per group", argument: "grouped_layout") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.i32([256]), c: d)
        },
        DenseRule(rule: "k-grouped grouped_layout not contiguous", argument: "grouped_layout") {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: d, ksCPU: G.ksCPU,
                                             groupedLayout: Tensor(zeros: [2, 2], dtype: .int32).select(dim: 1, index: 0), c: d)
        },
        DenseRule(rule: "grouped_layout differing from ks_cpu without PSUM", argument: "grouped_layout") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.i32([256, 0]), c: d)
        },
        DenseRule(rule: "ks_cpu of the wrong length", argument: "ks_cpu") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: [256], groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "ks_cpu entry not a multiple of α", argument: "ks_cpu") {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: d, ksCPU: [100, 156], groupedLayout: G.i32([100, 156]), c: d)
        },
        DenseRule(rule: "ks_cpu absent without PSUM", argument: "ks_cpu") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: nil, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "ks_cpu empty without PSUM", argument: "ks_cpu") {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: d, ksCPU: [], groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "Σ ks_cpu differing from a's K rows", argument: "a") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: [128, 256], groupedLayout: G.i32([128, 256]), c: d)
        },
        DenseRule(rule: "a with another M", argument: "a") {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km + 1]), b: G.bf16([256, G.n]), d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "b with another ΣK", argument: "b") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: QuantizedTensor(data: G.fp8([128, G.n]), sf: G.f32([1, G.n])), d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "k-grouped a not contiguous", argument: "a") {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([G.km, 256]).transposed(), b: G.bf16([256, G.n]), d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "k-grouped a not FP8", argument: "a") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: QuantizedTensor(data: G.bf16([256, G.km]), sf: G.kA.sf), b: G.kB, d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "k-grouped BF16 b of another dtype", argument: "b") {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.f32([256, G.n]), d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "PSUM group ending before its aligned start", argument: "grouped_layout") {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: d, ksCPU: nil, groupedLayout: G.i32([100, 120]), c: d,
                                             usePsumLayout: true)
        },
        DenseRule(rule: "PSUM group ending past the K rows", argument: "grouped_layout") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: nil, groupedLayout: G.i32([128, 300]), c: d, usePsumLayout: true)
        },
        DenseRule(rule: "tn recipe gran_k not 32 or 128", argument: "recipe") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d, recipe: [1, 1, 64])
        },
        DenseRule(rule: "tn recipe not per token", argument: "recipe") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d, recipe: [1, 128, 128])
        },
        DenseRule(rule: "tn under strict SM90", argument: "arch", unsupported: true) {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d, settings: G.sm90, strictArch: true)
        },
        DenseRule(rule: "tn scales not powers of two", argument: "a_sf") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: QuantizedTensor(data: G.kA.data, sf: G.f32([2, G.km], 0.3)), b: G.kB, d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "tn scales with the wrong row count", argument: "b_sf") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: QuantizedTensor(data: G.kB.data, sf: G.f32([3, G.n])), d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "tn scales of another MN", argument: "a_sf") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: QuantizedTensor(data: G.kA.data, sf: G.f32([2, G.km + 4])), b: G.kB, d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "tn packed scales with too few rows", argument: "b_sf") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: G.kA, b: QuantizedTensor(data: G.kB.data, sf: Tensor(zeros: [1, G.n], dtype: .int32)), d: d,
                                          ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "tn packed scales with MN % 4 != 0", argument: "a_sf") {
            let d = Tensor(zeros: [2, 6, G.n], dtype: .float32)
            try kGroupedFP8GEMMContiguous(.tn, a: QuantizedTensor(data: G.fp8([256, 6]), sf: Tensor(zeros: [2, 6], dtype: .int32)), b: G.kB, d: d,
                                          ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "tn packed scales not contiguous", argument: "a_sf") {
            let d = G.kD
            let sf = try Tensor(zeros: [G.km, 2], dtype: .int32).transposed()
            try kGroupedFP8GEMMContiguous(.tn, a: QuantizedTensor(data: G.kA.data, sf: sf), b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "tn packed scales without rows", argument: "a_sf") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.tn, a: QuantizedTensor(data: G.kA.data, sf: Tensor(zeros: [0, G.km], dtype: .int32)), b: G.kB, d: d,
                                          ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "layout neither tn nor nt", argument: "layout") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nn, a: G.kA, b: G.kB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "nt recipe not (1, 1, 128)", argument: "recipe") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: G.flatA, b: G.flatB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d, recipe: [1, 1, 32])
        },
        DenseRule(rule: "nt with PSUM", argument: "use_psum_layout") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: G.flatA, b: G.flatB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d, usePsumLayout: true)
        },
        DenseRule(rule: "nt without ks_cpu", argument: "ks_cpu") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: G.flatA, b: G.flatB, d: d, ksCPU: [], groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "nt K not a multiple of 128", argument: "ks_cpu") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: G.flatA, b: G.flatB, d: d, ksCPU: [64, 192], groupedLayout: G.i32([64, 192]), c: d)
        },
        DenseRule(rule: "nt a with another element count", argument: "a") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: QuantizedTensor(data: G.fp8([255 * G.km]), sf: G.flatA.sf), b: G.flatB, d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "nt b not contiguous", argument: "b") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: G.flatA, b: QuantizedTensor(data: G.fp8([G.n, 256]).transposed(), sf: G.flatB.sf), d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "nt under strict SM100", argument: "arch", unsupported: true) {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: G.flatA, b: G.flatB, d: d, ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d, settings: G.sm100, strictArch: true)
        },
        DenseRule(rule: "nt scales not F32", argument: "a_sf") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: QuantizedTensor(data: G.flatA.data, sf: Tensor(zeros: [G.km, 2], dtype: .int32)), b: G.flatB, d: d,
                                          ksCPU: G.ksCPU, groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "nt scales of the wrong shape", argument: "b_sf") {
            let d = G.kD
            try kGroupedFP8GEMMContiguous(.nt, a: G.flatA, b: QuantizedTensor(data: G.flatB.data, sf: G.f32([G.n, 3])), d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: d)
        },
        DenseRule(rule: "BF16 k-grouped PSUM under strict SM90", argument: "use_psum_layout", unsupported: true) {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: d, ksCPU: G.ksCPU, groupedLayout: G.i32([128, 256]), c: d,
                                             usePsumLayout: true, settings: G.sm90, strictArch: true)
        },
        DenseRule(rule: "BF16 k-grouped K % 128 under strict SM90", argument: "ks_cpu", unsupported: true) {
            let d = G.kD
            try kGroupedBF16GEMMTNContiguous(a: G.bf16([256, G.km]), b: G.bf16([256, G.n]), d: d, ksCPU: [64, 192], groupedLayout: G.i32([64, 192]), c: d,
                                             settings: DeepGEMMSettings(arch: .sm90, mkAlignmentForContiguousLayout: 64), strictArch: true)
        },
    ]

    @Test(arguments: contiguousRules + maskedRules + kGroupedRules)
    func ruleNamesItsArgument(_ rule: DenseRule) {
        #expect {
            try rule.call()
        } throws: { error in
            namesArgument(error, rule.argument, unsupported: rule.unsupported)
        }
    }

    @Test func rejectedCallsLeaveDUntouched() throws {
        // C is copied into D only after every check: bad scale factors must not leave D holding C.
        let d = Tensor.randn([2, G.km, G.n], dtype: .float32, seed: 3), before = d.clone()
        let c = Tensor.randn([2, G.km, G.n], dtype: .float32, seed: 4)
        #expect(throws: DeepGEMMError.self) {
            try kGroupedFP8GEMMContiguous(.tn, a: QuantizedTensor(data: G.kA.data, sf: G.f32([2, G.km], 0.3)), b: G.kB, d: d, ksCPU: G.ksCPU,
                                          groupedLayout: G.kLayout, c: c)
        }
        // A bad row deep in the layout is found before any group is computed.
        let md = Tensor.randn([G.m, G.n], dtype: .bfloat16, seed: 5), mBefore = md.clone()
        #expect(throws: DeepGEMMError.self) {
            try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([G.m, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: md,
                                           groupedLayout: G.i32([Int32](repeating: 0, count: G.m - 1) + [5]))
        }
        #expect(bitwiseMismatch(d, before) == nil)
        #expect(bitwiseMismatch(md, mBefore) == nil)
    }

    @Test func emptyMReturnsWithoutReadingTheLayout() throws {
        try mGroupedFP8FP4GEMMContiguous(.nt, a: QuantizedTensor(data: G.fp8([0, G.k]), sf: G.f32([0, 1])), b: G.b, d: G.d(rows: 0),
                                         groupedLayout: G.i32([]))
        try mGroupedBF16GEMMContiguous(.nt, a: G.bf16([0, G.k]), b: G.bf16([G.groups, G.n, G.k]), d: G.bf16([0, G.n]), groupedLayout: G.i32([]))
    }
}
