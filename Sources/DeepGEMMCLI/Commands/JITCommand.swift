import ArgumentParser
import DeepGEMM
import DeepGEMMCUDA
import Foundation

/// `deepgemm jit ...`: the CUDA JIT's compile check, and on a GPU, verification and benchmarks.
struct JITCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jit",
        abstract: "Compile-check the CUDA kernels (no GPU needed); verify and benchmark them on a GPU.",
        subcommands: [JITCompileCommand.self, JITVerifyCommand.self, JITBenchCommand.self]
    )
}

/// `deepgemm jit compile --arch sm_90a [--op NAME]...`.
struct JITCompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Compile every kernel configuration the heuristics pick for DeepGEMM's test shapes, without a GPU.",
        discussion: """
        Plans DeepGEMM's representative problems for the architecture, compiles each distinct kernel with NVRTC \
        (found through DG_CUDA_HOME, CUDA_HOME or Python's nvidia-cuda-nvrtc wheel, with the CUDA headers) and \
        prints registers, shared memory and spills per kernel. Exits non-zero on any compile error, spill or local \
        memory use.
        """
    )

    @Option(help: "Target architecture: \(CUDAArchitecture.allCases.map(\.rawValue).joined(separator: " or ")).")
    var arch: String

    @Option(name: .customLong("op"), help: "Only this DeepGEMM op (repeatable), e.g. bf16_gemm_nt.")
    var ops: [String] = []

    @Option(name: .customLong("num-sms"), help: "SM count the heuristics plan for (132 on H100/H200).")
    var numSMs: Int = 132

    @Option(help: "Concurrent compiles (default: the number of CPU cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        do {
            guard let architecture = CUDAArchitecture(rawValue: arch) else {
                throw DeepGEMMError.invalidArgument(argument: "--arch", rule: "must be one of \(CUDAArchitecture.allCases.map(\.rawValue)), got '\(arch)'")
            }
            let known = RepresentativeProblems.ops(for: architecture)
            for op in ops where !known.contains(op) {
                throw DeepGEMMError.invalidArgument(argument: "--op", rule: "'\(op)' has no \(arch) kernels; known: \(known.joined(separator: ", "))")
            }
            let planned = try KernelCompileCheck.plan(for: architecture, ops: Set(ops), numSMs: numSMs)
            if planned.isEmpty {
                print("\(arch): no kernel families are implemented for this architecture yet; nothing to compile")
                return
            }
            let compiler = try NVRTCCompiler.shared.get()
            print("\(arch): \(planned.count) kernels with NVRTC \(compiler.version) (\(compiler.libraryPath)), headers \(compiler.includeDirectory)")
            let start = Date()
            let rows = KernelCompileCheck.compile(planned, for: architecture, compiler: compiler, jobs: jobs)
            let header = ["#", "family", "block", "cluster", "stages", "threads", "smem", "regs", "spill st/ld", "stack", "time", "problems"]
            let widths = [3, 15, 12, 7, 6, 7, 8, 5, 11, 5, 6, 0]
            func line(_ cells: [String]) -> String {
                zip(cells, widths).map { cell, width in cell.count >= width ? cell : cell + String(repeating: " ", count: width - cell.count) }.joined(separator: " ")
            }
            print(line(header))
            for (index, row) in rows.enumerated() {
                let config = row.config
                let report = row.report
                print(line([
                    "\(index + 1)", row.family, "\(config.blockM)x\(config.blockN)x\(config.blockK)", "\(config.clusterM)x\(config.clusterN)",
                    "\(config.numStages)", "\(config.numThreads)", "\(config.sharedMemoryBytes + (report?.staticSharedMemory ?? 0))",
                    report?.registers.map(String.init) ?? "-", report.map { "\($0.spillStores)/\($0.spillLoads)" } ?? "-",
                    report.map { "\($0.stackFrame)" } ?? "-", String(format: "%.1fs", row.seconds), row.problems.joined(separator: "; "),
                ]))
                if let error = row.error { print("    error: \(error)") }
            }
            let failed = rows.filter { !$0.passed }
            print(String(format: "%d kernels, %d failed, %.1f s", rows.count, failed.count, Date().timeIntervalSince(start)))
            if !failed.isEmpty { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// `deepgemm jit verify`: every CUDA op against the CPU backend on the same random inputs (GPU needed).
struct JITVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run every CUDA op on the GPU and compare it with the CPU backend (calc_diff < 1e-5).",
        discussion: "Cases: \(GEMMCase.verification.count) (all BF16 GEMM ops and layouts, BF16/FP32 output, accumulation, grouped layouts, unaligned tails)."
    )

    @Option(help: "Also write one JSON object per case to this file.")
    var json: String?

    @Option(help: "Only cases whose description contains this text.")
    var filter: String?

    func run() throws {
        do {
            let stream = try CUDAStream(device: try CUDADevice.current())
            let cases = GEMMCase.verification.filter { filter.map($0.description.contains) ?? true }
            let records = try JSONLines(path: json)
            var failures = 0
            for (index, gemmCase) in cases.enumerated() {
                let start = Date()
                var difference = Double.nan
                var failure: String?
                do {
                    let inputs = try GEMMCaseInputs(gemmCase, seed: UInt64(index + 1))
                    let result = try GEMMCaseRunner(gemmCase, inputs: inputs, stream: stream).run()
                    let expected = try GEMMCaseCheck.reference(gemmCase, inputs: inputs, gemm: cpuGEMM)
                    difference = try GEMMCaseCheck.difference(gemmCase, inputs: inputs, result: result, expected: expected)
                } catch {
                    failure = "\(error)"
                }
                let passed = failure == nil && difference < GEMMCaseCheck.tolerance
                if !passed { failures += 1 }
                emit(String(format: "%@ %@ diff=%.3e (%.1fs)%@", passed ? "PASS" : "FAIL", gemmCase.description, difference,
                             Date().timeIntervalSince(start), failure.map { " error: \($0)" } ?? ""))
                records.write([("case", .text(gemmCase.description)), ("op", .text(gemmCase.op)), ("diff", .number(difference)),
                               ("passed", .flag(passed)), ("error", failure.map(JSONField.text) ?? .null)])
            }
            emit("\(cases.count) cases, \(failures) failed")
            if failures > 0 { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The CPU backend's GEMM on host views.
    private func cpuGEMM(_ a: Tensor, _ b: Tensor, _ d: Tensor, _ accumulate: Bool) throws {
        try GEMMEngine.run(a: gemmOperand(a, name: "a", scales: nil), b: gemmOperand(b, name: "b", scales: nil), d: d, accumulate: accumulate)
    }
}

/// `deepgemm jit bench`: TFLOPS of every CUDA op on DeepGEMM's test shapes (GPU needed).
struct JITBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the CUDA ops on DeepGEMM's BF16 test shapes (CUDA events, mean of --iterations calls).",
        discussion: "TFLOPS = 2·M·N·K / t over the valid rows; GB/s counts A, B and D (twice with accumulation) once each."
    )

    @Option(help: "Also write one JSON object per case to this file.")
    var json: String?

    @Option(help: "Timed calls per case.")
    var iterations: Int = 20

    @Option(help: "Only cases whose description contains this text.")
    var filter: String?

    func run() throws {
        do {
            let stream = try CUDAStream(device: try CUDADevice.current())
            let cases = GEMMCase.benchmark.filter { filter.map($0.description.contains) ?? true }
            let records = try JSONLines(path: json)
            for (index, gemmCase) in cases.enumerated() {
                do {
                    let inputs = try GEMMCaseInputs(gemmCase, seed: UInt64(index + 1), fast: true)
                    let seconds = try GEMMCaseRunner(gemmCase, inputs: inputs, stream: stream).time(iterations: max(iterations, 1))
                    let rows = inputs.validRows.reduce(0, +)
                    let tflops = gemmCase.flops(validRows: rows) / seconds / 1e12
                    let outputBytes = Double(inputs.d.count * inputs.d.dtype.size) * (gemmCase.accumulate ? 2 : 1)
                    let bytes = Double(inputs.a.count * 2 + inputs.b.count * 2) + outputBytes
                    emit(String(format: "%@: %.1f us, %.1f TFLOPS, %.0f GB/s", gemmCase.description, seconds * 1e6, tflops, bytes / seconds / 1e9))
                    records.write([
                        ("case", .text(gemmCase.description)), ("op", .text(gemmCase.op)), ("layout", .text(gemmCase.layout)),
                        ("m", .number(Double(inputs.d.size(-2)))), ("n", .number(Double(gemmCase.n))), ("k", .number(Double(gemmCase.k))),
                        ("groups", .number(Double(gemmCase.groups))), ("valid_rows", .numbers(inputs.validRows.map(Double.init))),
                        ("out", .text(gemmCase.outputType == .float32 ? "f32" : "bf16")), ("accumulate", .flag(gemmCase.accumulate)),
                        ("seconds", .number(seconds)), ("tflops", .number(tflops)), ("gbps", .number(bytes / seconds / 1e9)),
                    ])
                } catch {
                    emit("\(gemmCase.description): error: \(error)")
                    records.write([("case", .text(gemmCase.description)), ("op", .text(gemmCase.op)), ("error", .text("\(error)"))])
                }
            }
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// A value of the flat JSON objects `jit verify` and `jit bench` write.
enum JSONField {
    case text(String)
    case number(Double)
    case numbers([Double])
    case flag(Bool)
    case null

    var encoded: String {
        switch self {
        case .text(let value):
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(escaped)\""
        case .number(let value): return value.isFinite ? "\(value)" : "null"
        case .numbers(let values): return "[" + values.map { JSONField.number($0).encoded }.joined(separator: ", ") + "]"
        case .flag(let value): return value ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// Writes one line to standard output unbuffered, so output survives a time limit that kills the process.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A JSON-lines file written one object per case as the cases finish, so a run cut short by a time
/// limit still leaves the finished ones; writes nothing when no path is given.
struct JSONLines {
    private let handle: FileHandle?

    /// Creates (or truncates) the file at `path`.
    init(path: String?) throws {
        guard let path else {
            handle = nil
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw DeepGEMMError.io(path: path, reason: "cannot create the JSON output")
        }
        self.handle = handle
    }

    /// Appends `{"key": value, ...}` with the fields in order.
    func write(_ fields: [(String, JSONField)]) {
        let line = "{" + fields.map { "\"\($0.0)\": \($0.1.encoded)" }.joined(separator: ", ") + "}\n"
        handle?.write(Data(line.utf8))
    }
}
