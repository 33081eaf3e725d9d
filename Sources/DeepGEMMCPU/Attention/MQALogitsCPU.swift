import DeepGEMMCore
internal import CDeepGEMMCPU

/// The CPU backend of `fp8_fp4_mqa_logits` (spec §12.1).
public enum MQALogitsCPU {
    /// Computes the logits of a validated problem and returns them as DeepGEMM does: a
    /// [S, SKV] (or [S, max_seqlen_k] when compressed) view of a buffer with DeepGEMM's row stride
    /// (``MQALogitsProblem/rowStride``).
    ///
    /// Row i holds the logit of key `j` at column `j` (compressed: column `j - ks[i]`) for the keys
    /// of its window, and -inf at every other column of the view, whether or not `clean_logits`
    /// was asked for (DeepGEMM leaves those unspecified without it). The arithmetic is the one of
    /// `dg_mqa.h`, identical for every `variant` and independent of `threads`.
    ///
    /// The inputs must have passed ``MQALogitsProblem`` (shapes, dtypes, contiguity).
    public static func run(_ problem: MQALogitsProblem, q: Tensor, qSF: Tensor?, kv: Tensor, kvSF: Tensor, weights: Tensor,
                           variant: CPUKernelVariant = .best, threads: Int = CPUParallelism.threadCount) throws -> Tensor {
        let logits = try MQALogitsLayout.view(rows: problem.seqLen, columns: problem.outputColumns, bufferRows: problem.bufferRows,
                                              rowStride: problem.rowStride, dtype: problem.logitsDType)
        guard problem.seqLen > 0 else { return logits }
        let kernel = MQAKernel(variant: variant, format: problem.format)
        let keys = MQAKeyPanel(kernel: kernel, format: problem.format, dim: problem.headDim, capacity: problem.seqLenKV)
        loadKeys(keys, problem: problem, kv: kv, kvSF: kvSF, threads: threads)

        let outBF16 = problem.logitsDType == .bfloat16, weightsBF16 = problem.weightsDType == .bfloat16
        let (heads, dim) = (problem.numHeads, problem.headDim)
        let qRowBytes = heads * (problem.format == .fp8 ? dim : dim / 2)
        let pointers = (q: SendablePointer(q.dataPointer), qSF: qSF.map { SendablePointer($0.dataPointer) },
                        weights: SendablePointer(weights.dataPointer), out: SendablePointer(logits.dataPointer))
        let weightsRowBytes = weights.stride(0) * weights.dtype.size
        let outRowBytes = problem.rowStride * problem.logitsDType.size
        let costs = problem.keyRanges.map { $0.count * heads * dim + problem.outputColumns }
        MQAWorkPartition.forEachShare(costs: costs, threads: threads) { next in
            let query = MQAQueryPanel(kernel: kernel, format: problem.format, heads: heads, dim: dim)
            while let share = next() {
                for i in share {
                    query.load(q: pointers.q.raw + i * qRowBytes, qSF: pointers.qSF.map { $0.raw + i * heads * 4 })
                    let row = pointers.out.raw + i * outRowBytes
                    let window = problem.keyRanges[i]
                    let start = problem.isCompressed ? 0 : window.lowerBound
                    kernel.logits(query: query, keys: keys, lanes: window, weights: pointers.weights.raw + i * weightsRowBytes,
                                  weightsBF16: weightsBF16, out: row + start * problem.logitsDType.size, outBF16: outBF16)
                    MQANegativeInfinity.fill(row, 0..<start, bf16: outBF16)
                    MQANegativeInfinity.fill(row, (start + window.count)..<problem.outputColumns, bf16: outBF16)
                }
            }
        }
        return logits
    }

    /// Prepares every key row, in parallel over lane groups.
    private static func loadKeys(_ keys: MQAKeyPanel, problem: MQALogitsProblem, kv: Tensor, kvSF: Tensor, threads: Int) {
        let lanes = Int(DG_MQA_LANES)
        let rowBytes = problem.format == .fp8 ? problem.headDim : problem.headDim / 2
        let values = SendablePointer(kv.dataPointer), scales = SendablePointer(kvSF.dataPointer)
        let groups = ceilDiv(problem.seqLenKV, lanes)
        CPUParallelism.forEachChunk(groups, grain: 64, threads: threads) { range in
            let rows = (range.lowerBound * lanes)..<min(range.upperBound * lanes, problem.seqLenKV)
            keys.load(rows: rows, values: values.raw + rows.lowerBound * rowBytes, valueStride: rowBytes,
                      scales: scales.raw + rows.lowerBound * 4, scaleStride: 4)
        }
    }
}
