/// DeepGEMM's k-grouped FP8 GEMMs (spec §8), the MoE weight-gradient GEMM
/// `D[g] = C[g] + Adeq[K_g]ᵀ · Bdeq[K_g]` over each group's rows `K_g` of the stacked K:
///
/// - `.tn`: `k_grouped_fp8_gemm_tn_contiguous(a, b, d, ks_cpu, grouped_layout, c, recipe=(1,1,128),
///   compiled_dims="mn", use_psum_layout=False)`, DeepGEMM's SM100 layout. a: FP8 [ΣK, M], b: FP8
///   [ΣK, N], both contiguous. The recipe must be (1, 1, gk) with gk 32 or 128. Scale factors are
///   group-local rows (`ceil(k_g/gk)` per group, quantized per group): F32 [Σ ceil(k_g/gk), M]
///   powers of two, packed as ``getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(_:groupedLayout:ksCPU:granK:kAlignment:usePsumLayout:)``
///   does, or that packed Int32 [P, M] itself (contiguous, M % 4 == 0, P > 0, holding every group's
///   packed rows). PSUM layouts (`usePsumLayout`, `groupedLayout` holding group ends) are accepted.
/// - `.nt`: `k_grouped_fp8_gemm_nt_contiguous(...)`, DeepGEMM's SM90 layout. a and b are flat
///   contiguous buffers of ΣK·M and ΣK·N FP8 elements: group g's block is a row-major [M, k_g]
///   (resp. [N, k_g]) matrix starting at element M·ks_g (resp. N·ks_g). The recipe must be exactly
///   (1, 1, 128), `ksCPU` is required (each K a multiple of 128), there is no PSUM. Scale factors:
///   F32 [M, ΣK/128] and [N, ΣK/128], any strides and values.
///
/// Common to both: `d` F32 [G, M, N] contiguous; `c` required, contiguous, d's shape (usually `c` is
/// `d`); spec §4 applies (nothing for M == 0 or N == 0, D = C when ΣK == 0); empty groups leave
/// `D[g] = C[g]`. Groups come from `ksCPU` and `groupedLayout` as in ``GroupedKRanges``, with
/// α = `settings.mkAlignmentForContiguousLayout` (a multiple of 32) for `.tn` and 128 for `.nt`.
/// `compiledDims` is a hint with no effect.
///
/// Rules: by default both layouts run (the union of SM90's and SM100's rules, see ``GEMMRules``).
/// With `strictArch`, `.tn` needs `settings.arch` SM100 and `.nt` needs SM90
/// (``DeepGEMMError/unsupported(argument:rule:)``, DeepGEMM's "Unsupported architecture").
/// Runs where the tensors are: `.nt` on CUDA tensors runs SM90's FP8 1D1D kernel (SM90's rules: K-major
/// FP8, F32 scales in the MN-major TMA-aligned layout, D [G, M, N] F32) on the device's current stream
/// (`grouped_layout` is read back to check it against `ks_cpu`); `.tn` runs on host tensors only.
public func kGroupedFP8GEMMContiguous(
    _ layout: GEMMLayout, a: QuantizedTensor, b: QuantizedTensor, d: Tensor, ksCPU: [Int]?, groupedLayout: Tensor, c: Tensor?,
    recipe: [Int] = [1, 1, 128], compiledDims: String? = nil, usePsumLayout: Bool = false,
    settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    let tensors: [(name: String, tensor: Tensor?)] = [("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("d", d),
                                                      ("grouped_layout", groupedLayout), ("c", c)]
    if layout != .nt { try Device.requireHost(op: "k_grouped_fp8_gemm_\(layout.rawValue)_contiguous", tensors) }
    let placement = try Placement(tensors)
    let rules = placement.isCUDA ? FP8GEMMOnCUDA.rules(settings) : GEMMRules(settings: settings, strictArch: strictArch)
    switch layout {
    case .tn:
        try kGroupedFP8TN(a: a, b: b, d: d, ksCPU: ksCPU, groupedLayout: groupedLayout, c: c, recipe: recipe,
                          usePsumLayout: usePsumLayout, settings: settings, rules: rules)
    case .nt:
        try kGroupedFP8NT(a: a, b: b, d: d, ksCPU: ksCPU, groupedLayout: groupedLayout, c: c, recipe: recipe,
                          usePsumLayout: usePsumLayout, rules: rules, placement: placement)
    case .nn, .tt:
        throw DeepGEMMError.invalidArgument(argument: "layout", rule: "k-grouped FP8 GEMMs exist as tn (SM100) and nt (SM90) only, got \(layout.rawValue)")
    }
}

/// `k_grouped_fp8_gemm_tn_contiguous` on the CPU.
private func kGroupedFP8TN(a: QuantizedTensor, b: QuantizedTensor, d: Tensor, ksCPU: [Int]?, groupedLayout: Tensor, c: Tensor?,
                           recipe: [Int], usePsumLayout: Bool, settings: DeepGEMMSettings, rules: GEMMRules) throws {
    try DeepGEMMError.require(recipe.count == 3 && recipe[0] == 1 && recipe[1] == 1 && (recipe[2] == 32 || recipe[2] == 128), "recipe",
                              "must be (1, 1, gran_k) with gran_k 32 or 128, got \(recipe)")
    let granK = recipe[2]
    let output = try checkKGroupedOutput(d: d, c: c)
    try DeepGEMMError.require(a.data.rank == 2, "a", "must be 2-D [ΣK, M], got shape \(a.data.shape)")
    try DeepGEMMError.require(b.data.rank == 2, "b", "must be 2-D [ΣK, N], got shape \(b.data.shape)")
    try DeepGEMMError.require(a.data.dtype == .float8E4M3, "a", "must be float8_e4m3fn, got \(a.data.dtype)")
    try DeepGEMMError.require(b.data.dtype == .float8E4M3, "b", "must be float8_e4m3fn, got \(b.data.dtype)")
    let groups = try kGroupedRanges(a: a.data, b: b.data, output: output, ksCPU: ksCPU, groupedLayout: groupedLayout,
                                    usePsumLayout: usePsumLayout, settings: settings)
    if rules.arch == .sm90 {
        throw DeepGEMMError.unsupported(argument: "arch", rule: "k_grouped_fp8_gemm_tn_contiguous needs SM100 (Unsupported architecture)")
    }
    let action = try checkGEMMOutput(m: output.m, n: output.n, k: groups.sumK, d: d, c: c)
    guard case .compute = action else {
        _ = try prepareGEMMOutput(action, d: d, c: c)
        return
    }
    let alignment = settings.mkAlignmentForContiguousLayout
    let scalesA = try GroupedKPackedScales(a.sf, name: "a_sf", mn: output.m, groups: groups, ksCPU: ksCPU, groupedLayout: groupedLayout,
                                           granK: granK, kAlignment: alignment, usePsumLayout: usePsumLayout)
    let scalesB = try GroupedKPackedScales(b.sf, name: "b_sf", mn: output.n, groups: groups, ksCPU: ksCPU, groupedLayout: groupedLayout,
                                           granK: granK, kAlignment: alignment, usePsumLayout: usePsumLayout)
    _ = try prepareGEMMOutput(action, d: d, c: c)
    for (group, range) in groups.ranges.enumerated() where !range.isEmpty {
        let aGroup = try a.data.narrow(dim: 0, start: range.lowerBound, length: range.count).transposed()
        let bGroup = try b.data.narrow(dim: 0, start: range.lowerBound, length: range.count).transposed()
        try GEMMEngine.run(a: GEMMOperand(format: .e4m3, rows: output.m, k: range.count, data: aGroup, scales: scalesA.grid(group: group)),
                           b: GEMMOperand(format: .e4m3, rows: output.n, k: range.count, data: bGroup, scales: scalesB.grid(group: group)),
                           d: d.select(dim: 0, index: group), accumulate: true)
    }
}

/// `k_grouped_fp8_gemm_nt_contiguous` on the CPU, or on the device (SM90's 1D1D kernel) for CUDA
/// tensors; the same rules either way (`grouped_layout` is read back to the host to be checked
/// against `ks_cpu`).
private func kGroupedFP8NT(a: QuantizedTensor, b: QuantizedTensor, d: Tensor, ksCPU: [Int]?, groupedLayout: Tensor, c: Tensor?,
                           recipe: [Int], usePsumLayout: Bool, rules: GEMMRules, placement: Placement) throws {
    let blockK = 128
    try DeepGEMMError.require(recipe == [1, 1, blockK], "recipe", "must be exactly (1, 1, 128) for the nt layout, got \(recipe)")
    try DeepGEMMError.require(!usePsumLayout, "use_psum_layout", "the nt layout has no PSUM form")
    try DeepGEMMError.require(!(ksCPU ?? []).isEmpty, "ks_cpu", "is required by the nt layout")
    let output = try checkKGroupedOutput(d: d, c: c)
    let groups = try GroupedKRanges(ksCPU: ksCPU, groupedLayout: groupedLayout.to(.host), numGroups: output.groups, usePsumLayout: false,
                                    kAlignment: blockK, totalK: nil)
    try DeepGEMMError.require(a.data.count == groups.sumK * output.m, "a", "must hold ΣK·M = \(groups.sumK)·\(output.m) elements, got \(a.data.count)")
    try DeepGEMMError.require(b.data.count == groups.sumK * output.n, "b", "must hold ΣK·N = \(groups.sumK)·\(output.n) elements, got \(b.data.count)")
    try DeepGEMMError.require(a.data.isContiguous, "a", "must be contiguous, got strides \(a.data.strides) for shape \(a.data.shape)")
    try DeepGEMMError.require(b.data.isContiguous, "b", "must be contiguous, got strides \(b.data.strides) for shape \(b.data.shape)")
    try DeepGEMMError.require(a.data.dtype == .float8E4M3, "a", "must be float8_e4m3fn, got \(a.data.dtype)")
    try DeepGEMMError.require(b.data.dtype == .float8E4M3, "b", "must be float8_e4m3fn, got \(b.data.dtype)")
    if rules.arch == .sm100 {
        throw DeepGEMMError.unsupported(argument: "arch", rule: "k_grouped_fp8_gemm_nt_contiguous needs SM90 (Unsupported architecture)")
    }
    let action = try checkGEMMOutput(m: output.m, n: output.n, k: groups.sumK, d: d, c: c)
    guard case .compute = action else {
        _ = try prepareGEMMOutput(action, d: d, c: c)
        return
    }
    for (sf, name, mn) in [(a.sf, "a_sf", output.m), (b.sf, "b_sf", output.n)] {
        try DeepGEMMError.require(sf.dtype == .float32, name, "must be float32 for the nt layout, got \(sf.dtype)")
        try DeepGEMMError.require(sf.shape == [mn, groups.sumK / blockK], name, "must be [\(mn), ΣK/128 = \(groups.sumK / blockK)], got shape \(sf.shape)")
    }
    if case .cuda(let stream) = placement {
        _ = try prepareGEMMOutput(action, d: d, c: c)
        let ks = groups.sizes
        let problem = GEMMProblem(kind: .normal, m: output.m, n: output.n, k: ks.max() ?? 0, numGroups: output.groups,
                                  typeA: a.data.dtype, typeB: b.data.dtype, typeCD: .float32, kernelType: .oneD1D, accumulate: true)
        try CUDABackend.kGroupedFP8GEMMNTContiguous(problem, ks: ks, a: a.data, sfa: a.sf, b: b.data, sfb: b.sf, d: d,
                                                    options: RuntimeSettings.current.cudaOptions, stream: stream)
        return
    }
    _ = try prepareGEMMOutput(action, d: d, c: c)
    let flatA = try a.data.reshaped([a.data.count]), flatB = try b.data.reshaped([b.data.count])
    for (group, range) in groups.ranges.enumerated() where !range.isEmpty {
        func operand(_ flat: Tensor, sf: Tensor, rows: Int) throws -> GEMMOperand {
            let block = try flat.narrow(dim: 0, start: rows * range.lowerBound, length: rows * range.count).reshaped([rows, range.count])
            let scales = try sf.narrow(dim: 1, start: range.lowerBound / blockK, length: range.count / blockK)
            return try GEMMOperand(format: .e4m3, rows: rows, k: range.count, data: block,
                                   scales: ScaleGrid(values: scales, granRows: 1, granK: blockK))
        }
        try GEMMEngine.run(a: operand(flatA, sf: a.sf, rows: output.m), b: operand(flatB, sf: b.sf, rows: output.n),
                           d: d.select(dim: 0, index: group), accumulate: true)
    }
}
