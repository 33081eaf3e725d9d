import DeepGEMM

extension MoEBenchmark {
    /// The fused op with every rank a thread of this process, over one symmetric buffer sized for
    /// `maxTokens` tokens per rank (made first, so a bad shape fails before anything is generated).
    func runThreadRanks(maxTokens: Int) throws -> [MoEReport] {
        let buffer = try getSymmBufferForMegaMoE(
            numExperts: problem.experts, numMaxTokensPerRank: maxTokens, numTopk: problem.topk, hidden: problem.hidden,
            intermediateHidden: problem.intermediate, numRanks: ranks, mmaType: problem.mmaType, threadsPerRank: threadsPerRank)
        let weights = generateWeights()
        progress("transforming the weights for the fused op")
        let transformed = try weights.map { try $0.transformed() }
        return try tokenCounts.map { count in
            let tokens = try generateTokens(count)
            let reference = try unfusedReference(tokens: tokens, weights: weights)
            let y = (0..<ranks).map { _ in Tensor(zeros: [count, problem.hidden], dtype: .bfloat16) }
            // Like DeepGEMM's benchmark, every call first copies the tokens into the buffer.
            func call(stats: [Tensor]?) throws {
                for (rank, rankTokens) in tokens.enumerated() { try rankTokens.copy(into: buffer.inputs[rank]) }
                try MoELayerCalls.fused(problem, buffer: buffer, y: y, weights: transformed, stats: stats)
            }
            let stats = zeroStats()
            try call(stats: stats)
            let mismatch = try MoEComparison.firstMismatch(fusedY: y, unfusedY: reference.y, fusedStats: stats, unfusedStats: reference.stats)
            // The fused op and its dense peer take turns, so both see the same load of a shared machine.
            let peer = try densePeer(reference: reference, weights: weights)
            progress("T=\(count): timing the fused op on \(ranks) thread ranks and the dense peer (M=\(peer.rows)), in turns")
            let seconds = try Timing.alternatingMedians(minimumSeconds: minimumSeconds, [{ try call(stats: nil) }, { try peer.run() }])
            let report = try self.report(reference: reference, peer: peer, denseSeconds: seconds[1], fused: MoEFusedOutcome(
                tokensPerRank: count, seconds: seconds[0], threadsPerRank: buffer.ranks[0].threadsPerRank,
                bufferBytes: buffer.layout.totalBytes, mismatch: mismatch))
            completed(report)
            return report
        }
    }
}
