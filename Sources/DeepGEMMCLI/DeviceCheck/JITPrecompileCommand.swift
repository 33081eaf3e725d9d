import ArgumentParser
import DeepGEMM
import DeepGEMMCUDA
import Foundation

/// `deepgemm jit precompile`: device check stage 1, every kernel the case stages launch compiled in
/// parallel into the JIT cache (`DG_JIT_CACHE_DIR`).
struct JITPrecompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "precompile",
        abstract: "Compile every kernel the smoke, verify and bench stages launch into the JIT cache, in parallel.",
        discussion: """
        Plans each case for the device (its architecture and SM count) and builds the distinct kernels with --jobs \
        concurrent NVRTC compiles into DG_JIT_CACHE_DIR. Exits 1 when a kernel fails to compile, has no ptxas \
        register/spill report, or spills. With --fake-device: plans sm_90a with 132 SMs and compiles the smoke cases' \
        kernels when NVRTC is found, else says so and skips; with --gpu-cases as well, every kernel of the GPU stages \
        (how the precompile stage is sized without a GPU). --plan-only prints the distinct kernels per family and \
        compiles nothing.
        """
    )

    @OptionGroup var options: DeviceCheckOptions

    @Option(help: "Concurrent compiles (default: the number of CPU cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .customLong("plan-only"), help: "Print the distinct kernels per family and compile nothing.")
    var planOnly = false

    func run() throws {
        try runStage {
            let architecture: CUDAArchitecture
            let numSMs: Int
            let stages: [DeviceCheckStage]
            if options.fakeDevice {
                (architecture, numSMs, stages) = (.sm90a, 132, options.gpuCases ? DeviceCheckStage.allCases : [.smoke])
            } else {
                let device = try CUDADevice.current()
                guard let known = device.architecture else {
                    throw DeepGEMMError.unsupported(argument: "device", rule: "\(device.name) has no kernels (compute \(device.computeCapability.major).\(device.computeCapability.minor))")
                }
                (architecture, numSMs, stages) = (known, device.multiprocessorCount, DeviceCheckStage.allCases)
            }
            let (kernels, unplannable) = DeviceCheckKernels.plan(stages.flatMap(options.cases).map { testCase in
                (testCase.description, { try testCase.kernelSources(numSMs: numSMs) })
            })
            if planOnly {
                let families = Dictionary(grouping: kernels, by: \.source.name).mapValues(\.count)
                for (family, count) in families.sorted(by: { $0.key < $1.key }) { emit("\(family): \(count) kernels") }
                emit(String(format: "precompile plan: %d kernels for %@ (%d SMs), %d cases unplannable; at most %.0f s on %d cores", kernels.count,
                            architecture.rawValue, numSMs, unplannable.count, DeviceCheckBudget.precompileSeconds(kernels: kernels.count),
                            DeviceCheckBudget.deviceCores))
                if !unplannable.isEmpty { throw ExitCode(1) }
                return
            }
            let records = try JSONLines(path: options.json)
            for (label, error) in unplannable {
                emit("FAIL \(label): the backend cannot plan it: \(error)")
                records.write([("case", .text(label)), ("kernel", .null), ("passed", .flag(false)), ("error", .text(error))])
            }
            let jit: KernelJIT
            switch KernelJIT.shared {
            case .success(let found): jit = found
            case .failure(let error) where options.fakeDevice:
                emit("precompile: \(kernels.count) kernels planned for \(architecture.rawValue); compile skipped on the fake device: \(error)")
                if !unplannable.isEmpty { throw ExitCode(1) }
                return
            case .failure(let error): throw error
            }
            emit("precompile: \(kernels.count) kernels for \(architecture.rawValue) (\(numSMs) SMs), \(jobs) jobs, NVRTC \(jit.compiler.version), cache \(jit.cache.root)")
            let start = Date()
            let built = DeviceCheckKernels.compile(kernels, for: architecture, jit: jit, jobs: jobs)
            for kernel in built {
                let report = kernel.report.map(\.summary) ?? "no report"
                emit(String(format: "%@ %@ (%.1f s): %@ -- %@", kernel.error == nil ? "PASS" : "FAIL", kernel.source.name, kernel.seconds,
                            kernel.error ?? report, kernel.cases.joined(separator: "; ")))
                records.write([("case", .text(kernel.cases.joined(separator: "; "))), ("kernel", .text(kernel.source.name)),
                               ("registers", kernel.report?.registers.map { .number(Double($0)) } ?? .null),
                               ("spill_stores", kernel.report.map { .number(Double($0.spillStores)) } ?? .null),
                               ("spill_loads", kernel.report.map { .number(Double($0.spillLoads)) } ?? .null),
                               ("seconds", .number(kernel.seconds)), ("passed", .flag(kernel.error == nil)),
                               ("error", kernel.error.map(JSONField.text) ?? .null)])
            }
            let failed = built.filter { $0.error != nil }.count + unplannable.count
            emit(String(format: "precompile: %d kernels, %d failed, %d cases unplannable, %.1f s", built.count, failed - unplannable.count,
                        unplannable.count, Date().timeIntervalSince(start)))
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
