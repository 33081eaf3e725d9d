import DeepGEMM
import DeepGEMMCUDA

/// The SM90 lightning-indexer ops as device-check cases: `fp8_mqa_logits` (full-width and
/// compressed, with the clean pass), `get_paged_mqa_logits_metadata` (bitwise against the CPU
/// schedule) and `fp8_paged_mqa_logits` (next_n 1 and 2). The reference is the public op on the
/// host; the GPU runs the CUDA backend's entry point on the problem validated once on the host
/// inputs (the public ops read windows and lengths back to validate them, a synchronising copy
/// that would block a timed loop behind a hung kernel, out of the watchdog's reach).
enum IndexerCases {
    /// SMs the paged schedule is made for, on the GPU and on the host alike (H100 and H200 have 132).
    static let scheduleSMs = 132

    /// The prefill logits with their clean pass, the paged schedule, and the paged logits.
    static let families: [DeviceCheckFamily] = [
        DeviceCheckFamily(
            name: "sm90 fp8 mqa logits", kernelFamilies: [SM90FP8MQALogitsFamily().name, SMXXCleanLogitsFamily().name], part: .b,
            smoke: MQALogitsCheck(MQAPrefillCase(s: 16, skv: 256, h: 64, d: 128)),
            verification: [
                MQAPrefillCase(s: 37, skv: 700, h: 64, d: 128), MQAPrefillCase(s: 64, skv: 1024, h: 32, d: 64),
                MQAPrefillCase(s: 33, skv: 300, h: 32, d: 32), MQAPrefillCase(s: 50, skv: 900, h: 64, d: 128, maxSeqlenK: 600),
                MQAPrefillCase(s: 20, skv: 513, h: 64, d: 64, logitsDType: .bfloat16), MQAPrefillCase(s: 512, skv: 4096, h: 64, d: 128, causal: true),
            ].map(MQALogitsCheck.init),
            benchmark: [MQALogitsCheck(MQAPrefillCase(s: 4096, skv: 16384, h: 64, d: 128, causal: true))],
            host: [MQALogitsCheck(MQAPrefillCase(s: 9, skv: 100, h: 32, d: 64)), MQALogitsCheck(MQAPrefillCase(s: 8, skv: 90, h: 32, d: 32, maxSeqlenK: 40))]),
        DeviceCheckFamily(
            name: "sm90 paged mqa metadata", kernelFamilies: [SM90PagedMQAMetadataFamily().name], part: .b,
            smoke: PagedMetadataCheck(PagedMQACase(batch: 3, nextN: 1, h: 64, d: 128, maxContextLen: 300)),
            verification: [PagedMQACase(batch: 5, nextN: 1, h: 64, d: 128, maxContextLen: 1000), PagedMQACase(batch: 7, nextN: 2, h: 32, d: 128, maxContextLen: 700),
                           PagedMQACase(batch: 128, nextN: 2, h: 64, d: 128, maxContextLen: 5000)].map(PagedMetadataCheck.init),
            benchmark: [], host: [PagedMetadataCheck(PagedMQACase(batch: 4, nextN: 2, h: 32, d: 128, maxContextLen: 200))]),
        DeviceCheckFamily(
            name: "sm90 fp8 paged mqa logits", kernelFamilies: [SM90FP8PagedMQALogitsFamily().name, SMXXCleanLogitsFamily().name], part: .b,
            smoke: PagedLogitsCheck(PagedMQACase(batch: 3, nextN: 1, h: 64, d: 128, maxContextLen: 300)),
            verification: [PagedMQACase(batch: 5, nextN: 1, h: 64, d: 128, maxContextLen: 1000), PagedMQACase(batch: 7, nextN: 2, h: 32, d: 128, maxContextLen: 700),
                           PagedMQACase(batch: 16, nextN: 2, h: 64, d: 128, maxContextLen: 5000)].map(PagedLogitsCheck.init),
            benchmark: [PagedLogitsCheck(PagedMQACase(batch: 64, nextN: 1, h: 64, d: 128, maxContextLen: 16384)),
                        PagedLogitsCheck(PagedMQACase(batch: 64, nextN: 2, h: 64, d: 128, maxContextLen: 16384))],
            host: [PagedLogitsCheck(PagedMQACase(batch: 3, nextN: 2, h: 32, d: 128, maxContextLen: 150))]),
    ]

    /// SM90's rules, whatever the host's settings say (the GPU runs SM90 kernels).
    static let sm90 = DeepGEMMSettings(arch: .sm90)

    /// The CPU backend's schedule of `contextLens` (host) for ``scheduleSMs`` SMs and 64-token pages.
    static func schedule(_ contextLens: Tensor) throws -> Tensor {
        try getPagedMQALogitsMetadata(contextLens: contextLens, blockKV: 64, numSMs: scheduleSMs, settings: sm90)
    }
}

/// One `fp8_mqa_logits` call (``MQAPrefillCase``): the clean pass runs for full-width logits.
struct MQALogitsCheck: DeviceCheckCase {
    /// The shape and mode.
    var shape: MQAPrefillCase

    /// Wraps a shape.
    init(_ shape: MQAPrefillCase) { self.shape = shape }

    /// `fp8_mqa_logits`.
    var op: String { "fp8_mqa_logits" }
    /// The shape's description.
    var description: String { shape.description }
    /// DeepGEMM's logits bound and identical -inf masks.
    var comparison: CaseComparison { .logits(bound: 1e-3) }

    /// q, kv, kv scales, weights and windows.
    func makeInputs(fast: Bool) throws -> (q: Tensor, kv: Tensor, kvSF: Tensor, weights: Tensor, ks: Tensor, ke: Tensor) {
        try shape.inputs(seed: seed)
    }

    /// The logits from the op on the host (clean logits for the full-width mode, as DeepGEMM's tests call it).
    func reference(_ x: Inputs) throws -> [Tensor] {
        [try fp8FP4MQALogits(q: (x.q, nil), kv: (x.kv, x.kvSF), weights: x.weights, cuSeqLenKStart: x.ks, cuSeqLenKEnd: x.ke,
                             cleanLogits: shape.maxSeqlenK == 0, maxSeqlenK: shape.maxSeqlenK, logitsDType: shape.logitsDType,
                             settings: IndexerCases.sm90)]
    }

    /// The inputs on the GPU and the problem validated on the host ones; each launch returns new logits.
    func prepareCUDA(_ x: Inputs, stream: CUDAStream) throws -> any CaseLauncher {
        let problem = try MQALogitsProblem(q: x.q, qSF: nil, kv: x.kv, kvSF: x.kvSF, weights: x.weights, cuSeqLenKStart: x.ks, cuSeqLenKEnd: x.ke,
                                           cleanLogits: shape.maxSeqlenK == 0, maxSeqlenK: shape.maxSeqlenK, logitsDType: shape.logitsDType,
                                           rules: MQARules(settings: IndexerCases.sm90, strictArch: true))
        let device = CUDACheckDevice.placement
        let (q, kv, kvSF, weights, ks, ke) = (try x.q.to(device), try x.kv.to(device), try x.kvSF.to(device), try x.weights.to(device),
                                              try x.ks.to(device), try x.ke.to(device))
        return OpLauncher {
            [try CUDABackend.fp8MQALogits(problem, q: q, kv: kv, kvSF: kvSF, weights: weights, cuSeqLenKStart: ks, cuSeqLenKEnd: ke, stream: stream)]
        }
    }

    /// 2·H·D per (query, key) pair in the windows; FP8 q and kv, their scales, weights and the logits written.
    func workload(_ x: Inputs) throws -> CaseWorkload {
        let columns = shape.maxSeqlenK > 0 ? shape.maxSeqlenK : shape.skv
        let bytes = [x.q, x.kv, x.kvSF, x.weights, x.ks, x.ke].reduce(0) { $0 + $1.byteCount } + shape.s * columns * shape.logitsDType.size
        return CaseWorkload(flops: try shape.flops(ks: x.ks, ke: x.ke), bytes: Double(bytes), fields: [
            ("s", .number(Double(shape.s))), ("skv", .number(Double(shape.skv))), ("h", .number(Double(shape.h))), ("d", .number(Double(shape.d))),
            ("causal", .flag(shape.causal)),
        ])
    }

    /// The logits kernel and its clean pass.
    func kernelSources(numSMs: Int) throws -> [KernelSource] {
        let problem = MQALogitsKernelProblem(seqLen: shape.s, seqLenKV: shape.skv, numHeads: shape.h, headDim: shape.d, maxSeqlenK: shape.maxSeqlenK,
                                             logitsDType: shape.logitsDType, numSMs: numSMs)
        return [try SM90FP8MQALogitsFamily().select(problem).source,
                SMXXCleanLogitsFamily().select(compressed: shape.maxSeqlenK > 0, dtype: shape.logitsDType).source]
    }
}

/// One `get_paged_mqa_logits_metadata` call on a ``PagedMQACase``'s context lengths, bitwise.
struct PagedMetadataCheck: DeviceCheckCase {
    /// The batch.
    var shape: PagedMQACase

    /// Wraps a batch.
    init(_ shape: PagedMQACase) { self.shape = shape }

    /// `get_paged_mqa_logits_metadata`.
    var op: String { "get_paged_mqa_logits_metadata" }
    /// `get_paged_mqa_logits_metadata B=.. next_n=.. max_context_len=..`.
    var description: String { "\(op) B=\(shape.batch) next_n=\(shape.nextN) max_context_len=\(shape.maxContextLen)" }
    /// The schedule is integer arithmetic: bit for bit.
    var comparison: CaseComparison { .bitwise }

    /// The context lengths.
    func makeInputs(fast: Bool) throws -> Tensor { try shape.inputs(seed: seed).contextLens }

    /// The CPU schedule.
    func reference(_ contextLens: Tensor) throws -> [Tensor] { [try IndexerCases.schedule(contextLens)] }

    /// The lengths on the GPU; each launch returns a new schedule.
    func prepareCUDA(_ contextLens: Tensor, stream: CUDAStream) throws -> any CaseLauncher {
        let lens = try contextLens.to(CUDACheckDevice.placement)
        return OpLauncher { [try CUDABackend.pagedMQALogitsMetadata(contextLens: lens, numSMs: IndexerCases.scheduleSMs, hasIndices: false, stream: stream)] }
    }

    /// No flops; the lengths read and the schedule written.
    func workload(_ contextLens: Tensor) throws -> CaseWorkload {
        CaseWorkload(flops: 0, bytes: Double(contextLens.byteCount + (IndexerCases.scheduleSMs + 1) * 8), fields: [])
    }

    /// The metadata kernel.
    func kernelSources(numSMs: Int) throws -> [KernelSource] { [SM90PagedMQAMetadataFamily().select().source] }

}

/// One `fp8_paged_mqa_logits` call (``PagedMQACase``): on the GPU with the GPU's schedule, on the
/// host with the CPU's.
struct PagedLogitsCheck: DeviceCheckCase {
    /// The batch.
    var shape: PagedMQACase

    /// Wraps a batch.
    init(_ shape: PagedMQACase) { self.shape = shape }

    /// `fp8_paged_mqa_logits`.
    var op: String { "fp8_paged_mqa_logits" }
    /// The batch's description.
    var description: String { shape.description }
    /// DeepGEMM's logits bound and identical -inf masks.
    var comparison: CaseComparison { .logits(bound: 1e-3) }

    /// q, the fused cache, weights, context lengths and the block table.
    func makeInputs(fast: Bool) throws -> (q: Tensor, kvCache: Tensor, weights: Tensor, contextLens: Tensor, blockTable: Tensor) {
        try shape.inputs(seed: seed)
    }

    /// The logits from the op on the host, on the CPU schedule.
    func reference(_ x: Inputs) throws -> [Tensor] {
        [try fp8PagedMQALogits(q: x.q, kvCache: x.kvCache, weights: x.weights, contextLens: x.contextLens, blockTable: x.blockTable,
                               scheduleMeta: try IndexerCases.schedule(x.contextLens), maxContextLen: shape.maxContextLen,
                               numSMs: IndexerCases.scheduleSMs, settings: IndexerCases.sm90)]
    }

    /// The inputs on the GPU, the GPU's schedule (made once, before the calls) and the problem
    /// validated on the host inputs; each launch returns new logits.
    func prepareCUDA(_ x: Inputs, stream: CUDAStream) throws -> any CaseLauncher {
        let problem = try PagedMQALogitsProblem(q: x.q, qSF: nil, kvCache: x.kvCache, weights: x.weights, contextLens: x.contextLens,
                                                blockTable: x.blockTable, scheduleMeta: try IndexerCases.schedule(x.contextLens),
                                                maxContextLen: shape.maxContextLen, cleanLogits: false, logitsDType: .float32, indices: nil,
                                                numSMs: IndexerCases.scheduleSMs, settings: IndexerCases.sm90, strictArch: true)
        let device = CUDACheckDevice.placement
        let (q, kvCache, weights, lens, table) = (try x.q.to(device), try x.kvCache.to(device), try x.weights.to(device),
                                                  try x.contextLens.to(device), try x.blockTable.to(device))
        let schedule = try CUDABackend.pagedMQALogitsMetadata(contextLens: lens, numSMs: IndexerCases.scheduleSMs, hasIndices: false, stream: stream)
        return OpLauncher {
            [try CUDABackend.fp8PagedMQALogits(problem, q: q, kvCache: kvCache, weights: weights, contextLens: lens, blockTable: table,
                                               scheduleMeta: schedule, numSMs: IndexerCases.scheduleSMs, hasIndices: false, stream: stream)]
        }
    }

    /// 2·H·D per (token, key) pair below the token's context length; q, weights, the pages read and the logits written.
    func workload(_ x: Inputs) throws -> CaseWorkload {
        let pages = try x.contextLens.elements(as: Int32.self).reduce(0) { $0 + (Int($1) + 63) / 64 }
        let bytes = x.q.byteCount + x.weights.byteCount + pages * 64 * (shape.d + 4) + shape.batch * shape.nextN * shape.maxContextLen * 4
        return CaseWorkload(flops: try shape.flops(contextLens: x.contextLens), bytes: Double(bytes), fields: [
            ("b", .number(Double(shape.batch))), ("next_n", .number(Double(shape.nextN))), ("h", .number(Double(shape.h))),
            ("d", .number(Double(shape.d))), ("ctx", .number(Double(shape.maxContextLen))),
        ])
    }

    /// The schedule kernel, the paged logits kernel and its clean pass.
    func kernelSources(numSMs: Int) throws -> [KernelSource] {
        let pages = (shape.maxContextLen + 63) / 64
        let problem = PagedMQAKernelProblem(batchSize: shape.batch, nextN: shape.nextN, numHeads: shape.h, headDim: shape.d,
                                            numBlocks: shape.batch * pages + 3, maxContextLen: shape.maxContextLen, numSMs: IndexerCases.scheduleSMs)
        return [SM90PagedMQAMetadataFamily().select().source, try SM90FP8PagedMQALogitsFamily().select(problem).source,
                SMXXCleanLogitsFamily().select(compressed: false, dtype: .float32).source]
    }
}
