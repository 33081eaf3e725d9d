import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// `fp8_fp4_paged_mqa_logits` / `fp8_paged_mqa_logits` on the CPU backend.
@Suite struct PagedMQALogitsTests {
    static func check(_ inputs: PagedMQAInputs, logits: DType = .float32, tolerance: Double = 1e-6, _ label: String) throws {
        let out = try inputs.run(logits: logits)
        #expect(out.shape == [inputs.lengths.count, inputs.maxContextLen] && out.dtype == logits, "\(label)")
        #expect(out.stride(0) == align(align(inputs.maxContextLen, 256), 1024 / logits.size), "\(label)")
        let result = maskedDiff(out.doubleValues(), inputs.reference())
        #expect(result.masksEqual, "-inf must start exactly at each token's context length, \(label)")
        #expect(result.diff < tolerance, "vs FP64 dequantized: \(result.diff), \(label)")
        let unquantized = maskedDiff(out.doubleValues(), inputs.reference(q: inputs.qRaw, keys: inputs.keyRaw))
        #expect(unquantized.diff < (inputs.format == .fp8 ? 1e-3 : 2e-2), "vs unquantized: \(unquantized.diff), \(label)")
    }

    @Test(arguments: [MQAInputFormat.fp8, .fp4], [32, 64])
    func matchesTheFP64ReferenceForEveryNextN(format: MQAInputFormat, blockKV: Int) throws {
        for nextN in 1...8 {
            let inputs = try PagedMQAInputs(format: format, batch: 3, nextN: nextN, h: nextN % 2 == 0 ? 16 : 8, d: 64, blockKV: blockKV,
                                            lengthRange: 1...150, seed: UInt64(nextN * blockKV))
            try Self.check(inputs, "\(format) block_kv=\(blockKV) next_n=\(nextN)")
        }
    }

    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func varlenRequestsReadTheirFirstTokensTableRow(format: MQAInputFormat) throws {
        let inputs = try PagedMQAInputs(format: format, batch: 0, runs: [1, 6, 3, 10, 2], h: 32, d: 128, blockKV: 64,
                                        lengthRange: 20...200, seed: 31)
        try Self.check(inputs, "\(format) varlen")
    }

    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func bf16PathsAndPaddedPages(format: MQAInputFormat) throws {
        for weightsBF16 in [false, true] {
            let inputs = try PagedMQAInputs(format: format, batch: 4, nextN: 2, h: 64, d: 64, blockKV: 32, lengthRange: 0...90,
                                            weightsBF16: weightsBF16, pagePadding: 64, seed: 41)
            try Self.check(inputs, logits: .bfloat16, tolerance: 3e-5, "\(format) bf16 weights=\(weightsBF16)")
        }
        let wide = try PagedMQAInputs(format: format, batch: 2, nextN: 1, h: 8, d: 128, blockKV: 64, lengthRange: 100...130,
                                      pagePadding: 12, seed: 43)
        try Self.check(wide, "\(format) D=128 padded pages")
    }

    @Test func fp8HeadDim32AndLegacyForm() throws {
        let inputs = try PagedMQAInputs(format: .fp8, batch: 3, nextN: 2, h: 16, d: 32, blockKV: 64, lengthRange: 5...80, seed: 51)
        try Self.check(inputs, "fp8 D=32")
        let legacy = try fp8PagedMQALogits(q: inputs.q, kvCache: inputs.kvCache, weights: inputs.weights, contextLens: inputs.contextLens,
                                           blockTable: inputs.blockTable, scheduleMeta: inputs.metadata(), maxContextLen: inputs.maxContextLen)
        #expect(bitwiseMismatch(legacy, try inputs.run()) == nil)
    }

    @Test func sm90PersonalityUsesItsOwnScheduleAndSameValues() throws {
        let inputs = try PagedMQAInputs(format: .fp8, batch: 5, nextN: 2, h: 32, d: 64, blockKV: 64, lengthRange: 1...300, seed: 61)
        let sm90 = DeepGEMMSettings(arch: .sm90)
        #expect(bitwiseMismatch(try inputs.run(settings: sm90), try inputs.run()) == nil)
        // Metadata built for one personality does not fit the other.
        #expect {
            try fp8FP4PagedMQALogits(q: (inputs.q, nil), kvCache: inputs.kvCache, weights: inputs.weights, contextLens: inputs.contextLens,
                                     blockTable: inputs.blockTable, scheduleMeta: inputs.metadata(), maxContextLen: inputs.maxContextLen,
                                     settings: sm90)
        } throws: { ($0 as? DeepGEMMError)?.argument == "schedule_meta" }
    }

    /// Every variant and thread count gives the reference's bits, -inf from each token's context
    /// length on: next_n 1, 2 and 3, pages of 32 and 64 tokens, partial last pages.
    @Test(arguments: [MQAInputFormat.fp8, .fp4], [(nextN: 3, h: 16, d: 64, blockKV: 32), (1, 64, 128, 64), (2, 32, 128, 64), (2, 8, 64, 32)])
    func variantsThreadsAndRunsGiveTheSameBits(format: MQAInputFormat, shape: (nextN: Int, h: Int, d: Int, blockKV: Int)) throws {
        let inputs = try PagedMQAInputs(format: format, batch: 6, nextN: shape.nextN, h: shape.h, d: shape.d, blockKV: shape.blockKV,
                                        lengthRange: 1...150, seed: UInt64(71 + shape.h))
        let expected = try Self.runCPU(inputs, .reference, threads: 1)
        let values = expected.doubleValues()
        for (t, length) in inputs.lengths.enumerated() {
            let row = values[(t * inputs.maxContextLen)..<((t + 1) * inputs.maxContextLen)]
            #expect(row.prefix(length).allSatisfy(\.isFinite) && row.dropFirst(length).allSatisfy { $0 == -.infinity }, "token \(t)")
        }
        for variant in CPUKernelVariant.supported {
            for threads in [1, 2, 4] {
                #expect(bitwiseMismatch(try Self.runCPU(inputs, variant, threads: threads), expected) == nil,
                        "\(variant) threads=\(threads) \(format) \(shape)")
            }
        }
    }

    /// q and cache values made of random bytes (every E4M3 code, the NaN codes among them, and
    /// every E2M1 nibble) go through each level's query and per-page key packing to the
    /// reference's bits, next_n 1 and 2, H = 64, D = 128.
    @Test(arguments: [MQAInputFormat.fp8, .fp4], [1, 2])
    func randomCodesGiveTheReferenceBitsOnEveryVariant(format: MQAInputFormat, nextN: Int) throws {
        let inputs = try PagedMQAInputs(format: format, batch: 3, nextN: nextN, h: 64, d: 128, blockKV: 64, lengthRange: 90...200,
                                        seed: UInt64(81 + nextN))
        var generator = SeededGenerator(seed: 83)
        let valueBytes = format == .fp8 ? inputs.d : inputs.d / 2
        let cache = inputs.kvCache.dataPointer.assumingMemoryBound(to: UInt8.self)
        for page in 0..<inputs.kvCache.size(0) {
            let values = cache + page * inputs.kvCache.stride(0)
            for i in 0..<(inputs.blockKV * valueBytes) { values[i] = UInt8(truncatingIfNeeded: generator.next()) }
        }
        let q = inputs.q.dataPointer.assumingMemoryBound(to: UInt8.self)
        for i in 0..<(inputs.q.count * inputs.q.dtype.size) { q[i] = UInt8(truncatingIfNeeded: generator.next()) }
        let expected = try Self.runCPU(inputs, .reference, threads: 1)
        for variant in CPUKernelVariant.supported where variant != .reference {
            #expect(bitwiseMismatch(try Self.runCPU(inputs, variant, threads: 2), expected) == nil, "\(variant) \(format) next_n=\(nextN)")
        }
    }

    /// Contexts of several kernel panels (the driver packs up to 128 KiB of a request's keys per
    /// call: 1024 FP4 keys of D = 128, 512 or 256 FP8 keys, 8 to 32 pages) and requests whose
    /// tokens end in different panels give the reference's bits on every variant and thread count
    /// (the share of requests a worker takes, and so which pages it prefetches, varies with both).
    @Test(arguments: [MQAInputFormat.fp8, .fp4], [32, 64])
    func contextsOfSeveralPanelsGiveTheReferenceBits(format: MQAInputFormat, blockKV: Int) throws {
        let inputs = try PagedMQAInputs(format: format, batch: 5, nextN: 2, h: 8, d: 128, blockKV: blockKV, lengthRange: 700...2300,
                                        seed: UInt64(91 + blockKV))
        let expected = try Self.runCPU(inputs, .reference, threads: 1)
        for variant in CPUKernelVariant.supported where variant != .reference {
            for threads in [1, 2, 3] {
                #expect(bitwiseMismatch(try Self.runCPU(inputs, variant, threads: threads), expected) == nil,
                        "\(variant) threads=\(threads) \(format) block_kv=\(blockKV)")
            }
        }
    }

    /// The CPU backend on `inputs` (float32 logits) with `variant` on `threads` threads.
    static func runCPU(_ inputs: PagedMQAInputs, _ variant: CPUKernelVariant, threads: Int) throws -> Tensor {
        let problem = try PagedMQALogitsProblem(q: inputs.q, qSF: inputs.qSF, kvCache: inputs.kvCache, weights: inputs.weights,
                                                contextLens: inputs.contextLens, blockTable: inputs.blockTable,
                                                scheduleMeta: inputs.metadata(), maxContextLen: inputs.maxContextLen, cleanLogits: false,
                                                logitsDType: .float32, indices: nil, numSMs: PagedMQASchedule.defaultNumSMs,
                                                settings: .default, strictArch: false)
        return try PagedMQALogitsCPU.run(problem, q: inputs.q, qSF: inputs.qSF, kvCache: inputs.kvCache, weights: inputs.weights,
                                         blockTable: inputs.blockTable, variant: variant, threads: threads)
    }
}
