/// The validated shape of one `swiglu_apply_weight_to_fp8` call (spec/megamoe-indexer.md §1.5
/// steps 3-6 and §1.9), or of its BF16-output form (§1.11): the backend-independent argument
/// rules, shared by every backend.
public struct SwiGLUApplyWeightProblem: Sendable, Equatable {
    /// The number of rows (received tokens) of `x`.
    public let rows: Int
    /// The intermediate size I: `x` holds 2I columns, gate in [0, I) and up in [I, 2I).
    public let intermediate: Int
    /// The clamp C' = bf16_rn(C), or nil when `activation_clamp` is None (no clamp).
    public let clamp: Float?

    /// The number of 32-column scale groups per row, I / 32.
    public var scaleGroups: Int { intermediate / SwiGLUApplyWeightProblem.scaleGranularity }
    /// The number of packed UE8M0 Int32 words per row, ceil(I / 128).
    public var packedScaleWords: Int { (scaleGroups + 3) / 4 }
    /// The row stride of the packed scales, the rows rounded up to 4 (TMA-aligned, MN-major).
    public var alignedScaleRows: Int { (rows + 3) / 4 * 4 }

    /// Columns sharing one UE8M0 scale.
    public static let scaleGranularity = 32
    /// I must be a multiple of this for BF16 output (the vector width of the GPU kernel).
    public static let bf16Granularity = 16

    /// Checks the arguments.
    ///
    /// - `x`: BF16 [rows, 2I], any strides, with I a positive multiple of 32 (of 16 when `outputBF16`).
    /// - `topkWeights`: nil, or F32 [rows] (any stride).
    /// - `activationClamp`: nil, or a number ≥ 0 (not NaN; +∞ is allowed and clamps nothing).
    public init(x: Tensor, topkWeights: Tensor?, activationClamp: Double?, outputBF16: Bool = false) throws {
        try DeepGEMMError.require(x.rank == 2, "x", "must be 2-D [num_tokens, 2 * intermediate], got shape \(x.shape)")
        try DeepGEMMError.require(x.dtype == .bfloat16, "x", "must be bfloat16 (the L1 GEMM output), got \(x.dtype)")
        let columns = x.size(1)
        let granularity = outputBF16 ? SwiGLUApplyWeightProblem.bf16Granularity : SwiGLUApplyWeightProblem.scaleGranularity
        try DeepGEMMError.require(columns > 0 && columns % (2 * granularity) == 0, "x",
                                  "must have 2 * intermediate columns with intermediate a positive multiple of \(granularity), got \(columns)")
        rows = x.size(0)
        intermediate = columns / 2
        if let topkWeights {
            try DeepGEMMError.require(topkWeights.rank == 1 && topkWeights.size(0) == rows, "topk_weights",
                                      "must be 1-D [num_tokens] = [\(rows)], got shape \(topkWeights.shape)")
            try DeepGEMMError.require(topkWeights.dtype == .float32, "topk_weights", "must be float32, got \(topkWeights.dtype)")
        }
        clamp = try SwiGLUApplyWeightProblem.bf16Clamp(activationClamp)
    }

    /// Checks `activation_clamp` (None, or a number ≥ 0 that is not NaN; +∞ clamps nothing) and
    /// returns C' = bf16_rn(fp32_rn(C)), the bound applied in the BF16 domain.
    public static func bf16Clamp(_ activationClamp: Double?) throws -> Float? {
        guard let activationClamp else { return nil }
        try DeepGEMMError.require(!activationClamp.isNaN && activationClamp >= 0, "activation_clamp",
                                  "must be None or a number >= 0, got \(activationClamp)")
        return BFloat16(Float(activationClamp)).floatValue
    }
}
