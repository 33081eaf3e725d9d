/// How the lightning-indexer inputs are quantized (spec §12.1).
public enum MQAInputFormat: String, Sendable, Hashable {
    /// FP8 E4M3 q (unscaled) and kv, with one F32 scale per kv token.
    case fp8
    /// Packed FP4 E2M1 q and kv (int8, two codes per byte), each with UE8M0 scales per 32 elements
    /// packed into one Int32 per row (bytes past `head_dim / 32` are padding).
    case fp4
}

/// A validated `fp8_fp4_mqa_logits` call (spec §12.1): sizes, formats, output layout and the
/// clamped key window of every query.
public struct MQALogitsProblem: Sendable {
    /// FP8 or FP4 inputs.
    public let format: MQAInputFormat
    /// Query tokens S.
    public let seqLen: Int
    /// Key tokens SKV.
    public let seqLenKV: Int
    /// Heads H.
    public let numHeads: Int
    /// Head dimension D (logical, not packed).
    public let headDim: Int
    /// F32 or BF16 weights.
    public let weightsDType: DType
    /// F32 or BF16 logits.
    public let logitsDType: DType
    /// DeepGEMM's `clean_logits`: positions outside the window are -inf (the CPU backend writes
    /// -inf there in every mode).
    public let cleanLogits: Bool
    /// 0 for full-width logits, otherwise the column count of compressed logits.
    public let maxSeqlenK: Int
    /// The key window `[min(ks, SKV), min(ke, SKV))` of each query.
    public let keyRanges: [Range<Int>]

    /// True for compressed logits (`max_seqlen_k > 0`).
    public var isCompressed: Bool { maxSeqlenK > 0 }
    /// Columns of the returned view.
    public var outputColumns: Int { isCompressed ? maxSeqlenK : seqLenKV }
    /// Row stride of the returned view, as DeepGEMM allocates it.
    public var rowStride: Int {
        isCompressed ? MQALogitsLayout.compressedRowStride(maxSeqlenK: maxSeqlenK, dtype: logitsDType)
            : MQALogitsLayout.rowStride(seqLenKV: seqLenKV, dtype: logitsDType)
    }
    /// Rows of the buffer behind the returned view.
    public var bufferRows: Int { MQALogitsLayout.bufferRows(seqLen: seqLen, numHeads: numHeads) }
    /// Number of (query, key) pairs inside the windows.
    public var pairCount: Int { keyRanges.reduce(0) { $0 + $1.count } }

    /// Checks the arguments by DeepGEMM's rules (`rules` selects the union of SM90 and SM100 or one
    /// of them; see ``MQARules``), in DeepGEMM's order, before anything is computed:
    /// - FP8 (`qSF == nil`): q float8_e4m3fn [S, H, D] contiguous; kv float8_e4m3fn [SKV, D]
    ///   contiguous; kvSF float32 [SKV] contiguous; D in {32, 64, 128}.
    /// - FP4 (`qSF` given; SM100): q packed FP4 int8 [S, H, D/2] contiguous; qSF int32 [S, H]
    ///   contiguous; kv int8 [SKV, D/2] contiguous; kvSF int32 [SKV] contiguous; D in {64, 128}.
    /// - H in {8, 16, 32, 64} ({32, 64} on SM90).
    /// - weights [S, H] with `stride(1) == 1`, float32 or bfloat16 (SM100); bfloat16 weights need
    ///   bfloat16 logits. `logitsDType` is float32 or bfloat16.
    /// - cu_seq_len_k_start / cu_seq_len_k_end: int32 [S], contiguous.
    /// - `maxSeqlenK >= 0`; when positive, `cleanLogits` must be false.
    ///
    /// Stricter than DeepGEMM, which reads the windows on the device without checks: every
    /// `ks[i]` and `ke[i]` must satisfy `0 <= ks[i] <= ke[i]` (keys past SKV are clamped away, as
    /// DeepGEMM does), and in compressed mode every clamped window must fit in `maxSeqlenK`
    /// columns (DeepGEMM would write past the row).
    public init(q: Tensor, qSF: Tensor?, kv: Tensor, kvSF: Tensor, weights: Tensor, cuSeqLenKStart: Tensor, cuSeqLenKEnd: Tensor,
                cleanLogits: Bool, maxSeqlenK: Int, logitsDType: DType, rules: MQARules) throws {
        let fp4 = qSF != nil
        format = fp4 ? .fp4 : .fp8
        try DeepGEMMError.require(q.rank == 3, "q", "must be 3-D [seq_len, num_heads, \(fp4 ? "head_dim / 2" : "head_dim")], got shape \(q.shape)")
        (seqLen, numHeads) = (q.size(0), q.size(1))
        headDim = fp4 ? 2 * q.size(2) : q.size(2)
        if let qSF {
            try rules.checkFP4Allowed()
            try rules.checkHeads(numHeads, argument: "q")
            try rules.checkHeadDim(headDim, fp4: true, argument: "q")
            try MQAArgumentChecks.contiguous(q, "q")
            try MQAArgumentChecks.packedFP4(q, "q")
            try DeepGEMMError.require(qSF.rank == 2 && qSF.shape == [seqLen, numHeads], "q_sf", "must be [seq_len, num_heads] = [\(seqLen), \(numHeads)], got shape \(qSF.shape)")
            try MQAArgumentChecks.contiguous(qSF, "q_sf")
            try DeepGEMMError.require(qSF.dtype == .int32, "q_sf", "must be int32 (packed UE8M0), got \(qSF.dtype)")
            try DeepGEMMError.require(kv.rank == 2 && 2 * kv.size(1) == headDim, "kv", "must be [seq_len_kv, head_dim / 2] with head_dim = \(headDim), got shape \(kv.shape)")
            try MQAArgumentChecks.contiguous(kv, "kv")
            try MQAArgumentChecks.packedFP4(kv, "kv")
            seqLenKV = kv.size(0)
            try DeepGEMMError.require(kvSF.rank == 1 && kvSF.size(0) == seqLenKV, "kv_sf", "must be [seq_len_kv] = [\(seqLenKV)], got shape \(kvSF.shape)")
            try MQAArgumentChecks.contiguous(kvSF, "kv_sf")
            try DeepGEMMError.require(kvSF.dtype == .int32, "kv_sf", "must be int32 (packed UE8M0), got \(kvSF.dtype)")
        } else {
            try rules.checkHeads(numHeads, argument: "q")
            try rules.checkHeadDim(headDim, fp4: false, argument: "q")
            try MQAArgumentChecks.contiguous(q, "q")
            try DeepGEMMError.require(q.dtype == .float8E4M3, "q", "must be float8_e4m3fn, got \(q.dtype)")
            try DeepGEMMError.require(kv.rank == 2 && kv.size(1) == headDim, "kv", "must be [seq_len_kv, head_dim] with head_dim = \(headDim), got shape \(kv.shape)")
            try MQAArgumentChecks.contiguous(kv, "kv")
            try DeepGEMMError.require(kv.dtype == .float8E4M3, "kv", "must be float8_e4m3fn, got \(kv.dtype)")
            seqLenKV = kv.size(0)
            try DeepGEMMError.require(kvSF.rank == 1 && kvSF.size(0) == seqLenKV, "kv_sf", "must be [seq_len_kv] = [\(seqLenKV)], got shape \(kvSF.shape)")
            try MQAArgumentChecks.contiguous(kvSF, "kv_sf")
            try DeepGEMMError.require(kvSF.dtype == .float32, "kv_sf", "must be float32, got \(kvSF.dtype)")
        }

        try DeepGEMMError.require(weights.rank == 2 && weights.shape == [seqLen, numHeads], "weights", "must be [seq_len, num_heads] = [\(seqLen), \(numHeads)], got shape \(weights.shape)")
        try DeepGEMMError.require(weights.stride(1) == 1, "weights", "must have stride(1) == 1, got strides \(weights.strides)")
        try rules.checkWeightsDType(weights.dtype)
        weightsDType = weights.dtype
        try DeepGEMMError.require(logitsDType == .float32 || logitsDType == .bfloat16, "logits_dtype", "must be float32 or bfloat16, got \(logitsDType)")
        try DeepGEMMError.require(weights.dtype != .bfloat16 || logitsDType == .bfloat16, "logits_dtype", "must be bfloat16 when weights are bfloat16")
        self.logitsDType = logitsDType

        let starts = try MQAArgumentChecks.int32Vector(cuSeqLenKStart, "cu_seq_len_k_start", count: seqLen, countName: "seq_len")
        let ends = try MQAArgumentChecks.int32Vector(cuSeqLenKEnd, "cu_seq_len_k_end", count: seqLen, countName: "seq_len")
        var ranges = [Range<Int>]()
        ranges.reserveCapacity(seqLen)
        for i in 0..<seqLen {
            let (ks, ke) = (Int(starts[i]), Int(ends[i]))
            try DeepGEMMError.require(ks >= 0, "cu_seq_len_k_start", "entries must be non-negative, got \(ks) at query \(i)")
            try DeepGEMMError.require(ks <= ke, "cu_seq_len_k_end", "must not be below cu_seq_len_k_start, got ks = \(ks) > ke = \(ke) at query \(i)")
            ranges.append(min(ks, seqLenKV)..<min(ke, seqLenKV))
        }
        keyRanges = ranges

        try DeepGEMMError.require(maxSeqlenK >= 0, "max_seqlen_k", "must be non-negative, got \(maxSeqlenK)")
        self.maxSeqlenK = maxSeqlenK
        self.cleanLogits = cleanLogits
        if maxSeqlenK > 0 {
            try DeepGEMMError.require(!cleanLogits, "clean_logits", "must be false with compressed logits (max_seqlen_k > 0)")
            if let (i, range) = ranges.enumerated().first(where: { $0.element.count > maxSeqlenK }) {
                throw DeepGEMMError.invalidArgument(argument: "max_seqlen_k", rule: "query \(i) has \(range.count) keys in its window, more than max_seqlen_k = \(maxSeqlenK)")
            }
        }
    }
}
