import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// FP64 references computed from the inputs alone (no library GEMM code), and the comparisons the
/// dense GEMM tests use.
enum DenseReference {
    /// Row-major [rows][k] values of a K-major [rows, k] operand given as FP8 or BF16 data, or as
    /// packed FP4 [rows, k/2], times its scales: F32 `sf` [ceil(rows/granMN), ceil(k/granK)], packed
    /// UE8M0 Int32 `sf` [rows, ceil(k/(4·granK))] (byte j%4 of word j/4 is the exponent of block j),
    /// or none.
    static func values(_ data: Tensor, sf: Tensor? = nil, granMN: Int = 1, granK: Int = 128) throws -> [[Double]] {
        let rows = data.size(0)
        let flat: [Double] = data.dtype == .int8 ? try data.unpackedFP4Values().map(Double.init) : data.doubleValues()
        let k = rows == 0 ? 0 : flat.count / rows
        let scale: (Int, Int) -> Double
        if let sf, sf.dtype == .int32 {
            let words = try sf.contiguous().elements(as: Int32.self), columns = sf.size(1)
            scale = { row, block in
                let byte = (UInt32(bitPattern: words[row * columns + block / 4]) >> (8 * UInt32(block % 4))) & 0xFF
                return Double(sign: .plus, exponent: Int(byte) - 127, significand: 1)
            }
        } else if let sf {
            let values = sf.doubleValues(), columns = sf.size(1)
            scale = { row, block in values[(row / granMN) * columns + block] }
        } else {
            scale = { _, _ in 1 }
        }
        return (0..<rows).map { row in (0..<k).map { flat[row * k + $0] * scale(row, $0 / granK) } }
    }

    /// `a · bᵀ` in FP64, and the sum of |products| of each element (the scale of FP32 rounding).
    static func product(_ a: [[Double]], _ b: [[Double]]) -> (values: [Double], magnitudes: [Double]) {
        var values: [Double] = [], magnitudes: [Double] = []
        for row in a {
            for column in b {
                var sum = 0.0, magnitude = 0.0
                for (x, y) in zip(row, column) {
                    sum += x * y
                    magnitude += abs(x * y)
                }
                values.append(sum)
                magnitudes.append(magnitude)
            }
        }
        return (values, magnitudes)
    }

    /// One BF16 unit in the last place at the magnitude of `x`.
    static func bf16ULP(_ x: Double) -> Double {
        let magnitude = max(abs(x), 0x1p-126)
        return Double(sign: .plus, exponent: Int(Float(magnitude).exponent) - 7, significand: 1)
    }

    /// Checks `d` against `acc + c` (FP64): F32 D by `calcDiff < 1e-6` and elementwise to FP32
    /// accumulation error; BF16 D elementwise within one BF16 rounding (two with C: the rounded
    /// product is added to C and rounded again), plus FP32 accumulation error.
    static func expectMatches(_ d: Tensor, product: (values: [Double], magnitudes: [Double]), c: [Double]? = nil,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let actual = d.doubleValues()
        let expected = c.map { zip($0, product.values).map(+) } ?? product.values
        #expect(actual.count == expected.count, sourceLocation: sourceLocation)
        if d.dtype == .float32 {
            #expect(calcDiff(actual, expected) < 1e-6, sourceLocation: sourceLocation)
        }
        var failures = 0
        for i in actual.indices where failures < 3 {
            let accumulation = 1e-5 * product.magnitudes[i] + 1e-30
            let rounding: Double
            if d.dtype == .bfloat16 {
                rounding = 0.5 * max(bf16ULP(expected[i]), bf16ULP(actual[i])) + (c == nil ? 0 : 0.5 * bf16ULP(product.values[i]))
            } else {
                rounding = 1e-6 * abs(expected[i])
            }
            if abs(actual[i] - expected[i]) > rounding + accumulation {
                failures += 1
                Issue.record("element \(i): \(actual[i]) vs reference \(expected[i])", sourceLocation: sourceLocation)
            }
        }
    }

    /// `calcDiff(d, a·bᵀ + c)` against the unquantized BF16 inputs, as DeepGEMM's tests measure.
    static func unquantizedDiff(_ d: Tensor, a: Tensor, b: Tensor, c: [Double]? = nil) throws -> Double {
        let product = Self.product(try values(a), try values(b)).values
        return calcDiff(d.doubleValues(), c.map { zip($0, product).map(+) } ?? product)
    }
}

/// How a test quantizes one operand: FP8 per token or per 128x128 block, or FP4 per token, with
/// F32 scales (powers of two when `ue8m0`) or packed UE8M0 Int32 scales.
enum Quantization: Sendable {
    case fp8PerToken(granK: Int, ue8m0: Bool)
    case fp8PerBlock(ue8m0: Bool)
    case fp4PerToken(granK: Int)
    case fp8PackedUE8M0(granK: Int)

    /// The nt-oriented `(data, sf)` of a BF16 [rows, k] matrix and the recipe pair `(gran_mn, gran_k)`.
    func apply(_ x: Tensor) throws -> (QuantizedTensor, [Int]) {
        switch self {
        case .fp8PerToken(let granK, let ue8m0): return (try perTokenCastToFP8(x, useUE8M0: ue8m0, granK: granK), [1, granK])
        case .fp8PerBlock(let ue8m0): return (try perBlockCastToFP8(x, useUE8M0: ue8m0), [128, 128])
        case .fp4PerToken(let granK):
            let q = try perTokenCastToFP4(x, useUE8M0: true, granK: granK)
            return (QuantizedTensor(data: try q.data.viewing(as: .int8), sf: q.sf), [1, granK])
        case .fp8PackedUE8M0(let granK):
            let q = try perTokenCastToFP8(x, useUE8M0: true, granK: granK)
            return (QuantizedTensor(data: q.data, sf: try getMNMajorTMAAlignedPackedUE8M0Tensor(q.sf)), [1, granK])
        }
    }

    /// True for FP4 data.
    var isFP4: Bool { if case .fp4PerToken = self { return true } else { return false } }
}

/// The argument a transposed layout takes for an nt-oriented operand: data and scales transposed
/// and laid out contiguously as DeepGEMM's tests do (packed FP4 repacked along the new rows;
/// packed UE8M0 scales as the transposed view of their MN-major layout).
func transposedArgument(_ q: QuantizedTensor) throws -> QuantizedTensor {
    let data = q.data.dtype == .int8 ? try transposePackedFP4(q.data).viewing(as: .int8) : try q.data.transposed().contiguous()
    let sf = q.sf.dtype == .int32 ? try q.sf.transposed() : try q.sf.transposed().contiguous()
    return QuantizedTensor(data: data, sf: sf)
}

/// Dense GEMMs (spec §4-§6, §9-§11) against FP64 references of their quantized inputs and against
/// the unquantized BF16 products with DeepGEMM's thresholds.
@Suite struct DenseGEMMTests {
    /// One FP8/FP4 GEMM case.
    struct ScaledCase: Sendable, CustomTestStringConvertible {
        var m: Int, n: Int, k: Int
        var a: Quantization, b: Quantization
        var layout: GEMMLayout
        var dtype: DType
        var withC = false
        var aliasC = false
        var useRecipePair = false
        var strictArch: ArchPersonality?
        var unquantizedThreshold: Double

        var testDescription: String {
            "\(layout) \(m)x\(n)x\(k) \(a)·\(b) -> \(dtype)\(withC ? (aliasC ? " c=d" : " +c") : "")\(strictArch.map { " \($0)" } ?? "")"
        }
    }

    static let scaledCases: [ScaledCase] = GEMMLayout.allCases.flatMap { layout in [
        // SM90-style 1D2D: arbitrary F32 scales, per-block B, BF16 D, K tail.
        ScaledCase(m: 17, n: 72, k: 200, a: .fp8PerToken(granK: 128, ue8m0: false), b: .fp8PerBlock(ue8m0: false), layout: layout,
                   dtype: .bfloat16, unquantizedThreshold: 1e-3),
        // 1D1D with C aliasing D (wgrad style), F32 D.
        ScaledCase(m: 20, n: 65, k: 256, a: .fp8PerToken(granK: 128, ue8m0: false), b: .fp8PerToken(granK: 128, ue8m0: false), layout: layout,
                   dtype: .float32, withC: true, aliasC: true, unquantizedThreshold: 1e-3),
        // FP8 x FP4 with recipe_a = (1, 128), recipe_b = (1, 32) and power-of-two scales, BF16 D with C.
        ScaledCase(m: 10, n: 96, k: 256, a: .fp8PerToken(granK: 128, ue8m0: true), b: .fp4PerToken(granK: 32), layout: layout,
                   dtype: .bfloat16, withC: true, useRecipePair: true, unquantizedThreshold: 1e-2),
    ] } + [
        // FP4 x FP4, F32 D, M = 1.
        ScaledCase(m: 1, n: 130, k: 192, a: .fp4PerToken(granK: 32), b: .fp4PerToken(granK: 32), layout: .nt, dtype: .float32,
                   useRecipePair: true, unquantizedThreshold: 2e-2),
        ScaledCase(m: 6, n: 40, k: 256, a: .fp4PerToken(granK: 32), b: .fp4PerToken(granK: 32), layout: .tn, dtype: .bfloat16,
                   useRecipePair: true, unquantizedThreshold: 2e-2),
        // Packed UE8M0 Int32 scales (default recipe (1, 1, 128)) under SM100's exact rules, MN-major through nn.
        ScaledCase(m: 12, n: 36, k: 640, a: .fp8PackedUE8M0(granK: 128), b: .fp8PackedUE8M0(granK: 128), layout: .nn, dtype: .bfloat16,
                   strictArch: .sm100, unquantizedThreshold: 1e-3),
        ScaledCase(m: 9, n: 44, k: 300, a: .fp8PackedUE8M0(granK: 32), b: .fp8PackedUE8M0(granK: 128), layout: .nt, dtype: .float32,
                   withC: true, useRecipePair: true, strictArch: .sm100, unquantizedThreshold: 1e-3),
        // SM90's two kernels under its exact rules.
        ScaledCase(m: 8, n: 160, k: 256, a: .fp8PerToken(granK: 128, ue8m0: false), b: .fp8PerBlock(ue8m0: false), layout: .nt,
                   dtype: .bfloat16, strictArch: .sm90, unquantizedThreshold: 1e-3),
        ScaledCase(m: 8, n: 100, k: 384, a: .fp8PerToken(granK: 128, ue8m0: false), b: .fp8PerToken(granK: 128, ue8m0: false), layout: .nt,
                   dtype: .float32, withC: true, strictArch: .sm90, unquantizedThreshold: 1e-3),
    ]

    @Test(arguments: scaledCases)
    func fp8FP4GEMMMatchesReferences(_ t: ScaledCase) throws {
        let x = Tensor.randn([t.m, t.k], dtype: .bfloat16, seed: 1), y = Tensor.randn([t.n, t.k], dtype: .bfloat16, seed: 2)
        let (a, recipeA) = try t.a.apply(x), (b, recipeB) = try t.b.apply(y)
        // D starts as garbage unless it is C itself, so a missing C copy or a stale D shows.
        let initial = Tensor.randn([t.m, t.n], dtype: t.dtype, seed: 3, scale: 32)
        let d = t.aliasC ? initial : Tensor.randn([t.m, t.n], dtype: t.dtype, seed: 4, scale: 32)
        let cValues = t.withC ? initial.doubleValues() : nil
        let c: Tensor? = t.withC ? initial : nil
        let recipe = t.useRecipePair ? nil : [recipeA[0], recipeB[0], recipeA[1]]
        let isPacked = a.sf.dtype == .int32
        try fp8FP4GEMM(t.layout, a: t.layout.transposesA ? transposedArgument(a) : a, b: t.layout.transposesB ? transposedArgument(b) : b,
                       d: d, c: c, recipe: isPacked && !t.useRecipePair ? nil : recipe,
                       recipeA: t.useRecipePair ? recipeA : nil, recipeB: t.useRecipePair ? recipeB : nil,
                       settings: DeepGEMMSettings(arch: t.strictArch ?? .sm100), strictArch: t.strictArch != nil)

        let product = DenseReference.product(try DenseReference.values(a.data, sf: a.sf, granMN: recipeA[0], granK: recipeA[1]),
                                             try DenseReference.values(b.data, sf: b.sf, granMN: recipeB[0], granK: recipeB[1]))
        DenseReference.expectMatches(d, product: product, c: cValues)
        #expect(try DenseReference.unquantizedDiff(d, a: x, b: y, c: cValues) < t.unquantizedThreshold)
    }

    @Test func aliasesAreTheSameFunctions() throws {
        // fp8_gemm_* are fp8_fp4_gemm_*: the nt call and the nn call on transposed B agree bit for bit.
        let (a, _) = try Quantization.fp8PerToken(granK: 128, ue8m0: true).apply(Tensor.randn([8, 256], dtype: .bfloat16, seed: 4))
        let (b, _) = try Quantization.fp8PerBlock(ue8m0: true).apply(Tensor.randn([64, 256], dtype: .bfloat16, seed: 5))
        let nt = Tensor(zeros: [8, 64], dtype: .bfloat16), nn = Tensor(zeros: [8, 64], dtype: .bfloat16)
        try fp8FP4GEMM(.nt, a: a, b: b, d: nt)
        try fp8FP4GEMM(.nn, a: a, b: transposedArgument(b), d: nn)
        #expect(bitwiseMismatch(nn, nt) == nil)
        #expect(nt.doubleValues().contains { $0 != 0 })
    }

    @Test func disableUE8M0CastKeepsFloatScalesInTheUnion() throws {
        let x = Tensor.randn([16, 256], dtype: .bfloat16, seed: 6), y = Tensor.randn([48, 256], dtype: .bfloat16, seed: 7)
        let (a, _) = try Quantization.fp8PerToken(granK: 128, ue8m0: false).apply(x)
        let (b, _) = try Quantization.fp8PerBlock(ue8m0: false).apply(y)
        let d = Tensor(zeros: [16, 48], dtype: .float32)
        try fp8FP4GEMM(.nt, a: a, b: b, d: d, disableUE8M0Cast: true)
        DenseReference.expectMatches(d, product: DenseReference.product(try DenseReference.values(a.data, sf: a.sf),
                                                                        try DenseReference.values(b.data, sf: b.sf, granMN: 128)))
    }

    @Test func trivialSizesFollowEarlyReturn() throws {
        func operand(_ rows: Int, _ k: Int) -> QuantizedTensor {
            QuantizedTensor(data: Tensor(zeros: [rows, k], dtype: .float8E4M3), sf: Tensor(zeros: [rows, (k + 127) / 128], dtype: .float32))
        }
        // k == 0: D = C (copied), or 0 without C; the scale factors are not looked at.
        let c = Tensor.randn([4, 6], dtype: .float32, seed: 10)
        let d = Tensor.randn([4, 6], dtype: .float32, seed: 11)
        try fp8FP4GEMM(.nt, a: operand(4, 0), b: operand(6, 0), d: d, c: c, recipe: [1, 1, 128])
        #expect(bitwiseMismatch(d, c) == nil)
        try fp8FP4GEMM(.nt, a: operand(4, 0), b: operand(6, 0), d: d, recipe: [7, 7, 7])
        #expect(d.doubleValues().allSatisfy { $0 == 0 })
        try bf16GEMM(.nt, a: Tensor(zeros: [4, 0], dtype: .bfloat16), b: Tensor(zeros: [6, 0], dtype: .bfloat16), d: d, c: c)
        #expect(bitwiseMismatch(d, c) == nil)
        // m == 0 or n == 0: C is not checked and nothing is written.
        try fp8FP4GEMM(.nt, a: operand(0, 128), b: operand(6, 128), d: Tensor(zeros: [0, 6], dtype: .bfloat16), c: Tensor(zeros: [0, 6], dtype: .int32))
        try cublasLtGEMM(.nt, a: Tensor(zeros: [6, 8], dtype: .bfloat16), b: Tensor(zeros: [0, 8], dtype: .bfloat16), d: Tensor(zeros: [6, 0], dtype: .int32))
    }

    @Test(arguments: GEMMLayout.allCases)
    func bf16GEMMMatchesReference(_ layout: GEMMLayout) throws {
        let (m, n, k) = (15, 70, 72)
        let a = Tensor.randn([m, k], dtype: .bfloat16, seed: 20), b = Tensor.randn([n, k], dtype: .bfloat16, seed: 21)
        let product = DenseReference.product(try DenseReference.values(a), try DenseReference.values(b))
        let argumentA = layout.transposesA ? try a.transposed().contiguous() : a
        let argumentB = layout.transposesB ? try b.transposed().contiguous() : b
        for dtype in [DType.bfloat16, .float32] {
            let d = Tensor(zeros: [m, n], dtype: dtype)
            try bf16GEMM(layout, a: argumentA, b: argumentB, d: d)
            DenseReference.expectMatches(d, product: product)
            #expect(try DenseReference.unquantizedDiff(d, a: a, b: b) < 1e-5)
            let accumulated = Tensor.randn([m, n], dtype: dtype, seed: 22, scale: 8), c = accumulated.doubleValues()
            try bf16GEMM(layout, a: argumentA, b: argumentB, d: accumulated, c: accumulated)
            DenseReference.expectMatches(accumulated, product: product, c: c)
        }
    }

    @Test(arguments: GEMMLayout.allCases)
    func cublasLtGEMMMatchesReference(_ layout: GEMMLayout) throws {
        let (m, n, k) = (17, 66, 100)
        let a = Tensor.randn([m, k], dtype: .bfloat16, seed: 30), b = Tensor.randn([n, k], dtype: .bfloat16, seed: 31)
        let product = DenseReference.product(try DenseReference.values(a), try DenseReference.values(b))
        let argumentA = layout.transposesA ? try a.transposed().contiguous() : a
        let argumentB = layout.transposesB ? try b.transposed().contiguous() : b
        let c = Tensor.randn([m, n], dtype: .float32, seed: 32), d = Tensor(zeros: [m, n], dtype: .float32)
        try cublasLtGEMM(layout, a: argumentA, b: argumentB, d: d, c: c)
        DenseReference.expectMatches(d, product: product, c: c.doubleValues())
        let bf16 = Tensor(zeros: [m, n], dtype: .bfloat16)
        try cublasLtGEMM(layout, a: argumentA, b: argumentB, d: bf16)
        DenseReference.expectMatches(bf16, product: product)
    }

    @Test(arguments: [(ArchPersonality?.none, [128, 64, 128], DType.bfloat16), (.sm100, [64, 32, 64], .float32), (.sm90, [64, 64, 64], .bfloat16),
                      (nil, [40, 8, 24], .float32)])
    func skipHeadMidWritesHeadsAroundTheGap(strict: ArchPersonality?, splits: [Int], dtype: DType) throws {
        let (left, mid, right) = (splits[0], splits[1], splits[2])
        let heads = 2, m = 4, k = 256, n = heads * (left + right)
        let x = Tensor.randn([m, k], dtype: .bfloat16, seed: 40), y = Tensor.randn([n, k], dtype: .bfloat16, seed: 41)
        let ue8m0 = strict == .sm100
        let (a, _) = try Quantization.fp8PerToken(granK: 128, ue8m0: ue8m0).apply(x)
        let (b, _) = try Quantization.fp8PerBlock(ue8m0: ue8m0).apply(y)
        let d = Tensor.randn([m, n + heads * mid], dtype: dtype, seed: 42)
        let before = d.doubleValues(), width = n + heads * mid
        try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d, headSplits: splits, settings: DeepGEMMSettings(arch: strict ?? .sm100), strictArch: strict != nil)

        let product = DenseReference.product(try DenseReference.values(a.data, sf: a.sf), try DenseReference.values(b.data, sf: b.sf, granMN: 128))
        let actual = d.doubleValues()
        var expected = before, magnitudes = [Double](repeating: 0, count: before.count)
        for row in 0..<m {
            for column in 0..<n {
                let head = column / (left + right), offset = column % (left + right)
                let target = row * width + head * (left + mid + right) + (offset < left ? offset : offset + mid)
                expected[target] = product.values[row * n + column]
                magnitudes[target] = product.magnitudes[row * n + column]
            }
        }
        DenseReference.expectMatches(d, product: (expected, magnitudes))
        #expect(calcDiff(actual, expected) < 1e-3)
        // The mid columns keep their contents exactly.
        for row in 0..<m {
            for head in 0..<heads {
                for column in 0..<mid {
                    let index = row * width + head * (left + mid + right) + left + column
                    #expect(actual[index] == before[index])
                }
            }
        }
    }
}
