import DeepGEMMCore

/// The L1 epilogue of the fused path: SwiGLU of the interleaved L1 output, times each row's top-k
/// weight, written into the L2 ring. The arithmetic is ``MegaMoESwiGLUArithmetic``'s, step for step
/// the same as `swiglu_apply_weight_to_fp8`/`_to_bf16` of the unfused path; only the column order
/// of the input differs (gate and up rows were interleaved by 8 by `transform_weights_for_mega_moe`).
enum MegaMoEFusedEpilogue {
    /// An interleaved L1 output row holds gate and up values in alternating chunks of 8 columns:
    /// gate chunk j at column `chunkStride`·j, its up chunk `upOffset` columns later.
    static let chunkStride = 16, upOffset = 8

    /// Column of gate value c in an interleaved L1 output row (up value c is `upOffset` later).
    @inlinable
    static func gateColumn(_ c: Int) -> Int { MegaMoESwiGLUArithmetic.chunkedIndex(c, chunkStride: chunkStride) }

    /// FP8 form (the best CPU level's `dg_swiglu_fp8_row`): for each of `rows` rows of `l1` (BF16
    /// [rows, 2I], row-major), the activations are quantized per 32 columns with one UE8M0 exponent
    /// (no floor on amax), the E4M3 codes go to `tokens` (row stride I) and the packed exponent
    /// bytes to the SF ring `sf` at the UTCCP row of ring row `firstRingRow + row` (word w at
    /// `w · sfRingRows + row`).
    static func fp8(l1: UnsafePointer<UInt16>, rows: Int, intermediate: Int, weights: UnsafePointer<Float>,
                    clamp: Float?, fastMath: Bool, tokens: UnsafeMutablePointer<UInt8>, sf: UnsafeMutablePointer<Int32>,
                    sfRingRows: Int, firstRingRow: Int, threads: Int) {
        let input = SendablePointer(UnsafeMutableRawPointer(mutating: l1)), weight = SendablePointer(UnsafeMutableRawPointer(mutating: weights))
        let codes = SendablePointer(UnsafeMutableRawPointer(tokens)), scales = SendablePointer(UnsafeMutableRawPointer(sf))
        let activation = MegaMoESwiGLUArithmetic.BF16Activation(clamp: clamp, fastMath: fastMath)
        CPUParallelism.forEachChunk(rows, grain: max(1, 4096 / intermediate), threads: threads) { range in
            let gateUp = input.raw.assumingMemoryBound(to: UInt16.self), rowWeights = weight.raw.assumingMemoryBound(to: Float.self)
            let out = codes.raw.assumingMemoryBound(to: UInt8.self), words = scales.raw.assumingMemoryBound(to: Int32.self)
            for r in range {
                let row = gateUp + r * 2 * intermediate, w = rowWeights[r]
                let sfRow = MegaMoEWeightLayout.utccpDestinationRow(firstRingRow + r)
                MegaMoESwiGLUArithmetic.quantizeRow(gate: row, up: row + upOffset, chunkStride: chunkStride, columns: intermediate,
                                                    weight: w, activation: activation, variant: .best, codes: out + r * intermediate,
                                                    storeWord: { index, word in words[index * sfRingRows + sfRow] = word })
            }
        }
    }

    /// BF16 form: `tokens[row, c] = bf16_rn(a)` (row stride I), no amax and no FP8.
    static func bf16(l1: UnsafePointer<UInt16>, rows: Int, intermediate: Int, weights: UnsafePointer<Float>,
                     clamp: Float?, fastMath: Bool, tokens: UnsafeMutablePointer<UInt16>, threads: Int) {
        let input = SendablePointer(UnsafeMutableRawPointer(mutating: l1)), weight = SendablePointer(UnsafeMutableRawPointer(mutating: weights))
        let output = SendablePointer(UnsafeMutableRawPointer(tokens))
        let activation = MegaMoESwiGLUArithmetic.BF16Activation(clamp: clamp, fastMath: fastMath)
        CPUParallelism.forEachChunk(rows, grain: max(1, 4096 / intermediate), threads: threads) { range in
            let gateUp = input.raw.assumingMemoryBound(to: UInt16.self), rowWeights = weight.raw.assumingMemoryBound(to: Float.self)
            let out = output.raw.assumingMemoryBound(to: UInt16.self)
            for r in range {
                let row = gateUp + r * 2 * intermediate, w = rowWeights[r]
                for c in 0..<intermediate {
                    let column = gateColumn(c)
                    let a = activation(gate: row[column], up: row[column + upOffset], weight: w)
                    out[r * intermediate + c] = BFloat16(a).bitPattern
                }
            }
        }
    }
}
