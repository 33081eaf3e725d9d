import DeepGEMMCore
/// `transpose_packed_fp4`: transposes a packed FP4 matrix. `a` is int8 (or packed FP4) [m, n/2]
/// with an even `m`; the result is contiguous [n, m/2], repacked along the new last dimension
/// (even element in the low nibble).
public func transposePackedFP4(_ a: Tensor) throws -> Tensor {
    try DeepGEMMError.require(a.dtype == .int8 || a.dtype == .float4E2M1x2, "a", "must be packed FP4 (int8), got \(a.dtype)")
    try DeepGEMMError.require(a.rank == 2, "a", "must be 2-D [m, n/2], got shape \(a.shape)")
    let m = a.size(0), n = a.size(1) * 2
    try DeepGEMMError.require(m % 2 == 0, "a", "needs an even number of rows to repack, got \(m)")
    let source = a.contiguous()
    let result = Tensor(zeros: [n, m / 2], dtype: a.dtype)
    let input = UnsafeRawPointer(source.dataPointer).assumingMemoryBound(to: UInt8.self)
    let output = result.dataPointer.assumingMemoryBound(to: UInt8.self)
    let half = n / 2
    for j in 0..<n {
        let shift = UInt8((j & 1) * 4)
        for i in 0..<(m / 2) {
            let low = (input[(2 * i) * half + j / 2] >> shift) & 0xF
            let high = (input[(2 * i + 1) * half + j / 2] >> shift) & 0xF
            output[j * (m / 2) + i] = Float4E2M1.pack(low, high)
        }
    }
    return result
}

/// `cast_back_from_fp4`: dequantizes packed FP4 `packed` [m, n/2] with scales `sf` to F32 [m, n]:
/// `decode(code[i, j]) * sf[i, j / granK]`. `sf` is F32 [m, >= ceil(n/granK)], or with
/// `usePackedUE8M0` Int32 packed UE8M0 whose bytes decode as `unpack_ue8m0_from_int` does (byte 0
/// gives 0.0).
public func castBackFromFP4(_ packed: Tensor, sf: Tensor, granK: Int = 128, usePackedUE8M0: Bool = false) throws -> Tensor {
    try DeepGEMMError.require(packed.dtype == .int8 || packed.dtype == .float4E2M1x2, "packed", "must be packed FP4 (int8), got \(packed.dtype)")
    try DeepGEMMError.require(packed.rank == 2, "packed", "must be 2-D [m, n/2], got shape \(packed.shape)")
    try requirePositive(granK, "gran_k")
    let scales = usePackedUE8M0 ? try unpackUE8M0FromInt(sf) : sf
    try DeepGEMMError.require(scales.dtype == .float32, "sf", usePackedUE8M0 ? "must be int32 packed UE8M0" : "must be float32, got \(sf.dtype)")
    let m = packed.size(0), n = packed.size(1) * 2
    try DeepGEMMError.require(scales.rank == 2 && scales.size(0) == m && scales.size(1) >= ceilDiv(n, granK), "sf",
                              "needs shape [\(m), >= \(ceilDiv(n, granK))] scales, got \(sf.shape)")
    let codes = try packed.unpackedFP4Values()
    let scaleValues = try scales.contiguous().elements(as: Float.self)
    let columns = scales.size(1)
    var values = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n { values[i * n + j] = codes[i * n + j] * scaleValues[i * columns + j / granK] }
    }
    return try Tensor(values, shape: [m, n])
}
