import DeepGEMM
import DeepGEMMCUDA
import DeepGEMMOps

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
        let outputs = try OpTable.runFromCLI(op, tensors: tensors, values: parseSettings(settings))
        let results = try outputs.map { ($0.name, try $0.tensor.to(.host).contiguous()) }
        try SafeTensorsWriter.write(results, metadata: ["op": name], to: output)
        return outputs.map(\.name)
    }

    /// What ``run(op:input:output:settings:backend:availability:)`` does between reading the input
    /// file and writing the output file: runs `op` on `tensors` (by DeepGEMM argument name, any
    /// dtype, shape, strides and device) and the `NAME=VALUE` `settings`, and returns the named
    /// outputs (where the op left them).
    public static func execute(op name: String, tensors: [String: Tensor], settings: [String]) throws -> [(name: String, tensor: Tensor)] {
        try OpTable.runFromCLI(definition(of: name), tensors: tensors, values: parseSettings(settings))
    }

    /// The CLI entry called `name`, after checking that it exists.
    private static func definition(of name: String) throws -> OpDefinition {
        guard let op = OpTable.op(named: name, surface: .cli) else {
            throw DeepGEMMError.invalidArgument(argument: "OP", rule: "unknown op '\(name)'; `deepgemm run --list` prints the supported ops")
        }
        return op
    }

    /// Every op's name with its argument names, split into tensor arguments (read from the input
    /// file; a pair `a` as `a` and `a_sf`) and value arguments (`--set`), in DeepGEMM's order.
    public static var signatures: [(op: String, tensors: [String], values: [String])] {
        OpTable.ops(for: .cli).map { op in
            (op.name, op.parameters.filter(\.isTensor).flatMap { $0.kind == .pair ? [$0.name, $0.name + "_sf"] : [$0.name] },
             op.parameters.filter { !$0.isTensor }.map(\.name))
        }
    }

    /// `deepgemm run --list`: per op its signature (kinds and Python defaults), summary, and one
    /// line per parameter with its doc; then the global `--set` names.
    public static var listing: String {
        OpTable.ops(for: .cli).map { op in
            (["\(op.signature)", "    \(op.summary)"] + op.parameters.map { "      \($0.name): \($0.doc)" }).joined(separator: "\n")
        }.joined(separator: "\n") + "\nglobal --set names: arch=sm90|sm100, mk_alignment=N, num_sms=N; an in-place NAME absent from the input is created with NAME_dtype=bf16|f32"
    }
}
