/// Where a tensor's memory lives.
///
/// Ops run where their tensors are, as DeepGEMM does on torch tensors: all operands in host memory
/// run on the CPU backend, all on CUDA device `d` run DeepGEMM's CUDA kernels there, and a call that
/// mixes devices is rejected naming the first argument that is elsewhere (``Device/common(_:)``).
public enum Device: Sendable, Hashable, CustomStringConvertible {
    /// Host memory, readable by the CPU.
    case host
    /// Memory of the CUDA device with this ordinal (among the visible devices).
    case cuda(Int)

    /// `cpu` or `cuda:N`, as PyTorch spells devices.
    public var description: String {
        switch self {
        case .host: return "cpu"
        case .cuda(let ordinal): return "cuda:\(ordinal)"
        }
    }

    /// The device every present tensor of an op lives on. `tensors` are the op's tensor arguments
    /// in DeepGEMM's order, named as DeepGEMM names them; nil entries are absent optionals. Throws
    /// ``DeepGEMMError/invalidArgument(argument:rule:)`` naming the first tensor whose device differs
    /// from the first present one's. With no tensor present, the host.
    public static func common(_ tensors: [(name: String, tensor: Tensor?)]) throws -> Device {
        var first: (name: String, device: Device)?
        for (name, tensor) in tensors {
            guard let device = tensor?.device else { continue }
            guard let expected = first else {
                first = (name, device)
                continue
            }
            try DeepGEMMError.require(device == expected.device, name,
                                      "is on \(device) but \(expected.name) is on \(expected.device): all tensors of a call must be on one device")
        }
        return first?.device ?? .host
    }
}

/// Copies and fills of memory the host cannot dereference, provided by the backend that owns it
/// (the CUDA backend for ``Device/cuda(_:)`` storage) and reached through ``TensorStorage/deviceMemory``.
public protocol DeviceMemoryOperations: AnyObject, Sendable {
    /// Copies every element of `source` into `destination` (same dtype and shape; at least one of the
    /// two is in this backend's memory, the other in its memory or on the host).
    func copy(into destination: Tensor, from source: Tensor) throws
    /// Sets every byte of `tensor`'s elements to zero.
    func zero(_ tensor: Tensor) throws
}

extension Device {
    /// Checks the tensors of `op`, which runs on the host only (no CUDA kernel yet): all present
    /// tensors on one device (``common(_:)``), and that device the host; otherwise throws
    /// ``DeepGEMMError/unsupported(argument:rule:)`` naming the op and the device.
    public static func requireHost(op: String, _ tensors: [(name: String, tensor: Tensor?)]) throws {
        let device = try common(tensors)
        guard device == .host else {
            throw DeepGEMMError.unsupported(argument: op, rule: "has no CUDA kernel in this version and its tensors are on \(device); call it on host tensors")
        }
    }
}
