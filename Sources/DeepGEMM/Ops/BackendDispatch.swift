import DeepGEMMCUDA

/// Where an op that has CUDA kernels runs, decided by where its tensors are (as DeepGEMM decides
/// on torch tensors): host tensors run on the CPU backend, tensors on a CUDA device run the CUDA
/// kernels on that device's current stream (``CUDAStream/current(on:)``), with no host copies.
enum Placement {
    /// The CPU backend.
    case cpu
    /// The CUDA kernels, queued on this stream.
    case cuda(CUDAStream)

    /// The placement of an op's tensors, named as DeepGEMM names them (nil for absent optionals);
    /// mixed devices throw naming the first tensor that is elsewhere (``Device/common(_:)``).
    init(_ tensors: [(name: String, tensor: Tensor?)]) throws {
        let device = try Device.common(tensors)
        self = device == .host ? .cpu : .cuda(try CUDAStream.current(for: device))
    }

    /// Whether the op runs on a CUDA device.
    var isCUDA: Bool {
        if case .cuda = self { return true }
        return false
    }
}
