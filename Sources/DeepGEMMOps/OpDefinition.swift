import DeepGEMM

/// Who calls an op table entry: one name may have one entry per surface.
public enum OpSurface: String, Sendable, CaseIterable {
    /// `deepgemm run` only (e.g. the Mega MoE ops over all ranks stacked in one file).
    case cli
    /// The C ABI and the Python package only (DeepGEMM's per-rank Mega MoE signatures).
    case abi
    /// Both.
    case both

    /// Whether an entry of this surface serves `surface` (``cli`` or ``abi``).
    public func serves(_ surface: OpSurface) -> Bool { self == .both || self == surface }
}

/// One op of the table: DeepGEMM's name, its parameters in DeepGEMM's Python order with DeepGEMM's
/// defaults, its results, and the call.
public struct OpDefinition: Sendable {
    /// DeepGEMM's Python function name.
    public let name: String
    /// One line on what it computes.
    public let summary: String
    /// Who calls this entry.
    public let surface: OpSurface
    /// Its parameters, in DeepGEMM's order.
    public let parameters: [OpParameter]
    /// Names of the results the Python function returns (none: it returns None; one: the value; more: a tuple).
    public let returns: [String]
    /// Names of the tensor parameters it writes in place.
    public let inplace: [String]
    /// Names of every result the call reports, in order (some may be absent from a call, e.g. an
    /// optional in-place tensor that was not given).
    public let outputs: [String]
    /// Runs the op and returns its results by name.
    let execute: @Sendable (OpContext) throws -> [(name: String, tensor: Tensor)]

    /// An entry; `outputs` defaults to `inplace + returns`.
    init(name: String, summary: String, surface: OpSurface = .both, parameters: [OpParameter], returns: [String] = [],
         inplace: [String] = [], outputs: [String]? = nil, execute: @escaping @Sendable (OpContext) throws -> [(name: String, tensor: Tensor)]) {
        self.name = name
        self.summary = summary
        self.surface = surface
        self.parameters = parameters
        self.returns = returns
        self.inplace = inplace
        self.outputs = outputs ?? inplace + returns
        self.execute = execute
    }

    /// The parameter called `name`, if any.
    public func parameter(_ name: String) -> OpParameter? { parameters.first { $0.name == name } }

    /// `name(param: kind = default, ...) -> outputs`.
    public var signature: String {
        "\(name)(" + parameters.map(\.signature).joined(separator: ", ") + ") -> "
            + (outputs.isEmpty ? "None" : outputs.joined(separator: ", "))
    }
}

/// Wraps an integer result as the I64 0-dim tensor `out`.
func scalarOutput(_ value: Int) throws -> [(name: String, tensor: Tensor)] {
    [("out", try Tensor([Int64(value)], shape: []))]
}
