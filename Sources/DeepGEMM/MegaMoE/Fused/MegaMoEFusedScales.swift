import DeepGEMMCore

/// The F32 scale grids the CPU GEMM engine reads, built from the packed UE8M0 bytes of the fused
/// path: the weights' transformed scales and the activations' scales in the rings. Every byte b
/// becomes ``UE8M0/scaleValue(_:)`` (2^(b-127)), the conversion the unfused path's grouped GEMMs
/// apply, so both paths multiply by the same values.
enum MegaMoEFusedScales {
    /// Fills `grid` (F32 [rows, K/32], row-major) with the scales of expert `expert` of a transformed
    /// weight scale tensor `sf` (Int32 [E_l, rows, K/128], MN-major, rows UTCCP-transposed): row n of
    /// the grid is the weight row n of the (interleaved, for L1) data the kernel multiplies.
    static func weightGrid(_ sf: Tensor, expert: Int, into grid: UnsafeMutablePointer<Float>, threads: Int) {
        let (rows, words) = (sf.size(1), sf.size(2))
        let columnStride = sf.stride(2)
        let base = SendablePointer(sf.dataPointer + expert * sf.stride(0) * 4), out = SendablePointer(UnsafeMutableRawPointer(grid))
        CPUParallelism.forEachChunk(rows, grain: 256, threads: threads) { range in
            decode(packed: base.raw.assumingMemoryBound(to: Int32.self), columnStride: columnStride, words: words, firstRow: 0, rows: range,
                   into: out.raw.assumingMemoryBound(to: Float.self))
        }
    }

    /// Fills `grid` (F32 [count, K/32]) with the scales of ring tokens `first ..< first + count` of a
    /// ring SF region at `ring` (packed words MN-major: word w of SF row r at `w · sfRingRows + r`).
    static func activationGrid(ring: UnsafeRawPointer, sfRingRows: Int, words: Int, first: Int, count: Int,
                               into grid: UnsafeMutablePointer<Float>) {
        decode(packed: ring.assumingMemoryBound(to: Int32.self), columnStride: sfRingRows, words: words, firstRow: first, rows: 0..<count,
               into: grid)
    }

    /// Rows `rows` of a grid with `4 · words` scales per row: grid row i holds the bytes of SF row
    /// `utccpDestinationRow(firstRow + i)`, whose word w is at `w · columnStride`.
    private static func decode(packed: UnsafePointer<Int32>, columnStride: Int, words: Int, firstRow: Int, rows: Range<Int>,
                               into grid: UnsafeMutablePointer<Float>) {
        // Sixteen rows at a time: a row's words lie `columnStride` words apart, often a multiple of
        // 4 KiB, so a row-at-a-time pass would read all of them from one cache set.
        for first in stride(from: rows.lowerBound, to: rows.upperBound, by: 16) {
            let block = first..<min(first + 16, rows.upperBound)
            for w in 0..<words {
                for i in block {
                    UE8M0.storeScaleValues(of: packed[w &* columnStride &+ MegaMoEWeightLayout.utccpDestinationRow(firstRow &+ i)], count: 4,
                                           to: grid + (i &* words &* 4 &+ 4 &* w))
                }
            }
        }
    }
}
