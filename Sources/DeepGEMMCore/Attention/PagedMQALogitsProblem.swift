/// A validated `fp8_fp4_paged_mqa_logits` call (spec §12.3): sizes, formats, the page layout of the
/// KV cache, the requests and every token's context length.
public struct PagedMQALogitsProblem: Sendable {
    /// FP8 or FP4 inputs.
    public let format: MQAInputFormat
    /// Rows of q: requests (without `indices`) or tokens (with `indices`).
    public let batchSize: Int
    /// Query tokens per row of q (`next_n`, 1 with `indices`).
    public let nextN: Int
    /// Heads H.
    public let numHeads: Int
    /// Head dimension D (logical, not packed).
    public let headDim: Int
    /// Tokens per KV page.
    public let blockKV: Int
    /// Pages in the KV cache.
    public let numBlocks: Int
    /// Bytes from one page to the next (`kv_cache.stride(0)`).
    public let pageStride: Int
    /// Columns of the logits.
    public let maxContextLen: Int
    /// F32 or BF16 weights.
    public let weightsDType: DType
    /// F32 or BF16 logits.
    public let logitsDType: DType
    /// The requests, in token order.
    public let requests: [PagedMQARequest]
    /// Every token's context length (row-major [batch_size, next_n]).
    public let contextLengths: [Int]

    /// Query tokens (rows of the logits).
    public var tokenCount: Int { batchSize * nextN }
    /// Bytes of one token's values in a page (`head_dim` for FP8, `head_dim / 2` for FP4).
    public var valueBytes: Int { format == .fp8 ? headDim : headDim / 2 }
    /// Row stride of the returned logits, as DeepGEMM allocates it.
    public var rowStride: Int { MQALogitsLayout.pagedRowStride(maxContextLen: maxContextLen, dtype: logitsDType) }
    /// Number of (query, key) pairs inside the context lengths.
    public var pairCount: Int { contextLengths.reduce(0, +) }

    /// Checks the arguments by DeepGEMM's rules (`rules` selects the union of SM90 and SM100 or one
    /// of them; see ``MQARules``) before anything is computed:
    /// - q: float8_e4m3fn [B, next_n, H, D], or packed FP4 int8 [B, next_n, H, D/2] with `qSF`
    ///   int32 [B, next_n, H] (SM100); contiguous; next_n >= 1 (1 or 2 under SM90); H and D as in
    ///   §12.1.
    /// - kv_cache: uint8 [num_blocks, block_kv, 1, D + 4] (FP8) or [..., D/2 + 4] (FP4) with
    ///   `stride(1) == size(3)`, `stride(3) == 1` and `stride(0) % 4 == 0`; block_kv 32 or 64 (64
    ///   under SM90). Each page holds the values of its block_kv tokens, then their 4-byte scales.
    /// - weights [B·next_n, H] with `stride(1) == 1`, contiguous for FP8; float32, or bfloat16
    ///   (SM100) with bfloat16 logits.
    /// - block_table int32 [B, max_blocks] with `stride(1) == 1`.
    /// - indices (varlen; SM100, next_n == 1): int32 [B], contiguous.
    /// - schedule_meta int32 [num_sms + 1, 2], contiguous.
    /// - context_lens int32 [B, next_n] (2-D only), contiguous. `logitsDType` float32 or bfloat16.
    /// - `cleanLogits` must be false: DeepGEMM asserts 1-D context lengths for it, and only 2-D
    ///   ones exist.
    ///
    /// Stricter than DeepGEMM, which reads these on the device without checks:
    /// - context lengths are non-negative and at most `maxContextLen`; no token's length exceeds
    ///   the length of its request's last token (DeepGEMM assumes it);
    /// - each request's pages, `ceil(length / block_kv)` of them, fit in the block table, and the
    ///   entries it reads lie in `[0, num_blocks)`;
    /// - `scheduleMeta` equals ``PagedMQASchedule/metadata(contextLens:blockKV:numSMs:indices:settings:strictArch:)``
    ///   of these inputs (stale metadata would make DeepGEMM's kernels skip or repeat work).
    public init(q: Tensor, qSF: Tensor?, kvCache: Tensor, weights: Tensor, contextLens: Tensor, blockTable: Tensor,
                scheduleMeta: Tensor, maxContextLen: Int, cleanLogits: Bool, logitsDType: DType, indices: Tensor?,
                numSMs: Int, settings: DeepGEMMSettings, strictArch: Bool) throws {
        let rules = MQARules(settings: settings, strictArch: strictArch)
        let fp4 = qSF != nil
        format = fp4 ? .fp4 : .fp8
        try DeepGEMMError.require(q.rank == 4, "q", "must be 4-D [batch_size, next_n, num_heads, \(fp4 ? "head_dim / 2" : "head_dim")], got shape \(q.shape)")
        (batchSize, nextN, numHeads) = (q.size(0), q.size(1), q.size(2))
        headDim = fp4 ? 2 * q.size(3) : q.size(3)
        try rules.checkNextN(nextN, argument: "q")
        if fp4 { try rules.checkFP4Allowed() }
        try rules.checkHeads(numHeads, argument: "q")
        try rules.checkHeadDim(headDim, fp4: fp4, argument: "q")
        try MQAArgumentChecks.contiguous(q, "q")
        if let qSF {
            try MQAArgumentChecks.packedFP4(q, "q")
            try DeepGEMMError.require(qSF.rank == 3 && qSF.shape == [batchSize, nextN, numHeads], "q_sf",
                                      "must be [batch_size, next_n, num_heads] = [\(batchSize), \(nextN), \(numHeads)], got shape \(qSF.shape)")
            try MQAArgumentChecks.contiguous(qSF, "q_sf")
            try DeepGEMMError.require(qSF.dtype == .int32, "q_sf", "must be int32 (packed UE8M0), got \(qSF.dtype)")
        } else {
            try DeepGEMMError.require(q.dtype == .float8E4M3, "q", "must be float8_e4m3fn, got \(q.dtype)")
        }

        let rowBytes = (fp4 ? headDim / 2 : headDim) + 4
        try DeepGEMMError.require(kvCache.rank == 4, "kv_cache", "must be 4-D [num_blocks, block_kv, 1, \(fp4 ? "head_dim / 2" : "head_dim") + 4], got shape \(kvCache.shape)")
        (numBlocks, blockKV) = (kvCache.size(0), kvCache.size(1))
        try rules.checkBlockKV(blockKV, argument: "kv_cache")
        try DeepGEMMError.require(kvCache.size(2) == 1 && kvCache.size(3) == rowBytes, "kv_cache",
                                  "must be [num_blocks, block_kv, 1, \(rowBytes)] for head_dim \(headDim), got shape \(kvCache.shape)")
        try DeepGEMMError.require(kvCache.stride(1) == rowBytes && kvCache.stride(3) == 1, "kv_cache",
                                  "must have stride(1) == \(rowBytes) and stride(3) == 1, got strides \(kvCache.strides)")
        try DeepGEMMError.require(kvCache.dtype == .uint8, "kv_cache", "must be uint8, got \(kvCache.dtype)")
        pageStride = kvCache.stride(0)
        try DeepGEMMError.require(pageStride % 4 == 0, "kv_cache", "stride(0) must be a multiple of 4 bytes, got \(pageStride)")
        if !fp4 { try MQAArgumentChecks.contiguous(weights, "weights") }

        try DeepGEMMError.require(weights.rank == 2 && weights.shape == [batchSize * nextN, numHeads], "weights",
                                  "must be [batch_size · next_n, num_heads] = [\(batchSize * nextN), \(numHeads)], got shape \(weights.shape)")
        try DeepGEMMError.require(weights.stride(1) == 1, "weights", "must have stride(1) == 1, got strides \(weights.strides)")
        try rules.checkWeightsDType(weights.dtype)
        weightsDType = weights.dtype
        try DeepGEMMError.require(weights.dtype != .bfloat16 || logitsDType == .bfloat16, "logits_dtype", "must be bfloat16 when weights are bfloat16")

        try DeepGEMMError.require(blockTable.rank == 2 && blockTable.size(0) == batchSize, "block_table",
                                  "must be [batch_size, max_blocks] with batch_size = \(batchSize), got shape \(blockTable.shape)")
        try DeepGEMMError.require(blockTable.stride(1) == 1 || blockTable.size(1) <= 1, "block_table", "must have stride(1) == 1, got strides \(blockTable.strides)")
        try DeepGEMMError.require(blockTable.dtype == .int32, "block_table", "must be int32, got \(blockTable.dtype)")

        var indexValues: [Int32]?
        if let indices {
            try rules.checkVarlen(nextN: nextN)
            indexValues = try MQAArgumentChecks.int32Vector(indices, "indices", count: batchSize, countName: "batch_size")
        }

        try DeepGEMMError.require(numSMs >= 1, "num_sms", "must be at least 1, got \(numSMs)")
        try DeepGEMMError.require(scheduleMeta.rank == 2 && scheduleMeta.shape == [numSMs + 1, 2], "schedule_meta",
                                  "must be [num_sms + 1, 2] = [\(numSMs + 1), 2], got shape \(scheduleMeta.shape)")
        try MQAArgumentChecks.contiguous(scheduleMeta, "schedule_meta")
        try DeepGEMMError.require(scheduleMeta.dtype == .int32, "schedule_meta", "must be int32, got \(scheduleMeta.dtype)")

        try DeepGEMMError.require(contextLens.rank == 2, "context_lens", "must be 2-D [batch_size, next_n] (1-D context lengths are not supported), got shape \(contextLens.shape)")
        try DeepGEMMError.require(contextLens.shape == [batchSize, nextN], "context_lens",
                                  "must be [batch_size, next_n] = [\(batchSize), \(nextN)], got shape \(contextLens.shape)")
        try MQAArgumentChecks.contiguous(contextLens, "context_lens")
        try DeepGEMMError.require(contextLens.dtype == .int32, "context_lens", "must be int32, got \(contextLens.dtype)")
        try DeepGEMMError.require(logitsDType == .float32 || logitsDType == .bfloat16, "logits_dtype", "must be float32 or bfloat16, got \(logitsDType)")
        self.logitsDType = logitsDType
        try DeepGEMMError.require(!cleanLogits, "clean_logits", "must be false: it needs 1-D context_lens, and only 2-D context_lens are supported")

        try DeepGEMMError.require(maxContextLen >= 0, "max_context_len", "must be non-negative, got \(maxContextLen)")
        self.maxContextLen = maxContextLen
        let lengths = try contextLens.elements(as: Int32.self)
        contextLengths = lengths.map(Int.init)
        for (token, length) in contextLengths.enumerated() {
            try DeepGEMMError.require(length >= 0, "context_lens", "entries must be non-negative, got \(length) for token \(token)")
            try DeepGEMMError.require(length <= maxContextLen, "max_context_len", "is \(maxContextLen), below the context length \(length) of token \(token)")
        }
        requests = PagedMQARequest.requests(contextLens: lengths, batchSize: batchSize, nextN: nextN, indices: indexValues)
        try Self.checkPages(requests: requests, contextLengths: contextLengths, blockTable: blockTable, blockKV: blockKV, numBlocks: numBlocks)

        let expected = try PagedMQASchedule.metadata(contextLens: contextLens, blockKV: blockKV, numSMs: numSMs, indices: indices,
                                                     settings: settings, strictArch: strictArch)
        try DeepGEMMError.require(expected.bitwiseEqual(scheduleMeta), "schedule_meta",
                                  "does not match get_paged_mqa_logits_metadata(context_lens, block_kv = \(blockKV), num_sms = \(numSMs), indices) under arch \(settings.arch.rawValue); rebuild it after context_lens or num_sms change")
    }

    /// Every token's length is at most its request's extent; every request's pages fit in its
    /// block-table row and name existing pages.
    private static func checkPages(requests: [PagedMQARequest], contextLengths: [Int], blockTable: Tensor, blockKV: Int, numBlocks: Int) throws {
        let columns = blockTable.size(1), rowStride = blockTable.stride(0)
        let table = UnsafeRawPointer(blockTable.dataPointer).assumingMemoryBound(to: Int32.self)
        for request in requests {
            for token in request.tokens where contextLengths[token] > request.contextLength {
                throw DeepGEMMError.invalidArgument(argument: "context_lens", rule: "token \(token) has context length \(contextLengths[token]), above \(request.contextLength), the length of the last token of its request")
            }
            let pages = ceilDiv(request.contextLength, blockKV)
            try DeepGEMMError.require(pages <= columns, "context_lens", "request at token \(request.firstToken) needs \(pages) pages of \(blockKV) tokens for context length \(request.contextLength), but block_table has \(columns) columns")
            for page in 0..<pages {
                let block = table[request.blockTableRow * rowStride + page]
                try DeepGEMMError.require(block >= 0 && Int(block) < numBlocks, "block_table",
                                          "entry [\(request.blockTableRow), \(page)] is \(block), outside [0, \(numBlocks)) pages of kv_cache")
            }
        }
    }
}
