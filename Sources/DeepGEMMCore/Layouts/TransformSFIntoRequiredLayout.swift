/// DeepGEMM's `transform_sf_into_required_layout` (spec §3.5): checks the scale factors `sf` of
/// one operand with `mn` rows and `k` columns against `recipe`, and returns them in the layout the
/// GEMM kernels of `settings.arch` read.
///
/// `sf` is f32 `[ceil(mn/gran_mn), ceil(k/gran_k)]` or int32 (packed UE8M0)
/// `[ceil(mn/gran_mn), ceil(k/(4·gran_k))]`, with a leading `[numGroups]` dimension exactly when
/// `numGroups` is given. `isSFA` picks `gran_m` or `gran_n` from a 3-element recipe and must be
/// nil with a 2-element one. The first matching case applies:
/// 1. f32, `(1, 128)`, SM90 or `disableUE8M0Cast`: ``getMNMajorTMAAlignedTensor(_:)``.
/// 2. f32, `(128, 128)`, SM90 or `disableUE8M0Cast`: `sf` itself, which must be contiguous or
///    contiguous after swapping its last two dimensions (groups compact).
/// 3. f32, `gran_k` ∈ {32, 128}, SM100: rows broadcast to `mn` when `gran_mn ≠ 1`, then
///    ``getMNMajorTMAAlignedPackedUE8M0Tensor(_:psumLayout:settings:)`` with `psumLayout`;
///    `disableUE8M0Cast` is an error here.
/// 4. int32, `(1, 32 or 128)`, SM100: `sf` itself, which must already be MN-major and TMA-aligned.
///
/// Anything else is "Unknown SF transformation". `psumLayout` only matters in case 3.
public func transformSFIntoRequiredLayout(
    _ sf: Tensor, mn: Int, k: Int, recipe: ScaleRecipe, numGroups: Int? = nil, isSFA: Bool? = nil,
    disableUE8M0Cast: Bool = false, psumLayout: Tensor? = nil, settings: DeepGEMMSettings = .default
) throws -> Tensor {
    switch try SFTransformation(sf, mn: mn, k: k, recipe: recipe, numGroups: numGroups, isSFA: isSFA,
                                disableUE8M0Cast: disableUE8M0Cast, settings: settings) {
    case .mnMajorTMAAligned: return try getMNMajorTMAAlignedTensor(sf)
    case .unchanged: return sf
    case .packedUE8M0(let rows): return try rows.packedUE8M0(psumLayout: psumLayout, settings: settings)
    }
}

/// What ``transformSFIntoRequiredLayout(_:mn:k:recipe:numGroups:isSFA:disableUE8M0Cast:psumLayout:settings:)``
/// does with a checked `sf` (spec §3.5), decided once for every backend.
package enum SFTransformation: Sendable {
    /// Case 1: ``getMNMajorTMAAlignedTensor(_:)``.
    case mnMajorTMAAligned
    /// Cases 2 and 4: `sf` itself.
    case unchanged
    /// Case 3: these (possibly row-broadcast) scales packed into MN-major UE8M0.
    case packedUE8M0(ScaleFactorBatches)

    /// Checks `sf` against the arguments and picks the case (`psumLayout` is checked when packing).
    package init(_ sf: Tensor, mn: Int, k: Int, recipe: ScaleRecipe, numGroups: Int?, isSFA: Bool?, disableUE8M0Cast: Bool,
                 settings: DeepGEMMSettings) throws {
        let (granMN, granK) = try recipe.granularities(isSFA: isSFA)
        try checkSFShape(sf, mn: mn, k: k, granMN: granMN, granK: granK, numGroups: numGroups)
        let isFloat = sf.dtype == .float32
        let keepsFloat = settings.arch == .sm90 || disableUE8M0Cast
        let packableGranK = granK == 32 || granK == 128

        if isFloat && granMN == 1 && granK == 128 && keepsFloat {
            _ = try ScaleFactorBatches(sf)
            self = .mnMajorTMAAligned
        } else if isFloat && granMN == 128 && granK == 128 && keepsFloat {
            try checkSM90SFBLayout(sf, isGrouped: numGroups != nil)
            self = .unchanged
        } else if isFloat && packableGranK && settings.arch == .sm100 {
            guard !disableUE8M0Cast else {
                throw DeepGEMMError.unsupported(argument: "disable_ue8m0_cast",
                                                rule: "SM100 needs f32 scale factors with (gran_mn, gran_k) = (\(granMN), \(granK)) cast to packed UE8M0")
            }
            self = .packedUE8M0(granMN == 1 ? try ScaleFactorBatches(sf) : try ScaleFactorBatches(sf, broadcastingRowsTo: mn, granMN: granMN))
        } else if !isFloat && granMN == 1 && packableGranK && settings.arch == .sm100 {
            try checkTMAAlignedMNMajorLayout(sf, mn: mn, isGrouped: numGroups != nil)
            self = .unchanged
        } else {
            throw DeepGEMMError.unsupported(
                argument: "recipe",
                rule: "Unknown SF transformation: \(sf.dtype) sf with (gran_mn, gran_k) = (\(granMN), \(granK)) from recipe \(recipe) "
                    + "on \(settings.arch) (disable_ue8m0_cast=\(disableUE8M0Cast))")
        }
    }
}

/// The shape checks every transformation starts with (DeepGEMM's `check_sf_layout`).
private func checkSFShape(_ sf: Tensor, mn: Int, k: Int, granMN: Int, granK: Int, numGroups: Int?) throws {
    try DeepGEMMError.require(mn >= 0, "mn", "must be non-negative, got \(mn)")
    try DeepGEMMError.require(k >= 0, "k", "must be non-negative, got \(k)")
    try DeepGEMMError.require(sf.dtype == .float32 || sf.dtype == .int32, "sf", "must be float32 or int32 (packed UE8M0), got \(sf.dtype)")
    let rank = numGroups == nil ? 2 : 3
    try DeepGEMMError.require(sf.rank == rank, "sf", "must be \(rank)-D \(numGroups == nil ? "without" : "with") num_groups, got shape \(sf.shape)")
    if let numGroups {
        try DeepGEMMError.require(sf.size(-3) == numGroups, "sf", "size(-3) must equal num_groups = \(numGroups), got \(sf.size(-3))")
    }
    let rows = ceilDiv(mn, granMN)
    try DeepGEMMError.require(sf.size(-2) == rows, "sf", "size(-2) must be ceil(mn / gran_mn) = ceil(\(mn) / \(granMN)) = \(rows), got \(sf.size(-2))")
    // A packed Int32 column holds 4 UE8M0 scales; a granularity too large for 4·gran_k to fit an Int
    // covers any K in one column, as Int.max does.
    let packed = granK.multipliedReportingOverflow(by: 4)
    let kPerColumn = sf.dtype == .float32 ? granK : (packed.overflow ? Int.max : packed.partialValue)
    let columns = ceilDiv(k, kPerColumn)
    try DeepGEMMError.require(sf.size(-1) == columns, "sf",
                              "size(-1) must be ceil(k / \(sf.dtype == .float32 ? "gran_k" : "(4·gran_k)")) = ceil(\(k) / \(kPerColumn)) = \(columns) for \(sf.dtype), got \(sf.size(-1))")
}

/// SM90's per-block SFB must be contiguous or contiguous after swapping the last two dimensions,
/// with compact groups.
private func checkSM90SFBLayout(_ sf: Tensor, isGrouped: Bool) throws {
    if isGrouped {
        try DeepGEMMError.require(sf.stride(-3) == sf.size(-2) * sf.size(-1), "sf",
                                  "stride(-3) must be size(-2)·size(-1) = \(sf.size(-2) * sf.size(-1)), got \(sf.stride(-3))")
    }
    let rowMajor = sf.stride(-1) == 1 && sf.stride(-2) == sf.size(-1)
    let columnMajor = sf.stride(-1) == sf.size(-2) && sf.stride(-2) == 1
    try DeepGEMMError.require(rowMajor || columnMajor, "sf",
                              "must be contiguous or contiguous after transposing the last two dimensions, got strides \(sf.strides) for shape \(sf.shape)")
}

/// Packed UE8M0 scale factors must already be MN-major and TMA-aligned, with compact groups.
private func checkTMAAlignedMNMajorLayout(_ sf: Tensor, mn: Int, isGrouped: Bool) throws {
    if isGrouped {
        try DeepGEMMError.require(sf.stride(-3) == sf.stride(-1) * sf.size(-1), "sf",
                                  "stride(-3) must be stride(-1)·size(-1) = \(sf.stride(-1) * sf.size(-1)), got \(sf.stride(-3))")
    }
    try DeepGEMMError.require(sf.stride(-2) == 1 || mn == 1, "sf", "must be MN-major (stride(-2) == 1), got strides \(sf.strides)")
    let aligned = tmaAlignedMN(mn)
    try DeepGEMMError.require(sf.stride(-1) == aligned, "sf", "stride(-1) must be the TMA-aligned MN align(\(mn), 4) = \(aligned), got \(sf.stride(-1))")
}
