import DeepGEMM

/// Runs one op on safetensors files: what `deepgemm run` does, callable in-process.
public enum OpRunner {
    /// Parses `NAME=VALUE` strings into argument values; a malformed or repeated entry is an error.
    public static func parseSettings(_ entries: [String]) throws -> [String: ArgumentValue] {
        var values: [String: ArgumentValue] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw DeepGEMMError.invalidArgument(argument: "--set", rule: "expected NAME=VALUE, got '\(entry)'")
            }
            let name = String(entry[..<equals])
            guard values[name] == nil else {
                throw DeepGEMMError.invalidArgument(argument: name, rule: "is set more than once")
            }
            values[name] = ArgumentValue(parsing: String(entry[entry.index(after: equals)...]))
        }
        return values
    }

    /// Runs `op` with tensors from `input` (optional for ops without tensor arguments) and
    /// `settings`, and writes the outputs to `output` atomically: on any error nothing is written.
    /// Returns the names of the tensors written.
    @discardableResult
    public static func run(op name: String, input: String?, output: String, settings: [String], backend: Backend = .auto) throws -> [String] {
        let op = try definition(of: name, backend: backend)
        var tensors: [String: Tensor] = [:]
        if let input {
            let file = try SafeTensorsFile.open(path: input)
            for tensorName in file.names { tensors[tensorName] = file.tensor(tensorName) }
        }
        let outputs = try execute(op, tensors: tensors, settings: settings)
        try SafeTensorsWriter.write(outputs.map { ($0.name, $0.tensor.contiguous()) }, metadata: ["op": name], to: output)
        return outputs.map(\.name)
    }

    /// What ``run(op:input:output:settings:backend:)`` does between reading the input file and
    /// writing the output file: runs `op` on `tensors` (by DeepGEMM argument name, any dtype, shape
    /// and strides) and the `NAME=VALUE` `settings`, and returns the named outputs.
    public static func execute(op name: String, tensors: [String: Tensor], settings: [String],
                               backend: Backend = .auto) throws -> [(name: String, tensor: Tensor)] {
        try execute(definition(of: name, backend: backend), tensors: tensors, settings: settings)
    }

    /// The op called `name`, after checking that it exists and that `backend` resolves to the CPU.
    private static func definition(of name: String, backend: Backend) throws -> OpDefinition {
        guard let op = OpRegistry.op(named: name) else {
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "unknown op '\(name)'; `deepgemm run --list` prints the supported ops")
        }
        let resolved = try backend.resolved()
        guard resolved == .cpu else {
            throw DeepGEMMError.backendUnavailable(backend: resolved.rawValue, reason: "\(name) runs on the CPU backend only in this version")
        }
        return op
    }

    /// Runs `op` on `tensors` and `settings`; a `--set` name the op did not read is an error.
    private static func execute(_ op: OpDefinition, tensors: [String: Tensor], settings: [String]) throws -> [(name: String, tensor: Tensor)] {
        let context = try OpContext(tensors: tensors, values: parseSettings(settings))
        let outputs = try op.execute(context)
        if let unused = context.unusedValueNames.first {
            throw DeepGEMMError.invalidArgument(argument: unused, rule: "is not an argument of \(op.name) (see `deepgemm run --list`)")
        }
        return outputs
    }

    /// Every op's name with its argument names, split into tensor arguments (read from the input
    /// file) and value arguments (`--set`), in DeepGEMM's order.
    public static var signatures: [(op: String, tensors: [String], values: [String])] {
        OpRegistry.all.map { op in
            let isTensor = { (argument: OpArgument) in argument.detail.hasPrefix("tensor") }
            return (op.name, op.arguments.filter(isTensor).map(\.name), op.arguments.filter { !isTensor($0) }.map(\.name))
        }
    }

    /// One line per op: its signature and summary, for `deepgemm run --list`.
    public static var listing: String {
        OpRegistry.all.map { "\($0.signature)\n    \($0.summary)" }.joined(separator: "\n")
    }
}
