import DeepGEMM  // re-exports the CUDA backend's public API (CUDAProbe, CUDAStream, Tensor.to)

/// Whether this machine can run the CUDA backend (a usable driver and device).
enum CUDAState {
    static var isUsable: Bool {
        if case .available = CUDAProbe.availability { return true }
        return false
    }
}
