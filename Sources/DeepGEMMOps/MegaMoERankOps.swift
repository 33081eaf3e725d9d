import DeepGEMM

/// DeepGEMM's per-rank Mega MoE ops, for the C ABI: each process (or thread) of a rank group calls
/// them collectively with its own `y`, its own transformed experts and the group's symmetric buffer
/// (`dg_mega_moe_buffer_create`), after filling the buffer's input views.
let megaMoERankOps: [OpDefinition] = [
    OpDefinition(
        name: "fp8_fp4_mega_moe", summary: "this rank's fused MoE layer: dispatch, FP8×FP4 L1, SwiGLU + FP8 requantization, L2, combine",
        surface: .abi,
        parameters: [rankOutput,
                     OpParameter("l1_weights", .pair, "this rank's experts as transform_weights_for_mega_moe returns them: (i8 [E_l, 2I, H/2], i32 [E_l, 2I, H/128])"),
                     OpParameter("l2_weights", .pair, "(i8 [E_l, H, I/2], i32 [E_l, H, I/128]), transformed"),
                     symBufferParameter, rankStatsParameter, megaMoERecipeParameter, activationParameter, activationClampParameter, fastMathParameter],
        inplace: ["y", "cumulative_local_expert_recv_stats"]
    ) { c in
        let y = try c.tensor("y"), stats = c.optionalTensor("cumulative_local_expert_recv_stats")
        try fp8FP4MegaMoE(y: y, l1Weights: QuantizedTensor(data: c.tensor("l1_weights"), sf: c.tensor("l1_weights_sf")),
                          l2Weights: QuantizedTensor(data: c.tensor("l2_weights"), sf: c.tensor("l2_weights_sf")), buffer: c.buffer("sym_buffer"),
                          cumulativeLocalExpertRecvStats: stats, recipe: c.intList("recipe") ?? [], activation: c.string("activation"),
                          activationClamp: c.optionalNumber("activation_clamp"), fastMath: c.bool("fast_math"), settings: c.settings)
        return [("y", y)] + (stats.map { [("cumulative_local_expert_recv_stats", $0)] } ?? [])
    },
    OpDefinition(
        name: "bf16_mega_moe", summary: "this rank's fused MoE layer: dispatch, BF16 L1, SwiGLU (BF16 out), L2, combine",
        surface: .abi,
        parameters: [rankOutput,
                     OpParameter("l1_weights", .tensor, "this rank's experts, bf16 [E_l, 2I, H], transformed (gate/up interleaved)"),
                     OpParameter("l2_weights", .tensor, "bf16 [E_l, H, I]"),
                     symBufferParameter, rankStatsParameter, activationParameter, activationClampParameter, fastMathParameter],
        inplace: ["y", "cumulative_local_expert_recv_stats"]
    ) { c in
        let y = try c.tensor("y"), stats = c.optionalTensor("cumulative_local_expert_recv_stats")
        try bf16MegaMoE(y: y, l1Weights: c.tensor("l1_weights"), l2Weights: c.tensor("l2_weights"), buffer: c.buffer("sym_buffer"),
                        cumulativeLocalExpertRecvStats: stats, activation: c.string("activation"),
                        activationClamp: c.optionalNumber("activation_clamp"), fastMath: c.bool("fast_math"), settings: c.settings)
        return [("y", y)] + (stats.map { [("cumulative_local_expert_recv_stats", $0)] } ?? [])
    },
]

/// `recipe` of `fp8_fp4_mega_moe`.
let megaMoERecipeParameter = OpParameter("recipe", .ints, default: .ints([1, 1, 32]), "(gran_m, gran_n, gran_k); only (1, 1, 32)")

/// `y` of the per-rank ops.
private let rankOutput = OpParameter("y", .tensor, "bf16 [num_tokens, H], written in place; num_tokens <= the buffer's capacity")

/// `sym_buffer` of the per-rank ops.
private let symBufferParameter = OpParameter("sym_buffer", .buffer, "the group's buffer, inputs filled for the first num_tokens rows")

/// `cumulative_local_expert_recv_stats` of the per-rank ops.
private let rankStatsParameter = OpParameter("cumulative_local_expert_recv_stats", .tensor, default: .null,
                                             "i32 [E_l], added to in place: the pairs each local expert received")
