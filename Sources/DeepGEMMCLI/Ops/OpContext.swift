import DeepGEMM

/// The inputs of one `deepgemm run` call: tensors from the input file and `--set` values, read by
/// DeepGEMM argument name. Every read is recorded so that misspelt `--set` names are reported.
final class OpContext {
    /// Tensors of the input file by name.
    let tensors: [String: Tensor]
    /// `--set` values by name.
    let values: [String: ArgumentValue]
    /// Names of `--set` values the op (or the settings) read.
    var consumed: Set<String> = []
    /// DeepGEMM's global settings, from `--set arch=...` and `--set mk_alignment=...`.
    let settings: DeepGEMMSettings

    /// `--set` names every op accepts.
    static let globalNames: Set<String> = ["arch", "mk_alignment", "num_sms"]

    init(tensors: [String: Tensor], values: [String: ArgumentValue]) throws {
        self.tensors = tensors
        self.values = values
        var settings = DeepGEMMSettings()
        if let arch = values["arch"] {
            guard case .string(let name) = arch, let personality = ArchPersonality(rawValue: name.lowercased()) else {
                throw DeepGEMMError.invalidArgument(argument: "arch", rule: "must be sm90 or sm100, got \(arch)")
            }
            settings.arch = personality
        }
        if let alignment = values["mk_alignment"] {
            guard case .int(let value) = alignment, value > 0 else {
                throw DeepGEMMError.invalidArgument(argument: "mk_alignment", rule: "must be a positive integer, got \(alignment)")
            }
            settings.mkAlignmentForContiguousLayout = value
        }
        if let sms = values["num_sms"] {
            guard case .int(let value) = sms, value >= 0 else {
                throw DeepGEMMError.invalidArgument(argument: "num_sms", rule: "must be a non-negative integer, got \(sms)")
            }
        }
        self.settings = settings
    }

    /// The `--set` names no op read (after the op ran).
    var unusedValueNames: [String] {
        values.keys.filter { !consumed.contains($0) && !OpContext.globalNames.contains($0) }.sorted()
    }

    /// A required tensor argument.
    func tensor(_ name: String) throws -> Tensor {
        guard let tensor = tensors[name] else {
            throw DeepGEMMError.invalidArgument(argument: name, rule: "required tensor is missing from the input file")
        }
        return tensor
    }

    /// An optional tensor argument (absent means None).
    func optionalTensor(_ name: String) -> Tensor? { tensors[name] }

    private func value(_ name: String) -> ArgumentValue? {
        consumed.insert(name)
        if case .none? = values[name] { return nil }
        return values[name]
    }

    /// An integer argument, `fallback` when absent; a missing required one is an error.
    func int(_ name: String, default fallback: Int? = nil) throws -> Int {
        guard let value = value(name) else {
            guard let fallback else { throw DeepGEMMError.invalidArgument(argument: name, rule: "required integer is missing (--set \(name)=N)") }
            return fallback
        }
        guard case .int(let number) = value else { throw DeepGEMMError.invalidArgument(argument: name, rule: "must be an integer, got \(value)") }
        return number
    }

    /// An optional integer argument (absent or `none` means None).
    func optionalInt(_ name: String) throws -> Int? {
        guard let value = value(name) else { return nil }
        guard case .int(let number) = value else { throw DeepGEMMError.invalidArgument(argument: name, rule: "must be an integer or none, got \(value)") }
        return number
    }

    /// A boolean argument, `fallback` when absent.
    func bool(_ name: String, default fallback: Bool? = nil) throws -> Bool {
        guard let value = value(name) else {
            guard let fallback else { throw DeepGEMMError.invalidArgument(argument: name, rule: "required boolean is missing (--set \(name)=true|false)") }
            return fallback
        }
        guard case .bool(let flag) = value else { throw DeepGEMMError.invalidArgument(argument: name, rule: "must be true or false, got \(value)") }
        return flag
    }

    /// An optional boolean argument (absent or `none` means None).
    func optionalBool(_ name: String) throws -> Bool? {
        guard values[name] != nil else { consumed.insert(name); return nil }
        return try value(name) == nil ? nil : bool(name)
    }

    /// Whether `--set arch=...` asked for exactly one architecture's rules (otherwise the CPU
    /// backend accepts the union of the SM90 and SM100 rules).
    var strictArch: Bool { values["arch"] != nil }

    /// An optional string argument (absent or `none` gives nil).
    func optionalString(_ name: String) throws -> String? {
        consumed.insert(name)
        switch values[name] {
        case nil, .none?: return nil
        case .string(let value)?: return value
        case let value?: throw DeepGEMMError.invalidArgument(argument: name, rule: "must be a string, got \(value)")
        }
    }

    /// A required string argument.
    func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else {
            throw DeepGEMMError.invalidArgument(argument: name, rule: "required string is missing (--set \(name)=...)")
        }
        return value
    }

    /// An optional number argument (an integer or a float; absent or `none` means None).
    func optionalNumber(_ name: String) throws -> Double? {
        consumed.insert(name)
        switch values[name] {
        case nil, .none?: return nil
        case .int(let value)?: return Double(value)
        case .double(let value)?: return value
        case let other?: throw DeepGEMMError.invalidArgument(argument: name, rule: "must be a number or none, got \(other)")
        }
    }

    /// A list of integers (a single integer is a one-element list); nil when absent or `none`.
    func intList(_ name: String) throws -> [Int]? {
        guard let value = value(name) else { return nil }
        switch value {
        case .list(let items): return items
        case .int(let item): return [item]
        default: throw DeepGEMMError.invalidArgument(argument: name, rule: "must be a comma list of integers, got \(value)")
        }
    }
}

extension OpContext {
    /// The tensor an op writes in place (`d`, `sqr_sum`, ...): taken from the input file when
    /// present; otherwise a copy of `copyOf` (usually `c`) when that tensor is present; otherwise a
    /// new zero-filled tensor of `shape` whose dtype is `--set NAME_dtype=bf16|f32` (default
    /// `defaultDType`).
    func inPlaceOutput(_ name: String, shape: [Int], defaultDType: DType, copyOf source: String? = nil) throws -> Tensor {
        if let existing = tensors[name] { return existing }
        if let source, let original = tensors[source] { return original.clone() }
        let dtypeName = "\(name)_dtype"
        var dtype = defaultDType
        if let requested = values[dtypeName] {
            consumed.insert(dtypeName)
            guard let parsed = DType(shortName: requested.description), parsed == .bfloat16 || parsed == .float32 else {
                throw DeepGEMMError.invalidArgument(argument: dtypeName, rule: "must be bf16 or f32, got \(requested)")
            }
            dtype = parsed
        }
        return Tensor(zeros: shape, dtype: dtype)
    }
}
