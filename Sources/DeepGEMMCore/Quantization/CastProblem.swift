/// The validated arguments of one of DeepGEMM's block-scaled casts (spec §2): which cast, the
/// input's extents and the scale rules. Both backends take it, so a bad call gets the same error on
/// the CPU and on a CUDA device.
public struct CastProblem: Sendable, Equatable {
    /// The casts that share this shape: one scale per `blockRows` x `blockColumns` block of `x`.
    public enum Kind: Sendable, Equatable {
        /// `per_token_cast_to_fp8`: 1 x `gran_k` blocks, FP8 E4M3 codes.
        case perTokenFP8
        /// `per_token_cast_to_fp4`: 1 x `gran_k` blocks, packed FP4 E2M1 codes.
        case perTokenFP4
        /// `per_channel_cast_to_fp8`: `gran_k` x 1 blocks (`m % gran_k == 0`).
        case perChannelFP8
        /// `per_block_cast_to_fp8`: `gran_k` x `gran_k` blocks.
        case perBlockFP8
    }

    /// The cast.
    public let kind: Kind
    /// Rows and columns of `x`.
    public let m: Int, n: Int
    /// Elements per scale along the blocked dimension(s).
    public let granK: Int
    /// Whether scales are rounded up to powers of two.
    public let useUE8M0: Bool
    /// Whether the scales are returned packed four per int32 (per-token casts only).
    public let usePackedUE8M0: Bool

    /// Checks `x` [m, n] (float32, bfloat16 or float16), `granK` and the packing options of `kind`,
    /// naming the argument that breaks a rule.
    public init(_ kind: Kind, x: Tensor, useUE8M0: Bool, granK: Int, usePackedUE8M0: Bool = false) throws {
        try DeepGEMMError.require(x.rank == 2, "x", "must be 2-D [m, n], got shape \(x.shape)")
        try DeepGEMMError.require(granK > 0, "gran_k", "must be positive, got \(granK)")
        let (m, n) = (x.size(0), x.size(1))
        if kind == .perChannelFP8 {
            try DeepGEMMError.require(m % granK == 0, "x", "rows (\(m)) must be a multiple of gran_k (\(granK))")
        }
        try DeepGEMMError.require([.float32, .bfloat16, .float16].contains(x.dtype), "x", "must be float32, bfloat16 or float16, got \(x.dtype)")
        switch kind {
        case .perTokenFP8 where usePackedUE8M0:
            try DeepGEMMError.require(useUE8M0, "use_packed_ue8m0", "requires use_ue8m0=true (packed scales must be powers of two)")
            let groups = ceilDiv(n, granK)
            try DeepGEMMError.require(groups % 4 == 0, "use_packed_ue8m0", "needs ceil(n/gran_k) % 4 == 0 to pack four scales per int32, got \(groups) scales")
        case .perTokenFP4:
            try DeepGEMMError.require(n % 2 == 0, "x", "needs an even number of columns to pack two FP4 codes per byte, got \(n)")
            try DeepGEMMError.require(!usePackedUE8M0 || useUE8M0, "use_packed_ue8m0", "requires use_ue8m0=true (packed scales must be powers of two)")
        default:
            try DeepGEMMError.require(!usePackedUE8M0, "use_packed_ue8m0", "is offered by the per-token casts only")
        }
        (self.kind, self.m, self.n, self.granK, self.useUE8M0, self.usePackedUE8M0) = (kind, m, n, granK, useUE8M0, usePackedUE8M0)
    }

    /// Whether the codes are packed FP4 (two per byte) rather than FP8.
    public var isFP4: Bool { kind == .perTokenFP4 }
    /// The largest code magnitude the scale maps the amax to: 6 for FP4, 448 for FP8.
    public var maxCode: Float { isFP4 ? 6 : 448 }
    /// Rows of `x` that share one scale.
    public var blockRows: Int { kind == .perTokenFP8 || kind == .perTokenFP4 ? 1 : granK }
    /// Columns of `x` that share one scale.
    public var blockColumns: Int { kind == .perChannelFP8 ? 1 : granK }
    /// Scale rows, `ceil(m / blockRows)`.
    public var scaleRows: Int { ceilDiv(m, blockRows) }
    /// Scale columns that cover `x`, `ceil(n / blockColumns)`.
    public var scaleColumns: Int { ceilDiv(n, blockColumns) }
    /// Scale columns as computed before packing: FP4 with packed scales pads the list with 1.0 to a
    /// multiple of four.
    public var storedScaleColumns: Int { isFP4 && usePackedUE8M0 ? align(scaleColumns, 4) : scaleColumns }
    /// The shape of the quantized data: [m, n], or [m, n/2] for packed FP4.
    public var dataShape: [Int] { [m, isFP4 ? n / 2 : n] }
}
