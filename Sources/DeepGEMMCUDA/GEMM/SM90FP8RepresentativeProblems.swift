import DeepGEMMCore

extension SM90FP8GEMMFamily {
    /// DeepGEMM's FP8 1D2D test shapes (spec api.md §5, §7), trimmed: every dense (n, k) at decode,
    /// small and large M, skip_head_mid's shapes, the m-grouped contiguous shapes with and without the psum layout, and the
    /// masked shapes at decode- and prefill-like expected M.
    public func representativeProblems(numSMs: Int) -> [RepresentativeProblems.Entry] {
        typealias Entry = RepresentativeProblems.Entry
        func problem(_ kind: GEMMKind, m: Int, n: Int, k: Int, groups: Int = 1, expectedM: Int? = nil) -> GEMMProblem {
            GEMMProblem(kind: kind, m: m, n: n, k: k, numGroups: groups, typeA: .float8E4M3, typeB: .float8E4M3, kernelType: .oneD2D,
                        expectedM: expectedM)
        }
        var entries: [Entry] = []
        for m in [1, 128, 4096] {
            for (n, k) in RepresentativeProblems.denseShapes {
                entries.append(Entry(op: "fp8_gemm_nt", problem: GEMMKernelProblem(problem(.normal, m: m, n: n, k: k), numSMs: numSMs)))
            }
        }
        // fp8_einsum bhr,hdr->bhd (spec §11): one GEMM per head h of (b x d x r) = (b x 1024 x 4096)
        for b in [4, 4096] {
            entries.append(Entry(op: "fp8_einsum", problem: GEMMKernelProblem(problem(.normal, m: b, n: 1024, k: 4096), numSMs: numSMs)))
        }
        // skip_head_mid (spec §9): splits (128, 64, 128)
        for m in [128, 4096] {
            for (n, k) in [(32768, 512), (8192, 512)] {
                var skip = problem(.normal, m: m, n: n, k: k)
                skip.headSplits = [128, 64, 128]
                entries.append(Entry(op: "fp8_gemm_nt_skip_head_mid", problem: GEMMKernelProblem(skip, numSMs: numSMs)))
            }
        }
        for (n, k) in RepresentativeProblems.groupedShapes {
            entries.append(Entry(op: "m_grouped_fp8_gemm_nt_contiguous",
                                 problem: GEMMKernelProblem(problem(.mGroupedContiguous, m: 4 * 8192, n: n, k: k, groups: 4), numSMs: numSMs)))
        }
        for (n, k) in RepresentativeProblems.groupedShapes.prefix(2) {
            for expectedM in [nil, 8192] {
                entries.append(Entry(op: "m_grouped_fp8_gemm_nt_contiguous",
                                     problem: GEMMKernelProblem(problem(.mGroupedContiguousPsum, m: 4 * 8192, n: n, k: k, groups: 4, expectedM: expectedM),
                                                                numSMs: numSMs)))
            }
        }
        for (groups, expected) in [(32, 192), (6, 1024)] {
            for (n, k) in RepresentativeProblems.groupedShapes {
                entries.append(Entry(op: "m_grouped_fp8_gemm_nt_masked",
                                     problem: GEMMKernelProblem(problem(.mGroupedMasked, m: 4096, n: n, k: k, groups: groups,
                                                                        expectedM: Int(Double(expected) * 1.2)), numSMs: numSMs)))
            }
        }
        return entries
    }
}
