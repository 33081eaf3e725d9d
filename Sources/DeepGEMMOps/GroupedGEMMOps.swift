import DeepGEMM

/// Grouped GEMM ops (spec §7, §8) and the HyperConnection prenorm GEMM (§13).
///
/// In-place outputs (`d`, `sqr_sum`) are read from the input file when present, otherwise
/// allocated zero-filled (`--set d_dtype=bf16|f32`). `--set mk_alignment=...` sets α, `--set
/// arch=sm90|sm100` makes the ops follow exactly that architecture's rules (without it they accept
/// the union of both, as the dense ops do). `ks_cpu` is a `--set` list (`ks_cpu=128,256`, empty
/// `ks_cpu=[]`, absent or `none`). The k-grouped ops take `c` as DeepGEMM's usual `c is d` when
/// only one of them is given. Packed UE8M0 Int32 scale factors of the m-grouped ops are re-laid
/// out MN-major and TMA-aligned, since files carry no strides.
let groupedGEMMOps: [OpDefinition] = [GEMMLayout.nt, .nn].flatMap { layout in
    [mGroupedFP8ContiguousOp("m_grouped_fp8_fp4_gemm_", layout), mGroupedFP8ContiguousOp("m_grouped_fp8_gemm_", layout), mGroupedBF16ContiguousOp(layout)]
} + ["m_grouped_fp8_fp4_gemm_nt_masked", "m_grouped_fp8_gemm_nt_masked", "fp8_m_grouped_gemm_nt_masked"].map(mGroupedFP8MaskedOp)
    + ["m_grouped_bf16_gemm_nt_masked", "bf16_m_grouped_gemm_nt_masked"].map(mGroupedBF16MaskedOp)
    + [kGroupedFP8Op(.tn), kGroupedFP8Op(.nt), kGroupedBF16Op, hcPrenormOp]

/// `d` of the m-grouped contiguous ops.
private let contiguousOutput = OpParameter("d", .tensor, "bf16 [m, n], written in place (run: zeros when absent)")

/// `grouped_layout` of the m-grouped contiguous ops.
private let contiguousLayout = OpParameter("grouped_layout", .tensor, "i32 [m] group of each row (-1: padding), or [g] cumulative ends (psum)")

/// The parameters of the m-grouped contiguous ops after `grouped_layout`, after the recipes for
/// the scaled ones (`scaled`); the alignment α is the mk alignment setting.
private func contiguousOptions(_ layout: GEMMLayout, scaled: Bool) -> [OpParameter] {
    (scaled ? recipeParameters : []) + [compiledDimsParameter(layout)] + (scaled ? [disableUE8M0CastParameter] : [])
        + [OpParameter("use_psum_layout", .bool, default: .bool(false), "grouped_layout holds cumulative ends"),
           OpParameter("ensure_zero_padding", .bool, default: .bool(true), "write zeros to padding rows")]
        + (layout == .nt ? [OpParameter("expected_m_for_psum_layout", .int, default: .null, "expected rows per group (a hint)")] : [])
}

/// `m_grouped_fp8_fp4_gemm_{nt,nn}_contiguous` or its alias `m_grouped_fp8_gemm_*`.
private func mGroupedFP8ContiguousOp(_ prefix: String, _ layout: GEMMLayout) -> OpDefinition {
    OpDefinition(
        name: "\(prefix)\(layout.rawValue)_contiguous", summary: "MoE GEMM D[r] = Adeq[r]·Bdeq[group(r)]ᵀ over expert-sorted rows (FP8/FP4, \(layout.rawValue))",
        parameters: [OpParameter("a", .pair, "(fp8|i8 [m, k], f32|i32 scales)"),
                     OpParameter("b", .pair, "(fp8|i8 " + (layout == .nt ? "[g, n, k]" : "[g, k, n]") + ", f32|i32 [g, ...] scales transposed with b)"),
                     contiguousOutput, contiguousLayout] + contiguousOptions(layout, scaled: true),
        inplace: ["d"]
    ) { c in
        let a = try quantizedGroupedOperand(c, "a", transposed: false)
        let b = try quantizedGroupedOperand(c, "b", transposed: layout == .nn)
        let d = try c.inPlaceOutput("d", shape: [a.data.rank == 2 ? a.data.size(0) : 0, groupedRows(b.data, transposed: layout == .nn)], defaultDType: .bfloat16)
        try mGroupedFP8FP4GEMMContiguous(layout, a: a, b: b, d: d, groupedLayout: c.tensor("grouped_layout"), recipe: c.intList("recipe"),
                                         recipeA: c.intList("recipe_a"), recipeB: c.intList("recipe_b"), compiledDims: c.optionalString("compiled_dims"),
                                         disableUE8M0Cast: c.bool("disable_ue8m0_cast"), usePsumLayout: c.bool("use_psum_layout"),
                                         ensureZeroPadding: c.bool("ensure_zero_padding"),
                                         expectedMForPsumLayout: layout == .nt ? c.optionalInt("expected_m_for_psum_layout") : nil,
                                         settings: c.settings, strictArch: c.strictArch)
        return [("d", d)]
    }
}

/// `m_grouped_bf16_gemm_{nt,nn}_contiguous`.
private func mGroupedBF16ContiguousOp(_ layout: GEMMLayout) -> OpDefinition {
    OpDefinition(
        name: "m_grouped_bf16_gemm_\(layout.rawValue)_contiguous", summary: "MoE GEMM D[r] = A[r]·B[group(r)]ᵀ over expert-sorted rows (BF16, \(layout.rawValue))",
        parameters: [OpParameter("a", .tensor, "bf16 [m, k]"), OpParameter("b", .tensor, "bf16 " + (layout == .nt ? "[g, n, k]" : "[g, k, n]")),
                     contiguousOutput, contiguousLayout] + contiguousOptions(layout, scaled: false),
        inplace: ["d"]
    ) { c in
        let (a, b) = (try c.tensor("a"), try c.tensor("b"))
        let d = try c.inPlaceOutput("d", shape: [a.rank == 2 ? a.size(0) : 0, groupedRows(b, transposed: layout == .nn)], defaultDType: .bfloat16)
        try mGroupedBF16GEMMContiguous(layout, a: a, b: b, d: d, groupedLayout: c.tensor("grouped_layout"), compiledDims: c.optionalString("compiled_dims"),
                                       usePsumLayout: c.bool("use_psum_layout"), ensureZeroPadding: c.bool("ensure_zero_padding"),
                                       expectedMForPsumLayout: layout == .nt ? c.optionalInt("expected_m_for_psum_layout") : nil,
                                       settings: c.settings, strictArch: c.strictArch)
        return [("d", d)]
    }
}

/// The parameters of the masked ops after `a` and `b`, with the recipes of the scaled ones (`scaled`).
private func maskedParameters(scaled: Bool) -> [OpParameter] {
    [OpParameter("d", .tensor, "bf16 [g, max_m, n], written in place (run: zeros when absent)"), OpParameter("masked_m", .tensor, "i32 [g] valid rows per group"),
     OpParameter("expected_m", .int, "expected rows per group (> 0, a hint)")]
        + (scaled ? recipeParameters : []) + [compiledDimsParameter(.nt)] + (scaled ? [disableUE8M0CastParameter] : [])
}

/// `m_grouped_fp8_fp4_gemm_nt_masked` or one of its aliases.
private func mGroupedFP8MaskedOp(_ name: String) -> OpDefinition {
    OpDefinition(
        name: name, summary: "masked MoE GEMM D[g, r] = Adeq[g, r]·Bdeq[g]ᵀ for r < masked_m[g] (FP8/FP4)",
        parameters: [OpParameter("a", .pair, "(fp8|i8 [g, max_m, k], f32|i32 [g, max_m, ...])"), OpParameter("b", .pair, "(fp8|i8 [g, n, k], f32|i32 [g, ...])")]
            + maskedParameters(scaled: true),
        inplace: ["d"]
    ) { c in
        let a = try quantizedGroupedOperand(c, "a", transposed: false), b = try quantizedGroupedOperand(c, "b", transposed: false)
        let d = try c.inPlaceOutput("d", shape: maskedOutputShape(a.data, b.data), defaultDType: .bfloat16)
        try mGroupedFP8FP4GEMMNTMasked(a: a, b: b, d: d, maskedM: c.tensor("masked_m"), expectedM: c.int("expected_m"), recipe: c.intList("recipe"),
                                       recipeA: c.intList("recipe_a"), recipeB: c.intList("recipe_b"), compiledDims: c.optionalString("compiled_dims"),
                                       disableUE8M0Cast: c.bool("disable_ue8m0_cast"), settings: c.settings,
                                       strictArch: c.strictArch)
        return [("d", d)]
    }
}

/// `m_grouped_bf16_gemm_nt_masked` or its alias.
private func mGroupedBF16MaskedOp(_ name: String) -> OpDefinition {
    OpDefinition(
        name: name, summary: "masked MoE GEMM D[g, r] = A[g, r]·B[g]ᵀ for r < masked_m[g] (BF16)",
        parameters: [OpParameter("a", .tensor, "bf16 [g, max_m, k]"), OpParameter("b", .tensor, "bf16 [g, n, k]")] + maskedParameters(scaled: false),
        inplace: ["d"]
    ) { c in
        let (a, b) = (try c.tensor("a"), try c.tensor("b"))
        let d = try c.inPlaceOutput("d", shape: maskedOutputShape(a, b), defaultDType: .bfloat16)
        try mGroupedBF16GEMMNTMasked(a: a, b: b, d: d, maskedM: c.tensor("masked_m"), expectedM: c.int("expected_m"),
                                     compiledDims: c.optionalString("compiled_dims"), settings: c.settings, strictArch: c.strictArch)
        return [("d", d)]
    }
}

/// The parameters of the k-grouped ops after `a` and `b`, with `recipe` when `recipe` is given.
private func kGroupedParameters(recipe: OpParameter?) -> [OpParameter] {
    [OpParameter("d", .tensor, "f32 [g, m, n], written in place (run: a copy of c, or zeros, when absent)"),
     OpParameter("ks_cpu", .ints, "K of every group (or None)"), OpParameter("grouped_layout", .tensor, "i32 [g] K sizes (or cumulative ends, psum)"),
     OpParameter("c", .tensor, default: .null, "f32 [g, m, n] accumulator (None: d, c is d)")]
        + (recipe.map { [$0] } ?? []) + [compiledDimsParameter(.tn), OpParameter("use_psum_layout", .bool, default: .bool(false), "grouped_layout holds cumulative ends")]
}

/// `k_grouped_fp8_gemm_tn_contiguous` (SM100 layout) or `k_grouped_fp8_gemm_nt_contiguous` (SM90 layout).
private func kGroupedFP8Op(_ layout: GEMMLayout) -> OpDefinition {
    let shapes = layout == .tn ? ("[sum_k, m]", "[sum_k, n]", "f32 [sum(ceil(k_g/gk)), mn] or packed i32") : ("flat [sum_k·m]", "flat [sum_k·n]", "f32 [mn, sum_k/128]")
    return OpDefinition(
        name: "k_grouped_fp8_gemm_\(layout.rawValue)_contiguous", summary: "weight-gradient GEMM D[g] = C[g] + Adeq[K_g]ᵀ·Bdeq[K_g] per K group (FP8, \(layout.rawValue) layout)",
        parameters: [OpParameter("a", .pair, "(fp8 \(shapes.0), \(shapes.2))"), OpParameter("b", .pair, "(fp8 \(shapes.1), \(shapes.2))")]
            + kGroupedParameters(recipe: OpParameter("recipe", .ints, default: .ints([1, 1, 128]), "(gran_m, gran_n, gran_k)")),
        inplace: ["d"]
    ) { c in
        let a = QuantizedTensor(data: try c.tensor("a"), sf: try c.tensor("a_sf")), b = QuantizedTensor(data: try c.tensor("b"), sf: try c.tensor("b_sf"))
        let (m, n) = layout == .tn ? (columns(a.data), columns(b.data)) : (rows(a.sf), rows(b.sf))
        let (d, accumulator) = try kGroupedOutputAndC(c, m: m, n: n)
        try kGroupedFP8GEMMContiguous(layout, a: a, b: b, d: d, ksCPU: c.intList("ks_cpu"), groupedLayout: c.tensor("grouped_layout"), c: accumulator,
                                      recipe: c.intList("recipe") ?? [], compiledDims: c.optionalString("compiled_dims"),
                                      usePsumLayout: c.bool("use_psum_layout"), settings: c.settings, strictArch: c.strictArch)
        return [("d", d)]
    }
}

/// `k_grouped_bf16_gemm_tn_contiguous`.
private let kGroupedBF16Op = OpDefinition(
    name: "k_grouped_bf16_gemm_tn_contiguous", summary: "weight-gradient GEMM D[g] = C[g] + A[K_g]ᵀ·B[K_g] per K group (BF16)",
    parameters: [OpParameter("a", .tensor, "bf16 [sum_k, m]"), OpParameter("b", .tensor, "bf16 [sum_k, n]")] + kGroupedParameters(recipe: nil),
    inplace: ["d"]
) { c in
    let (a, b) = (try c.tensor("a"), try c.tensor("b"))
    let (d, accumulator) = try kGroupedOutputAndC(c, m: columns(a), n: columns(b))
    try kGroupedBF16GEMMTNContiguous(a: a, b: b, d: d, ksCPU: c.intList("ks_cpu"), groupedLayout: c.tensor("grouped_layout"), c: accumulator,
                                     compiledDims: c.optionalString("compiled_dims"), usePsumLayout: c.bool("use_psum_layout"),
                                     settings: c.settings, strictArch: c.strictArch)
    return [("d", d)]
}

/// `tf32_hc_prenorm_gemm`.
private let hcPrenormOp = OpDefinition(
    name: "tf32_hc_prenorm_gemm", summary: "HyperConnection pre-norm: D = A·tf32(B)ᵀ and sqr_sum = Σ a², optionally as K splits",
    parameters: [OpParameter("a", .tensor, "bf16 [m, k]"), OpParameter("b", .tensor, "f32 [n, k]"),
                 OpParameter("d", .tensor, "f32 [m, n] or [num_splits, m, n], written in place (run: zeros when absent)"),
                 OpParameter("sqr_sum", .tensor, "f32 [m] or [num_splits, m], written in place (run: zeros when absent)"),
                 OpParameter("num_splits", .int, default: .null, "K splits, each with its own partial sums")],
    inplace: ["d", "sqr_sum"]
) { c in
    let (a, b) = (try c.tensor("a"), try c.tensor("b"))
    let splits = try c.optionalInt("num_splits")
    let (m, n) = (rows(a), rows(b))
    let d = try c.inPlaceOutput("d", shape: (splits.map { [$0] } ?? []) + [m, n], defaultDType: .float32)
    let sqrSum = try c.inPlaceOutput("sqr_sum", shape: (splits.map { [$0] } ?? []) + [m], defaultDType: .float32)
    try tf32HCPrenormGEMM(a: a, b: b, d: d, sqrSum: sqrSum, numSplits: splits, settings: c.settings, strictArch: c.strictArch)
    return [("d", d), ("sqr_sum", sqrSum)]
}

/// D and C of a k-grouped op: both from the file, or the one given used as both (`c is d`), or a
/// new zero-filled F32 [G, M, N] with G from `grouped_layout`.
private func kGroupedOutputAndC(_ c: OpContext, m: Int, n: Int) throws -> (d: Tensor, c: Tensor) {
    switch (c.optionalTensor("d"), c.optionalTensor("c")) {
    case let (d?, accumulator?): return (d, accumulator)
    case let (d?, nil): return (d, d)
    case let (nil, accumulator?):
        let d = accumulator.clone()
        return (d, d)
    case (nil, nil):
        let d = try c.inPlaceOutput("d", shape: [try c.tensor("grouped_layout").count, m, n], defaultDType: .float32)
        return (d, d)
    }
}

/// N of a grouped B in nt orientation: size(1) of [G, N, K], or the last dimension of an nn
/// [G, K, N] (doubled for packed FP4). Zero for a tensor of another rank (the op reports it).
private func groupedRows(_ b: Tensor, transposed: Bool) -> Int {
    guard b.rank == 3 else { return 0 }
    guard transposed else { return b.size(1) }
    return b.size(2) * (b.dtype == .int8 || b.dtype == .float4E2M1x2 ? 2 : 1)
}

/// [G, Mmax, N] of a masked op from a [G, Mmax, K] and b [G, N, K] (empty when they are not 3-D).
private func maskedOutputShape(_ a: Tensor, _ b: Tensor) -> [Int] {
    a.rank == 3 && b.rank == 3 ? [a.size(0), a.size(1), b.size(1)] : []
}

/// size(0) of a tensor with at least one dimension, else 0.
private func rows(_ tensor: Tensor) -> Int { tensor.rank >= 1 ? tensor.size(0) : 0 }

/// size(1) of a matrix, else 0.
private func columns(_ tensor: Tensor) -> Int { tensor.rank == 2 ? tensor.size(1) : 0 }

/// The `(NAME, NAME_sf)` operand of an m-grouped op. Packed Int32 scale factors (2-D, or 3-D per
/// group) are copied into the MN-major, TMA-aligned layout DeepGEMM requires (in nt orientation).
private func quantizedGroupedOperand(_ c: OpContext, _ name: String, transposed: Bool) throws -> QuantizedTensor {
    let data = try c.tensor(name), sf = try c.tensor(name + "_sf")
    guard sf.dtype == .int32, sf.rank == 2 || sf.rank == 3 else { return QuantizedTensor(data: data, sf: sf) }
    let nt = transposed ? try sf.transposed() : sf
    let (mn, columns) = (nt.size(-2), nt.size(-1)), aligned = align(mn, 4)
    if nt.stride(-2) == 1 && nt.stride(-1) == aligned { return QuantizedTensor(data: data, sf: sf) }
    let batch = sf.rank == 3 ? [sf.size(0)] : []
    let relaid = try Tensor(storage: TensorStorage(byteCount: (batch.first ?? 1) * aligned * columns * 4), dtype: .int32,
                            shape: batch + [mn, columns], strides: (sf.rank == 3 ? [aligned * columns] : []) + [1, aligned])
    try relaid.copy(from: nt)
    return QuantizedTensor(data: data, sf: transposed ? try relaid.transposed() : relaid)
}
