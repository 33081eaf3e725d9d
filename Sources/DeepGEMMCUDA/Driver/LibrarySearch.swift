import DeepGEMMCore

/// What happened to one candidate of a library search: the path or name tried and the outcome
/// (`loaded`, or why it was rejected: dlopen's message, a missing entry point, `cuInit` failing, ...).
public struct LibraryAttempt: Sendable, Equatable, CustomStringConvertible {
    /// The path or bare name tried.
    public var candidate: String
    /// `nil` when this candidate was taken, else why it was rejected.
    public var rejection: String?

    /// Creates an attempt record.
    public init(candidate: String, rejection: String?) {
        self.candidate = candidate
        self.rejection = rejection
    }

    /// `libcuda.so.1: loaded` or `/usr/local/cuda/compat/libcuda.so.1: rejected: cuInit failed: ...`.
    public var description: String { "\(candidate): " + (rejection.map { "rejected: \($0)" } ?? "loaded") }
}

/// The outcome of a library search: the built value (or the error naming every rejection) and
/// every candidate tried, in order.
struct LibrarySearchResult<Value: Sendable>: Sendable {
    /// The value built from the first accepted candidate, or the backend-unavailable error.
    var result: Result<Value, DeepGEMMError>
    /// Every candidate tried, the accepted one last.
    var attempts: [LibraryAttempt]
}

/// Tries library candidates in order: the first one that opens *and* builds (entry points resolve,
/// initialisation succeeds) wins; a candidate that opens but fails to build is closed and the next one
/// tried. `open` and `close` are parameters so tests can drive the search without real libraries.
enum LibrarySearch {
    /// Searches `candidates`; `missing` turns the attempts into the error text when none is accepted.
    static func first<Library, Value: Sendable>(
        of candidates: [String], open: (String) -> Result<Library, LibraryOpenError>, close: (Library) -> Void,
        missing: ([LibraryAttempt]) -> String, build: (Library) throws -> Value
    ) -> LibrarySearchResult<Value> {
        var attempts: [LibraryAttempt] = []
        for candidate in candidates {
            switch open(candidate) {
            case .failure(let failure):
                attempts.append(LibraryAttempt(candidate: candidate, rejection: failure.message))
            case .success(let library):
                do {
                    let value = try build(library)
                    attempts.append(LibraryAttempt(candidate: candidate, rejection: nil))
                    return LibrarySearchResult(result: .success(value), attempts: attempts)
                } catch {
                    close(library)
                    attempts.append(LibraryAttempt(candidate: candidate, rejection: rejectionReason(error)))
                }
            }
        }
        return LibrarySearchResult(result: .failure(unavailable(missing(attempts))), attempts: attempts)
    }

    /// The text of a build error (the backend-unavailable reason without its prefix).
    static func rejectionReason(_ error: any Error) -> String {
        if case DeepGEMMError.backendUnavailable(_, let reason)? = error as? DeepGEMMError { return reason }
        return "\(error)"
    }

    /// One line listing every rejection, for the "not found" error.
    static func summary(_ attempts: [LibraryAttempt]) -> String {
        attempts.map(\.description).joined(separator: "; ")
    }
}

/// Why a candidate could not be opened (dlopen's message).
struct LibraryOpenError: Error, Sendable {
    /// The message.
    var message: String
}
