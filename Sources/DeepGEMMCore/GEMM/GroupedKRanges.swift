/// The K layout of a k-grouped GEMM (spec §8.1): which rows of the stacked K dimension belong to
/// each group.
public struct GroupedKRanges: Sendable, Hashable {
    /// Group g's K rows `[ks_g, ks_g + k_g)`; empty for an empty group.
    public var ranges: [Range<Int>]
    /// DeepGEMM's `sum_k`: Σ `ks_cpu` when given, otherwise the K extent of the operands.
    public var sumK: Int

    /// The per-group K sizes `k_g`.
    public var sizes: [Int] { ranges.map(\.count) }

    /// DeepGEMM's `check_k_grouped_args` plus the checks that keep every group inside the operands.
    ///
    /// - `groupedLayout`: int32, contiguous, `numGroups` entries. Without PSUM it holds the group K
    ///   sizes and must equal `ksCPU`; with PSUM, cumulative ends `L[g]`, group g covering
    ///   `[align(L[g-1], α), L[g])` with `L[g] >= align(L[g-1], α)` and `L[G-1] <= sum_k`.
    /// - `ksCPU`: nil or empty needs `usePsumLayout` (then `sum_k = totalK`); otherwise `numGroups`
    ///   non-negative entries, each a multiple of `kAlignment` (α), and `sum_k = Σ ksCPU`.
    /// - `totalK`: the K extent the operands hold (`a.size(0)` for the stacked layouts), which must
    ///   equal `sum_k`; nil when the caller checks the operand sizes itself (then `ksCPU` is needed).
    public init(ksCPU: [Int]?, groupedLayout: Tensor, numGroups: Int, usePsumLayout: Bool, kAlignment: Int, totalK: Int?) throws {
        try DeepGEMMError.require(kAlignment > 0, "mk_alignment", "must be positive, got \(kAlignment)")
        try DeepGEMMError.require(groupedLayout.dtype == .int32, "grouped_layout", "must be int32, got \(groupedLayout.dtype)")
        try DeepGEMMError.require(groupedLayout.isContiguous, "grouped_layout", "must be contiguous, got strides \(groupedLayout.strides) for shape \(groupedLayout.shape)")
        try DeepGEMMError.require(groupedLayout.count == numGroups, "grouped_layout", "must hold one entry per group (\(numGroups)), got \(groupedLayout.count)")
        let layout = try groupedLayout.elements(as: Int32.self).map(Int.init)
        let ks = ksCPU ?? []
        if ks.isEmpty {
            try DeepGEMMError.require(usePsumLayout, "ks_cpu", "must list the group K sizes unless use_psum_layout is set")
            guard let totalK else { throw DeepGEMMError.invalidArgument(argument: "ks_cpu", rule: "must list the group K sizes") }
            sumK = totalK
        } else {
            try DeepGEMMError.require(ks.count == numGroups, "ks_cpu", "must have one entry per group (\(numGroups)), got \(ks.count)")
            for (group, k) in ks.enumerated() {
                try DeepGEMMError.require(k >= 0 && k % kAlignment == 0, "ks_cpu",
                                          "group \(group) has K = \(k); entries must be non-negative multiples of the K alignment \(kAlignment)")
            }
            sumK = ks.reduce(0, +)
            if let totalK {
                try DeepGEMMError.require(totalK == sumK, "a", "has \(totalK) K rows, but ks_cpu sums to \(sumK)")
            }
        }
        if usePsumLayout {
            ranges = try Self.psumRanges(ends: layout, alignment: kAlignment, sumK: sumK)
        } else {
            try DeepGEMMError.require(layout == ks, "grouped_layout", "must hold the same group K sizes as ks_cpu without use_psum_layout, got \(layout) and \(ks)")
            var start = 0
            ranges = ks.map { k in
                defer { start += k }
                return start..<(start + k)
            }
        }
    }

    /// The groups of a PSUM layout, checked to lie inside `[0, sumK)`.
    private static func psumRanges(ends: [Int], alignment: Int, sumK: Int) throws -> [Range<Int>] {
        var ranges = [Range<Int>](), previousEnd = 0
        for (group, end) in ends.enumerated() {
            let start = align(previousEnd, alignment)
            try DeepGEMMError.require(end >= start, "grouped_layout",
                                      "PSUM group \(group) ends at \(end), before its start align(\(previousEnd), \(alignment)) = \(start)")
            try DeepGEMMError.require(end <= sumK, "grouped_layout", "PSUM group \(group) ends at \(end), past the \(sumK) K rows of the operands")
            ranges.append(start..<end)
            previousEnd = end
        }
        return ranges
    }
}
