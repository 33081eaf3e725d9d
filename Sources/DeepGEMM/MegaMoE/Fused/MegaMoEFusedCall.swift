import DeepGEMMCore

/// One rank's arguments of a fused Mega MoE call, checked, plus the routing of its own tokens:
/// everything the rank can know before it talks to its peers.
struct MegaMoEFusedCall: Sendable {
    /// The expert weights as the caller passed them (transformed by `transform_weights_for_mega_moe`).
    enum Weights: Sendable {
        /// Packed FP4 data with MN-major, UTCCP-transposed packed UE8M0 scales.
        case fp4(l1: QuantizedTensor, l2: QuantizedTensor)
        /// BF16 weights, L1 gate/up interleaved.
        case bf16(l1: Tensor, l2: Tensor)
    }

    let buffer: MegaMoERankBuffer
    /// BF16 [num_tokens, H], any strides.
    let y: Tensor
    let weights: Weights
    /// Int32 [E_l], contiguous, or nil.
    let stats: Tensor?
    /// C' = bf16(C), or nil for no clamp.
    let clamp: Float?
    let fastMath: Bool
    /// num_tokens of this rank.
    let numTokens: Int
    /// For destination rank d and local expert le, index d·E_l + le: the `token · k + slot` of
    /// every valid slot of this rank's tokens routed there, in token order.
    let routes: [[UInt32]]

    /// Checks the arguments shared by both MMA types and routes this rank's tokens. Reads
    /// `topk_idx` from the buffer (its first `y.size(0)` rows).
    init(buffer: MegaMoERankBuffer, y: Tensor, weights: Weights, stats: Tensor?, activation: String,
         activationClamp: Double?, fastMath: Bool) throws {
        let (r, e, h, i) = (buffer.rank, buffer.numLocalExperts, buffer.hidden, buffer.intermediateHidden)
        try MegaMoEWeightLayout.checkActivation(activation)
        clamp = try SwiGLUApplyWeightProblem.bf16Clamp(activationClamp)
        try DeepGEMMError.require(y.dtype == .bfloat16, "y", "rank \(r): must be bfloat16, got \(y.dtype)")
        try DeepGEMMError.require(y.rank == 2 && y.size(1) == h, "y", "rank \(r): must be [num_tokens, \(h)], got shape \(y.shape)")
        let tokens = y.size(0)
        try DeepGEMMError.require(tokens <= buffer.numMaxTokensPerRank, "y",
                                  "rank \(r): num_tokens must be at most num_max_tokens_per_rank (\(buffer.numMaxTokensPerRank)), got \(tokens)")
        switch weights {
        case .fp4(let l1, let l2):
            try DeepGEMMError.require(buffer.mmaType == .fp8xfp4, "sym_buffer", "must be an fp8xfp4 buffer, got \(buffer.mmaType.rawValue)")
            try Self.checkTransformedFP4Weight(l1, "l1_weights", rank: r, shape: [e, 2 * i, h])
            try Self.checkTransformedFP4Weight(l2, "l2_weights", rank: r, shape: [e, h, i])
        case .bf16(let l1, let l2):
            try DeepGEMMError.require(buffer.mmaType == .bf16xbf16, "sym_buffer", "must be a bf16xbf16 buffer, got \(buffer.mmaType.rawValue)")
            try Self.checkWeight(l1, "l1_weights", rank: r, dtype: .bfloat16, shape: [e, 2 * i, h])
            try Self.checkWeight(l2, "l2_weights", rank: r, dtype: .bfloat16, shape: [e, h, i])
        }
        if let stats {
            try DeepGEMMError.require(stats.dtype == .int32 && stats.shape == [e] && stats.isContiguous, "cumulative_local_expert_recv_stats",
                                      "rank \(r): must be a contiguous int32 [\(e)] tensor, got \(stats.dtype) \(stats.shape) strides \(stats.strides)")
        }
        routes = try Self.route(buffer: buffer, tokens: tokens)
        (self.buffer, self.y, self.weights, self.stats, self.fastMath, numTokens) = (buffer, y, weights, stats, fastMath, tokens)
    }

    /// Groups this rank's valid (token, slot) pairs by destination rank and local expert.
    private static func route(buffer: MegaMoERankBuffer, tokens: Int) throws -> [[UInt32]] {
        let (k, experts) = (buffer.numTopk, buffer.numExperts)
        let capacity = buffer.numRanks * buffer.numMaxTokensPerRank
        var routes = [[UInt32]](repeating: [], count: experts)
        let indices = buffer.inputs.topkIdx.dataPointer.assumingMemoryBound(to: Int64.self)
        for pair in 0..<(tokens * k) {
            let expert = indices[pair]
            if expert == -1 { continue }
            try DeepGEMMError.require(expert >= 0 && expert < Int64(experts), "topk_idx",
                                      "rank \(buffer.rank): entries must be -1 (masked) or in 0..<\(experts), got \(expert)")
            routes[Int(expert)].append(UInt32(pair))
        }
        for (expert, list) in routes.enumerated() {
            try DeepGEMMError.require(list.count <= capacity, "topk_idx",
                                      "rank \(buffer.rank) sends \(list.count) pairs to expert \(expert); at most R·T = \(capacity) fit (repeated experts in a token's slots?)")
        }
        return routes
    }

    /// Checks one rank's transformed FP4 weight of logical shape [E_l, rows, K]: data int8
    /// [E_l, rows, K/2] contiguous, scales Int32 [E_l, rows, K/128] MN-major and TMA-aligned.
    static func checkTransformedFP4Weight(_ weight: QuantizedTensor, _ name: String, rank: Int, shape: [Int]) throws {
        let (experts, rows, k) = (shape[0], shape[1], shape[2])
        try checkWeight(weight.data, name, rank: rank, dtype: .int8, shape: [experts, rows, k / 2])
        let sf = weight.sf
        try DeepGEMMError.require(sf.dtype == .int32 && sf.shape == [experts, rows, k / 128], name,
                                  "rank \(rank): scale factors must be packed UE8M0 int32 [\(experts), \(rows), \(k / 128)], got \(sf.dtype) \(sf.shape)")
        try DeepGEMMError.require(sf.stride(-2) == 1 && sf.stride(-1) == align(rows, 4) && sf.stride(-3) == sf.stride(-1) * sf.size(-1), name,
                                  "rank \(rank): scale factors must be MN-major and TMA-aligned (strides [\(align(rows, 4) * (k / 128)), 1, \(align(rows, 4))]), got \(sf.strides)")
    }

    /// Throws unless `tensor` has `dtype` and `shape` and is contiguous (DeepGEMM's K-major,
    /// contiguous weight rule), naming `name` and the rank.
    static func checkWeight(_ tensor: Tensor, _ name: String, rank: Int, dtype: DType, shape: [Int]) throws {
        try DeepGEMMError.require(tensor.dtype == dtype && tensor.shape == shape, name,
                                  "rank \(rank): must be \(dtype) \(shape), got \(tensor.dtype) \(tensor.shape)")
        try DeepGEMMError.require(tensor.isContiguous, name, "rank \(rank): must be contiguous (K-major), got strides \(tensor.strides)")
    }
}
