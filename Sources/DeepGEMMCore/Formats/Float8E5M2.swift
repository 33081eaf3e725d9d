/// FP8 E5M2: 1 sign, 5 exponent (bias 15) and 2 mantissa bits, with infinities (0x7C) and NaNs;
/// largest finite value 57344.
@frozen
public struct Float8E5M2: Hashable, Sendable, CustomStringConvertible {
    /// The raw byte.
    public var bitPattern: UInt8

    /// Wraps a raw byte.
    @inlinable
    public init(bitPattern: UInt8) { self.bitPattern = bitPattern }

    /// Rounds a binary32 to E5M2 with round-to-nearest-even. With `.nan` overflow (the default)
    /// values that round past 57344 become infinity, as in `ml_dtypes`; `.saturate` clamps them
    /// (and infinities) to ±57344.
    @inlinable
    public init(_ value: Float, overflow: FP8Overflow = .nan) {
        bitPattern = Float8E5M2.encode(value.bitPattern, overflow: overflow)
    }

    /// The decoded value (exact in binary32).
    @inlinable
    public var floatValue: Float { Float8E5M2.decodeTable[Int(bitPattern)] }

    /// The largest finite value, 57344.
    public static let greatestFiniteMagnitude: Float = 57344

    /// Decodes one code from its fields (used to build the table).
    public static func decode(_ code: UInt8) -> Float {
        let negative = code & 0x80 != 0
        let e = Int((code >> 2) & 0x1F), m = Int(code & 3)
        if e == 31 {
            if m == 0 { return negative ? -.infinity : .infinity }
            return Float(bitPattern: (negative ? 0xFFC0_0000 : 0x7FC0_0000))
        }
        let magnitude = e == 0 ? Float(m) * 0x1p-16 : (1 + Float(m) / 4) * Float(sign: .plus, exponent: e - 15, significand: 1)
        return negative ? -magnitude : magnitude
    }

    /// All 256 decoded values, indexed by code.
    public static let decodeTable: [Float] = (0..<256).map { decode(UInt8($0)) }

    /// RNE encoding of binary32 bits.
    @inlinable
    public static func encode(_ bits: UInt32, overflow: FP8Overflow) -> UInt8 {
        let sign = UInt8(truncatingIfNeeded: (bits >> 24) & 0x80)
        let a = bits & 0x7FFF_FFFF
        if a > 0x7F80_0000 { return sign | 0x7E }  // NaN
        switch overflow {
        case .nan: if a >= 0x4770_0000 { return sign | 0x7C }  // >= 61440 rounds to infinity
        case .saturate: if a > 0x4760_0000 { return sign | 0x7B }
        }
        if a >= 0x3880_0000 {  // normal: >= 2^-14
            let rounded = (a &+ 0xFFFFF &+ ((a >> 21) & 1)) >> 21
            return sign | UInt8(truncatingIfNeeded: rounded &- 448)
        }
        // Subnormal: round |x|·2^16 to an integer by adding 2^7, whose ulp is 2^-16.
        let magic: Float = 128
        let r = (Float(bitPattern: a) + magic).bitPattern &- magic.bitPattern
        return sign | UInt8(truncatingIfNeeded: r)
    }

    public var description: String { "\(floatValue)" }
}
