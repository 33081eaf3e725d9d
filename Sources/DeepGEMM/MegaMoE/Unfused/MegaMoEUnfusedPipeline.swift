/// One rank's token inputs to Mega MoE: what the caller copies into the symmetric buffer's `x`,
/// `x_sf`, `topk_idx` and `topk_weights` views (spec/megamoe-indexer.md §1.1-1.2).
public struct MegaMoERankInput: Sendable {
    /// FP8 E4M3 [T, H] with packed UE8M0 scales Int32 [T, H/128] (one byte per 32 elements).
    public var x: QuantizedTensor
    /// Int64 [T, k], the global expert of each slot or -1 for a masked slot.
    public var topkIdx: Tensor
    /// F32 [T, k], the routing weight of each slot (masked slots are never read).
    public var topkWeights: Tensor

    /// Bundles one rank's inputs.
    public init(x: QuantizedTensor, topkIdx: Tensor, topkWeights: Tensor) {
        self.x = x
        self.topkIdx = topkIdx
        self.topkWeights = topkWeights
    }
}

/// One rank's expert weights, untransformed (gate rows [0, I), up rows [I, 2I) in L1).
public struct MegaMoERankWeights: Sendable {
    /// Packed FP4 int8 [E_l, 2I, H/2] with packed UE8M0 scales Int32 [E_l, 2I, H/128].
    public var l1: QuantizedTensor
    /// Packed FP4 int8 [E_l, H, I/2] with packed UE8M0 scales Int32 [E_l, H, I/128].
    public var l2: QuantizedTensor

    /// Bundles one rank's weights.
    public init(l1: QuantizedTensor, l2: QuantizedTensor) {
        self.l1 = l1
        self.l2 = l2
    }
}

/// The unfused FP8×FP4 Mega MoE over R ranks in one process, built from the library's own ops
/// (spec/megamoe-indexer.md §1.5 and §1.7, the baseline of `tests/test_mega_moe.py`). Index r of
/// `inputs`, `weights` and `cumulativeLocalExpertRecvStats` is rank r; expert e lives on rank
/// e / E_l as local expert e % E_l.
///
/// 1. Dispatch: every valid (token, slot) becomes one row on its expert's rank, experts in PSUM
///    layout with groups aligned to `settings.mkAlignmentForContiguousLayout` (``MegaMoEDispatchPlan``).
/// 2. L1: ``mGroupedFP8FP4GEMMContiguous(_:a:b:d:groupedLayout:recipe:recipeA:recipeB:compiledDims:disableUE8M0Cast:usePsumLayout:ensureZeroPadding:expectedMForPsumLayout:settings:strictArch:)``
///    with recipe (1, 1, 32), BF16 output (one RN of the FP32 accumulator), over each expert's
///    received rows only (`ensureZeroPadding: false`: the combine never reads the alignment gaps,
///    which at small batch would be most of the rows).
/// 3. ``swigluApplyWeightToFP8(_:topkWeights:activationClamp:fastMath:)`` with each row's weight.
/// 4. L2: the same grouped GEMM on the FP8 activations.
/// 5. Combine (``megaMoECombine(destinations:outputs:hidden:)``): per token, a binary32 sum from
///    +0 over the valid slots in ascending slot order, then one RN to BF16.
///
/// Returns y, BF16 [T_r, H], per rank. When given, `cumulativeLocalExpertRecvStats[r]` (Int32
/// [E_l]) gets, per local expert, the number of (token, slot) pairs it received in this call added
/// (wrapping), after everything else succeeded. Every argument is checked before anything is written.
public func fp8FP4MegaMoEUnfused(
    inputs: [MegaMoERankInput], weights: [MegaMoERankWeights], numExperts: Int,
    cumulativeLocalExpertRecvStats: [Tensor]? = nil, activationClamp: Double? = nil, fastMath: Bool = true,
    settings: DeepGEMMSettings = .default
) throws -> [Tensor] {
    let problem = try MegaMoEUnfusedProblem(
        x: inputs.map(\.x.data), xSF: inputs.map(\.x.sf), topkIdx: inputs.map(\.topkIdx), topkWeights: inputs.map(\.topkWeights),
        l1: weights.map(\.l1.data), l1SF: weights.map(\.l1.sf), l2: weights.map(\.l2.data), l2SF: weights.map(\.l2.sf),
        numExperts: numExperts, stats: cumulativeLocalExpertRecvStats)
    _ = try SwiGLUApplyWeightProblem.bf16Clamp(activationClamp)
    return try runMegaMoEUnfused(problem, x: inputs.map(\.x.data), xSF: inputs.map(\.x.sf), topkIdx: inputs.map(\.topkIdx),
                                 topkWeights: inputs.map(\.topkWeights), stats: cumulativeLocalExpertRecvStats, settings: settings) { rank, rows, layout in
        guard let sf = rows.sf else { preconditionFailure("FP8 rows are gathered with their scale factors") }
        let l1Out = Tensor(zeros: [rows.data.size(0), 2 * problem.intermediate], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMContiguous(.nt, a: QuantizedTensor(data: rows.data, sf: sf), b: weights[rank].l1, d: l1Out,
                                         groupedLayout: layout, recipe: [1, 1, 32], usePsumLayout: true, ensureZeroPadding: false, settings: settings)
        let activations = try swigluApplyWeightToFP8(l1Out, topkWeights: rows.weights, activationClamp: activationClamp,
                                                     fastMath: fastMath)
        let l2Out = Tensor(zeros: [rows.data.size(0), problem.hidden], dtype: .bfloat16)
        try mGroupedFP8FP4GEMMContiguous(.nt, a: activations, b: weights[rank].l2, d: l2Out,
                                         groupedLayout: layout, recipe: [1, 1, 32], usePsumLayout: true, ensureZeroPadding: false, settings: settings)
        return l2Out
    }
}

/// One rank's token inputs to `bf16_mega_moe`: `x` BF16 [T, H] and the top-k routing as in
/// ``MegaMoERankInput``.
public struct MegaMoEBF16RankInput: Sendable {
    /// BF16 [T, H].
    public var x: Tensor
    /// Int64 [T, k], the global expert of each slot or -1 for a masked slot.
    public var topkIdx: Tensor
    /// F32 [T, k], the routing weight of each slot.
    public var topkWeights: Tensor

    /// Bundles one rank's inputs.
    public init(x: Tensor, topkIdx: Tensor, topkWeights: Tensor) {
        self.x = x
        self.topkIdx = topkIdx
        self.topkWeights = topkWeights
    }
}

/// The unfused BF16 Mega MoE (spec/megamoe-indexer.md §1.11): the steps of
/// ``fp8FP4MegaMoEUnfused(inputs:weights:numExperts:cumulativeLocalExpertRecvStats:activationClamp:fastMath:settings:)``
/// with ``mGroupedBF16GEMMContiguous(_:a:b:d:groupedLayout:compiledDims:usePsumLayout:ensureZeroPadding:expectedMForPsumLayout:settings:strictArch:)``
/// for both GEMMs and ``swigluApplyWeightToBF16(_:topkWeights:activationClamp:fastMath:)`` between them.
/// `l1Weights[r]` is BF16 [E_l, 2I, H] (untransformed), `l2Weights[r]` BF16 [E_l, H, I]; H and I
/// multiples of 64. Returns y, BF16 [T_r, H], per rank; stats as for FP8×FP4.
public func bf16MegaMoEUnfused(
    inputs: [MegaMoEBF16RankInput], l1Weights: [Tensor], l2Weights: [Tensor], numExperts: Int,
    cumulativeLocalExpertRecvStats: [Tensor]? = nil, activationClamp: Double? = nil, fastMath: Bool = true,
    settings: DeepGEMMSettings = .default
) throws -> [Tensor] {
    let problem = try MegaMoEUnfusedProblem(bf16X: inputs.map(\.x), topkIdx: inputs.map(\.topkIdx), topkWeights: inputs.map(\.topkWeights),
                                            l1: l1Weights, l2: l2Weights, numExperts: numExperts, stats: cumulativeLocalExpertRecvStats)
    _ = try SwiGLUApplyWeightProblem.bf16Clamp(activationClamp)
    return try runMegaMoEUnfused(problem, x: inputs.map(\.x), xSF: nil, topkIdx: inputs.map(\.topkIdx),
                                 topkWeights: inputs.map(\.topkWeights), stats: cumulativeLocalExpertRecvStats, settings: settings) { rank, rows, layout in
        let l1Out = Tensor(zeros: [rows.data.size(0), 2 * problem.intermediate], dtype: .bfloat16)
        try mGroupedBF16GEMMContiguous(.nt, a: rows.data, b: l1Weights[rank], d: l1Out, groupedLayout: layout,
                                       usePsumLayout: true, ensureZeroPadding: false, settings: settings)
        let activations = try swigluApplyWeightToBF16(l1Out, topkWeights: rows.weights, activationClamp: activationClamp,
                                                      fastMath: fastMath)
        let l2Out = Tensor(zeros: [rows.data.size(0), problem.hidden], dtype: .bfloat16)
        try mGroupedBF16GEMMContiguous(.nt, a: activations, b: l2Weights[rank], d: l2Out, groupedLayout: layout,
                                       usePsumLayout: true, ensureZeroPadding: false, settings: settings)
        return l2Out
    }
}

/// Dispatch, the per-rank expert computation `experts(rank, gathered rows, PSUM layout) -> L2
/// output [M, H]`, combine, then the stats update (only after everything succeeded).
private func runMegaMoEUnfused(
    _ problem: MegaMoEUnfusedProblem, x: [Tensor], xSF: [Tensor]?, topkIdx: [Tensor], topkWeights: [Tensor], stats: [Tensor]?,
    settings: DeepGEMMSettings,
    experts: (Int, (data: Tensor, sf: Tensor?, weights: Tensor), Tensor) throws -> Tensor
) throws -> [Tensor] {
    let topk = problem.numTopk
    let indices = try topkIdx.map { try $0.elements(as: Int64.self).map(Int.init).chunked(topk) }
    let weights = try topkWeights.map { try $0.contiguous().elements(as: Float.self) }
    let plan = try MegaMoEDispatchPlan(topkIdx: indices, numLocalExperts: problem.numLocalExperts,
                                   alignment: settings.mkAlignmentForContiguousLayout)
    let outputs = try (0..<problem.numRanks).map { rank in
        let rows = try megaMoEGatherRows(plan.rows[rank], x: x, xSF: xSF, topkWeights: weights, numTopk: topk, hidden: problem.hidden)
        return try experts(rank, rows, try Tensor(plan.psumEnds[rank], shape: [problem.numLocalExperts]))
    }
    let y = try (0..<problem.numRanks).map {
        try megaMoECombine(destinations: plan.destinations[$0], outputs: outputs, hidden: problem.hidden)
    }
    if let stats {
        for (rank, received) in plan.receivedPerExpert.enumerated() {
            let counts = stats[rank].dataPointer.assumingMemoryBound(to: Int32.self)
            for (expert, count) in received.enumerated() { counts[expert] &+= Int32(truncatingIfNeeded: count) }
        }
    }
    return y
}

extension Array {
    /// The elements in consecutive runs of `size` (the last run may be shorter).
    fileprivate func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
