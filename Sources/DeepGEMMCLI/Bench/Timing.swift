#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Medians of one run's wall-clock and process CPU time, in seconds.
struct RunTimes {
    /// Wall-clock seconds.
    let wall: Double
    /// CPU seconds of every thread of the process together: unlike `wall`, it leaves out the time
    /// the threads waited for a core, so it stays comparable when other programs load the machine.
    let cpu: Double
}

/// Wall-clock timing for benchmarks.
enum Timing {
    /// Monotonic time in seconds.
    static func now() -> Double { seconds(CLOCK_MONOTONIC) }

    /// CPU time of the whole process in seconds.
    static func processCPUTime() -> Double { seconds(CLOCK_PROCESS_CPUTIME_ID) }

    private static func seconds(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Runs each of `bodies` once to warm up, then all of them in turn, round after round, for at
    /// least `minimumSeconds` per body (3 to `maximumRuns` rounds), and returns each body's median
    /// time of one run in seconds. Alternating puts the bodies under the same load of a shared
    /// machine, so their ratio holds where medians measured one after the other would not.
    static func alternatingMedians(minimumSeconds: Double = 1, maximumRuns: Int = 100, _ bodies: [() throws -> Void]) throws -> [Double] {
        for body in bodies { try body() }
        var samples = [[Double]](repeating: [], count: bodies.count)
        let start = now(), total = minimumSeconds * Double(bodies.count)
        while samples[0].count < 3 || (now() - start < total && samples[0].count < maximumRuns) {
            for (index, body) in bodies.enumerated() {
                let t0 = now()
                try body()
                samples[index].append(now() - t0)
            }
        }
        return samples.map { $0.sorted()[$0.count / 2] }
    }

    /// Runs `body` once to warm up, then repeatedly for at least `minimumSeconds` (3 to `maximumRuns`
    /// runs) and returns the median time of one run in seconds.
    static func median(minimumSeconds: Double = 1, maximumRuns: Int = 100, _ body: () throws -> Void) rethrows -> Double {
        try medians(minimumSeconds: minimumSeconds, maximumRuns: maximumRuns, body).wall
    }

    /// ``median(minimumSeconds:maximumRuns:_:)`` with the median process CPU time of the same runs.
    static func medians(minimumSeconds: Double = 1, maximumRuns: Int = 100, _ body: () throws -> Void) rethrows -> RunTimes {
        try body()
        var wall: [Double] = [], cpu: [Double] = []
        let start = now()
        while wall.count < 3 || (now() - start < minimumSeconds && wall.count < maximumRuns) {
            let t0 = now(), c0 = processCPUTime()
            try body()
            wall.append(now() - t0)
            cpu.append(processCPUTime() - c0)
        }
        return RunTimes(wall: wall.sorted()[wall.count / 2], cpu: cpu.sorted()[cpu.count / 2])
    }
}
