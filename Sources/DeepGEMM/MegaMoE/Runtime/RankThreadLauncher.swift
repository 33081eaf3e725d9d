#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

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
        let results = ResultSlots<T>(count: ranks)
        try withoutActuallyEscaping(body) { body in
            var threads: [RankThread] = []
            defer { for thread in threads { thread.join() } }
            for rank in 0..<ranks {
                do {
                    threads.append(try RankThread.start {
                        results.set(rank, Result { try runRank(rank, memory: memory, timeout: timeout, body: body) })
                    })
                } catch {
                    // Ranks that never started count as failed, so the started ones stop waiting.
                    for missing in rank..<ranks { memory.control.setState(.failed, of: missing) }
                    throw error
                }
            }
        }
        return results.collected()
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

/// One result per rank, filled from the rank threads.
private final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private var slots: [Result<T, any Error>?]
    private let lock = Mutex(())

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ rank: Int, _ result: Result<T, any Error>) { lock.withLock { _ in slots[rank] = result } }

    func collected() -> [Result<T, any Error>] {
        lock.withLock { _ in
            slots.map { slot in
                guard let slot else { preconditionFailure("every rank thread stores its result before it is joined") }
                return slot
            }
        }
    }
}
