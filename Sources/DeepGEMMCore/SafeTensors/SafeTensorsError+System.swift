#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension SafeTensorsError {
    /// ``io(path:reason:)`` for a failed system call: `action`, then the message for the current `errno`.
    static func system(path: String, _ action: String) -> SafeTensorsError {
        .io(path: path, reason: "\(action): \(String(cString: strerror(errno)))")
    }
}
