/// DeepGEMM's `k_grouped_bf16_gemm_tn_contiguous(a, b, d, ks_cpu, grouped_layout, c, compiled_dims="mn",
/// use_psum_layout=False)` (spec §8): the MoE weight-gradient GEMM
/// `D[g] = C[g] + A[K_g]ᵀ · B[K_g]` for each group g, where `K_g` are group g's rows of the stacked K.
///
/// - `a`: BF16 [ΣK, M], `b`: BF16 [ΣK, N], both contiguous. `d`: F32 [G, M, N], contiguous.
/// - `c`: required (DeepGEMM fails without it), contiguous, d's shape and dtype; usually `c` is `d`.
/// - Groups (``GroupedKRanges``): `ksCPU` lists the K sizes (each a multiple of
///   α = `settings.mkAlignmentForContiguousLayout`, which must be a multiple of 32, summing to ΣK) and
///   `groupedLayout` (int32 [G]) repeats them; with `usePsumLayout`, `groupedLayout` holds cumulative
///   group ends (group g starts at `align(L[g-1], α)`) and `ksCPU` may be nil or empty.
/// - Empty groups leave `D[g] = C[g]`. K tails of any length are computed. Spec §4 applies to C
///   and D (``checkGEMMOutput(m:n:k:d:c:)``): nothing happens for M == 0 or N == 0, and D = C
///   when ΣK is 0.
/// - Rules: by default the union of SM90's and SM100's (see ``GEMMRules``), which is SM100's. With
///   `strictArch` and `settings.arch` SM90 (``DeepGEMMError/unsupported(argument:rule:)``): no
///   PSUM, `ksCPU` required, every K size a multiple of 128.
///
/// `compiledDims` is a compilation hint of the CUDA kernels and has no effect on the result.
public func kGroupedBF16GEMMTNContiguous(
    a: Tensor, b: Tensor, d: Tensor, ksCPU: [Int]?, groupedLayout: Tensor, c: Tensor?,
    compiledDims: String? = nil, usePsumLayout: Bool = false,
    settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    try Device.requireHost(op: "k_grouped_bf16_gemm_tn_contiguous", [("a", a), ("b", b), ("d", d), ("grouped_layout", groupedLayout), ("c", c)])
    let output = try checkKGroupedOutput(d: d, c: c)
    try DeepGEMMError.require(a.rank == 2, "a", "must be 2-D [ΣK, M], got shape \(a.shape)")
    try DeepGEMMError.require(b.rank == 2, "b", "must be 2-D [ΣK, N], got shape \(b.shape)")
    try DeepGEMMError.require(a.dtype == .bfloat16, "a", "must be bfloat16, got \(a.dtype)")
    try DeepGEMMError.require(b.dtype == .bfloat16, "b", "must be bfloat16, got \(b.dtype)")
    let groups = try kGroupedRanges(a: a, b: b, output: output, ksCPU: ksCPU, groupedLayout: groupedLayout,
                                    usePsumLayout: usePsumLayout, settings: settings)
    if strictArch && settings.arch == .sm90 {
        try requireSM90KGroupedLayout(ksCPU: ksCPU, usePsumLayout: usePsumLayout)
    }
    let action = try checkGEMMOutput(m: output.m, n: output.n, k: groups.sumK, d: d, c: c)
    guard try prepareGEMMOutput(action, d: d, c: c).run else { return }
    for (group, range) in groups.ranges.enumerated() where !range.isEmpty {
        let aGroup = try a.narrow(dim: 0, start: range.lowerBound, length: range.count).transposed()
        let bGroup = try b.narrow(dim: 0, start: range.lowerBound, length: range.count).transposed()
        try GEMMEngine.run(a: GEMMOperand(format: .bf16, rows: output.m, k: range.count, data: aGroup),
                           b: GEMMOperand(format: .bf16, rows: output.n, k: range.count, data: bGroup),
                           d: d.select(dim: 0, index: group), accumulate: true)
    }
}

/// The checks shared by the stacked-K layouts (`a` [ΣK, M], `b` [ΣK, N], both contiguous): α a
/// multiple of 32, the group layout, and the sizes against d.
func kGroupedRanges(a: Tensor, b: Tensor, output: GroupedKOutputShape, ksCPU: [Int]?, groupedLayout: Tensor,
                    usePsumLayout: Bool, settings: DeepGEMMSettings) throws -> GroupedKRanges {
    let alignment = settings.mkAlignmentForContiguousLayout
    try DeepGEMMError.require(alignment > 0 && alignment % 32 == 0, "mk_alignment", "must be a positive multiple of 32 for k-grouped GEMMs, got \(alignment)")
    let groups = try GroupedKRanges(ksCPU: ksCPU, groupedLayout: groupedLayout, numGroups: output.groups,
                                    usePsumLayout: usePsumLayout, kAlignment: alignment, totalK: a.size(0))
    try DeepGEMMError.require(a.size(1) == output.m, "a", "must be [ΣK, M] with M = \(output.m) (from d), got shape \(a.shape)")
    try DeepGEMMError.require(b.shape == [groups.sumK, output.n], "b", "must be [ΣK, N] = [\(groups.sumK), \(output.n)], got shape \(b.shape)")
    try DeepGEMMError.require(a.isContiguous, "a", "must be contiguous, got strides \(a.strides) for shape \(a.shape)")
    try DeepGEMMError.require(b.isContiguous, "b", "must be contiguous, got strides \(b.strides) for shape \(b.shape)")
    return groups
}

/// SM90's BF16 k-grouped kernel: no PSUM layout, host K sizes required, each a multiple of 128.
private func requireSM90KGroupedLayout(ksCPU: [Int]?, usePsumLayout: Bool) throws {
    if usePsumLayout {
        throw DeepGEMMError.unsupported(argument: "use_psum_layout", rule: "k-grouped GEMMs have no PSUM layout under arch sm90")
    }
    for (group, k) in (ksCPU ?? []).enumerated() where k % 128 != 0 {
        throw DeepGEMMError.unsupported(argument: "ks_cpu", rule: "group \(group) has K = \(k); under arch sm90 every K must be a multiple of 128")
    }
}
