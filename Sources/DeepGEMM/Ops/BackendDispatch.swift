import DeepGEMMCUDA

/// Whether an op that has CUDA kernels runs them: `.cuda` does (or throws why it cannot), `.cpu`
/// does not. `.auto` does not either in this version: the CUDA kernels have been compiled but not
/// yet verified on a device, so `.auto` keeps the verified CPU backend until they are.
func runsOnCUDA(_ backend: Backend) throws -> Bool {
    switch backend {
    case .cpu, .auto: return false
    case .cuda: return try backend.resolved() == .cuda
    }
}

/// Copies the host `inputs` and `d` to the current CUDA device, runs `body` on one stream, and
/// copies the device `d` back into `d`.
func runOnCUDA(inputs: [Tensor], d: Tensor, _ body: ([DeviceTensor], DeviceTensor, CUDAStream) throws -> Void) throws {
    let device = try CUDADevice.current()
    let stream = try CUDAStream(device: device)
    let deviceInputs = try inputs.map { try DeviceTensor(copying: $0, to: device, stream: stream) }
    let deviceD = try DeviceTensor(copying: d, to: device, stream: stream)
    try body(deviceInputs, deviceD, stream)
    let result = try deviceD.toHost(stream: stream)
    try stream.synchronize()
    try d.copy(from: result)
}

/// Checks `backend` for an op that only the CPU backend implements: `.cpu` runs on the CPU, and so
/// does `.auto` (the op has no CUDA kernel to prefer); `.cuda` throws
/// ``DeepGEMMError/backendUnavailable(backend:reason:)``, with the driver's reason when CUDA itself
/// is missing.
func requireCPUBackend(_ backend: Backend, op: String) throws {
    guard backend == .cuda else { return }
    _ = try backend.resolved()
    throw DeepGEMMError.backendUnavailable(backend: Backend.cuda.rawValue, reason: "\(op) has no CUDA kernel in this version; use the CPU backend")
}
