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
        guard let op = OpRegistry.op(named: name) else {
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "unknown op '\(name)'; `deepgemm run --list` prints the supported ops")
        }
        let device = try backend.device(forOp: name, availability: availability)
        var tensors: [String: Tensor] = [:]
        if let input {
            let file = try SafeTensorsFile.open(path: input)
            for tensorName in file.names { tensors[tensorName] = try file.tensor(tensorName)?.to(device) }
        }
        let context = try OpContext(tensors: tensors, values: parseSettings(settings))
        let outputs = try op.execute(context)
        if let unused = context.unusedValueNames.first {
            throw DeepGEMMError.invalidArgument(argument: unused, rule: "is not an argument of \(name) (see `deepgemm run --list`)")
        }
        let results = try outputs.map { ($0.name, try $0.tensor.to(.host).contiguous()) }
        try SafeTensorsWriter.write(results, metadata: ["op": name], to: output)
        return outputs.map(\.name)
    }

    /// One line per op: its signature and summary, for `deepgemm run --list`.
    public static var listing: String {
        OpRegistry.all.map { "\($0.signature)\n    \($0.summary)" }.joined(separator: "\n")
    }
}
