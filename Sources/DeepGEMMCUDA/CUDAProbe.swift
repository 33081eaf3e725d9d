import DeepGEMMCore
internal import CCUDA

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds out whether the CUDA backend can run here: the driver library loads (by dlopen, never
/// linked), initialises, and reports at least one device.
public enum CUDAProbe {
    /// Whether the backend is usable, and why not when it is not.
    public enum Availability: Sendable, Equatable {
        /// A driver and `deviceCount` devices were found.
        case available(deviceCount: Int)
        /// The reason the backend cannot run.
        case unavailable(reason: String)
    }

    /// Library names tried for the driver, in order (`DG_CUDA_HOME`/`CUDA_HOME` lib64 first).
    static var driverCandidates: [String] {
        let variables: [String] = ["DG_CUDA_HOME", "CUDA_HOME"]
        let homes = variables.compactMap { name -> String? in getenv(name).map { String(cString: $0) } }
        return homes.map { home in home + "/lib64/libcuda.so.1" } + ["libcuda.so.1"]
    }

    /// Probes the driver once per process.
    public static let availability: Availability = probe()

    private static func probe() -> Availability {
        guard let handle = driverCandidates.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
            return .unavailable(reason: "the CUDA driver library libcuda.so.1 was not found (set DG_CUDA_HOME or install an NVIDIA driver)")
        }
        guard let initSymbol = dlsym(handle, "cuInit"), let countSymbol = dlsym(handle, "cuDeviceGetCount") else {
            return .unavailable(reason: "libcuda.so.1 lacks cuInit/cuDeviceGetCount")
        }
        let cuInit = unsafeBitCast(initSymbol, to: dg_cu_init_fn.self)
        let cuDeviceGetCount = unsafeBitCast(countSymbol, to: dg_cu_device_get_count_fn.self)
        let status = cuInit(0)
        guard status == 0 else { return .unavailable(reason: "cuInit failed with CUDA error \(status)") }
        var count: Int32 = 0
        guard cuDeviceGetCount(&count) == 0, count > 0 else { return .unavailable(reason: "the CUDA driver reports no device") }
        return .available(deviceCount: Int(count))
    }
}
