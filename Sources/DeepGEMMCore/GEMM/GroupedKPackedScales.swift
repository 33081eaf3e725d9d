/// The scale factors of one operand of the SM100 k-grouped FP8 GEMM (spec §3.4, §8) as packed UE8M0
/// rows, from which each group's dense F32 grid is read.
///
/// Group g owns `ceil(k_g / gran_k)` scale rows of its own (quantized per group); packed, they take
/// `ceil(k_g / (4·gran_k))` Int32 rows, starting after the packed rows of the groups before it.
public struct GroupedKPackedScales: Sendable {
    /// Int32 [P, MN], contiguous.
    public let packed: Tensor
    /// K elements per scale.
    public let granK: Int
    /// The K sizes of the groups.
    public let groupSizes: [Int]
    /// The first packed row of each group.
    public let firstPackedRows: [Int]

    /// Takes `sf` (named `name`, for an operand with `mn` columns): F32 [Σ ceil(k_g/gran_k), MN]
    /// powers of two, packed with ``getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(_:groupedLayout:ksCPU:granK:kAlignment:usePsumLayout:)``,
    /// or an already packed Int32 [P, MN]: contiguous, `MN % 4 == 0`, `P > 0`, and (DeepGEMM's check,
    /// with `ksCPU` and without PSUM) `P >= Σ ceil(ks_cpu[g] / (4·gran_k))`. Either way the packed rows
    /// of every group must exist.
    public init(_ sf: Tensor, name: String, mn: Int, groups: GroupedKRanges, ksCPU: [Int]?, groupedLayout: Tensor,
                granK: Int, kAlignment: Int, usePsumLayout: Bool) throws {
        try DeepGEMMError.require(sf.rank == 2 && sf.size(1) == mn, name, "must be 2-D [rows, \(mn)] (K-block rows, MN contiguous), got shape \(sf.shape)")
        switch sf.dtype {
        case .float32:
            do {
                packed = try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(sf, groupedLayout: groupedLayout, ksCPU: ksCPU, granK: granK,
                                                                           kAlignment: kAlignment, usePsumLayout: usePsumLayout)
            } catch DeepGEMMError.invalidArgument(_, let rule) {
                // The layout, ks_cpu, gran_k and α were checked before; what the packer still rejects is the SF.
                throw DeepGEMMError.invalidArgument(argument: name, rule: rule)
            }
        case .int32:
            try DeepGEMMError.require(sf.isContiguous, name, "packed scales must be contiguous, got strides \(sf.strides)")
            try DeepGEMMError.require(mn % 4 == 0, name, "packed scales need MN % 4 == 0, got MN = \(mn)")
            try DeepGEMMError.require(sf.size(0) > 0, name, "packed scales need at least one row")
            let ks = ksCPU ?? []
            if !ks.isEmpty && !usePsumLayout {
                let needed = ks.reduce(0) { $0 + ceilDiv($1, 4 * granK) }
                try DeepGEMMError.require(sf.size(0) >= needed, name, "needs at least Σ ceil(ks_cpu / (4·gran_k)) = \(needed) packed rows, got \(sf.size(0))")
            }
            packed = sf
        default:
            throw DeepGEMMError.invalidArgument(argument: name, rule: "must be float32 or packed UE8M0 int32, got \(sf.dtype)")
        }
        self.granK = granK
        groupSizes = groups.sizes
        var next = 0
        firstPackedRows = groupSizes.map { k in
            defer { next += ceilDiv(k, 4 * granK) }
            return next
        }
        try DeepGEMMError.require(next <= packed.size(0), name, "the groups need \(next) packed rows, got \(packed.size(0))")
    }

    /// Group `group`'s scales as an F32 grid [MN, ceil(k_g / gran_k)] (byte j % 4 of packed row j / 4
    /// is the exponent of K block j; byte 0 reads as 2^-127, as the hardware does).
    public func grid(group: Int) throws -> ScaleGrid {
        let mn = packed.size(1), blocks = ceilDiv(groupSizes[group], granK)
        let values = Tensor(zeros: [mn, blocks], dtype: .float32)
        let words = UnsafeRawPointer(packed.dataPointer).assumingMemoryBound(to: Int32.self)
        let output = values.dataPointer.assumingMemoryBound(to: Float.self)
        let first = firstPackedRows[group]
        for block in 0..<blocks {
            let row = words + (first + block / 4) * mn
            for column in 0..<mn {
                output[column * blocks + block] = UE8M0.scaleValue(UE8M0.byte(row[column], block % 4))
            }
        }
        return ScaleGrid(ue8m0Decoded: values, granK: granK)
    }
}
