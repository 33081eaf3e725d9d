/// A non-tensor argument value in the textual syntax shared by `deepgemm run --set NAME=VALUE`
/// and the test fixtures: integers (`128`), floats (`0.5`, `1e-4`), `true`/`false`, `none`, lists
/// of integers as comma lists with optional brackets (`1,128,128`, `[1,128,128]`, empty `[]`),
/// and anything else as a string (`bhr,hdr->bhd`, `nk`).
public enum ArgumentValue: Hashable, Sendable, CustomStringConvertible {
    /// An integer.
    case int(Int)
    /// A floating-point number.
    case double(Double)
    /// A boolean.
    case bool(Bool)
    /// Python's `None`.
    case none
    /// A list (tuple) of integers.
    case list([Int])
    /// Any other text.
    case string(String)

    /// Parses one value. Text that is neither a number, boolean, `none` nor an integer list is a string.
    public init(parsing text: String) {
        let trimmed = text.trimmingSpaces
        switch trimmed.lowercased() {
        case "true": self = .bool(true); return
        case "false": self = .bool(false); return
        case "none": self = .none; return
        default: break
        }
        if let value = Int(trimmed) { self = .int(value); return }
        if let value = Double(trimmed), trimmed.contains(where: { $0.isNumber }) { self = .double(value); return }
        var body = Substring(trimmed)
        let bracketed = body.hasPrefix("[") && body.hasSuffix("]") || body.hasPrefix("(") && body.hasSuffix(")")
        if bracketed { body = body.dropFirst().dropLast() }
        if bracketed && body.trimmingSpaces.isEmpty { self = .list([]); return }
        if bracketed || body.contains(",") {
            let items = body.split(separator: ",", omittingEmptySubsequences: false).map { Int(String($0).trimmingSpaces) }
            if !items.isEmpty && items.allSatisfy({ $0 != nil }) { self = .list(items.map { $0! }); return }
        }
        self = .string(trimmed)
    }

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return v ? "true" : "false"
        case .none: return "none"
        case .list(let v): return "[" + v.map(String.init).joined(separator: ",") + "]"
        case .string(let v): return v
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
