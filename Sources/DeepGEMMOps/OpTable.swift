import DeepGEMM
import Foundation

/// Every op, declared once: the CLI (`deepgemm run`), the C ABI and the Python package read their
/// names, parameters, defaults and results from here.
public enum OpTable {
    /// All entries of every surface, sorted by name.
    public static let all: [OpDefinition] = (quantizationOps + layoutOps + utilityOps + denseGEMMOps + groupedGEMMOps + attentionOps
        + megaMoEOps + megaMoERunOps + megaMoERankOps).sorted { $0.name < $1.name }

    /// The entries serving `surface` (``OpSurface/cli`` or ``OpSurface/abi``), sorted by name.
    public static func ops(for surface: OpSurface) -> [OpDefinition] { all.filter { $0.surface.serves(surface) } }

    /// The entry called `name` serving `surface`, if any.
    public static func op(named name: String, surface: OpSurface) -> OpDefinition? {
        all.first { $0.name == name && $0.surface.serves(surface) }
    }

    /// The ABI version the JSON describes.
    public static let abiVersion = 1

    /// The ABI surface as JSON: `{"abi_version": 1, "ops": [{"name", "summary", "params": [{"name",
    /// "kind", "default" (absent: required), "doc"}], "returns", "inplace", "outputs"}]}`.
    public static let json: String = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(TableJSON(abi_version: abiVersion, ops: ops(for: .abi).map(OpJSON.init)))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }()
}

/// The JSON form of the table.
private struct TableJSON: Encodable {
    let abi_version: Int
    let ops: [OpJSON]
}

/// The JSON form of one op.
private struct OpJSON: Encodable {
    let name: String, summary: String
    let params: [ParameterJSON]
    let returns: [String], inplace: [String], outputs: [String]

    init(_ op: OpDefinition) {
        (name, summary, params) = (op.name, op.summary, op.parameters.map(ParameterJSON.init))
        (returns, inplace, outputs) = (op.returns, op.inplace, op.outputs)
    }
}

/// The JSON form of one parameter: `default` is absent for a required one and null for None.
private struct ParameterJSON: Encodable {
    let parameter: OpParameter

    private enum Keys: String, CodingKey { case name, kind, `default`, doc }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(parameter.name, forKey: .name)
        try container.encode(parameter.kind.rawValue, forKey: .kind)
        switch parameter.defaultValue {
        case nil: break
        case .null?: try container.encodeNil(forKey: .default)
        case .int(let value)?: try container.encode(value, forKey: .default)
        case .float(let value)?: try container.encode(value, forKey: .default)
        case .bool(let value)?: try container.encode(value, forKey: .default)
        case .string(let value)?: try container.encode(value, forKey: .default)
        case .ints(let value)?: try container.encode(value, forKey: .default)
        }
        try container.encode(parameter.doc, forKey: .doc)
    }
}

extension OpTable {
    /// Runs `op` as `deepgemm run` does: `tensors` and `values` by name (values in the `--set`
    /// syntax, plus the global names `arch`, `mk_alignment` and `num_sms`); in-place tensors that
    /// are absent are created. A value name the op does not read is an error.
    public static func runFromCLI(_ op: OpDefinition, tensors: [String: Tensor], values: [String: ArgumentValue]) throws
        -> [(name: String, tensor: Tensor)] {
        let context = try OpContext(op: op, tensors: tensors, values: values)
        let outputs = try op.execute(context)
        if let unused = context.unusedValueNames.first {
            throw DeepGEMMError.invalidArgument(argument: unused, rule: "is not an argument of \(op.name) (see `deepgemm run --list`)")
        }
        return outputs
    }
}
