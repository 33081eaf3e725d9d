/// TF32: binary32 with a 10-bit mantissa.
public enum TF32 {
    /// Rounds a binary32 to TF32 precision (round-to-nearest-even on the low 13 bits), keeping it in
    /// binary32. Infinities are unchanged; NaN stays a quiet NaN of the same sign.
    @inlinable
    public static func round(_ x: Float) -> Float {
        let bits = x.bitPattern
        if bits & 0x7F80_0000 == 0x7F80_0000 {
            return bits & 0x7F_FFFF == 0 ? x : Float(bitPattern: (bits | 0x40_0000) & ~0x1FFF)
        }
        let rounded = (bits &+ 0xFFF &+ ((bits >> 13) & 1)) & ~UInt32(0x1FFF)
        return Float(bitPattern: rounded)
    }
}
