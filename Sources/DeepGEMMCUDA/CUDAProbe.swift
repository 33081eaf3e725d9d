import DeepGEMMCore

/// Finds out whether the CUDA backend can run here: the driver loads (by dlopen, never linked) and
/// reports a device with kernels for its architecture, and NVRTC and the CUDA headers are found.
public enum CUDAProbe {
    /// Whether the backend is usable, and why not when it is not.
    public enum Availability: Sendable, Equatable {
        /// A driver and `deviceCount` devices were found, and the JIT can compile for the first.
        case available(deviceCount: Int)
        /// The reason the backend cannot run.
        case unavailable(reason: String)
    }

    /// Probes once per process.
    public static let availability: Availability = {
        let device: CUDADevice
        switch CUDADevice.shared {
        case .failure(let error): return .unavailable(reason: reason(error))
        case .success(let found): device = found
        }
        guard device.architecture == .sm90a else {
            return .unavailable(reason: "\(device.name) is sm_\(device.computeCapability.major)\(device.computeCapability.minor); CUDA kernels exist for sm_90a only so far")
        }
        if case .failure(let error) = KernelJIT.shared { return .unavailable(reason: reason(error)) }
        return .available(deviceCount: device.deviceCount)
    }()

    /// One line per CUDA component for `deepgemm info`: (component, state).
    public static var report: [(component: String, state: String)] {
        var lines: [(String, String)] = []
        switch CUDADriver.shared {
        case .success(let driver): lines.append(("driver", "\(driver.library.path) (CUDA \(driver.driverVersion / 1000).\(driver.driverVersion % 1000 / 10))"))
        case .failure: lines.append(("driver", "missing (every candidate of the driver search was rejected)"))
        }
        switch CUDADevice.shared {
        case .success(let device):
            lines.append(("device", "\(device.name), \(device.multiprocessorCount) SMs, compute \(device.computeCapability.major).\(device.computeCapability.minor)"
                          + (device.architecture.map { " -> \($0.rawValue)" } ?? " (no kernels)")))
        case .failure(let error):
            if case .success = CUDADriver.shared { lines.append(("device", "none: \(reason(error))")) }
        }
        switch NVRTCCompiler.shared {
        case .success(let compiler):
            lines.append(("nvrtc", "\(compiler.libraryPath) (\(compiler.version))"))
            lines.append(("headers", compiler.includeDirectory))
        case .failure(let error):
            lines.append(("nvrtc", "missing: \(reason(error))"))
        }
        switch CublasLtLibrary.shared {
        case .success(let cublasLt): lines.append(("cublaslt", "\(cublasLt.library.path) (\(cublasLt.version))"))
        case .failure(let error): lines.append(("cublaslt", "missing (cublaslt_gemm_* on CUDA tensors unavailable): \(reason(error))"))
        }
        lines.append(("jit cache", JITOptions.current.cacheDirectory))
        return lines
    }

    /// Every driver library candidate tried, in search order, with why each rejected one was rejected.
    public static var driverSearch: [LibraryAttempt] { CUDADriver.search.attempts }

    private static func reason(_ error: DeepGEMMError) -> String {
        if case .backendUnavailable(_, let reason) = error { return reason }
        return error.description
    }
}
