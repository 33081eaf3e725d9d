import DeepGEMMCore

extension CUDABackend {
    /// `D = Adeq · Bdeqᵀ` in BF16 for a validated normal FP8 problem with m, n, k > 0 (`fp8_gemm_nt`
    /// and the `fp8_fp4_gemm_nt` name with FP8 operands; kernel type 1D2D on SM90): A [M, K] and
    /// B [N, K] FP8 E4M3, both K-major; `sfa` F32 [M, ceil(K/128)] per token in the MN-major
    /// TMA-aligned layout (`get_mn_major_tma_aligned_tensor`); `sfb` F32 [ceil(N/128), ceil(K/128)]
    /// per 128x128 block, any strides; D [M, N] BF16 row-major, overwritten. Kernel type 1D1D
    /// (recipe (1, 1, 128)): `sfb` F32 [N, ceil(K/128)] per channel, MN-major TMA-aligned like
    /// `sfa`, and D [M, N] F32 added to (`problem.accumulate`: the op has copied C into D).
    public static func fp8GEMM(_ problem: GEMMProblem, a: Tensor, sfa: Tensor, b: Tensor, sfb: Tensor, d: Tensor, compiledDims: String = "nk",
                               options: Options = Options(), stream: CUDAStream) throws {
        try launch(problem, a: a, b: b, d: d, groupedLayout: nil, sfa: sfa, sfb: sfb, compiledDims: compiledDims, options: options, stream: stream)
    }

    /// `m_grouped_fp8_gemm_nt_contiguous` for a validated FP8 problem of kind `.mGroupedContiguous` or
    /// `.mGroupedContiguousPsum` (BLOCK_M is `problem.mkAlignment`): A [M, K] and `sfa` as in
    /// ``fp8GEMM(_:a:sfa:b:sfb:d:compiledDims:options:stream:)``, B [G, N, K] K-major, `sfb` F32
    /// [G, ceil(N/128), ceil(K/128)], D [M, N] BF16; `groupedLayout` as in
    /// ``mGroupedBF16GEMMContiguous(_:a:b:d:groupedLayout:compiledDims:options:stream:)``.
    public static func mGroupedFP8GEMMContiguous(_ problem: GEMMProblem, a: Tensor, sfa: Tensor, b: Tensor, sfb: Tensor, d: Tensor,
                                                 groupedLayout: Tensor, compiledDims: String = "nk", options: Options = Options(),
                                                 stream: CUDAStream) throws {
        try launch(problem, a: a, b: b, d: d, groupedLayout: groupedLayout, sfa: sfa, sfb: sfb, compiledDims: compiledDims, options: options,
                   stream: stream)
    }

    /// `m_grouped_fp8_gemm_nt_masked` for a validated FP8 problem of kind `.mGroupedMasked`: A
    /// [G, Mmax, K] with `sfa` F32 [G, Mmax, ceil(K/128)] (MN-major, TMA-aligned per group), B
    /// [G, N, K] with `sfb` F32 [G, ceil(N/128), ceil(K/128)], D [G, Mmax, N] BF16; group g computes
    /// its first `maskedM[g]` rows (int32 [G] on the device).
    public static func mGroupedFP8GEMMMasked(_ problem: GEMMProblem, a: Tensor, sfa: Tensor, b: Tensor, sfb: Tensor, d: Tensor, maskedM: Tensor,
                                             compiledDims: String = "nk", options: Options = Options(), stream: CUDAStream) throws {
        try launch(problem, a: a, b: b, d: d, groupedLayout: maskedM, sfa: sfa, sfb: sfb, compiledDims: compiledDims, options: options, stream: stream)
    }
}
