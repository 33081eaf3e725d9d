import Testing
import DeepGEMM
@testable import DeepGEMMCPU

/// The scalar definitions the indexer kernels follow.
@Suite struct MQAArithmeticTests {
    /// RNE of an exactly representable Double to BF16, from the Double's bits (no double rounding).
    static func bf16(exact x: Double) -> Float {
        let bits = x.bitPattern, half: UInt64 = 1 << 44
        let lower = bits & ((1 << 45) - 1)
        var upper = bits >> 45
        if lower > half || (lower == half && upper & 1 == 1) { upper += 1 }
        return Float(Double(bitPattern: upper << 45))
    }

    @Test func bf16FMARoundsOnceLikeAnExactSum() {
        var generator = SeededGenerator(seed: 17)
        func randomBF16(_ scale: Double) -> Float { BFloat16(Float(generator.nextNormal() * scale)).floatValue }
        var checked = 0
        for trial in 0..<20000 {
            let a = randomBF16(4), b = randomBF16(1), c = randomBF16(trial % 2 == 0 ? 1e-6 : 8)
            guard a != 0, b != 0, c != 0 else { continue }
            let exact = Double(a) * Double(b) + Double(c)
            #expect(MQAReferenceArithmetic.bf16FMA(a, b, c) == Self.bf16(exact: exact), "a=\(a) b=\(b) c=\(c)")
            checked += 1
        }
        #expect(checked > 19000)
        // A product exactly halfway between two BF16 values: a tiny addend decides the direction,
        // which rounding the binary32 sum first would lose.
        let tie = Float(1 + 0x1p-8)
        #expect(MQAReferenceArithmetic.bf16FMA(tie, 1, 0x1p-30) == Float(1 + 0x1p-7))
        #expect(MQAReferenceArithmetic.bf16FMA(tie, 1, -0x1p-30) == 1)
        #expect(MQAReferenceArithmetic.bf16FMA(-tie, 1, -0x1p-30) == -Float(1 + 0x1p-7))
        #expect(MQAReferenceArithmetic.bf16FMA(tie, 1, 0) == 1)
    }

    @Test func fp8ScoreAddsOddThenEvenProducts() {
        let q: [Float] = [0x1p24, 0, 3, -1]
        let k: [Float] = [1, 1, 1, 1]
        // Pair 0 gives 2^24; pair 1 adds -1 (exact: 2^24 - 1), then 3 (exact: 2^24 + 2). Adding 3
        // first would round 2^24 + 3 up to 2^24 + 4, and 2^24 + 3 again after the -1.
        #expect(MQAReferenceArithmetic.fp8Score(q, k, dim: 4) == 0x1p24 + 2)
    }

    @Test func headReductionUsesFourChains() {
        // Heads 0 and 2 share no chain with 1 and 3; (c0 + c2) + (c1 + c3) loses the 1 against 2^24 only once.
        let scores: [Float] = [0x1p24, 1, 1, 1, -5, 0, 0, 0]
        let weights: [Float] = [1, 1, 1, 1, 1, 1, 1, 1]
        #expect(MQAReferenceArithmetic.reduceF32(scores, heads: 8, weights: weights, kvScale: nil) == 0x1p24 + 2)
        #expect(MQAReferenceArithmetic.reduceF32(scores, heads: 8, weights: weights, kvScale: 0.5) == 0x1p23 + 1)
    }
}
