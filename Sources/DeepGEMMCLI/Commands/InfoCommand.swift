import ArgumentParser
import DeepGEMM
import DeepGEMMCUDA

/// `deepgemm info`: version, CPU features, kernel variant, threads and backends.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Print the version, detected CPU features and available backends."
    )

    func run() throws {
        print("deepgemm \(DeepGEMMVersion.string)")
        print("cpu features: \(CPUFeatures.current)")
        print("cpu kernels:  \(CPUKernelVariant.best.rawValue) (supported: \(CPUKernelVariant.supported.map(\.rawValue).joined(separator: ", ")); override with DG_CPU_KERNEL)")
        print("cpu gemm:     \(CPUKernelVariant.bestForGEMM.rawValue): \(GEMMEngine.kernelDescription())")
        print("cpu threads:  \(CPUParallelism.threadCount) (override with DG_NUM_THREADS)")
        print("backends:")
        print("  cpu   available")
        switch CUDAProbe.availability {
        case .unavailable(let reason): print("  cuda  unavailable: \(reason)")
        case .available: print("  cuda  available")
        }
        for (component, state) in CUDAProbe.report {
            print("        \(component): \(state)")
        }
        print("        driver search (in order):")
        for attempt in CUDAProbe.driverSearch {
            print("          \(attempt)")
        }
        print("  auto  -> cuda for \(Backend.verifiedCUDAOps.isEmpty ? "no op yet (none verified on a device)" : Backend.verifiedCUDAOps.sorted().joined(separator: ", ")), cpu otherwise")
    }
}
