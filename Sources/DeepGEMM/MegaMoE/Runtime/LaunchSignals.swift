import DeepGEMMCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// ``RankLauncher/runProcesses(ranks:executable:arguments:jobID:failureGrace:)`` received SIGINT or
/// SIGTERM, passed it on to its rank processes and waited for them to end.
public struct RankLaunchInterrupted: Error, Sendable, CustomStringConvertible {
    /// The signal the launcher received.
    public var signal: Int32
    /// How each rank ended.
    public var statuses: [RankExitStatus]

    /// One line naming the signal and every rank's end.
    public var description: String {
        "interrupted by signal \(signal); rank processes stopped: " + statuses.map(\.description).joined(separator: "; ")
    }

    /// Ends this process by ``signal`` under the signal's default action, so its parent sees the
    /// usual status of an interrupted process (the launcher's handler is gone by now).
    public func reraise() -> Never {
        #if canImport(Glibc)
        Glibc.signal(signal, SIG_DFL)
        #else
        Darwin.signal(signal, SIG_DFL)
        #endif
        raise(signal)
        _exit(128 + signal)
    }
}

/// SIGINT and SIGTERM handling while rank processes run: the handler only records the signal;
/// the launcher's wait loop sees it, passes it on to the ranks and reaps them. Installed while at
/// least one launch of this process runs; the previous dispositions come back after the last one
/// (a handler some other code installs meanwhile is not kept).
enum LaunchSignals {
    private static let handled: [Int32] = [SIGINT, SIGTERM]
    private static let received = Atomic<Int32>(0)
    private static let state = Locked<State>(State())

    private struct State: @unchecked Sendable {
        var launches = 0
        var previous: [Int32: sigaction] = [:]
    }

    /// Starts a launch: installs the handlers when none is running. A signal ignored so far stays ignored.
    static func begin() {
        state.withLock { state in
            state.launches += 1
            guard state.launches == 1 else { return }
            received.store(0, ordering: .relaxed)
            for signal in handled {
                var current = sigaction()
                guard sigaction(signal, nil, &current) == 0 else { continue }
                #if canImport(Glibc)
                let handler = current.__sigaction_handler.sa_handler
                #else
                let handler = current.__sigaction_u.__sa_handler
                #endif
                if unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
                state.previous[signal] = current
                var action = sigaction()
                #if canImport(Glibc)
                action.__sigaction_handler.sa_handler = { LaunchSignals.received.store($0, ordering: .relaxed) }
                #else
                action.__sigaction_u.__sa_handler = { LaunchSignals.received.store($0, ordering: .relaxed) }
                #endif
                sigemptyset(&action.sa_mask)
                sigaction(signal, &action, nil)
            }
        }
    }

    /// Ends a launch: restores the previous dispositions after the last one.
    static func end() {
        state.withLock { state in
            state.launches -= 1
            guard state.launches == 0 else { return }
            for (signal, var action) in state.previous { sigaction(signal, &action, nil) }
            state.previous = [:]
        }
    }

    /// The last signal received since the first running launch began; 0 when none.
    static var pending: Int32 { received.load(ordering: .relaxed) }
}
