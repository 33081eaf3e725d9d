import Foundation
import Testing
import DeepGEMM
@testable import DeepGEMMCLI

/// `deepgemm moe --processes` under faults: a rank killed by the DG_MEGA_MOE_FAULT hook is named by
/// its surviving peer, and SIGTERM to the launcher stops the ranks and cleans up. Each case runs in
/// a child process, which owns the environment variables and signal dispositions it changes.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: MoECommandTests.deepgemmExecutable),
                "the deepgemm executable is built next to the tests"))
struct MoEFaultTests {
    /// `deepgemm moe` on 2 rank processes of a tiny layer, `calls` fused calls each.
    static func command(calls: Int, jobID: String) throws -> MoECommand {
        try MoECommand.parse(["--ranks", "2", "--processes", "--tokens", "5", "--experts", "4", "--topk", "2", "--hidden", "512",
                              "--intermediate", "512", "--min-seconds", "0", "--calls", "\(calls)", "--rank-timeout", "10",
                              "--job-id", jobID, "--rank-executable", MoECommandTests.deepgemmExecutable])
    }

    @Test("a rank killed at any phase is reported killed, and its peer fails naming it", arguments: RankFault.Phase.allCases.map(\.rawValue))
    func killedRankIsNamed(phase: String) async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) { [phase = phase as String] in
            setenv(RankFault.variable, "1:\(phase):2", 1)
            do {
                _ = try MoEFaultTests.command(calls: 4, jobID: "fault-\(getpid())").benchmark()
            } catch let failure as MoERankProcessFailure {
                let ends = failure.statuses.map { "\($0.rank):\($0.exitCode.map(String.init) ?? "-"):\($0.signal.map(String.init) ?? "-")" }
                exit(ends == ["0:1:-", "1:-:\(SIGKILL)"] ? 0 : 2)
            }
            exit(3)
        }
        let errors = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(errors.contains("moe-rank 0: rank 1 died (its process no longer exists)"), "\(errors)")
    }

    @Test("SIGTERM to the launcher stops every rank, removes its files and leaves no segment")
    func launcherSignalStopsRanks() async throws {
        let scratch = NSTemporaryDirectory() + "deepgemm-moe-signal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        await #expect(processExitsWith: .success) { [scratch = scratch as String] in
            setenv("TMPDIR", scratch + "/", 1)
            // Exit-test children start with SIGINT and SIGTERM blocked; ranks inherit the mask.
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            let jobID = "signal-\(getpid())"
            Thread.detachNewThread {
                // The launcher creates its result directory just before it starts the ranks.
                while (try? FileManager.default.contentsOfDirectory(atPath: scratch))?.isEmpty ?? true { usleep(10_000) }
                usleep(300_000)
                kill(getpid(), SIGTERM)
            }
            do {
                _ = try MoEFaultTests.command(calls: 1_000_000, jobID: jobID).benchmark()
            } catch let interrupted as RankLaunchInterrupted {
                let stopped = interrupted.signal == SIGTERM && interrupted.statuses.map(\.signal) == [SIGTERM, SIGTERM]
                let clean = (try? FileManager.default.contentsOfDirectory(atPath: scratch))?.isEmpty == true
                    && !FileManager.default.fileExists(atPath: "/dev/shm/deepgemm-\(jobID)-t5-r2")
                exit(stopped ? (clean ? 0 : 4) : 2)
            }
            exit(3)
        }
    }
}
