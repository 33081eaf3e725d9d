import DeepGEMMCUDA

/// DeepGEMM's `fp8_fp4_paged_mqa_logits(q, kv_cache, weights, context_lens, block_table,
/// schedule_meta, max_context_len, clean_logits=False, logits_dtype=float32, indices=None)`
/// (spec §12.3): the lightning indexer's logits of decode tokens against a paged KV cache.
///
/// - q: float8_e4m3fn [B, next_n, H, D], or packed E2M1 int8 [B, next_n, H, D/2] with `q.sf` int32
///   [B, next_n, H] (FP4).
/// - kvCache: uint8 [num_blocks, block_kv, 1, D + 4] (FP8) or [..., D/2 + 4] (FP4). Each page
///   (`stride(0)` bytes apart) holds the values of its block_kv tokens, then their 4-byte scales
///   (float32 per token for FP8, int32 packed UE8M0 for FP4).
/// - weights [B·next_n, H]; contextLens int32 [B, next_n]; blockTable int32 [B, max_blocks];
///   scheduleMeta from ``getPagedMQALogitsMetadata(contextLens:blockKV:numSMs:indices:settings:strictArch:)``
///   with the same `numSMs`; varlen `indices` int32 [B] (next_n == 1).
///
/// Row `t = b·next_n + n` holds, for key positions `j < contextLens[b, n]`,
/// `Σ_h relu(q[b, n, h] · K_j) · weights[t, h]` (times K_j's scale for FP8), K_j being slot
/// `j % block_kv` of page `blockTable[b, j / block_kv]`; with `indices` a request is a run of equal
/// indices that reads the block-table row of its first token. Returns a [B·next_n,
/// max_context_len] view with row stride `align(align(max_context_len, 256), 1024 / elsize)`.
/// Positions at or past a token's context length are -inf: DeepGEMM leaves them unspecified, so
/// this is stricter. `cleanLogits` must be false (DeepGEMM rejects it with 2-D context lengths).
/// The numerics are those of ``fp8FP4MQALogits(q:kv:weights:cuSeqLenKStart:cuSeqLenKEnd:cleanLogits:maxSeqlenK:logitsDType:settings:strictArch:)``.
/// See ``PagedMQALogitsProblem`` for every argument rule, including the checks of page indices,
/// context lengths and `scheduleMeta` that DeepGEMM does not make.
///
/// `strictArch` applies exactly `settings.arch`'s rules (SM90: FP8, 32 or 64 heads, block_kv 64,
/// next_n 1 or 2, float32 weights, no `indices`) instead of the union of SM90 and SM100.
///
/// Runs where the tensors are (``Placement``): on an SM90 device with the SM90 FP8 paged kernel and
/// the clean pass on the current stream (FP8, float32 weights, 32 or 64 heads, next_n 1 or 2,
/// block_kv 64, no `indices`; the rest throws ``DeepGEMMError/unsupported(argument:rule:)``). The
/// context lengths, block table and schedule are checked on host copies first, and the device's
/// architecture stands for `settings.arch` (so `scheduleMeta` must be the SM90 schedule).
public func fp8FP4PagedMQALogits(
    q: (data: Tensor, sf: Tensor?), kvCache: Tensor, weights: Tensor, contextLens: Tensor, blockTable: Tensor, scheduleMeta: Tensor,
    maxContextLen: Int, cleanLogits: Bool = false, logitsDType: DType = .float32, indices: Tensor? = nil,
    numSMs: Int = PagedMQASchedule.defaultNumSMs, settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws -> Tensor {
    let placement = try Placement([("q", q.data), ("q_sf", q.sf), ("kv_cache", kvCache), ("weights", weights), ("context_lens", contextLens),
                                   ("block_table", blockTable), ("schedule_meta", scheduleMeta), ("indices", indices)])
    let problem = try PagedMQALogitsProblem(q: q.data, qSF: q.sf, kvCache: kvCache, weights: weights, contextLens: placement.readable(contextLens)!,
                                            blockTable: placement.readable(blockTable)!, scheduleMeta: placement.readable(scheduleMeta)!,
                                            maxContextLen: maxContextLen, cleanLogits: cleanLogits, logitsDType: logitsDType,
                                            indices: placement.readable(indices), numSMs: numSMs, settings: placement.rules(settings),
                                            strictArch: strictArch)
    switch placement {
    case .cpu:
        return try PagedMQALogitsCPU.run(problem, q: q.data, qSF: q.sf, kvCache: kvCache, weights: weights, blockTable: blockTable)
    case .cuda(let stream):
        return try CUDABackend.fp8PagedMQALogits(problem, q: q.data, kvCache: kvCache, weights: weights, contextLens: contextLens,
                                                 blockTable: blockTable, scheduleMeta: scheduleMeta, numSMs: numSMs,
                                                 hasIndices: indices != nil, stream: stream)
    }
}

/// DeepGEMM's legacy `fp8_paged_mqa_logits(q, kv_cache, weights, context_lens, block_table,
/// schedule_meta, max_context_len, clean_logits=False, indices=None)`: the FP8 form of
/// ``fp8FP4PagedMQALogits(q:kvCache:weights:contextLens:blockTable:scheduleMeta:maxContextLen:cleanLogits:logitsDType:indices:numSMs:settings:strictArch:)``
/// with float32 logits.
public func fp8PagedMQALogits(
    q: Tensor, kvCache: Tensor, weights: Tensor, contextLens: Tensor, blockTable: Tensor, scheduleMeta: Tensor, maxContextLen: Int,
    cleanLogits: Bool = false, indices: Tensor? = nil, numSMs: Int = PagedMQASchedule.defaultNumSMs,
    settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws -> Tensor {
    try fp8FP4PagedMQALogits(q: (q, nil), kvCache: kvCache, weights: weights, contextLens: contextLens, blockTable: blockTable,
                             scheduleMeta: scheduleMeta, maxContextLen: maxContextLen, cleanLogits: cleanLogits,
                             logitsDType: .float32, indices: indices, numSMs: numSMs, settings: settings,
                             strictArch: strictArch)
}
