/// The logits buffers of the lightning-indexer ops (spec §12): DeepGEMM returns views of larger
/// buffers whose row strides are 1024-byte aligned, and the CPU backend returns views with the same
/// strides.
public enum MQALogitsLayout {
    /// KV tokens per split of DeepGEMM's kernels; output columns are allocated in whole splits.
    public static let splitKV = 256
    /// Query heads times query rows handled per block (`BLOCK_Q = 128 / num_heads`).
    public static let blockQH = 128

    /// Elements per 1024 bytes of `dtype`, the row-stride alignment.
    public static func strideAlignment(_ dtype: DType) -> Int { 1024 / dtype.size }

    /// Row stride of non-compressed prefill logits: `align(seq_len_kv + 256, 1024 / elsize)`.
    public static func rowStride(seqLenKV: Int, dtype: DType) -> Int {
        align(seqLenKV + splitKV, strideAlignment(dtype))
    }

    /// Row stride of compressed prefill logits: `align(align(max_seqlen_k, 256), 1024 / elsize)`.
    public static func compressedRowStride(maxSeqlenK: Int, dtype: DType) -> Int {
        align(align(maxSeqlenK, splitKV), strideAlignment(dtype))
    }

    /// Row stride of paged logits: `align(align(max_context_len, 256), 1024 / elsize)`.
    public static func pagedRowStride(maxContextLen: Int, dtype: DType) -> Int {
        align(align(maxContextLen, splitKV), strideAlignment(dtype))
    }

    /// Rows of the prefill buffer: `seq_len` rounded up to whole query blocks of `128 / num_heads`.
    public static func bufferRows(seqLen: Int, numHeads: Int) -> Int {
        align(seqLen, blockQH / numHeads)
    }

    /// A `[rows, columns]` view at the start of a new buffer of `bufferRows` rows of `rowStride`
    /// elements, whose contents are unspecified until written.
    public static func view(rows: Int, columns: Int, bufferRows: Int, rowStride: Int, dtype: DType) throws -> Tensor {
        let buffer = Tensor.empty([bufferRows, rowStride], dtype: dtype)
        return try buffer.narrow(dim: 0, start: 0, length: rows).narrow(dim: 1, start: 0, length: columns)
    }
}
