/// DeepGEMM's `get_mn_major_tma_aligned_packed_ue8m0_tensor` (spec §3.3): the f32 scale factors
/// `sf` (`[MN, SK]` or `[B, MN, SK]`) packed four K-neighbours per int32 (UE8M0 bytes, little
/// endian, missing tail bytes 0) into an MN-major, TMA-aligned int32 tensor of shape
/// `[B?, MN, ceil(SK/4)]` with strides `(ceil(SK/4)·align(MN,4), 1, align(MN,4))`.
///
/// Every packed value must be +0 or a finite positive power of two; anything else throws
/// (DeepGEMM's device kernel asserts the same, its PyTorch fallback silently keeps the exponent).
/// A non-contiguous single-batch `sf` with `MN % 4 == 0` must be MN-major compact, strides `(1, MN)`.
///
/// With `psumLayout` (int32 `[G]`, contiguous, G > 0, group ends `L[g]`; `sf` must be a single,
/// contiguous batch), group `g` owns rows `[align(L[g-1], α), L[g])` (the first starts at 0), with
/// α = `settings.mkAlignmentForContiguousLayout`; rows outside every group pack to 0 and their
/// values are not read. Padding rows `MN..<align(MN,4)` are zero (DeepGEMM leaves them uninitialised).
public func getMNMajorTMAAlignedPackedUE8M0Tensor(
    _ sf: Tensor, psumLayout: Tensor? = nil, settings: DeepGEMMSettings = .default
) throws -> Tensor {
    try ScaleFactorBatches(sf).packedUE8M0(psumLayout: psumLayout, settings: settings)
}

extension ScaleFactorBatches {
    /// §3.3 on this (possibly row-broadcast) view.
    func packedUE8M0(psumLayout: Tensor?, settings: DeepGEMMSettings) throws -> Tensor {
        let rowRanges = try packedRowRanges(psumLayout: psumLayout, settings: settings)

        let packedK = ceilDiv(sfK, 4)
        let result = makeMNMajorOutput(columns: packedK, dtype: .int32)
        let input = UnsafeRawPointer(tensor.dataPointer), output = result.dataPointer
        let aligned = alignedMN
        for batch in 0..<batches {
            let outputBatch = batch * packedK * aligned
            for rows in rowRanges {
                // Sixteen rows at a time, so that each pack's stores fill one line of the MN-major
                // output (a row at a time stores at a stride of align(MN, 4) words, which for
                // power-of-two MN lands every store of a row in one cache set).
                for first in stride(from: rows.lowerBound, to: rows.upperBound, by: 16) {
                    let block = first..<min(first + 16, rows.upperBound)
                    // Branch-free over the block; a block holding an unpackable value is scanned
                    // again, row by row, for the first one, which the error names.
                    var unpackable: UInt32 = 0
                    for pack in 0..<packedK {
                        let count = min(4, sfK &- 4 &* pack)
                        let out = output + 4 &* (outputBatch &+ pack &* aligned)
                        for row in block {
                            let source = input + 4 &* (batch &* batchStride &+ (row / rowDivisor) &* mnStride &+ 4 &* pack &* kStride)
                            // Missing tail bytes read as +0, which packs to byte 0.
                            var bits = SIMD4<UInt32>(repeating: 0)
                            if count == 4 && kStride == 1 {
                                bits = source.loadUnaligned(as: SIMD4<UInt32>.self)
                            } else {
                                for byte in 0..<count { bits[byte] = source.loadUnaligned(fromByteOffset: 4 &* byte &* kStride, as: UInt32.self) }
                            }
                            unpackable |= ue8m0Unpackable(scaleBits: bits).max()
                            let packed = ((bits &>> 23) &<< SIMD4(0, 8, 16, 24)).wrappedSum()
                            out.storeBytes(of: packed, toByteOffset: 4 &* row, as: UInt32.self)
                        }
                    }
                    if unpackable != 0 {
                        for row in block { try requirePackable(batch: batch, row: row / rowDivisor) }
                    }
                }
            }
        }
        return result
    }

    /// Throws the error for the first value of tensor row `row` of batch `batch` that has no UE8M0
    /// encoding, if there is one (the rescan of a row that a branch-free pass found unpackable).
    package func requirePackable(batch: Int, row: Int) throws {
        let line = UnsafeRawPointer(tensor.dataPointer) + 4 * (batch * batchStride + row * mnStride)
        for column in 0..<sfK {
            let bits = line.loadUnaligned(fromByteOffset: 4 * column * kStride, as: UInt32.self)
            if ue8m0Byte(scaleBits: bits) == nil {
                throw unpackableScaleError(bits: bits, at: indexDescription(batch: batch, row: row, column: column))
            }
        }
    }

    /// Checks this view and `psumLayout` (host-readable) for the packing and returns the rows it
    /// packs: all of them, or those a PSUM layout marks valid.
    package func packedRowRanges(psumLayout: Tensor?, settings: DeepGEMMSettings) throws -> [Range<Int>] {
        if let psumLayout {
            try DeepGEMMError.require(batches == 1 && isContiguous, "sf",
                                      "with psum_layout must be one contiguous batch, got shape \(tensor.shape), strides \(tensor.strides)")
            return try psumRowRanges(psumLayout, alignment: settings.mkAlignmentForContiguousLayout)
        }
        if !isContiguous && batches == 1 && mn % 4 == 0 {
            try DeepGEMMError.require(mnStride == 1 && kStride == mn, "sf",
                                      "a non-contiguous sf with MN % 4 == 0 must be MN-major compact, strides (1, \(mn)), got \(tensor.strides)")
        }
        return [0..<mn]
    }

    /// The row ranges a PSUM layout marks valid, clipped to `0..<mn` (possibly overlapping, as
    /// DeepGEMM tests each row against every group).
    private func psumRowRanges(_ layout: Tensor, alignment: Int) throws -> [Range<Int>] {
        try DeepGEMMError.require(layout.dtype == .int32, "psum_layout", "must be int32, got \(layout.dtype)")
        try DeepGEMMError.require(layout.isContiguous, "psum_layout", "must be contiguous, got strides \(layout.strides) for shape \(layout.shape)")
        try DeepGEMMError.require(layout.count > 0, "psum_layout", "must hold at least one group end")
        try DeepGEMMError.require(alignment > 0, "mk_alignment_for_contiguous_layout",
                                  "must be positive to align PSUM group starts, got \(alignment)")
        let ends = try layout.elements(as: Int32.self).map(Int.init)
        try DeepGEMMError.require(ends.allSatisfy { $0 >= 0 }, "psum_layout", "group ends must be non-negative, got \(ends)")
        var ranges = [Range<Int>]()
        var start = 0
        for end in ends {
            let clipped = min(end, mn)
            if start < clipped { ranges.append(start..<clipped) }
            start = align(end, alignment)
        }
        return ranges
    }
}
