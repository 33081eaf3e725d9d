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
        guard let op = OpRegistry.op(named: name) else {
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "unknown op '\(name)'; `deepgemm run --list` prints the supported ops")
        }
        let resolved = try backend.resolved()
        guard resolved == .cpu else {
            throw DeepGEMMError.backendUnavailable(backend: resolved.rawValue, reason: "\(name) runs on the CPU backend only in this version")
        }
        var tensors: [String: Tensor] = [:]
        if let input {
            let file = try SafeTensorsFile.open(path: input)
            for tensorName in file.names { tensors[tensorName] = try file.tensor(tensorName) }
        }
        let context = try OpContext(tensors: tensors, values: parseSettings(settings))
        let outputs = try op.execute(context)
        if let unused = context.unusedValueNames.first {
            throw DeepGEMMError.invalidArgument(argument: unused, rule: "is not an argument of \(name) (see `deepgemm run --list`)")
        }
        try SafeTensorsWriter.write(outputs.map { ($0.name, $0.tensor.contiguous()) }, metadata: ["op": name], to: output)
        return outputs.map(\.name)
    }

    /// One line per op: its signature and summary, for `deepgemm run --list`.
    public static var listing: String {
        OpRegistry.all.map { "\($0.signature)\n    \($0.summary)" }.joined(separator: "\n")
    }
}
