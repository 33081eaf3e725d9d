import DeepGEMMCore

/// DeepGEMM's `fp8_fp4_mega_moe(y, (w1, sf1), (w2, sf2), sym_buffer,
/// cumulative_local_expert_recv_stats=None, recipe=(1, 1, 32), activation='swiglu',
/// activation_clamp=None, fast_math=True)` (spec/megamoe-indexer.md §1.1, §1.5, §1.8-1.10) for
/// every thread rank of `buffer` in one call.
///
/// The fused path is not implemented yet; results are those of the unfused pipeline
/// (``fp8FP4MegaMoEUnfused(inputs:weights:numExperts:cumulativeLocalExpertRecvStats:activationClamp:fastMath:settings:)``),
/// which the fused path must match bit for bit.
///
/// Swift adaptations: one call stands for the R per-rank calls, so `y`, the weights and the stats
/// are arrays indexed by rank; the inputs of rank r are the first `y[r].size(0)` rows of
/// `buffer.inputs[r]`, which the caller fills before the call as with DeepGEMM.
///
/// - `y`: per rank, BF16 [num_tokens_r, H] with num_tokens_r ≤ `buffer.numMaxTokensPerRank`;
///   overwritten with the combined expert outputs (a token with every slot masked gets +0).
/// - `l1Weights`/`l2Weights`: per rank, the output of
///   ``transformWeightsForMegaMoE(l1Weights:l2Weights:activation:)``: data packed FP4 int8
///   [E_l, 2I, H/2] and [E_l, H, I/2], contiguous; scales packed UE8M0 Int32 [E_l, 2I, H/128] and
///   [E_l, H, I/128], MN-major and TMA-aligned (stride(-2) = 1, stride(-1) = align(rows, 4),
///   stride(-3) = stride(-1)·size(-1)). The transform's row permutations are undone exactly
///   before the unfused pipeline runs.
/// - `cumulativeLocalExpertRecvStats`: nil, or per rank a contiguous Int32 [E_l] tensor that gets
///   the (token, slot) pairs each local expert received added (never reset).
/// - `recipe` must be (1, 1, 32), `activation` `swiglu`, `activationClamp` nil or ≥ 0.
/// - `buffer`: an FP8×FP4 buffer from ``getSymmBufferForMegaMoE(numExperts:numMaxTokensPerRank:numTopk:hidden:intermediateHidden:numRanks:useFP8Dispatch:mmaType:activation:)``.
/// - `backend`: `.cpu` or `.auto`; `.cuda` throws ``DeepGEMMError/backendUnavailable(backend:reason:)``.
///
/// Every argument is checked before `y` or the stats are written.
public func fp8FP4MegaMoE(
    y: [Tensor], l1Weights: [QuantizedTensor], l2Weights: [QuantizedTensor], buffer: MegaMoESymmetricBuffer,
    cumulativeLocalExpertRecvStats: [Tensor]? = nil, recipe: [Int] = [1, 1, 32], activation: String = "swiglu",
    activationClamp: Double? = nil, fastMath: Bool = true, settings: DeepGEMMSettings = .default, backend: Backend = .auto
) throws {
    try requireCPUBackend(backend, op: "fp8_fp4_mega_moe")
    try DeepGEMMError.require(buffer.mmaType == .fp8xfp4, "sym_buffer", "must be an fp8xfp4 buffer, got \(buffer.mmaType.rawValue)")
    try DeepGEMMError.require(recipe == [1, 1, 32], "recipe", "must be (1, 1, 32), got \(recipe)")
    try MegaMoEWeightLayout.checkActivation(activation)
    let tokens = try megaMoETokenCounts(y, buffer: buffer)
    let (e, h, i) = (buffer.numLocalExperts, buffer.hidden, buffer.intermediateHidden)
    for (name, count) in [("l1_weights", l1Weights.count), ("l2_weights", l2Weights.count)] {
        try DeepGEMMError.require(count == buffer.numRanks, name, "must hold one entry per rank (\(buffer.numRanks)), got \(count)")
    }
    let weights = try (0..<buffer.numRanks).map { rank in
        try checkTransformedFP4Weight(l1Weights[rank], "l1_weights", rank: rank, shape: [e, 2 * i, h])
        try checkTransformedFP4Weight(l2Weights[rank], "l2_weights", rank: rank, shape: [e, h, i])
        let interleave = { (row: Int) in MegaMoEWeightLayout.interleavedSourceRow(row, intermediate: i) }
        let l1 = QuantizedTensor(data: try scatteringRows(l1Weights[rank].data, interleave),
                                 sf: try scatteringRows(l1Weights[rank].sf) { interleave(MegaMoEWeightLayout.utccpSourceRow($0)) })
        let l2 = QuantizedTensor(data: l2Weights[rank].data, sf: try scatteringRows(l2Weights[rank].sf, MegaMoEWeightLayout.utccpSourceRow))
        return MegaMoERankWeights(l1: l1, l2: l2)
    }
    let inputs = try buffer.inputs.enumerated().map { rank, view in
        guard let xSF = view.xSF else { preconditionFailure("fp8xfp4 buffers carry x_sf") }
        let t = tokens[rank]
        return MegaMoERankInput(x: QuantizedTensor(data: try view.x.narrow(dim: 0, start: 0, length: t),
                                                   sf: try xSF.narrow(dim: 0, start: 0, length: t)),
                                topkIdx: try view.topkIdx.narrow(dim: 0, start: 0, length: t),
                                topkWeights: try view.topkWeights.narrow(dim: 0, start: 0, length: t))
    }
    let results = try fp8FP4MegaMoEUnfused(inputs: inputs, weights: weights, numExperts: buffer.numExperts,
                                           cumulativeLocalExpertRecvStats: cumulativeLocalExpertRecvStats,
                                           activationClamp: activationClamp, fastMath: fastMath, settings: settings)
    for (output, result) in zip(y, results) { try output.copy(from: result) }
}

/// DeepGEMM's `bf16_mega_moe(y, w1, w2, sym_buffer, cumulative_local_expert_recv_stats=None,
/// activation='swiglu', activation_clamp=None, fast_math=True)` (spec/megamoe-indexer.md §1.11)
/// for every thread rank of `buffer` in one call, with the adaptations of
/// ``fp8FP4MegaMoE(y:l1Weights:l2Weights:buffer:cumulativeLocalExpertRecvStats:recipe:activation:activationClamp:fastMath:settings:backend:)``.
///
/// The fused path is not implemented yet; results are those of the unfused pipeline
/// (``bf16MegaMoEUnfused(inputs:l1Weights:l2Weights:numExperts:cumulativeLocalExpertRecvStats:activationClamp:fastMath:settings:)``),
/// which the fused path must match bit for bit.
///
/// - `l1Weights[r]`: BF16 [E_l, 2I, H], contiguous, gate/up interleaved by
///   ``transformWeightsForMegaMoE(l1Weights:l2Weights:activation:)`` (undone exactly before the
///   pipeline runs); `l2Weights[r]`: BF16 [E_l, H, I], contiguous.
/// - `buffer`: a BF16 buffer (`mma_type` `bf16xbf16`); `y`, stats, `activation`, clamp and
///   `backend` as for FP8×FP4.
public func bf16MegaMoE(
    y: [Tensor], l1Weights: [Tensor], l2Weights: [Tensor], buffer: MegaMoESymmetricBuffer,
    cumulativeLocalExpertRecvStats: [Tensor]? = nil, activation: String = "swiglu",
    activationClamp: Double? = nil, fastMath: Bool = true, settings: DeepGEMMSettings = .default, backend: Backend = .auto
) throws {
    try requireCPUBackend(backend, op: "bf16_mega_moe")
    try DeepGEMMError.require(buffer.mmaType == .bf16xbf16, "sym_buffer", "must be a bf16xbf16 buffer, got \(buffer.mmaType.rawValue)")
    try MegaMoEWeightLayout.checkActivation(activation)
    let tokens = try megaMoETokenCounts(y, buffer: buffer)
    let (e, h, i) = (buffer.numLocalExperts, buffer.hidden, buffer.intermediateHidden)
    for (name, count) in [("l1_weights", l1Weights.count), ("l2_weights", l2Weights.count)] {
        try DeepGEMMError.require(count == buffer.numRanks, name, "must hold one entry per rank (\(buffer.numRanks)), got \(count)")
    }
    let l1 = try (0..<buffer.numRanks).map { rank in
        for (name, weight, shape) in [("l1_weights", l1Weights[rank], [e, 2 * i, h]), ("l2_weights", l2Weights[rank], [e, h, i])] {
            try requireMegaMoEWeight(weight, name, rank: rank, dtype: .bfloat16, shape: shape)
        }
        return try scatteringRows(l1Weights[rank]) { MegaMoEWeightLayout.interleavedSourceRow($0, intermediate: i) }
    }
    let inputs = try buffer.inputs.enumerated().map { rank, view in
        let t = tokens[rank]
        return MegaMoEBF16RankInput(x: try view.x.narrow(dim: 0, start: 0, length: t),
                                    topkIdx: try view.topkIdx.narrow(dim: 0, start: 0, length: t),
                                    topkWeights: try view.topkWeights.narrow(dim: 0, start: 0, length: t))
    }
    let results = try bf16MegaMoEUnfused(inputs: inputs, l1Weights: l1, l2Weights: l2Weights, numExperts: buffer.numExperts,
                                         cumulativeLocalExpertRecvStats: cumulativeLocalExpertRecvStats,
                                         activationClamp: activationClamp, fastMath: fastMath, settings: settings)
    for (output, result) in zip(y, results) { try output.copy(from: result) }
}

/// Checks `y` (one BF16 [num_tokens_r, H] tensor per rank, num_tokens_r ≤ T) and returns each
/// rank's token count.
private func megaMoETokenCounts(_ y: [Tensor], buffer: MegaMoESymmetricBuffer) throws -> [Int] {
    try DeepGEMMError.require(y.count == buffer.numRanks, "y", "must hold one entry per rank (\(buffer.numRanks)), got \(y.count)")
    return try y.enumerated().map { rank, output in
        try DeepGEMMError.require(output.dtype == .bfloat16, "y", "rank \(rank): must be bfloat16, got \(output.dtype)")
        try DeepGEMMError.require(output.rank == 2 && output.size(1) == buffer.hidden, "y",
                                  "rank \(rank): must be [num_tokens, \(buffer.hidden)], got shape \(output.shape)")
        try DeepGEMMError.require(output.size(0) <= buffer.numMaxTokensPerRank, "y",
                                  "rank \(rank): num_tokens must be at most num_max_tokens_per_rank (\(buffer.numMaxTokensPerRank)), got \(output.size(0))")
        return output.size(0)
    }
}

/// Checks one rank's transformed FP4 weight of logical shape `shape` = [E_l, rows, K]: data int8
/// [E_l, rows, K/2] contiguous, scales Int32 [E_l, rows, K/128] MN-major and TMA-aligned.
private func checkTransformedFP4Weight(_ weight: QuantizedTensor, _ name: String, rank: Int, shape: [Int]) throws {
    let (experts, rows, k) = (shape[0], shape[1], shape[2])
    try requireMegaMoEWeight(weight.data, name, rank: rank, dtype: .int8, shape: [experts, rows, k / 2])
    let sf = weight.sf
    try DeepGEMMError.require(sf.dtype == .int32 && sf.shape == [experts, rows, k / 128], name,
                              "rank \(rank): scale factors must be packed UE8M0 int32 [\(experts), \(rows), \(k / 128)], got \(sf.dtype) \(sf.shape)")
    try DeepGEMMError.require(sf.stride(-2) == 1 && sf.stride(-1) == align(rows, 4) && sf.stride(-3) == sf.stride(-1) * sf.size(-1), name,
                              "rank \(rank): scale factors must be MN-major and TMA-aligned (strides [\(align(rows, 4) * (k / 128)), 1, \(align(rows, 4))]), got \(sf.strides)")
}

/// Throws unless `tensor` has `dtype` and `shape` and is contiguous (DeepGEMM's K-major,
/// contiguous weight rule), naming `name` and the rank.
private func requireMegaMoEWeight(_ tensor: Tensor, _ name: String, rank: Int, dtype: DType, shape: [Int]) throws {
    try DeepGEMMError.require(tensor.dtype == dtype && tensor.shape == shape, name,
                              "rank \(rank): must be \(dtype) \(shape), got \(tensor.dtype) \(tensor.shape)")
    try DeepGEMMError.require(tensor.isContiguous, name, "rank \(rank): must be contiguous (K-major), got strides \(tensor.strides)")
}

/// A new tensor with `source`'s shape and (dense) strides whose row `destinationRow(n)` of each
/// group is `source`'s row n: the inverse of a per-group row gather by the bijection
/// `destinationRow`, which is how the rows of ``transformWeightsForMegaMoE(l1Weights:l2Weights:activation:)``
/// go back to their original places.
private func scatteringRows(_ source: Tensor, _ destinationRow: (Int) -> Int) throws -> Tensor {
    let result = try Tensor(storage: TensorStorage(byteCount: source.byteCount), dtype: source.dtype, shape: source.shape, strides: source.strides)
    for group in 0..<source.size(0) {
        let from = try source.select(dim: 0, index: group), to = try result.select(dim: 0, index: group)
        for row in 0..<source.size(1) {
            try to.select(dim: 0, index: destinationRow(row)).copy(from: from.select(dim: 0, index: row))
        }
    }
    return result
}
