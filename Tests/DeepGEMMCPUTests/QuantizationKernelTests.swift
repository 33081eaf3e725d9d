import Testing
import DeepGEMMCore
@testable import DeepGEMMCPU

/// The hand-written cast kernels (per-token FP8/FP4, per-block and per-channel FP8) at every
/// supported level against the Swift reference, bit for bit: tails of rows, groups and column
/// tiles, odd row counts, every source dtype, NaN and infinities anywhere, and outputs large
/// enough for the streaming-store path.
@Suite struct QuantizationKernelTests {
    static let fastVariants = CPUKernelVariant.supported.filter { $0 != .reference }

    /// Scaled Gaussian values with NaN, ±infinity, zero runs, values that round across FP8 and FP4
    /// midpoints, and tiny values (subnormal after scaling) at positions spread over the matrix.
    static func input(_ shape: [Int], dtype: DType, seed: UInt64) -> Tensor {
        let x = Tensor.randn(shape, dtype: .float32, seed: seed, scale: 3)
        let p = x.dataPointer.assumingMemoryBound(to: Float.self)
        let specials: [Float] = [.nan, .infinity, -.infinity, 448, -464, 1e-12, -0.0, 0, 5.0, -2.5, 0.25, 1e-5]
        var state = seed | 1
        for k in 0..<(x.count / 97) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            p[Int(state >> 33) % x.count] = specials[k % specials.count]
        }
        return x.converted(to: dtype)
    }

    /// Expects equal data and scale bits.
    static func expectSame(_ got: QuantizedTensor, _ want: QuantizedTensor, _ what: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.data.bitwiseEqual(want.data), "data \(what)", sourceLocation: sourceLocation)
        #expect(got.sf.bitwiseEqual(want.sf), "sf \(what)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [DType.bfloat16, .float32, .float16])
    func perBlockMatchesReference(dtype: DType) throws {
        // Column tiles are 64 KiB..128 KiB of input: n = 1100 spans several tiles with a short last one.
        for (m, n, granK) in [(1, 1, 128), (3, 300, 128), (130, 513, 128), (67, 1100, 32), (33, 70, 64), (5, 200, 100)] {
            let x = Self.input([m, n], dtype: dtype, seed: UInt64(m * 7 + n))
            for ue8m0 in [false, true] {
                let want = try perBlockCastToFP8(x, useUE8M0: ue8m0, granK: granK, variant: .reference)
                for variant in Self.fastVariants {
                    Self.expectSame(try perBlockCastToFP8(x, useUE8M0: ue8m0, granK: granK, variant: variant), want,
                                    "\(variant) \(dtype) m=\(m) n=\(n) gran=\(granK) ue8m0=\(ue8m0)")
                }
            }
        }
    }

    @Test(arguments: [DType.bfloat16, .float32, .float16])
    func perChannelMatchesReference(dtype: DType) throws {
        for (m, n, granK) in [(128, 1, 128), (128, 300, 128), (96, 1030, 32), (256, 65, 128), (9, 77, 3)] {
            let x = Self.input([m, n], dtype: dtype, seed: UInt64(m * 11 + n))
            for ue8m0 in [false, true] {
                let want = try perChannelCastToFP8(x, useUE8M0: ue8m0, granK: granK, variant: .reference)
                for variant in Self.fastVariants {
                    Self.expectSame(try perChannelCastToFP8(x, useUE8M0: ue8m0, granK: granK, variant: variant), want,
                                    "\(variant) \(dtype) m=\(m) n=\(n) gran=\(granK) ue8m0=\(ue8m0)")
                }
            }
        }
    }

    @Test(arguments: [DType.bfloat16, .float32, .float16])
    func perTokenMatchesReference(dtype: DType) throws {
        for (m, n, granK) in [(1, 2, 32), (3, 130, 128), (17, 514, 64), (5, 1000, 128), (2, 96, 96)] {
            let x = Self.input([m, n], dtype: dtype, seed: UInt64(m * 13 + n))
            for ue8m0 in [false, true] {
                let fp8 = try perTokenCastToFP8(x, useUE8M0: ue8m0, granK: granK, variant: .reference)
                let fp4 = try perTokenCastToFP4(x, useUE8M0: ue8m0, granK: granK, variant: .reference)
                for variant in Self.fastVariants {
                    let what = "\(variant) \(dtype) m=\(m) n=\(n) gran=\(granK) ue8m0=\(ue8m0)"
                    Self.expectSame(try perTokenCastToFP8(x, useUE8M0: ue8m0, granK: granK, variant: variant), fp8, "fp8 " + what)
                    Self.expectSame(try perTokenCastToFP4(x, useUE8M0: ue8m0, granK: granK, variant: variant), fp4, "fp4 " + what)
                }
            }
        }
    }

    /// Outputs of 8 MiB and more take the streaming-store path; the portable kernel (checked
    /// against the reference above) is the oracle at this size.
    @Test func largeCastsMatchPortable() throws {
        let x = Self.input([1024, 8192], dtype: .bfloat16, seed: 3)
        let wide = Self.input([2048, 8192], dtype: .bfloat16, seed: 4)
        let block = try perBlockCastToFP8(x, useUE8M0: false, variant: .portable)
        let channel = try perChannelCastToFP8(x, useUE8M0: true, variant: .portable)
        let fp4 = try perTokenCastToFP4(wide, useUE8M0: false, variant: .portable)
        for variant in Self.fastVariants where variant != .portable {
            Self.expectSame(try perBlockCastToFP8(x, useUE8M0: false, variant: variant), block, "per-block \(variant)")
            Self.expectSame(try perChannelCastToFP8(x, useUE8M0: true, variant: variant), channel, "per-channel \(variant)")
            Self.expectSame(try perTokenCastToFP4(wide, useUE8M0: false, variant: variant), fp4, "fp4 \(variant)")
        }
    }

    /// Every finite BF16 bit pattern (subnormals and both zeros included) once, in a scrambled
    /// order so that the groups' scales differ: the chunked AVX2 encoders (E4M3 rounding and
    /// subnormals, E2M1 midpoints, signs) and the chunk-ordered column maxima give the
    /// reference's bits at every level.
    @Test func everyFiniteBF16PatternMatchesReference() throws {
        let patterns = (0..<65536).map { UInt16(truncatingIfNeeded: $0 &* 40503) }.filter { $0 & 0x7F80 != 0x7F80 }
        let x = Tensor(zeros: [patterns.count / 128, 128], dtype: .bfloat16)
        let p = x.dataPointer.assumingMemoryBound(to: UInt16.self)
        for (i, bits) in patterns.enumerated() { p[i] = bits }
        for ue8m0 in [false, true] {
            let fp8 = try perTokenCastToFP8(x, useUE8M0: ue8m0, granK: 32, variant: .reference)
            let fp4 = try perTokenCastToFP4(x, useUE8M0: ue8m0, granK: 32, variant: .reference)
            let block = try perBlockCastToFP8(x, useUE8M0: ue8m0, granK: 64, variant: .reference)
            let channel = try perChannelCastToFP8(x, useUE8M0: ue8m0, granK: 2, variant: .reference)
            for variant in Self.fastVariants {
                let what = "\(variant) ue8m0=\(ue8m0)"
                Self.expectSame(try perTokenCastToFP8(x, useUE8M0: ue8m0, granK: 32, variant: variant), fp8, "fp8 " + what)
                Self.expectSame(try perTokenCastToFP4(x, useUE8M0: ue8m0, granK: 32, variant: variant), fp4, "fp4 " + what)
                Self.expectSame(try perBlockCastToFP8(x, useUE8M0: ue8m0, granK: 64, variant: variant), block, "per-block " + what)
                Self.expectSame(try perChannelCastToFP8(x, useUE8M0: ue8m0, granK: 2, variant: variant), channel, "per-channel " + what)
            }
        }
    }

    /// The vector encoders take only groups with a finite amax. UE8M0 scales of groups with a NaN or
    /// an infinity are finite (2^127), so the others take the scalar path with NaN products (E2M1
    /// code 0) and products of infinity; zero runs whole vectors long take the E4M3 subnormal path.
    /// Every level against the reference.
    @Test func nonFiniteGroupsAndZeroRunsMatchReference() throws {
        let n = 512
        var values = (0..<(4 * n)).map { Float(($0 * 37) % 101 - 50) / 9 }
        values[3] = .nan; values[200] = .nan; values[n + 7] = .infinity; values[n + 300] = -.infinity
        for j in (2 * n)..<(2 * n + 64) { values[j] = j % 2 == 0 ? 0 : -0.0 }
        values[3 * n + 5] = .nan; values[3 * n + 6] = -3
        let x = try Tensor(values, shape: [4, n]).converted(to: .bfloat16)
        for ue8m0 in [false, true] {
            let fp8 = try perTokenCastToFP8(x, useUE8M0: ue8m0, variant: .reference)
            let fp4 = try perTokenCastToFP4(x, useUE8M0: ue8m0, variant: .reference)
            for variant in Self.fastVariants {
                let what = "\(variant) ue8m0=\(ue8m0)"
                Self.expectSame(try perTokenCastToFP8(x, useUE8M0: ue8m0, variant: variant), fp8, "fp8 " + what)
                Self.expectSame(try perTokenCastToFP4(x, useUE8M0: ue8m0, variant: variant), fp4, "fp4 " + what)
            }
        }
    }

    /// A NaN makes its group's scale NaN and every code of the group NaN (E4M3) or 0 (E2M1); an
    /// infinity makes its group's scale infinite, so x * (1/sf) is 0 for finite x and NaN for the
    /// infinity itself.
    @Test func specialValuesFollowTheSpec() throws {
        var values = [Float](repeating: 1, count: 256)
        values[5] = .nan; values[130] = .infinity; values[131] = -.infinity
        let x = try Tensor(values, shape: [1, 256])
        for variant in Self.fastVariants {
            let fp8 = try perTokenCastToFP8(x, useUE8M0: false, variant: variant)
            let scales = try fp8.sf.elements(as: Float.self), codes = try fp8.data.elements(as: UInt8.self)
            #expect(scales[0].isNaN && scales[1] == .infinity, "\(variant)")
            #expect(codes[0..<128].allSatisfy { $0 & 0x7F == 0x7F }, "NaN group, \(variant)")
            #expect(codes[130] & 0x7F == 0x7F && codes[131] & 0x7F == 0x7F && codes[128..<256].enumerated().allSatisfy { $0.offset == 2 || $0.offset == 3 || $0.element == 0 }, "\(variant)")
            let fp4 = try perTokenCastToFP4(x, useUE8M0: false, variant: variant)
            #expect(try fp4.data.viewing(as: .uint8).elements(as: UInt8.self).allSatisfy { $0 == 0 }, "\(variant)")
        }
    }
}
