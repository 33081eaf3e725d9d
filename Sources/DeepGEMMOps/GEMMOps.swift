import DeepGEMM

/// Dense GEMM ops (spec §4-§6, §9-§11): fp8/fp8_fp4/bf16/cublaslt GEMMs, skip_head_mid, einsum.
///
/// The output `d` is read from the input file when present; otherwise it starts as a copy of `c`
/// (and `c` is then `d` itself, DeepGEMM's in-place accumulation), or as zeros of `--set
/// d_dtype=bf16|f32` (default bf16). `--set arch=sm90|sm100` makes the scaled ops follow exactly
/// that architecture's rules; without it they accept the union of both (``GEMMRules``). Packed
/// UE8M0 Int32 scale factors are re-laid out MN-major and TMA-aligned, since files carry no strides.
let denseGEMMOps: [OpDefinition] = GEMMLayout.allCases.flatMap { layout in
    [fp8FP4GEMMOp("fp8_fp4_gemm_", layout), fp8FP4GEMMOp("fp8_gemm_", layout), bf16GEMMOp(layout), cublasLtGEMMOp(layout)]
} + [skipHeadMidOp, einsumOp, fp8EinsumOp]

/// The `(data, sf)` operand `name` of a scaled GEMM.
private func quantizedParameter(_ name: String, _ shape: String) -> OpParameter {
    OpParameter(name, .pair, "(fp8 or packed-FP4 i8 \(shape), f32 or packed UE8M0 i32 scales transposed with it)")
}

/// The `d` and `c` parameters of a GEMM writing `d` in place.
private let outputParameters: [OpParameter] = [
    OpParameter("d", .tensor, "bf16|f32 output, written in place (run: zeros of d_dtype=bf16|f32, or a copy of c, when absent)"),
    OpParameter("c", .tensor, default: .null, "accumulator with d's dtype and shape (c is d: in-place accumulation)"),
]

/// `compiled_dims` with DeepGEMM's default for `layout`.
func compiledDimsParameter(_ layout: GEMMLayout) -> OpParameter {
    OpParameter("compiled_dims", .str, default: .string(layout.transposesA ? "mn" : "nk"), "dims baked into CUDA kernels (a hint, no effect on results)")
}

/// `disable_ue8m0_cast`.
let disableUE8M0CastParameter = OpParameter("disable_ue8m0_cast", .bool, default: .bool(false), "keep f32 scales on SM100 instead of casting to UE8M0")

/// `recipe`, `recipe_a` and `recipe_b` of the scaled GEMMs.
let recipeParameters: [OpParameter] = [
    OpParameter("recipe", .ints, default: .null, "(gran_m, gran_n, gran_k) scale granularity; None: chosen from the scales"),
    OpParameter("recipe_a", .ints, default: .null, "(gran_mn, gran_k) of a"),
    OpParameter("recipe_b", .ints, default: .null, "(gran_mn, gran_k) of b"),
]

/// `fp8_fp4_gemm_{nt,nn,tn,tt}` or its alias `fp8_gemm_*`.
private func fp8FP4GEMMOp(_ prefix: String, _ layout: GEMMLayout) -> OpDefinition {
    OpDefinition(
        name: prefix + layout.rawValue, summary: "D = C + Adeq·Bdeqᵀ with block-scaled FP8/FP4 operands (\(layout.rawValue) layout)",
        parameters: [quantizedParameter("a", layout.transposesA ? "[k, m]" : "[m, k]"), quantizedParameter("b", layout.transposesB ? "[k, n]" : "[n, k]")]
            + outputParameters + recipeParameters + [compiledDimsParameter(layout), disableUE8M0CastParameter],
        inplace: ["d"]
    ) { c in
        let a = try quantizedOperand(c, "a", transposed: layout.transposesA)
        let b = try quantizedOperand(c, "b", transposed: layout.transposesB)
        let (d, accumulator) = try outputAndC(c, shape: [ntRows(a.data, transposed: layout.transposesA), ntRows(b.data, transposed: layout.transposesB)])
        try fp8FP4GEMM(layout, a: a, b: b, d: d, c: accumulator, recipe: c.intList("recipe"), recipeA: c.intList("recipe_a"),
                       recipeB: c.intList("recipe_b"), compiledDims: c.optionalString("compiled_dims"),
                       disableUE8M0Cast: c.bool("disable_ue8m0_cast"), settings: c.settings, strictArch: c.strictArch)
        return [("d", d)]
    }
}

/// `bf16_gemm_{nt,nn,tn,tt}`.
private func bf16GEMMOp(_ layout: GEMMLayout) -> OpDefinition {
    OpDefinition(
        name: "bf16_gemm_" + layout.rawValue, summary: "D = C + A·Bᵀ with BF16 operands, FP32 accumulation (\(layout.rawValue) layout)",
        parameters: unscaledParameters(layout, dtype: "bf16") + [compiledDimsParameter(layout)],
        inplace: ["d"]
    ) { c in
        let (a, b) = (try c.tensor("a"), try c.tensor("b"))
        let (d, accumulator) = try outputAndC(c, shape: [ntRows(a, transposed: layout.transposesA), ntRows(b, transposed: layout.transposesB)])
        try bf16GEMM(layout, a: a, b: b, d: d, c: accumulator, compiledDims: c.optionalString("compiled_dims"), settings: c.settings)
        return [("d", d)]
    }
}

/// `cublaslt_gemm_{nt,nn,tn,tt}`.
private func cublasLtGEMMOp(_ layout: GEMMLayout) -> OpDefinition {
    OpDefinition(
        name: "cublaslt_gemm_" + layout.rawValue, summary: "reference D = A·Bᵀ (+ C), FP32 accumulation, one rounding (\(layout.rawValue) layout)",
        parameters: unscaledParameters(layout, dtype: "bf16|f32|fp8"), inplace: ["d"]
    ) { c in
        let (a, b) = (try c.tensor("a"), try c.tensor("b"))
        let (d, accumulator) = try outputAndC(c, shape: [ntRows(a, transposed: layout.transposesA), ntRows(b, transposed: layout.transposesB)])
        try cublasLtGEMM(layout, a: a, b: b, d: d, c: accumulator)
        return [("d", d)]
    }
}

/// The parameters of an unscaled GEMM in `layout`.
private func unscaledParameters(_ layout: GEMMLayout, dtype: String) -> [OpParameter] {
    [OpParameter("a", .tensor, "\(dtype) \(layout.transposesA ? "[k, m]" : "[m, k]")"),
     OpParameter("b", .tensor, "\(dtype) \(layout.transposesB ? "[k, n]" : "[n, k]")")] + outputParameters
}

/// `fp8_gemm_nt_skip_head_mid`.
private let skipHeadMidOp = OpDefinition(
    name: "fp8_gemm_nt_skip_head_mid", summary: "FP8 nt GEMM writing each head's left and right columns around a skipped middle",
    parameters: [quantizedParameter("a", "[m, k]"), quantizedParameter("b", "[h·(left+right), k]"),
                 OpParameter("d", .tensor, "bf16|f32 [m, n + h·mid], written in place (run: zeros of d_dtype when absent)"),
                 OpParameter("head_splits", .ints, "(left, mid, right) columns of each head"), recipeParameters[0],
                 compiledDimsParameter(.nt), disableUE8M0CastParameter],
    inplace: ["d"]
) { c in
    let a = try quantizedOperand(c, "a", transposed: false), b = try quantizedOperand(c, "b", transposed: false)
    guard let splits = try c.intList("head_splits") else {
        throw DeepGEMMError.invalidArgument(argument: "head_splits", rule: "required (--set head_splits=left,mid,right)")
    }
    let (m, n) = (ntRows(a.data, transposed: false), ntRows(b.data, transposed: false))
    let heads = splits.count == 3 && splits[0] + splits[2] > 0 ? n / (splits[0] + splits[2]) : 0
    let d = try c.inPlaceOutput("d", shape: [m, n + heads * (splits.count == 3 ? splits[1] : 0)], defaultDType: .bfloat16)
    try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d, headSplits: splits, recipe: c.intList("recipe"), compiledDims: c.optionalString("compiled_dims"),
                             disableUE8M0Cast: c.bool("disable_ue8m0_cast"), settings: c.settings,
                             strictArch: c.strictArch)
    return [("d", d)]
}

/// `einsum`.
private let einsumOp = OpDefinition(
    name: "einsum", summary: "BF16 einsum: bmk,bnk->mn, bhr,hdr->bhd or bhd,hdr->bhr with FP32 accumulation",
    parameters: [OpParameter("expr", .str, "bmk,bnk->mn, bhr,hdr->bhd or bhd,hdr->bhr"), OpParameter("a", .tensor, "bf16 3-D"),
                 OpParameter("b", .tensor, "bf16 3-D")] + outputParameters
        + [OpParameter("use_cublaslt", .bool, default: .bool(false), "use the cuBLASLt path (same results here)")],
    inplace: ["d"]
) { c in
    let expression = try c.string("expr")
    let (a, b) = (try c.tensor("a"), try c.tensor("b"))
    let (d, accumulator) = try outputAndC(c, shape: einsumOutputShape(expression, a.shape, b.shape))
    try einsum(expression, a: a, b: b, d: d, c: accumulator, useCublasLt: c.bool("use_cublaslt"))
    return [("d", d)]
}

/// `fp8_einsum`.
private let fp8EinsumOp = OpDefinition(
    name: "fp8_einsum", summary: "FP8 einsum: bhr,hdr->bhd, bhd,hdr->bhr or bhd,bhr->hdr as a batched block-scaled GEMM",
    parameters: [OpParameter("expr", .str, "bhr,hdr->bhd, bhd,hdr->bhr or bhd,bhr->hdr"), quantizedParameter("a", "3-D"),
                 quantizedParameter("b", "3-D")] + outputParameters
        + [OpParameter("recipe", .ints, default: .ints([1, 128, 128]), "(gran_m, gran_n, gran_k) scale granularity")],
    inplace: ["d"]
) { c in
    let expression = try c.string("expr")
    let a = QuantizedTensor(data: try c.tensor("a"), sf: try c.tensor("a_sf"))
    let b = QuantizedTensor(data: try c.tensor("b"), sf: try c.tensor("b_sf"))
    let (d, accumulator) = try outputAndC(c, shape: einsumOutputShape(expression, a.data.shape, b.data.shape))
    try fp8Einsum(expression, a: a, b: b, d: d, c: accumulator, recipe: c.intList("recipe") ?? [], settings: c.settings,
                  strictArch: c.strictArch)
    return [("d", d)]
}

/// The output shape of an einsum expression from its operand shapes (empty when they do not fit;
/// the op then reports the bad argument).
private func einsumOutputShape(_ expression: String, _ a: [Int], _ b: [Int]) -> [Int] {
    guard a.count == 3, b.count == 3 else { return [] }
    switch expression {
    case "bmk,bnk->mn": return [a[1], b[1]]
    case "bhr,hdr->bhd": return [a[0], a[1], b[1]]
    case "bhd,hdr->bhr": return [a[0], a[1], b[2]]
    case "bhd,bhr->hdr": return [a[1], a[2], b[2]]
    default: return []
    }
}


/// `d` (given, else a copy of `c`, else zeros of `shape`) and the `c` to pass: when `d`
/// is made from `c`, `c` is `d` itself.
private func outputAndC(_ c: OpContext, shape: [Int]) throws -> (d: Tensor, c: Tensor?) {
    if c.optionalTensor("d") == nil, let given = c.optionalTensor("c") {
        let d = given.clone()
        return (d, d)
    }
    return (try c.inPlaceOutput("d", shape: shape, defaultDType: .bfloat16), c.optionalTensor("c"))
}

/// Rows of a matrix argument in nt orientation (M of `a`, N of `b`): a transposed packed FP4
/// operand holds two rows per byte. Zero for a non-matrix (the op then reports it).
private func ntRows(_ tensor: Tensor, transposed: Bool) -> Int {
    guard tensor.rank == 2 else { return 0 }
    guard transposed else { return tensor.size(0) }
    return tensor.size(1) * (tensor.dtype == .int8 || tensor.dtype == .float4E2M1x2 ? 2 : 1)
}

/// The `(NAME, NAME_sf)` operand; packed Int32 scale factors are copied into the MN-major,
/// TMA-aligned layout DeepGEMM requires (in nt orientation), which a file cannot express.
private func quantizedOperand(_ c: OpContext, _ name: String, transposed: Bool) throws -> QuantizedTensor {
    let data = try c.tensor(name), sf = try c.tensor(name + "_sf")
    guard sf.dtype == .int32, sf.rank == 2 else { return QuantizedTensor(data: data, sf: sf) }
    let nt = transposed ? try sf.transposed() : sf
    let (mn, columns) = (nt.size(0), nt.size(1))
    let aligned = align(mn, 4)
    if nt.stride(0) == 1 && nt.stride(1) == aligned { return QuantizedTensor(data: data, sf: sf) }
    let relaid = try Tensor(storage: TensorStorage(byteCount: aligned * columns * 4), dtype: .int32, shape: [mn, columns], strides: [1, aligned])
    try relaid.copy(from: nt)
    return QuantizedTensor(data: data, sf: transposed ? try relaid.transposed() : relaid)
}
