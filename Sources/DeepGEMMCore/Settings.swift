/// Which GPU architecture's rules the library follows when they differ (spec §3, §5): the scale-
/// factor formats and the set of legal argument combinations. The CPU backend can run either.
public enum ArchPersonality: String, Sendable, CaseIterable, Hashable {
    /// Hopper (SM90) rules: FP32 scale factors, FP8 K-major only, no FP4.
    case sm90
    /// Blackwell (SM100) rules: packed UE8M0 scale factors, FP4, any majors.
    case sm100

    /// DeepGEMM's `arch_major` for this personality.
    public var archMajor: Int { self == .sm90 ? 9 : 10 }
}

/// DeepGEMM's global settings as an explicit value. Pass one to the ops that depend on it; the
/// defaults match DeepGEMM's.
public struct DeepGEMMSettings: Sendable, Hashable {
    /// Architecture personality (default SM100, the superset of formats).
    public var arch: ArchPersonality
    /// `set_mk_alignment_for_contiguous_layout`: the M (or K) alignment of grouped contiguous
    /// layouts, also BLOCK_M of m-grouped GEMMs. Default 128.
    public var mkAlignmentForContiguousLayout: Int

    /// Settings with DeepGEMM's defaults, overridable per field.
    public init(arch: ArchPersonality = .sm100, mkAlignmentForContiguousLayout: Int = 128) {
        self.arch = arch
        self.mkAlignmentForContiguousLayout = mkAlignmentForContiguousLayout
    }

    /// DeepGEMM's defaults.
    public static let `default` = DeepGEMMSettings()
}
