import DeepGEMMCore

extension CUDABackend {
    /// `tf32_hc_prenorm_gemm(a, b, d, sqr_sum, num_splits)` on an SM90 device for arguments Core
    /// has validated (spec §13): `a` BF16 [M, K] and `b` F32 [N, K], both K-major; `d` F32 [M, N]
    /// (or [S, M, N] with `numSplits` = S) row-major; `sqrSum` F32 [M] (or [S, M]) contiguous.
    /// Split s writes D[s] and sqr_sum[s] over its K blocks (a split without blocks writes zeros);
    /// B is rounded to TF32 by TMA as it is loaded.
    ///
    /// Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `device` off SM90 and `b` for
    /// N > 32 (SM90's kernel; SM100 takes up to 128), also when M is 0.
    public static func tf32HCPrenormGEMM(a: Tensor, b: Tensor, d: Tensor, sqrSum: Tensor, numSplits: Int?, options: Options = Options(),
                                         stream: CUDAStream) throws {
        try requireSM90(stream.device, what: "tf32_hc_prenorm_gemm")
        let (m, k, n) = (a.size(0), a.size(1), b.size(0))
        let splits = numSplits ?? 1
        _ = try SM90HCPrenormHeuristics.config(m: m, n: n, k: k, numSplits: splits)
        guard m > 0 else { return }
        let plan = try SM90HCPrenormFamily().plan(m: m, n: n, k: k, numSplits: splits, a: a.layout, b: b.layout, d: d.layout,
                                                  sqrSum: sqrSum.deviceAddress, pdl: options.pdl)
        try plan.run(describing: "tf32_hc_prenorm_gemm m=\(m) n=\(n) k=\(k) num_splits=\(splits)", on: stream)
    }
}
