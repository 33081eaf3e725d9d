/// The UE8M0 byte of an f32 scale factor given by its bits: the exponent field of +0 (byte 0) or
/// of a finite positive power of two. Nil for anything else: a set sign bit (negatives and -0),
/// mantissa bits (non-powers of two, subnormals, NaN) or the all-ones exponent of +infinity.
@inline(__always)
func ue8m0Byte(scaleBits bits: UInt32) -> UInt8? {
    guard ue8m0Unpackable(scaleBits: bits) == 0 else { return nil }
    return UInt8(truncatingIfNeeded: bits >> 23)
}

/// Non-zero exactly when ``ue8m0Byte(scaleBits:)`` is nil, without branches (loops OR it over
/// many values and check once).
@inline(__always)
func ue8m0Unpackable(scaleBits bits: UInt32) -> UInt32 {
    ue8m0Unpackable(scaleBits: SIMD4(repeating: bits))[0]
}

/// ``ue8m0Unpackable(scaleBits:)`` of four values, lane by lane: sign or mantissa bits, or the
/// all-ones exponent with a zero mantissa (+infinity).
@inline(__always)
func ue8m0Unpackable(scaleBits bits: SIMD4<UInt32>) -> SIMD4<UInt32> {
    (bits & 0x807F_FFFF) | SIMD4<UInt32>(repeating: 0).replacing(with: 1, where: bits .== 0x7F80_0000)
}

/// The error for an f32 scale factor that has no exact UE8M0 encoding.
package func unpackableScaleError(bits: UInt32, at index: String) -> DeepGEMMError {
    let hex = String(bits, radix: 16)
    return .invalidArgument(
        argument: "sf",
        rule: "element \(index) is \(Float(bitPattern: bits)) (bits 0x\(String(repeating: "0", count: 8 - hex.count))\(hex)); "
            + "packing into UE8M0 needs +0 or a finite positive power of two (sign and mantissa bits zero)")
}
