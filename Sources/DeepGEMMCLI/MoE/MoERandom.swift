import DeepGEMM

/// Deterministic random streams of `deepgemm moe`: every tensor is drawn from its own generator,
/// seeded from (seed, what it is, whose it is), so any rank can regenerate its share alone.
enum MoERandom {
    /// What a stream generates.
    enum Stream: UInt64 {
        /// A rank's tokens `x`.
        case tokens = 1
        /// A rank's routing (`topk_idx`, `topk_weights`).
        case routing
        /// A global expert's L1 weights.
        case l1
        /// A global expert's L2 weights.
        case l2
    }

    /// The seed of `stream` for `index` (a rank or a global expert), mixed so that nearby inputs
    /// give unrelated sequences.
    static func seed(_ seed: UInt64, _ stream: Stream, _ index: Int) -> UInt64 {
        var generator = SeededGenerator(seed: seed ^ (stream.rawValue &* 0x9E37_79B9_7F4A_7C15))
        var mixed = generator.next() ^ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03
        mixed ^= mixed >> 29
        return mixed
    }

    /// Fills `count` bytes at `pointer` (a multiple of 8) with random bytes.
    static func fillBytes(_ pointer: UnsafeMutableRawPointer, count: Int, generator: inout SeededGenerator) {
        precondition(count % 8 == 0, "random byte runs are whole 64-bit words")
        for offset in stride(from: 0, to: count, by: 8) {
            pointer.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self)
        }
    }

    /// Fills `count` BF16 values at `pointer` (a multiple of 4) uniformly from [-bound, bound]:
    /// 16 random bits per value, so weights of gigabytes are generated in seconds.
    static func fillUniformBF16(_ pointer: UnsafeMutablePointer<UInt16>, count: Int, bound: Float, generator: inout SeededGenerator) {
        precondition(count % 4 == 0, "random BF16 runs are whole 64-bit words")
        let step = bound / 32768
        for index in stride(from: 0, to: count, by: 4) {
            let bits = generator.next()
            for lane in 0..<4 {
                let value = (Float(UInt16(truncatingIfNeeded: bits >> (16 * lane))) - 32767.5) * step
                pointer[index + lane] = BFloat16.encode(value.bitPattern)
            }
        }
    }
}
