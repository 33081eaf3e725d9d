import DeepGEMM

/// One parameter of an op, as DeepGEMM's Python function declares it.
public struct OpParameter: Sendable, Equatable {
    /// What a parameter holds.
    public enum Kind: String, Sendable, CaseIterable {
        /// A tensor.
        case tensor
        /// DeepGEMM's `(data, sf)` tuple: passed as the tensors `NAME` and `NAME_sf` (sf may be None).
        case pair
        /// A Python int.
        case int
        /// A Python float (an int is accepted).
        case float
        /// A Python bool.
        case bool
        /// A string.
        case str
        /// A tuple or list of ints.
        case ints
        /// A torch dtype, passed by name (`float32`, `bfloat16`, ...).
        case dtype
        /// The Mega MoE symmetric buffer.
        case buffer
        /// A list of tensors (not used yet).
        case tensors
    }

    /// A default value, as Python writes it in the signature.
    public enum Default: Sendable, Equatable {
        /// `None`.
        case null
        /// An int.
        case int(Int)
        /// A float.
        case float(Double)
        /// A bool.
        case bool(Bool)
        /// A string (or a dtype name).
        case string(String)
        /// A tuple of ints.
        case ints([Int])

        /// The value in the argument syntax ops read, nil for `None`.
        var argumentValue: ArgumentValue? {
            switch self {
            case .null: return nil
            case .int(let value): return .int(value)
            case .float(let value): return .double(value)
            case .bool(let value): return .bool(value)
            case .string(let value): return .string(value)
            case .ints(let value): return .list(value)
            }
        }

        /// Python's spelling, for listings.
        public var pythonText: String {
            switch self {
            case .null: return "None"
            case .int(let value): return String(value)
            case .float(let value): return String(value)
            case .bool(let value): return value ? "True" : "False"
            case .string(let value): return "'\(value)'"
            case .ints(let value): return "(" + value.map(String.init).joined(separator: ", ") + (value.count == 1 ? ",)" : ")")
            }
        }
    }

    /// DeepGEMM's parameter name.
    public let name: String
    /// What it holds.
    public let kind: Kind
    /// Its default; nil when the parameter is required.
    public let defaultValue: Default?
    /// What it is: dtype, shape and rules.
    public let doc: String

    /// A parameter; leave `default` out for a required one.
    public init(_ name: String, _ kind: Kind, default defaultValue: Default? = nil, _ doc: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.doc = doc
    }

    /// Whether a call must give it.
    public var isRequired: Bool { defaultValue == nil }

    /// Whether the parameter is passed as tensors (`tensor`, `pair`).
    public var isTensor: Bool { kind == .tensor || kind == .pair }

    /// `name: kind = default`, for listings.
    public var signature: String {
        "\(name): \(kind.rawValue)" + (defaultValue.map { " = \($0.pythonText)" } ?? "")
    }
}
