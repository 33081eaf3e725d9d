import DeepGEMMCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A shared library opened with `dlopen`. An accepted library is never closed: the driver and NVRTC
/// stay loaded for the life of the process, as function pointers taken from them may be kept
/// anywhere. Only a candidate the search rejects is closed, before anything from it is kept.
final class DynamicLibrary: Sendable {
    /// The path or name it was opened by.
    let path: String
    private nonisolated(unsafe) let handle: UnsafeMutableRawPointer

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// Opens `candidate` (a path, or a bare name for the system loader), or returns dlopen's message.
    static func open(_ candidate: String) -> Result<DynamicLibrary, LibraryOpenError> {
        if let handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) {
            return .success(DynamicLibrary(path: candidate, handle: handle))
        }
        let message = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
        // dlerror starts with the name tried, which the attempt already records
        return .failure(LibraryOpenError(message: message.hasPrefix(candidate + ": ") ? String(message.dropFirst(candidate.count + 2)) : message))
    }

    /// Closes a rejected candidate.
    static func close(_ library: DynamicLibrary) {
        dlclose(library.handle)
    }

    /// Searches `candidates` with dlopen: the first that opens and builds `T` wins, the others are
    /// closed; `missing` describes the case where none is accepted.
    static func load<T: Sendable>(first candidates: [String], missing: @escaping ([LibraryAttempt]) -> String,
                                  _ make: (DynamicLibrary) throws -> T) -> LibrarySearchResult<T> {
        LibrarySearch.first(of: candidates, open: DynamicLibrary.open, close: DynamicLibrary.close, missing: missing, build: make)
    }

    /// The address of symbol `name`, or nil.
    func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(handle, name)
    }

    /// Symbol `name` as a C function of `type`; a missing one is ``DeepGEMMError/backendUnavailable(backend:reason:)``
    /// naming this library.
    func function<F>(_ name: String, as type: F.Type) throws -> F {
        guard let symbol = symbol(name) else { throw unavailable("\(path) lacks \(name)") }
        return unsafeBitCast(symbol, to: type)
    }
}
