/// Rows of an m-grouped GEMM's A and D that are computed with one group's B.
public struct GroupedRowSegment: Sendable, Hashable {
    /// The group whose B multiplies these rows.
    public var group: Int
    /// The rows of A and D.
    public var rows: Range<Int>

    /// Creates a segment.
    public init(group: Int, rows: Range<Int>) {
        self.group = group
        self.rows = rows
    }
}

/// The rows an m-grouped contiguous GEMM (`m_grouped_*_gemm_{nt,nn}_contiguous`, spec §7.1) computes,
/// after checking `grouped_layout` against DeepGEMM's rules. α is `alignment`
/// (`settings.mkAlignmentForContiguousLayout`, BLOCK_M of the kernels).
///
/// - Layout form (`usePsumLayout == false`): `grouped_layout` is int32 `[M]`, the group of each row
///   or -1 for a padding row. Rows are taken in blocks of α; the group of a block is the entry of
///   its first row clamped to >= 0, and every valid row of the block must belong to that group
///   (otherwise DeepGEMM's kernels silently compute the row with the wrong B; here it throws).
///   Every row is computed with its block's group, padding rows included, as DeepGEMM's SM100
///   kernels do (a block of padding only uses group 0), so padding rows of A that are zero give
///   zero rows of D.
/// - PSUM form: `grouped_layout` is int32 `[G]` of cumulative group ends `L[g]`; group g owns rows
///   `[align(L[g-1], α), L[g])` (the first starts at 0), with `L[g] >= align(L[g-1], α)` and
///   `L[G-1] <= M`. With `ensureZeroPadding`, the gap rows `[L[g], align(L[g], α))` (clipped to M)
///   are computed with group g's B too; without it they are left untouched. Rows from
///   `align(L[G-1], α)` on are never touched.
///
/// Consecutive blocks of one group are merged into one segment; segments are disjoint and ordered.
public func mGroupedContiguousSegments(
    groupedLayout: Tensor, m: Int, numGroups: Int, usePsumLayout: Bool, ensureZeroPadding: Bool, alignment: Int
) throws -> [GroupedRowSegment] {
    try DeepGEMMError.require(alignment > 0, "mk_alignment", "must be positive (it is BLOCK_M of the m-grouped kernels), got \(alignment)")
    let entries = try groupedLayout.elements(as: Int32.self).map(Int.init)
    if usePsumLayout {
        return try psumSegments(ends: entries, m: m, alignment: alignment, ensureZeroPadding: ensureZeroPadding)
    }
    return try blockSegments(groups: entries, numGroups: numGroups, alignment: alignment)
}

/// Checks the dtype, contiguity and length of an m-grouped contiguous `grouped_layout`: int32 `[G]`
/// with PSUM, int32 `[M]` otherwise (where `expected_m_for_psum_layout` must be absent).
public func checkMGroupedContiguousLayout(
    _ groupedLayout: Tensor, m: Int, numGroups: Int, usePsumLayout: Bool, expectedMForPsumLayout: Int?
) throws {
    try DeepGEMMError.require(groupedLayout.dtype == .int32, "grouped_layout", "must be int32, got \(groupedLayout.dtype)")
    try DeepGEMMError.require(groupedLayout.isContiguous, "grouped_layout", "must be contiguous, got strides \(groupedLayout.strides) for shape \(groupedLayout.shape)")
    if usePsumLayout {
        try DeepGEMMError.require(groupedLayout.shape == [numGroups], "grouped_layout",
                                  "with use_psum_layout must be [G] = [\(numGroups)] group ends, got shape \(groupedLayout.shape)")
    } else {
        try DeepGEMMError.require(groupedLayout.shape == [m], "grouped_layout", "must be [M] = [\(m)] row groups, got shape \(groupedLayout.shape)")
        try DeepGEMMError.require(expectedMForPsumLayout == nil, "expected_m_for_psum_layout", "must be None unless use_psum_layout is set")
    }
}

/// Segments of the layout form: α-row blocks, each computed with the group of its first row.
private func blockSegments(groups: [Int], numGroups: Int, alignment: Int) throws -> [GroupedRowSegment] {
    var segments = [GroupedRowSegment]()
    for blockStart in stride(from: 0, to: groups.count, by: alignment) {
        let blockEnd = min(groups.count, blockStart + alignment)
        let blockGroup = max(groups[blockStart], 0)
        for row in blockStart..<blockEnd {
            let group = groups[row]
            try DeepGEMMError.require(group >= -1 && group < numGroups, "grouped_layout",
                                      "row \(row) has group \(group); entries must be -1 (padding) or in 0..<\(numGroups)")
            try DeepGEMMError.require(group == -1 || group == blockGroup, "grouped_layout",
                                      "row \(row) is in group \(group) but its \(alignment)-row block (rows \(blockStart)..<\(blockEnd)) "
                                        + "belongs to group \(blockGroup) (from its first row); groups must start at multiples of mk_alignment")
        }
        if let last = segments.last, last.group == blockGroup, last.rows.upperBound == blockStart {
            segments[segments.count - 1].rows = last.rows.lowerBound..<blockEnd
        } else {
            segments.append(GroupedRowSegment(group: blockGroup, rows: blockStart..<blockEnd))
        }
    }
    return segments
}

/// Segments of the PSUM form: each group's rows, plus its gap rows when they are written.
private func psumSegments(ends: [Int], m: Int, alignment: Int, ensureZeroPadding: Bool) throws -> [GroupedRowSegment] {
    var segments = [GroupedRowSegment]()
    var previousEnd = 0
    for (group, end) in ends.enumerated() {
        let start = align(previousEnd, alignment)
        try DeepGEMMError.require(end >= start, "grouped_layout",
                                  "PSUM group \(group) ends at \(end), before its start align(\(previousEnd), \(alignment)) = \(start)")
        try DeepGEMMError.require(end <= m, "grouped_layout", "PSUM group \(group) ends at \(end), past M = \(m)")
        let written = ensureZeroPadding ? min(align(end, alignment), m) : end
        if start < written { segments.append(GroupedRowSegment(group: group, rows: start..<written)) }
        previousEnd = end
    }
    return segments
}

/// The per-group row counts of an m-grouped masked GEMM (spec §7.2): `masked_m` int32 `[G]`,
/// contiguous, each entry in `0...maxM`.
public func mGroupedMaskedRowCounts(maskedM: Tensor, numGroups: Int, maxM: Int) throws -> [Int] {
    try DeepGEMMError.require(maskedM.dtype == .int32, "masked_m", "must be int32, got \(maskedM.dtype)")
    try DeepGEMMError.require(maskedM.isContiguous, "masked_m", "must be contiguous, got strides \(maskedM.strides) for shape \(maskedM.shape)")
    try DeepGEMMError.require(maskedM.count == numGroups, "masked_m", "must hold one entry per group (\(numGroups)), got \(maskedM.count)")
    let counts = try maskedM.elements(as: Int32.self).map(Int.init)
    for (group, count) in counts.enumerated() {
        try DeepGEMMError.require(count >= 0 && count <= maxM, "masked_m", "group \(group) has \(count) rows; entries must be in 0...\(maxM) (the M of a and d)")
    }
    return counts
}
