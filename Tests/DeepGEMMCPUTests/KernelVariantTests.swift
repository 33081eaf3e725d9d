import Testing
import DeepGEMMCore
@testable import DeepGEMMCPU

/// Every fast kernel variant must give the same bits as the plain-Swift reference.
@Suite struct KernelVariantTests {
    static let fastVariants = CPUKernelVariant.supported.filter { $0 != .reference }

    /// A BF16/F32 input with NaN, infinities, zero groups and values near the FP8 rounding edges.
    static func edgyInput(_ shape: [Int], dtype: DType, seed: UInt64) -> Tensor {
        let x = Tensor.randn(shape, dtype: .float32, seed: seed, scale: 3)
        let p = x.dataPointer.assumingMemoryBound(to: Float.self)
        let n = x.count
        if n > 40 {
            p[3] = .nan; p[7] = .infinity; p[11] = -.infinity; p[13] = 448; p[17] = -464; p[19] = 1e-12
            for i in 20..<min(n, 36) { p[i] = 0 }
        }
        return x.converted(to: dtype)
    }

    @Test(arguments: [DType.bfloat16, .float32, .float16], [32, 128])
    func perTokenFP8MatchesReference(dtype: DType, granK: Int) throws {
        for (m, n) in [(1, 1), (3, 300), (17, 513), (5, 1024)] {
            let x = Self.edgyInput([m, n], dtype: dtype, seed: UInt64(m * 1000 + n))
            for ue8m0 in [false, true] {
                let expected = try perTokenCastToFP8(x, useUE8M0: ue8m0, granK: granK, variant: .reference)
                for variant in Self.fastVariants {
                    let got = try perTokenCastToFP8(x, useUE8M0: ue8m0, granK: granK, variant: variant)
                    #expect(got.data.bitwiseEqual(expected.data), "data \(variant) m=\(m) n=\(n)")
                    #expect(got.sf.bitwiseEqual(expected.sf), "sf \(variant) m=\(m) n=\(n)")
                }
            }
        }
    }

    /// Outputs of 8M+ elements take the streaming-store path of the AVX-512 kernel.
    @Test(arguments: [DType.bfloat16, .float32])
    func largePerTokenFP8MatchesPortable(dtype: DType) throws {
        let x = Self.edgyInput([1024, 8192], dtype: dtype, seed: 11)
        for ue8m0 in [false, true] {
            let expected = try perTokenCastToFP8(x, useUE8M0: ue8m0, variant: .portable)
            for variant in Self.fastVariants where variant != .portable {
                let got = try perTokenCastToFP8(x, useUE8M0: ue8m0, variant: variant)
                #expect(got.data.bitwiseEqual(expected.data) && got.sf.bitwiseEqual(expected.sf), "\(variant) ue8m0=\(ue8m0)")
            }
        }
    }

    @Test(arguments: [DType.bfloat16, .float32])
    func perTokenFP4MatchesReference(dtype: DType) throws {
        for (m, n, granK) in [(1, 2, 32), (3, 64, 32), (7, 300, 128), (4, 1024, 128)] {
            let x = Self.edgyInput([m, n], dtype: dtype, seed: UInt64(n))
            for (ue8m0, packed) in [(false, false), (true, false), (true, true)] {
                let expected = try perTokenCastToFP4(x, useUE8M0: ue8m0, granK: granK, usePackedUE8M0: packed, variant: .reference)
                for variant in Self.fastVariants {
                    let got = try perTokenCastToFP4(x, useUE8M0: ue8m0, granK: granK, usePackedUE8M0: packed, variant: variant)
                    #expect(got.data.bitwiseEqual(expected.data), "data \(variant) n=\(n)")
                    #expect(got.sf.bitwiseEqual(expected.sf), "sf \(variant) n=\(n)")
                }
            }
        }
    }

    @Test func perChannelBlockAndCustomDimsMatchReference() throws {
        let x = Self.edgyInput([256, 300], dtype: .bfloat16, seed: 5)
        let x3 = Self.edgyInput([6, 5, 70], dtype: .bfloat16, seed: 6)
        for variant in Self.fastVariants {
            for ue8m0 in [false, true] {
                let channel = try (perChannelCastToFP8(x, useUE8M0: ue8m0, variant: .reference), perChannelCastToFP8(x, useUE8M0: ue8m0, variant: variant))
                #expect(channel.0.data.bitwiseEqual(channel.1.data) && channel.0.sf.bitwiseEqual(channel.1.sf))
                let block = try (perBlockCastToFP8(x, useUE8M0: ue8m0, granK: 64, variant: .reference), perBlockCastToFP8(x, useUE8M0: ue8m0, granK: 64, variant: variant))
                #expect(block.0.data.bitwiseEqual(block.1.data) && block.0.sf.bitwiseEqual(block.1.sf))
                for dims in [[0], [0, 1], [1], [0, 2], [2]] {
                    let a = try perCustomDimsCastToFP8(x3, dims: dims, useUE8M0: ue8m0, variant: .reference)
                    let b = try perCustomDimsCastToFP8(x3, dims: dims, useUE8M0: ue8m0, variant: variant)
                    #expect(a.data.bitwiseEqual(b.data) && a.sf.bitwiseEqual(b.sf), "dims \(dims) \(variant)")
                }
            }
        }
    }

    @Test(arguments: [DType.float32, .bfloat16, .float16, .float8E4M3, .float8E5M2])
    func bulkConversionMatchesReference(source: DType) throws {
        // Every 16-bit pattern as F32 inputs covers ties, subnormals, infinities and NaN of each target.
        var patterns = (0..<65536).map { Float(bitPattern: UInt32($0) << 16 | UInt32($0 & 0x1F) << 11) }
        patterns += (0..<4096).map { Float(bitPattern: 0x4380_0000 + UInt32($0) * 0x100) }  // 256...512 band
        let x = try Tensor(patterns, shape: [patterns.count]).converted(to: source)
        for target in [DType.float32, .bfloat16, .float16, .float8E4M3, .float8E5M2] where target != source {
            for overflow in [FP8Overflow.nan, .saturate] {
                let expected = try convert(x, to: target, overflow: overflow, variant: .reference)
                for variant in Self.fastVariants {
                    let got = try convert(x, to: target, overflow: overflow, variant: variant)
                    #expect(got.bitwiseEqual(expected), "\(source)->\(target) \(overflow) \(variant)")
                }
            }
        }
    }
}
