import ArgumentParser
import DeepGEMM

/// `deepgemm moe-rank` (hidden): one rank process of `deepgemm moe --processes`, started by
/// ``RankLauncher/runProcesses(ranks:executable:arguments:jobID:failureGrace:)``.
struct MoERankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moe-rank",
        abstract: "One rank process of 'deepgemm moe --processes' (started by it, not by hand).",
        shouldDisplay: false
    )

    @OptionGroup var layer: MoEShapeOptions

    @Option(help: "This rank's tokens.")
    var tokens: Int

    @Option(name: .customLong("max-tokens"), help: "The buffer's tokens per rank.")
    var maxTokens: Int

    @Option(help: "Timed calls after the first.")
    var iterations: Int

    @Option(name: .customLong("output-dir"), help: "Directory for rank<r>.safetensors.")
    var outputDir: String

    @Option(name: .customLong("threads-per-rank"), help: "CPU threads of this rank (default: all).")
    var threadsPerRank: Int?

    @Option(help: "Seconds a wait for a peer may go without progress.")
    var timeout: Double = 60

    func run() throws {
        do {
            try DeepGEMMError.require(timeout > 0, "--timeout", "must be positive, got \(timeout)")
            try MoERankRun(problem: try layer.problem(), tokens: tokens, maxTokens: maxTokens, iterations: iterations,
                           outputDirectory: outputDir, threadsPerRank: threadsPerRank, timeout: .milliseconds(Int64(timeout * 1000))).run()
        } catch {
            let rank = (try? RankEnvironment.current())??.rank
            printError("moe-rank\(rank.map { " \($0)" } ?? ""): \(error)")
            throw ExitCode(1)
        }
    }
}
