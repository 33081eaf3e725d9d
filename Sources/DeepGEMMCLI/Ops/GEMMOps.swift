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

/// The arguments every scaled GEMM reads for a `(data, sf)` operand named `name`.
private func quantizedArguments(_ name: String, _ shape: String) -> [OpArgument] {
    [.init(name: name, detail: "tensor fp8|i8 (packed FP4) \(shape)"),
     .init(name: name + "_sf", detail: "tensor f32 or packed UE8M0 i32, transposed with \(name)")]
}

/// The `d` and `c` arguments of a GEMM writing `d` in place.
private let outputArguments: [OpArgument] = [
    .init(name: "d", detail: "tensor bf16|f32 = zeros (d_dtype=bf16|f32), or a copy of c"),
    .init(name: "c", detail: "tensor, d's dtype and shape = none"),
]

/// `fp8_fp4_gemm_{nt,nn,tn,tt}` or its alias `fp8_gemm_*`.
private func fp8FP4GEMMOp(_ prefix: String, _ layout: GEMMLayout) -> OpDefinition {
    OpDefinition(
        name: prefix + layout.rawValue, summary: "D = C + Adeq·Bdeqᵀ with block-scaled FP8/FP4 operands (\(layout.rawValue) layout)",
        arguments: quantizedArguments("a", layout.transposesA ? "[k, m]" : "[m, k]") + quantizedArguments("b", layout.transposesB ? "[k, n]" : "[n, k]")
            + outputArguments + [
                .init(name: "recipe", detail: "3 ints = none"), .init(name: "recipe_a", detail: "2 ints = none"),
                .init(name: "recipe_b", detail: "2 ints = none"), .init(name: "compiled_dims", detail: "string (hint, no effect)"),
                .init(name: "disable_ue8m0_cast", detail: "bool = false"), .init(name: "arch", detail: "sm90|sm100 = union of both"),
            ],
        outputs: ["d"]
    ) { c in
        let a = try quantizedOperand(c, "a", transposed: layout.transposesA)
        let b = try quantizedOperand(c, "b", transposed: layout.transposesB)
        let (d, accumulator) = try outputAndC(c, shape: [ntRows(a.data, transposed: layout.transposesA), ntRows(b.data, transposed: layout.transposesB)])
        try fp8FP4GEMM(layout, a: a, b: b, d: d, c: accumulator, recipe: c.intList("recipe"), recipeA: c.intList("recipe_a"),
                       recipeB: c.intList("recipe_b"), compiledDims: c.optionalString("compiled_dims"),
                       disableUE8M0Cast: c.bool("disable_ue8m0_cast", default: false), settings: c.settings, strictArch: c.strictArch)
        return [("d", d)]
    }
}

/// `bf16_gemm_{nt,nn,tn,tt}`.
private func bf16GEMMOp(_ layout: GEMMLayout) -> OpDefinition {
    OpDefinition(
        name: "bf16_gemm_" + layout.rawValue, summary: "D = C + A·Bᵀ with BF16 operands, FP32 accumulation (\(layout.rawValue) layout)",
        arguments: unscaledArguments(layout, dtype: "bf16") + [.init(name: "compiled_dims", detail: "string (hint, no effect)")],
        outputs: ["d"]
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
        arguments: unscaledArguments(layout, dtype: "bf16|f32|fp8"), outputs: ["d"]
    ) { c in
        let (a, b) = (try c.tensor("a"), try c.tensor("b"))
        let (d, accumulator) = try outputAndC(c, shape: [ntRows(a, transposed: layout.transposesA), ntRows(b, transposed: layout.transposesB)])
        try cublasLtGEMM(layout, a: a, b: b, d: d, c: accumulator)
        return [("d", d)]
    }
}

/// The arguments of an unscaled GEMM in `layout`.
private func unscaledArguments(_ layout: GEMMLayout, dtype: String) -> [OpArgument] {
    [.init(name: "a", detail: "tensor \(dtype) \(layout.transposesA ? "[k, m]" : "[m, k]")"),
     .init(name: "b", detail: "tensor \(dtype) \(layout.transposesB ? "[k, n]" : "[n, k]")")] + outputArguments
}

/// `fp8_gemm_nt_skip_head_mid`.
private let skipHeadMidOp = OpDefinition(
    name: "fp8_gemm_nt_skip_head_mid", summary: "FP8 nt GEMM writing each head's left and right columns around a skipped middle",
    arguments: quantizedArguments("a", "[m, k]") + quantizedArguments("b", "[h·(left+right), k]") + [
        .init(name: "d", detail: "tensor bf16|f32 [m, n + h·mid] = zeros (d_dtype=bf16|f32)"),
        .init(name: "head_splits", detail: "3 ints left,mid,right"), .init(name: "recipe", detail: "3 ints = none"),
        .init(name: "compiled_dims", detail: "string (hint, no effect)"), .init(name: "disable_ue8m0_cast", detail: "bool = false"),
        .init(name: "arch", detail: "sm90|sm100 = union of both"),
    ],
    outputs: ["d"]
) { c in
    let a = try quantizedOperand(c, "a", transposed: false), b = try quantizedOperand(c, "b", transposed: false)
    guard let splits = try c.intList("head_splits") else {
        throw DeepGEMMError.invalidArgument(argument: "head_splits", rule: "required (--set head_splits=left,mid,right)")
    }
    let (m, n) = (ntRows(a.data, transposed: false), ntRows(b.data, transposed: false))
    let heads = splits.count == 3 && splits[0] + splits[2] > 0 ? n / (splits[0] + splits[2]) : 0
    let d = try c.inPlaceOutput("d", shape: [m, n + heads * (splits.count == 3 ? splits[1] : 0)], defaultDType: .bfloat16)
    try fp8GEMMNTSkipHeadMid(a: a, b: b, d: d, headSplits: splits, recipe: c.intList("recipe"), compiledDims: c.optionalString("compiled_dims"),
                             disableUE8M0Cast: c.bool("disable_ue8m0_cast", default: false), settings: c.settings,
                             strictArch: c.strictArch)
    return [("d", d)]
}

/// `einsum`.
private let einsumOp = OpDefinition(
    name: "einsum", summary: "BF16 einsum: bmk,bnk->mn, bhr,hdr->bhd or bhd,hdr->bhr with FP32 accumulation",
    arguments: [.init(name: "expr", detail: "string"), .init(name: "a", detail: "tensor bf16 3-D"), .init(name: "b", detail: "tensor bf16 3-D")]
        + outputArguments + [.init(name: "use_cublaslt", detail: "bool = false")],
    outputs: ["d"]
) { c in
    let expression = try c.string("expr")
    let (a, b) = (try c.tensor("a"), try c.tensor("b"))
    let (d, accumulator) = try outputAndC(c, shape: einsumOutputShape(expression, a.shape, b.shape))
    try einsum(expression, a: a, b: b, d: d, c: accumulator, useCublasLt: c.bool("use_cublaslt", default: false))
    return [("d", d)]
}

/// `fp8_einsum`.
private let fp8EinsumOp = OpDefinition(
    name: "fp8_einsum", summary: "FP8 einsum: bhr,hdr->bhd, bhd,hdr->bhr or bhd,bhr->hdr as a batched block-scaled GEMM",
    arguments: [.init(name: "expr", detail: "string")] + quantizedArguments("a", "3-D") + quantizedArguments("b", "3-D") + outputArguments
        + [.init(name: "recipe", detail: "3 ints = 1,128,128"), .init(name: "arch", detail: "sm90|sm100 = union of both")],
    outputs: ["d"]
) { c in
    let expression = try c.string("expr")
    let a = QuantizedTensor(data: try c.tensor("a"), sf: try c.tensor("a_sf"))
    let b = QuantizedTensor(data: try c.tensor("b"), sf: try c.tensor("b_sf"))
    let (d, accumulator) = try outputAndC(c, shape: einsumOutputShape(expression, a.data.shape, b.data.shape))
    try fp8Einsum(expression, a: a, b: b, d: d, c: accumulator, recipe: c.intList("recipe") ?? [1, 128, 128], settings: c.settings,
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


/// `d` (from the file, else a copy of `c`, else zeros of `shape`) and the `c` to pass: when `d`
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
