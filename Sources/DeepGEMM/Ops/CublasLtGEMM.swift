/// DeepGEMM's `cublaslt_gemm_{nt,nn,tn,tt}(a, b, d, c=None)` (spec §10): the plain reference GEMM
/// `D = A · Bᵀ (+ C)` that DeepGEMM delegates to cuBLASLt, with the same names and semantics.
///
/// - `a`, `b`: the same dtype, BF16, F32 or FP8 E4M3 (FP8 without scales); in nt orientation (see
///   ``GEMMLayout``) A is [M, K] and B is [N, K], each K-major or MN-major.
/// - `d`: [M, N], BF16 or F32 (any strides). `c` (optional): row-major with d's dtype and shape, or
///   `d` itself. Spec §4 applies (M == 0 or N == 0: nothing; K == 0: D = C or 0; C copied into D).
/// - Products are accumulated in FP32 and rounded once into D (with C: F32 `D + acc`, BF16
///   `bf16(D + bf16(acc))`). cuBLASLt's `32F_FAST_TF32` compute type rounds F32 inputs to TF32
///   first; here F32 inputs are used at full precision (BF16 and FP8 inputs are exact in TF32).
/// - Runs where the tensors are: host tensors on the CPU engine, CUDA tensors through cuBLASLt
///   (`libcublasLt.so`, found like NVRTC; absent -> ``DeepGEMMError/backendUnavailable(backend:reason:)``
///   naming every path tried) on the device's current stream. On CUDA, D must be row-major or
///   column-major, FP8 operands K-major with 16-byte rows (cuBLASLt's SM90 rules; a problem cuBLASLt
///   has no algorithm for throws ``DeepGEMMError/unsupported(argument:rule:)``), F32 inputs use TF32 tensor cores
///   as DeepGEMM asks cuBLASLt for, and with C the sum `acc + D` is rounded once into a BF16 D.
///
/// Bad arguments throw ``DeepGEMMError`` naming `a`, `b`, `d` or `c` before anything is written.
public func cublasLtGEMM(_ layout: GEMMLayout, a: Tensor, b: Tensor, d: Tensor, c: Tensor? = nil) throws {
    let placement = try Placement([("a", a), ("b", b), ("d", d), ("c", c)])
    let a = try a.ntMatrix(transposed: layout.transposesA, name: "a")
    let b = try b.ntMatrix(transposed: layout.transposesB, name: "b")
    _ = try checkABMajor(a, name: "a")
    _ = try checkABMajor(b, name: "b")
    try DeepGEMMError.require(d.rank == 2 && d.shape == [a.size(0), b.size(0)], "d", "must be [M, N] = [\(a.size(0)), \(b.size(0))], got \(d.shape)")
    try DeepGEMMError.require(b.size(1) == a.size(1), "b", "K of b (\(b.size(1))) must equal K of a (\(a.size(1)))")
    let inputs: Set<DType> = [.bfloat16, .float32, .float8E4M3]
    try DeepGEMMError.require(inputs.contains(a.dtype), "a", "must be bfloat16, float32 or float8_e4m3fn, got \(a.dtype)")
    try DeepGEMMError.require(b.dtype == a.dtype, "b", "must have a's dtype \(a.dtype), got \(b.dtype)")
    try runUnscaledGEMM(a: a, b: b, d: d, c: c, placement: placement) { problem, stream in
        try CUDABackend.cublasLtGEMM(problem, a: a, b: b, d: d, stream: stream)
    }
}
