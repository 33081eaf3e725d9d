#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Peak resident memory (the high-water mark of physical memory a process used), from
/// `getrusage`/`wait4` (`ru_maxrss`: kibibytes on Linux, bytes on Darwin).
public enum PeakResidentMemory {
    /// Bytes of this process's peak so far.
    public static func ofThisProcess() -> Int {
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        return bytes(of: usage)
    }

    /// Bytes of the peak `usage` reports.
    public static func bytes(of usage: rusage) -> Int {
        #if canImport(Darwin)
        return Int(usage.ru_maxrss)
        #else
        return Int(usage.ru_maxrss) * 1024
        #endif
    }
}
