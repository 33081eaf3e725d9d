import DeepGEMM

/// The run of `deepgemm moe`: for each token count, the unfused pipeline's result and time, the
/// fused op's result and time on thread or process ranks, their bitwise comparison, and the time of
/// the dense peer (``MoEDensePeer``).
struct MoEBenchmark {
    /// The layer.
    var problem: MoEProblem
    /// R, the ranks.
    var ranks: Int
    /// The tokens of every rank, one report each; the buffer is sized for the largest.
    var tokenCounts: [Int]
    /// The least time each measurement runs for (``Timing/median(minimumSeconds:maximumRuns:_:)``).
    var minimumSeconds: Double
    /// How to start rank processes; nil runs the ranks as threads of this process.
    var processes: MoERankProcesses?
    /// CPU threads of each rank; nil for the library's default.
    var threadsPerRank: Int?
    /// Receives a line before each long step.
    var progress: (String) -> Void
    /// Receives each token count's report as soon as it is ready.
    var completed: (MoEReport) -> Void

    /// Runs every token count and returns their reports in order. Throws on bad options and on
    /// a failed rank; a mismatch is reported, not thrown.
    func run() throws -> [MoEReport] {
        try problem.validate()
        try DeepGEMMError.require(ranks >= 1, "--ranks", "must be positive, got \(ranks)")
        try DeepGEMMError.require(!tokenCounts.isEmpty && tokenCounts.allSatisfy { $0 > 0 }, "--tokens",
                                  "must list positive token counts, got \(tokenCounts)")
        try DeepGEMMError.require(minimumSeconds >= 0, "--min-seconds", "must be ≥ 0, got \(minimumSeconds)")
        if let threadsPerRank {
            try DeepGEMMError.require(threadsPerRank >= 1, "--threads-per-rank", "must be at least 1, got \(threadsPerRank)")
        }
        let maxTokens = tokenCounts.reduce(0, max)
        if let processes { return try runProcessRanks(processes, maxTokens: maxTokens) }
        return try runThreadRanks(maxTokens: maxTokens)
    }

    /// Every rank's local expert weights, untransformed.
    func generateWeights() -> [MoEExpertWeights] {
        progress("generating the weights of \(problem.experts) experts (\(problem.mmaType.rawValue))")
        return (0..<ranks).map { MoEExpertWeights(problem: problem, rank: $0, ranks: ranks) }
    }

    /// Every rank's `tokens` tokens.
    func generateTokens(_ tokens: Int) throws -> [MoERankTokens] {
        try (0..<ranks).map { try MoERankTokens(problem: problem, rank: $0, tokens: tokens) }
    }

    /// Zeroed stats, one Int32 [E_l] per rank.
    func zeroStats() -> [Tensor] {
        (0..<ranks).map { _ in Tensor(zeros: [problem.localExperts(ranks: ranks)], dtype: .int32) }
    }

    /// The unfused pipeline's result (from zeroed stats) and median time on `tokens`.
    func unfusedReference(tokens: [MoERankTokens], weights: [MoEExpertWeights]) throws -> MoEUnfusedReference {
        let stats = zeroStats()
        let y = try MoELayerCalls.unfused(problem, tokens: tokens, weights: weights, stats: stats)
        progress("T=\(tokens.first?.count ?? 0): timing the unfused pipeline")
        let seconds = try Timing.median(minimumSeconds: minimumSeconds) {
            _ = try MoELayerCalls.unfused(problem, tokens: tokens, weights: weights, stats: nil)
        }
        let expertPairs = try stats.map { try $0.elements(as: Int32.self).map(Int.init) }
        return MoEUnfusedReference(y: y, stats: stats, seconds: seconds, receivedPairs: expertPairs.map { $0.reduce(0, +) },
                                   expertPairs: expertPairs.flatMap { $0 })
    }

    /// The dense peer of `reference`'s pairs (rank 0's first expert of `weights`).
    func densePeer(reference: MoEUnfusedReference, weights: [MoEExpertWeights]) throws -> MoEDensePeer {
        try MoEDensePeer(problem: problem, rows: MoEDensePeer.rows(expertPairs: reference.expertPairs), weights: weights[0])
    }

    /// The report of one token count: the fused and unfused figures next to the dense peer `peer`,
    /// whose median time is `denseSeconds` (measured here, after the fused op, when nil).
    func report(reference: MoEUnfusedReference, peer: MoEDensePeer, denseSeconds: Double?, fused: MoEFusedOutcome) throws -> MoEReport {
        let seconds: Double
        if let denseSeconds {
            seconds = denseSeconds
        } else {
            progress("T=\(fused.tokensPerRank): timing the dense peer (M=\(peer.rows))")
            seconds = try peer.seconds(minimumSeconds: minimumSeconds)
        }
        return MoEReport(problem: problem, ranks: ranks, processes: processes != nil, threadsPerRank: fused.threadsPerRank,
                         tokensPerRank: fused.tokensPerRank, bufferBytesPerRank: fused.bufferBytes, unfusedSeconds: reference.seconds,
                         fusedSeconds: fused.seconds, receivedPairs: reference.receivedPairs, denseRows: peer.rows,
                         denseSeconds: seconds, mismatch: fused.mismatch, peakResidentBytes: PeakResidentMemory.ofThisProcess(),
                         rankPeakResidentBytes: fused.rankPeakResidentBytes)
    }
}

/// What the fused op of one token count gave, on thread or process ranks.
struct MoEFusedOutcome {
    /// T, the tokens of every rank.
    var tokensPerRank: Int
    /// Median seconds of one call (the slowest rank's for process ranks).
    var seconds: Double
    /// The CPU threads each rank computed with.
    var threadsPerRank: Int
    /// Bytes of one rank's symmetric buffer.
    var bufferBytes: Int
    /// The first difference from the unfused pipeline; nil when bitwise equal.
    var mismatch: String?
    /// Peak resident memory of each rank process, in bytes; nil for thread ranks.
    var rankPeakResidentBytes: [Int]? = nil
}

/// The unfused pipeline's outputs on one token count: what the fused op must match.
struct MoEUnfusedReference {
    /// y per rank.
    var y: [Tensor]
    /// The stats per rank, from zero.
    var stats: [Tensor]
    /// Median seconds of one call over all ranks.
    var seconds: Double
    /// The pairs each rank received (the sum of its stats).
    var receivedPairs: [Int]
    /// The pairs each expert received, all ranks' local experts in rank order.
    var expertPairs: [Int]
}
