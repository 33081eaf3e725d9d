import DeepGEMM

/// One argument of an op, as `deepgemm run --list` describes it.
struct OpArgument: Sendable {
    /// DeepGEMM's argument name.
    let name: String
    /// Its kind, dtype/shape and default, e.g. `tensor bf16|f32 [m, n]` or `int = 128`.
    let detail: String
}

/// An op `deepgemm run` can execute: DeepGEMM's name, its arguments, and the call.
struct OpDefinition: Sendable {
    /// DeepGEMM's Python function name.
    let name: String
    /// One line on what it computes.
    let summary: String
    /// Its arguments, in DeepGEMM's order.
    let arguments: [OpArgument]
    /// The names of the tensors it writes.
    let outputs: [String]
    /// Runs the op and returns the named output tensors.
    let execute: @Sendable (OpContext) throws -> [(name: String, tensor: Tensor)]

    /// `name(arg: detail, ...) -> outputs`.
    var signature: String {
        "\(name)(" + arguments.map { "\($0.name): \($0.detail)" }.joined(separator: ", ") + ") -> " + outputs.joined(separator: ", ")
    }
}

/// Wraps an integer result as the I64 0-dim tensor `out`.
func scalarOutput(_ value: Int) throws -> [(name: String, tensor: Tensor)] {
    [("out", try Tensor([Int64(value)], shape: []))]
}

/// Every op `deepgemm run` knows, by DeepGEMM name.
enum OpRegistry {
    /// All ops, sorted by name.
    static let all: [OpDefinition] = (quantizationOps + layoutOps + utilityOps + denseGEMMOps + groupedGEMMOps + attentionOps + megaMoEOps + megaMoERunOps).sorted { $0.name < $1.name }

    /// The op called `name`, if any.
    static func op(named name: String) -> OpDefinition? { all.first { $0.name == name } }
}
