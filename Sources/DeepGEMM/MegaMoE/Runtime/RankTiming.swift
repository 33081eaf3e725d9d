#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic time in nanoseconds for rank waits.
enum RankClock {
    /// Nanoseconds on the monotonic clock.
    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    /// The monotonic time `timeout` from now (saturating).
    static func deadline(after timeout: Duration) -> Int64 {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .max }
        let (sum, overflow) = now().addingReportingOverflow(nanoseconds.partialValue + attoseconds / 1_000_000_000)
        return overflow ? .max : sum
    }
}

/// How a waiting rank gives up the CPU: a few yields, then sleeps growing from 20 µs to 1 ms,
/// so many ranks can wait on few cores without starving the rank they wait for.
struct RankBackoff {
    private var rounds = 0

    /// Waits a little longer each call.
    mutating func pause() {
        rounds += 1
        if rounds <= 16 {
            sched_yield()
        } else {
            let microseconds = min(1000, 20 << min(rounds - 17, 6))
            usleep(UInt32(microseconds))
        }
    }
}

/// Whether a process rank still runs.
enum PeerLiveness {
    /// `false` when `pid` is not a positive id, no longer exists, or is a zombie (exited but not
    /// yet reaped by its parent).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        #if os(Linux)
        return !isZombie(pid)
        #else
        return true
        #endif
    }

    #if os(Linux)
    /// Reads the state letter of `/proc/<pid>/stat` (the field after the command's closing parenthesis).
    private static func isZombie(_ pid: Int32) -> Bool {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return true }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        let count = fread(&buffer, 1, buffer.count - 1, file)
        let bytes = buffer[0..<count].map { UInt8(bitPattern: $0) }
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")), close + 2 < bytes.count else { return false }
        let state = bytes[close + 2]
        return state == UInt8(ascii: "Z") || state == UInt8(ascii: "X")
    }
    #endif
}
