import CDeepGEMMABI
import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMOps

/// The Mega MoE buffer through the C ABI: creation, views, and DeepGEMM's per-rank
/// `bf16_mega_moe` matching the CLI's stacked form on a one-rank group.
@Suite struct MegaMoEBufferABITests {
    static let (experts, tokens, topk, hidden, intermediate) = (2, 3, 1, 128, 128)

    /// A one-rank BF16 buffer with a group id unique to this process and `tag`.
    static func makeBuffer(_ tag: String) throws -> OpaquePointer {
        let call = CCall()
        var options = dg_mega_moe_buffer_options()
        options.rank = 0
        options.num_ranks = 1
        options.group_id = UnsafePointer(call.cString("capi-test-\(getpid())-\(tag)"))
        (options.num_experts, options.num_max_tokens_per_rank, options.num_topk) = (Int64(experts), Int64(tokens), Int64(topk))
        (options.hidden, options.intermediate_hidden) = (Int64(hidden), Int64(intermediate))
        options.use_fp8_dispatch = -1
        options.mma_type = UnsafePointer(call.cString("bf16xbf16"))
        options.timeout_seconds = 30
        options.threads_per_rank = 1
        var buffer: OpaquePointer?
        let status = dg_mega_moe_buffer_create(&options, &buffer)
        #expect(status == code(DG_OK), "\(lastError())")
        return try #require(buffer)
    }

    /// A host Tensor over a buffer view.
    static func tensor(_ view: dg_tensor, dtype: DType) throws -> Tensor {
        let shape = (0..<Int(view.ndim)).map { Int(view.shape[$0]) }, strides = (0..<Int(view.ndim)).map { Int(view.strides[$0]) }
        let span = zip(shape, strides).reduce(1) { $0 + ($1.0 - 1) * $1.1 }
        return try Tensor(storage: TensorStorage(wrapping: view.data, byteCount: span * dtype.size, release: nil), dtype: dtype, shape: shape, strides: strides)
    }

    @Test func viewsAndBadOptions() throws {
        let buffer = try Self.makeBuffer("views")
        defer { dg_mega_moe_buffer_destroy(buffer) }
        var view = dg_tensor()
        #expect(dg_mega_moe_buffer_tensor(buffer, "x", &view) == code(DG_OK))
        #expect(view.ndim == 2 && view.shape[1] == Int64(Self.hidden) && view.shape[0] >= Int64(Self.tokens))
        #expect(view.dtype.code == UInt8(DG_DTYPE_BFLOAT))
        #expect(dg_mega_moe_buffer_tensor(buffer, "topk_idx", &view) == code(DG_OK) && view.dtype.bits == 64 && view.shape[1] == Int64(Self.topk))
        #expect(dg_mega_moe_buffer_tensor(buffer, "x_sf", &view) == code(DG_ERROR_INVALID_ARGUMENT), "a BF16 buffer has no x_sf")
        #expect(dg_mega_moe_buffer_tensor(buffer, "nope", &view) == code(DG_ERROR_INVALID_ARGUMENT))

        var options = dg_mega_moe_buffer_options()
        var none: OpaquePointer?
        #expect(dg_mega_moe_buffer_create(&options, &none) == code(DG_ERROR_INVALID_ARGUMENT) && none == nil, "NULL group_id")
        #expect(lastError().argument == "group_id")
        #expect(dg_mega_moe_buffer_create(nil, &none) == code(DG_ERROR_INVALID_ARGUMENT))
    }

    @Test func perRankBF16MegaMoEMatchesTheCLIStackedOp() throws {
        let (e, t, k, h, i) = (Self.experts, Self.tokens, Self.topk, Self.hidden, Self.intermediate)
        let x = Tensor.randn([t, h], dtype: .bfloat16, seed: 11)
        let topkIdx = try Tensor([Int64(0), 1, -1], shape: [t, k])
        let topkWeights = try Tensor([Float(0.5), 1.5, 1], shape: [t, k])
        let l1 = Tensor.randn([e, 2 * i, h], dtype: .bfloat16, seed: 12, scale: 0.1), l2 = Tensor.randn([e, h, i], dtype: .bfloat16, seed: 13, scale: 0.1)

        // The CLI's stacked form with R = 1.
        let cli = try #require(OpTable.op(named: "bf16_mega_moe", surface: .cli))
        let stacked = try OpTable.runFromCLI(cli, tensors: ["x": x.reshaped([1, t, h]), "topk_idx": topkIdx.reshaped([1, t, k]),
                                                            "topk_weights": topkWeights.reshaped([1, t, k]), "l1_weights": l1, "l2_weights": l2],
                                             values: ["num_ranks": .int(1)])
        let expected = try #require(stacked.first { $0.name == "y" }?.tensor)

        // The ABI: fill the buffer, transform the weights, call the per-rank op.
        let buffer = try Self.makeBuffer("run")
        defer { dg_mega_moe_buffer_destroy(buffer) }
        for (name, source, dtype) in [("x", x, DType.bfloat16), ("topk_idx", topkIdx, .int64), ("topk_weights", topkWeights, .float32)] {
            var view = dg_tensor()
            #expect(dg_mega_moe_buffer_tensor(buffer, name, &view) == code(DG_OK))
            try Self.tensor(view, dtype: dtype).narrow(dim: 0, start: 0, length: t).copy(from: source)
        }
        let transform = CCall()
        transform.tensor("l1_weights", l1)
        transform.tensor("l2_weights", l2)
        let weights = transform.call("transform_weights_for_mega_moe")
        defer { dg_results_free(weights.results) }
        #expect(weights.status == code(DG_OK), "\(lastError())")
        #expect(dg_results_count(weights.results) == 2)

        let y = Tensor(zeros: [t, h], dtype: .bfloat16), stats = Tensor(zeros: [e], dtype: .int32)
        let call = CCall()
        call.tensor("y", y)
        call.tensor("l1_weights", descriptor: try #require(dg_results_tensor(weights.results, 0)))
        call.tensor("l2_weights", descriptor: try #require(dg_results_tensor(weights.results, 1)))
        call.buffer("sym_buffer", buffer)
        call.tensor("cumulative_local_expert_recv_stats", stats)
        call.none("activation_clamp")
        let (status, results) = call.call("bf16_mega_moe")
        defer { dg_results_free(results) }
        #expect(status == code(DG_OK), "\(lastError())")
        #expect(dg_results_count(results) == 2)
        #expect(try y.floatValues() == expected.reshaped([t, h]).floatValues())
        #expect(stats.floatValues() == [1, 1])
    }
}
