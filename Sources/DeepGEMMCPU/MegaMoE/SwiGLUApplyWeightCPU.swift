import DeepGEMMCore

/// The CPU backend of `swiglu_apply_weight_to_fp8` for a validated problem.
///
/// Row r of `x` is gate = x[r, 0..<I] and up = x[r, I..<2I]; each output column c takes
/// ``MegaMoESwiGLUArithmetic/activation(gate:up:weight:clamp:fastMath:)`` of (gate[c], up[c],
/// topk_weights[r] or 1), quantized by ``MegaMoESwiGLUArithmetic/quantizeRow(columns:activation:codes:storeWord:)``
/// with one UE8M0 scale per 32 columns; `variant`'s C kernel when x's columns are contiguous.
///
/// Returns data FP8 E4M3 [rows, I] (row-major) and sf Int32 [rows, ceil(I/128)] with byte g % 4 of
/// word g / 4 holding group g's exponent byte, MN-major and TMA-aligned (`stride(-2) = 1`,
/// `stride(-1) = align(rows, 4)`), the layout the second grouped GEMM reads with recipe (1, 1, 32).
/// Unused bytes of the last word are 0.
public func swigluApplyWeightToFP8CPU(_ problem: SwiGLUApplyWeightProblem, x: Tensor, topkWeights: Tensor?,
                                     fastMath: Bool, variant: CPUKernelVariant = .best) -> QuantizedTensor {
    let (rows, intermediate) = (problem.rows, problem.intermediate)
    let words = problem.packedScaleWords, alignedRows = problem.alignedScaleRows
    let data = Tensor(zeros: [rows, intermediate], dtype: .float8E4M3)
    let sfStorage = Tensor(zeros: [words, alignedRows], dtype: .int32)
    let out = SendablePointer(data.dataPointer), sfOut = SendablePointer(sfStorage.dataPointer)
    let input = SendablePointer(x.dataPointer), (rowStride, columnStride) = (x.stride(0), x.stride(1))
    let weights = topkWeights.map { (SendablePointer($0.dataPointer), $0.stride(0)) }
    let activation = MegaMoESwiGLUArithmetic.BF16Activation(clamp: problem.clamp, fastMath: fastMath)
    CPUParallelism.forEachChunk(rows, grain: max(1, 4096 / intermediate)) { range in
        let gateUp = input.raw.assumingMemoryBound(to: UInt16.self)
        let codes = out.raw.assumingMemoryBound(to: UInt8.self)
        let scales = sfOut.raw.assumingMemoryBound(to: Int32.self)
        for r in range {
            let weight = weights.map { $0.0.raw.assumingMemoryBound(to: Float.self)[r * $0.1] } ?? 1
            let storeWord = { (w: Int, word: Int32) in scales[w * alignedRows + r] = word }
            if columnStride == 1 {
                let gate = UnsafePointer(gateUp + r * rowStride)
                MegaMoESwiGLUArithmetic.quantizeRow(gate: gate, up: gate + intermediate, chunkStride: 8, columns: intermediate,
                                                    weight: weight, activation: activation, variant: variant,
                                                    codes: codes + r * intermediate, storeWord: storeWord)
            } else {
                MegaMoESwiGLUArithmetic.quantizeRow(columns: intermediate, activation: { c in
                    activation(gate: gateUp[r * rowStride + c * columnStride], up: gateUp[r * rowStride + (intermediate + c) * columnStride],
                               weight: weight)
                }, codes: codes + r * intermediate, storeWord: storeWord)
            }
        }
    }
    let sf: Tensor
    do {
        sf = try sfStorage.transposed().narrow(dim: 0, start: 0, length: rows)
    } catch {
        preconditionFailure("narrowing [\(alignedRows), \(words)] scales to \(rows) rows cannot fail: \(error)")
    }
    return QuantizedTensor(data: data, sf: sf)
}
