import DeepGEMMCore
/// `ceil_to_ue8m0`: the smallest power of two >= |x| for every element, as F32 with `x`'s shape
/// (see ``UE8M0/ceil(_:)`` for zeros, subnormals, infinities and NaN).
public func ceilToUE8M0(_ x: Tensor) throws -> Tensor {
    let input = try FloatInput(x, name: "x")
    let result = Tensor(zeros: x.shape, dtype: .float32)
    let output = result.dataPointer.assumingMemoryBound(to: Float.self)
    for i in 0..<x.count { output[i] = UE8M0.ceil(input.load(i)) }
    return result
}

/// `pack_ue8m0_to_int`: packs F32 powers of two four per Int32 along the last dimension (the
/// exponent bytes, little-endian). `x` [..., n] needs `n % 4 == 0` and every value must have a
/// clear sign bit and a zero mantissa (0.0 packs as byte 0). Returns Int32 [..., n/4].
public func packUE8M0ToInt(_ x: Tensor) throws -> Tensor {
    try checkPackUE8M0Input(x)
    let bits = try x.contiguous().elements(as: UInt32.self)
    for (i, b) in bits.enumerated() where b & 0x8000_0000 != 0 || b & 0x7F_FFFF != 0 {
        throw DeepGEMMError.invalidArgument(argument: "x", rule: "element \(i) (\(Float(bitPattern: b))) is not a non-negative power of two (sign and mantissa bits must be zero)")
    }
    var shape = x.shape
    shape[shape.count - 1] /= 4
    var packed = [Int32](repeating: 0, count: bits.count / 4)
    for i in packed.indices {
        let e0 = UInt8(bits[4 * i] >> 23), e1 = UInt8(bits[4 * i + 1] >> 23)
        let e2 = UInt8(bits[4 * i + 2] >> 23), e3 = UInt8(bits[4 * i + 3] >> 23)
        packed[i] = UE8M0.pack(e0, e1, e2, e3)
    }
    return try Tensor(packed, shape: shape)
}

/// The shape and dtype rules of ``packUE8M0ToInt(_:)``'s `x`, for every backend.
package func checkPackUE8M0Input(_ x: Tensor) throws {
    try DeepGEMMError.require(x.dtype == .float32, "x", "must be float32, got \(x.dtype)")
    try DeepGEMMError.require(x.rank >= 1 && x.size(-1) % 4 == 0, "x", "last dimension must be a multiple of 4, got shape \(x.shape)")
}

/// `unpack_ue8m0_from_int`: the F32 values of packed UE8M0 bytes, [..., 4n] from Int32 [..., n];
/// byte `b` becomes the float with exponent field `b` (byte 0 gives 0.0).
public func unpackUE8M0FromInt(_ packedSF: Tensor) throws -> Tensor {
    try DeepGEMMError.require(packedSF.dtype == .int32, "packed_sf", "must be int32 packed UE8M0, got \(packedSF.dtype)")
    try DeepGEMMError.require(packedSF.rank >= 1, "packed_sf", "must have at least one dimension")
    let words = try packedSF.contiguous().elements(as: Int32.self)
    var shape = packedSF.shape
    shape[shape.count - 1] *= 4
    var values = [Float]()
    values.reserveCapacity(words.count * 4)
    for word in words { for b in 0..<4 { values.append(UE8M0.unpackedValue(UE8M0.byte(word, b))) } }
    return try Tensor(values, shape: shape)
}
