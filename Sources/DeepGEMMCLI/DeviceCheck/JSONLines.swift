import DeepGEMMCore
import Foundation

/// A value of the flat JSON objects the device-check stages write.
enum JSONField {
    case text(String)
    case number(Double)
    case numbers([Double])
    case flag(Bool)
    case null

    var encoded: String {
        switch self {
        case .text(let value):
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(escaped)\""
        case .number(let value): return value.isFinite ? "\(value)" : "null"
        case .numbers(let values): return "[" + values.map { JSONField.number($0).encoded }.joined(separator: ", ") + "]"
        case .flag(let value): return value ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// Writes one line to standard output unbuffered, so output survives a time limit that kills the process.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A JSON-lines file written one object per case as the cases finish, so a run cut short by a time
/// limit or a hang still leaves the finished ones; writes nothing when no path is given.
struct JSONLines {
    private let handle: FileHandle?

    /// Creates (or truncates) the file at `path`.
    init(path: String?) throws {
        guard let path else {
            handle = nil
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw DeepGEMMError.io(path: path, reason: "cannot create the JSON output")
        }
        self.handle = handle
    }

    /// Appends `{"key": value, ...}` with the fields in order.
    func write(_ fields: [(String, JSONField)]) {
        let line = "{" + fields.map { "\"\($0.0)\": \($0.1.encoded)" }.joined(separator: ", ") + "}\n"
        handle?.write(Data(line.utf8))
    }
}
