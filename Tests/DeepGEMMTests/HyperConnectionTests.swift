import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// `tf32_hc_prenorm_gemm` (spec §13) against FP64 references with B rounded to TF32, and its rules.
@Suite struct HyperConnectionTests {
    /// FP64 `a · round_tf32(b)ᵀ` [M, N] and `Σ a²` [M] over the K columns `columns`.
    static func reference(_ a: Tensor, _ b: Tensor, columns: Range<Int>) -> (d: [Double], sqrSum: [Double]) {
        let (m, k, n) = (a.size(0), a.size(1), b.size(0))
        let x = a.doubleValues(), y = b.floatValues().map { Double(TF32.round($0)) }
        var d = [Double](), sqrSum = [Double]()
        for i in 0..<m {
            sqrSum.append(columns.reduce(0) { $0 + x[i * k + $1] * x[i * k + $1] })
            for j in 0..<n { d.append(columns.reduce(0) { $0 + x[i * k + $1] * y[j * k + $1] }) }
        }
        return (d, sqrSum)
    }

    @Test(arguments: [(13, 24, 448, Int?.none), (37, 24, 448, 3), (9, 128, 256, 4), (5, 8, 128, 16)])
    func summedSplitsMatchTheReference(m: Int, n: Int, k: Int, splits: Int?) throws {
        let a = Tensor.randn([m, k], dtype: .bfloat16, seed: 1), b = Tensor.randn([n, k], dtype: .float32, seed: 2)
        let s = splits ?? 1
        let d = Tensor.randn(splits == nil ? [m, n] : [s, m, n], dtype: .float32, seed: 3)
        let sqrSum = Tensor.randn(splits == nil ? [m] : [s, m], dtype: .float32, seed: 4)
        try tf32HCPrenormGEMM(a: a, b: b, d: d, sqrSum: sqrSum, numSplits: splits)

        let dValues = d.doubleValues(), sValues = sqrSum.doubleValues()
        let summedD = (0..<(m * n)).map { i in (0..<s).reduce(0) { $0 + dValues[$1 * m * n + i] } }
        let summedS = (0..<m).map { i in (0..<s).reduce(0) { $0 + sValues[$1 * m + i] } }
        let full = Self.reference(a, b, columns: 0..<k)
        #expect(max(calcDiff(summedD, full.d), calcDiff(summedS, full.sqrSum)) < 1e-8)

        // Each split holds the partial sums over its own 64-wide K blocks (base nkb/S, one more for the first nkb%S).
        let blocks = k / 64, base = blocks / s, extra = blocks % s
        for split in 0..<s {
            let first = split * base + min(split, extra), count = base + (split < extra ? 1 : 0)
            let part = Self.reference(a, b, columns: (first * 64)..<((first + count) * 64))
            let dSplit = Array(dValues[(split * m * n)..<((split + 1) * m * n)]), sSplit = Array(sValues[(split * m)..<((split + 1) * m)])
            for (actual, expected) in zip(dSplit + sSplit, part.d + part.sqrSum) {
                #expect(abs(actual - expected) <= 1e-5 * max(1, abs(expected)), "split \(split): \(actual) vs \(expected)")
            }
        }
    }

    @Test func bIsRoundedToTF32() throws {
        // b = 1 + 2^-12 rounds to 1 in TF32 (10-bit mantissa); a = 1 exactly.
        let a = try Tensor(converting: [Double](repeating: 1, count: 64), shape: [1, 64], dtype: .bfloat16)
        let b = try Tensor(converting: [Double](repeating: 1 + 0x1p-12, count: 8 * 64), shape: [8, 64], dtype: .float32)
        let d = Tensor(zeros: [1, 8], dtype: .float32), sqrSum = Tensor(zeros: [1], dtype: .float32)
        try tf32HCPrenormGEMM(a: a, b: b, d: d, sqrSum: sqrSum)
        #expect(d.doubleValues() == [Double](repeating: 64, count: 8))
        #expect(sqrSum.doubleValues() == [64])
    }

    @Test func emptyMWritesNothingAndStrictSM90LimitsN() throws {
        try tf32HCPrenormGEMM(a: Tensor(zeros: [0, 64], dtype: .bfloat16), b: Tensor(zeros: [8, 64], dtype: .float32),
                              d: Tensor(zeros: [0, 8], dtype: .float32), sqrSum: Tensor(zeros: [0], dtype: .float32))
        // N = 40 runs under the default (SM100) limit of 128.
        let d = Tensor(zeros: [2, 40], dtype: .float32)
        try tf32HCPrenormGEMM(a: Tensor.randn([2, 64], dtype: .bfloat16, seed: 5), b: Tensor.randn([40, 64], dtype: .float32, seed: 6),
                              d: d, sqrSum: Tensor(zeros: [2], dtype: .float32))
        #expect(d.doubleValues().contains { $0 != 0 })
    }

    /// Valid arguments M = 4, N = 16, K = 128 with one argument replaced.
    static func call(a: Tensor = Tensor(zeros: [4, 128], dtype: .bfloat16), b: Tensor = Tensor(zeros: [16, 128], dtype: .float32),
                     d: Tensor = Tensor(zeros: [4, 16], dtype: .float32), sqrSum: Tensor = Tensor(zeros: [4], dtype: .float32),
                     numSplits: Int? = nil, settings: DeepGEMMSettings = .default, strictArch: Bool = false) throws {
        try tf32HCPrenormGEMM(a: a, b: b, d: d, sqrSum: sqrSum, numSplits: numSplits, settings: settings, strictArch: strictArch)
    }

    static let rules: [DenseRule] = [
        DenseRule(rule: "a not K-major", argument: "a") { try call(a: Tensor(zeros: [128, 4], dtype: .bfloat16).transposed()) },
        DenseRule(rule: "b not K-major", argument: "b") { try call(b: Tensor(zeros: [128, 16], dtype: .float32).transposed()) },
        DenseRule(rule: "a not 2-D", argument: "a") { try call(a: Tensor(zeros: [1, 4, 128], dtype: .bfloat16)) },
        DenseRule(rule: "b not 2-D", argument: "b") { try call(b: Tensor(zeros: [16 * 128], dtype: .float32)) },
        DenseRule(rule: "sqr_sum not contiguous", argument: "sqr_sum") { try call(sqrSum: Tensor(zeros: [4, 2], dtype: .float32).select(dim: 1, index: 0)) },
        DenseRule(rule: "K of b differs", argument: "b") { try call(b: Tensor(zeros: [16, 64], dtype: .float32)) },
        DenseRule(rule: "num_splits below 1", argument: "num_splits") {
            try call(d: Tensor(zeros: [0, 4, 16], dtype: .float32), sqrSum: Tensor(zeros: [0, 4], dtype: .float32), numSplits: 0)
        },
        DenseRule(rule: "d not [M, N]", argument: "d") { try call(d: Tensor(zeros: [4, 8], dtype: .float32)) },
        DenseRule(rule: "d not [S, M, N] with splits", argument: "d") { try call(numSplits: 2) },
        DenseRule(rule: "sqr_sum not [M]", argument: "sqr_sum") { try call(sqrSum: Tensor(zeros: [5], dtype: .float32)) },
        DenseRule(rule: "sqr_sum not [S, M] with splits", argument: "sqr_sum") {
            try call(d: Tensor(zeros: [2, 4, 16], dtype: .float32), sqrSum: Tensor(zeros: [4], dtype: .float32), numSplits: 2)
        },
        DenseRule(rule: "d not row-major", argument: "d") { try call(d: Tensor(zeros: [16, 4], dtype: .float32).transposed()) },
        DenseRule(rule: "3-D d with splits not stacked densely", argument: "d") {
            try call(d: Tensor(zeros: [2, 4, 32], dtype: .float32).narrow(dim: 2, start: 0, length: 16), sqrSum: Tensor(zeros: [2, 4], dtype: .float32),
                     numSplits: 2)
        },
        DenseRule(rule: "N == 0", argument: "b") { try call(b: Tensor(zeros: [0, 128], dtype: .float32), d: Tensor(zeros: [4, 0], dtype: .float32)) },
        DenseRule(rule: "K == 0", argument: "a") { try call(a: Tensor(zeros: [4, 0], dtype: .bfloat16), b: Tensor(zeros: [16, 0], dtype: .float32)) },
        DenseRule(rule: "a not BF16", argument: "a") { try call(a: Tensor(zeros: [4, 128], dtype: .float32)) },
        DenseRule(rule: "b not F32", argument: "b") { try call(b: Tensor(zeros: [16, 128], dtype: .bfloat16)) },
        DenseRule(rule: "d not F32", argument: "d") { try call(d: Tensor(zeros: [4, 16], dtype: .bfloat16)) },
        DenseRule(rule: "sqr_sum not F32", argument: "sqr_sum") { try call(sqrSum: Tensor(zeros: [4], dtype: .bfloat16)) },
        DenseRule(rule: "K not a multiple of 64", argument: "a") {
            try call(a: Tensor(zeros: [4, 96], dtype: .bfloat16), b: Tensor(zeros: [16, 96], dtype: .float32))
        },
        DenseRule(rule: "N not a multiple of 8", argument: "b") {
            try call(b: Tensor(zeros: [12, 128], dtype: .float32), d: Tensor(zeros: [4, 12], dtype: .float32))
        },
        DenseRule(rule: "N above 128", argument: "b", unsupported: true) {
            try call(b: Tensor(zeros: [136, 128], dtype: .float32), d: Tensor(zeros: [4, 136], dtype: .float32))
        },
        DenseRule(rule: "N above 32 under strict SM90", argument: "b", unsupported: true) {
            try call(b: Tensor(zeros: [40, 128], dtype: .float32), d: Tensor(zeros: [4, 40], dtype: .float32),
                     settings: DeepGEMMSettings(arch: .sm90), strictArch: true)
        },
        DenseRule(rule: "rules checked also when M == 0", argument: "a") {
            try call(a: Tensor(zeros: [0, 96], dtype: .bfloat16), b: Tensor(zeros: [16, 96], dtype: .float32), d: Tensor(zeros: [0, 16], dtype: .float32),
                     sqrSum: Tensor(zeros: [0], dtype: .float32))
        },
    ]

    @Test(arguments: rules)
    func ruleNamesItsArgument(_ rule: DenseRule) {
        #expect {
            try rule.call()
        } throws: { error in
            namesArgument(error, rule.argument, unsupported: rule.unsupported)
        }
    }
}
