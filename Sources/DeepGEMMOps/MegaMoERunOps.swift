import DeepGEMM

/// The multi-rank Mega MoE ops (spec/cli-run.md, "Multi-rank ops"; spec/megamoe-indexer.md §1.1):
/// per-rank tensors stacked on a leading rank dimension R (`--set num_ranks=R`), the weights of
/// all E experts stacked and untransformed. The runner does what a DeepGEMM caller does on every
/// rank: allocates the symmetric buffer, copies the rank's inputs into it, takes the rank's experts
/// [r·E/R, (r+1)·E/R), transforms them for Mega MoE, and calls the op. `y` and
/// `cumulative_local_expert_recv_stats` are in-place outputs (zero-filled when absent).
let megaMoERunOps: [OpDefinition] = [fp8FP4MegaMoEOp, bf16MegaMoEOp]

/// The parameters both ops share after their weights.
private let sharedParameters: [OpParameter] = [
    OpParameter("y", .tensor, default: .null, "bf16 [R, T, H], written in place (zeros when absent)"),
    OpParameter("cumulative_local_expert_recv_stats", .tensor, default: .null, "i32 [R, E/R], added to in place (zeros when absent)"),
    OpParameter("num_ranks", .int, "R >= 1"),
    OpParameter("num_max_tokens_per_rank", .int, default: .null, "buffer capacity >= T (None: T)"),
    activationParameter, activationClampParameter, fastMathParameter,
]

/// The routing parameters of both ops.
private let routingParameters: [OpParameter] = [
    OpParameter("topk_idx", .tensor, "i64 [R, T, k] (-1 masks a slot)"), OpParameter("topk_weights", .tensor, "f32 [R, T, k]"),
]

/// `fp8_fp4_mega_moe(y, (l1_weights, l1_weights_sf), (l2_weights, l2_weights_sf), sym_buffer, ...)`.
private let fp8FP4MegaMoEOp = OpDefinition(
    name: "fp8_fp4_mega_moe",
    summary: "fused MoE layer over R ranks stacked in one file: dispatch, FP8×FP4 L1, SwiGLU + FP8 requantization, L2, combine",
    surface: .cli,
    parameters: [OpParameter("x", .pair, "(fp8 [R, T, H] with H % 512 == 0, i32 [R, T, H/128] packed ue8m0 per 32, K-major)")]
        + routingParameters
        + [OpParameter("l1_weights", .pair, "(i8 [E, 2I, H/2] packed FP4, untransformed, I % 512 == 0; f32 [E, 2I, H/32] powers of two or packed ue8m0 i32 [E, 2I, H/128])"),
           OpParameter("l2_weights", .pair, "(i8 [E, H, I/2] packed FP4; f32 [E, H, I/32] or i32 [E, H, I/128])"),
           megaMoERecipeParameter]
        + sharedParameters,
    returns: ["y", "cumulative_local_expert_recv_stats"]
) { c in
    let xSF = try c.tensor("x_sf")
    try requireKind(xSF, "x_sf", [.int32], rank: 3, layout: "[num_ranks, num_tokens, hidden / 128]")
    let (l1SF, l2SF) = (try c.tensor("l1_weights_sf"), try c.tensor("l2_weights_sf"))
    try requireKind(l1SF, "l1_weights_sf", [.float32, .int32], rank: 3, layout: "[num_experts, 2 * intermediate_hidden, ...]")
    try requireKind(l2SF, "l2_weights_sf", [.float32, .int32], rank: 3, layout: "[num_experts, hidden, ...]")
    let recipe = try c.intList("recipe") ?? []
    let run = try MegaMoERun(c, mmaType: .fp8xfp4, activationDType: .float8E4M3, weightDType: .int8, elementsPerWeightByte: 2)
    let s = run.sizes
    try requireShape(xSF, "x_sf", [s.ranks, s.tokens, s.hidden / 128], "[num_ranks, num_tokens, hidden / 128]")
    let l1Scales = try requiredLayoutScales(l1SF, "l1_weights_sf", experts: s.experts, rows: 2 * s.intermediate, k: s.hidden)
    let l2Scales = try requiredLayoutScales(l2SF, "l2_weights_sf", experts: s.experts, rows: s.hidden, k: s.intermediate)
    try run.fillBuffer(xSF: xSF)
    let transformed = try (0..<s.ranks).map { rank in
        try transformWeightsForMegaMoE(
            l1Weights: QuantizedTensor(data: run.localExperts(run.l1, rank: rank), sf: run.localExperts(l1Scales, rank: rank)),
            l2Weights: QuantizedTensor(data: run.localExperts(run.l2, rank: rank), sf: run.localExperts(l2Scales, rank: rank)),
            activation: run.activation)
    }
    try fp8FP4MegaMoE(y: run.yViews(), l1Weights: transformed.map(\.l1), l2Weights: transformed.map(\.l2), buffer: run.buffer,
                      cumulativeLocalExpertRecvStats: run.statsViews(), recipe: recipe, activation: run.activation,
                      activationClamp: run.activationClamp, fastMath: run.fastMath, settings: c.settings)
    return run.outputs
}

/// `bf16_mega_moe(y, l1_weights, l2_weights, sym_buffer, ...)`.
private let bf16MegaMoEOp = OpDefinition(
    name: "bf16_mega_moe",
    summary: "fused MoE layer over R ranks stacked in one file: dispatch, BF16 L1, SwiGLU (BF16 out), L2, combine",
    surface: .cli,
    parameters: [OpParameter("x", .tensor, "bf16 [R, T, H], H % 64 == 0")]
        + routingParameters
        + [OpParameter("l1_weights", .tensor, "bf16 [E, 2I, H] (untransformed), I % 64 == 0"), OpParameter("l2_weights", .tensor, "bf16 [E, H, I]")]
        + sharedParameters,
    returns: ["y", "cumulative_local_expert_recv_stats"]
) { c in
    let run = try MegaMoERun(c, mmaType: .bf16xbf16, activationDType: .bfloat16, weightDType: .bfloat16, elementsPerWeightByte: 1)
    try run.fillBuffer(xSF: nil)
    let transformed = try (0..<run.sizes.ranks).map { rank in
        try transformWeightsForMegaMoE(l1Weights: run.localExperts(run.l1, rank: rank), l2Weights: run.localExperts(run.l2, rank: rank),
                                       activation: run.activation)
    }
    try bf16MegaMoE(y: run.yViews(), l1Weights: transformed.map(\.l1), l2Weights: transformed.map(\.l2), buffer: run.buffer,
                    cumulativeLocalExpertRecvStats: run.statsViews(), activation: run.activation,
                    activationClamp: run.activationClamp, fastMath: run.fastMath, settings: c.settings)
    return run.outputs
}

/// The sizes of one Mega MoE run, read from the stacked tensors.
private struct MegaMoERunSizes {
    /// R, the number of ranks.
    let ranks: Int
    /// T, the tokens of every rank.
    let tokens: Int
    /// H, the hidden size.
    let hidden: Int
    /// I, the intermediate size.
    let intermediate: Int
    /// E, the experts over all ranks.
    let experts: Int
    /// k, the top-k slots per token.
    let topk: Int
}

/// The checked arguments both ops share, the symmetric buffer, and the in-place outputs.
private struct MegaMoERun {
    /// R, T, H, I, E and k.
    let sizes: MegaMoERunSizes
    /// The stacked inputs from the file: `x` [R, T, H], `topk_idx` and `topk_weights` [R, T, k].
    let x: Tensor, topkIdx: Tensor, topkWeights: Tensor
    /// The untransformed weights of all experts, `l1_weights` and `l2_weights`.
    let l1: Tensor, l2: Tensor
    /// The in-place outputs: `y` BF16 [R, T, H] and the stats Int32 [R, E/R].
    let y: Tensor, stats: Tensor
    /// The symmetric buffer of the R thread ranks.
    let buffer: MegaMoESymmetricBuffer
    /// `activation`, `activation_clamp` and `fast_math`.
    let activation: String, activationClamp: Double?, fastMath: Bool

    /// Checks `arch` (sm100 when given), the dtype and rank of every shared tensor, then their
    /// agreement, then builds the buffer (which applies DeepGEMM's rules on E, R, k, H and I) and
    /// the in-place outputs. `elementsPerWeightByte` is 2 for packed FP4 weights, 1 for BF16.
    init(_ c: OpContext, mmaType: MegaMoEBufferLayout.MMAType, activationDType: DType, weightDType: DType, elementsPerWeightByte: Int) throws {
        try DeepGEMMError.require(!c.strictArch || c.settings.arch == .sm100, "arch", "Mega MoE exists on sm100 only, got \(c.settings.arch)")
        let ranks = try c.int("num_ranks")
        try DeepGEMMError.require(ranks >= 1, "num_ranks", "must be a positive integer (the size of the leading rank dimension), got \(ranks)")
        (x, topkIdx, topkWeights) = (try c.tensor("x"), try c.tensor("topk_idx"), try c.tensor("topk_weights"))
        (l1, l2) = (try c.tensor("l1_weights"), try c.tensor("l2_weights"))
        try requireKind(x, "x", [activationDType], rank: 3, layout: "[num_ranks, num_tokens, hidden]")
        try requireKind(topkIdx, "topk_idx", [.int64], rank: 3, layout: "[num_ranks, num_tokens, num_topk]")
        try requireKind(topkWeights, "topk_weights", [.float32], rank: 3, layout: "[num_ranks, num_tokens, num_topk]")
        try requireKind(l1, "l1_weights", [weightDType], rank: 3, layout: "[num_experts, 2 * intermediate_hidden, hidden]")
        try requireKind(l2, "l2_weights", [weightDType], rank: 3, layout: "[num_experts, hidden, intermediate_hidden]")
        let yInput = c.optionalTensor("y"), statsInput = c.optionalTensor("cumulative_local_expert_recv_stats")
        if let yInput { try requireKind(yInput, "y", [.bfloat16], rank: 3, layout: "[num_ranks, num_tokens, hidden]") }
        if let statsInput { try requireKind(statsInput, "cumulative_local_expert_recv_stats", [.int32], rank: 2, layout: "[num_ranks, num_experts / num_ranks]") }

        let (tokens, hidden, experts) = (x.size(1), x.size(2), l1.size(0))
        try DeepGEMMError.require(x.size(0) == ranks, "x", "size(0) must be num_ranks = \(ranks), got shape \(x.shape)")
        let topk = topkIdx.size(2)
        try requireShape(topkIdx, "topk_idx", [ranks, tokens, topk], "[num_ranks, num_tokens of x, num_topk]")
        try requireShape(topkWeights, "topk_weights", topkIdx.shape, "the shape of topk_idx")
        try DeepGEMMError.require(l1.size(1) % 2 == 0 && hidden % elementsPerWeightByte == 0, "l1_weights",
                                  "must have 2 * intermediate_hidden rows and hidden = \(hidden) columns, got shape \(l1.shape)")
        let intermediate = l1.size(1) / 2
        try requireShape(l1, "l1_weights", [experts, 2 * intermediate, hidden / elementsPerWeightByte],
                         elementsPerWeightByte == 1 ? "[num_experts, 2 * intermediate_hidden, hidden]" : "[num_experts, 2 * intermediate_hidden, hidden / 2]")
        try DeepGEMMError.require(intermediate % elementsPerWeightByte == 0, "l2_weights", "intermediate_hidden \(intermediate) must be even for packed FP4")
        try requireShape(l2, "l2_weights", [experts, hidden, intermediate / elementsPerWeightByte],
                         elementsPerWeightByte == 1 ? "[num_experts, hidden, intermediate_hidden]" : "[num_experts, hidden, intermediate_hidden / 2]")
        sizes = MegaMoERunSizes(ranks: ranks, tokens: tokens, hidden: hidden, intermediate: intermediate, experts: experts, topk: topk)

        let maxTokens = try c.optionalInt("num_max_tokens_per_rank") ?? max(tokens, 1)
        try DeepGEMMError.require(maxTokens >= tokens, "num_max_tokens_per_rank",
                                  "must be at least the tokens per rank (size(1) of x = \(tokens)), got \(maxTokens)")
        activation = try c.string("activation")
        activationClamp = try c.optionalNumber("activation_clamp")
        fastMath = try c.bool("fast_math")
        buffer = try getSymmBufferForMegaMoE(numExperts: experts, numMaxTokensPerRank: maxTokens, numTopk: topk, hidden: hidden,
                                             intermediateHidden: intermediate, numRanks: ranks, mmaType: mmaType, activation: activation)

        y = try c.inPlaceOutput("y", shape: [ranks, tokens, hidden], defaultDType: .bfloat16)
        try requireKind(y, "y", [.bfloat16], rank: 3, layout: "[num_ranks, num_tokens, hidden]")
        try requireShape(y, "y", [ranks, tokens, hidden], "[num_ranks, num_tokens, hidden]")
        stats = statsInput ?? Tensor(zeros: [ranks, buffer.numLocalExperts], dtype: .int32)
        try requireShape(stats, "cumulative_local_expert_recv_stats", [ranks, buffer.numLocalExperts], "[num_ranks, num_experts / num_ranks]")
    }

    /// Copies every rank's `x` (and `x_sf`), `topk_idx` and `topk_weights` into the first T rows of
    /// its buffer input views, as a DeepGEMM caller does before each call.
    func fillBuffer(xSF: Tensor?) throws {
        let tokens = sizes.tokens
        for (rank, view) in buffer.inputs.enumerated() {
            try view.x.narrow(dim: 0, start: 0, length: tokens).copy(from: x.select(dim: 0, index: rank))
            if let xSF, let target = view.xSF {
                try target.narrow(dim: 0, start: 0, length: tokens).copy(from: xSF.select(dim: 0, index: rank))
            }
            try view.topkIdx.narrow(dim: 0, start: 0, length: tokens).copy(from: topkIdx.select(dim: 0, index: rank))
            try view.topkWeights.narrow(dim: 0, start: 0, length: tokens).copy(from: topkWeights.select(dim: 0, index: rank))
        }
    }

    /// The experts rank `rank` owns, [rank·E/R, (rank+1)·E/R), of a tensor stacked over all experts.
    func localExperts(_ tensor: Tensor, rank: Int) throws -> Tensor {
        try tensor.narrow(dim: 0, start: rank * buffer.numLocalExperts, length: buffer.numLocalExperts)
    }

    /// `y` of each rank, [T, H] views of the stacked output.
    func yViews() throws -> [Tensor] { try (0..<sizes.ranks).map { try y.select(dim: 0, index: $0) } }

    /// The stats of each rank, [E/R] views of the stacked output.
    func statsViews() throws -> [Tensor] { try (0..<sizes.ranks).map { try stats.select(dim: 0, index: $0) } }

    /// The in-place outputs under their argument names.
    var outputs: [(name: String, tensor: Tensor)] { [("y", y), ("cumulative_local_expert_recv_stats", stats)] }
}

/// Throws unless `tensor` has one of `dtypes` and `rank` dimensions, naming `name`.
private func requireKind(_ tensor: Tensor, _ name: String, _ dtypes: [DType], rank: Int, layout: String) throws {
    try DeepGEMMError.require(dtypes.contains(tensor.dtype), name,
                              "must be " + dtypes.map { "\($0)" }.joined(separator: " or ") + " \(layout), got \(tensor.dtype)")
    try DeepGEMMError.require(tensor.rank == rank, name, "must be \(rank)-D \(layout), got shape \(tensor.shape)")
}

/// Throws unless `tensor` has `shape`, naming `name` and the expected `layout`.
private func requireShape(_ tensor: Tensor, _ name: String, _ shape: [Int], _ layout: String) throws {
    try DeepGEMMError.require(tensor.shape == shape, name, "must be \(layout) = \(shape), got \(tensor.shape)")
}

/// The scale factors `sf` of weights [E, rows, k] in the layout `fp8_fp4_mega_moe` requires: packed
/// UE8M0 Int32 [E, rows, k/128], MN-major and TMA-aligned. F32 scales [E, rows, k/32] (powers of
/// two) go through `transform_sf_into_required_layout(sf, rows, k, (1, 32), E)` on SM100; packed
/// Int32 scales [E, rows, k/128], which a file stores K-major, are copied into that layout.
private func requiredLayoutScales(_ sf: Tensor, _ name: String, experts: Int, rows: Int, k: Int) throws -> Tensor {
    if sf.dtype == .float32 {
        try requireShape(sf, name, [experts, rows, k / 32], "f32 [num_experts, rows, k / 32]")
        do {
            return try transformSFIntoRequiredLayout(sf, mn: rows, k: k, recipe: .operand(granMN: 1, granK: 32), numGroups: experts,
                                                     settings: DeepGEMMSettings(arch: .sm100))
        } catch let DeepGEMMError.invalidArgument(argument, rule) where argument == "sf" {
            throw DeepGEMMError.invalidArgument(argument: name, rule: rule)
        }
    }
    let columns = k / 128, aligned = align(rows, 4)
    try requireShape(sf, name, [experts, rows, columns], "packed ue8m0 i32 [num_experts, rows, k / 128]")
    let relaid = try Tensor(storage: TensorStorage(byteCount: experts * aligned * columns * DType.int32.size), dtype: .int32,
                            shape: [experts, rows, columns], strides: [aligned * columns, 1, aligned])
    try relaid.copy(from: sf)
    return relaid
}
