import DeepGEMM

/// One rank's token inputs, as the Mega MoE buffer holds them: `x` (FP8 with packed UE8M0 scales,
/// or BF16), `topk_idx` and `topk_weights`.
struct MoERankTokens: Sendable {
    /// FP8 E4M3 or BF16 [T, H].
    var x: Tensor
    /// Packed UE8M0 Int32 [T, H/128] for FP8 `x`; nil for BF16.
    var xSF: Tensor?
    /// Int64 [T, k]: k distinct global experts per token, masked slots -1.
    var topkIdx: Tensor
    /// F32 [T, k], uniform in (0, 1].
    var topkWeights: Tensor

    /// Rank `rank`'s `tokens` tokens of `problem`: `x` standard normal in BF16 (cast per token to
    /// FP8 with UE8M0 scales per 32 elements for fp8xfp4), k distinct experts per token drawn
    /// uniformly, each slot masked with probability `problem.maskedFraction`.
    init(problem: MoEProblem, rank: Int, tokens: Int) throws {
        let x = Tensor.randn([tokens, problem.hidden], dtype: .bfloat16, seed: MoERandom.seed(problem.seed, .tokens, rank))
        if problem.mmaType == .fp8xfp4 {
            let quantized = try perTokenCastToFP8(x, useUE8M0: true, granK: 32, usePackedUE8M0: true)
            (self.x, xSF) = (quantized.data, quantized.sf)
        } else {
            (self.x, xSF) = (x, nil)
        }
        var generator = SeededGenerator(seed: MoERandom.seed(problem.seed, .routing, rank))
        var indices = [Int64](), weights = [Float]()
        indices.reserveCapacity(tokens * problem.topk)
        weights.reserveCapacity(tokens * problem.topk)
        var experts = Array(0..<problem.experts)
        for _ in 0..<tokens {
            // A partial Fisher-Yates shuffle: the first k entries are k distinct experts.
            for slot in 0..<problem.topk {
                experts.swapAt(slot, Int.random(in: slot..<problem.experts, using: &generator))
                let masked = problem.maskedFraction > 0 && generator.nextUnit() < problem.maskedFraction
                indices.append(masked ? -1 : Int64(experts[slot]))
                weights.append(Float(1 - generator.nextUnit()))
            }
        }
        topkIdx = try Tensor(indices, shape: [tokens, problem.topk])
        topkWeights = try Tensor(weights, shape: [tokens, problem.topk])
    }

    /// The number of tokens.
    var count: Int { x.size(0) }

    /// Copies the tokens into the first rows of a buffer's input views.
    func copy(into view: MegaMoEBufferInputs) throws {
        try view.x.narrow(dim: 0, start: 0, length: count).copy(from: x)
        if let xSF, let viewSF = view.xSF {
            try viewSF.narrow(dim: 0, start: 0, length: count).copy(from: xSF)
        }
        try view.topkIdx.narrow(dim: 0, start: 0, length: count).copy(from: topkIdx)
        try view.topkWeights.narrow(dim: 0, start: 0, length: count).copy(from: topkWeights)
    }
}
