import DeepGEMMCore
import Dispatch

/// How the CPU backend spreads work over threads.
public enum CPUParallelism {
    /// Number of worker threads: the count given to ``setThreadCount(_:)``, else `DG_NUM_THREADS`
    /// when set to a positive integer, otherwise the number of active processors.
    public static var threadCount: Int { configuredThreadCount.withLock { $0 } ?? defaultThreadCount }

    /// `DG_NUM_THREADS` when set to a positive integer, otherwise the number of active processors.
    public static let defaultThreadCount: Int = {
        if let text = getenv("DG_NUM_THREADS").map({ String(cString: $0) }), let n = Int(text), n > 0 { return n }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()

    /// Makes every later op use `count` threads (nil or 0: ``defaultThreadCount``); returns the
    /// count in effect before. A negative count is an error naming `threads`.
    @discardableResult
    public static func setThreadCount(_ count: Int?) throws -> Int {
        try DeepGEMMError.require(count.map { $0 >= 0 } ?? true, "threads", "must be non-negative (0: all processors), got \(count ?? 0)")
        return configuredThreadCount.withLock { configured in
            defer { configured = count == 0 ? nil : count }
            return configured ?? defaultThreadCount
        }
    }

    private static let configuredThreadCount = Locked<Int?>(nil)

    /// Splits `0..<count` into contiguous chunks of at least `grain` items and runs `body` on each,
    /// concurrently when there is more than one chunk. Returns when all chunks are done.
    public static func forEachChunk(_ count: Int, grain: Int = 1, threads: Int = threadCount,
                                    _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(threads, count / max(grain, 1)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
            body(start..<end)
        }
    }
}

/// A pointer that may cross into the worker closures of ``CPUParallelism``; each worker must
/// touch a disjoint part of the memory.
public struct SendablePointer: @unchecked Sendable {
    /// The address.
    public let raw: UnsafeMutableRawPointer
    /// Wraps `raw`.
    public init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
