/// A GPU architecture the JIT compiles kernels for.
public enum CUDAArchitecture: String, Sendable, CaseIterable, Hashable {
    /// Hopper with architecture-specific features (wgmma, TMA multicast, setmaxnreg).
    case sm90a = "sm_90a"
    /// Blackwell with architecture-specific features (tcgen05).
    case sm100a = "sm_100a"

    /// The architecture for a device of compute capability `major`, or nil when no kernels exist for it.
    public init?(computeCapabilityMajor major: Int) {
        switch major {
        case 9: self = .sm90a
        case 10: self = .sm100a
        default: return nil
        }
    }
}
