import DeepGEMMCUDA

extension Placement {
    /// The settings an op's rules follow here: on the CPU `settings` as given; on a CUDA device its
    /// architecture's personality (an SM90 device follows SM90 rules and schedules whatever
    /// `settings.arch` says), since that is what DeepGEMM's kernels on it do.
    func rules(_ settings: DeepGEMMSettings) -> DeepGEMMSettings {
        guard case .cuda(let stream) = self else { return settings }
        var settings = settings
        switch stream.device.architecture {
        case .sm90a: settings.arch = .sm90
        case .sm100a: settings.arch = .sm100
        case nil: break
        }
        return settings
    }

    /// `tensor` where the host can read it: itself on the CPU, a host copy of it on a CUDA device
    /// (for the small int32 tensors whose values the rules check: windows, context lengths, block
    /// tables, schedules).
    func readable(_ tensor: Tensor?) throws -> Tensor? {
        guard case .cuda = self, let tensor else { return tensor }
        return try tensor.to(.host)
    }
}
