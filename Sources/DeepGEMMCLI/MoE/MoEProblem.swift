import DeepGEMM

/// The Mega MoE layer `deepgemm moe` runs: its shapes, the kernel options, and the seed from which
/// every rank regenerates its own tokens and its own experts' weights.
struct MoEProblem: Sendable, Equatable {
    /// E, the experts over all ranks.
    var experts: Int
    /// k, the slots (distinct experts) per token.
    var topk: Int
    /// H, the hidden size.
    var hidden: Int
    /// I, the intermediate size of each expert.
    var intermediate: Int
    /// The element kinds of the expert GEMMs.
    var mmaType: MegaMoEBufferLayout.MMAType
    /// The SwiGLU clamp, or nil for none.
    var activationClamp: Double?
    /// Whether SwiGLU uses the fast exponential and reciprocal.
    var fastMath: Bool
    /// The seed of every generated tensor.
    var seed: UInt64
    /// The probability that a slot is masked (index -1).
    var maskedFraction: Double

    /// Checks the rules the generator itself needs (the library checks the rest): k distinct
    /// experts out of E, and a masking probability in [0, 1].
    func validate() throws {
        try DeepGEMMError.require(experts > 0, "--experts", "must be positive, got \(experts)")
        try DeepGEMMError.require(topk > 0 && topk <= experts, "--topk",
                                  "must be in 1...\(experts) (k distinct experts per token), got \(topk)")
        try DeepGEMMError.require(hidden > 0 && intermediate > 0, "--hidden",
                                  "hidden and intermediate sizes must be positive, got \(hidden) and \(intermediate)")
        try DeepGEMMError.require(maskedFraction >= 0 && maskedFraction <= 1, "--masked-slots",
                                  "must be a fraction in [0, 1], got \(maskedFraction)")
    }

    /// E_l = E / R, the experts each of `ranks` ranks holds.
    func localExperts(ranks: Int) -> Int { experts / ranks }

    /// One line naming the shape and options, e.g. for a report header.
    func summary(ranks: Int, processes: Bool, tokensPerRank: Int) -> String {
        let clamp = activationClamp.map { "clamp \(MoEFormat.number($0))" } ?? "no clamp"
        let masked = maskedFraction > 0 ? ", \(MoEFormat.number(maskedFraction * 100))% slots masked" : ""
        return "\(mmaType.rawValue) Mega MoE: R=\(ranks) \(processes ? "process" : "thread") ranks, T=\(tokensPerRank) tokens/rank, "
            + "E=\(experts) (\(localExperts(ranks: ranks))/rank), k=\(topk), H=\(hidden), I=\(intermediate), "
            + "\(clamp), fast math \(fastMath ? "on" : "off")\(masked)"
    }
}
