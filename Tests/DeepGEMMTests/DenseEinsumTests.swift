import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// `einsum` and `fp8_einsum` (spec §11) against FP64 and FP32-accumulation references.
@Suite struct DenseEinsumTests {
    /// The FP32 sum of the products `terms` taken in order: DeepGEMM's reference for the `bh*`
    /// einsums rounds it once to BF16.
    static func floatSum(_ terms: [(Float, Float)]) -> Float {
        var sum: Float = 0
        for (x, y) in terms { sum += x * y }
        return sum
    }

    /// The BF16 tensor of `sums` rounded once.
    static func roundedOnce(_ sums: [Float], shape: [Int]) throws -> Tensor {
        try Tensor(converting: sums.map { Double(BFloat16($0).floatValue) }, shape: shape, dtype: .bfloat16)
    }

    /// BF16 [shape] of random values, or of small multiples of 1/8 whose FP32 sums are exact in any
    /// order while needing more than BF16's 8 bits (so the final rounding is exercised).
    static func input(_ shape: [Int], seed: UInt64, exactSums: Bool) throws -> Tensor {
        let random = Tensor.randn(shape, dtype: .bfloat16, seed: seed)
        guard exactSums else { return random }
        return try Tensor(converting: random.doubleValues().map { ($0 * 24).rounded() / 8 }, shape: shape, dtype: .bfloat16)
    }

    @Test(arguments: [false, true])
    func bhrHdrBhdIsFloatAccumulationRoundedOnce(exactSums: Bool) throws {
        let (batch, heads, r, width) = (3, 2, 96, 40)
        let a = try Self.input([batch, heads, r], seed: 50, exactSums: exactSums)
        // B is the leading r columns of a wider tensor, so its rows are not contiguous.
        let b = try Self.input([heads, width, r + 128], seed: 51, exactSums: exactSums).narrow(dim: 2, start: 0, length: r)
        let d = Tensor(zeros: [batch, heads, width], dtype: .bfloat16)
        try einsum("bhr,hdr->bhd", a: a, b: b, d: d)
        let av = a.floatValues(), bv = b.floatValues()
        var sums: [Float] = []
        for i in 0..<batch {
            for h in 0..<heads {
                for j in 0..<width {
                    sums.append(Self.floatSum((0..<r).map { (av[(i * heads + h) * r + $0], bv[(h * width + j) * r + $0]) }))
                }
            }
        }
        #expect(bitwiseMismatch(d, try Self.roundedOnce(sums, shape: [batch, heads, width])) == nil)
        // The sums need more bits than BF16 holds, so the final rounding matters.
        #expect(sums.contains { BFloat16($0).floatValue != $0 })
    }

    @Test(arguments: [false, true])
    func bhdHdrBhrIsFloatAccumulationRoundedOnce(exactSums: Bool) throws {
        let (batch, heads, depth, r) = (2, 3, 72, 50)
        let a = try Self.input([batch, heads, depth], seed: 52, exactSums: exactSums)
        let b = try Self.input([heads, depth, r], seed: 53, exactSums: exactSums)
        let d = Tensor(zeros: [batch, heads, r], dtype: .bfloat16)
        try einsum("bhd,hdr->bhr", a: a, b: b, d: d, useCublasLt: true)
        let av = a.floatValues(), bv = b.floatValues()
        var sums: [Float] = []
        for i in 0..<batch {
            for h in 0..<heads {
                for j in 0..<r {
                    sums.append(Self.floatSum((0..<depth).map { (av[(i * heads + h) * depth + $0], bv[(h * depth + $0) * r + j]) }))
                }
            }
        }
        #expect(bitwiseMismatch(d, try Self.roundedOnce(sums, shape: [batch, heads, r])) == nil)
    }

    @Test func bmkBnkMnSumsBatches() throws {
        let (s, m, n, k) = (2, 64, 64, 64)
        let a = Tensor.randn([s, m, k], dtype: .bfloat16, seed: 54), b = Tensor.randn([s, n, k], dtype: .bfloat16, seed: 55)
        var values = [Double](repeating: 0, count: m * n), magnitudes = values
        for batch in 0..<s {
            let product = DenseReference.product(try DenseReference.values(a.select(dim: 0, index: batch)),
                                                 try DenseReference.values(b.select(dim: 0, index: batch)))
            for i in values.indices {
                values[i] += product.values[i]
                magnitudes[i] += product.magnitudes[i]
            }
        }
        let bf16 = Tensor.randn([m, n], dtype: .bfloat16, seed: 56)
        try einsum("bmk,bnk->mn", a: a, b: b, d: bf16)
        DenseReference.expectMatches(bf16, product: (values, magnitudes))
        let accumulated = Tensor.randn([m, n], dtype: .float32, seed: 57), start = accumulated.doubleValues()
        try einsum("bmk,bnk->mn", a: a, b: b, d: accumulated, c: accumulated)
        DenseReference.expectMatches(accumulated, product: (values, magnitudes), c: start)
    }

    @Test(arguments: [(ArchPersonality?.none, false), (.sm100, true), (.sm90, false)])
    func fp8BhrHdrBhd(strict: ArchPersonality?, ue8m0: Bool) throws {
        let (batch, heads, r, width) = (4, 2, 256, 72)
        let x = Tensor.randn([batch, heads, r], dtype: .bfloat16, seed: 60), y = Tensor.randn([heads, width, r], dtype: .bfloat16, seed: 61)
        let xq = try perTokenCastToFP8(x.reshaped([-1, r]), useUE8M0: ue8m0)
        let a = QuantizedTensor(data: try xq.data.reshaped([batch, heads, r]), sf: try xq.sf.reshaped([batch, heads, 2]))
        let b = try Self.perBlockPerHead(y, ue8m0: ue8m0)
        let d = Tensor(zeros: [batch, heads, width], dtype: .bfloat16)
        try fp8Einsum("bhr,hdr->bhd", a: a, b: b, d: d, settings: DeepGEMMSettings(arch: strict ?? .sm100), strictArch: strict != nil)

        var expected = [Double](repeating: 0, count: d.count), magnitudes = expected, unquantized = expected
        for h in 0..<heads {
            let product = DenseReference.product(try DenseReference.values(a.data.select(dim: 1, index: h), sf: a.sf.select(dim: 1, index: h)),
                                                 try DenseReference.values(b.data.select(dim: 0, index: h), sf: b.sf.select(dim: 0, index: h), granMN: 128))
            let plain = DenseReference.product(try DenseReference.values(x.select(dim: 1, index: h)), try DenseReference.values(y.select(dim: 0, index: h)))
            for i in 0..<batch {
                for j in 0..<width {
                    let target = (i * heads + h) * width + j
                    (expected[target], magnitudes[target], unquantized[target]) = (product.values[i * width + j], product.magnitudes[i * width + j], plain.values[i * width + j])
                }
            }
        }
        DenseReference.expectMatches(d, product: (expected, magnitudes))
        #expect(calcDiff(d.doubleValues(), unquantized) < 1e-3)
    }

    @Test(arguments: [(ArchPersonality?.none, false), (.sm100, true)])
    func fp8BhdHdrBhr(strict: ArchPersonality?, ue8m0: Bool) throws {
        let (batch, heads, depth, r) = (3, 2, 256, 72)
        let x = Tensor.randn([batch, heads, depth], dtype: .bfloat16, seed: 62), y = Tensor.randn([heads, depth, r], dtype: .bfloat16, seed: 63)
        let xq = try perTokenCastToFP8(x.reshaped([-1, depth]), useUE8M0: ue8m0)
        let a = QuantizedTensor(data: try xq.data.reshaped([batch, heads, depth]), sf: try xq.sf.reshaped([batch, heads, 2]))
        let b = try Self.perBlockPerHead(y, ue8m0: ue8m0)
        let d = Tensor(zeros: [batch, heads, r], dtype: .float32)
        try fp8Einsum("bhd,hdr->bhr", a: a, b: b, d: d, settings: DeepGEMMSettings(arch: strict ?? .sm100), strictArch: strict != nil)

        var expected = [Double](repeating: 0, count: d.count), magnitudes = expected, unquantized = expected
        for h in 0..<heads {
            // y[h] is [depth, r] with per-block scales; the GEMM's B is its transpose.
            let yh = try DenseReference.values(b.data.select(dim: 0, index: h), sf: b.sf.select(dim: 0, index: h), granMN: 128)
            let yPlain = try DenseReference.values(y.select(dim: 0, index: h))
            let transposedY = (0..<r).map { j in (0..<depth).map { yh[$0][j] } }
            let transposedPlain = (0..<r).map { j in (0..<depth).map { yPlain[$0][j] } }
            let product = DenseReference.product(try DenseReference.values(a.data.select(dim: 1, index: h), sf: a.sf.select(dim: 1, index: h)), transposedY)
            let plain = DenseReference.product(try DenseReference.values(x.select(dim: 1, index: h)), transposedPlain)
            for i in 0..<batch {
                for j in 0..<r {
                    let target = (i * heads + h) * r + j
                    (expected[target], magnitudes[target], unquantized[target]) = (product.values[i * r + j], product.magnitudes[i * r + j], plain.values[i * r + j])
                }
            }
        }
        DenseReference.expectMatches(d, product: (expected, magnitudes))
        #expect(calcDiff(d.doubleValues(), unquantized) < 1e-3)
    }

    @Test(arguments: [(ArchPersonality?.none, false), (.sm100, true)])
    func fp8BhdBhrHdrAccumulatesIntoC(strict: ArchPersonality?, ue8m0: Bool) throws {
        let (batch, heads, depth, r) = (128, 2, 40, 24)
        let x = Tensor.randn([batch, heads, depth], dtype: .bfloat16, seed: 64), y = Tensor.randn([batch, heads, r], dtype: .bfloat16, seed: 65)
        let xq = try perChannelCastToFP8(x.reshaped([batch, -1]), useUE8M0: ue8m0)
        let yq = try perChannelCastToFP8(y.reshaped([batch, -1]), useUE8M0: ue8m0)
        let a = QuantizedTensor(data: try xq.data.reshaped([batch, heads, depth]), sf: try xq.sf.reshaped([1, heads, depth]))
        let b = QuantizedTensor(data: try yq.data.reshaped([batch, heads, r]), sf: try yq.sf.reshaped([1, heads, r]))
        let z = Tensor.randn([heads, depth, r], dtype: .float32, seed: 66, scale: 10), start = z.doubleValues()
        try fp8Einsum("bhd,bhr->hdr", a: a, b: b, d: z, c: z, recipe: [1, 1, 128], settings: DeepGEMMSettings(arch: strict ?? .sm100),
                      strictArch: strict != nil)

        let (xv, xs, yv, ys) = (a.data.doubleValues(), a.sf.doubleValues(), b.data.doubleValues(), b.sf.doubleValues())
        let xp = x.doubleValues(), yp = y.doubleValues()
        var expected: [Double] = [], magnitudes: [Double] = [], unquantized: [Double] = []
        for h in 0..<heads {
            for i in 0..<depth {
                for j in 0..<r {
                    var sum = 0.0, magnitude = 0.0, plain = 0.0
                    for s in 0..<batch {
                        let term = xv[(s * heads + h) * depth + i] * xs[h * depth + i] * yv[(s * heads + h) * r + j] * ys[h * r + j]
                        sum += term
                        magnitude += abs(term)
                        plain += xp[(s * heads + h) * depth + i] * yp[(s * heads + h) * r + j]
                    }
                    expected.append(sum)
                    magnitudes.append(magnitude)
                    unquantized.append(plain + start[(h * depth + i) * r + j])
                }
            }
        }
        DenseReference.expectMatches(z, product: (expected, magnitudes), c: start)
        #expect(calcDiff(z.doubleValues(), unquantized) < 1e-3)
    }

    /// `y` [H, rows, k] quantized per 128x128 block head by head: data [H, rows, k], sf [H, ceil(rows/128), ceil(k/128)].
    static func perBlockPerHead(_ y: Tensor, ue8m0: Bool) throws -> QuantizedTensor {
        let (heads, rows, k) = (y.size(0), y.size(1), y.size(2))
        let data = Tensor(zeros: [heads, rows, k], dtype: .float8E4M3)
        let sf = Tensor(zeros: [heads, (rows + 127) / 128, (k + 127) / 128], dtype: .float32)
        for h in 0..<heads {
            let q = try perBlockCastToFP8(y.select(dim: 0, index: h), useUE8M0: ue8m0)
            try data.select(dim: 0, index: h).copy(from: q.data)
            try sf.select(dim: 0, index: h).copy(from: q.sf)
        }
        return QuantizedTensor(data: data, sf: sf)
    }
}
