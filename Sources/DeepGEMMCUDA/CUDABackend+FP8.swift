import DeepGEMMCore

extension CUDABackend {
    /// `D = Adeq · Bdeqᵀ` in BF16 for a validated normal FP8 problem with m, n, k > 0 (`fp8_gemm_nt`
    /// and the `fp8_fp4_gemm_nt` name with FP8 operands; kernel type 1D2D on SM90): A [M, K] and
    /// B [N, K] FP8 E4M3, both K-major; `sfa` F32 [M, ceil(K/128)] per token, any strides (see
    /// ``tmaScales(_:rows:problem:stream:)``); `sfb` F32 [ceil(N/128), ceil(K/128)] per 128x128
    /// block, any strides; D [M, N] BF16 row-major, overwritten. Kernel type 1D1D (recipe
    /// (1, 1, 128)): `sfb` F32 [N, ceil(K/128)] per channel, handled like `sfa`, and D [M, N] F32
    /// added to (`problem.accumulate`: the op has copied C into D).
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
    /// [G, Mmax, K] with `sfa` F32 [G, Mmax, ceil(K/128)] (any strides, as in ``fp8GEMM(_:a:sfa:b:sfb:d:compiledDims:options:stream:)``), B
    /// [G, N, K] with `sfb` F32 [G, ceil(N/128), ceil(K/128)], D [G, Mmax, N] BF16; group g computes
    /// its first `maskedM[g]` rows (int32 [G] on the device).
    public static func mGroupedFP8GEMMMasked(_ problem: GEMMProblem, a: Tensor, sfa: Tensor, b: Tensor, sfb: Tensor, d: Tensor, maskedM: Tensor,
                                             compiledDims: String = "nk", options: Options = Options(), stream: CUDAStream) throws {
        try launch(problem, a: a, b: b, d: d, groupedLayout: maskedM, sfa: sfa, sfb: sfb, compiledDims: compiledDims, options: options, stream: stream)
    }

    /// Per-row scales (A's per-token ones; B's per-channel ones for the 1D1D kernel) in the layout
    /// the SM90 FP8 kernels load through TMA, as DeepGEMM's `transform_sf_into_required_layout` leaves
    /// them (spec §3.5 case 1): F32 `[(G,) rows, ceil(K/128)]` (G for the masked kind) that is not
    /// already MN-major and TMA-aligned is copied into that layout on `stream` by the
    /// `get_mn_major_tma_aligned_tensor` kernel, and the copy is kept until the stream drains.
    /// Scales of another shape or type are returned as they are, for the kernel plan to refuse naming
    /// `a_sf` or `b_sf`.
    static func tmaScales(_ sf: Tensor, rows: Int, problem: GEMMProblem, stream: CUDAStream) throws -> Tensor {
        let groups = problem.kind == .mGroupedMasked ? [problem.numGroups] : []
        guard sf.dtype == .float32, sf.shape == groups + [rows, ceilDiv(problem.k, SM90FP8Heuristics.blockK)] else { return sf }
        let batches = try ScaleFactorBatches(sf)
        guard !batches.hasMNMajorTMAAlignedStrides else { return sf }
        let aligned = try mnMajorTMAAlignedTensor(batches, stream: stream)
        StreamRetention.shared.retain(aligned, until: stream)
        return aligned
    }
}
