import ArgumentParser
import DeepGEMM
import DeepGEMMCUDA
import Foundation

/// `deepgemm jit indexer`: the SM90 lightning-indexer kernels on the GPU, checked against the CPU
/// backend (prefill and paged logits, the paged schedule), then timed on DeepGEMM's shapes.
struct JITIndexerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "indexer",
        abstract: "Verify the SM90 MQA logits kernels against the CPU backend (calc_diff < 1e-3, identical -inf masks, identical schedules), then time them.",
        discussion: """
        Bench figures: mean of --iterations calls between CUDA events (validation done once, outside the timed calls; \
        the clean pass included), TFLOPS = 2 * H * D * (query, key) pairs inside the windows / t. \
        scripts/device/torch_mqa_bench.py times the same shapes with a torch einsum reference, for the figures next to them.
        """
    )

    @Option(help: "Also write one JSON object per case to this file.")
    var json: String?

    @Option(help: "Timed calls per bench case.")
    var iterations: Int = 10

    @Flag(help: "Skip the verification cases.")
    var benchOnly = false

    /// The verification cases: both modes, head counts and dimensions, tails and empty windows.
    static let prefillChecks = [
        MQAPrefillCase(s: 37, skv: 700, h: 64, d: 128), MQAPrefillCase(s: 64, skv: 1024, h: 32, d: 64),
        MQAPrefillCase(s: 33, skv: 300, h: 32, d: 32), MQAPrefillCase(s: 50, skv: 900, h: 64, d: 128, maxSeqlenK: 600),
        MQAPrefillCase(s: 20, skv: 513, h: 64, d: 64, logitsDType: .bfloat16), MQAPrefillCase(s: 512, skv: 4096, h: 64, d: 128, causal: true),
    ]
    static let pagedChecks = [PagedMQACase(batch: 5, nextN: 1, h: 64, d: 128, maxContextLen: 1000),
                              PagedMQACase(batch: 7, nextN: 2, h: 32, d: 128, maxContextLen: 700),
                              PagedMQACase(batch: 16, nextN: 2, h: 64, d: 128, maxContextLen: 5000)]
    /// The timed cases: the indexer's prefill shape and DeepGEMM's decode shapes.
    static let prefillBench = [MQAPrefillCase(s: 4096, skv: 16384, h: 64, d: 128, causal: true),
                               MQAPrefillCase(s: 2048, skv: 8192, h: 64, d: 128, causal: true),
                               MQAPrefillCase(s: 4096, skv: 16384, h: 32, d: 64, causal: true)]
    static let pagedBench = [PagedMQACase(batch: 64, nextN: 1, h: 64, d: 128, maxContextLen: 16384),
                             PagedMQACase(batch: 64, nextN: 2, h: 64, d: 128, maxContextLen: 16384)]

    func run() throws {
        try runStage {
            let records = try JSONLines(path: json)
            let stream = CUDAStream.current(on: try CUDADevice.current())
            let sm90 = DeepGEMMSettings(arch: .sm90)
            var failures = 0
            func record(_ name: String, _ passed: Bool, _ summary: String, _ fields: [(String, JSONField)]) {
                if !passed { failures += 1 }
                emit("\(passed ? "PASS" : "FAIL") \(name): \(summary)")
                records.write([("stage", .text("indexer")), ("case", .text(name)), ("passed", .flag(passed))] + fields)
            }
            if !benchOnly {
                for testCase in Self.prefillChecks {
                    let x = try testCase.inputs()
                    let clean = testCase.maxSeqlenK == 0
                    let expected = try fp8FP4MQALogits(q: (x.q, nil), kv: (x.kv, x.kvSF), weights: x.weights, cuSeqLenKStart: x.ks, cuSeqLenKEnd: x.ke,
                                                       cleanLogits: clean, maxSeqlenK: testCase.maxSeqlenK, logitsDType: testCase.logitsDType)
                    let got = try fp8FP4MQALogits(q: (x.q.to(.cuda(0)), nil), kv: (x.kv.to(.cuda(0)), x.kvSF.to(.cuda(0))),
                                                  weights: x.weights.to(.cuda(0)), cuSeqLenKStart: x.ks.to(.cuda(0)), cuSeqLenKEnd: x.ke.to(.cuda(0)),
                                                  cleanLogits: clean, maxSeqlenK: testCase.maxSeqlenK, logitsDType: testCase.logitsDType)
                    let (difference, masks) = try logitsDifference(got, expected)
                    record(testCase.description, masks && difference < 1e-3, String(format: "calc_diff %.3e, masks %@", difference, masks ? "equal" : "DIFFER"),
                           [("diff", .number(difference))])
                }
                for testCase in Self.pagedChecks {
                    let x = try testCase.inputs()
                    let schedule = try getPagedMQALogitsMetadata(contextLens: x.contextLens, blockKV: 64, numSMs: 132, settings: sm90)
                    let deviceSchedule = try getPagedMQALogitsMetadata(contextLens: x.contextLens.to(.cuda(0)), blockKV: 64, numSMs: 132)
                    let sameSchedule = try deviceSchedule.to(.host).bitwiseEqual(schedule)
                    let expected = try fp8PagedMQALogits(q: x.q, kvCache: x.kvCache, weights: x.weights, contextLens: x.contextLens,
                                                         blockTable: x.blockTable, scheduleMeta: schedule, maxContextLen: testCase.maxContextLen,
                                                         numSMs: 132, settings: sm90)
                    let got = try fp8PagedMQALogits(q: x.q.to(.cuda(0)), kvCache: x.kvCache.to(.cuda(0)), weights: x.weights.to(.cuda(0)),
                                                    contextLens: x.contextLens.to(.cuda(0)), blockTable: x.blockTable.to(.cuda(0)),
                                                    scheduleMeta: deviceSchedule, maxContextLen: testCase.maxContextLen, numSMs: 132)
                    let (difference, masks) = try logitsDifference(got, expected)
                    record(testCase.description, sameSchedule && masks && difference < 1e-3,
                           String(format: "schedule %@, calc_diff %.3e, masks %@", sameSchedule ? "equal" : "DIFFERS", difference, masks ? "equal" : "DIFFER"),
                           [("diff", .number(difference))])
                }
            }
            for testCase in Self.prefillBench {
                let x = try testCase.inputs()
                let problem = try MQALogitsProblem(q: x.q, qSF: nil, kv: x.kv, kvSF: x.kvSF, weights: x.weights, cuSeqLenKStart: x.ks,
                                                   cuSeqLenKEnd: x.ke, cleanLogits: true, maxSeqlenK: 0, logitsDType: .float32,
                                                   rules: MQARules(settings: sm90, strictArch: true))
                let (q, kv, kvSF, weights, ks, ke) = try (x.q.to(.cuda(0)), x.kv.to(.cuda(0)), x.kvSF.to(.cuda(0)), x.weights.to(.cuda(0)),
                                                          x.ks.to(.cuda(0)), x.ke.to(.cuda(0)))
                let seconds = try Self.time(iterations: iterations, stream: stream) {
                    _ = try CUDABackend.fp8MQALogits(problem, q: q, kv: kv, kvSF: kvSF, weights: weights, cuSeqLenKStart: ks, cuSeqLenKEnd: ke, stream: stream)
                }
                let tflops = try testCase.flops(ks: x.ks, ke: x.ke) / seconds / 1e12
                record(testCase.description, seconds > 0, String(format: "%.1f us, %.1f TFLOPS", seconds * 1e6, tflops),
                       [("op", .text("fp8_mqa_logits")), ("s", .number(Double(testCase.s))), ("skv", .number(Double(testCase.skv))),
                        ("h", .number(Double(testCase.h))), ("d", .number(Double(testCase.d))), ("seconds", .number(seconds)), ("tflops", .number(tflops))])
            }
            for testCase in Self.pagedBench {
                let x = try testCase.inputs()
                let schedule = try getPagedMQALogitsMetadata(contextLens: x.contextLens, blockKV: 64, numSMs: 132, settings: sm90)
                let problem = try PagedMQALogitsProblem(q: x.q, qSF: nil, kvCache: x.kvCache, weights: x.weights, contextLens: x.contextLens,
                                                        blockTable: x.blockTable, scheduleMeta: schedule, maxContextLen: testCase.maxContextLen,
                                                        cleanLogits: false, logitsDType: .float32, indices: nil, numSMs: 132, settings: sm90, strictArch: true)
                let (q, kvCache, weights, lens, table, meta) = try (x.q.to(.cuda(0)), x.kvCache.to(.cuda(0)), x.weights.to(.cuda(0)),
                                                                    x.contextLens.to(.cuda(0)), x.blockTable.to(.cuda(0)), schedule.to(.cuda(0)))
                let seconds = try Self.time(iterations: iterations, stream: stream) {
                    _ = try CUDABackend.fp8PagedMQALogits(problem, q: q, kvCache: kvCache, weights: weights, contextLens: lens, blockTable: table,
                                                          scheduleMeta: meta, numSMs: 132, hasIndices: false, stream: stream)
                }
                let tflops = try testCase.flops(contextLens: x.contextLens) / seconds / 1e12
                record(testCase.description, seconds > 0, String(format: "%.1f us, %.1f TFLOPS", seconds * 1e6, tflops),
                       [("op", .text("fp8_paged_mqa_logits")), ("b", .number(Double(testCase.batch))), ("next_n", .number(Double(testCase.nextN))),
                        ("h", .number(Double(testCase.h))), ("d", .number(Double(testCase.d))), ("ctx", .number(Double(testCase.maxContextLen))),
                        ("seconds", .number(seconds)), ("tflops", .number(tflops))])
            }
            emit("indexer: \(failures) failed")
            if failures > 0 { throw ExitCode(1) }
        }
    }

    /// Seconds per call of `body`: two warm-up calls, then `iterations` calls between CUDA events.
    static func time(iterations: Int, stream: CUDAStream, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<2 { try body() }
        let (start, end) = (try CUDAEvent(device: stream.device), try CUDAEvent(device: stream.device))
        try start.record(on: stream)
        for _ in 0..<max(iterations, 1) { try body() }
        try end.record(on: stream)
        return try end.milliseconds(since: start) / 1e3 / Double(max(iterations, 1))
    }
}
