import DeepGEMMCore

extension SM90FP8GEMM1D1DFamily {
    /// DeepGEMM's SM90 FP8 1D1D test shapes (spec api.md §5, §8): the weight-gradient GEMMs of its
    /// dense tests (M = N' and N = 4096 for every dense (N', K), F32 D with C), one decode-sized M,
    /// and its k-grouped shapes (G, M, N, expected K per group) with the largest K at 1.3x the expected.
    public func representativeProblems(numSMs: Int) -> [RepresentativeProblems.Entry] {
        typealias Entry = RepresentativeProblems.Entry
        var entries: [Entry] = []
        for (n, k) in RepresentativeProblems.denseShapes {
            entries.append(Entry(op: "fp8_gemm_nt", problem: GEMMKernelProblem(Self.problem(m: n, n: 4096, k: k), numSMs: numSMs)))
        }
        entries.append(Entry(op: "fp8_gemm_nt", problem: GEMMKernelProblem(Self.problem(m: 64, n: 7168, k: 2048), numSMs: numSMs)))
        for (groups, m, n, expectedK) in Self.kGroupedShapes {
            let maxK = align(Int(Double(expectedK) * 1.3), SM90FP8GEMM1D1DHeuristics.blockK)
            entries.append(Entry(op: "k_grouped_fp8_gemm_nt_contiguous",
                                 problem: GEMMKernelProblem(Self.problem(m: m, n: n, k: maxK, groups: groups), numSMs: numSMs, compiledDims: "mn")))
        }
        return entries
    }

    /// DeepGEMM's k-grouped test shapes: (groups, M, N, expected K per group).
    static let kGroupedShapes = [(4, 4096, 7168, 8192), (4, 7168, 2048, 8192), (8, 4096, 7168, 4096), (8, 7168, 2048, 4096),
                                 (16, 4096, 7168, 2048), (16, 7168, 2048, 2048)]

    /// A 1D1D problem as the ops hand it to the backend: FP8 E4M3 operands, F32 D with C; more than
    /// one group makes it k-grouped (`k` the largest group's K).
    public static func problem(m: Int, n: Int, k: Int, groups: Int = 1) -> GEMMProblem {
        GEMMProblem(kind: .normal, m: m, n: n, k: k, numGroups: groups, typeA: .float8E4M3, typeB: .float8E4M3, typeCD: .float32,
                    kernelType: .oneD1D, accumulate: true)
    }
}
