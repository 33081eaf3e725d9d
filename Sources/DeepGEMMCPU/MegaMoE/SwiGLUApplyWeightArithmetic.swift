#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import DeepGEMMCore
internal import CDeepGEMMCPU

/// The scalar arithmetic of Mega MoE's SwiGLU + weight + FP8 requantization (spec/megamoe-indexer.md
/// §1.5 steps 4-6, §1.7 and §1.9). Every operation is binary32 with round-to-nearest-even unless
/// stated; the CPU reproduces each rounding step of the GPU kernel except the hardware
/// approximations of `ex2.approx` and `rcp.approx`, which it replaces by correctly rounded
/// (glibc) results.
public enum MegaMoESwiGLUArithmetic {
    /// fp32(1/448), the multiplier that turns an amax into the unrounded scale (one RN).
    public static let inverseFP8Max: Float = 1 / 448

    /// fp32(log2(e)), the multiplier of the fast exponential.
    public static let log2e: Float = 1.442695041

    /// `(silu(gate) · up) · weight` for one column, from the BF16 gate and up values.
    ///
    /// 1. Clamp (only when `clamp` = C' = bf16(C) is given), on the exact BF16 values:
    ///    `gate = min(gate, C')`, `up = min(max(up, -C'), C')`; a NaN gate or up stays NaN.
    /// 2. `e = exp(-gate)`: with `fastMath`, `exp2f(RN(-gate · fp32(log2 e)))` (the structure of
    ///    `__expf`, with exp2f in place of `ex2.approx.ftz`); otherwise glibc `expf(-gate)`.
    /// 3. `den = RN(1 + e)`.
    /// 4. `s`: with `fastMath`, `RN(gate · r)` with `r = RN(1 / den)` flushed to signed zero when
    ///    subnormal (`rcp.approx.ftz`); otherwise `RN(gate / den)` (IEEE division).
    /// 5. `a = RN(RN(s · up) · weight)`.
    @inlinable
    public static func activation(gate: Float, up: Float, weight: Float, clamp: Float?, fastMath: Bool) -> Float {
        var g = gate, u = up
        if let clamp {
            if g > clamp { g = clamp }
            if u > clamp { u = clamp }
            if u < -clamp { u = -clamp }
        }
        return (silu(g, fastMath: fastMath) * u) * weight
    }

    /// Steps 2-4 of ``activation(gate:up:weight:clamp:fastMath:)``: `s = silu(g)` of the clamped gate.
    @inlinable
    public static func silu(_ g: Float, fastMath: Bool) -> Float {
        if fastMath {
            let e = exp2f(-g * log2e)
            var r = 1 / (1 + e)
            if r.isSubnormal { r = Float(sign: r.sign, exponent: 0, significand: 0) }
            return g * r
        }
        return g / (1 + expf(-g))
    }

    /// ``activation(gate:up:weight:clamp:fastMath:)`` for BF16 gate and up values given by their
    /// bits, with `silu` read from a table of every BF16 gate: the same bits, without an
    /// exponential per element (a clamped gate is still a BF16 value, the clamp C' being one).
    public struct BF16Activation: @unchecked Sendable {
        /// `silu(g)` for each BF16 bit pattern g, built once per `fastMath` and kept.
        @usableFromInline let silu: UnsafePointer<Float>
        /// C' and its BF16 bits, when clamping.
        @usableFromInline let clamp: Float?
        @usableFromInline let clampBits: UInt16

        /// The activation of ``activation(gate:up:weight:clamp:fastMath:)`` with this clamp and form.
        public init(clamp: Float?, fastMath: Bool) {
            silu = fastMath ? MegaMoESwiGLUArithmetic.fastSiluTable : MegaMoESwiGLUArithmetic.exactSiluTable
            self.clamp = clamp
            clampBits = clamp.map { BFloat16($0).bitPattern } ?? 0
        }

        /// `RN(RN(silu(g)·u)·weight)` for the BF16 gate and up bit patterns.
        @inlinable
        public func callAsFunction(gate: UInt16, up: UInt16, weight: Float) -> Float {
            var g = gate, u = BFloat16(bitPattern: up).floatValue
            if let clamp {
                if BFloat16(bitPattern: g).floatValue > clamp { g = clampBits }
                if u > clamp { u = clamp }
                if u < -clamp { u = -clamp }
            }
            return (silu[Int(g)] * u) * weight
        }
    }

    /// ``silu(_:fastMath:)`` (fast form) of every BF16 bit pattern; written once when first used,
    /// read-only after.
    @usableFromInline nonisolated(unsafe) static let fastSiluTable = siluTable(fastMath: true)
    /// ``silu(_:fastMath:)`` (IEEE form) of every BF16 bit pattern, as `fastSiluTable`.
    @usableFromInline nonisolated(unsafe) static let exactSiluTable = siluTable(fastMath: false)

    private static func siluTable(fastMath: Bool) -> UnsafePointer<Float> {
        let table = UnsafeMutablePointer<Float>.allocate(capacity: 1 << 16)
        for bits in 0..<(1 << 16) { table[bits] = silu(BFloat16(bitPattern: UInt16(bits)).floatValue, fastMath: fastMath) }
        return UnsafePointer(table)
    }

    /// The UE8M0 exponent E of a group with largest magnitude `amax` (≥ 0, not NaN):
    /// `q = RN(amax · fp32(1/448))`, then `E = expbits(q) - 127 + (mantissa(q) != 0)`, a bit-level
    /// ceil(log2 q) with no floor on amax. The scale byte is `E + 127`; amax = 0 gives E = -127 (byte 0).
    @inlinable
    public static func scaleExponent(amax: Float) -> Int {
        let q = amax * inverseFP8Max
        let bits = q.bitPattern
        return Int((bits >> 23) & 0xFF) - 127 + (bits & 0x7F_FFFF != 0 ? 1 : 0)
    }

    /// The FP8 E4M3 code of `a` under the group exponent `e` (from ``scaleExponent(amax:)``, in
    /// -127...128): `cvt.rn.satfinite.e4m3(RN(a · 2^-e))`; 2^-e is exact in binary32, beyond ±448
    /// saturates to ±448, and NaN of either sign gives the positive NaN code 0x7F (the GPU computes
    /// a canonical NaN; the sign a CPU product gives a NaN depends on operand order).
    @inlinable
    public static func fp8Code(_ a: Float, exponent e: Int) -> UInt8 {
        if a.isNaN { return 0x7F }
        return Float8E4M3.encode((a * Float(sign: .plus, exponent: -e, significand: 1)).bitPattern, overflow: .saturate)
    }

    /// Quantizes one row of `columns` activations (`activation(c)` for column c, a multiple of 32
    /// columns) per 32 columns: amax = the largest |a| (NaN entries are skipped, as `max.f32`
    /// does), E = ``scaleExponent(amax:)``, codes = ``fp8Code(_:exponent:)`` into `codes[c]`.
    /// The exponent bytes E + 127 go to `storeWord` as ``storeExponentWords(_:groups:storeWord:)``
    /// packs them.
    @inlinable
    public static func quantizeRow(columns: Int, activation: (Int) -> Float, codes: UnsafeMutablePointer<UInt8>,
                                   storeWord: (Int, Int32) -> Void) {
        let group = 32, groups = columns / group
        guard groups > 0 else { return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: groups) { exponents in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: group) { activations in
                for g in 0..<groups {
                    var amax: Float = 0
                    for i in 0..<group {
                        let a = activation(g * group + i)
                        activations[i] = a
                        if a.magnitude > amax { amax = a.magnitude }
                    }
                    let exponent = scaleExponent(amax: amax)
                    for i in 0..<group { codes[g * group + i] = fp8Code(activations[i], exponent: exponent) }
                    exponents[g] = UInt8(exponent + 127)
                }
            }
            storeExponentWords(UnsafePointer(exponents.baseAddress!), groups: groups, storeWord: storeWord)
        }
    }

    /// The index of column c when a row's values lie in chunks of 8 consecutive columns,
    /// `chunkStride` apart: (c / 8)·`chunkStride` + c % 8 (the C kernel's addressing too).
    @inlinable
    public static func chunkedIndex(_ c: Int, chunkStride: Int) -> Int { (c >> 3) * chunkStride + (c & 7) }

    /// ``quantizeRow(columns:activation:codes:storeWord:)`` of ``BF16Activation`` `activation` over BF16
    /// gate and up values given by address (`columns` a multiple of 32): column c reads `gate[i]` and
    /// `up[i]` at i = ``chunkedIndex(_:chunkStride:)``. Levels with C code run `dg_swiglu_fp8_row` (the same bits),
    /// `.reference` the closure form.
    public static func quantizeRow(gate: UnsafePointer<UInt16>, up: UnsafePointer<UInt16>, chunkStride: Int, columns: Int,
                                   weight: Float, activation: BF16Activation, variant: CPUKernelVariant,
                                   codes: UnsafeMutablePointer<UInt8>, storeWord: (Int, Int32) -> Void) {
        guard let isa = variant.isaCode else {
            quantizeRow(columns: columns, activation: { c in
                let i = chunkedIndex(c, chunkStride: chunkStride)
                return activation(gate: gate[i], up: up[i], weight: weight)
            }, codes: codes, storeWord: storeWord)
            return
        }
        let groups = columns / 32
        guard groups > 0 else { return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: groups) { exponents in
            dg_swiglu_fp8_row(isa, gate, up, Int64(chunkStride), Int64(columns), weight, activation.silu,
                              activation.clamp == nil ? 0 : 1, activation.clamp ?? 0, codes, exponents.baseAddress)
            storeExponentWords(UnsafePointer(exponents.baseAddress!), groups: groups, storeWord: storeWord)
        }
    }

    /// Hands the exponent bytes of `groups` quantization groups to `storeWord`, four per word (group
    /// g in byte g % 4 of word g / 4; the last word's unused bytes are 0).
    @inlinable
    public static func storeExponentWords(_ exponents: UnsafePointer<UInt8>, groups: Int, storeWord: (Int, Int32) -> Void) {
        var word: UInt32 = 0
        for g in 0..<groups {
            word |= UInt32(exponents[g]) << (8 * UInt32(g % 4))
            if g % 4 == 3 || g == groups - 1 {
                storeWord(g / 4, Int32(bitPattern: word))
                word = 0
            }
        }
    }
}
