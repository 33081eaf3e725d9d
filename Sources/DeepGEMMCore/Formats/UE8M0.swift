/// UE8M0 scale factors: a biased exponent byte `e` with value 2^(e-127); 255 is NaN.
public enum UE8M0 {
    /// The smallest power of two at or above `|x|`, as DeepGEMM's `ceil_to_ue8m0`.
    ///
    /// The exponent field is incremented when the mantissa is non-zero and clamped to [1, 254], so
    /// 0 and subnormals give 2^-126, infinities and NaN give 2^127, and values above 2^127 with a
    /// non-zero mantissa also give 2^127.
    @inlinable
    public static func ceil(_ x: Float) -> Float {
        let bits = x.bitPattern & 0x7FFF_FFFF
        var e = Int32(bitPattern: (bits >> 23) & 0xFF)
        if bits & 0x7F_FFFF != 0 { e += 1 }
        e = min(max(e, 1), 254)
        return Float(bitPattern: UInt32(e) << 23)
    }

    /// The biased exponent byte of a binary32 (its bits 23...30).
    @inlinable
    public static func exponentByte(_ x: Float) -> UInt8 {
        UInt8(truncatingIfNeeded: x.bitPattern >> 23)
    }

    /// The binary32 with exponent field `byte` and zero sign and mantissa, as
    /// `unpack_ue8m0_from_int` decodes it (byte 0 gives 0.0, although hardware reads 2^-127).
    @inlinable
    public static func unpackedValue(_ byte: UInt8) -> Float {
        Float(bitPattern: UInt32(byte) << 23)
    }

    /// The value 2^(byte-127) as hardware reads it (byte 0 is 2^-127, 255 is NaN).
    @inlinable
    public static func scaleValue(_ byte: UInt8) -> Float {
        Float(bitPattern: scaleValueBits(UInt32(byte)))
    }

    /// The bits of ``scaleValue(_:)`` of `byte` (0...255).
    @inlinable
    static func scaleValueBits(_ byte: UInt32) -> UInt32 {
        scaleValueBits(SIMD4(repeating: byte))[0]
    }

    /// ``scaleValueBits(_:)`` lane by lane, without branches: 2^-127 is the subnormal 0x00400000,
    /// NaN the quiet 0x7FC00000, every other byte b the exponent field b.
    @inlinable @inline(__always)
    static func scaleValueBits(_ bytes: SIMD4<UInt32>) -> SIMD4<UInt32> {
        (bytes &<< 23).replacing(with: 0x0040_0000, where: bytes .== 0).replacing(with: 0x7FC0_0000, where: bytes .== 255)
    }

    /// Writes ``scaleValue(_:)`` of the first `count` (1...4) bytes of `packed` to `values`.
    @inlinable
    public static func storeScaleValues(of packed: Int32, count: Int, to values: UnsafeMutablePointer<Float>) {
        let word = UInt32(bitPattern: packed)
        if count == 4 {
            // Lane b holds byte b (word >> 8b) on the little-endian machines the library runs on.
            let bytes = SIMD4<UInt32>(truncatingIfNeeded: unsafeBitCast(word.littleEndian, to: SIMD4<UInt8>.self))
            UnsafeMutableRawPointer(values).storeBytes(of: scaleValueBits(bytes), as: SIMD4<UInt32>.self)
        } else {
            for b in 0..<count { values[b] = Float(bitPattern: scaleValueBits((word >> (8 * UInt32(b))) & 0xFF)) }
        }
    }

    /// Packs four exponent bytes little-endian into an Int32 (`e0 | e1<<8 | e2<<16 | e3<<24`).
    @inlinable
    public static func pack(_ e0: UInt8, _ e1: UInt8, _ e2: UInt8, _ e3: UInt8) -> Int32 {
        Int32(bitPattern: UInt32(e0) | UInt32(e1) << 8 | UInt32(e2) << 16 | UInt32(e3) << 24)
    }

    /// Byte `index` (0...3) of a packed Int32.
    @inlinable
    public static func byte(_ packed: Int32, _ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: UInt32(bitPattern: packed) >> (8 * UInt32(index)))
    }
}
