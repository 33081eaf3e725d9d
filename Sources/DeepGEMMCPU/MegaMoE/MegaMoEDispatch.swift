import DeepGEMMCore

/// The expanded (one row per valid (token, slot)) PSUM layout of Mega MoE's dispatch for R ranks
/// (spec/megamoe-indexer.md §1.5 step 1, §1.7): on each destination rank, local expert le owns
/// rows [align(L[le-1], α), L[le]) of the pool. Within an expert, rows are ordered by (source
/// rank, token, slot); the order does not change any value (spec §1.6).
public struct MegaMoEDispatchPlan: Sendable {
    /// One dispatched row: where it comes from.
    public struct Source: Sendable, Equatable {
        /// The source rank.
        public var rank: Int
        /// The token on the source rank.
        public var token: Int
        /// The top-k slot.
        public var slot: Int

        /// Names one (rank, token, slot).
        public init(rank: Int, token: Int, slot: Int) {
            self.rank = rank
            self.token = token
            self.slot = slot
        }
    }

    /// Per destination rank: the source of every pool row, nil for a padding row.
    public var rows: [[Source?]]
    /// Per destination rank: the PSUM group ends L[le] (the grouped GEMM's `grouped_layout`).
    public var psumEnds: [[Int32]]
    /// Per destination rank: how many rows each local expert received.
    public var receivedPerExpert: [[Int]]
    /// Per source rank, token and slot: the destination rank and pool row, nil for a masked slot.
    public var destinations: [[[(rank: Int, row: Int)?]]]

    /// Builds the plan from each rank's top-k expert indices ([T_r][k], -1 masked or an expert in
    /// 0..<R·numLocalExperts), with `numLocalExperts` experts per rank and groups starting at
    /// multiples of `alignment` (`mk_alignment`).
    public init(topkIdx: [[[Int]]], numLocalExperts: Int, alignment: Int) throws {
        let ranks = topkIdx.count
        try DeepGEMMError.require(numLocalExperts > 0, "num_experts", "must give at least one expert per rank")
        try DeepGEMMError.require(alignment > 0, "mk_alignment", "must be positive, got \(alignment)")
        let experts = ranks * numLocalExperts
        try DeepGEMMError.require(topkIdx.allSatisfy { $0.allSatisfy { $0.allSatisfy { $0 >= -1 && $0 < experts } } }, "topk_idx",
                                  "entries must be -1 (masked) or in 0..<\(experts)")
        var sources = [[[Source]]](repeating: [[Source]](repeating: [], count: numLocalExperts), count: ranks)
        for (rank, tokens) in topkIdx.enumerated() {
            for (token, slots) in tokens.enumerated() {
                for (slot, expert) in slots.enumerated() where expert >= 0 {
                    sources[expert / numLocalExperts][expert % numLocalExperts].append(Source(rank: rank, token: token, slot: slot))
                }
            }
        }
        destinations = topkIdx.map { $0.map { [(rank: Int, row: Int)?](repeating: nil, count: $0.count) } }
        rows = []
        psumEnds = []
        receivedPerExpert = sources.map { $0.map(\.count) }
        for (rank, experts) in sources.enumerated() {
            var pool = [Source?](), ends = [Int32]()
            for expert in experts {
                pool += [Source?](repeating: nil, count: (alignment - pool.count % alignment) % alignment)
                for source in expert {
                    destinations[source.rank][source.token][source.slot] = (rank, pool.count)
                    pool.append(source)
                }
                ends.append(Int32(truncatingIfNeeded: pool.count))
            }
            pool += [Source?](repeating: nil, count: (alignment - pool.count % alignment) % alignment)
            try DeepGEMMError.require(pool.count <= Int(Int32.max), "topk_idx", "rank \(rank) would receive \(pool.count) pool rows, past int32")
            rows.append(pool)
            psumEnds.append(ends)
        }
    }
}

/// Gathers the dispatched rows of one destination rank: data [M, H] in `x`'s dtype (padding rows
/// zero); with `xSF`, the packed UE8M0 scales [M, H/128] MN-major with column stride align(M, 4)
/// (zero words for padding), else nil; and each row's top-k weight [M] (0 for padding). `x`, `xSF`
/// and `topkWeights` are indexed by source rank; `topkWeights[r]` holds rank r's [T_r, numTopk]
/// weights row-major.
public func megaMoEGatherRows(_ rows: [MegaMoEDispatchPlan.Source?], x: [Tensor], xSF: [Tensor]?, topkWeights: [[Float]],
                              numTopk: Int, hidden: Int) throws -> (data: Tensor, sf: Tensor?, weights: Tensor) {
    let m = rows.count
    for source in rows.compactMap({ $0 }) {
        try DeepGEMMError.require(source.rank >= 0 && source.rank < x.count && source.token >= 0 && source.token < x[source.rank].size(0)
                                    && x[source.rank].shape == [x[source.rank].size(0), hidden] && source.slot >= 0 && source.slot < numTopk
                                    && topkWeights[source.rank].count == x[source.rank].size(0) * numTopk,
                                  "rows", "source \(source) is not a token and slot of x [T, \(hidden)] and topk_weights [T, \(numTopk)]")
    }
    let data = Tensor(zeros: [m, hidden], dtype: x.first?.dtype ?? .float8E4M3)
    let sf = try xSF.map { _ in try Tensor(zeros: [hidden / 128, (m + 3) / 4 * 4], dtype: .int32).transposed().narrow(dim: 0, start: 0, length: m) }
    var weights = [Float](repeating: 0, count: m)
    for (row, source) in rows.enumerated() {
        guard let source else { continue }
        try data.select(dim: 0, index: row).copy(from: x[source.rank].select(dim: 0, index: source.token))
        if let sf, let xSF { try sf.select(dim: 0, index: row).copy(from: xSF[source.rank].select(dim: 0, index: source.token)) }
        weights[row] = topkWeights[source.rank][source.token * numTopk + source.slot]
    }
    return (data, sf, try Tensor(weights, shape: [m]))
}

/// The combine of spec §1.5 step 8 for one source rank: for each token and hidden column,
/// `acc = +0.0f`, then `acc += float(y_j)` over the valid slots j in ascending order (binary32, RN),
/// then one RN to BF16. A token whose slots are all masked gives +0. `outputs[d]` is destination
/// rank d's L2 output [M_d, H] (BF16).
public func megaMoECombine(destinations: [[(rank: Int, row: Int)?]], outputs: [Tensor], hidden: Int) throws -> Tensor {
    for output in outputs {
        try DeepGEMMError.require(output.rank == 2 && output.size(1) == hidden && output.dtype == .bfloat16, "outputs",
                                  "must be BF16 [M, \(hidden)], got \(output.dtype) \(output.shape)")
    }
    for case let (rank, row)? in destinations.joined() {
        try DeepGEMMError.require(rank >= 0 && rank < outputs.count && row >= 0 && row < outputs[rank].size(0), "destinations",
                                  "(\(rank), \(row)) is not a row of outputs")
    }
    let y = Tensor(zeros: [destinations.count, hidden], dtype: .bfloat16)
    let outputValues = try outputs.map { try $0.elements(as: UInt16.self) }
    let result = y.dataPointer.assumingMemoryBound(to: UInt16.self)
    for (token, slots) in destinations.enumerated() {
        for h in 0..<hidden {
            var acc: Float = 0
            for case let (rank, row)? in slots {
                acc += BFloat16(bitPattern: outputValues[rank][row * hidden + h]).floatValue
            }
            result[token * hidden + h] = BFloat16(acc).bitPattern
        }
    }
    return y
}
