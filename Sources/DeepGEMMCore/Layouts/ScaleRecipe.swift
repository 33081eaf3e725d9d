/// A scale-factor recipe (spec §3): how many elements share one scale along MN and along K.
public enum ScaleRecipe: Hashable, Sendable {
    /// DeepGEMM's 3-tuple `(gran_m, gran_n, gran_k)`: `gran_m × gran_k` blocks for A (SFA) and
    /// `gran_n × gran_k` blocks for B (SFB). Using it requires saying which operand an SF belongs to.
    case shared(granM: Int, granN: Int, granK: Int)
    /// A per-operand pair `(gran_mn, gran_k)`, DeepGEMM's `recipe_a` / `recipe_b`.
    case operand(granMN: Int, granK: Int)

    /// The `(gran_mn, gran_k)` pair for one operand. A ``shared(granM:granN:granK:)`` recipe needs
    /// `isSFA` (true for A, false for B); an ``operand(granMN:granK:)`` recipe forbids it.
    /// Both granularities must be positive.
    public func granularities(isSFA: Bool?) throws -> (granMN: Int, granK: Int) {
        let granMN: Int, granK: Int
        switch self {
        case .shared(let granM, let granN, let k):
            guard let isSFA else {
                throw DeepGEMMError.invalidArgument(argument: "is_sfa", rule: "is required with a 3-element recipe (gran_m, gran_n, gran_k)")
            }
            (granMN, granK) = (isSFA ? granM : granN, k)
        case .operand(let mn, let k):
            try DeepGEMMError.require(isSFA == nil, "is_sfa", "must be None with a 2-element recipe (gran_mn, gran_k)")
            (granMN, granK) = (mn, k)
        }
        try DeepGEMMError.require(granMN > 0 && granK > 0, "recipe", "granularities must be positive, got gran_mn=\(granMN), gran_k=\(granK)")
        return (granMN, granK)
    }
}

extension ScaleRecipe: CustomStringConvertible {
    /// The recipe as DeepGEMM's tuple, e.g. `(1, 128, 128)` or `(1, 32)`.
    public var description: String {
        switch self {
        case .shared(let m, let n, let k): return "(\(m), \(n), \(k))"
        case .operand(let mn, let k): return "(\(mn), \(k))"
        }
    }
}
