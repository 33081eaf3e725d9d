#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library opened with `dlopen`. It is never closed: the driver and NVRTC stay loaded for
/// the life of the process, as function pointers taken from them may be kept anywhere.
final class DynamicLibrary: Sendable {
    /// The path or name it was opened by.
    let path: String
    private nonisolated(unsafe) let handle: UnsafeMutableRawPointer

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// Opens the first of `candidates` that loads, or returns why each failed.
    static func openFirst(of candidates: [String]) -> Result<DynamicLibrary, LoadFailure> {
        var failures: [String] = []
        for candidate in candidates {
            if let handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) {
                return .success(DynamicLibrary(path: candidate, handle: handle))
            }
            let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            failures.append(reason)
        }
        return .failure(LoadFailure(tried: candidates, reasons: failures))
    }

    /// The address of symbol `name`, or nil.
    func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(handle, name)
    }

    /// Why no candidate library could be opened.
    struct LoadFailure: Error {
        /// The paths or names tried, in order.
        let tried: [String]
        /// dlopen's message for each.
        let reasons: [String]
    }
}
