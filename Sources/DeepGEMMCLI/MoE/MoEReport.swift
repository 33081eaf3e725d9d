import DeepGEMM
import Foundation

/// The figures of one token count of `deepgemm moe`: fused against unfused on the same layer, and
/// the fused rate against the dense peer of the same expert shapes.
struct MoEReport: Sendable {
    /// The layer.
    var problem: MoEProblem
    /// R, the ranks.
    var ranks: Int
    /// Whether the fused op ran with one process per rank (else one thread per rank).
    var processes: Bool
    /// The CPU threads each rank computed with.
    var threadsPerRank: Int
    /// T, the tokens of every rank.
    var tokensPerRank: Int
    /// Bytes of one rank's symmetric buffer.
    var bufferBytesPerRank: Int
    /// Median seconds of one unfused call over all ranks.
    var unfusedSeconds: Double
    /// Median seconds of one fused call (the slowest rank's median for process ranks).
    var fusedSeconds: Double
    /// The (token, slot) pairs each rank's experts received.
    var receivedPairs: [Int]
    /// M of the dense peer (``MoEDensePeer``): the average pairs of an expert that received any.
    var denseRows: Int
    /// Median seconds of the dense peer's two GEMMs on all cores.
    var denseSeconds: Double
    /// The first difference between the fused and unfused `y` or stats; nil when bitwise equal.
    var mismatch: String?
    /// Peak resident memory of this process so far, in bytes (with thread ranks it includes them).
    var peakResidentBytes: Int
    /// Peak resident memory of each rank process, in bytes; nil for thread ranks.
    var rankPeakResidentBytes: [Int]?

    /// Whether fused and unfused agreed bit for bit.
    var bitwiseEqual: Bool { mismatch == nil }
    /// R·T / unfused seconds.
    var unfusedTokensPerSecond: Double { Double(ranks * tokensPerRank) / unfusedSeconds }
    /// R·T / fused seconds.
    var fusedTokensPerSecond: Double { Double(ranks * tokensPerRank) / fusedSeconds }
    /// Fused tokens/s over unfused tokens/s.
    var speedup: Double { unfusedSeconds / fusedSeconds }

    /// GFLOPS of each rank as DeepGEMM's benchmark counts them: three GEMMs (L1 gate, L1 up, L2)
    /// of 2·H·I per received pair, over the fused time.
    var gflopsPerRank: [Double] { receivedPairs.map { gflops(pairs: $0, seconds: fusedSeconds) } }
    /// The machine's fused rate: every rank's pairs over the fused time (the ranks share the cores,
    /// so this, not one rank's figure, is what the dense peer on all cores compares with).
    var fusedGFLOPS: Double { gflops(pairs: receivedPairs.reduce(0, +), seconds: fusedSeconds) }
    /// The dense peer's rate, counted the same way for its M rows.
    var denseGFLOPS: Double { gflops(pairs: denseRows, seconds: denseSeconds) }
    /// Fused GFLOPS over dense GFLOPS.
    var fusedOverDense: Double { fusedGFLOPS / denseGFLOPS }

    /// DeepGEMM's FLOP count, 2·H·I·3 per pair, over `seconds`, in GFLOPS.
    private func gflops(pairs: Int, seconds: Double) -> Double {
        2 * Double(pairs) * Double(problem.hidden) * Double(problem.intermediate) * 3 / seconds / 1e9
    }

    /// A few human-readable lines.
    var text: String {
        let check = mismatch.map { "MISMATCH: \($0)" } ?? "bitwise equal"
        return """
        \(problem.summary(ranks: ranks, processes: processes, tokensPerRank: tokensPerRank))
          buffer per rank: \(MoEFormat.fixed(Double(bufferBytesPerRank) / 1_048_576, 1)) MiB, \(threadsPerRank) threads per rank
          unfused: \(MoEFormat.fixed(unfusedSeconds * 1e3, 3)) ms/call  \(MoEFormat.fixed(unfusedTokensPerSecond, 1)) tokens/s
          fused:   \(MoEFormat.fixed(fusedSeconds * 1e3, 3)) ms/call  \(MoEFormat.fixed(fusedTokensPerSecond, 1)) tokens/s  \
        speedup \(MoEFormat.fixed(speedup, 2))x
          received pairs per rank: \(receivedPairs.map(String.init).joined(separator: ", "))
          GFLOPS per rank (fused): \(gflopsPerRank.map { MoEFormat.fixed($0, 1) }.joined(separator: ", "))
          GFLOPS all ranks (fused): \(MoEFormat.fixed(fusedGFLOPS, 1))  dense \(MoEDensePeer.opName(problem)) M=\(denseRows) \
        (all cores): \(MoEFormat.fixed(denseGFLOPS, 1)) (\(MoEFormat.fixed(denseSeconds * 1e3, 3)) ms)  fused/dense \(MoEFormat.fixed(fusedOverDense, 2))
          peak resident memory: \(peakMemoryText)
          fused == unfused: \(check)
        """
    }

    /// This process's peak and, for process ranks, each rank's, in MiB.
    private var peakMemoryText: String {
        let mib = { (bytes: Int) in MoEFormat.fixed(Double(bytes) / 1_048_576, 1) + " MiB" }
        let own = "\(mib(peakResidentBytes)) (\(processes ? "launcher" : "this process, thread ranks included"))"
        guard let ranks = rankPeakResidentBytes else { return own }
        return own + ", ranks " + ranks.map(mib).joined(separator: ", ")
    }

    /// One JSON object on one line (keys in snake case, sorted; `activation_clamp`, `mismatch` and
    /// `rank_peak_resident_bytes` are left out when there is none).
    var json: String {
        struct Fields: Encodable {
            let mma: String, ranks: Int, processes: Bool, threadsPerRank: Int, tokensPerRank: Int, experts: Int, topk: Int, hidden: Int, intermediate: Int
            let activationClamp: Double?, fastMath: Bool, maskedSlots: Double, seed: UInt64, bufferBytesPerRank: Int
            let unfusedSeconds: Double, fusedSeconds: Double, unfusedTokensPerSecond: Double, fusedTokensPerSecond: Double
            let speedup: Double, receivedPairsPerRank: [Int], gflopsPerRank: [Double], fusedGflops: Double
            let denseOp: String, denseRows: Int, denseSeconds: Double, denseGflops: Double, fusedOverDense: Double
            let bitwiseEqual: Bool, mismatch: String?
            let peakResidentBytes: Int, rankPeakResidentBytes: [Int]?
        }
        let fields = Fields(
            mma: problem.mmaType.rawValue, ranks: ranks, processes: processes, threadsPerRank: threadsPerRank, tokensPerRank: tokensPerRank, experts: problem.experts,
            topk: problem.topk, hidden: problem.hidden, intermediate: problem.intermediate, activationClamp: problem.activationClamp,
            fastMath: problem.fastMath, maskedSlots: problem.maskedFraction, seed: problem.seed, bufferBytesPerRank: bufferBytesPerRank,
            unfusedSeconds: unfusedSeconds, fusedSeconds: fusedSeconds, unfusedTokensPerSecond: unfusedTokensPerSecond,
            fusedTokensPerSecond: fusedTokensPerSecond, speedup: speedup, receivedPairsPerRank: receivedPairs,
            gflopsPerRank: gflopsPerRank, fusedGflops: fusedGFLOPS, denseOp: MoEDensePeer.opName(problem), denseRows: denseRows,
            denseSeconds: denseSeconds, denseGflops: denseGFLOPS, fusedOverDense: fusedOverDense, bitwiseEqual: bitwiseEqual, mismatch: mismatch,
            peakResidentBytes: peakResidentBytes, rankPeakResidentBytes: rankPeakResidentBytes)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(fields), let text = String(data: data, encoding: .utf8) else {
            preconditionFailure("a report of numbers and plain strings always encodes")
        }
        return text
    }
}

/// Number and string formatting of the reports.
enum MoEFormat {
    /// `value` with `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    /// `value` without a trailing `.0` when it is whole.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }
}
