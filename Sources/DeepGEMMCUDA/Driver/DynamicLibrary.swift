import DeepGEMMCore
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

    /// Opens the first of `candidates` that loads and builds `T` from it (resolving entry points);
    /// every failure becomes the backend's one "unavailable" error, `missing` describing the case
    /// where no candidate opened.
    static func load<T>(first candidates: [String], missing: (LoadFailure) -> String,
                        _ make: (DynamicLibrary) throws -> T) -> Result<T, DeepGEMMError> {
        switch openFirst(of: candidates) {
        case .failure(let failure):
            return .failure(unavailable(missing(failure)))
        case .success(let library):
            do {
                return .success(try make(library))
            } catch let error as DeepGEMMError {
                return .failure(error)
            } catch {
                return .failure(unavailable("\(library.path): \(error)"))
            }
        }
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
