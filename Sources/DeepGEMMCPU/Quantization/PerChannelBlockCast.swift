import DeepGEMMCore
internal import CDeepGEMMCPU

/// `per_channel_cast_to_fp8`: quantizes `x` [m, n] to FP8 E4M3 with one scale per column and per
/// block of `granK` consecutive rows (`m` must be a multiple of `granK`).
///
/// Returns data [m, n] and sf F32 [m/granK, n]; the scale rule is that of
/// ``perTokenCastToFP8(_:useUE8M0:granK:usePackedUE8M0:variant:)``.
public func perChannelCastToFP8(_ x: Tensor, useUE8M0: Bool, granK: Int = 128,
                                variant: CPUKernelVariant = .best) throws -> QuantizedTensor {
    try castRowBlocks(x, CastProblem(.perChannelFP8, x: x, useUE8M0: useUE8M0, granK: granK), variant: variant)
}

/// `per_block_cast_to_fp8`: quantizes `x` [m, n] to FP8 E4M3 with one scale per `granK` x `granK`
/// block (the edges are zero-padded for the amax).
///
/// Returns data [m, n] and sf F32 [ceil(m/granK), ceil(n/granK)].
public func perBlockCastToFP8(_ x: Tensor, useUE8M0: Bool, granK: Int = 128,
                              variant: CPUKernelVariant = .best) throws -> QuantizedTensor {
    try castRowBlocks(x, CastProblem(.perBlockFP8, x: x, useUE8M0: useUE8M0, granK: granK), variant: variant)
}

/// Quantizes with one scale per `problem.blockRows` x `problem.blockColumns` block, in parallel
/// over row blocks.
private func castRowBlocks(_ x: Tensor, _ problem: CastProblem, variant: CPUKernelVariant) throws -> QuantizedTensor {
    let (useUE8M0, blockRows, blockColumns) = (problem.useUE8M0, problem.blockRows, problem.blockColumns)
    let input = try FloatInput(x, name: "x")
    let m = x.size(0), n = x.size(1)
    let rowBlocks = ceilDiv(m, blockRows), columnBlocks = ceilDiv(n, blockColumns)
    let data = Tensor.empty([m, n], dtype: .float8E4M3)
    let sf = Tensor.empty([rowBlocks, columnBlocks], dtype: .float32)
    let dataPointer = SendablePointer(data.dataPointer), sfPointer = SendablePointer(sf.dataPointer)
    CPUParallelism.forEachChunk(rowBlocks, grain: max(1, 65536 / max(n * blockRows, 1))) { blocks in
        let out = dataPointer.raw.assumingMemoryBound(to: UInt8.self)
        let scales = sfPointer.raw.assumingMemoryBound(to: Float.self)
        let rows = (blocks.lowerBound * blockRows)..<min(m, blocks.upperBound * blockRows)
        if let isa = variant.isaCode {
            var scratch = [UInt32](repeating: 0, count: 2 * n)
            dg_quantize_blocks(isa, input.address(rows.lowerBound * n), input.typeCode, Int64(rows.count), Int64(n),
                               Int64(blockRows), Int64(blockColumns), useUE8M0 ? 1 : 0, out + rows.lowerBound * n,
                               scales + blocks.lowerBound * columnBlocks, &scratch)
            return
        }
        for block in blocks {
            referenceCastBlock(input, block: block, m: m, n: n, blockRows: blockRows, blockColumns: blockColumns,
                               useUE8M0: useUE8M0, out: out, scales: scales + block * columnBlocks)
        }
    }
    return QuantizedTensor(data: data, sf: sf)
}

/// The plain-Swift definition of one row block's quantization.
private func referenceCastBlock(_ input: FloatInput, block: Int, m: Int, n: Int, blockRows: Int, blockColumns: Int,
                                useUE8M0: Bool, out: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>) {
    let rows = (block * blockRows)..<min(m, (block + 1) * blockRows)
    var columnAmax = [UInt32](repeating: 0, count: n)
    var inverse = [Float](repeating: 0, count: n)
    for r in rows {
        for j in 0..<n { columnAmax[j] = max(columnAmax[j], GroupScale.magnitudeBits(input.load(r * n + j))) }
    }
    for c in 0..<ceilDiv(n, blockColumns) {
        let columns = (c * blockColumns)..<min(n, (c + 1) * blockColumns)
        let amax = columns.reduce(UInt32(0)) { max($0, columnAmax[$1]) }
        let scale = GroupScale.scale(amax: Float(bitPattern: amax), maxCode: GroupScale.fp8Max, useUE8M0: useUE8M0)
        scales[c] = scale
        for j in columns { inverse[j] = 1 / scale }
    }
    for r in rows {
        for j in 0..<n { out[r * n + j] = Float8E4M3.encode((input.load(r * n + j) * inverse[j]).bitPattern, overflow: .nan) }
    }
}
