/// What an FP8 encoder does with a value beyond the largest finite code.
public enum FP8Overflow: Sendable, Hashable {
    /// Values that round past the largest finite code (and infinities) become NaN, as PyTorch's
    /// c10 conversion and `ml_dtypes` do. This is the default.
    case nan
    /// Values beyond the largest finite code (and infinities) become the largest finite code of the
    /// same sign (CUDA's `__NV_SATFINITE`). NaN stays NaN.
    case saturate
}

/// FP8 E4M3FN: 1 sign, 4 exponent (bias 7) and 3 mantissa bits, no infinity, NaN = 0x7F/0xFF,
/// largest finite value 448, subnormals m·2^-9.
@frozen
public struct Float8E4M3: Hashable, Sendable, CustomStringConvertible {
    /// The raw byte.
    public var bitPattern: UInt8

    /// Wraps a raw byte.
    @inlinable
    public init(bitPattern: UInt8) { self.bitPattern = bitPattern }

    /// Rounds a binary32 to E4M3FN with round-to-nearest-even (subnormals included).
    @inlinable
    public init(_ value: Float, overflow: FP8Overflow = .nan) {
        bitPattern = Float8E4M3.encode(value.bitPattern, overflow: overflow)
    }

    /// The decoded value (exact in binary32).
    @inlinable
    public var floatValue: Float { Float8E4M3.decodeTable[Int(bitPattern)] }

    /// True for the two NaN codes.
    @inlinable
    public var isNaN: Bool { bitPattern & 0x7F == 0x7F }

    /// The largest finite value, 448.
    public static let greatestFiniteMagnitude: Float = 448

    /// Decodes one code from its fields (used to build the table).
    public static func decode(_ code: UInt8) -> Float {
        let sign: Float = code & 0x80 != 0 ? -1 : 1
        let e = Int((code >> 3) & 0xF), m = Int(code & 7)
        if e == 15 && m == 7 { return Float(bitPattern: code & 0x80 != 0 ? 0xFFC0_0000 : 0x7FC0_0000) }
        if e == 0 { return sign * Float(m) * 0x1p-9 }
        return sign * (1 + Float(m) / 8) * Float(sign: .plus, exponent: e - 7, significand: 1)
    }

    /// All 256 decoded values, indexed by code.
    public static let decodeTable: [Float] = (0..<256).map { decode(UInt8($0)) }

    /// RNE encoding of binary32 bits. See ``FP8Overflow`` for values past ±448.
    @inlinable
    public static func encode(_ bits: UInt32, overflow: FP8Overflow) -> UInt8 {
        let sign = UInt8(truncatingIfNeeded: (bits >> 24) & 0x80)
        let a = bits & 0x7FFF_FFFF
        if a > 0x7F80_0000 { return sign | 0x7F }  // NaN
        switch overflow {
        case .nan: if a >= 0x43F0_0000 { return sign | 0x7F }  // >= 480 rounds past 448
        case .saturate: if a > 0x43E0_0000 { return sign | 0x7E }  // > 448 clamps to 448
        }
        if a >= 0x3C80_0000 {  // normal in E4M3: >= 2^-6
            let rounded = (a &+ 0x7FFFF &+ ((a >> 20) & 1)) >> 20
            return sign | UInt8(truncatingIfNeeded: rounded &- 960)
        }
        // Subnormal: round |x|·2^9 to an integer (RNE) by adding 2^14, whose ulp is 2^-9.
        let magic: Float = 16384
        let r = (Float(bitPattern: a) + magic).bitPattern &- magic.bitPattern
        return sign | UInt8(truncatingIfNeeded: r)
    }

    public var description: String { "\(floatValue)" }
}
