import DeepGEMMCore

/// One operand of the plain-Swift GEMM decoded to F32 panels of `width` rows: panel p holds
/// `[k][width]` values (zero past the last row) and, for scaled GEMMs, `[blocks][width]` scales
/// taken at each block's first k (1 for an unscaled operand).
///
/// Workers write disjoint panels while filling; afterwards the panels are only read.
struct SwiftGEMMPanels: @unchecked Sendable {
    let width: Int
    let k: Int
    let blocks: Int
    let values: UnsafeMutablePointer<Float>
    let scales: UnsafeMutablePointer<Float>

    /// Decodes `op` in parallel over panels; `blocks` is 0 for an unscaled GEMM.
    init(_ op: GEMMOperand, width: Int, block: Int, blocks: Int) {
        let panels = ceilDiv(op.rows, width)
        self.width = width
        self.k = op.k
        self.blocks = blocks
        values = .allocate(capacity: max(1, panels * op.k * width))
        values.initialize(repeating: 0, count: max(1, panels * op.k * width))
        scales = .allocate(capacity: max(1, panels * blocks * width))
        scales.initialize(repeating: 0, count: max(1, panels * blocks * width))
        let filled = self
        CPUParallelism.forEachChunk(panels) { range in
            for panel in range { filled.fill(panel: panel, from: op, block: block) }
        }
    }

    /// Frees the panels.
    func deallocate() {
        values.deallocate()
        scales.deallocate()
    }

    /// The values of `panel`.
    func panelValues(_ panel: Int) -> UnsafePointer<Float> { UnsafePointer(values + panel * k * width) }

    /// The scales of `panel`.
    func panelScales(_ panel: Int) -> UnsafePointer<Float> { UnsafePointer(scales + panel * blocks * width) }

    private func fill(panel: Int, from op: GEMMOperand, block: Int) {
        let base = values + panel * k * width
        for r in 0..<width {
            let row = panel * width + r
            guard row < op.rows else { break }
            for kk in 0..<k { base[kk * width + r] = op.value(row: row, k: kk) }
            for b in 0..<blocks {
                scales[(panel * blocks + b) * width + r] = op.scales?.scale(row: row, k: b * block) ?? 1
            }
        }
    }
}
