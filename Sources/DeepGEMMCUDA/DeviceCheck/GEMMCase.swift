import DeepGEMMCore

/// One GEMM op call on the CUDA backend with DeepGEMM's argument layout, used by the device check
/// (`deepgemm jit verify` / `jit bench`) and the GPU tests.
public struct GEMMCase: Sendable, Hashable, CustomStringConvertible {
    /// DeepGEMM's op name: `bf16_gemm_{nt,nn,tn,tt}`, `cublaslt_gemm_{nt,nn,tn,tt}` (BF16 operands),
    /// `m_grouped_bf16_gemm_{nt,nn}_contiguous` or `m_grouped_bf16_gemm_nt_masked`.
    public var op: String
    /// Rows of D (masked: Mmax per group; contiguous: rows per group before alignment, `expected`).
    public var m: Int
    /// Columns of D.
    public var n: Int
    /// Reduction size.
    public var k: Int
    /// Groups of a grouped op (1 otherwise).
    public var groups: Int
    /// D's dtype.
    public var outputType: DType
    /// Whether C (= the initial D) is accumulated into.
    public var accumulate: Bool
    /// Grouped ops: the mean rows per group (`E` of DeepGEMM's generators).
    public var expectedM: Int
    /// Contiguous ops: whether the layout is the psum form (cumulative group ends).
    public var psumLayout: Bool

    /// The m-grouped alignment the cases are generated for (DeepGEMM's default, `CUDABackend.Options().mkAlignment`).
    public static let mkAlignment = 128

    /// Creates a case.
    public init(op: String, m: Int, n: Int, k: Int, groups: Int = 1, outputType: DType = .bfloat16, accumulate: Bool = false, expectedM: Int = 0,
                psumLayout: Bool = false) {
        self.op = op
        self.m = m
        self.n = n
        self.k = k
        self.groups = groups
        self.outputType = outputType
        self.accumulate = accumulate
        self.expectedM = expectedM
        self.psumLayout = psumLayout
    }

    /// The op family.
    public var kind: GEMMKind {
        if op.hasSuffix("_contiguous") { return psumLayout ? .mGroupedContiguousPsum : .mGroupedContiguous }
        if op.hasSuffix("_masked") { return .mGroupedMasked }
        return .normal
    }

    /// Whether the op runs through cuBLASLt (`cublaslt_gemm_*`) rather than a JIT kernel.
    public var usesCublasLt: Bool { op.hasPrefix("cublaslt_gemm_") }

    /// The two-letter layout suffix of a dense or contiguous op (`nt`, `nn`, `tn`, `tt`).
    public var layout: String {
        let parts = op.split(separator: "_")
        return parts.first { ["nt", "nn", "tn", "tt"].contains($0) }.map(String.init) ?? "nt"
    }

    /// 2·M·N·K over the rows that count (grouped: the valid rows).
    public func flops(validRows: Int) -> Double { 2 * Double(validRows) * Double(n) * Double(k) }

    /// `bf16_gemm_nt m=128 n=2112 k=7168 bf16`.
    public var description: String {
        "\(op)\(psumLayout ? " psum" : "")" + (kind == .normal || kind == .mGroupedMasked ? " m=\(m)" : "") + " n=\(n) k=\(k)"
            + (groups > 1 ? " groups=\(groups) expected_m=\(expectedM)" : "")
            + " \(outputType == .float32 ? "f32" : "bf16")" + (accumulate ? " +c" : "")
    }
}

extension GEMMCase {
    /// Cases the device check verifies against the CPU backend: every op, both output types, with
    /// and without accumulation, shapes that pick each family of configurations (small-M, multicast
    /// on A and on B, 144-wide tiles with a 32-byte output swizzle) and unaligned M/N/K tails.
    public static let verification: [GEMMCase] = {
        var cases: [GEMMCase] = []
        for layout in ["nt", "nn", "tn", "tt"] {
            let op = "bf16_gemm_\(layout)"
            // An MN-major A ([K, M] for tn/tt) needs 16-byte rows for TMA, so M is a multiple of 8 there
            let mnMajorA = layout.hasPrefix("t")
            cases.append(GEMMCase(op: op, m: mnMajorA ? 8 : 1, n: 2112, k: 7168))
            cases.append(GEMMCase(op: op, m: 128, n: 7168, k: 2048))
            cases.append(GEMMCase(op: op, m: 1024, n: 2112, k: 1536))
            cases.append(GEMMCase(op: op, m: mnMajorA ? 1000 : 999, n: 2104, k: 1032))
            cases.append(GEMMCase(op: op, m: 2048, n: 4096, k: 1024, outputType: .float32, accumulate: true))
        }
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 2048, n: 576, k: 7168))
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 4096, n: 4096, k: 512))
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 2048, n: 4096, k: 1024, accumulate: true))
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 2048, n: 256, k: 7168, outputType: .float32))
        for layout in ["nt", "nn"] {
            cases.append(GEMMCase(op: "m_grouped_bf16_gemm_\(layout)_contiguous", m: 0, n: 4096, k: 2048, groups: 4, expectedM: 1024))
            cases.append(GEMMCase(op: "m_grouped_bf16_gemm_\(layout)_contiguous", m: 0, n: 2112, k: 1024, groups: 8, expectedM: 200))
            cases.append(GEMMCase(op: "m_grouped_bf16_gemm_\(layout)_contiguous", m: 0, n: 4096, k: 1024, groups: 6, expectedM: 300, psumLayout: true))
        }
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 1024, n: 4096, k: 2048, groups: 6, expectedM: 400))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 256, n: 2112, k: 1024, groups: 16, expectedM: 20))
        for layout in ["nt", "nn", "tn", "tt"] {
            cases.append(GEMMCase(op: "cublaslt_gemm_\(layout)", m: 999, n: 2104, k: 1032))
            cases.append(GEMMCase(op: "cublaslt_gemm_\(layout)", m: 512, n: 4096, k: 1024, outputType: .float32, accumulate: true))
        }
        cases.append(GEMMCase(op: "cublaslt_gemm_nt", m: 1, n: 2112, k: 7168, accumulate: true))
        return cases
    }()

    /// Cases the device check benchmarks: DeepGEMM's BF16 test shapes (forward m = 128 and 4096,
    /// backward layouts, m-grouped contiguous and masked).
    public static let benchmark: [GEMMCase] = {
        var cases: [GEMMCase] = []
        for m in [128, 4096] {
            for (n, k) in RepresentativeProblems.denseShapes {
                cases.append(GEMMCase(op: "bf16_gemm_nt", m: m, n: n, k: k))
            }
        }
        for layout in ["nn", "tn", "tt"] {
            cases.append(GEMMCase(op: "bf16_gemm_\(layout)", m: 4096, n: 7168, k: 2048))
        }
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 4096, n: 4096, k: 7168, outputType: .float32, accumulate: true))
        for (n, k) in RepresentativeProblems.groupedShapes.prefix(2) {
            cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: n, k: k, groups: 4, expectedM: 8192))
            cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 4096, n: n, k: k, groups: 6, expectedM: 1024))
            cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: n, k: k, groups: 6, expectedM: 1024, psumLayout: true))
        }
        // Decode-like masked calls (32 groups of ~192 rows) on the smaller weight shape keep B at 0.5 GiB
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 4096, n: 4096, k: 2048, groups: 32, expectedM: 192))
        cases.append(GEMMCase(op: "cublaslt_gemm_nt", m: 4096, n: 7168, k: 2048))
        cases.append(GEMMCase(op: "cublaslt_gemm_nt", m: 128, n: 7168, k: 2048))
        return cases
    }()
}

extension GEMMCase {
    /// Small cases covering every op, layout, output type and grouped layout with M/N/K tails (rows of
    /// 16 bytes, as TMA needs), for the fake device.
    public static let host: [GEMMCase] = {
        var cases = ["nt", "nn", "tn", "tt"].map { GEMMCase(op: "bf16_gemm_\($0)", m: 104, n: 136, k: 72) }
        cases.append(GEMMCase(op: "bf16_gemm_nt", m: 64, n: 128, k: 64, outputType: .float32, accumulate: true))
        for layout in ["nt", "nn"] {
            cases.append(GEMMCase(op: "m_grouped_bf16_gemm_\(layout)_contiguous", m: 0, n: 128, k: 64, groups: 3, expectedM: 100))
        }
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_contiguous", m: 0, n: 128, k: 64, groups: 3, expectedM: 100, psumLayout: true))
        cases.append(GEMMCase(op: "m_grouped_bf16_gemm_nt_masked", m: 64, n: 128, k: 64, groups: 3, expectedM: 40))
        cases += ["nt", "nn", "tn", "tt"].map { GEMMCase(op: "cublaslt_gemm_\($0)", m: 104, n: 136, k: 72, accumulate: $0 == "tn") }
        return cases
    }()
}
