import DeepGEMM

/// Bitwise comparison of the fused results with the unfused ones.
enum MoEComparison {
    /// The first difference between the fused and unfused `y` (BF16) and stats (Int32) of each
    /// rank, as one line; nil when every tensor matches bit for bit.
    static func firstMismatch(fusedY: [Tensor], unfusedY: [Tensor], fusedStats: [Tensor], unfusedStats: [Tensor]) throws -> String? {
        for rank in unfusedY.indices {
            if let difference = try difference(fusedY[rank], unfusedY[rank], as: UInt16.self) {
                return "rank \(rank) y \(difference)"
            }
            if let difference = try difference(fusedStats[rank], unfusedStats[rank], as: Int32.self) {
                return "rank \(rank) stats \(difference)"
            }
        }
        return nil
    }

    /// Where `fused` and `unfused` first differ (shape, or the first differing element with both
    /// bit patterns); nil when they are bitwise equal.
    private static func difference<T: BitwiseCopyable & FixedWidthInteger>(_ fused: Tensor, _ unfused: Tensor, as type: T.Type) throws -> String? {
        guard fused.shape == unfused.shape, fused.dtype == unfused.dtype else {
            return "shape: fused \(fused.dtype) \(fused.shape), unfused \(unfused.dtype) \(unfused.shape)"
        }
        if fused.bitwiseEqual(unfused) { return nil }
        let (a, b) = (try fused.elements(as: T.self), try unfused.elements(as: T.self))
        guard let index = a.indices.first(where: { a[$0] != b[$0] }) else { return nil }
        let columns = max(fused.shape.last ?? 1, 1)
        let position = fused.rank >= 2 ? "[\(index / columns), \(index % columns)]" : "[\(index)]"
        return "differs first at \(position): fused 0x\(String(a[index], radix: 16)), unfused 0x\(String(b[index], radix: 16))"
    }
}
