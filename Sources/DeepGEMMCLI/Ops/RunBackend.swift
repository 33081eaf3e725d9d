import DeepGEMM
import DeepGEMMCUDA

/// Where `deepgemm run` runs an op (`--backend`). The library itself runs ops where their tensors
/// are; this chooses where the file's tensors go first.
public enum Backend: String, Sendable, CaseIterable {
    /// Host tensors, the CPU backend.
    case cpu
    /// The file's tensors are copied to CUDA device 0, the op runs there, outputs are copied back.
    case cuda
    /// CUDA for the ops whose CUDA kernels have passed a device check (``verifiedCUDAOps``) when a
    /// device is usable, otherwise the CPU: never fails because a GPU exists.
    case auto

    /// Ops whose CUDA kernels have passed the device check on a GPU. Empty until one has: the
    /// SM90 BF16 kernels compile to SASS in CI but have not run on a device yet.
    public static let verifiedCUDAOps: Set<String> = []

    /// The device `op`'s tensors are moved to, given whether CUDA can run here (`availability`,
    /// by default the probe's answer; tests inject one). `.cuda` without a usable device throws
    /// ``DeepGEMMError/backendUnavailable(backend:reason:)``.
    public func device(forOp op: String, availability: CUDAProbe.Availability = CUDAProbe.availability) throws -> Device {
        switch (self, availability) {
        case (.cpu, _): return .host
        case (.cuda, .unavailable(let reason)): throw DeepGEMMError.backendUnavailable(backend: rawValue, reason: reason)
        case (.cuda, .available): return .cuda(0)
        case (.auto, .available): return Backend.verifiedCUDAOps.contains(op) ? .cuda(0) : .host
        case (.auto, .unavailable): return .host
        }
    }
}
