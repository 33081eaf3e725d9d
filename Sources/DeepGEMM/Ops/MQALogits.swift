import DeepGEMMCUDA

/// DeepGEMM's `fp8_fp4_mqa_logits(q, kv, weights, cu_seq_len_k_start, cu_seq_len_k_end,
/// clean_logits=True, max_seqlen_k=0, logits_dtype=float32)` (spec §12.1): the lightning
/// indexer's logits of every query token against a contiguous run of key tokens.
///
/// For query i and key j in the window `[ks[i], ke[i])` (both clamped to SKV):
/// `logit = Σ_h relu(q[i, h] · kv[j]) · weights[i, h]`, times `kv.sf[j]` for FP8. FP8 mode
/// (`q.sf == nil`): q float8_e4m3fn [S, H, D] (unscaled), kv float8_e4m3fn [SKV, D] with float32
/// per-token scales [SKV]. FP4 mode: q packed E2M1 int8 [S, H, D/2] with int32 [S, H] packed UE8M0
/// scales (one byte per 32 elements, bytes past D/32 are padding), kv int8 [SKV, D/2] with int32
/// [SKV]. H is 8, 16, 32 or 64; D is 32, 64 or 128 (FP8) or 64 or 128 (FP4). weights [S, H]
/// float32, or bfloat16 with bfloat16 logits. See ``MQALogitsProblem`` for every argument rule.
///
/// Returns a [S, SKV] view (row stride `align(SKV + 256, 1024 / elsize)`), or with
/// `maxSeqlenK > 0` a compressed [S, max_seqlen_k] view (row stride
/// `align(align(max_seqlen_k, 256), 1024 / elsize)`, `out[i, t] = logit(i, ks[i] + t)`), which
/// needs `cleanLogits == false`. Columns outside the window are -inf in every mode (DeepGEMM
/// writes -inf only with `clean_logits` and leaves them unspecified otherwise).
///
/// Numerics (documented in `dg_mqa.h`, the same on every CPU and thread count): FP8 dot products
/// in binary32 pair by pair, FP4 dot products exact per 32-element block and scaled into binary32;
/// the head reduction of DeepGEMM's SM100 kernel, four FMA chains over the heads combined as
/// `(c0 + c2) + (c1 + c3)`; with BF16 weights its BF16 chains, sums and scale multiply.
///
/// - `settings.arch` and `strictArch`: the union of the SM90 and SM100 rules by default; with
///   `strictArch`, exactly `settings.arch`'s (SM90: 32 or 64 heads, FP8, float32 weights). On a
///   CUDA device the device's architecture stands for `settings.arch`.
/// - Runs where the tensors are (``Placement``): host tensors on the CPU backend; tensors on an
///   SM90 device with the SM90 FP8 kernel and the clean pass on the current stream (FP8 q, float32
///   weights, 32 or 64 heads; FP4 and bfloat16 weights throw
///   ``DeepGEMMError/unsupported(argument:rule:)``: DeepGEMM runs them on SM100 only). The windows
///   are validated on the host, so a CUDA call copies them back once (a synchronising copy).
public func fp8FP4MQALogits(
    q: (data: Tensor, sf: Tensor?), kv: (data: Tensor, sf: Tensor), weights: Tensor, cuSeqLenKStart: Tensor, cuSeqLenKEnd: Tensor,
    cleanLogits: Bool = true, maxSeqlenK: Int = 0, logitsDType: DType = .float32, settings: DeepGEMMSettings = .default,
    strictArch: Bool = false
) throws -> Tensor {
    let placement = try Placement([("q", q.data), ("q_sf", q.sf), ("kv", kv.data), ("kv_sf", kv.sf), ("weights", weights),
                                   ("cu_seq_len_k_start", cuSeqLenKStart), ("cu_seq_len_k_end", cuSeqLenKEnd)])
    // The windows are checked on the host: a CUDA call copies the two int32 [S] vectors back first
    let problem = try MQALogitsProblem(q: q.data, qSF: q.sf, kv: kv.data, kvSF: kv.sf, weights: weights,
                                       cuSeqLenKStart: placement.readable(cuSeqLenKStart)!, cuSeqLenKEnd: placement.readable(cuSeqLenKEnd)!,
                                       cleanLogits: cleanLogits, maxSeqlenK: maxSeqlenK, logitsDType: logitsDType,
                                       rules: MQARules(settings: placement.rules(settings), strictArch: strictArch))
    switch placement {
    case .cpu:
        return try MQALogitsCPU.run(problem, q: q.data, qSF: q.sf, kv: kv.data, kvSF: kv.sf, weights: weights)
    case .cuda(let stream):
        return try CUDABackend.fp8MQALogits(problem, q: q.data, kv: kv.data, kvSF: kv.sf, weights: weights, cuSeqLenKStart: cuSeqLenKStart,
                                            cuSeqLenKEnd: cuSeqLenKEnd, stream: stream)
    }
}

/// DeepGEMM's legacy `fp8_mqa_logits(q, kv, weights, cu_seq_len_k_start, cu_seq_len_k_end,
/// clean_logits=True, max_seqlen_k=0)`: ``fp8FP4MQALogits(q:kv:weights:cuSeqLenKStart:cuSeqLenKEnd:cleanLogits:maxSeqlenK:logitsDType:settings:strictArch:)``
/// with FP8 q (no q scales) and float32 logits.
public func fp8MQALogits(
    q: Tensor, kv: (data: Tensor, sf: Tensor), weights: Tensor, cuSeqLenKStart: Tensor, cuSeqLenKEnd: Tensor,
    cleanLogits: Bool = true, maxSeqlenK: Int = 0, settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws -> Tensor {
    try fp8FP4MQALogits(q: (q, nil), kv: kv, weights: weights, cuSeqLenKStart: cuSeqLenKStart, cuSeqLenKEnd: cuSeqLenKEnd,
                        cleanLogits: cleanLogits, maxSeqlenK: maxSeqlenK, logitsDType: .float32, settings: settings,
                        strictArch: strictArch)
}
