import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// `fp8_fp4_mqa_logits` / `fp8_mqa_logits` on the CPU backend: values against FP64 and
/// unquantized references, output layouts, and bitwise stability.
@Suite struct MQALogitsTests {
    /// Runs the op on `inputs` with the given options.
    static func run(_ inputs: MQAPrefillInputs, clean: Bool = true, maxSeqlenK: Int = 0, logits: DType = .float32) throws -> Tensor {
        try fp8FP4MQALogits(q: (inputs.q, inputs.qSF), kv: (inputs.kv, inputs.kvSF), weights: inputs.weights,
                            cuSeqLenKStart: inputs.ks, cuSeqLenKEnd: inputs.ke, cleanLogits: clean, maxSeqlenK: maxSeqlenK,
                            logitsDType: logits)
    }

    @Test(arguments: [(MQAInputFormat.fp8, 32), (.fp8, 64), (.fp8, 128), (.fp4, 64), (.fp4, 128)])
    func matchesReferencesWithIdenticalMasks(format: MQAInputFormat, d: Int) throws {
        for (h, windows) in [(8, MQAPrefillInputs.causal(s: 24, skv: 96)), (16, MQAPrefillInputs.contextParallel(s: 24, skv: 96)),
                             (32, MQAPrefillInputs.random(s: 24, skv: 96, seed: 5)), (64, MQAPrefillInputs.random(s: 24, skv: 96, seed: 7))] {
            let inputs = try MQAPrefillInputs(format: format, s: 24, skv: 96, h: h, d: d, windows: windows, seed: UInt64(h * d))
            let logits = try Self.run(inputs)
            #expect(logits.shape == [24, 96] && logits.dtype == .float32)
            let actual = logits.doubleValues()
            let dequantized = maskedDiff(actual, try inputs.reference(q: inputs.qDeq, kv: inputs.kvDeq))
            #expect(dequantized.masksEqual, "-inf mask differs, \(format) H=\(h) D=\(d)")
            #expect(dequantized.diff < 1e-6, "vs FP64 dequantized: \(dequantized.diff), \(format) H=\(h) D=\(d)")
            let unquantized = maskedDiff(actual, try inputs.reference(q: inputs.qRaw, kv: inputs.kvRaw))
            #expect(unquantized.diff < (format == .fp8 ? 1e-3 : 2e-2), "vs unquantized: \(unquantized.diff), \(format) H=\(h) D=\(d)")
        }
    }

    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func compressedLogitsHoldEachWindowFromColumnZero(format: MQAInputFormat) throws {
        let windows = MQAPrefillInputs.random(s: 20, skv: 80, seed: 3)
        let inputs = try MQAPrefillInputs(format: format, s: 20, skv: 80, h: 16, d: 64, windows: windows, seed: 5)
        let longest = try (0..<20).map { try inputs.window($0).count }.max() ?? 0
        let compressed = try Self.run(inputs, clean: false, maxSeqlenK: longest)
        #expect(compressed.shape == [20, longest])
        #expect(compressed.stride(0) == align(align(longest, 256), 256))
        let full = try Self.run(inputs)
        #expect(try inputs.expanded(compressed, compressed: true) == full.doubleValues())
        // Columns past a row's window are -inf, not garbage.
        let values = compressed.doubleValues()
        for i in 0..<20 {
            let count = try inputs.window(i).count
            #expect(values[(i * longest + count)..<((i + 1) * longest)].allSatisfy { $0 == -.infinity })
        }
        #expect(throws: DeepGEMMError.self) { try Self.run(inputs, clean: true, maxSeqlenK: longest) }
    }

    @Test func outputViewsUseDeepGEMMRowStrides() throws {
        let inputs = try MQAPrefillInputs(format: .fp8, s: 10, skv: 300, h: 32, d: 32, windows: MQAPrefillInputs.causal(s: 10, skv: 300), seed: 1)
        let f32 = try Self.run(inputs)
        #expect(f32.shape == [10, 300] && f32.strides == [align(300 + 256, 256), 1])
        #expect(f32.storage.byteCount == align(10, 4) * align(556, 256) * 4)
        let bf16 = try Self.run(inputs, logits: .bfloat16)
        #expect(bf16.dtype == .bfloat16 && bf16.strides == [align(556, 512), 1])
        let compressed = try Self.run(inputs, clean: false, maxSeqlenK: 300, logits: .bfloat16)
        #expect(compressed.strides == [align(align(300, 256), 512), 1])
    }

    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func bf16WeightsAndLogitsFollowTheBF16Path(format: MQAInputFormat) throws {
        let windows = MQAPrefillInputs.causal(s: 16, skv: 64)
        for weightsBF16 in [false, true] {
            let inputs = try MQAPrefillInputs(format: format, s: 16, skv: 64, h: 32, d: 64, weightsBF16: weightsBF16, windows: windows, seed: 9)
            let logits = try Self.run(inputs, logits: .bfloat16)
            #expect(logits.dtype == .bfloat16)
            let result = maskedDiff(logits.doubleValues(), try inputs.reference(q: inputs.qDeq, kv: inputs.kvDeq))
            #expect(result.masksEqual)
            #expect(result.diff < 3e-5, "\(format) bf16 weights=\(weightsBF16): \(result.diff)")
        }
        let inputs = try MQAPrefillInputs(format: format, s: 4, skv: 16, h: 8, d: 64, weightsBF16: true, windows: MQAPrefillInputs.causal(s: 4, skv: 16), seed: 2)
        #expect { try Self.run(inputs, logits: .float32) } throws: { ($0 as? DeepGEMMError)?.argument == "logits_dtype" }
    }

    @Test func fp4HeadDim64IgnoresThePaddingScaleBytes() throws {
        let inputs = try MQAPrefillInputs(format: .fp4, s: 8, skv: 32, h: 8, d: 64, windows: MQAPrefillInputs.causal(s: 8, skv: 32), seed: 4)
        let expected = try Self.run(inputs)
        // Bytes 2 and 3 of every packed scale word are padding for D = 64.
        func scrambled(_ sf: Tensor) throws -> Tensor {
            try Tensor(sf.elements(as: Int32.self).map { $0 & 0xFFFF | Int32(bitPattern: 0x3C5A_0000) }, shape: sf.shape)
        }
        let qSF = try scrambled(#require(inputs.qSF)), kvSF = try scrambled(inputs.kvSF)
        let got = try fp8FP4MQALogits(q: (inputs.q, qSF), kv: (inputs.kv, kvSF), weights: inputs.weights,
                                      cuSeqLenKStart: inputs.ks, cuSeqLenKEnd: inputs.ke)
        #expect(bitwiseMismatch(got, expected) == nil)
    }

    @Test func legacyFP8FormMatchesTheGeneralOne() throws {
        let inputs = try MQAPrefillInputs(format: .fp8, s: 12, skv: 40, h: 16, d: 32, windows: MQAPrefillInputs.random(s: 12, skv: 40, seed: 8), seed: 6)
        let legacy = try fp8MQALogits(q: inputs.q, kv: (inputs.kv, inputs.kvSF), weights: inputs.weights,
                                      cuSeqLenKStart: inputs.ks, cuSeqLenKEnd: inputs.ke)
        #expect(bitwiseMismatch(legacy, try Self.run(inputs)) == nil)
    }

    @Test func emptyQueriesAndEmptyKeysGiveEmptyOrInfiniteRows() throws {
        let none = try MQAPrefillInputs(format: .fp8, s: 0, skv: 16, h: 8, d: 32, windows: [], seed: 1)
        #expect(try Self.run(none).shape == [0, 16])
        let noKeys = try MQAPrefillInputs(format: .fp8, s: 3, skv: 0, h: 8, d: 32, windows: [(0, 5), (0, 0), (2, 9)], seed: 1)
        #expect(try Self.run(noKeys).shape == [3, 0])
    }
}
