/// Runs an m-grouped contiguous GEMM on the CPU: each segment's rows of A times its group's B,
/// written (not accumulated) into the same rows of D.
func runGroupedRowSegments(_ segments: [GroupedRowSegment], a: GEMMOperand, b: (Int) throws -> GEMMOperand, d: Tensor) throws {
    for segment in segments {
        let rows = segment.rows
        try GEMMEngine.run(a: a.rowSlice(rows), b: b(segment.group),
                           d: d.narrow(dim: 0, start: rows.lowerBound, length: rows.count), accumulate: false)
    }
}

/// Runs an m-grouped masked GEMM on the CPU: for each group g, the first `rowCounts[g]` rows of
/// `a(g)` times `b(g)` into the same rows of `d[g]`; the other rows of `d` are not touched.
func runMaskedGroups(rowCounts: [Int], a: (Int) throws -> GEMMOperand, b: (Int) throws -> GEMMOperand, d: Tensor) throws {
    for (group, count) in rowCounts.enumerated() where count > 0 {
        try GEMMEngine.run(a: a(group).rowSlice(0..<count), b: b(group),
                           d: d.select(dim: 0, index: group).narrow(dim: 0, start: 0, length: count), accumulate: false)
    }
}

/// The layout checks of the m-grouped contiguous GEMMs: nt or nn only, and
/// `expected_m_for_psum_layout` (an nt argument) absent for nn.
func requireMGroupedLayout(_ layout: GEMMLayout, expectedMForPsumLayout: Int?) throws {
    try DeepGEMMError.require(layout == .nt || layout == .nn, "layout", "m-grouped contiguous GEMMs exist as nt and nn only, got \(layout.rawValue)")
    try DeepGEMMError.require(layout == .nt || expectedMForPsumLayout == nil, "expected_m_for_psum_layout", "is an argument of the nt op only")
}

/// A K-major check with the m-grouped ops' wording: DeepGEMM's kernels read A (and, for masked
/// GEMMs, B) with K contiguous.
func requireKMajor(_ tensor: Tensor, name: String) throws {
    try DeepGEMMError.require(checkABMajor(tensor, name: name) == .k, name, "must be K-major (stride(-1) == 1), got strides \(tensor.strides)")
}

/// `n > 0`, `k > 0` and `G > 0`, as every m-grouped GEMM asserts.
func requirePositiveGroupedSizes(n: Int, k: Int, groups: Int) throws {
    try DeepGEMMError.require(n > 0, "b", "N must be positive")
    try DeepGEMMError.require(k > 0, "a", "K must be positive")
    try DeepGEMMError.require(groups > 0, "b", "must hold at least one group (G > 0)")
}

/// The shape rules of the masked m-grouped GEMMs (spec §7.2) once G, Mmax, N and K are read from
/// a [G, Mmax, K] and b [G, N, K]: b, d and `masked_m` agree on them, and `expected_m`, Mmax, N, K
/// and G are positive.
func requireMaskedShapes(groups: Int, m: Int, n: Int, k: Int, b: Tensor, kOfB: Int, d: Tensor, maskedM: Tensor, expectedM: Int) throws {
    try DeepGEMMError.require(b.size(0) == groups, "b", "must have G = \(groups) groups (from a), got shape \(b.shape)")
    try DeepGEMMError.require(kOfB == k, "b", "K of b (\(kOfB)) must equal K of a (\(k))")
    try DeepGEMMError.require(d.rank == 3 && d.shape == [groups, m, n], "d", "must be [G, Mmax, N] = [\(groups), \(m), \(n)], got shape \(d.shape)")
    try DeepGEMMError.require(maskedM.count == groups, "masked_m", "must hold one entry per group (\(groups)), got \(maskedM.count)")
    try DeepGEMMError.require(expectedM > 0, "expected_m", "must be positive, got \(expectedM)")
    try DeepGEMMError.require(m > 0, "a", "Mmax must be positive")
    try requirePositiveGroupedSizes(n: n, k: k, groups: groups)
}
