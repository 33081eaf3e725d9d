import DeepGEMMCUDA

/// DeepGEMM's `bf16_gemm_{nt,nn,tn,tt}(a, b, d, c=None, compiled_dims)` (spec §4, §6):
/// `D = C + A · Bᵀ` with BF16 operands and FP32 accumulation.
///
/// - `a`, `b`: BF16; in nt orientation (see ``GEMMLayout``) A is [M, K] and B is [N, K], each
///   K-major or MN-major (`stride(-1) == 1` or `stride(-2) == 1`).
/// - `d`: [M, N], BF16 or F32, row-major. `c` (optional): row-major with d's dtype and shape, or
///   `d` itself. Spec §4 applies: nothing happens for M == 0 or N == 0; K == 0 sets D to C or 0; a
///   C that is not D is copied into D first; the product is then added to D (F32 D: `D + acc`;
///   BF16 D: `bf16(D + bf16(acc))`), or written as `cast(acc)` without C.
/// - `compiledDims` is a compilation hint of the CUDA kernels, and `settings` is taken for
///   uniformity with the scaled GEMMs: BF16 GEMMs follow the same rules on SM90 and SM100.
/// - `backend`: `.cpu` and `.auto` run on the CPU; `.cuda` runs the SM90 BF16 kernels (host
///   tensors are copied to the device and D back), or throws
///   ``DeepGEMMError/backendUnavailable(backend:reason:)`` when CUDA cannot run here.
///
/// Bad arguments throw ``DeepGEMMError`` naming `a`, `b`, `d` or `c` before anything is written.
public func bf16GEMM(
    _ layout: GEMMLayout, a: Tensor, b: Tensor, d: Tensor, c: Tensor? = nil, compiledDims: String? = nil,
    settings: DeepGEMMSettings = .default, backend: Backend = .auto
) throws {
    let cuda = try runsOnCUDA(backend)
    let a = try a.ntMatrix(transposed: layout.transposesA, name: "a")
    let b = try b.ntMatrix(transposed: layout.transposesB, name: "b")
    _ = try checkABMajor(a, name: "a")
    _ = try checkABMajor(b, name: "b")
    try checkCDMajor(d, name: "d")
    try DeepGEMMError.require(d.rank == 2 && d.shape == [a.size(0), b.size(0)], "d", "must be [M, N] = [\(a.size(0)), \(b.size(0))], got \(d.shape)")
    try DeepGEMMError.require(b.size(1) == a.size(1), "b", "K of b (\(b.size(1))) must equal K of a (\(a.size(1)))")
    try DeepGEMMError.require(a.dtype == .bfloat16, "a", "must be bfloat16, got \(a.dtype)")
    try DeepGEMMError.require(b.dtype == .bfloat16, "b", "must be bfloat16, got \(b.dtype)")
    try DeepGEMMError.require(d.dtype == .bfloat16 || d.dtype == .float32, "d", "must be bfloat16 or float32, got \(d.dtype)")
    try runUnscaledGEMM(a: a, b: b, d: d, c: c, cudaCompiledDims: cuda ? (compiledDims ?? (layout.transposesA ? "mn" : "nk")) : nil)
}

/// Spec §4 around an unscaled nt GEMM whose operands and D have passed their op's checks; on the
/// SM90 BF16 CUDA kernels when `cudaCompiledDims` is given, otherwise on the CPU engine.
func runUnscaledGEMM(a: Tensor, b: Tensor, d: Tensor, c: Tensor?, cudaCompiledDims: String? = nil) throws {
    let action = try checkGEMMOutput(m: a.size(0), n: b.size(0), k: a.size(1), d: d, c: c)
    let operandA = try gemmOperand(a, name: "a", scales: nil), operandB = try gemmOperand(b, name: "b", scales: nil)
    let (run, accumulate) = try prepareGEMMOutput(action, d: d, c: c)
    guard run else { return }
    if let compiledDims = cudaCompiledDims {
        let problem = GEMMProblem(kind: .normal, m: a.size(0), n: b.size(0), k: a.size(1), majorA: try checkABMajor(a, name: "a"),
                                  majorB: try checkABMajor(b, name: "b"), typeA: a.dtype, typeB: b.dtype, typeCD: d.dtype, accumulate: accumulate)
        try runOnCUDA(inputs: [a, b], d: d) { inputs, deviceD, stream in
            try CUDABackend.bf16GEMM(problem, a: inputs[0], b: inputs[1], d: deviceD, compiledDims: compiledDims, stream: stream)
        }
        return
    }
    try GEMMEngine.run(a: operandA, b: operandB, d: d, accumulate: accumulate)
}
