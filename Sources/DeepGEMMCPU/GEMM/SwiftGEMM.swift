import DeepGEMMCore

/// The plain-Swift GEMM behind ``CPUKernelVariant/reference``, the portable path the C variants
/// are tested against.
///
/// Both operands are decoded to F32 panels (6 rows of A, 8 rows of B). A 6 x 8 tile of
/// `SIMD8<Float>` accumulators runs over the whole K: each scale block's partial sums are formed
/// in order along K (multiply, then add; no FMA, which the baseline target lacks) and folded in as
/// `acc += p * (sa * sb)`; unscaled GEMMs add the products straight into the accumulators (twelve
/// 128-bit accumulators fit the baseline target's sixteen registers). Work items of 16 x 4 tiles
/// run in parallel.
enum SwiftGEMM {
    /// Rows of A and of B per tile.
    static let rowsA = 6, rowsB = 8
    /// Tiles along A and along B per work item.
    static let itemTilesA = 16, itemTilesB = 4

    /// Computes `D (+)= A · Bᵀ` by ``GEMMEngine``'s contract (shapes already checked).
    static func run(a: GEMMOperand, b: GEMMOperand, d: Tensor, accumulate: Bool) {
        let k = a.k
        let scaled = a.scales != nil || b.scales != nil
        let block = GEMMEngine.scaleBlock(a, b)
        let blocks = scaled ? ceilDiv(k, block) : 0
        let panelsA = SwiftGEMMPanels(a, width: rowsA, block: block, blocks: blocks)
        let panelsB = SwiftGEMMPanels(b, width: rowsB, block: block, blocks: blocks)
        defer {
            panelsA.deallocate()
            panelsB.deallocate()
        }
        let output = SendablePointer(d.dataPointer)
        let bf16 = d.dtype == .bfloat16, size = d.dtype.size
        let rowStride = d.strides[0], columnStride = d.strides[1]
        let m = a.rows, n = b.rows
        let tilesA = ceilDiv(m, rowsA), tilesB = ceilDiv(n, rowsB)
        let itemsA = ceilDiv(tilesA, itemTilesA), itemsB = ceilDiv(tilesB, itemTilesB)
        CPUParallelism.forEachChunk(itemsA * itemsB) { items in
            for item in items {
                let firstB = (item / itemsA) * itemTilesB, firstA = (item % itemsA) * itemTilesA
                for tileB in firstB..<min(tilesB, firstB + itemTilesB) {
                    for tileA in firstA..<min(tilesA, firstA + itemTilesA) {
                        let acc = scaled
                            ? scaledTile(panelsA, panelsB, tileA, tileB, block: block)
                            : plainTile(panelsA.panelValues(tileA), panelsB.panelValues(tileB), k: k)
                        for r in 0..<min(rowsA, m - tileA * rowsA) {
                            let row = tileA * rowsA + r
                            for j in 0..<min(rowsB, n - tileB * rowsB) {
                                let column = tileB * rowsB + j
                                storeGEMMResult(acc[r][j], to: output.raw + (row * rowStride + column * columnStride) * size,
                                                bf16: bf16, accumulate: accumulate)
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// An unscaled tile: `acc += a * b` along the whole K.
    private static func plainTile(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int) -> [SIMD8<Float>] {
        var c0 = SIMD8<Float>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
        for kk in 0..<k {
            let bv = load8(b + kk * rowsB), av = a + kk * rowsA
            c0 += SIMD8(repeating: av[0]) * bv
            c1 += SIMD8(repeating: av[1]) * bv
            c2 += SIMD8(repeating: av[2]) * bv
            c3 += SIMD8(repeating: av[3]) * bv
            c4 += SIMD8(repeating: av[4]) * bv
            c5 += SIMD8(repeating: av[5]) * bv
        }
        return [c0, c1, c2, c3, c4, c5]
    }

    /// A block-scaled tile: per block, partial sums `p` in order along K, then `acc += p * (sa * sb)`.
    private static func scaledTile(_ panelsA: SwiftGEMMPanels, _ panelsB: SwiftGEMMPanels, _ tileA: Int, _ tileB: Int,
                                   block: Int) -> [SIMD8<Float>] {
        let a = panelsA.panelValues(tileA), b = panelsB.panelValues(tileB)
        let sa = panelsA.panelScales(tileA), sb = panelsB.panelScales(tileB)
        let k = panelsA.k
        var c0 = SIMD8<Float>(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
        for blk in 0..<panelsA.blocks {
            var p0 = SIMD8<Float>(), p1 = p0, p2 = p0, p3 = p0, p4 = p0, p5 = p0
            for kk in blk * block..<min(k, (blk + 1) * block) {
                let bv = load8(b + kk * rowsB), av = a + kk * rowsA
                p0 += SIMD8(repeating: av[0]) * bv
                p1 += SIMD8(repeating: av[1]) * bv
                p2 += SIMD8(repeating: av[2]) * bv
                p3 += SIMD8(repeating: av[3]) * bv
                p4 += SIMD8(repeating: av[4]) * bv
                p5 += SIMD8(repeating: av[5]) * bv
            }
            let sbv = load8(sb + blk * rowsB), sav = sa + blk * rowsA
            c0 += p0 * (SIMD8(repeating: sav[0]) * sbv)
            c1 += p1 * (SIMD8(repeating: sav[1]) * sbv)
            c2 += p2 * (SIMD8(repeating: sav[2]) * sbv)
            c3 += p3 * (SIMD8(repeating: sav[3]) * sbv)
            c4 += p4 * (SIMD8(repeating: sav[4]) * sbv)
            c5 += p5 * (SIMD8(repeating: sav[5]) * sbv)
        }
        return [c0, c1, c2, c3, c4, c5]
    }
}
