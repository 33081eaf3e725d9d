/// An f32 scale-factor tensor, 2-D `[MN, SK]` or 3-D `[B, MN, SK]`, seen as `B` batches (a 2-D
/// tensor is one batch). This is the common front half of the MN-major layout utilities (spec §3.2,
/// §3.3), which also build their outputs here.
///
/// A view may also broadcast rows: logical row `i` then reads tensor row `i / rowDivisor`, as
/// DeepGEMM's `index_select(-2, arange(mn) // gran_mn)` does before packing (spec §3.5 case 3).
package struct ScaleFactorBatches: Sendable {
    /// The tensor as given.
    package let tensor: Tensor
    /// True for a 3-D input; the outputs then keep the batch dimension.
    package let isBatched: Bool
    /// Number of batches (1 for a 2-D input).
    package let batches: Int
    /// Logical rows per batch (the MN extent).
    package let mn: Int
    /// Logical rows per tensor row: 1, or `gran_mn` for a broadcast view.
    package let rowDivisor: Int
    /// Scale factors per row (the K-block extent).
    package let sfK: Int
    /// Element strides of the batch (0 for a 2-D input), row and K dimensions.
    package let batchStride: Int, mnStride: Int, kStride: Int

    /// Checks that `sf` is a 2-D or 3-D f32 tensor.
    package init(_ sf: Tensor) throws {
        try DeepGEMMError.require(sf.rank == 2 || sf.rank == 3, "sf", "must be 2-D [MN, SK] or 3-D [B, MN, SK], got shape \(sf.shape)")
        try DeepGEMMError.require(sf.dtype == .float32, "sf", "must be float32, got \(sf.dtype)")
        tensor = sf
        isBatched = sf.rank == 3
        batches = isBatched ? sf.size(0) : 1
        batchStride = isBatched ? sf.stride(0) : 0
        (mn, sfK) = (sf.size(-2), sf.size(-1))
        (mnStride, kStride) = (sf.stride(-2), sf.stride(-1))
        rowDivisor = 1
    }

    /// The rows of `sf` broadcast to `mn` logical rows, `granMN` per tensor row. The caller has
    /// checked that `sf` has `ceil(mn / granMN)` rows.
    package init(_ sf: Tensor, broadcastingRowsTo mn: Int, granMN: Int) throws {
        let rows = try ScaleFactorBatches(sf)
        precondition(rows.mn == ceilDiv(mn, granMN), "broadcast needs ceil(mn / gran_mn) rows")
        tensor = sf
        (isBatched, batches, sfK) = (rows.isBatched, rows.batches, rows.sfK)
        (batchStride, mnStride, kStride) = (rows.batchStride, rows.mnStride, rows.kStride)
        self.mn = mn
        rowDivisor = granMN
    }

    /// Whether the logical tensor is contiguous. A broadcast view counts as contiguous: DeepGEMM
    /// materialises it into a fresh tensor.
    package var isContiguous: Bool { rowDivisor != 1 || tensor.isContiguous }

    /// `align(mn, 4)`: the row count every output column is padded to.
    package var alignedMN: Int { tmaAlignedMN(mn) }

    /// A new zero-filled MN-major tensor of `dtype` (4-byte elements) with the input's batch and
    /// row extents and `columns` columns: strides `(columns·alignedMN, 1, alignedMN)`, the batch
    /// dimension dropped for a 2-D input. Padding rows `mn..<alignedMN` stay zero.
    func makeMNMajorOutput(columns: Int, dtype: DType) -> Tensor {
        let geometry = mnMajorOutput(columns: columns)
        let storage = TensorStorage(byteCount: geometry.elements * dtype.size)
        return Tensor(unchecked: storage, dtype: dtype, shape: geometry.shape, strides: geometry.strides, offset: 0)
    }

    /// The shape and strides of an MN-major output with `columns` columns (see
    /// ``makeMNMajorOutput(columns:dtype:)``) and the elements its storage holds, padding included.
    package func mnMajorOutput(columns: Int) -> (shape: [Int], strides: [Int], elements: Int) {
        let aligned = alignedMN
        return (isBatched ? [batches, mn, columns] : [mn, columns], isBatched ? [columns * aligned, 1, aligned] : [1, aligned],
                batches * columns * aligned)
    }

    /// Whether `sf` already has the MN-major TMA-aligned strides `(align(MN,4)·SK, 1, align(MN,4))`
    /// (the batch stride is not checked for 2-D), so that ``getMNMajorTMAAlignedTensor(_:)`` returns it.
    package var hasMNMajorTMAAlignedStrides: Bool {
        (!isBatched || batchStride == alignedMN * sfK) && mnStride == 1 && kStride == alignedMN
    }

    /// The logical index of element `(batch, row, column)` as written in error messages.
    func indexDescription(batch: Int, row: Int, column: Int) -> String {
        isBatched ? "[\(batch), \(row), \(column)]" : "[\(row), \(column)]"
    }
}
