import DeepGEMMCore

/// DeepGEMM's `fp8_fp4_mega_moe(y, (w1, sf1), (w2, sf2), sym_buffer,
/// cumulative_local_expert_recv_stats=None, recipe=(1, 1, 32), activation='swiglu',
/// activation_clamp=None, fast_math=True)` (spec/megamoe-indexer.md §1.1, §1.5-1.10) for one rank:
/// a collective call every rank of the buffer's group makes with the same settings.
///
/// Before the call, the rank fills the first `y.size(0)` rows of `buffer.inputs` (x, x_sf,
/// topk_idx, topk_weights); peers read them during the call. The fused path (``MegaMoEFusedRank``)
/// dispatches, runs both expert GEMMs with the SwiGLU epilogue and combines; `y` and the stats are
/// bit-identical to the unfused pipeline
/// (``fp8FP4MegaMoEUnfused(inputs:weights:numExperts:cumulativeLocalExpertRecvStats:activationClamp:fastMath:settings:)``).
///
/// - `y`: BF16 [num_tokens, H] (any strides), num_tokens ≤ `buffer.numMaxTokensPerRank`; gets the
///   combined expert outputs (a token with every slot masked gets +0).
/// - `l1Weights`/`l2Weights`: this rank's experts as ``transformWeightsForMegaMoE(l1Weights:l2Weights:activation:)``
///   returns them: data packed FP4 int8 [E_l, 2I, H/2] and [E_l, H, I/2], contiguous; scales packed
///   UE8M0 Int32 [E_l, 2I, H/128] and [E_l, H, I/128], MN-major and TMA-aligned (stride(-2) = 1,
///   stride(-1) = align(rows, 4), stride(-3) = stride(-1)·size(-1)).
/// - `cumulativeLocalExpertRecvStats`: nil or a contiguous Int32 [E_l] tensor; each entry gets the
///   (token, slot) pairs its local expert received in this call added (never reset, wrapping).
/// - `recipe` must be (1, 1, 32), `activation` `swiglu`, `activationClamp` nil or ≥ 0; `fastMath`
///   as in ``swigluApplyWeightToFP8(_:topkWeights:activationClamp:fastMath:)``.
/// - `topk_idx` entries must be -1 or in 0..<E; at most R·T pairs of one rank may go to one expert.
/// - Runs on host tensors; tensors on a CUDA device throw ``DeepGEMMError/unsupported(argument:rule:)``
///   naming the op (no CUDA kernel yet).
///
/// Arguments are checked before anything is written. A rank whose arguments are rejected, or that
/// fails during the call, marks itself failed: its peers' calls fail at once with
/// ``RankFailure/peerFailed(rank:)`` (a rank that dies or never arrives: ``RankFailure/peerDied(rank:)``
/// or ``RankFailure/timedOut(rank:)`` after the buffer's timeout without progress from it), and the
/// group stays broken.
/// `settings.arch` must be `.sm100` (the default): DeepGEMM has Mega MoE on SM100 only, so the SM90
/// personality rejects the call with ``DeepGEMMError/unsupported(argument:rule:)`` naming `arch`.
public func fp8FP4MegaMoE(
    y: Tensor, l1Weights: QuantizedTensor, l2Weights: QuantizedTensor, buffer: MegaMoERankBuffer,
    cumulativeLocalExpertRecvStats: Tensor? = nil, recipe: [Int] = [1, 1, 32], activation: String = "swiglu",
    activationClamp: Double? = nil, fastMath: Bool = true, settings: DeepGEMMSettings = .default
) throws {
    try runCollective(buffer) {
        try fp8FP4MegaMoECall(y: y, l1Weights: l1Weights, l2Weights: l2Weights, buffer: buffer,
                              stats: cumulativeLocalExpertRecvStats, recipe: recipe, activation: activation,
                              activationClamp: activationClamp, fastMath: fastMath, settings: settings)
    }
}

/// DeepGEMM's `bf16_mega_moe(y, w1, w2, sym_buffer, cumulative_local_expert_recv_stats=None,
/// activation='swiglu', activation_clamp=None, fast_math=True)` (spec/megamoe-indexer.md §1.11)
/// for one rank, with the rules of
/// ``fp8FP4MegaMoE(y:l1Weights:l2Weights:buffer:cumulativeLocalExpertRecvStats:recipe:activation:activationClamp:fastMath:settings:)``;
/// bit-identical to ``bf16MegaMoEUnfused(inputs:l1Weights:l2Weights:numExperts:cumulativeLocalExpertRecvStats:activationClamp:fastMath:settings:)``.
///
/// - `l1Weights`: BF16 [E_l, 2I, H], contiguous, gate/up interleaved by
///   ``transformWeightsForMegaMoE(l1Weights:l2Weights:activation:)``; `l2Weights`: BF16 [E_l, H, I], contiguous.
/// - `buffer`: a `bf16xbf16` buffer.
public func bf16MegaMoE(
    y: Tensor, l1Weights: Tensor, l2Weights: Tensor, buffer: MegaMoERankBuffer,
    cumulativeLocalExpertRecvStats: Tensor? = nil, activation: String = "swiglu",
    activationClamp: Double? = nil, fastMath: Bool = true, settings: DeepGEMMSettings = .default
) throws {
    try runCollective(buffer) {
        try bf16MegaMoECall(y: y, l1Weights: l1Weights, l2Weights: l2Weights, buffer: buffer,
                            stats: cumulativeLocalExpertRecvStats, activation: activation,
                            activationClamp: activationClamp, fastMath: fastMath, settings: settings)
    }
}

/// ``fp8FP4MegaMoE(y:l1Weights:l2Weights:buffer:cumulativeLocalExpertRecvStats:recipe:activation:activationClamp:fastMath:settings:)``
/// for every thread rank of `buffer` in one call: index r of `y`, the weights and the stats is rank
/// r. Every rank's arguments are checked before any rank starts, so bad input leaves the buffer
/// usable; then one thread per rank runs the fused path. Throws the first rank's own error, or
/// else the first ``RankFailure``.
public func fp8FP4MegaMoE(
    y: [Tensor], l1Weights: [QuantizedTensor], l2Weights: [QuantizedTensor], buffer: MegaMoESymmetricBuffer,
    cumulativeLocalExpertRecvStats: [Tensor]? = nil, recipe: [Int] = [1, 1, 32], activation: String = "swiglu",
    activationClamp: Double? = nil, fastMath: Bool = true, settings: DeepGEMMSettings = .default
) throws {
    try requirePerRank(buffer, ("y", y.count), ("l1_weights", l1Weights.count), ("l2_weights", l2Weights.count),
                       ("cumulative_local_expert_recv_stats", cumulativeLocalExpertRecvStats?.count ?? buffer.numRanks))
    let calls = try buffer.ranks.indices.map { rank in
        try fp8FP4MegaMoECall(y: y[rank], l1Weights: l1Weights[rank], l2Weights: l2Weights[rank], buffer: buffer.ranks[rank],
                              stats: cumulativeLocalExpertRecvStats?[rank], recipe: recipe, activation: activation,
                              activationClamp: activationClamp, fastMath: fastMath, settings: settings)
    }
    try runOnRankThreads(calls)
}

/// ``bf16MegaMoE(y:l1Weights:l2Weights:buffer:cumulativeLocalExpertRecvStats:activation:activationClamp:fastMath:settings:)``
/// for every thread rank of `buffer` in one call, as the FP8×FP4 form
/// ``fp8FP4MegaMoE(y:l1Weights:l2Weights:buffer:cumulativeLocalExpertRecvStats:recipe:activation:activationClamp:fastMath:settings:)``
/// does it.
public func bf16MegaMoE(
    y: [Tensor], l1Weights: [Tensor], l2Weights: [Tensor], buffer: MegaMoESymmetricBuffer,
    cumulativeLocalExpertRecvStats: [Tensor]? = nil, activation: String = "swiglu",
    activationClamp: Double? = nil, fastMath: Bool = true, settings: DeepGEMMSettings = .default
) throws {
    try requirePerRank(buffer, ("y", y.count), ("l1_weights", l1Weights.count), ("l2_weights", l2Weights.count),
                       ("cumulative_local_expert_recv_stats", cumulativeLocalExpertRecvStats?.count ?? buffer.numRanks))
    let calls = try buffer.ranks.indices.map { rank in
        try bf16MegaMoECall(y: y[rank], l1Weights: l1Weights[rank], l2Weights: l2Weights[rank], buffer: buffer.ranks[rank],
                            stats: cumulativeLocalExpertRecvStats?[rank], activation: activation,
                            activationClamp: activationClamp, fastMath: fastMath, settings: settings)
    }
    try runOnRankThreads(calls)
}

/// One rank's collective call: checks its arguments with `makeCall` (a rejected call marks the rank
/// failed, so its peers stop waiting for it), then runs the fused path.
private func runCollective(_ buffer: MegaMoERankBuffer, _ makeCall: () throws -> MegaMoEFusedCall) throws {
    buffer.group.beginCall()
    let call: MegaMoEFusedCall
    do {
        call = try makeCall()
    } catch {
        buffer.group.markFailed()
        throw error
    }
    try MegaMoEFusedRank.run(call)
}

/// The checked FP8×FP4 call of one rank.
private func fp8FP4MegaMoECall(
    y: Tensor, l1Weights: QuantizedTensor, l2Weights: QuantizedTensor, buffer: MegaMoERankBuffer, stats: Tensor?,
    recipe: [Int], activation: String, activationClamp: Double?, fastMath: Bool, settings: DeepGEMMSettings
) throws -> MegaMoEFusedCall {
    try Device.requireHost(op: "fp8_fp4_mega_moe", [("y", y), ("l1_weights", l1Weights.data), ("l1_weights_sf", l1Weights.sf),
                                                     ("l2_weights", l2Weights.data), ("l2_weights_sf", l2Weights.sf), ("cumulative_local_expert_recv_stats", stats)])
    try requireSM100(settings)
    try DeepGEMMError.require(recipe == [1, 1, 32], "recipe", "must be (1, 1, 32), got \(recipe)")
    return try MegaMoEFusedCall(buffer: buffer, y: y, weights: .fp4(l1: l1Weights, l2: l2Weights), stats: stats,
                                activation: activation, activationClamp: activationClamp, fastMath: fastMath)
}

/// The checked BF16 call of one rank.
private func bf16MegaMoECall(
    y: Tensor, l1Weights: Tensor, l2Weights: Tensor, buffer: MegaMoERankBuffer, stats: Tensor?,
    activation: String, activationClamp: Double?, fastMath: Bool, settings: DeepGEMMSettings
) throws -> MegaMoEFusedCall {
    try Device.requireHost(op: "bf16_mega_moe", [("y", y), ("l1_weights", l1Weights), ("l2_weights", l2Weights),
                                                  ("cumulative_local_expert_recv_stats", stats)])
    try requireSM100(settings)
    return try MegaMoEFusedCall(buffer: buffer, y: y, weights: .bf16(l1: l1Weights, l2: l2Weights), stats: stats,
                                activation: activation, activationClamp: activationClamp, fastMath: fastMath)
}

/// Throws unless the architecture personality is SM100, the only one with Mega MoE.
private func requireSM100(_ settings: DeepGEMMSettings) throws {
    guard settings.arch == .sm100 else {
        throw DeepGEMMError.unsupported(argument: "arch", rule: "Mega MoE exists on SM100 only")
    }
}

/// Throws unless every per-rank array holds one entry per rank of `buffer`.
private func requirePerRank(_ buffer: MegaMoESymmetricBuffer, _ arrays: (String, Int)...) throws {
    for (name, count) in arrays {
        try DeepGEMMError.require(count == buffer.numRanks, name, "must hold one entry per rank (\(buffer.numRanks)), got \(count)")
    }
}

/// Runs each checked call on its own thread and waits for all; rethrows the first error that is
/// not a ``RankFailure`` (the cause), else the first one.
private func runOnRankThreads(_ calls: [MegaMoEFusedCall]) throws {
    let outcomes = try RankThread.runAll(calls.count, unstarted: { missing in
        for rank in missing { calls[rank].buffer.group.markFailed() }
    }) { rank in try MegaMoEFusedRank.run(calls[rank]) }
    let errors = outcomes.compactMap { outcome -> (any Error)? in
        if case .failure(let error) = outcome { return error }
        return nil
    }
    if let cause = errors.first(where: { !($0 is RankFailure) }) ?? errors.first { throw cause }
}
