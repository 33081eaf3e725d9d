import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI
import DeepGEMMTestSupport

/// The indexer ops through `deepgemm run`: files in, the API's result out (row-major), and failures
/// that name the argument and write nothing.
@Suite struct AttentionRunTests {
    /// Runs `op` on `tensors` with `settings` and returns the written `out`.
    static func run(_ op: String, _ tensors: [(String, Tensor)], _ settings: [String] = []) throws -> Tensor {
        let directory = NSTemporaryDirectory() + "deepgemm-mqa-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/in.safetensors", output = directory + "/out.safetensors"
        try SafeTensorsWriter.write(tensors.map { (name: $0.0, tensor: $0.1) }, to: input)
        do {
            try OpRunner.run(op: op, input: input, output: output, settings: settings)
        } catch {
            #expect(!FileManager.default.fileExists(atPath: output), "\(op) failed but left an output file")
            throw error
        }
        return try #require(try SafeTensorsFile.open(path: output).tensor("out"))
    }

    /// FP8 prefill inputs: S 6, SKV 40, H 8, D 32, causal windows.
    static func prefillInputs() throws -> [(String, Tensor)] {
        [("q", Tensor.randn([6, 8, 32], dtype: .float8E4M3, seed: 1)), ("kv", Tensor.randn([40, 32], dtype: .float8E4M3, seed: 2)),
         ("kv_sf", Tensor.uniform([40], dtype: .float32, seed: 3, low: 0.5, high: 1)), ("weights", Tensor.randn([6, 8], dtype: .float32, seed: 4)),
         ("cu_seq_len_k_start", Tensor(zeros: [6], dtype: .int32)), ("cu_seq_len_k_end", try Tensor((0..<6).map { Int32($0 + 34) }, shape: [6]))]
    }

    /// FP8 paged inputs: 2 requests of 2 tokens, H 8, D 32, pages of 32 tokens.
    static func pagedInputs() throws -> [(String, Tensor)] {
        let cache = Tensor(zeros: [6, 32, 1, 36], dtype: .uint8)
        let bytes = cache.dataPointer.assumingMemoryBound(to: UInt8.self)
        var generator = SeededGenerator(seed: 6)
        for page in 0..<6 {
            for i in 0..<(32 * 32) { bytes[page * 32 * 36 + i] = UInt8(generator.next() % 0x7E) }
            for slot in 0..<32 { (UnsafeMutableRawPointer(bytes) + page * 32 * 36 + 32 * 32 + 4 * slot).storeBytes(of: Float(0.5), as: Float.self) }
        }
        return [("q", Tensor.randn([2, 2, 8, 32], dtype: .float8E4M3, seed: 7)), ("kv_cache", cache),
                ("weights", Tensor.randn([4, 8], dtype: .float32, seed: 8)), ("context_lens", try Tensor([Int32](arrayLiteral: 20, 50, 64, 64), shape: [2, 2])),
                ("block_table", try Tensor([Int32](arrayLiteral: 4, 1, 0, 5), shape: [2, 2]))]
    }

    static func tensor(_ name: String, in tensors: [(String, Tensor)]) throws -> Tensor {
        try #require(tensors.first { $0.0 == name }?.1)
    }

    @Test func prefillOpsWriteTheLogicalLogits() throws {
        let inputs = try Self.prefillInputs()
        let t = { (name: String) in try Self.tensor(name, in: inputs) }
        let expected = try fp8FP4MQALogits(q: (t("q"), nil), kv: (t("kv"), t("kv_sf")), weights: t("weights"),
                                           cuSeqLenKStart: t("cu_seq_len_k_start"), cuSeqLenKEnd: t("cu_seq_len_k_end"),
                                           logitsDType: .bfloat16)
        let out = try Self.run("fp8_fp4_mqa_logits", inputs, ["logits_dtype=bf16"])
        #expect(out.isContiguous && bitwiseMismatch(out, expected) == nil)
        let legacy = try Self.run("fp8_mqa_logits", inputs, ["clean_logits=false", "max_seqlen_k=40"])
        #expect(legacy.shape == [6, 40] && legacy.dtype == .float32)
    }

    @Test func pagedOpsComputeOrReadTheSchedule() throws {
        let inputs = try Self.pagedInputs()
        let t = { (name: String) in try Self.tensor(name, in: inputs) }
        let meta = try Self.run("get_paged_mqa_logits_metadata", [("context_lens", t("context_lens"))], ["block_kv=32", "num_sms=4"])
        #expect(meta.shape == [5, 2] && meta.dtype == .int32)
        let expected = try fp8PagedMQALogits(q: t("q"), kvCache: t("kv_cache"), weights: t("weights"), contextLens: t("context_lens"),
                                             blockTable: t("block_table"), scheduleMeta: meta, maxContextLen: 70, numSMs: 4)
        let computed = try Self.run("fp8_paged_mqa_logits", inputs, ["max_context_len=70", "num_sms=4"])
        #expect(bitwiseMismatch(computed, expected) == nil)
        let given = try Self.run("fp8_fp4_paged_mqa_logits", inputs + [("schedule_meta", meta)], ["max_context_len=70", "num_sms=4"])
        #expect(bitwiseMismatch(given, expected) == nil)
        #expect(computed.doubleValues()[20..<70].allSatisfy { $0 == -.infinity }, "row 0 is -inf from its context length 20 on")
    }

    @Test func listNamesEveryIndexerOp() {
        for op in ["fp8_fp4_mqa_logits(", "fp8_mqa_logits(", "get_paged_mqa_logits_metadata(", "fp8_fp4_paged_mqa_logits(", "fp8_paged_mqa_logits("] {
            #expect(OpRunner.listing.contains(op), "\(op) missing from --list")
        }
    }

    @Test func failuresNameTheArgumentAndWriteNothing() throws {
        let prefill = try Self.prefillInputs(), paged = try Self.pagedInputs()
        let failing: [(String, [(String, Tensor)], [String], String)] = [
            ("fp8_fp4_mqa_logits", prefill, ["logits_dtype=f16"], "logits_dtype"),
            ("fp8_fp4_mqa_logits", prefill, ["max_seqlen_k=40"], "clean_logits"),
            ("fp8_mqa_logits", prefill.filter { $0.0 != "kv_sf" }, [], "kv_sf"),
            ("fp8_mqa_logits", prefill, ["arch=sm90"], "q"),
            ("get_paged_mqa_logits_metadata", [("context_lens", try Self.tensor("context_lens", in: paged))], ["block_kv=48"], "block_kv"),
            ("fp8_paged_mqa_logits", paged, ["max_context_len=40"], "max_context_len"),
            ("fp8_paged_mqa_logits", paged, ["max_context_len=70", "clean_logits=true"], "clean_logits"),
            ("fp8_paged_mqa_logits", paged, ["max_context_len=70", "num_sms=0"], "num_sms"),
        ]
        for (op, tensors, settings, argument) in failing {
            #expect {
                _ = try Self.run(op, tensors, settings)
            } throws: { error in
                (error as? DeepGEMMError)?.argument == argument
            }
        }
    }
}
