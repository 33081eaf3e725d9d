import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI

/// The indexer benchmarks run and report GFLOPS. With `DG_MQA_BENCH=1` (in a release build) the
/// issue's shapes are timed and printed: S 2048, SKV 8192, H 64, D 128 causal, and paged
/// B 256, next_n 1, context 8192; `DG_MQA_BENCH_OPS=op,op` limits them to some ops.
@Suite struct MQABenchmarkSmokeTests {
    @Test(arguments: MQABenchmark.ops)
    func benchmarkRunsOnATinyShape(op: String) throws {
        let json = try MQABenchmark.run(op: op, s: 8, skv: 64, h: 8, d: 64, batch: 2, nextN: 2, context: 100, json: true)
        #expect(json.contains("\"op\":\"\(op)\"") && json.contains("\"gflops\":"))
        let table = try MQABenchmark.run(op: op, s: 8, skv: 64, h: 8, d: 64, batch: 2, nextN: 1, context: 64, json: false)
        #expect(table.contains("GFLOPS"))
    }

    @Test func unknownOpsAndBadShapesAreRejected() {
        #expect(throws: DeepGEMMError.self) { try MQABenchmark.run(op: "mqa", s: 8, skv: 64, h: 8, d: 64, batch: 1, nextN: 1, context: 64, json: true) }
        #expect(throws: DeepGEMMError.self) {
            try MQABenchmark.run(op: "fp8_mqa_logits", s: 80, skv: 64, h: 8, d: 64, batch: 1, nextN: 1, context: 64, json: true)
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["DG_MQA_BENCH"] == "1", "set DG_MQA_BENCH=1 to time the issue's shapes"))
    func issueShapes() throws {
        let selected = ProcessInfo.processInfo.environment["DG_MQA_BENCH_OPS"].map { $0.split(separator: ",").map(String.init) }
        for op in selected ?? MQABenchmark.ops {
            print(try MQABenchmark.run(op: op, s: 2048, skv: 8192, h: 64, d: 128, batch: 256, nextN: 1, context: 8192, json: true))
        }
    }
}
