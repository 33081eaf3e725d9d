import DeepGEMM

/// What one `moe-rank` process does: regenerate its rank's tokens and local experts from the
/// seed, join the group's shared buffer, call the fused op once from zeroed stats, then time a
/// fixed number of calls (the same on every rank, as each call is collective), and write a
/// ``MoERankResult``.
struct MoERankRun {
    /// The layer (the same on every rank).
    var problem: MoEProblem
    /// T, this rank's tokens.
    var tokens: Int
    /// The buffer's per-rank token capacity (the largest T of the whole run).
    var maxTokens: Int
    /// Timed calls after the first one.
    var iterations: Int
    /// Where the result file goes.
    var outputDirectory: String
    /// CPU threads of this rank; nil for the library's default.
    var threadsPerRank: Int?
    /// How long a wait for a peer may go without progress.
    var timeout: Duration

    /// Runs the rank described by the process's ``RankEnvironment``.
    func run() throws {
        guard let environment = try RankEnvironment.current() else {
            throw DeepGEMMError.invalidArgument(argument: RankEnvironment.rankVariable,
                                                rule: "must be set: moe-rank runs as a rank of 'deepgemm moe --processes'")
        }
        try problem.validate()
        try DeepGEMMError.require(tokens > 0 && tokens <= maxTokens, "--tokens", "must be in 1...\(maxTokens) (--max-tokens), got \(tokens)")
        try DeepGEMMError.require(iterations >= 1, "--iterations", "must be positive, got \(iterations)")
        let rank = environment.rank
        let rankTokens = try MoERankTokens(problem: problem, rank: rank, tokens: tokens)
        let weights = try MoEExpertWeights(problem: problem, rank: rank, ranks: environment.rankCount).transformed()
        let buffer = try getSymmBufferForMegaMoE(
            rankEnvironment: environment, numExperts: problem.experts, numMaxTokensPerRank: maxTokens, numTopk: problem.topk,
            hidden: problem.hidden, intermediateHidden: problem.intermediate, mmaType: problem.mmaType, timeout: timeout,
            threadsPerRank: threadsPerRank)
        defer { buffer.close() }
        let y = Tensor(zeros: [tokens, problem.hidden], dtype: .bfloat16)
        // Like DeepGEMM's benchmark, every call first copies the tokens into the buffer.
        func call(output: Tensor, stats: Tensor?) throws {
            try rankTokens.copy(into: buffer.inputs)
            try MoELayerCalls.fused(problem, buffer: buffer, y: output, weights: weights, stats: stats)
        }
        let stats = Tensor(zeros: [buffer.numLocalExperts], dtype: .int32)
        try call(output: y, stats: stats)
        let timedY = Tensor(zeros: [tokens, problem.hidden], dtype: .bfloat16)
        var samples: [Double] = []
        for _ in 0..<iterations {
            let start = Timing.now()
            try call(output: timedY, stats: nil)
            samples.append(Timing.now() - start)
        }
        samples.sort()
        try MoERankResult(y: y, stats: stats, seconds: samples[samples.count / 2], bufferBytes: buffer.layout.totalBytes,
                          threads: buffer.threadsPerRank)
            .write(directory: outputDirectory, rank: rank)
    }
}
