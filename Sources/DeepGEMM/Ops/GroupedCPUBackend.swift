/// Checks `backend` for an op that only the CPU backend implements: `.cpu` runs on the CPU, and so
/// does `.auto` (the op has no CUDA kernel to prefer); `.cuda` throws
/// ``DeepGEMMError/backendUnavailable(backend:reason:)``, with the driver's reason when CUDA itself
/// is missing.
func requireCPUBackend(_ backend: Backend, op: String) throws {
    guard backend == .cuda else { return }
    _ = try backend.resolved()
    throw DeepGEMMError.backendUnavailable(backend: Backend.cuda.rawValue, reason: "\(op) has no CUDA kernel in this version; use the CPU backend")
}
