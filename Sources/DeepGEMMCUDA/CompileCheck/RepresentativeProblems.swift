import DeepGEMMCore

/// The GEMM problems `deepgemm jit compile` plans for an architecture: DeepGEMM's test shapes
/// (tests/test_bf16.py), trimmed so every kernel family, layout and output type is covered while
/// the compile stays short. Each op is named as in DeepGEMM.
public enum RepresentativeProblems {
    /// One problem of one op.
    public struct Entry: Sendable {
        /// DeepGEMM's op name, e.g. `bf16_gemm_nt`.
        public var op: String
        /// The problem as the op hands it to the backend (nt orientation).
        public var problem: GEMMKernelProblem
    }

    /// The ops that have kernels for `architecture`.
    public static func ops(for architecture: CUDAArchitecture) -> [String] {
        Array(Set(entries(for: architecture, numSMs: 132).map(\.op))).sorted()
    }

    /// Every representative problem for `architecture` on a device with `numSMs` SMs.
    public static func entries(for architecture: CUDAArchitecture, numSMs: Int) -> [Entry] {
        switch architecture {
        case .sm90a: return sm90BF16(numSMs: numSMs)
        case .sm100a: return []
        }
    }

    /// (n, k) pairs of DeepGEMM's dense GEMM tests.
    static let denseShapes = [(2112, 7168), (576, 7168), (24576, 1536), (32768, 512), (7168, 16384), (4096, 7168), (7168, 2048)]
    /// (n, k) pairs of DeepGEMM's m-grouped tests.
    static let groupedShapes = [(6144, 7168), (7168, 3072), (4096, 4096), (4096, 2048)]

    private static func sm90BF16(numSMs: Int) -> [Entry] {
        var entries: [Entry] = []
        func dense(_ op: String, m: Int, n: Int, k: Int, a: GEMMMajor, b: GEMMMajor, out: DType = .bfloat16, accumulate: Bool = false) {
            let compiledDims = op.hasSuffix("nt") || op.hasSuffix("nn") ? "nk" : "mn"
            entries.append(Entry(op: op, problem: GEMMKernelProblem(kind: .normal, m: m, n: n, k: k, majorA: a, majorB: b, outputType: out,
                                                              accumulate: accumulate, numSMs: numSMs, compiledDims: compiledDims)))
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
        // m-grouped contiguous (4 groups of ~8192 rows), K-major B and MN-major B
        for (n, k) in groupedShapes {
            entries.append(Entry(op: "m_grouped_bf16_gemm_nt_contiguous",
                                 problem: GEMMKernelProblem(kind: .mGroupedContiguous, m: 4 * 8192, n: n, k: k, numGroups: 4, numSMs: numSMs)))
        }
        // The psum layout (masked-like data laid out contiguously), with and without the expected-M hint
        for (n, k) in groupedShapes.prefix(2) {
            for expectedM in [nil, 8192] {
                entries.append(Entry(op: "m_grouped_bf16_gemm_nt_contiguous",
                                     problem: GEMMKernelProblem(kind: .mGroupedContiguousPsum, m: 4 * 8192, n: n, k: k, numGroups: 4, numSMs: numSMs,
                                                          expectedM: expectedM)))
            }
        }
        for (n, k) in groupedShapes.prefix(2) {
            entries.append(Entry(op: "m_grouped_bf16_gemm_nn_contiguous",
                                 problem: GEMMKernelProblem(kind: .mGroupedContiguous, m: 4 * 8192, n: n, k: k, numGroups: 4, majorB: .mn, numSMs: numSMs)))
        }
        // m-grouped masked: decode-like (32 groups, ~192 rows) and prefill-like (6 groups, ~1024 rows)
        for (groups, expected) in [(32, 192), (6, 1024)] {
            for (n, k) in groupedShapes {
                entries.append(Entry(op: "m_grouped_bf16_gemm_nt_masked",
                                     problem: GEMMKernelProblem(kind: .mGroupedMasked, m: 4096, n: n, k: k, numGroups: groups, numSMs: numSMs,
                                                          expectedM: Int(Double(expected) * 1.2))))
            }
        }
        return entries
    }
}
