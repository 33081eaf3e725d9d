/// DeepGEMM's `m_grouped_fp8_fp4_gemm_{nt,nn}_contiguous(a, b, d, grouped_layout, recipe=None,
/// recipe_a=None, recipe_b=None, compiled_dims="nk", disable_ue8m0_cast=False, use_psum_layout=False,
/// ensure_zero_padding=True, expected_m_for_psum_layout=None)` and the aliases
/// `m_grouped_fp8_gemm_{nt,nn}_contiguous` (spec §7.1): the MoE GEMM over rows sorted by expert,
/// `D[r] = Adeq[r] · Bdeq[group(r)]ᵀ` with block-scaled FP8 or FP4 operands.
///
/// - `a`: `(data, sf)`, data FP8 E4M3 or packed FP4 (int8) [M, K] (K-major), sf [M, ceil(K/gk)]
///   F32 or packed UE8M0 Int32. `b`: data [G, N, K] for nt (K- or MN-major; FP4 packed along its
///   contiguous dimension), sf [G, ceil(N/gn), ceil(K/gk)]; nn takes data [G, K, N] and sf
///   [G, ceil(K/gk), ceil(N/gn)], both swapped back as DeepGEMM does.
/// - `d`: BF16 [M, N], row-major; rows are written, not accumulated.
/// - Recipes and scale factors as in ``fp8FP4GEMM(_:a:b:d:c:recipe:recipeA:recipeB:compiledDims:disableUE8M0Cast:settings:strictArch:)``,
///   with one B scale grid per group; with PSUM, A's scale rows outside every group are not read.
/// - Rows of each group: see ``mGroupedBF16GEMMContiguous(_:a:b:d:groupedLayout:compiledDims:usePsumLayout:ensureZeroPadding:expectedMForPsumLayout:settings:strictArch:)``
///   (α = `settings.mkAlignmentForContiguousLayout`; the layout form is checked block by block,
///   padding rows are computed with their block's group; PSUM gap rows are computed with the
///   group's B when `ensureZeroPadding`, otherwise left untouched).
/// - `expectedMForPsumLayout` (nt only, PSUM only) and `compiledDims` are hints with no effect.
/// - Rules: by default the union of SM90's and SM100's (see ``GEMMRules``); with `strictArch`,
///   `settings.arch`'s: SM90 takes FP8 with K-major B, F32 per-token A scales and the 1D2D kernel
///   (gran_n ≠ 1); SM100 needs power-of-two scales.
/// - Runs where the tensors are: host tensors on the CPU; CUDA tensors on an SM90 device with the
///   FP8 1D2D kernel under SM90's rules (K-major B, F32 scales; A's copied into the MN-major
///   TMA-aligned layout unless they are in it) on the device's current stream; mixed devices throw
///   naming the argument.
public func mGroupedFP8FP4GEMMContiguous(
    _ layout: GEMMLayout, a: QuantizedTensor, b: QuantizedTensor, d: Tensor, groupedLayout: Tensor,
    recipe: [Int]? = nil, recipeA: [Int]? = nil, recipeB: [Int]? = nil, compiledDims: String? = nil,
    disableUE8M0Cast: Bool = false, usePsumLayout: Bool = false, ensureZeroPadding: Bool = true,
    expectedMForPsumLayout: Int? = nil, settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    let placement = try Placement([("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("d", d), ("grouped_layout", groupedLayout)])
    try requireMGroupedLayout(layout, expectedMForPsumLayout: expectedMForPsumLayout)
    let rules = GEMMRules(settings: settings, strictArch: strictArch)
    try DeepGEMMError.require(a.data.rank == 2, "a", "must be 2-D [M, K], got shape \(a.data.shape)")
    let b = layout == .nn ? try transposedGroupedOperand(b) : b
    try requireKMajor(a.data, name: "a")
    try rules.checkFP8Majors(a: .k, b: checkABMajor(b.data, name: "b"))
    try rules.checkFP8FP4Operand(a.data, name: "a")
    try rules.checkFP8FP4Operand(b.data, name: "b")
    let shapeA = try gemmOperand(a.data, name: "a", scales: nil)
    let (groups, shapeB) = try groupedOperandShape(b.data)
    let (m, k, n) = (shapeA.rows, shapeA.k, shapeB.rows)
    try DeepGEMMError.require(shapeB.k == k, "b", "K of b (\(shapeB.k)) must equal K of a (\(k))")
    try DeepGEMMError.require(d.rank == 2 && d.shape == [m, n], "d", "must be [M, N] = [\(m), \(n)], got shape \(d.shape)")
    try requirePositiveGroupedSizes(n: n, k: k, groups: groups)
    try DeepGEMMError.require(d.dtype == .bfloat16, "d", "must be bfloat16, got \(d.dtype)")
    try checkMGroupedContiguousLayout(groupedLayout, m: m, numGroups: groups, usePsumLayout: usePsumLayout,
                                      expectedMForPsumLayout: expectedMForPsumLayout)
    try checkCDMajor(d, name: "d")
    if m == 0 { return }
    if case .cuda(let stream) = placement {
        let rules = FP8GEMMOnCUDA.rules(settings)
        try FP8GEMMOnCUDA.checkOperands(a: a, b: b, rules: rules)
        try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: recipeA, recipeB: recipeB, sfb: b.sf, d: d, hasC: false, allows1D1D: false)
        let problem = GEMMProblem(kind: usePsumLayout ? .mGroupedContiguousPsum : .mGroupedContiguous, m: m, n: n, k: k, numGroups: groups,
                                  typeA: a.data.dtype, typeB: b.data.dtype, kernelType: .oneD2D, expectedM: expectedMForPsumLayout,
                                  mkAlignment: settings.mkAlignmentForContiguousLayout)
        try CUDABackend.mGroupedFP8GEMMContiguous(problem, a: a.data, sfa: a.sf, b: b.data, sfb: b.sf, d: d, groupedLayout: groupedLayout,
                                                  compiledDims: compiledDims ?? "nk",
                                options: RuntimeSettings.current.cudaOptions, stream: stream)
        return
    }
    let scales = try rules.resolveScales(sfa: a.sf, sfb: b.sf, m: m, n: n, k: k, recipe: recipe, recipeA: recipeA, recipeB: recipeB,
                                         numGroupsB: groups, disableUE8M0Cast: disableUE8M0Cast,
                                         psumLayout: usePsumLayout ? groupedLayout : nil, settings: settings)
    try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: recipeA, recipeB: recipeB, sfb: b.sf, d: d, hasC: false, allows1D1D: false)
    let segments = try mGroupedContiguousSegments(groupedLayout: groupedLayout, m: m, numGroups: groups, usePsumLayout: usePsumLayout,
                                                  ensureZeroPadding: ensureZeroPadding, alignment: settings.mkAlignmentForContiguousLayout)
    try runGroupedRowSegments(segments, a: gemmOperand(a.data, name: "a", scales: scales.a[0]),
                              b: { try gemmOperand(b.data.select(dim: 0, index: $0), name: "b", scales: scales.b[$0]) }, d: d)
}

/// DeepGEMM's `m_grouped_fp8_fp4_gemm_nt_masked(a, b, d, masked_m, expected_m, recipe=None,
/// recipe_a=None, recipe_b=None, compiled_dims="nk", disable_ue8m0_cast=False)` and the aliases
/// `m_grouped_fp8_gemm_nt_masked`, `fp8_m_grouped_gemm_nt_masked` (spec §7.2): for each group g,
/// `D[g, r] = Adeq[g, r] · Bdeq[g]ᵀ` for the rows `r < masked_m[g]`.
///
/// - `a`: data FP8 or packed FP4 [G, Mmax, K], sf [G, Mmax, ceil(K/gk)]; `b`: data [G, N, K], sf
///   [G, ceil(N/gn), ceil(K/gk)]; both K-major with densely stacked groups. F32 scales of unused A
///   rows must still satisfy the rules (powers of two or zero under SM100).
/// - `d`: BF16 [G, Mmax, N], row-major. Rows at or past `masked_m[g]` are not touched.
/// - `maskedM`: int32 [G], contiguous, each entry in `0...Mmax`. `expectedM` must be positive; like
///   `compiledDims` it is a performance hint only.
/// - Recipes, scale factors and rules as in ``mGroupedFP8FP4GEMMContiguous(_:a:b:d:groupedLayout:recipe:recipeA:recipeB:compiledDims:disableUE8M0Cast:usePsumLayout:ensureZeroPadding:expectedMForPsumLayout:settings:strictArch:)``.
/// - Runs where the tensors are: host tensors on the CPU; CUDA tensors on an SM90 device with the
///   FP8 1D2D kernel under SM90's rules (F32 scales; A's copied into the MN-major TMA-aligned
///   layout per group unless they are in it) on the device's current stream; mixed devices throw
///   naming the argument.
public func mGroupedFP8FP4GEMMNTMasked(
    a: QuantizedTensor, b: QuantizedTensor, d: Tensor, maskedM: Tensor, expectedM: Int,
    recipe: [Int]? = nil, recipeA: [Int]? = nil, recipeB: [Int]? = nil, compiledDims: String? = nil,
    disableUE8M0Cast: Bool = false, settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    let placement = try Placement([("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("d", d), ("masked_m", maskedM)])
    let rules = GEMMRules(settings: settings, strictArch: strictArch)
    try requireKMajor(a.data, name: "a")
    try requireKMajor(b.data, name: "b")
    try rules.checkFP8FP4Operand(a.data, name: "a")
    try rules.checkFP8FP4Operand(b.data, name: "b")
    let (groups, shapeA) = try groupedOperandShape(a.data, name: "a", shapeName: "[G, Mmax, K]")
    let (_, shapeB) = try groupedOperandShape(b.data)
    let (m, k, n) = (shapeA.rows, shapeA.k, shapeB.rows)
    try requireMaskedShapes(groups: groups, m: m, n: n, k: k, b: b.data, kOfB: shapeB.k, d: d, maskedM: maskedM, expectedM: expectedM)
    try DeepGEMMError.require(d.dtype == .bfloat16, "d", "must be bfloat16, got \(d.dtype)")
    try checkCDMajor(d, name: "d")
    if case .cuda(let stream) = placement {
        // masked_m lives on the device: its values are the kernel's to read, as in DeepGEMM.
        let rules = FP8GEMMOnCUDA.rules(settings)
        try FP8GEMMOnCUDA.checkOperands(a: a, b: b, rules: rules)
        try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: recipeA, recipeB: recipeB, sfb: b.sf, d: d, hasC: false, allows1D1D: false)
        let problem = GEMMProblem(kind: .mGroupedMasked, m: m, n: n, k: k, numGroups: groups, typeA: a.data.dtype, typeB: b.data.dtype,
                                  kernelType: .oneD2D, expectedM: expectedM)
        try CUDABackend.mGroupedFP8GEMMMasked(problem, a: a.data, sfa: a.sf, b: b.data, sfb: b.sf, d: d, maskedM: maskedM,
                                              compiledDims: compiledDims ?? "nk",
                                options: RuntimeSettings.current.cudaOptions, stream: stream)
        return
    }
    let scales = try rules.resolveScales(sfa: a.sf, sfb: b.sf, m: m, n: n, k: k, recipe: recipe, recipeA: recipeA, recipeB: recipeB,
                                         numGroupsA: groups, numGroupsB: groups, disableUE8M0Cast: disableUE8M0Cast, settings: settings)
    try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: recipeA, recipeB: recipeB, sfb: b.sf, d: d, hasC: false, allows1D1D: false)
    let rowCounts = try mGroupedMaskedRowCounts(maskedM: maskedM, numGroups: groups, maxM: m)
    try runMaskedGroups(rowCounts: rowCounts, a: { try gemmOperand(a.data.select(dim: 0, index: $0), name: "a", scales: scales.a[$0]) },
                        b: { try gemmOperand(b.data.select(dim: 0, index: $0), name: "b", scales: scales.b[$0]) }, d: d)
}

/// The grouped operand `(data, sf)` of an nn call swapped back to nt: data and sf both with their
/// last two dimensions exchanged (DeepGEMM's `transpose(1, 2)`).
private func transposedGroupedOperand(_ b: QuantizedTensor) throws -> QuantizedTensor {
    try DeepGEMMError.require(b.data.rank == 3, "b", "must be 3-D [G, K, N] for nn, got shape \(b.data.shape)")
    try DeepGEMMError.require(b.sf.rank == 3, "b_sf", "must be 3-D [G, ceil(K/gk), ceil(N/gn)] for nn, got shape \(b.sf.shape)")
    return QuantizedTensor(data: try b.data.transposed(1, 2), sf: try b.sf.transposed(1, 2))
}

/// G and the per-group operand shape (rows, K; FP4 packing undone) of a 3-D grouped operand.
private func groupedOperandShape(_ data: Tensor, name: String = "b", shapeName: String = "[G, N, K]") throws -> (groups: Int, shape: GEMMOperand) {
    try DeepGEMMError.require(data.rank == 3, name, "must be 3-D \(shapeName), got shape \(data.shape)")
    try DeepGEMMError.require(data.size(0) > 0, name, "must hold at least one group (G > 0)")
    return (data.size(0), try gemmOperand(data.select(dim: 0, index: 0), name: name, scales: nil))
}
