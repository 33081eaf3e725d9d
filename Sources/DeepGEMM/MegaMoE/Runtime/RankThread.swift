#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeepGEMMCore

/// A dedicated POSIX thread (one per rank: ranks block on each other, so they must not share
/// a bounded pool).
struct RankThread {
    private final class Work {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private let handle: pthread_t

    /// Starts a thread running `work`.
    static func start(_ work: @escaping @Sendable () -> Void) throws -> RankThread {
        let context = Unmanaged.passRetained(Work(work)).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { context in
            guard let context else { return nil }
            Unmanaged<Work>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<Work>.fromOpaque(context).release()
            throw DeepGEMMError.io(path: "pthread_create", reason: String(cString: strerror(status)))
        }
        return RankThread(handle: handle)
    }

    /// Waits for the thread to finish.
    func join() { pthread_join(handle, nil) }
}

extension RankThread {
    /// Runs `body(rank)` for every rank in `0..<count`, each on its own thread, and returns each
    /// outcome in rank order once all threads finished. When a thread cannot be started,
    /// `unstarted` is told the ranks that will never run (so the running ones can stop waiting
    /// for them) before the error is thrown.
    static func runAll<T: Sendable>(_ count: Int, unstarted: (Range<Int>) -> Void = { _ in },
                                    _ body: @Sendable (Int) throws -> T) throws -> [Result<T, any Error>] {
        let results = ResultSlots<T>(count: count)
        try withoutActuallyEscaping(body) { body in
            var threads: [RankThread] = []
            defer { for thread in threads { thread.join() } }
            for rank in 0..<count {
                do {
                    threads.append(try RankThread.start { results.set(rank, Result { try body(rank) }) })
                } catch {
                    unstarted(rank..<count)
                    throw error
                }
            }
        }
        return results.collected()
    }
}

/// One result per rank, filled from the rank threads.
final class ResultSlots<T: Sendable>: Sendable {
    private let slots: Locked<[Result<T, any Error>?]>

    init(count: Int) { slots = Locked(Array(repeating: nil, count: count)) }

    func set(_ rank: Int, _ result: Result<T, any Error>) { slots.withLock { $0[rank] = result } }

    func collected() -> [Result<T, any Error>] {
        slots.withLock { slots in
            slots.map { slot in
                guard let slot else { preconditionFailure("every rank thread stores its result before it is joined") }
                return slot
            }
        }
    }
}
