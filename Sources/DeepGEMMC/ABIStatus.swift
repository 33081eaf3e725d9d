import CDeepGEMMABI
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DeepGEMM
import DeepGEMMOps

/// Runs `body` for a C entry point: DG_OK after clearing the thread's error, or the status of the
/// error it threw after recording its message, argument and rank.
func withStatus(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        dg_internal_clear_error()
        return Int32(DG_OK.rawValue)
    } catch {
        return record(error)
    }
}

/// Records `error` as the thread's last error and returns its status.
@discardableResult
func record(_ error: any Error) -> Int32 {
    let (status, argument, rank) = classify(error)
    dg_internal_set_error("\(error)", argument, Int32(rank))
    return Int32(status.rawValue)
}

/// The status, argument name ("" when none) and rank (-1 when none) of an error.
func classify(_ error: any Error) -> (dg_status, String, Int) {
    switch error {
    case let error as DeepGEMMError:
        switch error {
        case .invalidArgument(let argument, _): return (DG_ERROR_INVALID_ARGUMENT, argument, -1)
        case .unsupported(let argument, _): return (DG_ERROR_UNSUPPORTED, argument, -1)
        case .backendUnavailable: return (DG_ERROR_BACKEND_UNAVAILABLE, "", -1)
        case .io: return (DG_ERROR_IO, "", -1)
        }
    case let error as OpCallError:
        switch error {
        case .unknownOp: return (DG_ERROR_UNKNOWN_OP, "", -1)
        case .wrongKind(let argument, _): return (DG_ERROR_TYPE, argument, -1)
        }
    case let error as RankFailure: return (DG_ERROR_RANK_FAILURE, "", error.rank)
    case is SafeTensorsError: return (DG_ERROR_IO, "", -1)
    default: return (DG_ERROR_INTERNAL, "", -1)
    }
}

/// A Swift string from a C string, or an error naming `argument` when it is NULL.
func string(_ pointer: UnsafePointer<CChar>?, argument: String) throws -> String {
    guard let pointer else { throw DeepGEMMError.invalidArgument(argument: argument, rule: "must not be NULL") }
    return String(cString: pointer)
}

/// Copies of strings that C callers may keep forever (version, info JSON): one copy per distinct text.
enum InternedStrings {
    private static let table = Locked<[String: UnsafeMutablePointer<CChar>]>([:])

    /// A NUL-terminated copy of `text` that is never freed.
    static func pointer(_ text: String) -> UnsafePointer<CChar> {
        let pointer: UnsafeMutablePointer<CChar> = table.withLock { table in
            if let existing = table[text] { return existing }
            let copy = strdup(text)!
            table[text] = copy
            return copy
        }
        return UnsafePointer(pointer)
    }
}
