import DeepGEMMCore

/// `transform_weights_for_mega_moe((w1, sf1), (w2, sf2), activation="swiglu")` for FP8/FP4 weights
/// (spec/megamoe-indexer.md §1.3): the per-expert row permutations the fused Mega MoE kernel reads.
///
/// - `l1Weights`: data [E_l, 2I, H'] (packed FP4 int8, FP8, ...), K-major, 2I a multiple of 16;
///   sf packed UE8M0 Int32 [E_l, 2I, k'] with 2I a multiple of 128 (usually MN-major).
/// - `l2Weights`: data [E_l, H, I'] and sf Int32 [E_l, H, k''], H a multiple of 128.
///
/// Returns L1 data with gate/up interleaved in runs of 8
/// (``MegaMoEWeightLayout/interleavedSourceRow(_:intermediate:)``), L1 sf interleaved the same way
/// and then UTCCP-transposed (``MegaMoEWeightLayout/utccpSourceRow(_:)``), L2 data unchanged (the
/// same tensor), and L2 sf UTCCP-transposed. New tensors keep the strides of their inputs when those
/// are dense (PyTorch's `empty_like`), else they are contiguous.
public func transformWeightsForMegaMoE(
    l1Weights: QuantizedTensor, l2Weights: QuantizedTensor, activation: String = "swiglu"
) throws -> (l1: QuantizedTensor, l2: QuantizedTensor) {
    try MegaMoEWeightLayout.checkActivation(activation)
    let (groups, rows1) = try MegaMoEWeightLayout.checkL1Data(l1Weights.data, name: "l1_weights")
    try MegaMoEWeightLayout.checkScales(l1Weights.sf, name: "l1_weights", groups: groups, rows: rows1)
    try DeepGEMMError.require(l2Weights.data.rank == 3 && l2Weights.data.size(0) == groups, "l2_weights",
                              "must be 3-D [\(groups), hidden, k] (one matrix per expert of l1_weights), got shape \(l2Weights.data.shape)")
    try MegaMoEWeightLayout.checkScales(l2Weights.sf, name: "l2_weights", groups: groups, rows: l2Weights.data.size(1))
    let intermediate = rows1 / 2
    let interleave = { (row: Int) in MegaMoEWeightLayout.interleavedSourceRow(row, intermediate: intermediate) }
    let l1Data = try permutingRows(l1Weights.data, interleave)
    let l1SF = try permutingRows(l1Weights.sf) { interleave(MegaMoEWeightLayout.utccpSourceRow($0)) }
    let l2SF = try permutingRows(l2Weights.sf, MegaMoEWeightLayout.utccpSourceRow)
    return (QuantizedTensor(data: l1Data, sf: l1SF), QuantizedTensor(data: l2Weights.data, sf: l2SF))
}

/// `transform_weights_for_mega_moe(w1, w2, activation="swiglu")` for BF16 weights (spec §1.3 step 3):
/// L1 [E_l, 2I, H] (K-major, 2I a multiple of 16) gets gate/up interleaved in runs of 8; L2
/// [E_l, H, I] is returned unchanged (the same tensor).
public func transformWeightsForMegaMoE(
    l1Weights: Tensor, l2Weights: Tensor, activation: String = "swiglu"
) throws -> (l1: Tensor, l2: Tensor) {
    try MegaMoEWeightLayout.checkActivation(activation)
    let (groups, rows1) = try MegaMoEWeightLayout.checkL1Data(l1Weights, name: "l1_weights")
    try DeepGEMMError.require(l2Weights.rank == 3 && l2Weights.size(0) == groups, "l2_weights",
                              "must be 3-D [\(groups), hidden, intermediate] (one matrix per expert of l1_weights), got shape \(l2Weights.shape)")
    let intermediate = rows1 / 2
    let l1 = try permutingRows(l1Weights) { MegaMoEWeightLayout.interleavedSourceRow($0, intermediate: intermediate) }
    return (l1, l2Weights)
}

/// A new tensor like `source` [G, rows, ...] whose row n of every group is `source`'s row
/// `sourceRow(n)` of that group.
private func permutingRows(_ source: Tensor, _ sourceRow: (Int) -> Int) throws -> Tensor {
    let result = try emptyLike(source)
    if source.rank == 3 && source.stride(2) == 1 && result.stride(2) == 1 {
        // K-major rows: one memory copy per row.
        let rowBytes = source.size(2) * source.dtype.size
        for group in 0..<source.size(0) {
            for row in 0..<source.size(1) {
                let to = result.dataPointer + (group * result.stride(0) + row * result.stride(1)) * source.dtype.size
                let from = source.dataPointer + (group * source.stride(0) + sourceRow(row) * source.stride(1)) * source.dtype.size
                to.copyMemory(from: from, byteCount: rowBytes)
            }
        }
        return result
    }
    for group in 0..<source.size(0) {
        let from = try source.select(dim: 0, index: group), to = try result.select(dim: 0, index: group)
        for row in 0..<source.size(1) {
            try to.select(dim: 0, index: row).copy(from: from.select(dim: 0, index: sourceRow(row)))
        }
    }
    return result
}

/// New storage with `tensor`'s shape, and its strides when they are dense (non-overlapping, no
/// gaps: some order of the dimensions is row-major), otherwise contiguous strides. Not zeroed:
/// the row permutation writes every element.
private func emptyLike(_ tensor: Tensor) throws -> Tensor {
    let order = tensor.shape.indices.filter { tensor.shape[$0] > 1 }.sorted { tensor.strides[$0] > tensor.strides[$1] }
    var expected = 1, dense = true
    for dim in order.reversed() {
        if tensor.strides[dim] != expected { dense = false }
        expected *= tensor.shape[dim]
    }
    guard dense else { return Tensor.empty(tensor.shape, dtype: tensor.dtype) }
    return try Tensor(storage: TensorStorage(byteCount: tensor.byteCount, zeroed: false), dtype: tensor.dtype, shape: tensor.shape, strides: tensor.strides)
}
