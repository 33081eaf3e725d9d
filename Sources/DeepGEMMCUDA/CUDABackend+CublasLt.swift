import DeepGEMMCore

extension CUDABackend {
    /// `cublaslt_gemm_{nt,nn,tn,tt}` on device tensors through cuBLASLt (loaded on first use, see
    /// ``CUDAProbe``): `D = A · Bᵀ (+ D)` for a validated problem with m, n, k > 0, with `a` [M, K]
    /// and `b` [N, K] in nt orientation (each K-major or MN-major; FP8 E4M3 needs both K-major) of one
    /// dtype (BF16, F32 or FP8 E4M3) and `d` [M, N] BF16 or F32, row-major or column-major, added to
    /// when `problem.accumulate` (the op has copied C into D). Products accumulate in FP32 (F32 inputs
    /// on TF32 tensor cores, as DeepGEMM asks cuBLASLt for); with C the sum `acc + D` is rounded once.
    /// Throws backendUnavailable naming every library tried when cuBLASLt is absent.
    public static func cublasLtGEMM(_ problem: GEMMProblem, a: Tensor, b: Tensor, d: Tensor, stream: CUDAStream) throws {
        let plan = try CublasLtMatmulPlan(a: a.layout, b: b.layout, d: d.layout, accumulate: problem.accumulate)
        let context = try CublasLtContext.shared(on: stream.device)
        let (first, second) = plan.swapsOperands ? (b, a) : (a, b)
        try context.matmul(plan, addressA: first.deviceAddress, addressB: second.deviceAddress, addressD: d.deviceAddress, stream: stream)
    }
}
