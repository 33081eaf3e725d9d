import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// The FP4 indexer on AMX-INT8 tiles (the `.amx` level where the process may use them) gives the
/// bits of the `.avx512` VNNI kernels and of the reference, prefill and paged, on inputs whose
/// blocks round differently in any other order: random E2M1 codes under scale bytes 2^-27...2^23
/// apart (and 0, 2^-127), partial lane groups and key windows of every shape. With NaN (byte 255)
/// and overflowing scales the NaN and infinite logits carry the `.avx512` bits too.
@Suite(.enabled(if: CPUFeatures.current.hasAMXINT8 && CPUKernelVariant.amx.isSupported, "needs AMX-INT8 tiles"))
struct MQAAMXTests {
    /// Overwrites every byte of `count` bytes at `start` with `byte(random)`.
    static func fill(_ start: UnsafeMutableRawPointer, count: Int, _ generator: inout SeededGenerator, _ byte: (UInt64) -> UInt8) {
        for i in 0..<count { start.storeBytes(of: byte(generator.next()), toByteOffset: i, as: UInt8.self) }
    }

    /// Any byte.
    static func anyByte(_ r: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: r) }
    /// Finite UE8M0 scale bytes far apart, with zeros (2^-127).
    static func wideScale(_ r: UInt64) -> UInt8 { r % 11 == 0 ? 0 : UInt8(100 + r % 50) }
    /// Scale bytes with NaN (255) and ones whose products overflow (250...254).
    static func extremeScale(_ r: UInt64) -> UInt8 { r % 5 == 0 ? 255 : UInt8(r % 5 == 1 ? 250 + r % 5 : 110 + r % 30) }

    /// Prefill inputs of random codes and scale bytes from `scale`.
    static func prefill(h: Int, d: Int, s: Int, skv: Int, seed: UInt64, scale: (UInt64) -> UInt8) throws -> MQAPrefillInputs {
        let inputs = try MQAPrefillInputs(format: .fp4, s: s, skv: skv, h: h, d: d, windows: MQAPrefillInputs.random(s: s, skv: skv, seed: seed),
                                          seed: seed &+ 1)
        var generator = SeededGenerator(seed: seed &+ 2)
        fill(inputs.q.dataPointer, count: inputs.q.count * inputs.q.dtype.size, &generator, anyByte)
        fill(inputs.kv.dataPointer, count: inputs.kv.count * inputs.kv.dtype.size, &generator, anyByte)
        let qSF = try #require(inputs.qSF)
        fill(qSF.dataPointer, count: qSF.count * 4, &generator, scale)
        fill(inputs.kvSF.dataPointer, count: inputs.kvSF.count * 4, &generator, scale)
        return inputs
    }

    /// `fp8_fp4_mqa_logits` on the CPU with `variant` and `threads`.
    static func run(_ inputs: MQAPrefillInputs, _ variant: CPUKernelVariant, threads: Int) throws -> Tensor {
        let problem = try MQALogitsProblem(q: inputs.q, qSF: inputs.qSF, kv: inputs.kv, kvSF: inputs.kvSF, weights: inputs.weights,
                                           cuSeqLenKStart: inputs.ks, cuSeqLenKEnd: inputs.ke, cleanLogits: true, maxSeqlenK: 0,
                                           logitsDType: .float32, rules: .union)
        return try MQALogitsCPU.run(problem, q: inputs.q, qSF: inputs.qSF, kv: inputs.kv, kvSF: inputs.kvSF, weights: inputs.weights,
                                    variant: variant, threads: threads)
    }

    /// Every head count and both head dims, SKV not a multiple of 16 or 32 (33, 45, 70) and one
    /// of several chunks (200).
    @Test(arguments: [(h: 8, d: 64, skv: 70), (16, 128, 45), (32, 64, 33), (64, 128, 200), (64, 64, 70), (8, 128, 200)])
    func prefillGivesTheReferenceAndVNNIBits(shape: (h: Int, d: Int, skv: Int)) throws {
        let inputs = try Self.prefill(h: shape.h, d: shape.d, s: 7, skv: shape.skv, seed: UInt64(shape.h * shape.d + shape.skv),
                                      scale: Self.wideScale)
        let amx = try Self.run(inputs, .amx, threads: 2)
        #expect(bitwiseMismatch(amx, try Self.run(inputs, .reference, threads: 1)) == nil, "reference \(shape)")
        #expect(bitwiseMismatch(amx, try Self.run(inputs, .avx512, threads: 1)) == nil, "avx512 \(shape)")
    }

    @Test func nanAndInfiniteScoresGiveTheVNNIBits() throws {
        let inputs = try Self.prefill(h: 64, d: 128, s: 9, skv: 150, seed: 31, scale: Self.extremeScale)
        let amx = try Self.run(inputs, .amx, threads: 2)
        #expect(bitwiseMismatch(amx, try Self.run(inputs, .avx512, threads: 2)) == nil)
        let values = amx.doubleValues()
        #expect(values.contains { $0.isNaN || $0 == .infinity }, "the inputs reach NaN or +inf logits")
    }

    /// Paged logits: next_n 1 and 2, pages of 32 and 64 keys, context lengths that end inside a
    /// page, -inf from each token's context length on (checked by the reference's bits).
    @Test(arguments: [(nextN: 1, h: 64, d: 128, blockKV: 64), (2, 16, 64, 32), (2, 64, 128, 32), (1, 8, 128, 64)], [false, true])
    func pagedGivesTheReferenceAndVNNIBits(shape: (nextN: Int, h: Int, d: Int, blockKV: Int), extreme: Bool) throws {
        let inputs = try PagedMQAInputs(format: .fp4, batch: 4, nextN: shape.nextN, h: shape.h, d: shape.d, blockKV: shape.blockKV,
                                        lengthRange: 1...170, seed: UInt64(91 + shape.h + shape.blockKV))
        var generator = SeededGenerator(seed: 93)
        let valueBytes = shape.d / 2
        for page in 0..<inputs.kvCache.size(0) {
            let base = inputs.kvCache.dataPointer + page * inputs.kvCache.stride(0)
            Self.fill(base, count: shape.blockKV * valueBytes, &generator, Self.anyByte)
            Self.fill(base + shape.blockKV * valueBytes, count: shape.blockKV * 4, &generator, extreme ? Self.extremeScale : Self.wideScale)
        }
        Self.fill(inputs.q.dataPointer, count: inputs.q.count * inputs.q.dtype.size, &generator, Self.anyByte)
        let qSF = try #require(inputs.qSF)
        Self.fill(qSF.dataPointer, count: qSF.count * 4, &generator, extreme ? Self.extremeScale : Self.wideScale)
        let amx = try PagedMQALogitsTests.runCPU(inputs, .amx, threads: 2)
        #expect(bitwiseMismatch(amx, try PagedMQALogitsTests.runCPU(inputs, .avx512, threads: 1)) == nil, "avx512 \(shape)")
        if !extreme {
            #expect(bitwiseMismatch(amx, try PagedMQALogitsTests.runCPU(inputs, .reference, threads: 1)) == nil, "reference \(shape)")
        }
    }
}
