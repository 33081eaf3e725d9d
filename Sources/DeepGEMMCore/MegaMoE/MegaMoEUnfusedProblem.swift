/// The validated sizes of one unfused Mega MoE step over R ranks held in one process
/// (spec/megamoe-indexer.md §1.1, §1.2, §1.10, §1.11): every argument rule, checked before anything
/// is computed or written.
public struct MegaMoEUnfusedProblem: Sendable, Equatable {
    /// R, the number of ranks.
    public let numRanks: Int
    /// E, the number of experts over all ranks.
    public let numExperts: Int
    /// E_l = E / R, experts per rank.
    public var numLocalExperts: Int { numExperts / numRanks }
    /// H, the hidden size.
    public let hidden: Int
    /// I, the intermediate size.
    public let intermediate: Int
    /// k, the top-k slots per token.
    public let numTopk: Int
    /// T_r, the tokens of each rank.
    public let numTokens: [Int]

    /// The largest top-k the kernels take.
    public static let maxTopk = 32

    /// Checks the per-rank FP8×FP4 arguments (index r of every array is rank r).
    ///
    /// - `x`: FP8 E4M3 [T_r, H] with `xSF` packed UE8M0 Int32 [T_r, H/128] (32-element groups).
    /// - `topkIdx`: Int64 [T_r, k], entries -1 (masked) or in 0..<E; `topkWeights`: F32 [T_r, k].
    /// - `l1`/`l1SF`: packed FP4 (int8) [E_l, 2I, H/2] and Int32 [E_l, 2I, H/128];
    ///   `l2`/`l2SF`: int8 [E_l, H, I/2] and Int32 [E_l, H, I/128]; H and I multiples of 128.
    /// - `stats`: nil, or one Int32 [E_l] contiguous tensor per rank.
    public init(x: [Tensor], xSF: [Tensor], topkIdx: [Tensor], topkWeights: [Tensor], l1: [Tensor], l1SF: [Tensor],
                l2: [Tensor], l2SF: [Tensor], numExperts: Int, stats: [Tensor]?) throws {
        for (name, count) in [("x_sf", xSF.count), ("l1_weights", l1SF.count), ("l2_weights", l2SF.count)] {
            try DeepGEMMError.require(count == x.count, name, "must hold one entry per rank (\(x.count)), got \(count)")
        }
        try self.init(x: x, topkIdx: topkIdx, topkWeights: topkWeights, l1: l1, l2: l2, numExperts: numExperts, stats: stats,
                      intermediateOfL2: { 2 * $0.size(2) }, granularity: 128)
        for r in 0..<numRanks {
            let (t, e) = (numTokens[r], numLocalExperts)
            try Self.check(x[r], "x", .float8E4M3, [t, hidden], rank: r)
            try Self.check(xSF[r], "x_sf", .int32, [t, hidden / 128], rank: r)
            try Self.check(l1[r], "l1_weights", .int8, [e, 2 * intermediate, hidden / 2], rank: r)
            try Self.check(l1SF[r], "l1_weights", .int32, [e, 2 * intermediate, hidden / 128], rank: r)
            try Self.check(l2[r], "l2_weights", .int8, [e, hidden, intermediate / 2], rank: r)
            try Self.check(l2SF[r], "l2_weights", .int32, [e, hidden, intermediate / 128], rank: r)
        }
    }

    /// Checks the per-rank BF16 arguments of `bf16_mega_moe` (§1.11): `x` BF16 [T_r, H], `l1` BF16
    /// [E_l, 2I, H], `l2` BF16 [E_l, H, I] with H and I multiples of 64; topk and stats as for FP8×FP4.
    public init(bf16X x: [Tensor], topkIdx: [Tensor], topkWeights: [Tensor], l1: [Tensor], l2: [Tensor],
                numExperts: Int, stats: [Tensor]?) throws {
        try self.init(x: x, topkIdx: topkIdx, topkWeights: topkWeights, l1: l1, l2: l2, numExperts: numExperts, stats: stats,
                      intermediateOfL2: { $0.size(2) }, granularity: 64)
        for r in 0..<numRanks {
            let (t, e) = (numTokens[r], numLocalExperts)
            try Self.check(x[r], "x", .bfloat16, [t, hidden], rank: r)
            try Self.check(l1[r], "l1_weights", .bfloat16, [e, 2 * intermediate, hidden], rank: r)
            try Self.check(l2[r], "l2_weights", .bfloat16, [e, hidden, intermediate], rank: r)
        }
    }

    /// The rules shared by both forms: rank counts, E % R, H and I multiples of `granularity`, k in
    /// 1...32, topk shapes, dtypes and values, and the stats tensors.
    private init(x: [Tensor], topkIdx: [Tensor], topkWeights: [Tensor], l1: [Tensor], l2: [Tensor], numExperts: Int, stats: [Tensor]?,
                 intermediateOfL2: (Tensor) -> Int, granularity: Int) throws {
        let ranks = x.count
        try DeepGEMMError.require(ranks > 0, "x", "at least one rank is needed")
        for (name, count) in [("topk_idx", topkIdx.count), ("topk_weights", topkWeights.count), ("l1_weights", l1.count),
                              ("l2_weights", l2.count), ("cumulative_local_expert_recv_stats", stats?.count ?? ranks)] {
            try DeepGEMMError.require(count == ranks, name, "must hold one entry per rank (\(ranks)), got \(count)")
        }
        try DeepGEMMError.require(numExperts > 0 && numExperts % ranks == 0, "num_experts",
                                  "must be a positive multiple of the number of ranks (\(ranks)), got \(numExperts)")
        let localExperts = numExperts / ranks
        try DeepGEMMError.require(x[0].rank == 2, "x", "must be 2-D [num_tokens, hidden], got shape \(x[0].shape)")
        try DeepGEMMError.require(l2[0].rank == 3, "l2_weights", "must be 3-D [E_l, hidden, k], got shape \(l2[0].shape)")
        let hidden = x[0].size(1), intermediate = intermediateOfL2(l2[0])
        try DeepGEMMError.require(hidden > 0 && hidden % granularity == 0, "x", "hidden must be a positive multiple of \(granularity), got \(hidden)")
        try DeepGEMMError.require(intermediate > 0 && intermediate % granularity == 0, "l2_weights",
                                  "intermediate must be a positive multiple of \(granularity), got \(intermediate)")
        try DeepGEMMError.require(topkIdx[0].rank == 2, "topk_idx", "must be 2-D [num_tokens, num_topk], got shape \(topkIdx[0].shape)")
        let topk = topkIdx[0].size(1)
        try DeepGEMMError.require(topk > 0 && topk <= MegaMoEUnfusedProblem.maxTopk, "topk_idx",
                                  "num_topk must be in 1...\(MegaMoEUnfusedProblem.maxTopk), got \(topk)")
        var tokens = [Int]()
        for r in 0..<ranks {
            let t = x[r].size(0)
            try Self.check(topkIdx[r], "topk_idx", .int64, [t, topk], rank: r)
            try Self.check(topkWeights[r], "topk_weights", .float32, [t, topk], rank: r)
            for value in try topkIdx[r].elements(as: Int64.self) {
                try DeepGEMMError.require(value >= -1 && value < Int64(numExperts), "topk_idx",
                                          "rank \(r): entries must be -1 (masked) or in 0..<\(numExperts), got \(value)")
            }
            if let stats {
                try Self.check(stats[r], "cumulative_local_expert_recv_stats", .int32, [localExperts], rank: r)
                try DeepGEMMError.require(stats[r].isContiguous, "cumulative_local_expert_recv_stats", "rank \(r): must be contiguous")
            }
            tokens.append(t)
        }
        (numRanks, self.numExperts, self.hidden, self.intermediate, numTopk, numTokens) = (ranks, numExperts, hidden, intermediate, topk, tokens)
    }

    /// Throws unless `tensor` has `dtype` and `shape`, naming `name` and the rank.
    private static func check(_ tensor: Tensor, _ name: String, _ dtype: DType, _ shape: [Int], rank: Int) throws {
        try DeepGEMMError.require(tensor.dtype == dtype, name, "rank \(rank): must be \(dtype), got \(tensor.dtype)")
        try DeepGEMMError.require(tensor.shape == shape, name, "rank \(rank): must have shape \(shape), got \(tensor.shape)")
    }
}
