import DeepGEMMCore
import DeepGEMM
import Testing
@testable import DeepGEMMCUDA

/// The SM90 indexer kernels on the GPU against the CPU backend on the same FP8 inputs (skipped
/// without a device): the -inf masks must match exactly, the values within DeepGEMM's calc_diff < 1e-3,
/// and the schedule bit for bit.
@Suite("SM90 MQA logits on the GPU", .serialized, .enabled(if: isCUDAAvailable))
struct GPUMQALogitsTests {
    /// Full-width and compressed, both head counts, every head dimension, S not a multiple of the
    /// query block, windows past SKV, empty windows, BF16 logits, causal windows.
    static let cases = [
        MQAPrefillCase(s: 37, skv: 700, h: 64, d: 128), MQAPrefillCase(s: 64, skv: 1024, h: 32, d: 64),
        MQAPrefillCase(s: 33, skv: 300, h: 32, d: 32), MQAPrefillCase(s: 50, skv: 900, h: 64, d: 128, maxSeqlenK: 600),
        MQAPrefillCase(s: 20, skv: 513, h: 64, d: 64, logitsDType: .bfloat16), MQAPrefillCase(s: 300, skv: 1100, h: 64, d: 128, causal: true),
    ]

    @Test("prefill logits match the CPU backend", arguments: cases)
    func matchesCPU(testCase: MQAPrefillCase) throws {
        let x = try testCase.inputs()
        let clean = testCase.maxSeqlenK == 0
        let expected = try fp8FP4MQALogits(q: (x.q, nil), kv: (x.kv, x.kvSF), weights: x.weights, cuSeqLenKStart: x.ks, cuSeqLenKEnd: x.ke,
                                           cleanLogits: clean, maxSeqlenK: testCase.maxSeqlenK, logitsDType: testCase.logitsDType)
        let got = try fp8FP4MQALogits(q: (x.q.to(.cuda(0)), nil), kv: (x.kv.to(.cuda(0)), x.kvSF.to(.cuda(0))), weights: x.weights.to(.cuda(0)),
                                      cuSeqLenKStart: x.ks.to(.cuda(0)), cuSeqLenKEnd: x.ke.to(.cuda(0)),
                                      cleanLogits: clean, maxSeqlenK: testCase.maxSeqlenK, logitsDType: testCase.logitsDType)
        #expect(got.shape == expected.shape && got.strides == expected.strides)
        let (difference, masksMatch) = try logitsDifference(got, expected)
        #expect(masksMatch, "\(testCase): the -inf masks differ")
        #expect(difference < 1e-3, "\(testCase): calc_diff \(difference)")
    }

    @Test("bfloat16 weights throw unsupported on SM90")
    func unsupportedWeights() throws {
        let x = try MQAPrefillCase(s: 4, skv: 16, h: 32, d: 64).inputs()
        #expect(throws: DeepGEMMError.self) {
            _ = try fp8FP4MQALogits(q: (x.q.to(.cuda(0)), nil), kv: (x.kv.to(.cuda(0)), x.kvSF.to(.cuda(0))),
                                    weights: x.weights.converted(to: .bfloat16).to(.cuda(0)), cuSeqLenKStart: x.ks.to(.cuda(0)),
                                    cuSeqLenKEnd: x.ke.to(.cuda(0)), logitsDType: .bfloat16)
        }
    }

    /// Decode with one and two tokens, both head counts.
    static let pagedCases = [PagedMQACase(batch: 5, nextN: 1, h: 64, d: 128, maxContextLen: 1000),
                             PagedMQACase(batch: 7, nextN: 2, h: 32, d: 128, maxContextLen: 700),
                             PagedMQACase(batch: 3, nextN: 2, h: 64, d: 64, maxContextLen: 2100)]

    @Test("paged logits and their SM90 schedule match the CPU backend", arguments: pagedCases)
    func pagedMatchesCPU(testCase: PagedMQACase) throws {
        let x = try testCase.inputs()
        let sm90 = DeepGEMMSettings(arch: .sm90)
        let schedule = try getPagedMQALogitsMetadata(contextLens: x.contextLens, blockKV: 64, numSMs: 132, settings: sm90)
        let deviceSchedule = try getPagedMQALogitsMetadata(contextLens: x.contextLens.to(.cuda(0)), blockKV: 64, numSMs: 132)
        #expect(try deviceSchedule.to(.host).bitwiseEqual(schedule), "\(testCase): schedule")

        let expected = try fp8PagedMQALogits(q: x.q, kvCache: x.kvCache, weights: x.weights, contextLens: x.contextLens, blockTable: x.blockTable,
                                             scheduleMeta: schedule, maxContextLen: testCase.maxContextLen, numSMs: 132, settings: sm90)
        let got = try fp8PagedMQALogits(q: x.q.to(.cuda(0)), kvCache: x.kvCache.to(.cuda(0)), weights: x.weights.to(.cuda(0)),
                                        contextLens: x.contextLens.to(.cuda(0)), blockTable: x.blockTable.to(.cuda(0)),
                                        scheduleMeta: deviceSchedule, maxContextLen: testCase.maxContextLen, numSMs: 132)
        #expect(got.shape == expected.shape && got.strides == expected.strides)
        let (difference, masksMatch) = try logitsDifference(got, expected)
        #expect(masksMatch, "\(testCase): the -inf masks differ")
        #expect(difference < 1e-3, "\(testCase): calc_diff \(difference)")
    }
}
