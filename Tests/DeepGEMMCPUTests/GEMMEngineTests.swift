import Foundation
import Testing
import DeepGEMMCore
import DeepGEMMTestSupport
@testable import DeepGEMMCPU

/// One operand of a test GEMM: its format, storage order and scales.
struct GEMMOperandSpec: Sendable, CustomStringConvertible {
    var format: GEMMElementFormat
    /// Storage with stride(0) == 1 instead of stride(1) == 1.
    var mnMajor = false
    /// For FP4: codes paired along K (else along the rows).
    var fp4AlongK = true
    /// Scale granularity (rows, K), or nil for an unscaled operand.
    var scales: (rows: Int, k: Int)?
    /// Storage with every stride doubled (a view that no fast packer handles).
    var spread = false
    /// Scales 2^e with e uniform in this range (UE8M0-like), instead of random floats in [1/4, 8).
    var scaleExponents: ClosedRange<Int>? = nil

    var description: String {
        var text = "\(format)"
        if format == .e2m1 { text += fp4AlongK ? "/k-packed" : "/mn-packed" }
        text += mnMajor ? "/mn-major" : "/k-major"
        if spread { text += "/spread" }
        if let scales { text += "/sf(\(scales.rows),\(scales.k))" }
        if let scaleExponents { text += "/2^[\(scaleExponents.lowerBound),\(scaleExponents.upperBound)]" }
        return text
    }

    /// A random operand of `rows` x `k` (values exercise every code; FP4 pad nibbles hold junk).
    func make(rows: Int, k: Int, seed: UInt64) throws -> GEMMOperand {
        var rng = SeededGenerator(seed: seed)
        var data: Tensor
        switch format {
        case .e4m3:
            let codes = (0..<rows * k).map { _ -> UInt8 in
                let code = UInt8(truncatingIfNeeded: rng.next())
                return code & 0x7F == 0x7F ? code ^ 1 : code  // no NaN
            }
            data = try Tensor(codes, shape: [rows, k]).viewing(as: .float8E4M3)
        case .bf16:
            data = Tensor.randn([rows, k], dtype: .bfloat16, seed: seed)
        case .f32:
            data = Tensor.randn([rows, k], dtype: .float32, seed: seed)
        case .e2m1:
            let shape = fp4AlongK ? [rows, (k + 1) / 2] : [(rows + 1) / 2, k]
            let bytes = (0..<shape[0] * shape[1]).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            data = try Tensor(bytes, shape: shape).viewing(as: .float4E2M1x2)
        }
        if mnMajor { data = try stridedCopy(of: data, strides: [spread ? 2 : 1, data.size(0) * (spread ? 2 : 1)]) }
        else if spread { data = try stridedCopy(of: data, strides: [data.size(1) * 2, 2]) }
        var grid: ScaleGrid?
        if let scales {
            let shape = [ceilDiv(rows, scales.rows), ceilDiv(k, scales.k)]
            let values = (0..<shape[0] * shape[1]).map { _ -> Float in
                if let scaleExponents {
                    let span = UInt64(scaleExponents.count)
                    return Float(sign: .plus, exponent: scaleExponents.lowerBound + Int(rng.next() % span), significand: 1)
                }
                return Float(1 + rng.nextUnit()) * Float(1 << (rng.next() % 5)) / 4
            }
            var tensor = try Tensor(values, shape: shape)
            if mnMajor { tensor = try stridedCopy(of: tensor, strides: [1, shape[0]]) }
            grid = try ScaleGrid(values: tensor, granRows: scales.rows, granK: scales.k)
        }
        return try GEMMOperand(format: format, rows: rows, k: k, data: data, fp4PackedAlongK: fp4AlongK, scales: grid)
    }
}

/// A pair of operand specs and the shapes to run them on.
struct GEMMCase: Sendable, CustomStringConvertible {
    var a: GEMMOperandSpec
    var b: GEMMOperandSpec
    var shapes: [(m: Int, n: Int, k: Int)]

    var description: String { "A \(a) x B \(b)" }

    /// Shapes with K tails (129, 200, 7*64+5), M = 1, N = 1 and 5 (B narrower than a vector: swapped
    /// roles), N not a multiple of any tile, and one case past the A block (192 rows) and the K chunk
    /// (512) so that B is packed up front and accumulated over several chunks.
    static let smallShapes: [(m: Int, n: Int, k: Int)] = [(1, 50, 129), (17, 1, 200), (40, 5, 100), (9, 100, 453), (30, 70, 64)]
    static let blockedShape: (m: Int, n: Int, k: Int) = (200, 60, 600)

    static let all: [GEMMCase] = {
        let fp8Token = GEMMOperandSpec(format: .e4m3, scales: (1, 128))
        let fp8Block = GEMMOperandSpec(format: .e4m3, scales: (128, 128))
        let fp4 = GEMMOperandSpec(format: .e2m1, scales: (1, 32))
        let shapes = smallShapes + [blockedShape]
        return [
            GEMMCase(a: fp8Token, b: fp8Block, shapes: shapes),
            GEMMCase(a: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 128)),
                     b: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (128, 128)), shapes: shapes),
            GEMMCase(a: fp8Token, b: fp4, shapes: shapes),
            GEMMCase(a: GEMMOperandSpec(format: .e4m3, mnMajor: true, scales: (1, 32)),
                     b: GEMMOperandSpec(format: .e2m1, mnMajor: true, fp4AlongK: false, scales: (1, 128)), shapes: smallShapes),
            GEMMCase(a: GEMMOperandSpec(format: .e2m1, mnMajor: true, fp4AlongK: false, scales: (1, 128)),
                     b: GEMMOperandSpec(format: .e2m1, scales: (1, 32)), shapes: smallShapes),
            GEMMCase(a: GEMMOperandSpec(format: .e2m1, mnMajor: true, fp4AlongK: true, scales: (1, 32)),
                     b: GEMMOperandSpec(format: .e2m1, mnMajor: false, fp4AlongK: false, scales: (32, 32)), shapes: smallShapes),
            GEMMCase(a: GEMMOperandSpec(format: .bf16), b: GEMMOperandSpec(format: .bf16), shapes: shapes),
            GEMMCase(a: GEMMOperandSpec(format: .bf16, mnMajor: true), b: GEMMOperandSpec(format: .bf16, mnMajor: true), shapes: smallShapes),
            GEMMCase(a: GEMMOperandSpec(format: .f32), b: GEMMOperandSpec(format: .f32, mnMajor: true), shapes: shapes),
            GEMMCase(a: GEMMOperandSpec(format: .f32, mnMajor: true), b: GEMMOperandSpec(format: .bf16), shapes: smallShapes),
            GEMMCase(a: GEMMOperandSpec(format: .e4m3, scales: (1, 128), spread: true),
                     b: GEMMOperandSpec(format: .bf16, mnMajor: true, spread: true), shapes: smallShapes),
        ]
    }()
}

@Suite struct GEMMEngineTests {
    static let fastVariants = CPUKernelVariant.supported.filter { $0 != .reference }

    /// `D = A·Bᵀ` in Double from the dequantized operands.
    static func fp64Product(_ a: GEMMOperand, _ b: GEMMOperand) -> [Double] {
        func dequantized(_ op: GEMMOperand) -> [Double] {
            (0..<op.rows).flatMap { r in (0..<op.k).map { Double(op.dequantized(row: r, k: $0)) } }
        }
        let left = dequantized(a), right = dequantized(b), k = a.k
        var out = [Double](repeating: 0, count: a.rows * b.rows)
        left.withUnsafeBufferPointer { x in
            right.withUnsafeBufferPointer { y in
                for i in 0..<a.rows {
                    for j in 0..<b.rows {
                        var sum = 0.0
                        for kk in 0..<k { sum += x[i * k + kk] * y[j * k + kk] }
                        out[i * b.rows + j] = sum
                    }
                }
            }
        }
        return out
    }

    /// Runs the engine into a fresh F32 D (or a copy of `initial` when accumulating).
    static func product(_ a: GEMMOperand, _ b: GEMMOperand, variant: CPUKernelVariant, dtype: DType = .float32,
                        initial: Tensor? = nil, threads: Int = CPUParallelism.threadCount) throws -> Tensor {
        let d = initial?.clone() ?? Tensor(zeros: [a.rows, b.rows], dtype: dtype)
        try GEMMEngine.run(a: a, b: b, d: d, accumulate: initial != nil, variant: variant, threads: threads)
        return d
    }

    @Test(arguments: GEMMCase.all)
    func everyVariantMatchesFP64(_ testCase: GEMMCase) throws {
        for (index, shape) in testCase.shapes.enumerated() {
            let a = try testCase.a.make(rows: shape.m, k: shape.k, seed: UInt64(2 * index + 1))
            let b = try testCase.b.make(rows: shape.n, k: shape.k, seed: UInt64(2 * index + 2))
            let expected = Self.fp64Product(a, b)
            let reference = try Self.product(a, b, variant: .reference)
            #expect(calcDiff(reference.doubleValues(), expected) < 1e-6, "reference \(shape)")
            for variant in Self.fastVariants {
                let got = try Self.product(a, b, variant: variant)
                #expect(calcDiff(got.doubleValues(), expected) < 1e-6, "\(variant) \(shape)")
                #expect(try calcDiff(got, reference) < 1e-10, "\(variant) vs reference \(shape)")
            }
        }
    }

    /// The FP32-FMA levels (`.avx2`, `.avx512f`, and `.avx512`/`.amx` when an operand is F32) give the same
    /// bits as each other, and every fast level gives the same bits on 1, 2, 3 and 7 threads, on the
    /// tails of ``GEMMCase/all`` (M, N past the tiles, K not a multiple of 128, MN-major, spread strides).
    @Test(arguments: GEMMCase.all)
    func bitIdenticalAcrossFMALevelsAndThreads(_ testCase: GEMMCase) throws {
        let hasF32 = testCase.a.format == .f32 || testCase.b.format == .f32
        let fmaLevels: [CPUKernelVariant] = ([.avx2, .avx512f] + (hasF32 ? [.avx512, .amx] : [])).filter(\.isSupported)
        for (index, shape) in (testCase.shapes + [(m: 70, n: 150, k: 300)]).enumerated() {
            let a = try testCase.a.make(rows: shape.m, k: shape.k, seed: UInt64(2 * index + 31))
            let b = try testCase.b.make(rows: shape.n, k: shape.k, seed: UInt64(2 * index + 32))
            if let first = fmaLevels.first {
                let expected = try Self.product(a, b, variant: first)
                for level in fmaLevels.dropFirst() {
                    #expect(try Self.product(a, b, variant: level).bitwiseEqual(expected), "\(level) vs \(first) \(shape)")
                }
            }
            for variant in Self.fastVariants {
                let one = try Self.product(a, b, variant: variant, threads: 1)
                for threads in [2, 3, 7] {
                    #expect(try Self.product(a, b, variant: variant, threads: threads).bitwiseEqual(one),
                            "\(variant) threads \(threads) \(shape)")
                }
            }
        }
    }

    /// `.amx` needs AMX-BF16 (and the OS grant) on top of AVX-512 BF16, `.avx512` AVX-512 BF16 and
    /// `.avx512f` only AVX-512 F/BW/VL/DQ; without `DG_CPU_KERNEL` the best level is the first
    /// supported of amx, avx512, avx512f, avx2; the GEMM description names the level's tile and
    /// `vdpbf16ps` / `tdpbf16ps` only where they run. The GEMM defaults to `avx512f` instead of
    /// `avx512` on Intel (the vendor read from /proc/cpuinfo where there is one) without AMX.
    @Test func kernelLevelsAndDescriptions() {
        let features = CPUFeatures.current
        #expect(CPUKernelVariant.amx.isSupported == features.hasAMXBF16)
        #expect(!features.hasAMXBF16 || features.hasAVX512BF16)
        // AMX also needs the OS's grant of the tile data, which a sandbox may refuse.
        #expect(!features.hasAMXBF16 || (features.names.contains("amx-tile") && features.names.contains("amx-bf16")))
        #expect(CPUKernelVariant.avx512.isSupported == features.hasAVX512BF16)
        #expect(CPUKernelVariant.avx512f.isSupported == features.hasAVX512)
        if ProcessInfo.processInfo.environment["DG_CPU_KERNEL"] == nil {
            let expected = [CPUKernelVariant.amx, .avx512, .avx512f, .avx2].first(where: \.isSupported) ?? .portable
            #expect(CPUKernelVariant.best == expected)
            // The GEMM's own default: the FP32-FMA level on Intel where the best level is avx512.
            let vendor = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains("GenuineIntel")
            if let vendor { #expect(features.isIntel == vendor) }
            #expect(CPUKernelVariant.bestForGEMM == (expected == .avx512 && features.isIntel ? .avx512f : expected))
        } else {
            #expect(CPUKernelVariant.bestForGEMM == CPUKernelVariant.best)
        }
        let tiles: [CPUKernelVariant: String] = [.reference: "6x8", .portable: "6x8", .avx2: "6x16", .avx512f: "8x48", .avx512: "8x48",
                                                 .amx: "32x32"]
        for variant in CPUKernelVariant.allCases {
            let text = GEMMEngine.kernelDescription(variant)
            #expect(text.hasPrefix(tiles[variant]!), "\(variant): \(text)")
            #expect(text.contains("vdpbf16ps") == (variant == .avx512), "\(variant): \(text)")
            #expect(text.contains("tdpbf16ps") == (variant == .amx), "\(variant): \(text)")
        }
    }

    /// Accumulation into an F32 D in place, into a column-narrowed view of a wider D, and into a
    /// transposed (column-major) D; the cells outside the view stay as they were.
    @Test(arguments: [GEMMCase.all[0], GEMMCase.all[2], GEMMCase.all[6]])
    func accumulatesIntoStridedViews(_ testCase: GEMMCase) throws {
        let (m, n, k) = (13, 70, 300)
        let a = try testCase.a.make(rows: m, k: k, seed: 5), b = try testCase.b.make(rows: n, k: k, seed: 6)
        let product = Self.fp64Product(a, b)
        for variant in CPUKernelVariant.supported {
            let wide = Tensor.randn([m, n + 9], dtype: .float32, seed: 7, scale: 32)
            let before = wide.clone()
            let narrowed = try wide.narrow(dim: 1, start: 4, length: n)
            let initial = narrowed.doubleValues()
            try GEMMEngine.run(a: a, b: b, d: narrowed, accumulate: true, variant: variant)
            #expect(calcDiff(narrowed.doubleValues(), zip(initial, product).map { $0 + $1 }) < 1e-6, "\(variant) narrowed")
            for (start, length) in [(0, 4), (n + 4, 5)] {
                let outside = try wide.narrow(dim: 1, start: start, length: length).doubleValues()
                #expect(try outside == before.narrow(dim: 1, start: start, length: length).doubleValues(), "\(variant) outside the view")
            }
            let columnMajor = try Tensor.randn([n, m], dtype: .float32, seed: 8).transposed()
            try GEMMEngine.run(a: a, b: b, d: columnMajor, accumulate: false, variant: variant)
            #expect(calcDiff(columnMajor.doubleValues(), product) < 1e-6, "\(variant) column-major")
        }
    }

    /// BF16 D with and without accumulation: each element within one BF16 rounding of the reference.
    @Test(arguments: [GEMMCase.all[0], GEMMCase.all[3], GEMMCase.all[6], GEMMCase.all[8]])
    func bf16OutputWithinOneRounding(_ testCase: GEMMCase) throws {
        let (m, n, k) = (21, 100, 260)
        let a = try testCase.a.make(rows: m, k: k, seed: 9), b = try testCase.b.make(rows: n, k: k, seed: 10)
        let product = Self.fp64Product(a, b)
        let initial = Tensor.randn([m, n], dtype: .bfloat16, seed: 11, scale: 32)
        for start in [nil, initial] {
            let reference = try Self.product(a, b, variant: .reference, dtype: .bfloat16, initial: start)
            let base = start?.doubleValues() ?? [Double](repeating: 0, count: m * n)
            let expected = zip(base, product).map { $0 + $1 }
            for variant in CPUKernelVariant.supported {
                let got = try Self.product(a, b, variant: variant, dtype: .bfloat16, initial: start).doubleValues()
                for (i, (x, y)) in zip(got, reference.doubleValues()).enumerated() {
                    // One BF16 rounding of the result and one of the product before the add.
                    let tolerance = (abs(expected[i]) + abs(product[i])) * 0x1p-8 + 1e-30
                    #expect(abs(x - y) <= tolerance, "\(variant) accumulate=\(start != nil) element \(i): \(x) vs \(y)")
                }
            }
        }
    }

    /// Empty M or N leaves D untouched; K = 0 writes zeros (or keeps D when accumulating).
    @Test func emptyShapes() throws {
        let spec = GEMMOperandSpec(format: .e4m3, scales: (1, 128))
        for variant in CPUKernelVariant.supported {
            for (m, n) in [(0, 5), (5, 0)] {
                let a = try spec.make(rows: m, k: 10, seed: 1), b = try spec.make(rows: n, k: 10, seed: 2)
                let d = Tensor(zeros: [m, n], dtype: .float32)
                try GEMMEngine.run(a: a, b: b, d: d, accumulate: false, variant: variant)
                #expect(d.count == 0)
            }
            let a = try spec.make(rows: 3, k: 0, seed: 1), b = try spec.make(rows: 4, k: 0, seed: 2)
            let d = Tensor.randn([3, 4], dtype: .float32, seed: 3)
            let before = d.doubleValues()
            try GEMMEngine.run(a: a, b: b, d: d, accumulate: true, variant: variant)
            #expect(d.doubleValues() == before, "\(variant) k=0 accumulate")
            try GEMMEngine.run(a: a, b: b, d: d, accumulate: false, variant: variant)
            #expect(d.doubleValues().allSatisfy { $0 == 0 }, "\(variant) k=0")
        }
    }

    /// Bad operands throw before D is touched.
    @Test func rejectsMismatchedArguments() throws {
        let spec = GEMMOperandSpec(format: .bf16)
        let a = try spec.make(rows: 4, k: 8, seed: 1), b = try spec.make(rows: 5, k: 8, seed: 2)
        let shortB = try spec.make(rows: 5, k: 6, seed: 3)
        let d = Tensor.randn([4, 5], dtype: .float32, seed: 4)
        let before = d.doubleValues()
        #expect(throws: DeepGEMMError.self) { try GEMMEngine.run(a: a, b: shortB, d: d, accumulate: false) }
        #expect(throws: DeepGEMMError.self) { try GEMMEngine.run(a: a, b: b, d: Tensor(zeros: [5, 4], dtype: .float32), accumulate: false) }
        #expect(throws: DeepGEMMError.self) { try GEMMEngine.run(a: a, b: b, d: Tensor(zeros: [4, 5], dtype: .int32), accumulate: false) }
        var wrongStorage = a
        wrongStorage.format = .f32
        #expect(throws: DeepGEMMError.self) { try GEMMEngine.run(a: wrongStorage, b: b, d: d, accumulate: false) }
        #expect(d.doubleValues() == before)
    }
}
