import Testing
import DeepGEMM
import DeepGEMMTestSupport

/// Every argument rule of `fp8_fp4_mqa_logits` (spec §12.1) raises a typed error naming the argument.
@Suite struct MQAArgumentRuleTests {
    /// The arguments of one call.
    struct Arguments: Sendable {
        var q: Tensor, qSF: Tensor?, kv: Tensor, kvSF: Tensor, weights: Tensor, ks: Tensor, ke: Tensor
        var clean = true, maxSeqlenK = 0, logits = DType.float32
        var settings = DeepGEMMSettings.default, strictArch = false

        /// Valid FP8 (S 4, SKV 16, H 8, D 32) or FP4 (D 64) arguments.
        static func valid(fp4: Bool = false, heads: Int = 8) throws -> Arguments {
            let inputs = try MQAPrefillInputs(format: fp4 ? .fp4 : .fp8, s: 4, skv: 16, h: heads, d: fp4 ? 64 : 32,
                                              windows: MQAPrefillInputs.causal(s: 4, skv: 16), seed: 1)
            return Arguments(q: inputs.q, qSF: inputs.qSF, kv: inputs.kv, kvSF: inputs.kvSF, weights: inputs.weights, ks: inputs.ks, ke: inputs.ke)
        }

        func call() throws -> Tensor {
            try fp8FP4MQALogits(q: (q, qSF), kv: (kv, kvSF), weights: weights, cuSeqLenKStart: ks, cuSeqLenKEnd: ke, cleanLogits: clean,
                                maxSeqlenK: maxSeqlenK, logitsDType: logits, settings: settings, strictArch: strictArch)
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

    static func int32(_ values: [Int32]) throws -> Tensor { try Tensor(values, shape: [values.count]) }

    static let rules: [Rule] = [
        Rule("q must be 3-D", "q") { var a = try Arguments.valid(); a.q = try a.q.reshaped([4, 256]); return a },
        Rule("num_heads in {8, 16, 32, 64}", "q") {
            var a = try Arguments.valid(); a.q = try a.q.reshaped([4, 4, 64]); a.kv = Tensor(zeros: [16, 64], dtype: .float8E4M3); return a
        },
        Rule("FP8 head_dim in {32, 64, 128}", "q") {
            var a = try Arguments.valid(); a.q = try a.q.reshaped([4, 16, 16]); return a
        },
        Rule("FP4 head_dim in {64, 128}", "q") {
            var a = try Arguments.valid(fp4: true); a.q = try a.q.reshaped([4, 16, 16]); return a
        },
        Rule("q contiguous", "q") { var a = try Arguments.valid(); a.q = try stridedCopy(of: a.q, strides: [8 * 64, 64, 1]); return a },
        Rule("FP8 q is float8_e4m3fn", "q") { var a = try Arguments.valid(); a.q = a.q.converted(to: .bfloat16); return a },
        Rule("FP4 q is packed int8", "q") {
            var a = try Arguments.valid(fp4: true); a.q = Tensor(zeros: [4, 8, 32], dtype: .float8E4M3); return a
        },
        Rule("q_sf is [S, H]", "q_sf") { var a = try Arguments.valid(fp4: true); a.qSF = Tensor(zeros: [4, 4], dtype: .int32); return a },
        Rule("q_sf contiguous", "q_sf") {
            var a = try Arguments.valid(fp4: true); a.qSF = try stridedCopy(of: #require(a.qSF), strides: [16, 1]); return a
        },
        Rule("q_sf is int32", "q_sf") { var a = try Arguments.valid(fp4: true); a.qSF = Tensor(zeros: [4, 8], dtype: .float32); return a },
        Rule("kv head_dim matches q", "kv") { var a = try Arguments.valid(); a.kv = Tensor(zeros: [16, 64], dtype: .float8E4M3); return a },
        Rule("FP4 kv head_dim matches q", "kv") { var a = try Arguments.valid(fp4: true); a.kv = Tensor(zeros: [16, 16], dtype: .int8); return a },
        Rule("kv contiguous", "kv") { var a = try Arguments.valid(); a.kv = try stridedCopy(of: a.kv, strides: [64, 1]); return a },
        Rule("FP8 kv is float8_e4m3fn", "kv") { var a = try Arguments.valid(); a.kv = Tensor(zeros: [16, 32], dtype: .bfloat16); return a },
        Rule("FP4 kv is packed int8", "kv") { var a = try Arguments.valid(fp4: true); a.kv = Tensor(zeros: [16, 32], dtype: .uint8); return a },
        Rule("kv_sf is [SKV]", "kv_sf") { var a = try Arguments.valid(); a.kvSF = Tensor(zeros: [15], dtype: .float32); return a },
        Rule("kv_sf contiguous", "kv_sf") { var a = try Arguments.valid(); a.kvSF = try stridedCopy(of: a.kvSF, strides: [2]); return a },
        Rule("FP8 kv_sf is float32", "kv_sf") { var a = try Arguments.valid(); a.kvSF = Tensor(zeros: [16], dtype: .int32); return a },
        Rule("FP4 kv_sf is int32", "kv_sf") { var a = try Arguments.valid(fp4: true); a.kvSF = Tensor(zeros: [16], dtype: .float32); return a },
        Rule("weights is [S, H]", "weights") { var a = try Arguments.valid(); a.weights = Tensor(zeros: [4, 16], dtype: .float32); return a },
        Rule("weights stride(1) == 1", "weights") {
            var a = try Arguments.valid(); a.weights = try stridedCopy(of: a.weights, strides: [1, 4]); return a
        },
        Rule("weights float32 or bfloat16", "weights") { var a = try Arguments.valid(); a.weights = a.weights.converted(to: .float16); return a },
        Rule("bfloat16 weights need bfloat16 logits", "logits_dtype") {
            var a = try Arguments.valid(); a.weights = a.weights.converted(to: .bfloat16); return a
        },
        Rule("logits_dtype float32 or bfloat16", "logits_dtype") { var a = try Arguments.valid(); a.logits = .float16; return a },
        Rule("cu_seq_len_k_start is [S]", "cu_seq_len_k_start") { var a = try Arguments.valid(); a.ks = try int32([0, 0, 0]); return a },
        Rule("cu_seq_len_k_start contiguous", "cu_seq_len_k_start") {
            var a = try Arguments.valid(); a.ks = try stridedCopy(of: a.ks, strides: [3]); return a
        },
        Rule("cu_seq_len_k_start is int32", "cu_seq_len_k_start") {
            var a = try Arguments.valid(); a.ks = Tensor(zeros: [4], dtype: .int64); return a
        },
        Rule("cu_seq_len_k_end is int32", "cu_seq_len_k_end") { var a = try Arguments.valid(); a.ke = a.ke.converted(to: .int64); return a },
        Rule("cu_seq_len_k_end is [S]", "cu_seq_len_k_end") { var a = try Arguments.valid(); a.ke = try int32([1, 2, 3, 4, 5]); return a },
        Rule("ks >= 0", "cu_seq_len_k_start") { var a = try Arguments.valid(); a.ks = try int32([0, -1, 0, 0]); return a },
        Rule("ks <= ke", "cu_seq_len_k_end") { var a = try Arguments.valid(); a.ks = try int32([0, 14, 0, 0]); return a },
        Rule("max_seqlen_k >= 0", "max_seqlen_k") { var a = try Arguments.valid(); a.clean = false; a.maxSeqlenK = -1; return a },
        Rule("compressed logits need clean_logits == false", "clean_logits") { var a = try Arguments.valid(); a.maxSeqlenK = 16; return a },
        Rule("windows fit max_seqlen_k", "max_seqlen_k") { var a = try Arguments.valid(); a.clean = false; a.maxSeqlenK = 12; return a },
        Rule("SM90 takes 32 or 64 heads", "q", unsupported: true) {
            var a = try Arguments.valid(); a.settings.arch = .sm90; a.strictArch = true; return a
        },
        Rule("SM90 has no FP4", "q_sf", unsupported: true) {
            var a = try Arguments.valid(fp4: true, heads: 32); a.settings.arch = .sm90; a.strictArch = true; return a
        },
        Rule("SM90 has no bfloat16 weights", "weights", unsupported: true) {
            var a = try Arguments.valid(heads: 32); a.weights = a.weights.converted(to: .bfloat16); a.logits = .bfloat16
            a.settings.arch = .sm90; a.strictArch = true; return a
        },
    ]

    @Test(arguments: rules)
    func brokenRuleRaisesATypedError(_ rule: Rule) throws {
        let arguments = try rule.make()
        #expect {
            _ = try arguments.call()
        } throws: { error in
            namesArgument(error, rule.argument, unsupported: rule.unsupported)
        }
    }

    @Test func theUnionAcceptsWhatEitherArchitectureAccepts() throws {
        var a = try Arguments.valid()
        a.settings.arch = .sm90
        #expect(try a.call().shape == [4, 16])
        var fp4 = try Arguments.valid(fp4: true)
        fp4.strictArch = true
        #expect(try fp4.call().shape == [4, 16])
        var wide = try Arguments.valid()
        wide.ke = try Self.int32([40, 41, 42, 43])
        #expect(try wide.call().shape == [4, 16], "ends past SKV are clamped")
    }
}
