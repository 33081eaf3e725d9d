import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Waits for queued device work with a deadline, polling (the stream's `cuStreamQuery` on a GPU)
/// instead of blocking, so a kernel that never ends is noticed and the run can stop.
public struct Watchdog: Sendable {
    /// Seconds a case's queued work may take.
    public var deadline: Double

    /// Creates a watchdog with `deadline` seconds per wait.
    public init(deadline: Double) {
        self.deadline = deadline
    }

    /// How a wait ended.
    public enum Outcome: Sendable, Equatable {
        /// The work finished in time.
        case finished
        /// The deadline passed with the work still running.
        case hung
    }

    /// Polls `isFinished` (sleeping 50 µs doubling to 5 ms between polls) until it answers true or the
    /// deadline passes.
    public func wait(until isFinished: () throws -> Bool) rethrows -> Outcome {
        let end = Date().addingTimeInterval(deadline)
        var pause: useconds_t = 50
        while true {
            if try isFinished() { return .finished }
            if Date() >= end { return .hung }
            usleep(pause)
            pause = min(pause * 2, 5000)
        }
    }

    /// The exit status of a run stopped by a hang.
    public static let hangExitStatus: Int32 = 3

    /// Writes `HANG <label>` to standard output and standard error and ends the process at once with
    /// ``hangExitStatus`` (`_exit`: no atexit handlers or destructors, which could wait for the hung
    /// kernel).
    public static func stopOnHang(_ label: String, deadline: Double) -> Never {
        let line = "HANG \(label) (still running after \(deadline) s; stopping the run)\n"
        for descriptor: Int32 in [1, 2] {
            line.utf8CString.withUnsafeBufferPointer { text in _ = write(descriptor, text.baseAddress, text.count - 1) }
            fsync(descriptor)
        }
        _exit(hangExitStatus)
    }
}
