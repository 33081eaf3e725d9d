import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// Every argument rule of `get_paged_mqa_logits_metadata` and `fp8_fp4_paged_mqa_logits` (spec
/// §12.2, §12.3) raises a typed error naming the argument.
@Suite struct PagedMQAArgumentRuleTests {
    /// The arguments of one paged call (the metadata is rebuilt from them unless `scheduleMeta` is set).
    struct Arguments: Sendable {
        var q: Tensor, qSF: Tensor?, kvCache: Tensor, weights: Tensor, contextLens: Tensor, blockTable: Tensor, indices: Tensor?
        var scheduleMeta: Tensor?
        var maxContextLen: Int, clean = false, logits = DType.float32, numSMs = 8
        var settings = DeepGEMMSettings.default, strictArch = false

        /// Valid arguments: 2 requests of `nextN` tokens (FP8 D 32 or FP4 D 64), H 8, pages of `blockKV`.
        static func valid(fp4: Bool = false, nextN: Int = 2, heads: Int = 8, blockKV: Int = 32, varlen: Bool = false) throws -> Arguments {
            let inputs = try PagedMQAInputs(format: fp4 ? .fp4 : .fp8, batch: 2, nextN: nextN, runs: varlen ? [2, 1] : nil, h: heads,
                                            d: fp4 ? 64 : 32, blockKV: blockKV, lengthRange: 40...70, seed: 3)
            return Arguments(q: inputs.q, qSF: inputs.qSF, kvCache: inputs.kvCache, weights: inputs.weights, contextLens: inputs.contextLens,
                             blockTable: inputs.blockTable, indices: inputs.indices, maxContextLen: inputs.maxContextLen)
        }

        func call() throws -> Tensor {
            let meta = try scheduleMeta ?? getPagedMQALogitsMetadata(contextLens: contextLens, blockKV: kvCache.size(1), numSMs: numSMs,
                                                                     indices: indices, settings: settings)
            return try fp8FP4PagedMQALogits(q: (q, qSF), kvCache: kvCache, weights: weights, contextLens: contextLens, blockTable: blockTable,
                                            scheduleMeta: meta, maxContextLen: maxContextLen, cleanLogits: clean, logitsDType: logits,
                                            indices: indices, numSMs: numSMs, settings: settings, strictArch: strictArch)
        }

        /// The same bytes as `kvCache` with page stride `pageStride`.
        func repaged(pageStride: Int) throws -> Tensor {
            let (blocks, rowBytes) = (kvCache.size(0), kvCache.size(3))
            let storage = TensorStorage(byteCount: blocks * pageStride + 64)
            let view = try Tensor(storage: storage, dtype: .uint8, shape: kvCache.shape, strides: [pageStride, rowBytes, rowBytes, 1])
            try view.copy(from: kvCache)
            return view
        }
    }

    /// One rule: how to break it, and the error it must give.
    struct Rule: Sendable, CustomTestStringConvertible {
        let name: String
        let argument: String
        let unsupported: Bool
        let make: @Sendable () throws -> Arguments
        var testDescription: String { name }

        init(_ name: String, _ argument: String, unsupported: Bool = false, _ make: @escaping @Sendable () throws -> Arguments) {
            (self.name, self.argument, self.unsupported, self.make) = (name, argument, unsupported, make)
        }
    }

    static func lens(_ values: [Int32], _ shape: [Int]) throws -> Tensor { try Tensor(values, shape: shape) }
    static func strict(_ a: inout Arguments) { a.settings.arch = .sm90; a.strictArch = true }

    static let logitsRules: [Rule] = [
        Rule("q is 4-D", "q") { var a = try Arguments.valid(); a.q = try a.q.reshaped([4, 8, 32]); return a },
        Rule("next_n >= 1", "q") { var a = try Arguments.valid(); a.q = Tensor(zeros: [2, 0, 8, 32], dtype: .float8E4M3); return a },
        Rule("num_heads in {8, 16, 32, 64}", "q") { var a = try Arguments.valid(); a.q = try a.q.reshaped([2, 2, 4, 64]); return a },
        Rule("head_dim in {32, 64, 128}", "q") { var a = try Arguments.valid(); a.q = try a.q.reshaped([2, 2, 16, 16]); return a },
        Rule("FP4 head_dim in {64, 128}", "q") { var a = try Arguments.valid(fp4: true); a.q = try a.q.reshaped([2, 2, 16, 16]); return a },
        Rule("q contiguous", "q") { var a = try Arguments.valid(); a.q = try stridedCopy(of: a.q, strides: [1024, 512, 64, 1]); return a },
        Rule("FP8 q is float8_e4m3fn", "q") { var a = try Arguments.valid(); a.q = a.q.converted(to: .bfloat16); return a },
        Rule("FP4 q is packed int8", "q") { var a = try Arguments.valid(fp4: true); a.q = Tensor(zeros: [2, 2, 8, 32], dtype: .uint8); return a },
        Rule("q_sf is [B, next_n, H]", "q_sf") { var a = try Arguments.valid(fp4: true); a.qSF = Tensor(zeros: [2, 2, 4], dtype: .int32); return a },
        Rule("q_sf is int32", "q_sf") { var a = try Arguments.valid(fp4: true); a.qSF = Tensor(zeros: [2, 2, 8], dtype: .float32); return a },
        Rule("kv_cache is 4-D", "kv_cache") {
            var a = try Arguments.valid(); a.kvCache = try a.kvCache.reshaped([-1, 36]); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32); return a
        },
        Rule("block_kv is 32 or 64", "kv_cache") {
            var a = try Arguments.valid(); a.kvCache = try a.kvCache.reshaped([a.kvCache.size(0) * 2, 16, 1, 36])
            a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32); return a
        },
        Rule("kv_cache last dim is head_dim + 4", "kv_cache") {
            var a = try Arguments.valid(); a.kvCache = Tensor(zeros: [4, 32, 1, 40], dtype: .uint8); return a
        },
        Rule("FP4 kv_cache last dim is head_dim / 2 + 4", "kv_cache") {
            var a = try Arguments.valid(fp4: true); a.kvCache = Tensor(zeros: [4, 32, 1, 68], dtype: .uint8); return a
        },
        Rule("kv_cache heads == 1", "kv_cache") { var a = try Arguments.valid(); a.kvCache = Tensor(zeros: [4, 32, 2, 36], dtype: .uint8); return a },
        Rule("kv_cache stride(1) == last dim", "kv_cache") {
            var a = try Arguments.valid()
            a.kvCache = try Tensor(storage: TensorStorage(byteCount: 1 << 16), dtype: .uint8, shape: [4, 32, 1, 36], strides: [2048, 40, 40, 1])
            return a
        },
        Rule("kv_cache is uint8", "kv_cache") { var a = try Arguments.valid(); a.kvCache = try a.kvCache.viewing(as: .int8); return a },
        Rule("kv_cache stride(0) % 4 == 0", "kv_cache") { var a = try Arguments.valid(); a.kvCache = try a.repaged(pageStride: 32 * 36 + 2); return a },
        Rule("FP8 weights contiguous", "weights") {
            var a = try Arguments.valid(); a.weights = try stridedCopy(of: a.weights, strides: [16, 1]); return a
        },
        Rule("weights is [B·next_n, H]", "weights") { var a = try Arguments.valid(fp4: true); a.weights = Tensor(zeros: [2, 8], dtype: .float32); return a },
        Rule("weights stride(1) == 1", "weights") {
            var a = try Arguments.valid(fp4: true); a.weights = try stridedCopy(of: a.weights, strides: [1, 4]); return a
        },
        Rule("weights float32 or bfloat16", "weights") { var a = try Arguments.valid(); a.weights = a.weights.converted(to: .float16); return a },
        Rule("bfloat16 weights need bfloat16 logits", "logits_dtype") {
            var a = try Arguments.valid(); a.weights = a.weights.converted(to: .bfloat16); return a
        },
        Rule("block_table is [B, max_blocks]", "block_table") { var a = try Arguments.valid(); a.blockTable = Tensor(zeros: [3, 4], dtype: .int32); return a },
        Rule("block_table stride(1) == 1", "block_table") {
            var a = try Arguments.valid(); a.blockTable = try stridedCopy(of: a.blockTable, strides: [1, 2]); return a
        },
        Rule("block_table is int32", "block_table") { var a = try Arguments.valid(); a.blockTable = a.blockTable.converted(to: .int64); return a },
        Rule("indices need next_n == 1", "indices") {
            var a = try Arguments.valid(); a.indices = try lens([0, 1], [2]); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32); return a
        },
        Rule("indices is [B]", "indices") {
            var a = try Arguments.valid(varlen: true); a.indices = try lens([0, 0], [2]); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32); return a
        },
        Rule("indices is int32", "indices") {
            var a = try Arguments.valid(varlen: true); a.indices = Tensor(zeros: [3], dtype: .int64); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32)
            return a
        },
        Rule("num_sms >= 1", "num_sms") { var a = try Arguments.valid(); a.numSMs = 0; a.scheduleMeta = Tensor(zeros: [1, 2], dtype: .int32); return a },
        Rule("schedule_meta is [num_sms + 1, 2]", "schedule_meta") {
            var a = try Arguments.valid(); a.scheduleMeta = Tensor(zeros: [8, 2], dtype: .int32); return a
        },
        Rule("schedule_meta contiguous", "schedule_meta") {
            var a = try Arguments.valid(); a.scheduleMeta = try stridedCopy(of: Tensor(zeros: [9, 2], dtype: .int32), strides: [1, 9]); return a
        },
        Rule("schedule_meta is int32", "schedule_meta") { var a = try Arguments.valid(); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int64); return a },
        Rule("schedule_meta matches the inputs", "schedule_meta") {
            var a = try Arguments.valid()
            a.scheduleMeta = try getPagedMQALogitsMetadata(contextLens: lens([1, 300, 1, 600], [2, 2]), blockKV: 32, numSMs: 8)
            return a
        },
        Rule("context_lens is 2-D", "context_lens") {
            var a = try Arguments.valid(); a.contextLens = try a.contextLens.reshaped([4]); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32); return a
        },
        Rule("context_lens is [B, next_n]", "context_lens") {
            var a = try Arguments.valid(); a.contextLens = try a.contextLens.reshaped([1, 4]); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32)
            return a
        },
        Rule("context_lens is int32", "context_lens") {
            var a = try Arguments.valid(); a.contextLens = a.contextLens.converted(to: .int64); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32)
            return a
        },
        Rule("logits_dtype float32 or bfloat16", "logits_dtype") { var a = try Arguments.valid(); a.logits = .float16; return a },
        Rule("clean_logits needs 1-D context_lens", "clean_logits") { var a = try Arguments.valid(); a.clean = true; return a },
        Rule("max_context_len >= 0", "max_context_len") { var a = try Arguments.valid(); a.maxContextLen = -1; return a },
        Rule("context lengths are non-negative", "context_lens") {
            var a = try Arguments.valid(); a.contextLens = try lens([-1, 50, 3, 60], [2, 2]); a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32)
            return a
        },
        Rule("context lengths fit max_context_len", "max_context_len") { var a = try Arguments.valid(); a.maxContextLen = 41; return a },
        Rule("no token is longer than its request's last token", "context_lens") {
            var a = try Arguments.valid(); a.contextLens = try lens([50, 40, 3, 50], [2, 2]); a.maxContextLen = 100; return a
        },
        Rule("a request's pages fit the block table", "context_lens") {
            var a = try Arguments.valid(); a.blockTable = try a.blockTable.narrow(dim: 1, start: 0, length: 1).contiguous(); return a
        },
        Rule("block table entries name existing pages", "block_table") {
            var a = try Arguments.valid()
            var table = try a.blockTable.elements(as: Int32.self)
            table[0] = Int32(a.kvCache.size(0))
            a.blockTable = try Tensor(table, shape: a.blockTable.shape)
            return a
        },
        Rule("block table entries are non-negative", "block_table") {
            var a = try Arguments.valid()
            var table = try a.blockTable.elements(as: Int32.self)
            table[1] = -3
            a.blockTable = try Tensor(table, shape: a.blockTable.shape)
            return a
        },
        Rule("SM90 takes block_kv 64", "kv_cache", unsupported: true) { var a = try Arguments.valid(heads: 32); strict(&a); return a },
        Rule("SM90 takes next_n 1 or 2", "q", unsupported: true) {
            var a = try Arguments.valid(nextN: 3, heads: 32, blockKV: 64); strict(&a); return a
        },
        Rule("SM90 takes 32 or 64 heads", "q", unsupported: true) { var a = try Arguments.valid(blockKV: 64); strict(&a); return a },
        Rule("SM90 has no FP4", "q_sf", unsupported: true) { var a = try Arguments.valid(fp4: true, heads: 32, blockKV: 64); strict(&a); return a },
        Rule("SM90 has no bfloat16 weights", "weights", unsupported: true) {
            var a = try Arguments.valid(heads: 32, blockKV: 64); a.weights = a.weights.converted(to: .bfloat16); a.logits = .bfloat16
            strict(&a); return a
        },
        Rule("SM90 has no varlen indices", "indices", unsupported: true) {
            var a = try Arguments.valid(nextN: 1, heads: 32, blockKV: 64, varlen: true); strict(&a)
            a.scheduleMeta = Tensor(zeros: [9, 2], dtype: .int32); return a
        },
    ]

    /// Checks that `body` throws `.invalidArgument` (or `.unsupported`) naming `argument`.
    static func expectError(_ argument: String, unsupported: Bool, _ body: () throws -> Void) {
        #expect {
            try body()
        } throws: { error in
            namesArgument(error, argument, unsupported: unsupported)
        }
    }

    @Test(arguments: logitsRules)
    func brokenLogitsRuleRaisesATypedError(_ rule: Rule) throws {
        let arguments = try rule.make()
        Self.expectError(rule.argument, unsupported: rule.unsupported) { _ = try arguments.call() }
    }

    /// One metadata rule: context_lens, block_kv, num_sms, indices, strict personality, and the error.
    struct MetadataRule: Sendable, CustomTestStringConvertible {
        let name: String, argument: String, unsupported: Bool
        let contextLens: Tensor, blockKV: Int, numSMs: Int, indices: Tensor?, arch: ArchPersonality, strict: Bool
        var testDescription: String { name }
    }

    static let metadataRules: [MetadataRule] = {
        func t(_ values: [Int32], _ shape: [Int]) -> Tensor {
            (try? Tensor(values, shape: shape)) ?? Tensor(zeros: shape, dtype: .int32)
        }
        let good = t([10, 20, 30, 40], [4, 1])
        return [
            MetadataRule(name: "context_lens is 2-D", argument: "context_lens", unsupported: false, contextLens: t([1, 2], [2]),
                         blockKV: 64, numSMs: 4, indices: nil, arch: .sm100, strict: false),
            MetadataRule(name: "context_lens is int32", argument: "context_lens", unsupported: false, contextLens: good.converted(to: .int64),
                         blockKV: 64, numSMs: 4, indices: nil, arch: .sm100, strict: false),
            MetadataRule(name: "context_lens contiguous", argument: "context_lens", unsupported: false,
                         contextLens: (try? stridedCopy(of: t([1, 2, 3, 4], [2, 2]), strides: [1, 2])) ?? good,
                         blockKV: 64, numSMs: 4, indices: nil, arch: .sm100, strict: false),
            MetadataRule(name: "context lengths are non-negative", argument: "context_lens", unsupported: false, contextLens: t([1, -2], [2, 1]),
                         blockKV: 64, numSMs: 4, indices: nil, arch: .sm100, strict: false),
            MetadataRule(name: "block_kv is 32 or 64", argument: "block_kv", unsupported: false, contextLens: good,
                         blockKV: 128, numSMs: 4, indices: nil, arch: .sm100, strict: false),
            MetadataRule(name: "SM90 takes block_kv 64", argument: "block_kv", unsupported: true, contextLens: good,
                         blockKV: 32, numSMs: 4, indices: nil, arch: .sm90, strict: true),
            MetadataRule(name: "num_sms >= 1", argument: "num_sms", unsupported: false, contextLens: good,
                         blockKV: 64, numSMs: 0, indices: nil, arch: .sm100, strict: false),
            MetadataRule(name: "indices need next_n == 1", argument: "indices", unsupported: false, contextLens: t([1, 2, 3, 4], [2, 2]),
                         blockKV: 64, numSMs: 4, indices: t([0, 1], [2]), arch: .sm100, strict: false),
            MetadataRule(name: "indices is [batch_size]", argument: "indices", unsupported: false, contextLens: good,
                         blockKV: 64, numSMs: 4, indices: t([0, 1], [2]), arch: .sm100, strict: false),
            MetadataRule(name: "indices is int32", argument: "indices", unsupported: false, contextLens: good,
                         blockKV: 64, numSMs: 4, indices: Tensor(zeros: [4], dtype: .int64), arch: .sm100, strict: false),
            MetadataRule(name: "SM90 has no varlen indices", argument: "indices", unsupported: true, contextLens: good,
                         blockKV: 64, numSMs: 4, indices: t([0, 0, 1, 1], [4]), arch: .sm90, strict: true),
            MetadataRule(name: "batch fits the SM100 metadata kernel's shared memory", argument: "context_lens", unsupported: true,
                         contextLens: Tensor(zeros: [30000, 1], dtype: .int32), blockKV: 64, numSMs: 4, indices: nil, arch: .sm100, strict: true),
        ]
    }()

    @Test(arguments: metadataRules)
    func brokenMetadataRuleRaisesATypedError(_ rule: MetadataRule) {
        Self.expectError(rule.argument, unsupported: rule.unsupported) {
            _ = try getPagedMQALogitsMetadata(contextLens: rule.contextLens, blockKV: rule.blockKV, numSMs: rule.numSMs, indices: rule.indices,
                                              settings: DeepGEMMSettings(arch: rule.arch), strictArch: rule.strict)
        }
    }

    @Test func theUnionAcceptsSM100OnlyInputsUnderSM90() throws {
        var a = try Arguments.valid(nextN: 3)
        a.settings.arch = .sm90
        #expect(try a.call().shape == [6, a.maxContextLen])
        let lens = try Tensor([Int32](repeating: 5, count: 30000), shape: [30000, 1])
        #expect(try getPagedMQALogitsMetadata(contextLens: lens, blockKV: 32, numSMs: 4).shape == [5, 2])
    }
}
