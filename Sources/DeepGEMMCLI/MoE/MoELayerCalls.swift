import DeepGEMM

/// The calls `deepgemm moe` compares: the unfused pipeline over every rank, the fused op over
/// every thread rank, and the fused op of one rank process; each dispatches on the MMA type.
enum MoELayerCalls {
    /// The unfused pipeline over all ranks (untransformed `weights`, index r for rank r); returns
    /// y per rank and adds the received pairs to `stats` when given.
    static func unfused(_ problem: MoEProblem, tokens: [MoERankTokens], weights: [MoEExpertWeights], stats: [Tensor]?) throws -> [Tensor] {
        switch problem.mmaType {
        case .fp8xfp4:
            let inputs = tokens.map { rank in
                guard let xSF = rank.xSF else { preconditionFailure("fp8xfp4 tokens carry scales") }
                return MegaMoERankInput(x: QuantizedTensor(data: rank.x, sf: xSF), topkIdx: rank.topkIdx, topkWeights: rank.topkWeights)
            }
            let rankWeights = fp4(weights).map { MegaMoERankWeights(l1: $0.l1, l2: $0.l2) }
            return try fp8FP4MegaMoEUnfused(inputs: inputs, weights: rankWeights, numExperts: problem.experts,
                                            cumulativeLocalExpertRecvStats: stats, activationClamp: problem.activationClamp,
                                            fastMath: problem.fastMath)
        case .bf16xbf16:
            let inputs = tokens.map { MegaMoEBF16RankInput(x: $0.x, topkIdx: $0.topkIdx, topkWeights: $0.topkWeights) }
            let rankWeights = bf16(weights)
            return try bf16MegaMoEUnfused(inputs: inputs, l1Weights: rankWeights.map(\.l1), l2Weights: rankWeights.map(\.l2),
                                          numExperts: problem.experts, cumulativeLocalExpertRecvStats: stats,
                                          activationClamp: problem.activationClamp, fastMath: problem.fastMath)
        }
    }

    /// The fused op over every thread rank of `buffer`, whose inputs are already filled; writes
    /// `y[r]` and adds to `stats[r]` when given. `weights` are transformed.
    static func fused(_ problem: MoEProblem, buffer: MegaMoESymmetricBuffer, y: [Tensor], weights: [MoEExpertWeights], stats: [Tensor]?) throws {
        switch problem.mmaType {
        case .fp8xfp4:
            let rankWeights = fp4(weights)
            try fp8FP4MegaMoE(y: y, l1Weights: rankWeights.map(\.l1), l2Weights: rankWeights.map(\.l2), buffer: buffer,
                              cumulativeLocalExpertRecvStats: stats, activationClamp: problem.activationClamp, fastMath: problem.fastMath)
        case .bf16xbf16:
            let rankWeights = bf16(weights)
            try bf16MegaMoE(y: y, l1Weights: rankWeights.map(\.l1), l2Weights: rankWeights.map(\.l2), buffer: buffer,
                            cumulativeLocalExpertRecvStats: stats, activationClamp: problem.activationClamp, fastMath: problem.fastMath)
        }
    }

    /// The fused op of one rank process (a collective call: every rank of the group makes it);
    /// `buffer.inputs` are already filled, `weights` transformed.
    static func fused(_ problem: MoEProblem, buffer: MegaMoERankBuffer, y: Tensor, weights: MoEExpertWeights, stats: Tensor?) throws {
        switch weights {
        case .fp4(let l1, let l2):
            try fp8FP4MegaMoE(y: y, l1Weights: l1, l2Weights: l2, buffer: buffer, cumulativeLocalExpertRecvStats: stats,
                              activationClamp: problem.activationClamp, fastMath: problem.fastMath)
        case .bf16(let l1, let l2):
            try bf16MegaMoE(y: y, l1Weights: l1, l2Weights: l2, buffer: buffer, cumulativeLocalExpertRecvStats: stats,
                            activationClamp: problem.activationClamp, fastMath: problem.fastMath)
        }
    }

    /// The FP4 weights of every rank.
    private static func fp4(_ weights: [MoEExpertWeights]) -> [(l1: QuantizedTensor, l2: QuantizedTensor)] {
        weights.map {
            guard case .fp4(let l1, let l2) = $0 else { preconditionFailure("fp8xfp4 layers have FP4 weights") }
            return (l1, l2)
        }
    }

    /// The BF16 weights of every rank.
    private static func bf16(_ weights: [MoEExpertWeights]) -> [(l1: Tensor, l2: Tensor)] {
        weights.map {
            guard case .bf16(let l1, let l2) = $0 else { preconditionFailure("bf16xbf16 layers have BF16 weights") }
            return (l1, l2)
        }
    }
}
