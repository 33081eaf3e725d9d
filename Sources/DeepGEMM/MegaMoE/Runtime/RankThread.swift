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
