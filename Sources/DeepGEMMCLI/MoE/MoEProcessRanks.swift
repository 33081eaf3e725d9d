import DeepGEMM
import Foundation

/// How `deepgemm moe --processes` starts its rank processes.
struct MoERankProcesses {
    /// The `deepgemm` executable each rank runs (`moe-rank`).
    var executable: String
    /// The layer options, forwarded unchanged so every rank regenerates the same problem.
    var layerArguments: [String]
    /// Fused calls per rank process; nil: as many as the minimum time asks for.
    var calls: Int?
    /// The job id prefix (a token count's job is `<jobID>-t<T>`); nil: a fresh id per launch.
    var jobID: String?
    /// How long a rank waits for a peer without progress, in seconds.
    var timeoutSeconds: Double
}

/// Rank processes that did not exit with status 0.
struct MoERankProcessFailure: Error, CustomStringConvertible {
    /// How each failed rank ended.
    var statuses: [RankExitStatus]

    /// One line naming every failed rank and how it ended.
    var description: String {
        "rank process failed: " + statuses.map(\.description).joined(separator: "; ")
    }
}

extension MoEBenchmark {
    /// The fused op with every rank a `moe-rank` process, started once per token count; each
    /// rank writes its results into a fresh temporary directory, removed afterwards.
    func runProcessRanks(_ processes: MoERankProcesses, maxTokens: Int) throws -> [MoEReport] {
        let layout = try processBufferLayout(maxTokens: maxTokens)
        let weights = generateWeights()
        return try tokenCounts.map { count in
            let reference = try unfusedReference(tokens: try generateTokens(count), weights: weights)
            // Every rank makes the same number of calls, sized from the unfused time to last about --min-seconds.
            let iterations = processes.calls.map { $0 - 1 } ?? min(100, max(3, Int((minimumSeconds / reference.seconds).rounded(.up))))
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deepgemm-moe-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            progress("T=\(count): running \(ranks) rank processes, \(iterations) timed calls each")
            let arguments = ["moe-rank"] + processes.layerArguments
                + ["--tokens", "\(count)", "--max-tokens", "\(maxTokens)", "--iterations", "\(iterations)", "--output-dir", directory,
                   "--timeout", "\(processes.timeoutSeconds)"]
                + (threadsPerRank.map { ["--threads-per-rank", "\($0)"] } ?? [])
            let statuses = try RankLauncher.runProcesses(ranks: ranks, executable: processes.executable, arguments: arguments,
                                                         jobID: processes.jobID.map { "\($0)-t\(count)" } ?? RankLauncher.defaultJobID())
            let failed = statuses.filter { !$0.succeeded }
            guard failed.isEmpty else { throw MoERankProcessFailure(statuses: failed) }
            let results = try (0..<ranks).map { try MoERankResult(directory: directory, rank: $0) }
            let mismatch = try MoEComparison.firstMismatch(fusedY: results.map(\.y), unfusedY: reference.y,
                                                           fusedStats: results.map(\.stats), unfusedStats: reference.stats)
            let bytes = results.map(\.bufferBytes).max() ?? layout.totalBytes
            let peer = try densePeer(reference: reference, weights: weights)
            let report = try self.report(reference: reference, peer: peer, denseSeconds: nil, fused: MoEFusedOutcome(
                tokensPerRank: count, seconds: results.map(\.seconds).max() ?? 0, threadsPerRank: results.map(\.threads).max() ?? 1,
                bufferBytes: bytes, mismatch: mismatch, rankPeakResidentBytes: statuses.map { $0.peakResidentBytes ?? 0 }))
            completed(report)
            return report
        }
    }

    /// The layout each rank process's `get_symm_buffer_for_mega_moe` builds (aligned capacity,
    /// default ring), computed here so that a shape the buffer rejects fails before any process starts.
    private func processBufferLayout(maxTokens: Int) throws -> MegaMoEBufferLayout {
        try MegaMoEBufferLayout.forSymmBuffer(numExperts: problem.experts, numMaxTokensPerRank: maxTokens, numTopk: problem.topk,
                                              hidden: problem.hidden, intermediateHidden: problem.intermediate, numRanks: ranks,
                                              mmaType: problem.mmaType)
    }
}
