#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock timing for benchmarks.
enum Timing {
    /// Monotonic time in seconds.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Runs `body` once to warm up, then repeatedly for at least `minimumSeconds` (3 to `maximumRuns`
    /// runs) and returns the median time of one run in seconds.
    static func median(minimumSeconds: Double = 1, maximumRuns: Int = 100, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var samples: [Double] = []
        let start = now()
        while samples.count < 3 || (now() - start < minimumSeconds && samples.count < maximumRuns) {
            let t0 = now()
            try body()
            samples.append(now() - t0)
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}
