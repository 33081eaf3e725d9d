import DeepGEMMCore
internal import CDeepGEMMCPU

/// The result of a quantization helper: the quantized data and its scale factors.
public struct QuantizedTensor: Sendable {
    /// The quantized values (FP8 E4M3, or packed FP4 with two codes per byte).
    public var data: Tensor
    /// The scale factors: F32, or packed UE8M0 in Int32.
    public var sf: Tensor

    /// Pairs quantized `data` with its scale factors `sf` (DeepGEMM's `(data, sf)` tuples).
    public init(data: Tensor, sf: Tensor) { self.data = data; self.sf = sf }
}

/// `per_token_cast_to_fp8`: quantizes each row of `x` [m, n] in groups of `granK` columns to FP8
/// E4M3 with one scale per group (`sf = max(amax, 1e-4) / 448`, a true FP32 division; rounded up to
/// a power of two when `useUE8M0`), `data = e4m3(x * (1 / sf))` with round-to-nearest-even.
///
/// Returns data [m, n] and sf F32 [m, ceil(n/granK)], or with `usePackedUE8M0` the scales packed
/// four per Int32 [m, ceil(n/granK)/4] (needs `useUE8M0` and a group count divisible by 4).
public func perTokenCastToFP8(
    _ x: Tensor, useUE8M0: Bool, granK: Int = 128, usePackedUE8M0: Bool = false,
    variant: CPUKernelVariant = .best
) throws -> QuantizedTensor {
    let problem = try CastProblem(.perTokenFP8, x: x, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: usePackedUE8M0)
    let (input, m, n, groups) = (try FloatInput(x, name: "x"), problem.m, problem.n, problem.scaleColumns)
    let data = Tensor.empty([m, n], dtype: .float8E4M3)
    let sf = Tensor.empty([m, groups], dtype: .float32)
    quantizeRows(input, rows: m, n: n, granK: granK, useUE8M0: useUE8M0, fp4: false, data: data, sf: sf, variant: variant)
    return QuantizedTensor(data: data, sf: usePackedUE8M0 ? try packUE8M0ToInt(sf) : sf)
}

/// `per_token_cast_to_fp4`: like ``perTokenCastToFP8(_:useUE8M0:granK:usePackedUE8M0:variant:)``
/// with `sf = max(amax, 1e-4) / 6` and FP4 E2M1 codes by the helper's rounding (ties to the smaller
/// magnitude, saturation at 6), two per byte with the even element in the low nibble.
///
/// Returns packed data [m, n/2] (`n` must be even) and sf F32 [m, ceil(n/granK)]; with
/// `usePackedUE8M0` (needs `useUE8M0`) the scale list is padded with 1.0 (byte 0x7F) to a
/// multiple of four and packed into Int32 [m, ceil(ceil(n/granK)/4)].
public func perTokenCastToFP4(
    _ x: Tensor, useUE8M0: Bool, granK: Int = 128, usePackedUE8M0: Bool = false,
    variant: CPUKernelVariant = .best
) throws -> QuantizedTensor {
    let problem = try CastProblem(.perTokenFP4, x: x, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: usePackedUE8M0)
    let (input, m, n, groups) = (try FloatInput(x, name: "x"), problem.m, problem.n, problem.scaleColumns)
    let data = Tensor.empty(problem.dataShape, dtype: .float4E2M1x2)
    let paddedGroups = problem.storedScaleColumns
    let sfStorage = Tensor.empty([m, paddedGroups], dtype: .float32)
    if paddedGroups > groups {
        let base = sfStorage.dataPointer.assumingMemoryBound(to: Float.self)
        for r in 0..<m { for g in groups..<paddedGroups { base[r * paddedGroups + g] = 1 } }
    }
    // Odd group sizes put the two codes of a byte under different scales; only the reference handles that.
    let kernel = granK % 2 == 0 ? variant : .reference
    quantizeRows(input, rows: m, n: n, granK: granK, useUE8M0: useUE8M0, fp4: true, data: data, sf: sfStorage,
                 variant: kernel)
    return QuantizedTensor(data: data, sf: usePackedUE8M0 ? try packUE8M0ToInt(sfStorage) : sfStorage)
}

/// Quantizes row groups of a contiguous input into `data` and `sf` (row stride = sf.size(1)), in
/// parallel over rows.
private func quantizeRows(
    _ input: FloatInput, rows: Int, n: Int, granK: Int, useUE8M0: Bool, fp4: Bool,
    data: Tensor, sf: Tensor, variant: CPUKernelVariant
) {
    let sfStride = sf.size(1), dataStride = fp4 ? n / 2 : n
    let dataPointer = SendablePointer(data.dataPointer), sfPointer = SendablePointer(sf.dataPointer)
    let grain = max(1, 65536 / max(n, 1))
    CPUParallelism.forEachChunk(rows, grain: grain) { range in
        let out = dataPointer.raw.assumingMemoryBound(to: UInt8.self) + range.lowerBound * dataStride
        let scales = sfPointer.raw.assumingMemoryBound(to: Float.self) + range.lowerBound * sfStride
        if let isa = variant.isaCode {
            let source = input.address(range.lowerBound * n)
            dg_quantize_rows(isa, Int32(fp4 ? DG_TYPE_E2M1 : DG_TYPE_E4M3), source, input.typeCode, Int64(range.count),
                             Int64(n), Int64(n), Int64(granK), useUE8M0 ? 1 : 0, out, Int64(dataStride), scales, Int64(sfStride))
            return
        }
        for (local, row) in range.enumerated() {
            referenceQuantizeRow(input, row: row, n: n, granK: granK, useUE8M0: useUE8M0, fp4: fp4,
                                 out: out + local * dataStride, scales: scales + local * sfStride)
        }
    }
}

/// The plain-Swift definition of one row's quantization.
private func referenceQuantizeRow(
    _ input: FloatInput, row: Int, n: Int, granK: Int, useUE8M0: Bool, fp4: Bool,
    out: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>
) {
    let base = row * n
    var codes = [UInt8](repeating: 0, count: fp4 ? n : 0)
    for g in 0..<ceilDiv(n, granK) {
        let start = g * granK, end = min(n, start + granK)
        var amaxBits: UInt32 = 0
        for j in start..<end { amaxBits = max(amaxBits, GroupScale.magnitudeBits(input.load(base + j))) }
        let scale = GroupScale.scale(amax: Float(bitPattern: amaxBits), maxCode: fp4 ? GroupScale.fp4Max : GroupScale.fp8Max,
                                     useUE8M0: useUE8M0)
        scales[g] = scale
        let inverse = 1 / scale
        for j in start..<end {
            let value = input.load(base + j) * inverse
            if fp4 { codes[j] = Float4E2M1.encode(value) } else { out[j] = Float8E4M3.encode(value.bitPattern, overflow: .nan) }
        }
    }
    if fp4 { for i in 0..<(n / 2) { out[i] = Float4E2M1.pack(codes[2 * i], codes[2 * i + 1]) } }
}
