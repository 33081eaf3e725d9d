#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts the ranks of a Mega MoE group and collects how each one ended.
public enum RankLauncher {
    /// Runs `body` once per rank, each rank on its own thread (so ranks never wait on a shared
    /// pool), over one ``SymmetricMemory/local(rankCount:regionBytes:)`` buffer. A rank whose body
    /// throws is marked failed, a rank whose body returns is marked exited, so peers still waiting
    /// for it fail at once instead of timing out. Returns each rank's result, in rank order, after
    /// every thread has finished; the memory is released before returning.
    public static func runThreads<T: Sendable>(
        ranks: Int, regionBytes: Int, timeout: Duration = .seconds(60),
        body: @Sendable (RankGroup) throws -> T
    ) throws -> [Result<T, any Error>] {
        let memory = try SymmetricMemory.local(rankCount: ranks, regionBytes: regionBytes)
        defer { memory.close() }
        return try RankThread.runAll(ranks, unstarted: { missing in
            // Ranks that never started count as failed, so the started ones stop waiting.
            for rank in missing { memory.control.setState(.failed, of: rank) }
        }) { rank in
            try runRank(rank, memory: memory, timeout: timeout, body: body)
        }
    }

    /// One rank's thread: join, run `body`, then report leaving or failing to the peers.
    private static func runRank<T>(_ rank: Int, memory: SymmetricMemory, timeout: Duration,
                                   body: (RankGroup) throws -> T) throws -> T {
        let group = try RankGroup(rank: rank, memory: memory, timeout: timeout)
        do {
            let value = try body(group)
            group.leave()
            return value
        } catch {
            group.markFailed()
            throw error
        }
    }
}
