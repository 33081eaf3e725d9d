import DeepGEMMCUDA

/// DeepGEMM's `einsum(expr, a, b, d, c=None, use_cublaslt=False)` (spec §11): three fixed BF16
/// contractions with FP32 accumulation, each result rounded once.
///
/// `a` and `b` are BF16; `d` is BF16 or F32 and a given `c` has d's dtype. Expressions:
/// - `"bmk,bnk->mn"`: a [S, M, K], b [S, N, K] contiguous; `D = Σ_s A_s · B_sᵀ`. F32 D: `c` must
///   be `d` itself (same data, sizes and strides), d contiguous, and the sum is added to D. BF16 D:
///   no `c`; the sum is formed in F32 from zero and rounded once. M, N and K must be multiples of
///   64 and S·max(M, N) at most 2³¹ − 1. `useCublasLt` must be false.
/// - `"bhr,hdr->bhd"`: a [B, H, R], b [H, D, R], d [B, H, D], all BF16 with `stride(2) == 1`
///   (other strides free); `D[b, h, :] = Σ_r A[b, h, r] · B[h, :, r]`. No `c`.
/// - `"bhd,hdr->bhr"`: a [B, H, D], b [H, D, R], d [B, H, R], same dtype and stride rules;
///   `D[b, h, r] = Σ_d A[b, h, d] · B[h, d, r]`. No `c`.
///
/// The two `bh*` expressions give, bit for bit, BF16 of the FP32 sum (DeepGEMM's tests compare
/// them with PyTorch at 1e-10). `useCublasLt` selects cuBLASLt in DeepGEMM; the result here is the
/// same. Runs where the tensors are (see ``Placement``): on the CPU, or on an SM90 device, where
/// `bmk,bnk->mn` runs its split-K kernel (F32 partial sums added with atomics, so an F32 D may
/// differ between runs in the last bits) and the `bh*` expressions run the BF16 GEMM kernel once
/// per head.
///
/// Bad arguments throw ``DeepGEMMError`` naming `expr`, `a`, `b`, `d`, `c` or `use_cublaslt`
/// before anything is written.
public func einsum(_ expression: String, a: Tensor, b: Tensor, d: Tensor, c: Tensor? = nil, useCublasLt: Bool = false) throws {
    let placement = try Placement([("a", a), ("b", b), ("d", d), ("c", c)])
    try DeepGEMMError.require(a.dtype == .bfloat16, "a", "must be bfloat16, got \(a.dtype)")
    try DeepGEMMError.require(b.dtype == .bfloat16, "b", "must be bfloat16, got \(b.dtype)")
    try requireGEMMOutputType(d)
    if let c { try DeepGEMMError.require(c.dtype == d.dtype, "c", "must have d's dtype \(d.dtype), got \(c.dtype)") }
    switch expression {
    case "bmk,bnk->mn":
        try DeepGEMMError.require(!useCublasLt, "use_cublaslt", "is not supported for bmk,bnk->mn")
        try batchedSumEinsum(a: a, b: b, d: d, c: c, placement: placement)
    case "bhr,hdr->bhd", "bhd,hdr->bhr":
        try DeepGEMMError.require(c == nil, "c", "must be None for \(expression)")
        try perHeadEinsum(a: a, b: b, d: d, bIsReducedLast: expression == "bhr,hdr->bhd", placement: placement)
    default:
        throw DeepGEMMError.invalidArgument(argument: "expr", rule: "Unsupported einsum expression: \(expression)")
    }
}

/// `bmk,bnk->mn`: on the CPU one engine call per batch, all adding into an F32 accumulator (D
/// itself, or a zeroed workspace that is rounded into a BF16 D at the end); on a device the SM90
/// kernel does the same.
private func batchedSumEinsum(a: Tensor, b: Tensor, d: Tensor, c: Tensor?, placement: Placement) throws {
    if d.dtype == .float32 {
        let aliased = c.map { $0.sharesDataPointer(with: d) && $0.shape == d.shape && $0.strides == d.strides } ?? false
        try DeepGEMMError.require(aliased, "c", "must be d itself (same data, sizes and strides) for a float32 d")
    } else {
        try DeepGEMMError.require(c == nil, "c", "must be None for a bfloat16 d")
    }
    for (name, tensor) in [("a", a), ("b", b)] {
        try DeepGEMMError.require(tensor.rank == 3, name, "must be 3-D, got shape \(tensor.shape)")
        try DeepGEMMError.require(tensor.isContiguous, name, "must be contiguous, got strides \(tensor.strides)")
    }
    let (s, m, k, n) = (a.size(0), a.size(1), a.size(2), b.size(1))
    try DeepGEMMError.require(b.size(0) == s && b.size(2) == k, "b", "must be [S, N, K] with S = \(s), K = \(k), got \(b.shape)")
    try DeepGEMMError.require(d.rank == 2 && d.shape == [m, n], "d", "must be [M, N] = [\(m), \(n)], got \(d.shape)")
    try DeepGEMMError.require(d.dtype == .bfloat16 || d.isContiguous, "d", "must be contiguous, got strides \(d.strides)")
    try DeepGEMMError.require(k % 64 == 0, "a", "K must be a multiple of 64, got \(k)")
    try DeepGEMMError.require(m % 64 == 0, "a", "M must be a multiple of 64, got \(m)")
    try DeepGEMMError.require(n % 64 == 0, "b", "N must be a multiple of 64, got \(n)")
    let span = s.multipliedReportingOverflow(by: max(m, n))
    try DeepGEMMError.require(!span.overflow && span.partialValue <= Int(Int32.max), "a",
                              "S·max(M, N) must be at most 2^31 - 1, got \(s)·\(max(m, n))")
    if case .cuda(let stream) = placement {
        return try CUDABackend.bf16BatchedSumEinsum(a: a, b: b, d: d, options: RuntimeSettings.current.cudaOptions, stream: stream)
    }

    let accumulator = d.dtype == .float32 ? d : Tensor(zeros: [m, n], dtype: .float32)
    for batch in 0..<s {
        try GEMMEngine.run(a: gemmOperand(a.select(dim: 0, index: batch), name: "a", scales: nil),
                           b: gemmOperand(b.select(dim: 0, index: batch), name: "b", scales: nil),
                           d: accumulator, accumulate: true)
    }
    if d.dtype == .bfloat16 { try d.copy(from: accumulator.converted(to: .bfloat16)) }
}

/// `bhr,hdr->bhd` (`bIsReducedLast`: B's reduced dimension is its last) and `bhd,hdr->bhr`: one
/// nt GEMM per head on [B, ·] views of A and D (B's head transposed for `bhd,hdr->bhr`, an
/// MN-major operand), on the CPU engine or the device's BF16 GEMM kernel.
private func perHeadEinsum(a: Tensor, b: Tensor, d: Tensor, bIsReducedLast: Bool, placement: Placement) throws {
    for (name, tensor) in [("a", a), ("b", b), ("d", d)] {
        try DeepGEMMError.require(tensor.rank == 3, name, "must be 3-D, got shape \(tensor.shape)")
    }
    let (batch, heads, reduced) = (a.size(0), a.size(1), a.size(2))
    let outer = bIsReducedLast ? b.size(1) : b.size(2)
    let bReduced = bIsReducedLast ? b.size(2) : b.size(1)
    try DeepGEMMError.require(b.size(0) == heads && bReduced == reduced, "b",
                              "must have H = \(heads) heads and the reduced size \(reduced) of a, got \(b.shape)")
    try DeepGEMMError.require(d.shape == [batch, heads, outer], "d", "must be [\(batch), \(heads), \(outer)], got \(d.shape)")
    for (name, tensor) in [("a", a), ("b", b), ("d", d)] {
        try DeepGEMMError.require(tensor.dtype == .bfloat16, name, "must be bfloat16, got \(tensor.dtype)")
        try DeepGEMMError.require(tensor.stride(2) == 1, name, "must have stride(2) == 1, got strides \(tensor.strides)")
    }
    for head in 0..<heads {
        let bHead = try b.select(dim: 0, index: head)
        let (aView, bView, dView) = (try a.select(dim: 1, index: head), bIsReducedLast ? bHead : try bHead.transposed(), try d.select(dim: 1, index: head))
        try runUnscaledGEMM(a: aView, b: bView, d: dView, c: nil, placement: placement) { problem, stream in
            try CUDABackend.bf16GEMM(problem, a: aView, b: bView, d: dView, options: RuntimeSettings.current.cudaOptions, stream: stream)
        }
    }
}
