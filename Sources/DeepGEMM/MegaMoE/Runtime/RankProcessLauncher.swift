#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeepGEMMCore

/// How one rank process ended.
public struct RankExitStatus: Sendable, Equatable, CustomStringConvertible {
    /// The rank.
    public var rank: Int
    /// Its process id.
    public var pid: Int32
    /// The exit code, when it exited normally (both this and ``signal`` are `nil` when the status
    /// could not be collected).
    public var exitCode: Int32?
    /// The signal that ended it, when one did.
    public var signal: Int32?
    /// Its peak resident memory in bytes (`wait4`'s `ru_maxrss`); nil when the status could not
    /// be collected.
    public var peakResidentBytes: Int?

    /// Whether the rank exited with code 0.
    public var succeeded: Bool { exitCode == 0 }

    /// A one-line summary, e.g. `rank 2 (pid 123): killed by signal 9`.
    public var description: String {
        if let exitCode { return "rank \(rank) (pid \(pid)): exit code \(exitCode)" }
        if let signal { return "rank \(rank) (pid \(pid)): killed by signal \(signal)" }
        return "rank \(rank) (pid \(pid)): exit status unknown"
    }
}

extension RankLauncher {
    /// Spawns `ranks` copies of `executable` (a path; `PATH` is not searched) with `arguments`,
    /// each told its rank, the rank count and the job id through ``RankEnvironment`` variables
    /// (added to this process's environment), waits for all of them and returns their exit
    /// statuses in rank order.
    ///
    /// Ranks detect a dead peer themselves (by pid); the launcher reaps children promptly so a
    /// dead rank does not linger as a zombie. Ranks still running `failureGrace` after another
    /// one failed are killed (SIGKILL). Afterwards the job's shared-memory name is unlinked, in
    /// case rank 0 was killed before it could do so.
    ///
    /// SIGINT or SIGTERM received meanwhile is passed on to every running rank (SIGKILL follows
    /// for ranks still running 5 s later); once all are reaped and the name is unlinked this throws
    /// ``RankLaunchInterrupted`` (``RankLaunchInterrupted/reraise()`` then ends the process by the signal).
    public static func runProcesses(ranks: Int, executable: String, arguments: [String],
                                    jobID: String = defaultJobID(),
                                    failureGrace: Duration = .seconds(120)) throws -> [RankExitStatus] {
        try DeepGEMMError.require(ranks >= 1 && ranks <= SymmetricMemory.maxRankCount, "num_ranks",
                                  "must be in 1...\(SymmetricMemory.maxRankCount)")
        let segmentName = try SymmetricMemory.segmentName(jobID: jobID, rankCount: ranks)
        defer { shm_unlink(segmentName) }
        LaunchSignals.begin()
        defer { LaunchSignals.end() }
        var pids: [Int32] = []
        for rank in 0..<ranks {
            do {
                pids.append(try spawn(executable, arguments: arguments,
                                      extraEnvironment: RankEnvironment(rank: rank, rankCount: ranks, jobID: jobID).variables))
            } catch {
                for pid in pids { kill(pid, SIGKILL) }
                _ = reap(pids, failureGrace: .zero)
                throw error
            }
        }
        let (statuses, interruption) = reap(pids, failureGrace: failureGrace)
        if let interruption { throw RankLaunchInterrupted(signal: interruption, statuses: statuses) }
        return statuses
    }

    /// A job id unique to this process and moment: `p<pid>-<monotonic nanoseconds>`.
    public static func defaultJobID() -> String { "p\(getpid())-\(RankClock.now())" }

    private static func spawn(_ executable: String, arguments: [String], extraEnvironment: [String]) throws -> Int32 {
        var environment: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if !extraEnvironment.contains(where: { text.hasPrefix($0.prefix(while: { $0 != "=" }) + "=") }) {
                environment.append(text)
            }
            entry += 1
        }
        environment += extraEnvironment
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, nil, nil, argv, envp)
        guard status == 0 else {
            throw DeepGEMMError.io(path: executable, reason: "posix_spawn failed: \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Polls the children (WNOHANG, so unrelated children are never reaped) until all ended;
    /// returns their statuses and the launcher signal passed on to them, if any.
    private static func reap(_ pids: [Int32], failureGrace: Duration) -> (statuses: [RankExitStatus], interruption: Int32?) {
        var statuses: [RankExitStatus?] = Array(repeating: nil, count: pids.count)
        var killDeadline: Int64?
        var interruption: Int32?
        var backoff = RankBackoff()
        while statuses.contains(where: { $0 == nil }) {
            var progressed = false
            for (rank, pid) in pids.enumerated() where statuses[rank] == nil {
                var raw: Int32 = 0
                var usage = rusage()
                let result = wait4(pid, &raw, WNOHANG, &usage)
                guard result == pid || (result < 0 && errno != EINTR) else { continue }
                progressed = true
                let status = decode(rank: rank, pid: pid, raw: result == pid ? raw : nil, usage: usage)
                statuses[rank] = status
                if !status.succeeded, killDeadline == nil { killDeadline = RankClock.deadline(after: failureGrace) }
            }
            let signal = LaunchSignals.pending
            if interruption == nil, signal != 0 {
                interruption = signal
                for (rank, pid) in pids.enumerated() where statuses[rank] == nil { kill(pid, signal) }
                killDeadline = min(killDeadline ?? .max, RankClock.deadline(after: .seconds(5)))
            }
            if let killDeadline, RankClock.now() >= killDeadline {
                for (rank, pid) in pids.enumerated() where statuses[rank] == nil { kill(pid, SIGKILL) }
            }
            if !progressed { backoff.pause() } else { backoff = RankBackoff() }
        }
        return (statuses.compactMap { $0 }, interruption)
    }

    private static func decode(rank: Int, pid: Int32, raw: Int32?, usage: rusage) -> RankExitStatus {
        guard let raw else { return RankExitStatus(rank: rank, pid: pid, exitCode: nil, signal: nil, peakResidentBytes: nil) }
        let signal = raw & 0x7F, peak = PeakResidentMemory.bytes(of: usage)
        if signal == 0 { return RankExitStatus(rank: rank, pid: pid, exitCode: (raw >> 8) & 0xFF, signal: nil, peakResidentBytes: peak) }
        return RankExitStatus(rank: rank, pid: pid, exitCode: nil, signal: signal, peakResidentBytes: peak)
    }
}
