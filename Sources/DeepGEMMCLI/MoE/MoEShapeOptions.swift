import ArgumentParser
import DeepGEMM

/// The layer options `deepgemm moe` takes and forwards unchanged to every `moe-rank` process, so
/// that each rank regenerates the same problem.
struct MoEShapeOptions: ParsableArguments {
    @Option(help: "Experts over all ranks (E); a multiple of --ranks.")
    var experts: Int = 32

    @Option(help: "Distinct experts per token (k).")
    var topk: Int = 8

    @Option(help: "Hidden size (H).")
    var hidden: Int = 7168

    @Option(help: "Intermediate size of each expert (I).")
    var intermediate: Int = 2048

    @Option(help: "Expert GEMM element kinds: fp8xfp4 or bf16xbf16.")
    var mma: String = "fp8xfp4"

    @Option(name: .customLong("activation-clamp"), help: "SwiGLU clamp, or 'none'.")
    var activationClamp: String = "10"

    @Flag(name: .customLong("no-fast-math"), help: "SwiGLU with expf and an IEEE division instead of the fast exp2-based exponential and reciprocal.")
    var noFastMath = false

    @Option(help: "Seed of the generated tokens, routing and weights.")
    var seed: UInt64 = 0

    @Option(name: .customLong("masked-slots"), help: "Fraction of slots masked with -1 (each slot independently).")
    var maskedSlots: Double = 0

    /// The validated problem.
    func problem() throws -> MoEProblem {
        guard let mmaType = MegaMoEBufferLayout.MMAType(rawValue: mma) else {
            throw DeepGEMMError.invalidArgument(argument: "--mma", rule: "must be fp8xfp4 or bf16xbf16, got '\(mma)'")
        }
        let clamp: Double?
        if activationClamp == "none" {
            clamp = nil
        } else {
            guard let value = Double(activationClamp), value >= 0 else {
                throw DeepGEMMError.invalidArgument(argument: "--activation-clamp", rule: "must be a number ≥ 0 or 'none', got '\(activationClamp)'")
            }
            clamp = value
        }
        let problem = MoEProblem(experts: experts, topk: topk, hidden: hidden, intermediate: intermediate, mmaType: mmaType,
                                 activationClamp: clamp, fastMath: !noFastMath, seed: seed, maskedFraction: maskedSlots)
        try problem.validate()
        return problem
    }

    /// These options as command-line arguments, for a rank process.
    var arguments: [String] {
        ["--experts", "\(experts)", "--topk", "\(topk)", "--hidden", "\(hidden)", "--intermediate", "\(intermediate)",
         "--mma", mma, "--activation-clamp", activationClamp, "--seed", "\(seed)", "--masked-slots", "\(maskedSlots)"]
            + (noFastMath ? ["--no-fast-math"] : [])
    }
}
