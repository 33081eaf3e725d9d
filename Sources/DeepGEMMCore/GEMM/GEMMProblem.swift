/// How the tiles of a GEMM relate to groups.
public enum GEMMKind: String, Sendable, Hashable, CaseIterable {
    /// One `D[M, N] (+)= A[M, K] · B[N, K]ᵀ`.
    case normal
    /// m-grouped contiguous: each row of A carries a group id; B is [G, N, K].
    case mGroupedContiguous
    /// m-grouped contiguous with a psum layout: group g covers rows [align(end[g-1], BLOCK_M), end[g]).
    case mGroupedContiguousPsum
    /// m-grouped masked: A is [G, Mmax, K]; group g uses its first `masked_m[g]` rows.
    case mGroupedMasked
}

/// DeepGEMM's kernel types: which operands carry block scale factors and how they are applied.
public enum GEMMKernelType: String, Sendable, Hashable, CaseIterable {
    /// No scale factors (BF16 and TF32 GEMMs).
    case noSF
    /// Per-token A and per-channel B scales, each per K block (recipe (1, 1, gran_k)): the
    /// product of both is applied to every partial sum.
    case oneD1D
    /// Per-token A and per-block B scales (recipe (1, 128, 128)): B's scale is uniform over a
    /// tile's N, so it is applied once per K block on the accumulators.
    case oneD2D
}

/// A validated GEMM: everything about a call that the backends' planners depend on, produced by an
/// op's argument rules (written once, in Core) and taken by the CPU engine and the CUDA launchers
/// without further checks.
public struct GEMMProblem: Sendable, Hashable, CustomStringConvertible {
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
    /// Which dimension of A is contiguous.
    public var majorA: GEMMMajor
    /// Which dimension of B is contiguous.
    public var majorB: GEMMMajor
    /// A's element type.
    public var typeA: DType
    /// B's element type.
    public var typeB: DType
    /// C's and D's element type: `.bfloat16` or `.float32`.
    public var typeCD: DType
    /// How scale factors are applied.
    public var kernelType: GEMMKernelType
    /// Whether D is added to (`D += A·Bᵀ`, after C is copied into D) rather than overwritten.
    public var accumulate: Bool
    /// Rows the planners should expect (masked: `expected_m` per group; psum:
    /// `expected_m_for_psum_layout` per group), or nil for `m`.
    public var expectedM: Int?
    /// For the contiguous kinds: BLOCK_M, DeepGEMM's `mk_alignment_for_contiguous_layout`.
    public var mkAlignment: Int
    /// `fp8_gemm_nt_skip_head_mid`'s (L, Mid, R): product columns come in heads of L + R and D
    /// leaves Mid unwritten columns after the left part of each head; nil for a dense D.
    public var headSplits: [Int]?

    /// Creates a problem description.
    public init(kind: GEMMKind, m: Int, n: Int, k: Int, numGroups: Int = 1, majorA: GEMMMajor = .k, majorB: GEMMMajor = .k,
                typeA: DType = .bfloat16, typeB: DType = .bfloat16, typeCD: DType = .bfloat16, kernelType: GEMMKernelType = .noSF,
                accumulate: Bool = false, expectedM: Int? = nil, mkAlignment: Int = 128, headSplits: [Int]? = nil) {
        self.kind = kind
        self.m = m
        self.n = n
        self.k = k
        self.numGroups = numGroups
        self.majorA = majorA
        self.majorB = majorB
        self.typeA = typeA
        self.typeB = typeB
        self.typeCD = typeCD
        self.kernelType = kernelType
        self.accumulate = accumulate
        self.expectedM = expectedM
        self.mkAlignment = mkAlignment
        self.headSplits = headSplits
    }

    /// `kind m x n x k (groups G), majors, types`, as `DG_PRINT_CONFIGS` prints it.
    public var description: String {
        "\(kind) m=\(m) n=\(n) k=\(k) groups=\(numGroups) major_a=\(majorA.rawValue) major_b=\(majorB.rawValue) "
            + "a=\(typeA) b=\(typeB) cd=\(typeCD)\(accumulate ? "+acc" : "") kernel=\(kernelType.rawValue)"
            + (expectedM.map { " expected_m=\($0)" } ?? "") + (headSplits.map { " head_splits=\($0)" } ?? "")
    }
}
