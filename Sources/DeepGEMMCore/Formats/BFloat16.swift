/// bfloat16: 1 sign, 8 exponent and 7 mantissa bits, the upper half of a binary32.
@frozen
public struct BFloat16: Hashable, Sendable, CustomStringConvertible {
    /// The raw 16 bits.
    public var bitPattern: UInt16

    /// Wraps raw bits.
    @inlinable
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounds a binary32 to bfloat16, round-to-nearest-even. NaN becomes the quiet NaN with the same sign.
    @inlinable
    public init(_ value: Float) { bitPattern = BFloat16.encode(value.bitPattern) }

    /// The exact binary32 value (widening is exact).
    @inlinable
    public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    /// RNE rounding of binary32 bits to bfloat16 bits.
    @inlinable
    public static func encode(_ bits: UInt32) -> UInt16 {
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000) | 0x7FC0 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    public var description: String { "\(floatValue)" }
}

extension Float {
    /// The exact value of a bfloat16.
    @inlinable
    public init(_ value: BFloat16) { self = value.floatValue }
}
