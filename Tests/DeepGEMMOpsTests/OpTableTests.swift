import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI
@testable import DeepGEMMOps

/// The op table: coverage of DeepGEMM's public functions, docs, defaults, the JSON schema, and
/// the CLI listing generated from it.
@Suite struct OpTableTests {
    /// Every op issue 12 lists for the Python package (all but settings and pure Python helpers).
    static let requiredABIOps: [String] =
        ["nt", "nn", "tn", "tt"].flatMap { ["fp8_fp4_gemm_\($0)", "fp8_gemm_\($0)", "bf16_gemm_\($0)", "cublaslt_gemm_\($0)"] }
        + ["m_grouped_fp8_fp4_gemm_nt_contiguous", "m_grouped_fp8_fp4_gemm_nn_contiguous", "m_grouped_fp8_gemm_nt_contiguous",
           "m_grouped_fp8_gemm_nn_contiguous", "m_grouped_bf16_gemm_nt_contiguous", "m_grouped_bf16_gemm_nn_contiguous",
           "m_grouped_fp8_fp4_gemm_nt_masked", "m_grouped_fp8_gemm_nt_masked", "m_grouped_bf16_gemm_nt_masked",
           "k_grouped_fp8_gemm_tn_contiguous", "k_grouped_fp8_gemm_nt_contiguous", "k_grouped_bf16_gemm_tn_contiguous",
           "einsum", "fp8_einsum", "fp8_gemm_nt_skip_head_mid", "tf32_hc_prenorm_gemm",
           "fp8_mqa_logits", "fp8_fp4_mqa_logits", "get_paged_mqa_logits_metadata", "fp8_paged_mqa_logits", "fp8_fp4_paged_mqa_logits",
           "transform_sf_into_required_layout", "get_tma_aligned_size", "get_mn_major_tma_aligned_tensor",
           "get_mn_major_tma_aligned_packed_ue8m0_tensor", "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor",
           "get_theoretical_mk_alignment_for_contiguous_layout",
           "per_token_cast_to_fp8", "per_block_cast_to_fp8", "per_channel_cast_to_fp8", "per_custom_dims_cast_to_fp8",
           "per_token_cast_to_fp4", "cast_back_from_fp4", "ceil_to_ue8m0", "pack_ue8m0_to_int", "unpack_ue8m0_from_int",
           "transform_weights_for_mega_moe", "fp8_fp4_mega_moe", "bf16_mega_moe"]

    @Test func everyListedOpHasAnABIEntry() {
        let names = Set(OpTable.ops(for: .abi).map(\.name))
        for op in Self.requiredABIOps { #expect(names.contains(op), "\(op) has no abi entry") }
    }

    @Test func eachNameHasOneEntryPerSurface() {
        for surface in [OpSurface.cli, .abi] {
            let names = OpTable.ops(for: surface).map(\.name)
            #expect(names.count == Set(names).count, "duplicate names on \(surface)")
        }
        // The Mega MoE ops differ: stacked ranks on the CLI, DeepGEMM's per-rank signature on the ABI.
        #expect(OpTable.op(named: "fp8_fp4_mega_moe", surface: .abi)?.parameter("sym_buffer")?.kind == .buffer)
        #expect(OpTable.op(named: "fp8_fp4_mega_moe", surface: .cli)?.parameter("num_ranks") != nil)
    }

    @Test func everyOpAndParameterIsDocumentedAndConsistent() {
        for op in OpTable.all {
            #expect(!op.summary.isEmpty, "\(op.name) has no summary")
            let names = op.parameters.map(\.name)
            #expect(names.count == Set(names).count, "\(op.name) repeats a parameter")
            for parameter in op.parameters { #expect(!parameter.doc.isEmpty, "\(op.name).\(parameter.name) has no doc") }
            for name in op.inplace { #expect(op.parameter(name)?.kind == .tensor, "\(op.name) writes \(name), which is no tensor parameter") }
            #expect(Set(op.returns + op.inplace).isSubset(of: Set(op.outputs)), "\(op.name): outputs must list returns and inplace")
        }
    }

    @Test func defaultsFitTheirKinds() {
        for op in OpTable.all {
            for parameter in op.parameters {
                guard let value = parameter.defaultValue else { continue }
                let fits: Bool
                switch (value, parameter.kind) {
                case (.null, _), (.int, .int), (.float, .float), (.bool, .bool), (.string, .str), (.string, .dtype), (.ints, .ints): fits = true
                default: fits = false
                }
                #expect(fits, "\(op.name).\(parameter.name): default \(value) does not fit kind \(parameter.kind)")
            }
        }
        let gemm = OpTable.op(named: "fp8_gemm_nt", surface: .abi)
        #expect(gemm?.parameters.map(\.name) == ["a", "b", "d", "c", "recipe", "recipe_a", "recipe_b", "compiled_dims", "disable_ue8m0_cast"])
        #expect(gemm?.parameter("d")?.isRequired == true)
        #expect(gemm?.parameter("compiled_dims")?.defaultValue == .string("nk"))
        #expect(OpTable.op(named: "fp8_gemm_tn", surface: .abi)?.parameter("compiled_dims")?.defaultValue == .string("mn"))
        #expect(OpTable.op(named: "fp8_einsum", surface: .abi)?.parameter("recipe")?.defaultValue == .ints([1, 128, 128]))
    }

    @Test func jsonRoundTripsTheABISurface() throws {
        let object = try JSONSerialization.jsonObject(with: Data(OpTable.json.utf8)) as? [String: Any]
        #expect(object?["abi_version"] as? Int == 1)
        let ops = try #require(object?["ops"] as? [[String: Any]])
        let table = OpTable.ops(for: .abi)
        #expect(ops.map { $0["name"] as? String } == table.map(\.name))
        for (json, op) in zip(ops, table) {
            #expect(json["summary"] as? String == op.summary)
            #expect(json["returns"] as? [String] == op.returns)
            #expect(json["inplace"] as? [String] == op.inplace)
            #expect(json["outputs"] as? [String] == op.outputs)
            let params = try #require(json["params"] as? [[String: Any]])
            #expect(params.map { $0["name"] as? String } == op.parameters.map(\.name))
            for (param, parameter) in zip(params, op.parameters) {
                #expect(param["kind"] as? String == parameter.kind.rawValue)
                #expect(param["doc"] as? String == parameter.doc)
                #expect((param["default"] != nil) == !parameter.isRequired, "\(op.name).\(parameter.name): default present iff optional")
                if parameter.defaultValue == .null { #expect(param["default"] is NSNull) }
            }
        }
    }

    @Test func runListIsGeneratedFromTheTable() {
        let listing = OpRunner.listing
        for op in OpTable.ops(for: .cli) {
            #expect(listing.contains(op.signature), "--list lacks \(op.name)'s signature")
            for parameter in op.parameters { #expect(listing.contains("      \(parameter.name): \(parameter.doc)")) }
        }
        #expect(!listing.contains("sym_buffer"), "the ABI-only Mega MoE entries stay out of the CLI")
    }

    @Test func benchOpsAreTableOps() {
        for op in CastBenchmark.ops + GEMMBenchmark.ops + MQABenchmark.ops {
            #expect(OpTable.op(named: op, surface: .cli) != nil, "bench op \(op) is not in the table")
        }
    }

    @Test func callValidatesNamesKindsAndRequiredArguments() throws {
        let x = try Tensor([Float(3), 5], shape: [2])
        #expect(throws: OpCallError.unknownOp(name: "nope")) { try OpTable.call("nope", arguments: []) }
        #expect(throws: DeepGEMMError.self) { try OpTable.call("ceil_to_ue8m0", arguments: [("x", .tensor(x)), ("y", .int(1))]) }
        #expect(throws: OpCallError.self) { try OpTable.call("ceil_to_ue8m0", arguments: [("x", .int(1))]) }
        #expect(throws: DeepGEMMError.invalidArgument(argument: "x", rule: "required argument of ceil_to_ue8m0 is missing")) {
            try OpTable.call("ceil_to_ue8m0", arguments: [])
        }
        let results = try OpTable.call("ceil_to_ue8m0", arguments: [("x", .tensor(x))])
        #expect(results.map(\.name) == ["out"])
        #expect(results.first?.tensor.floatValues() == [4, 8])
        // A table default fills in what is left out: gran_k = 128 gives one scale per row of 256.
        let wide = Tensor(zeros: [1, 256], dtype: .float32)
        let cast = try OpTable.call("per_token_cast_to_fp8", arguments: [("x", .tensor(wide)), ("use_ue8m0", .bool(false))])
        #expect(cast.map(\.name) == ["out0", "out1"])
        #expect(cast.last?.tensor.shape == [1, 2])
    }

    /// (Process-wide settings are not changed here: other suites run concurrently.)
    @Test func runtimeSettingsReachTableCalls() throws {
        var runtime = RuntimeSettings()
        runtime.mkAlignmentForContiguousLayout = 64
        runtime.arch = .sm90
        let op = try #require(OpTable.op(named: "m_grouped_bf16_gemm_nt_contiguous", surface: .abi))
        let context = try OpContext(op: op, tensors: [:], values: [:], runtime: runtime)
        #expect(context.settings.mkAlignmentForContiguousLayout == 64 && context.settings.arch == .sm90 && context.strictArch)
        let overridden = try OpContext(op: op, tensors: [:], values: ["mk_alignment": .int(256)], runtime: runtime)
        #expect(overridden.settings.mkAlignmentForContiguousLayout == 256)
        #expect(try !OpContext(op: op, tensors: [:], values: [:], runtime: RuntimeSettings()).strictArch)
        #expect(throws: DeepGEMMError.self) { try RuntimeSettings.setMKAlignmentForContiguousLayout(0) }
        #expect(throws: DeepGEMMError.self) { try RuntimeSettings.setArch("sm75") }
        #expect(throws: DeepGEMMError.self) { try RuntimeSettings.setTCUtil(101) }
        #expect(throws: DeepGEMMError.self) { try RuntimeSettings.setNumSMs(-1) }
        #expect(throws: DeepGEMMError.self) { try CPUParallelism.setThreadCount(-1) }
    }
}
