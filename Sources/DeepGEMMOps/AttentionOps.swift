import DeepGEMM

/// Lightning-indexer MQA logits ops (spec §12): prefill, paged, and the paged schedule metadata.
///
/// `--set arch=sm90|sm100` makes the ops follow exactly that architecture's rules; without it they
/// accept the union of both (``MQARules``). `--set num_sms=N` is the SM count of the schedule
/// (default ``PagedMQASchedule/defaultNumSMs``). The paged ops compute `schedule_meta` with
/// `get_paged_mqa_logits_metadata` when the input file does not hold it.
let attentionOps: [OpDefinition] = [
    OpDefinition(
        name: "fp8_fp4_mqa_logits", summary: "indexer logits Σ_h relu(q·kv)·w over each query's key window [ks, ke)",
        parameters: prefillParameters(fp4: true) + [logitsDTypeParameter], returns: ["out"]
    ) { c in
        [("out", try fp8FP4MQALogits(
            q: (c.tensor("q"), c.optionalTensor("q_sf")), kv: (c.tensor("kv"), c.tensor("kv_sf")), weights: c.tensor("weights"),
            cuSeqLenKStart: c.tensor("cu_seq_len_k_start"), cuSeqLenKEnd: c.tensor("cu_seq_len_k_end"),
            cleanLogits: c.bool("clean_logits"), maxSeqlenK: c.int("max_seqlen_k"),
            logitsDType: logitsDType(c), settings: c.settings, strictArch: c.strictArch))]
    },
    OpDefinition(
        name: "fp8_mqa_logits", summary: "FP8 indexer logits with f32 output (legacy form of fp8_fp4_mqa_logits)",
        parameters: prefillParameters(fp4: false), returns: ["out"]
    ) { c in
        [("out", try fp8MQALogits(
            q: c.tensor("q"), kv: (c.tensor("kv"), c.tensor("kv_sf")), weights: c.tensor("weights"),
            cuSeqLenKStart: c.tensor("cu_seq_len_k_start"), cuSeqLenKEnd: c.tensor("cu_seq_len_k_end"),
            cleanLogits: c.bool("clean_logits"), maxSeqlenK: c.int("max_seqlen_k"),
            settings: c.settings, strictArch: c.strictArch))]
    },
    OpDefinition(
        name: "get_paged_mqa_logits_metadata", summary: "per-SM schedule (q_token_start, kv_split_start) of the paged indexer",
        parameters: [OpParameter("context_lens", .tensor, "i32 [b, next_n]"), OpParameter("block_kv", .int, "32 or 64"),
                     OpParameter("num_sms", .int, "SMs of the schedule (run: the num_sms setting, else \(PagedMQASchedule.defaultNumSMs), when absent)"),
                     indicesParameter],
        returns: ["out"]  // i32 [num_sms + 1, 2]
    ) { c in
        [("out", try getPagedMQALogitsMetadata(contextLens: c.tensor("context_lens"), blockKV: c.int("block_kv"), numSMs: c.numSMs(),
                                               indices: c.optionalTensor("indices"), settings: c.settings, strictArch: c.strictArch))]
    },
    OpDefinition(
        name: "fp8_fp4_paged_mqa_logits", summary: "indexer logits of decode tokens against a paged KV cache",
        parameters: pagedParameters(fp4: true) + [logitsDTypeParameter, indicesParameter], returns: ["out"]
    ) { c in
        let q = try c.tensor("q"), contextLens = try c.tensor("context_lens"), kvCache = try c.tensor("kv_cache")
        let indices = c.optionalTensor("indices")
        return [("out", try fp8FP4PagedMQALogits(
            q: (q, c.optionalTensor("q_sf")), kvCache: kvCache, weights: c.tensor("weights"), contextLens: contextLens,
            blockTable: c.tensor("block_table"), scheduleMeta: scheduleMeta(c, contextLens: contextLens, kvCache: kvCache, indices: indices),
            maxContextLen: c.int("max_context_len"), cleanLogits: c.bool("clean_logits"), logitsDType: logitsDType(c),
            indices: indices, numSMs: c.numSMs(), settings: c.settings, strictArch: c.strictArch))]
    },
    OpDefinition(
        name: "fp8_paged_mqa_logits", summary: "FP8 paged indexer logits with f32 output (legacy form of fp8_fp4_paged_mqa_logits)",
        parameters: pagedParameters(fp4: false) + [indicesParameter], returns: ["out"]
    ) { c in
        let contextLens = try c.tensor("context_lens"), kvCache = try c.tensor("kv_cache")
        let indices = c.optionalTensor("indices")
        return [("out", try fp8PagedMQALogits(
            q: c.tensor("q"), kvCache: kvCache, weights: c.tensor("weights"), contextLens: contextLens, blockTable: c.tensor("block_table"),
            scheduleMeta: scheduleMeta(c, contextLens: contextLens, kvCache: kvCache, indices: indices), maxContextLen: c.int("max_context_len"),
            cleanLogits: c.bool("clean_logits"), indices: indices, numSMs: c.numSMs(), settings: c.settings,
            strictArch: c.strictArch))]
    },
]

/// `indices` of the paged ops.
private let indicesParameter = OpParameter("indices", .tensor, default: .null, "i32 [b] request of each token (varlen, next_n 1)")

/// `logits_dtype`.
private let logitsDTypeParameter = OpParameter("logits_dtype", .dtype, default: .string("float32"), "float32 or bfloat16")

/// The parameters of the prefill ops.
private func prefillParameters(fp4: Bool) -> [OpParameter] {
    [fp4 ? OpParameter("q", .pair, "(fp8 [s, h, d] or packed FP4 i8 [s, h, d/2], packed UE8M0 i32 [s, h] for FP4 or None)")
         : OpParameter("q", .tensor, "fp8 [s, h, d]"),
     OpParameter("kv", .pair, fp4 ? "(fp8 [skv, d] or i8 [skv, d/2], f32 [skv] or i32 [skv] for FP4)" : "(fp8 [skv, d], f32 [skv])"),
     OpParameter("weights", .tensor, "f32\(fp4 ? "|bf16" : "") [s, h]"),
     OpParameter("cu_seq_len_k_start", .tensor, "i32 [s]"), OpParameter("cu_seq_len_k_end", .tensor, "i32 [s]"),
     OpParameter("clean_logits", .bool, default: .bool(true), "write -inf outside each query's window"),
     OpParameter("max_seqlen_k", .int, default: .int(0), "> 0: compressed logits [s, max_seqlen_k]")]
}

/// The parameters of the paged ops.
private func pagedParameters(fp4: Bool) -> [OpParameter] {
    [fp4 ? OpParameter("q", .pair, "(fp8 [b, next_n, h, d] or i8 [b, next_n, h, d/2], i32 [b, next_n, h] for FP4 or None)")
         : OpParameter("q", .tensor, "fp8 [b, next_n, h, d]"),
     OpParameter("kv_cache", .tensor, "u8 [blocks, block_kv, 1, \(fp4 ? "d + 4 or d/2 + 4" : "d + 4")]"),
     OpParameter("weights", .tensor, "f32\(fp4 ? "|bf16" : "") [b·next_n, h]"),
     OpParameter("context_lens", .tensor, "i32 [b, next_n]"), OpParameter("block_table", .tensor, "i32 [b, max_blocks]"),
     OpParameter("schedule_meta", .tensor, "i32 [num_sms + 1, 2] from get_paged_mqa_logits_metadata (run: computed when absent)"),
     OpParameter("max_context_len", .int, "the longest context"),
     OpParameter("clean_logits", .bool, default: .bool(false), "write -inf past each context")]
}

/// `logits_dtype` (float32 or bfloat16).
private func logitsDType(_ c: OpContext) throws -> DType { try c.dtype("logits_dtype", allowed: [.float32, .bfloat16]) }

/// `schedule_meta` as given, or (a `deepgemm run` convenience) computed from the other inputs.
private func scheduleMeta(_ c: OpContext, contextLens: Tensor, kvCache: Tensor, indices: Tensor?) throws -> Tensor {
    if let meta = c.optionalTensor("schedule_meta") { return meta }
    try DeepGEMMError.require(kvCache.rank == 4, "kv_cache", "must be 4-D [num_blocks, block_kv, 1, bytes per token], got shape \(kvCache.shape)")
    return try getPagedMQALogitsMetadata(contextLens: contextLens, blockKV: kvCache.size(1), numSMs: c.numSMs(), indices: indices,
                                         settings: c.settings, strictArch: c.strictArch)
}
