import Foundation
import DeepGEMM

/// The inputs of one op call, read by DeepGEMM argument name: tensors, other values (in the
/// ``ArgumentValue`` syntax `deepgemm run --set` parses), and Mega MoE buffers. A value that is
/// not given takes the op table's default. Every value read is recorded so that misspelt `--set`
/// names are reported.
final class OpContext {
    /// The op's parameters by name (their defaults fill in absent values).
    private let parameters: [String: OpParameter]
    /// Tensors by name (a pair `a` as `a` and `a_sf`).
    let tensors: [String: Tensor]
    /// Other values by name.
    let values: [String: ArgumentValue]
    /// Mega MoE buffers by name.
    let buffers: [String: MegaMoERankBuffer]
    /// Names of values the op (or the settings) read.
    private(set) var consumed: Set<String> = []
    /// The process-wide settings the call started with.
    let runtime: RuntimeSettings
    /// The settings ops take: ``runtime``'s, overridden by the values `arch` and `mk_alignment`
    /// (`deepgemm run --set`).
    let settings: DeepGEMMSettings
    /// Whether exactly one architecture's rules apply (a personality was set for the process or
    /// the call); otherwise the CPU backend accepts the union of the SM90 and SM100 rules.
    let strictArch: Bool

    /// Value names every `deepgemm run` call accepts: global settings for that call.
    static let globalNames: Set<String> = ["arch", "mk_alignment", "num_sms"]

    init(op: OpDefinition, tensors: [String: Tensor], values: [String: ArgumentValue], buffers: [String: MegaMoERankBuffer] = [:],
         runtime: RuntimeSettings = .current) throws {
        self.parameters = op.parametersByName
        (self.tensors, self.values, self.buffers, self.runtime) = (tensors, values, buffers, runtime)
        var settings = runtime.opSettings
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
        self.strictArch = values["arch"] != nil || runtime.arch != nil
    }

    /// The value names no op read (after the op ran).
    var unusedValueNames: [String] {
        values.keys.filter { !consumed.contains($0) && !OpContext.globalNames.contains($0) }.sorted()
    }

    /// A required tensor argument.
    func tensor(_ name: String) throws -> Tensor {
        guard let tensor = tensors[name] else {
            throw DeepGEMMError.invalidArgument(argument: name, rule: "required tensor is missing")
        }
        return tensor
    }

    /// An optional tensor argument (absent means None).
    func optionalTensor(_ name: String) -> Tensor? { tensors[name] }

    /// A Mega MoE buffer argument.
    func buffer(_ name: String) throws -> MegaMoERankBuffer {
        guard let buffer = buffers[name] else {
            throw DeepGEMMError.invalidArgument(argument: name, rule: "required Mega MoE buffer is missing")
        }
        return buffer
    }

    /// The value given for `name`, else the table's default for it; nil for None.
    private func value(_ name: String) -> ArgumentValue? {
        consumed.insert(name)
        if let given = values[name] { return given == .none ? nil : given }
        return parameters[name]?.defaultValue?.argumentValue
    }

    /// The error for a required value that is neither given nor defaulted.
    private func missing(_ name: String, _ what: String) -> DeepGEMMError {
        .invalidArgument(argument: name, rule: "required \(what) is missing (--set \(name)=...)")
    }

    /// An integer argument; `fallback` (a CLI convenience) when neither given nor defaulted.
    func int(_ name: String, default fallback: Int? = nil) throws -> Int {
        guard let number = try optionalInt(name) ?? fallback else { throw missing(name, "integer") }
        return number
    }

    /// An optional integer argument (nil for None).
    func optionalInt(_ name: String) throws -> Int? {
        guard let value = value(name) else { return nil }
        guard case .int(let number) = value else { throw DeepGEMMError.invalidArgument(argument: name, rule: "must be an integer or none, got \(value)") }
        return number
    }

    /// A boolean argument.
    func bool(_ name: String) throws -> Bool {
        guard let flag = try optionalBool(name) else { throw missing(name, "boolean") }
        return flag
    }

    /// An optional boolean argument (nil for None).
    func optionalBool(_ name: String) throws -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw DeepGEMMError.invalidArgument(argument: name, rule: "must be true or false, got \(value)") }
        return flag
    }

    /// An optional string argument (nil for None).
    func optionalString(_ name: String) throws -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw DeepGEMMError.invalidArgument(argument: name, rule: "must be a string, got \(value)") }
        return text
    }

    /// A required string argument.
    func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else { throw missing(name, "string") }
        return value
    }

    /// An optional number argument (an integer or a float; nil for None).
    func optionalNumber(_ name: String) throws -> Double? {
        switch value(name) {
        case nil: return nil
        case .int(let value)?: return Double(value)
        case .double(let value)?: return value
        case let other?: throw DeepGEMMError.invalidArgument(argument: name, rule: "must be a number or none, got \(other)")
        }
    }

    /// A list of integers (a single integer is a one-element list); nil for None.
    func intList(_ name: String) throws -> [Int]? {
        switch value(name) {
        case nil: return nil
        case .list(let items)?: return items
        case .int(let item)?: return [item]
        case let other?: throw DeepGEMMError.invalidArgument(argument: name, rule: "must be a comma list of integers, got \(other)")
        }
    }

    /// A dtype argument by torch name (`float32`, `torch.bfloat16`) or CLI short name (`f32`, `bf16`),
    /// one of `allowed`.
    func dtype(_ name: String, allowed: [DType]) throws -> DType {
        let text = try string(name)
        guard let dtype = DType(torchName: text) ?? DType(shortName: text), allowed.contains(dtype) else {
            throw DeepGEMMError.invalidArgument(argument: name, rule: "must be one of " + allowed.map(\.torchName).joined(separator: ", ") + ", got \(text)")
        }
        return dtype
    }

    /// `num_sms` of the paged MQA schedule: the call's value, else the process setting, else the CPU schedule's default.
    func numSMs() throws -> Int {
        try optionalInt("num_sms") ?? runtime.numSMs ?? PagedMQASchedule.defaultNumSMs
    }
}

extension OpContext {
    /// The tensor an op writes in place (`d`, `sqr_sum`, ...): the one given; otherwise (a
    /// `deepgemm run` convenience, the C ABI requires it) a copy of `copyOf` (usually `c`) when that
    /// tensor is given; otherwise a new zero-filled tensor of `shape` whose dtype is
    /// `NAME_dtype=bf16|f32` (default `defaultDType`).
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
        try Self.requireAllocatable(name, shape: shape, dtype: dtype)
        return Tensor(zeros: shape, dtype: dtype)
    }

    /// Checks that a shape derived from other arguments (`num_splits`, sizes of the inputs) can be
    /// allocated: no negative size, and a byte count that neither overflows nor exceeds this
    /// machine's memory.
    private static func requireAllocatable(_ name: String, shape: [Int], dtype: DType) throws {
        try DeepGEMMError.require(shape.allSatisfy { $0 >= 0 }, name,
                                  "cannot be allocated as \(shape): a size derived from the other arguments is negative")
        let bytes = Tensor.contiguousByteCount(shape, dtype: dtype)
        try DeepGEMMError.require(bytes.map { UInt64($0) <= ProcessInfo.processInfo.physicalMemory } ?? false, name,
                                  "cannot be allocated as \(shape) \(dtype): more bytes than this machine's memory")
    }
}

extension DType {
    /// PyTorch's name (`float32`, `bfloat16`, `float8_e4m3fn`, ...).
    public var torchName: String {
        switch self {
        case .float64: return "float64"
        case .float32: return "float32"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        case .float8E4M3: return "float8_e4m3fn"
        case .float8E5M2: return "float8_e5m2"
        case .float4E2M1x2: return "float4_e2m1fn_x2"
        case .ue8m0: return "float8_e8m0fnu"
        case .int8: return "int8"
        case .uint8: return "uint8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .bool: return "bool"
        }
    }

    /// The dtype a PyTorch name denotes (with or without `torch.`; `float`, `half`, `int`, `long` too), or nil.
    public init?(torchName: String) {
        let name = torchName.hasPrefix("torch.") ? String(torchName.dropFirst(6)) : torchName
        let aliases = ["float": DType.float32, "double": .float64, "half": .float16, "int": .int32, "long": .int64, "short": .int16]
        guard let match = aliases[name] ?? DType.allCases.first(where: { $0.torchName == name }) else { return nil }
        self = match
    }
}
