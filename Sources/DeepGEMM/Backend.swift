import DeepGEMMCUDA

/// Where an operation runs.
public enum Backend: String, Sendable, CaseIterable {
    /// The embedded CPU backend (always available).
    case cpu
    /// The CUDA backend: NVRTC-compiled kernels launched through the driver API.
    case cuda
    /// The best backend for each op: CUDA for ops whose CUDA kernels have been verified on a
    /// device when one is usable, otherwise the CPU. In this version no CUDA kernel has been
    /// verified on a device yet, so every op runs on the CPU; `resolved()` still reports whether a
    /// device is usable.
    case auto

    /// The backend that will actually run, or an error when `.cuda` was asked for and cannot run.
    public func resolved() throws -> Backend {
        switch self {
        case .cpu: return .cpu
        case .auto: return Backend.cudaUnavailableReason == nil ? .cuda : .cpu
        case .cuda:
            if let reason = Backend.cudaUnavailableReason { throw DeepGEMMError.backendUnavailable(backend: "cuda", reason: reason) }
            return .cuda
        }
    }

    /// Why the CUDA backend cannot run here, or nil when it can.
    public static var cudaUnavailableReason: String? {
        switch CUDAProbe.availability {
        case .available: return nil
        case .unavailable(let reason): return reason
        }
    }
}
