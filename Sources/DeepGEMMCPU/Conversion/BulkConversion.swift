import DeepGEMMCore
internal import CDeepGEMMCPU

/// Converts every element of `x` to `dtype` in one pass over whole buffers: vectorized and
/// multi-threaded between F32, BF16, F16, FP8 E4M3 and FP8 E5M2 (round-to-nearest-even, FP8
/// overflow per `overflow`), element by element through Double for the other dtypes. Returns a new
/// contiguous tensor.
public func convert(_ x: Tensor, to dtype: DType, overflow: FP8Overflow = .nan,
                    variant: CPUKernelVariant = .best) throws -> Tensor {
    guard let sourceCode = fastTypeCode(x.dtype), let targetCode = fastTypeCode(dtype) else {
        try DeepGEMMError.require(x.dtype != .float4E2M1x2 && dtype != .float4E2M1x2, "dtype",
                                  "packed FP4 holds two values per byte; use perTokenCastToFP4 / castBackFromFP4")
        return x.converted(to: dtype)
    }
    let source = x.contiguous()
    let result = Tensor(zeros: x.shape, dtype: dtype)
    let count = x.count
    let saturate: Int32 = overflow == .saturate ? 1 : 0
    guard let isa = variant.isaCode else {
        for i in 0..<count {
            let value = referenceLoad(source.dataPointer, source.dtype, i)
            referenceStore(value, result.dataPointer, dtype, i, overflow: overflow)
        }
        return result
    }
    let from = SendablePointer(source.dataPointer), to = SendablePointer(result.dataPointer)
    let sourceSize = x.dtype.size, targetSize = dtype.size
    CPUParallelism.forEachChunk(count, grain: 1 << 16) { range in
        dg_convert(isa, from.raw + range.lowerBound * sourceSize, sourceCode, to.raw + range.lowerBound * targetSize,
                   targetCode, Int64(range.count), saturate)
    }
    return result
}

private func fastTypeCode(_ dtype: DType) -> Int32? {
    switch dtype {
    case .float32: return Int32(DG_TYPE_F32)
    case .bfloat16: return Int32(DG_TYPE_BF16)
    case .float16: return Int32(DG_TYPE_F16)
    case .float8E4M3: return Int32(DG_TYPE_E4M3)
    case .float8E5M2: return Int32(DG_TYPE_E5M2)
    default: return nil
    }
}

private func referenceLoad(_ base: UnsafeMutableRawPointer, _ dtype: DType, _ i: Int) -> Float {
    switch dtype {
    case .float32: return base.load(fromByteOffset: 4 * i, as: Float.self)
    case .bfloat16: return BFloat16(bitPattern: base.load(fromByteOffset: 2 * i, as: UInt16.self)).floatValue
    case .float16: return Float(halfBits: base.load(fromByteOffset: 2 * i, as: UInt16.self))
    case .float8E4M3: return Float8E4M3(bitPattern: base.load(fromByteOffset: i, as: UInt8.self)).floatValue
    default: return Float8E5M2(bitPattern: base.load(fromByteOffset: i, as: UInt8.self)).floatValue
    }
}

private func referenceStore(_ value: Float, _ base: UnsafeMutableRawPointer, _ dtype: DType, _ i: Int, overflow: FP8Overflow) {
    switch dtype {
    case .float32: base.storeBytes(of: value, toByteOffset: 4 * i, as: Float.self)
    case .bfloat16: base.storeBytes(of: BFloat16(value).bitPattern, toByteOffset: 2 * i, as: UInt16.self)
    case .float16: base.storeBytes(of: value.halfBits, toByteOffset: 2 * i, as: UInt16.self)
    case .float8E4M3: base.storeBytes(of: Float8E4M3(value, overflow: overflow).bitPattern, toByteOffset: i, as: UInt8.self)
    default: base.storeBytes(of: Float8E5M2(value, overflow: overflow).bitPattern, toByteOffset: i, as: UInt8.self)
    }
}
