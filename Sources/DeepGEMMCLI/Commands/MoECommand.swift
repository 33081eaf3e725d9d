import ArgumentParser
import DeepGEMM
import Foundation

/// `deepgemm moe`: runs a Mega MoE layer on random inputs with R ranks, checks the fused op
/// against the unfused pipeline bit for bit, and prints tokens/s and GFLOPS per rank.
struct MoECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moe",
        abstract: "Run a Mega MoE layer on R CPU ranks: fused against unfused, bitwise check, tokens/s and GFLOPS.",
        discussion: """
        The default layer is DeepSeek-V3's MoE (hidden 7168, intermediate 2048, top-8 routing) with 32 experts instead of \
        256, about 0.7 GB of FP4 weights. Every rank gets --tokens tokens, each routed to k distinct experts chosen \
        uniformly (a slot is masked with probability --masked-slots), with weights uniform in (0, 1]. Tokens, routing and \
        weights are generated from --seed, per rank and per expert, so rank processes regenerate their share alone.

        For each token count the unfused pipeline (dispatch, grouped GEMM, SwiGLU, grouped GEMM, combine) runs over all \
        ranks in this process, then the fused op runs with every rank a thread (default) or, with --processes, a process \
        sharing the buffer through POSIX shared memory. The fused y and cumulative expert stats must equal the unfused \
        ones bit for bit; the exit status is non-zero on any difference or failed rank.

        Each rank computes with --threads-per-rank threads (default: all cores; thread ranks share one worker pool, so \
        a rank that is done or waiting leaves its cores to the others).

        Times are medians over at least --min-seconds. tokens/s counts R·T tokens per call; GFLOPS per rank counts, as \
        DeepGEMM's benchmark does, 2·H·I·3 per (token, slot) pair the rank's experts received, over the fused time; \
        GFLOPS all ranks counts every rank's pairs, since the ranks share the machine. The dense peer runs the same \
        expert shapes as plain GEMMs on all cores (fp8_fp4_gemm_nt with per-32 UE8M0 scales, or bf16_gemm_nt) at M = \
        the average pairs of an expert that received any: M×2I×H then M×H×I, counted the same way; fused/dense is the \
        ratio of the two rates.
        """
    )

    @Option(help: "Ranks (R).")
    var ranks: Int = 2

    @Flag(help: "Run each rank as a process (default: a thread of this process).")
    var processes = false

    @Option(help: "Tokens per rank, a comma list; one report each.")
    var tokens: String = "1,64,1024"

    @Option(name: .customLong("threads-per-rank"), help: "CPU threads each rank computes with (default: all; ranks share them).")
    var threadsPerRank: Int?

    @OptionGroup var layer: MoEShapeOptions

    @Option(name: .customLong("min-seconds"), help: "Least time each measurement runs for, in seconds.")
    var minSeconds: Double = 1

    @Flag(help: "Print one JSON object per token count instead of text.")
    var json = false

    @Option(name: .customLong("rank-executable"), help: .hidden)
    var rankExecutable: String?

    /// Hidden, for `scripts/moe-soak.sh`: fused calls of every rank process (the checked one and
    /// `calls - 1` timed ones) instead of as many as --min-seconds asks for.
    @Option(help: .hidden)
    var calls: Int?

    /// Hidden, for `scripts/moe-soak.sh`: the job id naming the rank processes' shared memory
    /// (`/deepgemm-<id>-t<T>-r<R>`), so that a soak can look for leaked segments.
    @Option(name: .customLong("job-id"), help: .hidden)
    var jobID: String?

    /// Hidden, for `scripts/moe-soak.sh`: how long a rank process waits for a peer without progress, in seconds.
    @Option(name: .customLong("rank-timeout"), help: .hidden)
    var rankTimeout: Double = 60

    func run() throws {
        do {
            var first = true
            let reports = try benchmark { report in
                if !json && !first { print("") }
                print(json ? report.json : report.text)
                first = false
            }
            let differing = reports.filter { !$0.bitwiseEqual }.map(\.tokensPerRank)
            if !differing.isEmpty {
                printError("error: fused and unfused results differ at \(differing.map { "T=\($0)" }.joined(separator: ", "))")
                throw ExitCode(1)
            }
        } catch let exit as ExitCode {
            throw exit
        } catch let interrupted as RankLaunchInterrupted {
            printError("error: \(interrupted)")
            interrupted.reraise()
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// Runs every token count, hands each report to `report` as soon as it is ready, and returns
    /// them all. Progress goes to standard error.
    func benchmark(report: @escaping (MoEReport) -> Void = { _ in }) throws -> [MoEReport] {
        let counts = try tokens.split(separator: ",", omittingEmptySubsequences: false).map { item in
            guard let count = Int(item.trimmingCharacters(in: .whitespaces)), count > 0 else {
                throw DeepGEMMError.invalidArgument(argument: "--tokens", rule: "must be a comma list of positive integers, got '\(tokens)'")
            }
            return count
        }
        try DeepGEMMError.require(calls.map { $0 >= 2 } ?? true, "--calls", "must be at least 2, got \(calls ?? 0)")
        try DeepGEMMError.require(rankTimeout > 0, "--rank-timeout", "must be positive, got \(rankTimeout)")
        let rankProcesses = processes ? MoERankProcesses(executable: rankExecutable ?? Self.currentExecutable(),
                                                         layerArguments: layer.arguments, calls: calls, jobID: jobID,
                                                         timeoutSeconds: rankTimeout) : nil
        return try MoEBenchmark(problem: try layer.problem(), ranks: ranks, tokenCounts: counts, minimumSeconds: minSeconds,
                                processes: rankProcesses, threadsPerRank: threadsPerRank, progress: printError, completed: report).run()
    }

    /// This executable's path: `/proc/self/exe` resolved on Linux, else the bundle's executable
    /// or, failing that, the first argument.
    static func currentExecutable() -> String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}
