/// FP4 E2M1 codes: magnitudes {0, 0.5, 1, 1.5, 2, 3, 4, 6}, bit 3 the sign.
///
/// Encoding follows DeepGEMM's helper (spec §1.2), which is *not* RNE: a magnitude is compared
/// strictly against the midpoints (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5), so ties go to the smaller
/// magnitude; values above 5 saturate to 6; NaN becomes code 0; -0 is never produced.
public enum Float4E2M1 {
    /// Decoded magnitudes of the codes 0...7.
    public static let magnitudes: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]

    /// Decoded values of all 16 codes (code 8 is +0).
    public static let decodeTable: [Float] = (0..<16).map { decode(UInt8($0)) }

    /// The value of a 4-bit code (the upper bits of `code` are ignored).
    @inlinable
    public static func decode(_ code: UInt8) -> Float {
        let magnitude = magnitudes[Int(code & 7)]
        return code & 8 != 0 && code & 7 != 0 ? -magnitude : magnitude
    }

    /// The 4-bit code of `x` by the helper's rounding rule.
    @inlinable
    public static func encode(_ x: Float) -> UInt8 {
        let a = abs(x)
        var code: UInt8 = 0
        // NaN compares false everywhere, so it stays code 0.
        if a > 0.25 { code += 1 }
        if a > 0.75 { code += 1 }
        if a > 1.25 { code += 1 }
        if a > 1.75 { code += 1 }
        if a > 2.5 { code += 1 }
        if a > 3.5 { code += 1 }
        if a > 5.0 { code += 1 }
        if x < 0 && code != 0 { code |= 8 }
        return code
    }

    /// Packs two codes into a byte: `first` in the low nibble, `second` in the high nibble.
    @inlinable
    public static func pack(_ first: UInt8, _ second: UInt8) -> UInt8 {
        (first & 0xF) | ((second & 0xF) << 4)
    }
}
