import DeepGEMMCore

/// The plain-Swift lightning-indexer kernel (``CPUKernelVariant/reference``): the per-(query, key)
/// definition the C kernels are tested against.
enum MQAReferenceKernel {
    /// Writes the logits of `query` against `keys` lanes `lanes` (decoded reference panels) to
    /// `out`, lane l at element `l - lanes.lowerBound`.
    static func logits(query: MQAQueryPanel, keys: MQAKeyPanel, lanes: Range<Int>, weights: UnsafeRawPointer, weightsBF16: Bool,
                       out: UnsafeMutableRawPointer, outBF16: Bool) {
        let (heads, dim, blocks) = (query.heads, query.dim, query.dim / 32)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: heads) { scores in
            guard let s = scores.baseAddress else { return }
            for (local, lane) in lanes.enumerated() {
                var kvScale: Float?
                if query.format == .fp8 {
                    let q = UnsafePointer(query.storage.assumingMemoryBound(to: Float.self))
                    let k = UnsafePointer(keys.storage.assumingMemoryBound(to: Float.self)) + lane * dim
                    for h in 0..<heads { s[h] = MQAReferenceArithmetic.fp8Score(q + h * dim, k, dim: dim) }
                    kvScale = keys.scales[lane]
                } else {
                    let q = UnsafePointer(query.storage.assumingMemoryBound(to: Int8.self))
                    let qScales = UnsafePointer(query.referenceFP4Scales)
                    let k = UnsafePointer(keys.storage.assumingMemoryBound(to: Int8.self)) + lane * dim
                    let kScales = UnsafePointer(keys.scales) + lane * blocks
                    for h in 0..<heads {
                        s[h] = MQAReferenceArithmetic.fp4Score(q + h * dim, qScales + h * blocks, k, kScales, dim: dim)
                    }
                }
                let logit = weightsBF16
                    ? MQAReferenceArithmetic.reduceBF16(s, heads: heads, weights: weights.assumingMemoryBound(to: UInt16.self), kvScale: kvScale)
                    : MQAReferenceArithmetic.reduceF32(s, heads: heads, weights: weights.assumingMemoryBound(to: Float.self), kvScale: kvScale)
                if outBF16 {
                    out.storeBytes(of: BFloat16(logit).bitPattern, toByteOffset: 2 * local, as: UInt16.self)
                } else {
                    out.storeBytes(of: logit, toByteOffset: 4 * local, as: Float.self)
                }
            }
        }
    }
}
