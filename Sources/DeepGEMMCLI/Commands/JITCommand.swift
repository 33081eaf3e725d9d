import ArgumentParser
import DeepGEMM
import DeepGEMMCUDA
import Foundation

/// `deepgemm jit ...`: the CUDA JIT's compile check, and on a GPU, verification and benchmarks.
struct JITCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jit",
        abstract: "Compile-check the CUDA kernels (no GPU needed); the device check's stages: precompile, smoke, verify, bench.",
        subcommands: [JITCompileCommand.self, JITPrecompileCommand.self, JITSmokeCommand.self, JITVerifyCommand.self, JITBenchCommand.self]
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
            let known = try RepresentativeProblems.ops(for: architecture)
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

/// `deepgemm jit smoke`: one small case per kernel family, each under the watchdog (device check stage 2).
struct JITSmokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smoke",
        abstract: "Run one small case per kernel family on the GPU under a watchdog, checked against the CPU backend.",
        discussion: "A case still running after --case-deadline seconds prints 'HANG <case>' and ends the process with status 3."
    )

    @OptionGroup var options: DeviceCheckOptions

    func run() throws {
        try runStage { try CaseStageRunner(stage: .smoke, options: options).run() }
    }
}

/// `deepgemm jit verify`: every CUDA op against the CPU backend on the same random inputs (device check stage 3).
struct JITVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run every CUDA op on the GPU and compare it with the CPU backend (each op's rule: bitwise or DeepGEMM's calc_diff bound), each case under a watchdog.",
        discussion: "Cases: \(DeviceCheckStage.verify.cases(fakeDevice: false).count), from the families \(DeviceCheckFamily.all.map(\.name).joined(separator: ", "))."
    )

    @OptionGroup var options: DeviceCheckOptions

    func run() throws {
        try runStage { try CaseStageRunner(stage: .verify, options: options).run() }
    }
}

/// `deepgemm jit bench`: TFLOPS and GB/s of every CUDA op on DeepGEMM's test shapes (device check stage 4).
struct JITBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the CUDA ops on DeepGEMM's test shapes (CUDA events, mean of --iterations calls), each case under a watchdog.",
        discussion: "TFLOPS = the case's flops / t (GEMMs: 2·M·N·K over the valid rows); GB/s = the bytes a call reads and writes / t. Exits 1 when any case errors."
    )

    @OptionGroup var options: DeviceCheckOptions

    @Option(help: "Timed calls per case.")
    var iterations: Int = 20

    func run() throws {
        try runStage { try CaseStageRunner(stage: .bench, options: options, iterations: max(iterations, 1)).run() }
    }
}
