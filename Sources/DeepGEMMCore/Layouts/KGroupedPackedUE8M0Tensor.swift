/// DeepGEMM's `get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor` (spec §3.4): packs the
/// f32 scale factors of a K-grouped operand into UE8M0 int32, four K-block rows per packed row.
///
/// - `sf`: f32 `[SK_total, MN]`, contiguous, `MN % 4 == 0`: each group's `ceil(k_g / gran_k)`
///   K-block rows, groups one after another without gaps.
/// - `groupedLayout`: int32 `[G]`, contiguous, `G ≤ 128`. Without `usePsumLayout` it holds the
///   group sizes `k_g` and must equal `ksCPU`; with it, group ends `L[g]` where
///   `k_g = L[g] − align(L[g−1], kAlignment)` (`L[−1] = 0`) must be non-negative.
/// - `ksCPU`: per-group K sizes known on the host. Non-empty: `G` entries, output rows
///   `P = Σ ceil(k/(4·gran_k))`, and without PSUM `Σ ceil(k/gran_k) == SK_total`. Nil or empty
///   needs `usePsumLayout` and gives the upper bound `P = (SK_total + 3G) / 4`.
/// - `granK` ∈ {32, 128}; `kAlignment` a positive multiple of 32.
///
/// Returns int32 `[P, MN]`, row-major. Each group's packing restarts at a packed row: its packed
/// row `q` holds its SF rows `4q..4q+3` (bytes past the group are 0). Rows past the groups are
/// zero (DeepGEMM leaves them uninitialised). Every packed value must be +0 or a finite positive
/// power of two, and every SF row the groups read must exist in `sf`.
public func getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
    _ sf: Tensor, groupedLayout: Tensor, ksCPU: [Int]?, granK: Int, kAlignment: Int, usePsumLayout: Bool = false
) throws -> Tensor {
    let packing = try KGroupedPacking(sf, groupedLayout: groupedLayout, ksCPU: ksCPU, granK: granK, kAlignment: kAlignment,
                                      usePsumLayout: usePsumLayout)
    let mn = packing.mn
    let result = Tensor(zeros: [packing.rows.count, mn], dtype: .int32)
    let input = UnsafeRawPointer(sf.dataPointer), output = result.dataPointer
    for (outputRow, rows) in packing.rows.enumerated() {
        for column in 0..<mn {
            var packed: UInt32 = 0
            for byte in 0..<rows.count {
                let sfRow = rows.first + byte
                let bits = input.loadUnaligned(fromByteOffset: 4 * (sfRow * mn + column), as: UInt32.self)
                guard let exponent = ue8m0Byte(scaleBits: bits) else {
                    throw unpackableScaleError(bits: bits, at: "[\(sfRow), \(column)]")
                }
                packed |= UInt32(exponent) << (8 * UInt32(byte))
            }
            output.storeBytes(of: packed, toByteOffset: 4 * (outputRow * mn + column), as: UInt32.self)
        }
    }
    return result
}

/// The checked arguments of ``getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(_:groupedLayout:ksCPU:granK:kAlignment:usePsumLayout:)``
/// and which SF rows every packed row packs, computed once for every backend.
package struct KGroupedPacking: Sendable {
    /// MN, the columns of `sf` and of the result.
    package let mn: Int
    /// Per packed row: its first SF row and how many (0 to 4) consecutive SF rows it packs.
    package let rows: [(first: Int, count: Int)]

    /// Checks the arguments (`groupedLayout` must be readable on the host) and lays out the packed rows.
    package init(_ sf: Tensor, groupedLayout: Tensor, ksCPU: [Int]?, granK: Int, kAlignment: Int, usePsumLayout: Bool) throws {
        try DeepGEMMError.require(granK == 32 || granK == 128, "gran_k", "must be 32 or 128, got \(granK)")
        try DeepGEMMError.require(kAlignment > 0 && kAlignment % 32 == 0, "k_alignment", "must be a positive multiple of 32, got \(kAlignment)")
        try DeepGEMMError.require(sf.rank == 2, "sf", "must be 2-D [SK_total, MN], got shape \(sf.shape)")
        try DeepGEMMError.require(sf.dtype == .float32, "sf", "must be float32, got \(sf.dtype)")
        try DeepGEMMError.require(sf.isContiguous, "sf", "must be contiguous, got strides \(sf.strides) for shape \(sf.shape)")
        let (sfK, mn) = (sf.size(0), sf.size(1))
        let numGroups = groupedLayout.count
        try DeepGEMMError.require(numGroups <= 128, "grouped_layout", "must hold at most 128 groups, got \(numGroups)")
        try DeepGEMMError.require(mn % 4 == 0, "sf", "MN = size(1) must be a multiple of 4, got \(mn)")
        try DeepGEMMError.require(groupedLayout.dtype == .int32, "grouped_layout", "must be int32, got \(groupedLayout.dtype)")
        try DeepGEMMError.require(groupedLayout.isContiguous, "grouped_layout", "must be contiguous, got strides \(groupedLayout.strides)")

        let ks = ksCPU ?? []
        let packedRows: Int
        if ks.isEmpty {
            try DeepGEMMError.require(usePsumLayout, "ks_cpu", "must list the group K sizes unless use_psum_layout is set")
            packedRows = (sfK + 3 * numGroups) / 4
        } else {
            try DeepGEMMError.require(ks.count == numGroups, "ks_cpu", "must have one entry per group (\(numGroups)), got \(ks.count)")
            try DeepGEMMError.require(ks.allSatisfy { $0 >= 0 }, "ks_cpu", "K sizes must be non-negative, got \(ks)")
            let sfRows = ks.reduce(0) { $0 + ceilDiv($1, granK) }
            try DeepGEMMError.require(usePsumLayout || sfRows == sfK, "ks_cpu",
                                      "needs Σ ceil(k / gran_k) = \(sfRows) SF rows, sf has \(sfK)")
            packedRows = ks.reduce(0) { $0 + ceilDiv($1, 4 * granK) }
        }

        let layout = try groupedLayout.elements(as: Int32.self).map(Int.init)
        let groupKs = try kGroupSizes(layout: layout, ks: ks, kAlignment: kAlignment, usePsumLayout: usePsumLayout)
        var table = [(first: Int, count: Int)](repeating: (0, 0), count: packedRows)
        var sfRowStart = 0, packedRowStart = 0
        for (group, k) in groupKs.enumerated() {
            let groupSFRows = ceilDiv(k, granK)
            let readRows = min(groupSFRows, 4 * max(0, packedRows - packedRowStart))
            try DeepGEMMError.require(readRows == 0 || sfRowStart + readRows <= sfK, "grouped_layout",
                                      "group \(group) needs SF rows up to \(sfRowStart + readRows), sf has \(sfK)")
            for firstRow in stride(from: 0, to: readRows, by: 4) {
                table[packedRowStart + firstRow / 4] = (sfRowStart + firstRow, min(4, readRows - firstRow))
            }
            sfRowStart += groupSFRows
            packedRowStart += ceilDiv(groupSFRows, 4)
        }
        (self.mn, self.rows) = (mn, table)
    }
}

/// The per-group K sizes `k_g` the device reads from `grouped_layout` (spec §3.4).
private func kGroupSizes(layout: [Int], ks: [Int], kAlignment: Int, usePsumLayout: Bool) throws -> [Int] {
    guard usePsumLayout else {
        try DeepGEMMError.require(layout == ks, "grouped_layout", "must hold the same group K sizes as ks_cpu without use_psum_layout, got \(layout) and \(ks)")
        return layout
    }
    var sizes = [Int](), previousEnd = 0
    for (group, end) in layout.enumerated() {
        let start = align(previousEnd, kAlignment)
        try DeepGEMMError.require(end >= start, "grouped_layout",
                                  "PSUM group \(group) ends at \(end), before its start align(\(previousEnd), \(kAlignment)) = \(start)")
        sizes.append(end - start)
        previousEnd = end
    }
    return sizes
}
