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
        arguments: prefillArguments(fp4: true) + [.init(name: "logits_dtype", detail: "f32|bf16 = f32")], outputs: ["out"]
    ) { c in
        [("out", try fp8FP4MQALogits(
            q: (c.tensor("q"), c.optionalTensor("q_sf")), kv: (c.tensor("kv"), c.tensor("kv_sf")), weights: c.tensor("weights"),
            cuSeqLenKStart: c.tensor("cu_seq_len_k_start"), cuSeqLenKEnd: c.tensor("cu_seq_len_k_end"),
            cleanLogits: c.bool("clean_logits", default: true), maxSeqlenK: c.int("max_seqlen_k", default: 0),
            logitsDType: logitsDType(c), settings: c.settings, strictArch: c.strictArch))]
    },
    OpDefinition(
        name: "fp8_mqa_logits", summary: "FP8 indexer logits with f32 output (legacy form of fp8_fp4_mqa_logits)",
        arguments: prefillArguments(fp4: false), outputs: ["out"]
    ) { c in
        [("out", try fp8MQALogits(
            q: c.tensor("q"), kv: (c.tensor("kv"), c.tensor("kv_sf")), weights: c.tensor("weights"),
            cuSeqLenKStart: c.tensor("cu_seq_len_k_start"), cuSeqLenKEnd: c.tensor("cu_seq_len_k_end"),
            cleanLogits: c.bool("clean_logits", default: true), maxSeqlenK: c.int("max_seqlen_k", default: 0),
            settings: c.settings, strictArch: c.strictArch))]
    },
    OpDefinition(
        name: "get_paged_mqa_logits_metadata", summary: "per-SM schedule (q_token_start, kv_split_start) of the paged indexer",
        arguments: [.init(name: "context_lens", detail: "tensor i32 [b, next_n]"), .init(name: "block_kv", detail: "int 32|64"),
                    .init(name: "num_sms", detail: "int = \(PagedMQASchedule.defaultNumSMs)"),
                    .init(name: "indices", detail: "tensor i32 [b] = none (varlen, next_n 1)")],
        outputs: ["out (i32 [num_sms + 1, 2])"]
    ) { c in
        [("out", try getPagedMQALogitsMetadata(contextLens: c.tensor("context_lens"), blockKV: c.int("block_kv"), numSMs: numSMs(c),
                                               indices: c.optionalTensor("indices"), settings: c.settings, strictArch: c.strictArch))]
    },
    OpDefinition(
        name: "fp8_fp4_paged_mqa_logits", summary: "indexer logits of decode tokens against a paged KV cache",
        arguments: pagedArguments(fp4: true) + [.init(name: "logits_dtype", detail: "f32|bf16 = f32"),
                                                .init(name: "indices", detail: "tensor i32 [b] = none (varlen, next_n 1)")],
        outputs: ["out"]
    ) { c in
        let q = try c.tensor("q"), contextLens = try c.tensor("context_lens"), kvCache = try c.tensor("kv_cache")
        let indices = c.optionalTensor("indices")
        return [("out", try fp8FP4PagedMQALogits(
            q: (q, c.optionalTensor("q_sf")), kvCache: kvCache, weights: c.tensor("weights"), contextLens: contextLens,
            blockTable: c.tensor("block_table"), scheduleMeta: scheduleMeta(c, contextLens: contextLens, kvCache: kvCache, indices: indices),
            maxContextLen: c.int("max_context_len"), cleanLogits: c.bool("clean_logits", default: false), logitsDType: logitsDType(c),
            indices: indices, numSMs: numSMs(c), settings: c.settings, strictArch: c.strictArch))]
    },
    OpDefinition(
        name: "fp8_paged_mqa_logits", summary: "FP8 paged indexer logits with f32 output (legacy form of fp8_fp4_paged_mqa_logits)",
        arguments: pagedArguments(fp4: false) + [.init(name: "indices", detail: "tensor i32 [b] = none (varlen, next_n 1)")],
        outputs: ["out"]
    ) { c in
        let contextLens = try c.tensor("context_lens"), kvCache = try c.tensor("kv_cache")
        let indices = c.optionalTensor("indices")
        return [("out", try fp8PagedMQALogits(
            q: c.tensor("q"), kvCache: kvCache, weights: c.tensor("weights"), contextLens: contextLens, blockTable: c.tensor("block_table"),
            scheduleMeta: scheduleMeta(c, contextLens: contextLens, kvCache: kvCache, indices: indices), maxContextLen: c.int("max_context_len"),
            cleanLogits: c.bool("clean_logits", default: false), indices: indices, numSMs: numSMs(c), settings: c.settings,
            strictArch: c.strictArch))]
    },
]

/// The arguments of the prefill ops.
private func prefillArguments(fp4: Bool) -> [OpArgument] {
    (fp4 ? [.init(name: "q", detail: "tensor fp8 [s, h, d] or i8 (packed FP4) [s, h, d/2]"),
            .init(name: "q_sf", detail: "tensor i32 [s, h] (packed UE8M0, FP4) = none (FP8)")]
         : [.init(name: "q", detail: "tensor fp8 [s, h, d]")])
    + [.init(name: "kv", detail: fp4 ? "tensor fp8 [skv, d] or i8 [skv, d/2]" : "tensor fp8 [skv, d]"),
       .init(name: "kv_sf", detail: fp4 ? "tensor f32 [skv] or i32 [skv] (FP4)" : "tensor f32 [skv]"),
       .init(name: "weights", detail: "tensor f32\(fp4 ? "|bf16" : "") [s, h]"),
       .init(name: "cu_seq_len_k_start", detail: "tensor i32 [s]"), .init(name: "cu_seq_len_k_end", detail: "tensor i32 [s]"),
       .init(name: "clean_logits", detail: "bool = true"), .init(name: "max_seqlen_k", detail: "int = 0 (> 0: compressed)")]
}

/// The arguments of the paged ops.
private func pagedArguments(fp4: Bool) -> [OpArgument] {
    (fp4 ? [.init(name: "q", detail: "tensor fp8 [b, next_n, h, d] or i8 [b, next_n, h, d/2]"),
            .init(name: "q_sf", detail: "tensor i32 [b, next_n, h] (FP4) = none (FP8)")]
         : [.init(name: "q", detail: "tensor fp8 [b, next_n, h, d]")])
    + [.init(name: "kv_cache", detail: "tensor u8 [blocks, block_kv, 1, \(fp4 ? "d + 4 or d/2 + 4" : "d + 4")]"),
       .init(name: "weights", detail: "tensor f32\(fp4 ? "|bf16" : "") [b·next_n, h]"),
       .init(name: "context_lens", detail: "tensor i32 [b, next_n]"), .init(name: "block_table", detail: "tensor i32 [b, max_blocks]"),
       .init(name: "schedule_meta", detail: "tensor i32 [num_sms + 1, 2] = computed"), .init(name: "max_context_len", detail: "int"),
       .init(name: "clean_logits", detail: "bool = false")]
}

/// `--set logits_dtype=f32|bf16` (default f32).
private func logitsDType(_ c: OpContext) throws -> DType {
    c.consumed.insert("logits_dtype")
    guard let value = c.values["logits_dtype"] else { return .float32 }
    guard let dtype = DType(shortName: value.description), dtype == .float32 || dtype == .bfloat16 else {
        throw DeepGEMMError.invalidArgument(argument: "logits_dtype", rule: "must be f32 or bf16, got \(value)")
    }
    return dtype
}

/// `--set num_sms=N` (default ``PagedMQASchedule/defaultNumSMs``).
private func numSMs(_ c: OpContext) throws -> Int { try c.int("num_sms", default: PagedMQASchedule.defaultNumSMs) }

/// `schedule_meta` from the input file, or computed from the other inputs.
private func scheduleMeta(_ c: OpContext, contextLens: Tensor, kvCache: Tensor, indices: Tensor?) throws -> Tensor {
    if let meta = c.optionalTensor("schedule_meta") { return meta }
    try DeepGEMMError.require(kvCache.rank == 4, "kv_cache", "must be 4-D [num_blocks, block_kv, 1, bytes per token], got shape \(kvCache.shape)")
    return try getPagedMQALogitsMetadata(contextLens: contextLens, blockKV: kvCache.size(1), numSMs: numSMs(c), indices: indices,
                                         settings: c.settings, strictArch: c.strictArch)
}

