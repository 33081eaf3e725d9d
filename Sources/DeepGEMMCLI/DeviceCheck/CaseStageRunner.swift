import ArgumentParser
import DeepGEMM
import DeepGEMMCUDA
import Foundation

/// Runs one case stage (smoke, verify or bench): each case's device work is polled under the
/// watchdog (a hang prints `HANG <stage> <case>` and ends the process with status 3), results are
/// checked against the CPU backend or timed, one line and one JSON object per case are written, and
/// any failed or erroring case makes the stage exit 1.
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
        for gemmCase in cases {
            let start = Date()
            let cachedBefore = DeviceCheckKernels.cachedCount(root: cacheRoot)
            var fields: [(String, JSONField)] = [("stage", .text(stage.rawValue)), ("case", .text(gemmCase.description)), ("op", .text(gemmCase.op))]
            var summary: String
            var passed = false
            do {
                let inputs = try GEMMCaseInputs(gemmCase, fast: stage == .bench)
                let prepared = try device.prepare(gemmCase, inputs: inputs)
                if stage == .bench {
                    try prepared.launchTimed(warmup: 3, iterations: iterations)
                } else {
                    try prepared.launch()
                }
                if try watchdog.wait(until: prepared.isFinished) == .hung {
                    records.write(fields + [("passed", .flag(false)), ("error", .text("HANG"))])
                    Watchdog.stopOnHang("\(stage.rawValue) \(gemmCase.description)", deadline: watchdog.deadline)
                }
                let measured = stage == .bench ? try timing(gemmCase, inputs: inputs, prepared: prepared)
                                               : try check(gemmCase, inputs: inputs, prepared: prepared)
                passed = measured.passed
                summary = measured.summary
                fields += measured.fields
            } catch {
                summary = "error: \(error)"
                fields.append(("error", .text("\(error)")))
            }
            if DeviceCheckKernels.cachedCount(root: cacheRoot) > cachedBefore {
                summary += " [JIT miss: a kernel was compiled during the stage; the precompile plan missed it]"
                fields.append(("jit_miss", .flag(true)))
            }
            if !passed { failures += 1 }
            fields.append(("passed", .flag(passed)))
            emit(String(format: "%@ %@: %@ (%.1f s)", passed ? "PASS" : "FAIL", gemmCase.description, summary, Date().timeIntervalSince(start)))
            records.write(fields)
        }
        emit("\(stage.rawValue): \(cases.count) cases, \(failures) failed")
        if failures > 0 { throw ExitCode(1) }
    }

    /// The case's D against the CPU backend's on the same inputs (DeepGEMM's `calc_diff` bound).
    private func check(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs, prepared: any PreparedCase)
        throws -> (passed: Bool, summary: String, fields: [(String, JSONField)]) {
        let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
        let difference = try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: try prepared.output(), expected: expected)
        return (difference < GEMMCaseCheck.tolerance, String(format: "calc_diff %.3e (bound %.0e)", difference, GEMMCaseCheck.tolerance),
                [("diff", .number(difference)), ("bound", .number(GEMMCaseCheck.tolerance))])
    }

    /// TFLOPS and GB/s of the timed calls, with what a peer needs to make the same operands.
    private func timing(_ gemmCase: GEMMCase, inputs: GEMMCaseInputs, prepared: any PreparedCase)
        throws -> (passed: Bool, summary: String, fields: [(String, JSONField)]) {
        let seconds = try prepared.secondsPerCall()
        let tflops = gemmCase.flops(validRows: inputs.validRows.reduce(0, +)) / seconds / 1e12
        let outputBytes = Double(inputs.d.count * inputs.d.dtype.size) * (gemmCase.accumulate ? 2 : 1)
        let gbps = (Double(inputs.a.count * 2 + inputs.b.count * 2) + outputBytes) / seconds / 1e9
        let fields: [(String, JSONField)] = [
            ("layout", .text(gemmCase.layout)), ("m", .number(Double(inputs.d.size(-2)))), ("n", .number(Double(gemmCase.n))),
            ("k", .number(Double(gemmCase.k))), ("groups", .number(Double(gemmCase.groups))),
            ("valid_rows", .numbers(inputs.validRows.map(Double.init))),
            ("out", .text(gemmCase.outputType == .float32 ? "f32" : "bf16")), ("accumulate", .flag(gemmCase.accumulate)),
            ("a_shape", .numbers(inputs.a.shape.map(Double.init))), ("b_shape", .numbers(inputs.b.shape.map(Double.init))),
            ("a_seed", .number(Double(GEMMCaseInputs.hashSeed(gemmCase.seed &+ 1)))),
            ("b_seed", .number(Double(GEMMCaseInputs.hashSeed(gemmCase.seed &+ 2)))),
            ("a_checksum", .number(Double(GEMMCaseInputs.checksum(inputs.a)))), ("b_checksum", .number(Double(GEMMCaseInputs.checksum(inputs.b)))),
            ("seconds", .number(seconds)), ("tflops", .number(tflops)), ("gbps", .number(gbps)),
        ]
        let passed = seconds.isFinite && seconds > 0
        return (passed, String(format: "%.1f us, %.1f TFLOPS, %.0f GB/s", seconds * 1e6, tflops, gbps), fields)
    }
}
