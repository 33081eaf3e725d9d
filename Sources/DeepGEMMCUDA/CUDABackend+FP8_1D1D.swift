import DeepGEMMCore

extension CUDABackend {
    /// `k_grouped_fp8_gemm_nt_contiguous` for a validated k-grouped FP8 problem (kind `.normal`,
    /// `numGroups` G > 1, kernel type 1D1D, F32 output with accumulation, `k` the largest group's K;
    /// see ``SM90FP8GEMM1D1DHeuristics/isKGrouped(_:)``): `a` and `b` flat contiguous FP8 E4M3 buffers
    /// of ΣK·M and ΣK·N elements (group g's block a row-major [M, K_g] / [N, K_g] matrix after the
    /// previous groups'), `sfa` F32 [M, ΣK/128] and `sfb` F32 [N, ΣK/128] in the MN-major TMA-aligned
    /// layout, D [G, M, N] F32 contiguous, already holding C (the op copies it). `ks` are the group
    /// sizes (multiples of 128; empty groups are skipped, their D keeps C).
    ///
    /// The per-group tensor maps travel in a small device table, uploaded before the launch and kept
    /// (``StreamRetention``) until the stream has drained; the call returns once the kernel is queued.
    public static func kGroupedFP8GEMMNTContiguous(_ problem: GEMMProblem, ks: [Int], a: Tensor, sfa: Tensor, b: Tensor, sfb: Tensor, d: Tensor,
                                                   compiledDims: String = "mn", options: Options = Options(), stream: CUDAStream) throws {
        guard ks.contains(where: { $0 > 0 }) else { return }
        let device = stream.device
        let family = try GEMMKernelFamilies.family(for: problem, architecture: device.architecture)
        guard let kGrouped = family as? SM90FP8GEMM1D1DFamily else {
            throw DeepGEMMError.unsupported(argument: "device", rule: "k-grouped FP8 GEMMs run on the SM90 1D1D kernel, got family \(family.name)")
        }
        let kernelProblem = GEMMKernelProblem(problem, numSMs: try numSMs(options, device), compiledDims: options.ignoreCompiledDims ? "" : compiledDims)
        let layouts = GEMMOperandLayouts(a: a.layout, b: b.layout, d: d.layout, sfa: sfa.layout, sfb: sfb.layout)
        let tableBytes = KGroupedTable.byteCount(groups: ks.count)
        let table = try Tensor.empty([tableBytes], dtype: .uint8, device: d.device)
        let (plan, groupMaps) = try kGrouped.planKGrouped(kernelProblem, ks: ks, layouts: layouts, table: table.deviceAddress, pdl: options.pdl)
        try table.copy(from: Tensor(KGroupedTable.bytes(maps: groupMaps, ks: ks, on: device), shape: [tableBytes]))
        try plan.run(describing: "\(kernelProblem) ks=\(ks)", on: stream)
        // The kernel reads the table until it finishes
        StreamRetention.shared.retain(table, until: stream)
    }
}
