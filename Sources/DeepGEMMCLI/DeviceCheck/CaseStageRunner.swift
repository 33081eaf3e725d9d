import ArgumentParser
import DeepGEMM
import DeepGEMMCUDA
import Foundation

/// Runs one case stage (smoke, verify or bench) over cases of any kind (``DeviceCheckCase``): each
/// case's device work is polled under the watchdog (a hang prints `HANG <stage> <case>` and ends
/// the process with status 3), outputs are compared with the CPU backend's by the case's rule or
/// timed, one line and one JSON object per case are written, and any failed or erroring case makes
/// the stage exit 1.
struct CaseStageRunner {
    /// The stage.
    let stage: DeviceCheckStage
    /// The shared options.
    let options: DeviceCheckOptions
    /// Timed calls per bench case.
    var iterations = 20

    func run() throws {
        let device = try options.device()
        let cases = options.cases(stage)
        let records = try JSONLines(path: options.json)
        let watchdog = Watchdog(deadline: options.caseDeadline)
        let cacheRoot = JITOptions.current.cacheDirectory
        emit("\(stage.rawValue): \(cases.count) cases on \(device.name), watchdog \(watchdog.deadline) s per case")
        var failures = 0
        for testCase in cases {
            let start = Date()
            let cachedBefore = DeviceCheckKernels.cachedCount(root: cacheRoot)
            var fields: [(String, JSONField)] = [("stage", .text(stage.rawValue)), ("case", .text(testCase.description)), ("op", .text(testCase.op))]
            var outcome: CaseVerdict
            do {
                outcome = try run(testCase, on: device, watchdog: watchdog, records: records, fields: fields)
            } catch {
                outcome = CaseVerdict(passed: false, summary: "error: \(error)", fields: [("error", .text("\(error)"))])
            }
            fields += outcome.fields
            if DeviceCheckKernels.cachedCount(root: cacheRoot) > cachedBefore {
                outcome.summary += " [JIT miss: a kernel was compiled during the stage; the precompile plan missed it]"
                fields.append(("jit_miss", .flag(true)))
            }
            if !outcome.passed { failures += 1 }
            fields.append(("passed", .flag(outcome.passed)))
            emit(String(format: "%@ %@: %@ (%.1f s)", outcome.passed ? "PASS" : "FAIL", testCase.description, outcome.summary,
                        Date().timeIntervalSince(start)))
            records.write(fields)
        }
        emit("\(stage.rawValue): \(cases.count) cases, \(failures) failed")
        if failures > 0 { throw ExitCode(1) }
    }

    /// Prepares, launches (timed calls on the bench stage) and waits for one case, then checks or times it;
    /// a hang writes the case's record with `fields` and ends the process.
    private func run<Case: DeviceCheckCase>(_ testCase: Case, on device: any CheckDevice, watchdog: Watchdog,
                                            records: JSONLines, fields: [(String, JSONField)]) throws -> CaseVerdict {
        let inputs = try testCase.makeInputs(fast: stage == .bench)
        let prepared = try device.prepare(testCase, inputs: inputs)
        if stage == .bench {
            try prepared.launchTimed(warmup: 3, iterations: iterations)
        } else {
            try prepared.launch()
        }
        if try watchdog.wait(until: prepared.isFinished) == .hung {
            records.write(fields + [("passed", .flag(false)), ("error", .text("HANG"))])
            Watchdog.stopOnHang("\(stage.rawValue) \(testCase.description)", deadline: watchdog.deadline)
        }
        guard stage == .bench else {
            let expected = try testCase.compared(try testCase.reference(inputs), inputs: inputs)
            return try testCase.comparison.verdict(try testCase.compared(try prepared.outputs(), inputs: inputs), expected)
        }
        return try timing(testCase.workload(inputs), seconds: try prepared.secondsPerCall())
    }

    /// TFLOPS and GB/s of the timed calls, with what a peer needs to make the same operands.
    private func timing(_ workload: CaseWorkload, seconds: Double) -> CaseVerdict {
        let tflops = workload.flops / seconds / 1e12, gbps = workload.bytes / seconds / 1e9
        let passed = seconds.isFinite && seconds > 0
        return CaseVerdict(passed: passed, summary: String(format: "%.1f us, %.1f TFLOPS, %.0f GB/s", seconds * 1e6, tflops, gbps),
                           fields: workload.fields + [("seconds", .number(seconds)), ("tflops", .number(tflops)), ("gbps", .number(gbps))])
    }
}
