extension GEMMOperand {
    /// The operand made of rows `range` of this one (data and scales), for running a group's rows of
    /// an m-grouped GEMM. The operand must not be packed FP4 along its rows (A of the m-grouped
    /// GEMMs is K-major). A scale grid whose row blocks do not start at `range.lowerBound` is
    /// expanded to one scale row per data row.
    public func rowSlice(_ range: Range<Int>) throws -> GEMMOperand {
        precondition(format != .e2m1 || fp4PackedAlongK, "row slices of FP4 operands packed along rows are not supported")
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "row range \(range) outside 0..<\(rows)")
        let slicedData = try data.narrow(dim: 0, start: range.lowerBound, length: range.count)
        guard let scales else {
            return try GEMMOperand(format: format, rows: range.count, k: k, data: slicedData, fp4PackedAlongK: fp4PackedAlongK)
        }
        let slicedScales: ScaleGrid
        if range.lowerBound % scales.granRows == 0 {
            let first = range.lowerBound / scales.granRows
            let count = min(ceilDiv(range.count, scales.granRows), scales.values.size(0) - first)
            slicedScales = try scales.derived(values: scales.values.narrow(dim: 0, start: first, length: count), granRows: scales.granRows)
        } else {
            let blocks = scales.values.size(1)
            let expanded = Tensor(zeros: [range.count, blocks], dtype: .float32)
            for (local, row) in range.enumerated() {
                try expanded.select(dim: 0, index: local).copy(from: scales.values.select(dim: 0, index: row / scales.granRows))
            }
            slicedScales = try scales.derived(values: expanded, granRows: 1)
        }
        return try GEMMOperand(format: format, rows: range.count, k: k, data: slicedData, fp4PackedAlongK: fp4PackedAlongK, scales: slicedScales)
    }
}
