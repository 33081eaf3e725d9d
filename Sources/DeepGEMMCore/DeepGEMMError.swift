/// The error every DeepGEMM operation throws for bad input or an unavailable backend.
///
/// Each case names the offending argument and the rule it broke, so the message alone tells the
/// caller what to fix. Internal invariants use `precondition`; user input never traps.
public enum DeepGEMMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An argument broke one of DeepGEMM's rules (dtype, shape, stride, alignment, value range).
    case invalidArgument(argument: String, rule: String)
    /// The combination of arguments is valid in general but not supported by the selected
    /// architecture personality or backend.
    case unsupported(argument: String, rule: String)
    /// A backend was requested that cannot run here (missing driver, library or device).
    case backendUnavailable(backend: String, reason: String)
    /// A file could not be read or written.
    case io(path: String, reason: String)

    /// The argument the error is about, or the backend or path for the non-argument cases.
    public var argument: String {
        switch self {
        case .invalidArgument(let argument, _), .unsupported(let argument, _): return argument
        case .backendUnavailable(let backend, _): return backend
        case .io(let path, _): return path
        }
    }

    /// A one-line, human-readable message.
    public var description: String {
        switch self {
        case .invalidArgument(let argument, let rule): return "invalid argument '\(argument)': \(rule)"
        case .unsupported(let argument, let rule): return "unsupported '\(argument)': \(rule)"
        case .backendUnavailable(let backend, let reason): return "backend '\(backend)' unavailable: \(reason)"
        case .io(let path, let reason): return "I/O error on '\(path)': \(reason)"
        }
    }
}

extension DeepGEMMError {
    /// Throws `.invalidArgument(argument, rule)` unless `condition` holds.
    @inlinable
    public static func require(_ condition: Bool, _ argument: String, _ rule: @autoclosure () -> String) throws(DeepGEMMError) {
        if !condition { throw .invalidArgument(argument: argument, rule: rule()) }
    }
}
