import DeepGEMM
import DeepGEMMCUDA

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
    /// The tensors go to the device `backend` chooses for the op (``Backend/device(forOp:availability:)``)
    /// and the outputs come back to the host. Returns the names of the tensors written.
    @discardableResult
    public static func run(
        op name: String, input: String?, output: String, settings: [String], backend: Backend = .auto,
        availability: CUDAProbe.Availability = CUDAProbe.availability
    ) throws -> [String] {
        let op = try definition(of: name)
        let device = try backend.device(forOp: name, availability: availability)
        var tensors: [String: Tensor] = [:]
        if let input {
            let file = try SafeTensorsFile.open(path: input)
            for tensorName in file.names { tensors[tensorName] = try file.tensor(tensorName)?.to(device) }
        }
        let outputs = try execute(op, tensors: tensors, settings: settings)
        let results = try outputs.map { ($0.name, try $0.tensor.to(.host).contiguous()) }
        try SafeTensorsWriter.write(results, metadata: ["op": name], to: output)
        return outputs.map(\.name)
    }

    /// What ``run(op:input:output:settings:backend:availability:)`` does between reading the input
    /// file and writing the output file: runs `op` on `tensors` (by DeepGEMM argument name, any
    /// dtype, shape, strides and device) and the `NAME=VALUE` `settings`, and returns the named
    /// outputs (where the op left them).
    public static func execute(op name: String, tensors: [String: Tensor], settings: [String]) throws -> [(name: String, tensor: Tensor)] {
        try execute(definition(of: name), tensors: tensors, settings: settings)
    }

    /// The op called `name`, after checking that it exists.
    private static func definition(of name: String) throws -> OpDefinition {
        guard let op = OpRegistry.op(named: name) else {
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "unknown op '\(name)'; `deepgemm run --list` prints the supported ops")
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
