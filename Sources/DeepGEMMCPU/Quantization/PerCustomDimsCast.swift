import DeepGEMMCore
internal import CDeepGEMMCPU

/// `per_custom_dims_cast_to_fp8`: quantizes `x` to FP8 E4M3 with one scale per index of the
/// dimensions `dims`; the amax runs over all other dimensions.
///
/// Returns data with `x`'s shape and sf F32 whose shape is `x`'s with the other dimensions
/// removed and every size-1 dimension squeezed (PyTorch's `sf.squeeze()`): kv [S, D] with
/// dims [0] gives sf [S].
public func perCustomDimsCastToFP8(_ x: Tensor, dims: [Int], useUE8M0: Bool,
                                   variant: CPUKernelVariant = .best) throws -> QuantizedTensor {
    try DeepGEMMError.require(x.rank >= 1, "x", "must have at least one dimension")
    for d in dims {
        try DeepGEMMError.require(d >= 0 && d < x.rank, "dims", "entry \(d) is not a dimension of a rank-\(x.rank) tensor")
    }
    let input = try FloatInput(x, name: "x")
    let kept = Set(dims)
    let shape = x.shape
    // Scale index of an element: its indices along the kept dimensions, row-major.
    var keyStrides = [Int](repeating: 0, count: shape.count)
    var keyCount = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) where kept.contains(d) {
        keyStrides[d] = keyCount
        keyCount *= shape[d]
    }
    let sfShape = shape.indices.filter { kept.contains($0) && shape[$0] != 1 }.map { shape[$0] }
    let data = Tensor(zeros: shape, dtype: .float8E4M3)
    let sf = try Tensor(zeros: [keyCount], dtype: .float32).reshaped(sfShape)
    let count = x.count
    guard count > 0 else { return QuantizedTensor(data: data, sf: sf) }
    let out = data.dataPointer.assumingMemoryBound(to: UInt8.self)
    let scales = sf.dataPointer.assumingMemoryBound(to: Float.self)

    // Leading dims kept and trailing dims reduced: each scale owns one contiguous run.
    let prefixLength = shape.indices.prefix { kept.contains($0) }.count
    let isPrefix = kept.allSatisfy { $0 < prefixLength }
    if let isa = variant.isaCode, isPrefix {
        let run = count / keyCount
        let outPointer = SendablePointer(data.dataPointer), sfPointer = SendablePointer(sf.dataPointer)
        CPUParallelism.forEachChunk(keyCount, grain: max(1, 65536 / max(run, 1))) { keys in
            for key in keys {
                let source = input.address(key * run)
                let amax = dg_amax(isa, source, input.typeCode, Int64(run))
                let scale = GroupScale.scale(amax: amax, maxCode: GroupScale.fp8Max, useUE8M0: useUE8M0)
                sfPointer.raw.assumingMemoryBound(to: Float.self)[key] = scale
                dg_encode_e4m3_scaled(isa, source, input.typeCode, Int64(run), 1 / scale,
                                      outPointer.raw.assumingMemoryBound(to: UInt8.self) + key * run)
            }
        }
        return QuantizedTensor(data: data, sf: sf)
    }

    // General case: walk the elements row-major, tracking each one's scale index.
    var keys = [Int](repeating: 0, count: count)
    var index = [Int](repeating: 0, count: shape.count)
    var key = 0
    for i in 0..<count {
        keys[i] = key
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            key += keyStrides[d]
            if index[d] < shape[d] { break }
            key -= keyStrides[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
    var amax = [UInt32](repeating: 0, count: keyCount)
    for i in 0..<count { amax[keys[i]] = max(amax[keys[i]], GroupScale.magnitudeBits(input.load(i))) }
    var inverse = [Float](repeating: 0, count: keyCount)
    for k in 0..<keyCount {
        scales[k] = GroupScale.scale(amax: Float(bitPattern: amax[k]), maxCode: GroupScale.fp8Max, useUE8M0: useUE8M0)
        inverse[k] = 1 / scales[k]
    }
    for i in 0..<count { out[i] = Float8E4M3.encode((input.load(i) * inverse[keys[i]]).bitPattern, overflow: .nan) }
    return QuantizedTensor(data: data, sf: sf)
}
