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
/// - Runs where the tensors are: host tensors on the CPU, CUDA tensors with the SM90 BF16 kernels on
///   the device's current stream (see ``Placement``); mixed devices throw naming the argument.
///
/// Bad arguments throw ``DeepGEMMError`` naming `a`, `b`, `d` or `c` before anything is written.
public func bf16GEMM(
    _ layout: GEMMLayout, a: Tensor, b: Tensor, d: Tensor, c: Tensor? = nil, compiledDims: String? = nil,
    settings: DeepGEMMSettings = .default
) throws {
    let placement = try Placement([("a", a), ("b", b), ("d", d), ("c", c)])
    let a = try a.ntMatrix(transposed: layout.transposesA, name: "a")
    let b = try b.ntMatrix(transposed: layout.transposesB, name: "b")
    _ = try checkABMajor(a, name: "a")
    _ = try checkABMajor(b, name: "b")
    try checkCDMajor(d, name: "d")
    try DeepGEMMError.require(d.rank == 2 && d.shape == [a.size(0), b.size(0)], "d", "must be [M, N] = [\(a.size(0)), \(b.size(0))], got \(d.shape)")
    try DeepGEMMError.require(b.size(1) == a.size(1), "b", "K of b (\(b.size(1))) must equal K of a (\(a.size(1)))")
    try DeepGEMMError.require(a.dtype == .bfloat16, "a", "must be bfloat16, got \(a.dtype)")
    try DeepGEMMError.require(b.dtype == .bfloat16, "b", "must be bfloat16, got \(b.dtype)")
    let dims = compiledDims ?? (layout.transposesA ? "mn" : "nk")
    try runUnscaledGEMM(a: a, b: b, d: d, c: c, placement: placement) { problem, stream in
        try CUDABackend.bf16GEMM(problem, a: a, b: b, d: d, compiledDims: dims, options: RuntimeSettings.current.cudaOptions, stream: stream)
    }
}

/// Spec §4 around an unscaled nt GEMM whose operands and D have passed their op's checks: on the
/// CPU engine, or with `cuda` (the op's CUDA entry point, given the problem with m, n, k > 0 after
/// C has been copied into D) on the stream.
func runUnscaledGEMM(a: Tensor, b: Tensor, d: Tensor, c: Tensor?, placement: Placement,
                     cuda: (GEMMProblem, CUDAStream) throws -> Void) throws {
    let action = try checkGEMMOutput(m: a.size(0), n: b.size(0), k: a.size(1), d: d, c: c)
    switch placement {
    case .cpu:
        let operandA = try gemmOperand(a, name: "a", scales: nil), operandB = try gemmOperand(b, name: "b", scales: nil)
        let (run, accumulate) = try prepareGEMMOutput(action, d: d, c: c)
        if run { try GEMMEngine.run(a: operandA, b: operandB, d: d, accumulate: accumulate) }
    case .cuda(let stream):
        let (run, accumulate) = try prepareGEMMOutput(action, d: d, c: c)
        guard run else { return }
        let problem = GEMMProblem(kind: .normal, m: a.size(0), n: b.size(0), k: a.size(1), majorA: try checkABMajor(a, name: "a"),
                                  majorB: try checkABMajor(b, name: "b"), typeA: a.dtype, typeB: b.dtype, typeCD: d.dtype, accumulate: accumulate)
        try cuda(problem, stream)
    }
}
