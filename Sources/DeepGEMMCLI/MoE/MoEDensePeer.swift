import DeepGEMM

/// The dense peer of `deepgemm moe`: one expert's two GEMMs as plain dense ops on all of the
/// backend's threads, at M = the average rows an expert that received pairs computes, so the
/// fused op's rate can be read against the rate of the same shapes without any MoE around them.
///
/// fp8xfp4: `fp8_fp4_gemm_nt` of an FP8 [M, H] A (per-token UE8M0 scales per 32) with rank 0's
/// first local expert's L1 weight [2I, H], then of an FP8 [M, I] A with its L2 weight [H, I]
/// (packed FP4, UE8M0 scales per 32: recipe (1, 32) for both operands). bf16xbf16: `bf16_gemm_nt`
/// of BF16 operands of the same shapes. Work: 2·M·H·I·3 FLOPs, DeepGEMM's count for M pairs.
struct MoEDensePeer {
    /// M, the rows of both GEMMs.
    let rows: Int
    private let work: () throws -> Void

    /// The peer of `problem` with `rows` rows; `weights` are rank 0's untransformed experts.
    init(problem: MoEProblem, rows: Int, weights: MoEExpertWeights) throws {
        let (h, i) = (problem.hidden, problem.intermediate)
        self.rows = rows
        let l1Out = Tensor(zeros: [rows, 2 * i], dtype: .bfloat16), l2Out = Tensor(zeros: [rows, h], dtype: .bfloat16)
        let l1X = Tensor.randn([rows, h], dtype: .bfloat16, seed: 1), l2X = Tensor.randn([rows, i], dtype: .bfloat16, seed: 2)
        switch weights {
        case .fp4(let l1, let l2):
            let (a1, a2) = (try perTokenCastToFP8(l1X, useUE8M0: true, granK: 32), try perTokenCastToFP8(l2X, useUE8M0: true, granK: 32))
            let b1 = QuantizedTensor(data: try l1.data.select(dim: 0, index: 0), sf: try l1.sf.select(dim: 0, index: 0))
            let b2 = QuantizedTensor(data: try l2.data.select(dim: 0, index: 0), sf: try l2.sf.select(dim: 0, index: 0))
            work = {
                try fp8FP4GEMM(.nt, a: a1, b: b1, d: l1Out, recipeA: [1, 32], recipeB: [1, 32])
                try fp8FP4GEMM(.nt, a: a2, b: b2, d: l2Out, recipeA: [1, 32], recipeB: [1, 32])
            }
        case .bf16(let l1, let l2):
            let (b1, b2) = (try l1.select(dim: 0, index: 0), try l2.select(dim: 0, index: 0))
            work = {
                try bf16GEMM(.nt, a: l1X, b: b1, d: l1Out)
                try bf16GEMM(.nt, a: l2X, b: b2, d: l2Out)
            }
        }
    }

    /// The average pairs of the experts that received any (at least 1): the M of the peer.
    static func rows(expertPairs: [Int]) -> Int {
        let busy = expertPairs.filter { $0 > 0 }
        guard !busy.isEmpty else { return 1 }
        return (busy.reduce(0, +) + busy.count / 2) / busy.count
    }

    /// The op's name, for reports.
    static func opName(_ problem: MoEProblem) -> String {
        problem.mmaType == .fp8xfp4 ? "fp8_fp4_gemm_nt" : "bf16_gemm_nt"
    }

    /// Runs the two GEMMs once.
    func run() throws { try work() }

    /// Median seconds of the two GEMMs over at least `minimumSeconds`.
    func seconds(minimumSeconds: Double) throws -> Double {
        try Timing.median(minimumSeconds: minimumSeconds, work)
    }
}
