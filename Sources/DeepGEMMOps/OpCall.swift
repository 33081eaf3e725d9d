import DeepGEMM

/// One argument of a call through the table (``OpTable/call(_:arguments:surface:)``).
public enum OpArgument: Sendable {
    /// Python's None: the same as leaving the argument out.
    case none
    /// A tensor (also either half of a pair: `NAME` and `NAME_sf`).
    case tensor(Tensor)
    /// An int.
    case int(Int)
    /// A float.
    case float(Double)
    /// A bool.
    case bool(Bool)
    /// A string, also a dtype by name.
    case string(String)
    /// A tuple of ints.
    case ints([Int])
    /// A Mega MoE buffer.
    case buffer(MegaMoERankBuffer)

    /// The kind's name, for messages.
    var kindName: String {
        switch self {
        case .none: return "None"
        case .tensor: return "a tensor"
        case .int: return "an int"
        case .float: return "a float"
        case .bool: return "a bool"
        case .string: return "a string"
        case .ints: return "a tuple of ints"
        case .buffer: return "a Mega MoE buffer"
        }
    }

    /// Whether this value may be passed for a parameter of `kind`.
    func fits(_ kind: OpParameter.Kind) -> Bool {
        switch (self, kind) {
        case (.none, _), (.tensor, .tensor), (.tensor, .pair), (.int, .int), (.int, .float), (.float, .float), (.bool, .bool),
             (.string, .str), (.string, .dtype), (.ints, .ints), (.buffer, .buffer): return true
        default: return false
        }
    }
}

/// Errors of a call through the table that are not about an argument's value.
public enum OpCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No op of that name serves the surface.
    case unknownOp(name: String)
    /// An argument of the wrong kind (a tensor where an int belongs, ...).
    case wrongKind(argument: String, rule: String)

    /// A one-line message.
    public var description: String {
        switch self {
        case .unknownOp(let name): return "unknown op '\(name)'"
        case .wrongKind(let argument, let rule): return "argument '\(argument)' has the wrong kind: \(rule)"
        }
    }
}

extension OpTable {
    /// Runs op `name` of `surface` with named `arguments` (DeepGEMM's names; a pair `a` as `a` and
    /// `a_sf`) and returns its results in the order of ``OpDefinition/outputs``. Before the op runs,
    /// every name must be a parameter, every value of its kind and every required parameter given;
    /// the op then checks every value before it writes anything.
    public static func call(_ name: String, arguments: [(name: String, value: OpArgument)],
                            surface: OpSurface = .abi) throws -> [(name: String, tensor: Tensor)] {
        guard let op = op(named: name, surface: surface) else { throw OpCallError.unknownOp(name: name) }
        var tensors: [String: Tensor] = [:], values: [String: ArgumentValue] = [:], buffers: [String: MegaMoERankBuffer] = [:]
        var given: Set<String> = []
        for (argument, value) in arguments {
            guard given.insert(argument).inserted else {
                throw DeepGEMMError.invalidArgument(argument: argument, rule: "is given more than once")
            }
            let parameter = try op.parameter(forArgument: argument)
            guard value.fits(parameter.kind) else {
                throw OpCallError.wrongKind(argument: argument, rule: "\(op.name) takes \(parameter.kind.rawValue), got \(value.kindName)")
            }
            switch value {
            case .none: values[argument] = ArgumentValue.none
            case .tensor(let tensor): tensors[argument] = tensor
            case .int(let number): values[argument] = parameter.kind == .float ? .double(Double(number)) : .int(number)
            case .float(let number): values[argument] = .double(number)
            case .bool(let flag): values[argument] = .bool(flag)
            case .string(let text): values[argument] = .string(text)
            case .ints(let items): values[argument] = .list(items)
            case .buffer(let buffer): buffers[argument] = buffer
            }
        }
        for parameter in op.parameters where parameter.isRequired {
            try DeepGEMMError.require(given.contains(parameter.name), parameter.name, "required argument of \(op.name) is missing")
        }
        let results = try op.execute(OpContext(op: op, tensors: tensors, values: values, buffers: buffers))
        return op.outputs.compactMap { output in results.first { $0.name == output } }
    }
}

extension OpDefinition {
    /// The parameter an argument name belongs to: its own, or for `NAME_sf` the pair `NAME` (as an
    /// optional tensor).
    func parameter(forArgument argument: String) throws -> OpParameter {
        if let own = parameter(argument) { return own }
        if argument.hasSuffix("_sf"), let pair = parameter(String(argument.dropLast(3))), pair.kind == .pair {
            return OpParameter(argument, .tensor, default: .null, "scale factors of \(pair.name)")
        }
        throw DeepGEMMError.invalidArgument(argument: argument, rule: "is not an argument of \(name); it takes "
                                            + parameters.map(\.name).joined(separator: ", "))
    }
}
