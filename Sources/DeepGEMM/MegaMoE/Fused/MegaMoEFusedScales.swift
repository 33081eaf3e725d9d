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
            let packed = base.raw.assumingMemoryBound(to: Int32.self), values = out.raw.assumingMemoryBound(to: Float.self)
            // Sixteen rows at a time: a row's words lie `columnStride` words apart, often a multiple of
            // 4 KiB, so a row-at-a-time pass would read all of them from one cache set.
            for first in stride(from: range.lowerBound, to: range.upperBound, by: 16) {
                let block = first..<min(first + 16, range.upperBound)
                for w in 0..<words {
                    for n in block {
                        UE8M0.storeScaleValues(of: packed[w &* columnStride &+ MegaMoEWeightLayout.utccpDestinationRow(n)], count: 4,
                                               to: values + (n &* words &* 4 &+ 4 &* w))
                    }
                }
            }
        }
    }

    /// Fills `grid` (F32 [count, K/32]) with the scales of ring tokens `first ..< first + count` of a
    /// ring SF region at `ring` (packed words MN-major: word w of SF row r at `w · sfRingRows + r`).
    static func activationGrid(ring: UnsafeRawPointer, sfRingRows: Int, words: Int, first: Int, count: Int,
                               into grid: UnsafeMutablePointer<Float>) {
        let packed = ring.assumingMemoryBound(to: Int32.self)
        for i in 0..<count {
            let row = MegaMoEWeightLayout.utccpDestinationRow(first + i)
            for w in 0..<words { UE8M0.storeScaleValues(of: packed[w * sfRingRows + row], count: 4, to: grid + i * words * 4 + 4 * w) }
        }
    }
}
