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

    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func everyVariantMatchesTheReferenceBitForBit(format: MQAInputFormat) throws {
        let configurations: [(h: Int, d: Int, weightsBF16: Bool, logits: DType)] = [
            (8, 64, false, .float32), (16, 128, false, .bfloat16), (32, 64, true, .bfloat16),
        ] + (format == .fp8 ? [(8, 32, false, .float32)] : [])
        for c in configurations {
            let windows = MQAPrefillInputs.random(s: 9, skv: 70, seed: UInt64(c.h))
            let inputs = try MQAPrefillInputs(format: format, s: 9, skv: 70, h: c.h, d: c.d, weightsBF16: c.weightsBF16, windows: windows, seed: 11)
            let problem = try Self.problem(inputs, logits: c.logits)
            let expected = try Self.run(inputs, problem, variant: .reference, threads: 1)
            for variant in Self.variants where variant != .reference {
                let got = try Self.run(inputs, problem, variant: variant, threads: 2)
                #expect(bitwiseMismatch(got, expected) == nil, "\(variant) \(format) \(c)")
            }
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
