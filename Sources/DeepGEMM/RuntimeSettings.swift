/// DeepGEMM's process-wide runtime settings (`set_num_sms`, `set_mk_alignment_for_contiguous_layout`,
/// `set_tc_util`, `set_pdl`, `set_ignore_compile_dims`, `set_block_size_multiple_of`) as one value.
///
/// The ops of the Swift API take their settings as arguments; the op table (`DeepGEMMOps`), the C
/// ABI and the CLI read ``RuntimeSettings/current`` for every call, so a setting made through any
/// of them is seen by all.
public struct RuntimeSettings: Sendable, Equatable {
    /// The architecture personality whose rules calls follow; nil for the default (SM100 rules;
    /// the CLI then accepts the union of both).
    public var arch: ArchPersonality?
    /// The M/K alignment of grouped contiguous layouts (DeepGEMM's default 128).
    public var mkAlignmentForContiguousLayout = 128
    /// SMs the CUDA kernels and the paged MQA schedule use; nil for the device's (or the CPU
    /// schedule's default).
    public var numSMs: Int?
    /// Tensor-core utilisation in percent the heuristics aim for (100: all).
    public var tcUtil = 100
    /// Programmatic dependent launch of CUDA kernels.
    public var pdl = false
    /// Whether CUDA kernels ignore `compiled_dims` (no shape baked in).
    public var ignoreCompileDims = false
    /// The multiples the CUDA heuristics round BLOCK_M and BLOCK_N to (1: none).
    public var blockSizeMultiple = (m: 1, n: 1)

    /// DeepGEMM's defaults.
    public init() {}

    /// The settings the ops take as an argument.
    public var opSettings: DeepGEMMSettings {
        DeepGEMMSettings(arch: arch ?? .sm100, mkAlignmentForContiguousLayout: mkAlignmentForContiguousLayout)
    }

    /// The settings the CUDA backend takes per call.
    public var cudaOptions: CUDABackend.Options {
        CUDABackend.Options(numSMs: numSMs, pdl: pdl, ignoreCompiledDims: ignoreCompileDims)
    }

    /// Equal when every setting is (the block-size tuple compared field by field).
    public static func == (lhs: RuntimeSettings, rhs: RuntimeSettings) -> Bool {
        (lhs.arch, lhs.mkAlignmentForContiguousLayout, lhs.numSMs, lhs.tcUtil, lhs.pdl, lhs.ignoreCompileDims)
            == (rhs.arch, rhs.mkAlignmentForContiguousLayout, rhs.numSMs, rhs.tcUtil, rhs.pdl, rhs.ignoreCompileDims)
            && lhs.blockSizeMultiple == rhs.blockSizeMultiple
    }

    private static let state = Locked(RuntimeSettings())

    /// The settings in effect now.
    public static var current: RuntimeSettings { state.withLock { $0 } }

    /// Changes the settings atomically: `body` sees the current value and may throw to leave it
    /// unchanged.
    public static func update(_ body: (inout RuntimeSettings) throws -> Void) throws {
        try state.withLock { settings in
            var changed = settings
            try body(&changed)
            settings = changed
        }
    }

    /// `set_num_sms`: a positive count, or 0 or nil to go back to the device's (as DeepGEMM's 0 does).
    public static func setNumSMs(_ count: Int?) throws {
        try DeepGEMMError.require(count.map { $0 >= 0 } ?? true, "num_sms", "must be non-negative (0: the device's), got \(count ?? 0)")
        try update { $0.numSMs = count == 0 ? nil : count }
    }

    /// `set_mk_alignment_for_contiguous_layout`: a positive alignment.
    public static func setMKAlignmentForContiguousLayout(_ alignment: Int) throws {
        try DeepGEMMError.require(alignment > 0, "alignment", "must be positive, got \(alignment)")
        try update { $0.mkAlignmentForContiguousLayout = alignment }
    }

    /// `set_tc_util`: a percentage in 0...100, where 0 means 100 (as DeepGEMM reads it back).
    public static func setTCUtil(_ percent: Int) throws {
        try DeepGEMMError.require((0...100).contains(percent), "tc_util", "must be in 0...100, got \(percent)")
        try update { $0.tcUtil = percent == 0 ? 100 : percent }
    }

    /// `set_block_size_multiple_of`: positive multiples for BLOCK_M and BLOCK_N.
    public static func setBlockSizeMultiple(m: Int, n: Int) throws {
        try DeepGEMMError.require(m > 0, "m_multiple", "must be positive, got \(m)")
        try DeepGEMMError.require(n > 0, "n_multiple", "must be positive, got \(n)")
        try update { $0.blockSizeMultiple = (m, n) }
    }

    /// The personality by name: `sm90`, `sm100`, or empty for the default.
    public static func setArch(_ name: String) throws {
        guard name.isEmpty || ArchPersonality(rawValue: name.lowercased()) != nil else {
            throw DeepGEMMError.invalidArgument(argument: "arch", rule: "must be sm90, sm100 or empty (default), got '\(name)'")
        }
        try update { $0.arch = ArchPersonality(rawValue: name.lowercased()) }
    }
}
