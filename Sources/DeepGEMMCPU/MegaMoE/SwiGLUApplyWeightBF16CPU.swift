import DeepGEMMCore

/// The CPU backend of the BF16-output SwiGLU of `bf16_mega_moe` (spec/megamoe-indexer.md §1.11,
/// TileLang's `output_bf16=True`): for row r and column c < I,
/// `out[r, c] = bf16_rn(a)` with a = ``MegaMoESwiGLUArithmetic/activation(gate:up:weight:clamp:fastMath:)``
/// of (x[r, c], x[r, I + c], topk_weights[r] or 1). No amax, no FP8. Returns BF16 [rows, I], row-major.
public func swigluApplyWeightToBF16CPU(_ problem: SwiGLUApplyWeightProblem, x: Tensor, topkWeights: Tensor?,
                                      fastMath: Bool) -> Tensor {
    let (rows, intermediate) = (problem.rows, problem.intermediate)
    let result = Tensor(zeros: [rows, intermediate], dtype: .bfloat16)
    let out = SendablePointer(result.dataPointer), input = SendablePointer(x.dataPointer)
    let (rowStride, columnStride) = (x.stride(0), x.stride(1))
    let weights = topkWeights.map { (SendablePointer($0.dataPointer), $0.stride(0)) }
    let activation = MegaMoESwiGLUArithmetic.BF16Activation(clamp: problem.clamp, fastMath: fastMath)
    CPUParallelism.forEachChunk(rows, grain: max(1, 4096 / intermediate)) { range in
        let gateUp = input.raw.assumingMemoryBound(to: UInt16.self)
        let values = out.raw.assumingMemoryBound(to: UInt16.self)
        for r in range {
            let weight = weights.map { $0.0.raw.assumingMemoryBound(to: Float.self)[r * $0.1] } ?? 1
            for c in 0..<intermediate {
                let a = activation(gate: gateUp[r * rowStride + c * columnStride], up: gateUp[r * rowStride + (intermediate + c) * columnStride],
                                   weight: weight)
                values[r * intermediate + c] = BFloat16(a).bitPattern
            }
        }
    }
    return result
}
