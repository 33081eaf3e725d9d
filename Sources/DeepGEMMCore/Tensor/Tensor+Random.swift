/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64), so random tensors
/// are the same on every platform for a given seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = state.3 << 45 | state.3 >> 19
        return result
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal sample (Box-Muller).
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUnit(), u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

extension Tensor {
    /// A contiguous tensor of standard normal samples times `scale`, rounded to `dtype`.
    public static func randn(_ shape: [Int], dtype: DType, seed: UInt64, scale: Double = 1) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let result = Tensor(zeros: shape, dtype: dtype)
        let base = result.dataPointer, size = dtype.size
        for i in 0..<result.count { dtype.encode(generator.nextNormal() * scale, to: base + i * size) }
        return result
    }

    /// A contiguous tensor of uniform samples in [low, high), rounded to `dtype`.
    public static func uniform(_ shape: [Int], dtype: DType, seed: UInt64, low: Double = 0, high: Double = 1) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let result = Tensor(zeros: shape, dtype: dtype)
        let base = result.dataPointer, size = dtype.size
        for i in 0..<result.count { dtype.encode(low + (high - low) * generator.nextUnit(), to: base + i * size) }
        return result
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
