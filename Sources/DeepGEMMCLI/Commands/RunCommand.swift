import ArgumentParser
import DeepGEMM

/// `deepgemm run OP --input IN --output OUT [--set NAME=VALUE]...`
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one DeepGEMM op on tensors from a safetensors file.",
        discussion: """
        Tensor arguments are read from --input under DeepGEMM's argument names (a (data, sf) pair NAME as NAME and \
        NAME_sf); other arguments come from --set (integers, floats, true/false, none, comma lists, strings). \
        Outputs go to --output: a returned tensor as `out`, a tuple as `out0`, `out1`, ... On any error nothing is \
        written and the exit status is non-zero.
        """
    )

    @Argument(help: "DeepGEMM op name, e.g. per_token_cast_to_fp8.")
    var op: String?

    @Option(help: "Input safetensors file.")
    var input: String?

    @Option(help: "Output safetensors file (written atomically).")
    var output: String?

    @Option(name: .customLong("set"), help: "A non-tensor argument or global setting, NAME=VALUE (repeatable).")
    var settings: [String] = []

    @Option(help: "Backend: cpu, cuda or auto.")
    var backend: String = "auto"

    @Flag(help: "List every supported op with its arguments.")
    var list = false

    func run() throws {
        if list {
            print(OpRunner.listing)
            return
        }
        do {
            guard let op else { throw DeepGEMMError.invalidArgument(argument: "OP", rule: "missing op name (see --list)") }
            guard let output else { throw DeepGEMMError.invalidArgument(argument: "--output", rule: "an output path is required") }
            guard let chosen = Backend(rawValue: backend) else {
                throw DeepGEMMError.invalidArgument(argument: "--backend", rule: "must be cpu, cuda or auto, got '\(backend)'")
            }
            try OpRunner.run(op: op, input: input, output: output, settings: settings, backend: chosen)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
