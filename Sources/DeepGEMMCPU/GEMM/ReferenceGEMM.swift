import DeepGEMMCore

/// The plain-Swift definition of ``GEMMEngine``'s arithmetic, element by element (sequential
/// products inside each K block). Slow; the ground truth the faster paths are checked against.
enum ReferenceGEMM {
    static func run(a: GEMMOperand, b: GEMMOperand, d: Tensor, accumulate: Bool) {
        let block = GEMMEngine.scaleBlock(a, b)
        let output = SendablePointer(d.dataPointer)
        let bf16 = d.dtype == .bfloat16, size = d.dtype.size
        let rowStride = d.strides[0], columnStride = d.strides[1]
        CPUParallelism.forEachChunk(a.rows) { rows in
            for i in rows {
                for j in 0..<b.rows {
                    var acc: Float = 0
                    var start = 0
                    while start < a.k {
                        let end = min(a.k, start + block)
                        var partial: Float = 0
                        for kk in start..<end { partial += a.value(row: i, k: kk) * b.value(row: j, k: kk) }
                        let scale = (a.scales?.scale(row: i, k: start) ?? 1) * (b.scales?.scale(row: j, k: start) ?? 1)
                        acc += a.scales == nil && b.scales == nil ? partial : partial * scale
                        start = end
                    }
                    storeGEMMResult(acc, to: output.raw + (i * rowStride + j * columnStride) * size, bf16: bf16, accumulate: accumulate)
                }
            }
        }
    }
}
