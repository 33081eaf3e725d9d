/// A validated `tf32_hc_prenorm_gemm` call (spec §13): its sizes and the K range of each split.
struct HyperConnectionPrenormProblem {
    /// The K-block width the splits are counted in.
    static let blockK = 64

    let m: Int
    let n: Int
    let k: Int
    /// The number of splits S (1 without `num_splits`).
    let splits: Int

    /// Checks the arguments by DeepGEMM's rules (all of them, also when M is 0):
    /// a BF16 [M, K] and b F32 [N, K] K-major; d F32 [M, N] (or [S, M, N] with `num_splits` = S >= 1)
    /// row-major; sqr_sum F32 [M] (or [S, M]) contiguous; N > 0, K > 0, K % 64 == 0, N % 8 == 0,
    /// and N <= 128 (N <= 32 under the strict SM90 rules).
    init(a: Tensor, b: Tensor, d: Tensor, sqrSum: Tensor, numSplits: Int?, rules: GEMMRules) throws {
        try DeepGEMMError.require(a.rank == 2, "a", "must be 2-D [M, K], got shape \(a.shape)")
        try DeepGEMMError.require(b.rank == 2, "b", "must be 2-D [N, K], got shape \(b.shape)")
        try DeepGEMMError.require(a.stride(-1) == 1, "a", "must be K-major (stride(-1) == 1), got strides \(a.strides)")
        try DeepGEMMError.require(b.stride(-1) == 1, "b", "must be K-major (stride(-1) == 1), got strides \(b.strides)")
        try DeepGEMMError.require(sqrSum.isContiguous, "sqr_sum", "must be contiguous, got strides \(sqrSum.strides) for shape \(sqrSum.shape)")
        (m, k) = (a.size(0), a.size(1))
        n = b.size(0)
        try DeepGEMMError.require(b.size(1) == k, "b", "must be [N, K] with K = \(k) (from a), got shape \(b.shape)")
        if let numSplits {
            try DeepGEMMError.require(numSplits >= 1, "num_splits", "must be at least 1, got \(numSplits)")
            try DeepGEMMError.require(d.shape == [numSplits, m, n], "d", "must be [num_splits, M, N] = [\(numSplits), \(m), \(n)], got shape \(d.shape)")
            try DeepGEMMError.require(sqrSum.shape == [numSplits, m], "sqr_sum", "must be [num_splits, M] = [\(numSplits), \(m)], got shape \(sqrSum.shape)")
        } else {
            try DeepGEMMError.require(d.shape == [m, n], "d", "must be [M, N] = [\(m), \(n)], got shape \(d.shape)")
            try DeepGEMMError.require(sqrSum.shape == [m], "sqr_sum", "must be [M] = [\(m)], got shape \(sqrSum.shape)")
        }
        splits = numSplits ?? 1
        try DeepGEMMError.require(d.stride(-1) == 1 && (d.rank == 2 || d.stride(0) == d.size(-2) * d.size(-1)), "d",
                                  "must be row-major (stride(-1) == 1, and stride(0) == M·N when 3-D), got strides \(d.strides)")
        try DeepGEMMError.require(n > 0, "b", "N must be positive, got shape \(b.shape)")
        try DeepGEMMError.require(k > 0, "a", "K must be positive, got shape \(a.shape)")
        try DeepGEMMError.require(a.dtype == .bfloat16, "a", "must be bfloat16, got \(a.dtype)")
        try DeepGEMMError.require(b.dtype == .float32, "b", "must be float32, got \(b.dtype)")
        try DeepGEMMError.require(d.dtype == .float32, "d", "must be float32, got \(d.dtype)")
        try DeepGEMMError.require(sqrSum.dtype == .float32, "sqr_sum", "must be float32, got \(sqrSum.dtype)")
        try DeepGEMMError.require(k % Self.blockK == 0, "a", "K must be a multiple of \(Self.blockK), got \(k)")
        try DeepGEMMError.require(n % 8 == 0, "b", "N must be a multiple of 8, got \(n)")
        let maxN = rules.arch == .sm90 ? 32 : 128
        if n > maxN {
            throw DeepGEMMError.unsupported(argument: "b", rule: "N must be at most \(maxN) (\(rules.arch == .sm90 ? "SM90" : "SM100") kernels), got \(n)")
        }
    }

    /// The K columns split `s` sums over: the `K / 64` blocks are dealt out as `base = nkb / S` each,
    /// plus one more to each of the first `nkb % S` splits. A split past the last block is empty.
    func kRange(split s: Int) -> Range<Int> {
        let blocks = k / Self.blockK
        let base = blocks / splits, extra = blocks % splits
        let first = s * base + min(s, extra)
        let count = base + (s < extra ? 1 : 0)
        return (first * Self.blockK)..<((first + count) * Self.blockK)
    }
}
