import Testing
import DeepGEMM
@testable import DeepGEMMCLI

/// The cast benchmarks run and report wall-clock and process CPU figures for the op and its copy peer.
@Suite struct CastBenchmarkSmokeTests {
    @Test(arguments: CastBenchmark.ops)
    func benchmarkReportsWallAndCPUTimes(op: String) throws {
        let result = try CastBenchmark.run(op: op, rows: 256, columns: 512, dtype: .bfloat16, granK: 128, useUE8M0: false)
        #expect(result.times.wall > 0 && result.times.cpu > 0 && result.copyTimes.wall > 0 && result.copyTimes.cpu > 0)
        #expect(result.cpuRatio == result.copyTimes.cpu / result.times.cpu)
        #expect(result.json.contains("\"cpu_seconds\":\(result.times.cpu)") && result.json.contains("\"cpu_ratio_to_copy\":"))
        #expect(result.table.contains("process CPU time per call"))
    }

    @Test func unknownOpsAreRejected() {
        #expect(throws: DeepGEMMError.self) {
            try CastBenchmark.run(op: "per_token_cast", rows: 8, columns: 128, dtype: .bfloat16, granK: 128, useUE8M0: false)
        }
    }
}
