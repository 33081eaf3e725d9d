import Testing
import DeepGEMMCore
@testable import DeepGEMMCPU

/// Mega MoE's SwiGLU + weight + FP8 quantization (`dg_swiglu_fp8_row`) on every C level gives the
/// bits of the Swift definition, on any BF16 bit pattern (NaN, infinities, subnormals), extreme
/// weights, with and without the clamp, in both column layouts.
@Suite struct SwiGLUKernelLevelTests {
    static let levels = CPUKernelVariant.supported.filter { $0 != .reference }

    /// Random BF16 bit patterns: every class of value appears in a few thousand.
    static func randomBits(_ count: Int, seed: UInt64) -> [UInt16] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt16(truncatingIfNeeded: state >> 24)
        }
    }

    /// Codes and packed exponent words of one row by `variant`.
    static func quantize(_ values: [UInt16], upOffset: Int, chunkStride: Int, columns: Int, weight: Float,
                         activation: MegaMoESwiGLUArithmetic.BF16Activation, variant: CPUKernelVariant) -> ([UInt8], [Int32]) {
        var codes = [UInt8](repeating: 0xAA, count: columns)
        var words = [Int32](repeating: -1, count: (columns / 32 + 3) / 4)
        values.withUnsafeBufferPointer { row in
            codes.withUnsafeMutableBufferPointer { out in
                MegaMoESwiGLUArithmetic.quantizeRow(gate: row.baseAddress!, up: row.baseAddress! + upOffset, chunkStride: chunkStride,
                                                    columns: columns, weight: weight, activation: activation, variant: variant,
                                                    codes: out.baseAddress!, storeWord: { words[$0] = $1 })
            }
        }
        return (codes, words)
    }

    @Test(arguments: [true, false])
    func everyLevelMatchesTheDefinition(fastMath: Bool) {
        let columns = 224  // 7 groups: the last exponent word is partly unused
        // Split halves (gate | up, chunk stride 8) and the fused op's interleaving (chunks of 8, stride 16).
        let layouts = [(upOffset: columns, chunkStride: 8), (upOffset: 8, chunkStride: 16)]
        let weights: [Float] = [0.37, 1, Float(bitPattern: 0x0020_0000), 1e-30, 6e37, .infinity, .nan, 0]
        var row = 0
        for clamp in [nil, Float(4), Float(0.0078125)] {
            let activation = MegaMoESwiGLUArithmetic.BF16Activation(clamp: clamp, fastMath: fastMath)
            for layout in layouts {
                for weight in weights {
                    row += 1
                    var values = Self.randomBits(2 * columns, seed: UInt64(row))
                    // A group of small magnitudes only (subnormal E4M3 codes) and a group of zeros.
                    for i in 0..<8 { values[i] = 0x3C00 | UInt16(i); values[i + 16] = 0x3F80 }
                    for i in 0..<8 { values[32 + i] = 0; values[48 + i] = 0 }
                    let expected = Self.quantize(values, upOffset: layout.upOffset, chunkStride: layout.chunkStride, columns: columns,
                                                 weight: weight, activation: activation, variant: .reference)
                    #expect(expected.1.last! >> 24 == 0, "unused exponent byte")
                    // A NaN weight makes every activation NaN: the positive NaN code whatever the sign.
                    if weight.isNaN { #expect(expected.0.allSatisfy { $0 == 0x7F }) }
                    for level in Self.levels {
                        let got = Self.quantize(values, upOffset: layout.upOffset, chunkStride: layout.chunkStride, columns: columns,
                                                weight: weight, activation: activation, variant: level)
                        #expect(got.0 == expected.0, "codes: \(level) clamp \(String(describing: clamp)) weight \(weight) \(layout)")
                        #expect(got.1 == expected.1, "exponents: \(level) clamp \(String(describing: clamp)) weight \(weight) \(layout)")
                    }
                }
            }
        }
    }

    /// The reference closure form agrees with the scalar definition (no silu table) on one row.
    @Test func referenceFormIsTheScalarDefinition() {
        let columns = 64
        let values = Self.randomBits(2 * columns, seed: 99)
        let activation = MegaMoESwiGLUArithmetic.BF16Activation(clamp: 3, fastMath: false)
        let got = Self.quantize(values, upOffset: columns, chunkStride: 8, columns: columns, weight: 0.5, activation: activation,
                                variant: .reference)
        var codes = [UInt8](repeating: 0, count: columns), words = [Int32](repeating: 0, count: 1)
        codes.withUnsafeMutableBufferPointer { out in
            MegaMoESwiGLUArithmetic.quantizeRow(columns: columns, activation: { c in
                MegaMoESwiGLUArithmetic.activation(gate: BFloat16(bitPattern: values[c]).floatValue,
                                                   up: BFloat16(bitPattern: values[columns + c]).floatValue, weight: 0.5,
                                                   clamp: 3, fastMath: false)
            }, codes: out.baseAddress!, storeWord: { words[$0] = $1 })
        }
        #expect(got.0 == codes && got.1 == words)
    }
}
