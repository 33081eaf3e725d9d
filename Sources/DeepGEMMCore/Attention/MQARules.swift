/// Which architecture's argument rules the lightning-indexer ops follow (spec §12).
///
/// SM100 accepts a superset of what SM90 accepts for these ops, so the default (``union``) is the
/// SM100 rule set: 8, 16, 32 or 64 heads; FP8 or FP4 inputs; F32 or BF16 weights; paged pages of
/// 32 or 64 tokens, any `next_n`, varlen `indices`. With an ``arch`` exactly that architecture's
/// rules apply; SM90 narrows them to 32 or 64 heads, FP8 inputs, F32 weights, 64-token pages,
/// `next_n` 1 or 2 and no `indices`, and rejects the rest with
/// ``DeepGEMMError/unsupported(argument:rule:)``. A strict personality also applies the
/// shared-memory capacity limit of DeepGEMM's schedule-metadata kernel.
public struct MQARules: Sendable, Hashable {
    /// The architecture whose rules apply exactly, or nil for the union of both.
    public var arch: ArchPersonality?

    /// Rules of exactly `arch`, or the union of both architectures when nil.
    public init(arch: ArchPersonality?) {
        self.arch = arch
    }

    /// `settings.arch`'s rules when `strictArch`, otherwise the union.
    public init(settings: DeepGEMMSettings, strictArch: Bool) {
        arch = strictArch ? settings.arch : nil
    }

    /// The union of the SM90 and SM100 rules (the CPU backend's default).
    public static let union = MQARules(arch: nil)

    /// Head counts some architecture accepts.
    static let headCounts = [8, 16, 32, 64]
    /// Head counts SM90 accepts.
    static let sm90HeadCounts = [32, 64]

    /// `num_heads` (read from argument `name`) must be 8, 16, 32 or 64; 32 or 64 under SM90.
    func checkHeads(_ heads: Int, argument name: String) throws {
        try DeepGEMMError.require(Self.headCounts.contains(heads), name, "num_heads must be 8, 16, 32 or 64, got \(heads)")
        if arch == .sm90 && !Self.sm90HeadCounts.contains(heads) {
            throw DeepGEMMError.unsupported(argument: name, rule: "SM90 takes 32 or 64 heads, got \(heads)")
        }
    }

    /// `head_dim` (read from argument `name`) must be 32, 64 or 128 for FP8 and 64 or 128 for FP4.
    func checkHeadDim(_ headDim: Int, fp4: Bool, argument name: String) throws {
        let allowed = fp4 ? [64, 128] : [32, 64, 128]
        try DeepGEMMError.require(allowed.contains(headDim), name,
                                  "head_dim must be \(fp4 ? "64 or 128 for FP4" : "32, 64 or 128 for FP8"), got \(headDim)")
    }

    /// FP4 inputs (a `q_sf` is given) need SM100.
    func checkFP4Allowed() throws {
        if arch == .sm90 {
            throw DeepGEMMError.unsupported(argument: "q_sf", rule: "FP4 inputs (q_sf given) need SM100; SM90 takes FP8 q without q_sf")
        }
    }

    /// BF16 weights need SM100.
    func checkWeightsDType(_ dtype: DType) throws {
        try DeepGEMMError.require(dtype == .float32 || dtype == .bfloat16, "weights", "must be float32 or bfloat16, got \(dtype)")
        if dtype == .bfloat16 && arch == .sm90 {
            throw DeepGEMMError.unsupported(argument: "weights", rule: "bfloat16 weights need SM100; SM90 takes float32 weights")
        }
    }

    /// Paged KV blocks hold 32 or 64 tokens; 64 under SM90.
    func checkBlockKV(_ blockKV: Int, argument name: String) throws {
        try DeepGEMMError.require(blockKV == 32 || blockKV == 64, name, "block_kv must be 32 or 64, got \(blockKV)")
        if arch == .sm90 && blockKV != 64 {
            throw DeepGEMMError.unsupported(argument: name, rule: "SM90 takes block_kv 64, got \(blockKV)")
        }
    }

    /// Paged queries per request: any `next_n >= 1`; 1 or 2 under SM90.
    func checkNextN(_ nextN: Int, argument name: String) throws {
        try DeepGEMMError.require(nextN >= 1, name, "next_n must be at least 1, got \(nextN)")
        if arch == .sm90 && nextN > 2 {
            throw DeepGEMMError.unsupported(argument: name, rule: "SM90 takes next_n 1 or 2, got \(nextN)")
        }
    }

    /// Varlen `indices` need SM100 and `next_n == 1`.
    func checkVarlen(nextN: Int) throws {
        if arch == .sm90 {
            throw DeepGEMMError.unsupported(argument: "indices", rule: "varlen indices need SM100")
        }
        try DeepGEMMError.require(nextN == 1, "indices", "varlen indices need next_n == 1, got next_n = \(nextN)")
    }
}
