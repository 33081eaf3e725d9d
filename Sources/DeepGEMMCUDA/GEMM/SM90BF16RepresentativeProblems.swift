import DeepGEMMCore

extension SM90BF16GEMMFamily {
    /// DeepGEMM's BF16 test shapes (tests/test_bf16.py), trimmed: every dense layout at decode, small
    /// and large M, both output types with and without accumulation, and the m-grouped kinds.
    public func representativeProblems(numSMs: Int) -> [RepresentativeProblems.Entry] {
        typealias Entry = RepresentativeProblems.Entry
        let (denseShapes, groupedShapes) = (RepresentativeProblems.denseShapes, RepresentativeProblems.groupedShapes)
        func grouped(_ problem: GEMMProblem) -> GEMMKernelProblem { GEMMKernelProblem(problem, numSMs: numSMs) }
        var entries: [Entry] = []
        func dense(_ op: String, m: Int, n: Int, k: Int, a: GEMMMajor, b: GEMMMajor, out: DType = .bfloat16, accumulate: Bool = false) {
            let compiledDims = op.hasSuffix("nt") || op.hasSuffix("nn") || op == "einsum" ? "nk" : "mn"
            let problem = GEMMProblem(kind: .normal, m: m, n: n, k: k, majorA: a, majorB: b, typeCD: out, accumulate: accumulate)
            entries.append(Entry(op: op, problem: GEMMKernelProblem(problem, numSMs: numSMs, compiledDims: compiledDims)))
        }
        // Forward: every dense shape at decode, small and large M
        for m in [1, 128, 4096] {
            for (n, k) in denseShapes { dense("bf16_gemm_nt", m: m, n: n, k: k, a: .k, b: .k) }
        }
        // FP32 output, with and without accumulation
        for (n, k) in [(256, 7168), (4096, 7168)] {
            dense("bf16_gemm_nt", m: 4096, n: n, k: k, a: .k, b: .k, out: .float32)
            dense("bf16_gemm_nt", m: 4096, n: n, k: k, a: .k, b: .k, out: .float32, accumulate: true)
        }
        dense("bf16_gemm_nt", m: 4096, n: 4096, k: 7168, a: .k, b: .k, accumulate: true)
        // MN-major operands (backward shapes)
        for m in [128, 4096] {
            for (n, k) in [(2112, 7168), (7168, 2048)] {
                dense("bf16_gemm_nn", m: m, n: n, k: k, a: .k, b: .mn)
                dense("bf16_gemm_tn", m: m, n: n, k: k, a: .mn, b: .mn)
                dense("bf16_gemm_tt", m: m, n: n, k: k, a: .mn, b: .k)
            }
        }
        dense("bf16_gemm_tn", m: 7168, n: 2112, k: 4096, a: .mn, b: .mn, out: .float32, accumulate: true)
        // einsum's bh* expressions run one GEMM per head: bhr,hdr->bhd is (b x d x r, K-major B), bhd,hdr->bhr (b x r x d, MN-major B)
        for (r, d) in [(512, 128), (4096, 1024)] {
            for b in [4, 4096] {
                dense("einsum", m: b, n: d, k: r, a: .k, b: .k)
                dense("einsum", m: b, n: r, k: d, a: .k, b: .mn)
            }
        }
        // m-grouped contiguous (4 groups of ~8192 rows), K-major B and MN-major B
        for (n, k) in groupedShapes {
            entries.append(Entry(op: "m_grouped_bf16_gemm_nt_contiguous",
                                 problem: grouped(GEMMProblem(kind: .mGroupedContiguous, m: 4 * 8192, n: n, k: k, numGroups: 4))))
        }
        // The psum layout (masked-like data laid out contiguously), with and without the expected-M hint
        for (n, k) in groupedShapes.prefix(2) {
            for expectedM in [nil, 8192] {
                entries.append(Entry(op: "m_grouped_bf16_gemm_nt_contiguous",
                                     problem: grouped(GEMMProblem(kind: .mGroupedContiguousPsum, m: 4 * 8192, n: n, k: k, numGroups: 4,
                                                                          expectedM: expectedM))))
            }
        }
        for (n, k) in groupedShapes.prefix(2) {
            entries.append(Entry(op: "m_grouped_bf16_gemm_nn_contiguous",
                                 problem: grouped(GEMMProblem(kind: .mGroupedContiguous, m: 4 * 8192, n: n, k: k, numGroups: 4, majorB: .mn))))
        }
        // m-grouped masked: decode-like (32 groups, ~192 rows) and prefill-like (6 groups, ~1024 rows)
        for (groups, expected) in [(32, 192), (6, 1024)] {
            for (n, k) in groupedShapes {
                entries.append(Entry(op: "m_grouped_bf16_gemm_nt_masked",
                                     problem: grouped(GEMMProblem(kind: .mGroupedMasked, m: 4096, n: n, k: k, numGroups: groups,
                                                                          expectedM: Int(Double(expected) * 1.2)))))
            }
        }
        return entries
    }
}
