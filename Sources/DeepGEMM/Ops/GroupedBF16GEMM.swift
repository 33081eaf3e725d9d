import DeepGEMMCUDA

/// DeepGEMM's `m_grouped_bf16_gemm_{nt,nn}_contiguous(a, b, d, grouped_layout, compiled_dims="nk",
/// use_psum_layout=False, ensure_zero_padding=True[, expected_m_for_psum_layout])` (spec §7.1, §7.3):
/// the MoE GEMM over rows sorted by expert, `D[r] = A[r] · B[group(r)]ᵀ` with BF16 operands and F32
/// accumulation.
///
/// - `a`: BF16 [M, K], K-major. `b`: BF16 [G, N, K] for nt or [G, K, N] for nn (either major,
///   groups stacked densely). `d`: BF16 [M, N], row-major; rows are written, not accumulated.
/// - `groupedLayout` (int32, contiguous) and α = `settings.mkAlignmentForContiguousLayout` give the
///   rows of each group (see ``mGroupedContiguousSegments(groupedLayout:m:numGroups:usePsumLayout:ensureZeroPadding:alignment:)``):
///   without `usePsumLayout`, [M] group ids (-1 for padding) in α-row blocks, every valid row of a
///   block in the block's group (checked), padding rows computed with the block's group as on SM100;
///   with it, [G] cumulative group ends, gap rows up to the next multiple of α computed with the
///   group's B when `ensureZeroPadding` and untouched otherwise.
/// - `expectedMForPsumLayout` (nt only, PSUM only) and `compiledDims` are performance hints of the
///   CUDA kernels and do not change the result.
/// - Rules: N > 0, K > 0, G > 0; nothing happens for M == 0. With `strictArch` and `settings.arch`
///   SM90, K must be a multiple of 64 (``DeepGEMMError/unsupported(argument:rule:)``).
/// - Runs where the tensors are: host tensors on the CPU, CUDA tensors with the SM90 BF16 kernels on
///   the device's current stream (see ``Placement``); mixed devices throw naming the argument.
public func mGroupedBF16GEMMContiguous(
    _ layout: GEMMLayout, a: Tensor, b: Tensor, d: Tensor, groupedLayout: Tensor, compiledDims: String? = nil,
    usePsumLayout: Bool = false, ensureZeroPadding: Bool = true, expectedMForPsumLayout: Int? = nil,
    settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    let placement = try Placement([("a", a), ("b", b), ("d", d), ("grouped_layout", groupedLayout)])
    try requireMGroupedLayout(layout, expectedMForPsumLayout: expectedMForPsumLayout)
    try DeepGEMMError.require(a.rank == 2, "a", "must be 2-D [M, K], got shape \(a.shape)")
    try DeepGEMMError.require(b.rank == 3, "b", "must be 3-D [G, N, K] (nt) or [G, K, N] (nn), got shape \(b.shape)")
    let b = layout == .nn ? try b.transposed(1, 2) : b
    try requireKMajor(a, name: "a")
    _ = try checkABMajor(b, name: "b")
    let (m, k, groups, n) = (a.size(0), a.size(1), b.size(0), b.size(1))
    try DeepGEMMError.require(b.size(2) == k, "b", "K of b (\(b.size(2))) must equal K of a (\(k))")
    try DeepGEMMError.require(d.rank == 2 && d.shape == [m, n], "d", "must be [M, N] = [\(m), \(n)], got shape \(d.shape)")
    try requirePositiveGroupedSizes(n: n, k: k, groups: groups)
    try DeepGEMMError.require(a.dtype == .bfloat16, "a", "must be bfloat16, got \(a.dtype)")
    try DeepGEMMError.require(b.dtype == .bfloat16, "b", "must be bfloat16, got \(b.dtype)")
    try DeepGEMMError.require(d.dtype == .bfloat16, "d", "must be bfloat16, got \(d.dtype)")
    try checkMGroupedContiguousLayout(groupedLayout, m: m, numGroups: groups, usePsumLayout: usePsumLayout,
                                      expectedMForPsumLayout: expectedMForPsumLayout)
    try checkCDMajor(d, name: "d")
    try requireSM90BF16GroupedK(k, rules: GEMMRules(settings: settings, strictArch: strictArch))
    if m == 0 { return }
    if case .cuda(let stream) = placement {
        let problem = GEMMProblem(kind: usePsumLayout ? .mGroupedContiguousPsum : .mGroupedContiguous, m: m, n: n, k: k, numGroups: groups,
                                  majorB: try checkABMajor(b, name: "b"), expectedM: expectedMForPsumLayout,
                                  mkAlignment: settings.mkAlignmentForContiguousLayout)
        try CUDABackend.mGroupedBF16GEMMContiguous(problem, a: a, b: b, d: d, groupedLayout: groupedLayout, compiledDims: compiledDims ?? "nk",
                                                   options: RuntimeSettings.current.cudaOptions, stream: stream)
        return
    }
    let segments = try mGroupedContiguousSegments(groupedLayout: groupedLayout, m: m, numGroups: groups, usePsumLayout: usePsumLayout,
                                                  ensureZeroPadding: ensureZeroPadding, alignment: settings.mkAlignmentForContiguousLayout)
    try runGroupedRowSegments(segments, a: gemmOperand(a, name: "a", scales: nil),
                              b: { try gemmOperand(b.select(dim: 0, index: $0), name: "b", scales: nil) }, d: d)
}

/// DeepGEMM's `m_grouped_bf16_gemm_nt_masked(a, b, d, masked_m, expected_m, compiled_dims="nk")` and
/// its alias `bf16_m_grouped_gemm_nt_masked` (spec §7.2, §7.3): for each group g,
/// `D[g, r] = A[g, r] · B[g]ᵀ` for the rows `r < masked_m[g]`, BF16 operands, F32 accumulation.
///
/// - `a`: BF16 [G, Mmax, K], `b`: BF16 [G, N, K], both K-major with densely stacked groups.
///   `d`: BF16 [G, Mmax, N], row-major. Rows at or past `masked_m[g]` are not touched.
/// - `maskedM`: int32 [G], contiguous, each entry in `0...Mmax`.
/// - `expectedM` must be positive; like `compiledDims` it is a performance hint only.
/// - Rules: Mmax, N, K, G > 0. With `strictArch` and `settings.arch` SM90, K must be a multiple of 64.
/// - Runs where the tensors are: host tensors on the CPU, CUDA tensors with the SM90 BF16 kernels on
///   the device's current stream (see ``Placement``); mixed devices throw naming the argument.
public func mGroupedBF16GEMMNTMasked(
    a: Tensor, b: Tensor, d: Tensor, maskedM: Tensor, expectedM: Int, compiledDims: String? = nil,
    settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    let placement = try Placement([("a", a), ("b", b), ("d", d), ("masked_m", maskedM)])
    try DeepGEMMError.require(a.rank == 3, "a", "must be 3-D [G, Mmax, K], got shape \(a.shape)")
    try DeepGEMMError.require(b.rank == 3, "b", "must be 3-D [G, N, K], got shape \(b.shape)")
    try requireKMajor(a, name: "a")
    try requireKMajor(b, name: "b")
    let (groups, m, k, n) = (a.size(0), a.size(1), a.size(2), b.size(1))
    try requireMaskedShapes(groups: groups, m: m, n: n, k: k, b: b, kOfB: b.size(2), d: d, maskedM: maskedM, expectedM: expectedM)
    try DeepGEMMError.require(a.dtype == .bfloat16, "a", "must be bfloat16, got \(a.dtype)")
    try DeepGEMMError.require(b.dtype == .bfloat16, "b", "must be bfloat16, got \(b.dtype)")
    try DeepGEMMError.require(d.dtype == .bfloat16, "d", "must be bfloat16, got \(d.dtype)")
    try checkCDMajor(d, name: "d")
    try requireSM90BF16GroupedK(k, rules: GEMMRules(settings: settings, strictArch: strictArch))
    if case .cuda(let stream) = placement {
        // masked_m lives on the device: its values are the kernel's to read, as in DeepGEMM.
        let problem = GEMMProblem(kind: .mGroupedMasked, m: m, n: n, k: k, numGroups: groups, expectedM: expectedM)
        try CUDABackend.mGroupedBF16GEMMMasked(problem, a: a, b: b, d: d, maskedM: maskedM, compiledDims: compiledDims ?? "nk",
                                               options: RuntimeSettings.current.cudaOptions, stream: stream)
        return
    }
    let rowCounts = try mGroupedMaskedRowCounts(maskedM: maskedM, numGroups: groups, maxM: m)
    try runMaskedGroups(rowCounts: rowCounts, a: { try gemmOperand(a.select(dim: 0, index: $0), name: "a", scales: nil) },
                        b: { try gemmOperand(b.select(dim: 0, index: $0), name: "b", scales: nil) }, d: d)
}

/// SM90's BF16 m-grouped kernels read K in blocks of 64 without a tail.
private func requireSM90BF16GroupedK(_ k: Int, rules: GEMMRules) throws {
    if rules.arch == .sm90 && k % 64 != 0 {
        throw DeepGEMMError.unsupported(argument: "a", rule: "SM90 BF16 m-grouped GEMMs need K % 64 == 0, got K = \(k)")
    }
}
