import DeepGEMMCore

extension GEMMKind {
    /// The `dg::GemmKind` enumerator of the kernel sources.
    var kernelName: String {
        switch self {
        case .normal: return "dg::GemmKind::Normal"
        case .mGroupedContiguous: return "dg::GemmKind::MGroupedContiguous"
        case .mGroupedMasked: return "dg::GemmKind::MGroupedMasked"
        case .mGroupedContiguousPsum: return "dg::GemmKind::MGroupedContiguousPsum"
        }
    }
}

extension GEMMMajor {
    /// The `dg::Major` enumerator of the kernel sources.
    var kernelName: String { self == .k ? "dg::Major::K" : "dg::Major::MN" }
}

/// Everything about a GEMM call that the heuristics and the generated kernel depend on.
public struct GEMMKernelProblem: Sendable, Hashable, CustomStringConvertible {
    /// The tile/group relation.
    public var kind: GEMMKind
    /// Rows of D (per group for the masked kind: Mmax).
    public var m: Int
    /// Columns of D.
    public var n: Int
    /// Reduction size.
    public var k: Int
    /// Groups (1 for the normal kind).
    public var numGroups: Int
    /// Major-ness of A and B.
    public var majorA: GEMMMajor
    /// Major-ness of B.
    public var majorB: GEMMMajor
    /// D's dtype: `.bfloat16` or `.float32`.
    public var outputType: DType
    /// Whether D is added to (`D += A·Bᵀ`) rather than overwritten.
    public var accumulate: Bool
    /// SMs the persistent grid uses (even).
    public var numSMs: Int
    /// Dimensions baked into the kernel as constants: any of "m", "n", "k".
    public var compiledDims: String
    /// Rows the heuristics should plan for (masked: `expected_m` per group; psum:
    /// `expected_m_for_psum_layout` per group), or nil for `m`.
    public var expectedM: Int?
    /// For the contiguous kinds: BLOCK_M, DeepGEMM's `mk_alignment_for_contiguous_layout`.
    public var mkAlignment: Int

    /// Creates a problem description.
    public init(kind: GEMMKind, m: Int, n: Int, k: Int, numGroups: Int = 1, majorA: GEMMMajor = .k, majorB: GEMMMajor = .k,
                outputType: DType = .bfloat16, accumulate: Bool = false, numSMs: Int, compiledDims: String = "nk",
                expectedM: Int? = nil, mkAlignment: Int = 128) {
        self.kind = kind
        self.m = m
        self.n = n
        self.k = k
        self.numGroups = numGroups
        self.majorA = majorA
        self.majorB = majorB
        self.outputType = outputType
        self.accumulate = accumulate
        self.numSMs = numSMs
        self.compiledDims = compiledDims
        self.expectedM = expectedM
        self.mkAlignment = mkAlignment
    }

    /// Groups whose tiles the heuristics count: every group when the expected rows are per group
    /// (masked; psum with an expected M), else one grid over all rows.
    var expectedNumGroups: Int {
        switch kind {
        case .mGroupedMasked: return numGroups
        case .mGroupedContiguousPsum: return expectedM == nil ? 1 : numGroups
        case .normal, .mGroupedContiguous: return 1
        }
    }

    /// Whether tiles run group by group, so a cluster pair needs an even number of N blocks per group.
    var runsGroupByGroup: Bool { kind == .mGroupedMasked || kind == .mGroupedContiguousPsum }

    /// The value of dimension `name` baked into the kernel, or 0 when it stays a runtime argument.
    func compiledValue(_ name: Character, _ value: Int) -> Int { compiledDims.contains(name) ? value : 0 }

    /// `kind m x n x k (groups G), majors, output`, as `DG_PRINT_CONFIGS` prints it.
    public var description: String {
        "\(kind) m=\(m) n=\(n) k=\(k) groups=\(numGroups) major_a=\(majorA.rawValue) major_b=\(majorB.rawValue) "
            + "out=\(outputType)\(accumulate ? "+acc" : "") sms=\(numSMs) compiled_dims=\(compiledDims)"
            + (expectedM.map { " expected_m=\($0)" } ?? "")
    }
}
