import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// The indexer kernels give the same bits on every kernel variant, thread count and run.
@Suite struct MQADeterminismTests {
    static let variants = CPUKernelVariant.supported

    static func problem(_ inputs: MQAPrefillInputs, logits: DType, maxSeqlenK: Int = 0) throws -> MQALogitsProblem {
        try MQALogitsProblem(q: inputs.q, qSF: inputs.qSF, kv: inputs.kv, kvSF: inputs.kvSF, weights: inputs.weights,
                             cuSeqLenKStart: inputs.ks, cuSeqLenKEnd: inputs.ke, cleanLogits: maxSeqlenK == 0, maxSeqlenK: maxSeqlenK,
                             logitsDType: logits, rules: .union)
    }

    static func run(_ inputs: MQAPrefillInputs, _ problem: MQALogitsProblem, variant: CPUKernelVariant, threads: Int) throws -> Tensor {
        try MQALogitsCPU.run(problem, q: inputs.q, qSF: inputs.qSF, kv: inputs.kv, kvSF: inputs.kvSF, weights: inputs.weights,
                             variant: variant, threads: threads)
    }

    /// Every head count and head dimension (the AVX2 tiles run 6 heads at a time, so 8, 16, 32 and
    /// 64 heads end on tiles of 2 or 4), with random windows (empty rows, unaligned starts, ends past
    /// SKV) over SKV = 70 (a partial last lane group).
    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func everyVariantMatchesTheReferenceBitForBit(format: MQAInputFormat) throws {
        let configurations: [(h: Int, d: Int, weightsBF16: Bool, logits: DType)] = [
            (8, 64, false, .float32), (16, 128, false, .bfloat16), (32, 64, true, .bfloat16), (64, 128, false, .float32),
            (64, 64, true, .bfloat16), (32, 128, false, .float32), (16, 64, false, .float32),
        ] + (format == .fp8 ? [(8, 32, false, .float32), (64, 32, false, .float32)] : [(8, 128, false, .float32)])
        for c in configurations {
            let windows = MQAPrefillInputs.random(s: 9, skv: 70, seed: UInt64(c.h + c.d))
            let inputs = try MQAPrefillInputs(format: format, s: 9, skv: 70, h: c.h, d: c.d, weightsBF16: c.weightsBF16, windows: windows, seed: 11)
            try Self.expectVariantsMatchReference(inputs, logits: c.logits, "\(format) \(c)")
        }
    }

    /// Inputs made of random bytes: every E4M3 code (subnormals, both zeros, the NaN codes, whose
    /// scores the ReLU turns to 0) and every E2M1 nibble decode as in the reference, and so do
    /// UE8M0 scale bytes of 0 (2^-127, a subnormal) among ordinary ones (255, NaN, is left out:
    /// NaN logits carry either operand's payload).
    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func everyInputCodeDecodesAsTheReferenceDoes(format: MQAInputFormat) throws {
        let (s, skv, h, d) = (6, 300, 16, 128)
        let inputs = try MQAPrefillInputs(format: format, s: s, skv: skv, h: h, d: d, windows: MQAPrefillInputs.random(s: s, skv: skv, seed: 2), seed: 3)
        var generator = SeededGenerator(seed: 4)
        func fill(_ tensor: Tensor, _ byte: (UInt64) -> UInt8) {
            let bytes = tensor.dataPointer.assumingMemoryBound(to: UInt8.self)
            for i in 0..<(tensor.count * tensor.dtype.size) { bytes[i] = byte(generator.next()) }
        }
        let anyByte = { (r: UInt64) in UInt8(truncatingIfNeeded: r) }
        let scaleByte = { (r: UInt64) in r % 8 == 0 ? UInt8(0) : UInt8(118 + r % 20) }
        fill(inputs.q, anyByte)
        fill(inputs.kv, anyByte)
        if format == .fp4 {
            fill(try #require(inputs.qSF), scaleByte)
            fill(inputs.kvSF, scaleByte)
        }
        try Self.expectVariantsMatchReference(inputs, logits: .float32, "\(format) random bytes")
    }

    /// Every fast variant (2 threads) gives the bits of the reference (1 thread).
    static func expectVariantsMatchReference(_ inputs: MQAPrefillInputs, logits: DType, _ label: String) throws {
        let problem = try Self.problem(inputs, logits: logits)
        let expected = try Self.run(inputs, problem, variant: .reference, threads: 1)
        for variant in Self.variants where variant != .reference {
            let got = try Self.run(inputs, problem, variant: variant, threads: 2)
            #expect(bitwiseMismatch(got, expected) == nil, "\(variant) \(label)")
        }
    }

    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func resultsDoNotDependOnThreadsOrRuns(format: MQAInputFormat) throws {
        let inputs = try MQAPrefillInputs(format: format, s: 40, skv: 200, h: 64, d: 128, windows: MQAPrefillInputs.causal(s: 40, skv: 200), seed: 21)
        for (logits, maxSeqlenK) in [(DType.float32, 0), (.bfloat16, 200)] {
            let problem = try Self.problem(inputs, logits: logits, maxSeqlenK: maxSeqlenK)
            let single = try Self.run(inputs, problem, variant: .best, threads: 1)
            for threads in [2, 3, 5] {
                #expect(bitwiseMismatch(try Self.run(inputs, problem, variant: .best, threads: threads), single) == nil, "threads \(threads)")
            }
            for _ in 0..<3 { #expect(bitwiseMismatch(try Self.run(inputs, problem, variant: .best, threads: 2), single) == nil) }
        }
    }
}
