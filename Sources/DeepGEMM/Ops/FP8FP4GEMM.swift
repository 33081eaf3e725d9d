/// DeepGEMM's `fp8_fp4_gemm_{nt,nn,tn,tt}(a, b, d, c=None, recipe=None, recipe_a=None,
/// recipe_b=None, compiled_dims, disable_ue8m0_cast=False)` and their aliases
/// `fp8_gemm_{nt,nn,tn,tt}` (spec §3-§5): `D = C + Adeq · Bdeqᵀ` with block-scaled FP8 or FP4
/// operands.
///
/// - `a`, `b`: `(data, sf)`. In nt orientation (see ``GEMMLayout``; transposed operands are given
///   with their data and scale factors both transposed) A is [M, K] and B is [N, K], each FP8 E4M3
///   or packed FP4 (int8, two codes per byte along the contiguous dimension, which counts double),
///   K-major or MN-major (`stride(-1) == 1` or `stride(-2) == 1`).
/// - Scale factors follow `recipe` (gran_m, gran_n, gran_k) or `recipeA`/`recipeB` (gran_mn,
///   gran_k) per operand, defaulting to (1, 128, 128) for F32 `b.sf` and (1, 1, 128) for packed
///   Int32 `b.sf`: F32 `[ceil(MN/gran_mn), ceil(K/gran_k)]` or packed UE8M0 Int32
///   `[MN, ceil(K/(4·gran_k))]` (MN-major, TMA-aligned), gran_k 32 or 128.
/// - `d`: [M, N], BF16 or F32, row-major. `c` (optional): row-major with d's dtype and shape, or
///   `d` itself. Spec §4 applies: nothing happens for M == 0 or N == 0; K == 0 sets D to C or 0; a
///   C that is not D is copied into D first; the product is then added to D (F32 D: `D + acc`;
///   BF16 D: `bf16(D + bf16(acc))`), or written as `cast(acc)` without C. K tails of any length
///   are computed.
/// - Rules: by default the union of DeepGEMM's SM90 and SM100 rules (see ``GEMMRules``): both
///   formats and majors, F32 scale factors used as given where SM90 accepts them (otherwise they
///   must be powers of two), packed UE8M0 scale factors, any D dtype with or without C, and
///   `disableUE8M0Cast` meaning "keep F32 scale factors". With `strictArch`, exactly
///   `settings.arch`'s rules: SM90 takes FP8 K-major operands with F32 scales, per-token A, and
///   either 1D2D (gran_n ≠ 1: BF16 D, no C) or 1D1D (gran_n == 1: C and F32 D); SM100 rejects
///   F32 scale factors that are not powers of two and `disableUE8M0Cast` with F32 scale factors.
/// - `compiledDims` is a compilation hint of the CUDA kernels; it does not change the result.
/// - Runs where the tensors are: host tensors on the CPU; CUDA tensors on an SM90 device with the
///   FP8 1D2D kernel (SM90's rules exactly: FP8 K-major operands, F32 scales, BF16 D, no C) or, for
///   recipe (1, 1, 128), the FP8 1D1D kernel (F32 D with C) on the device's current stream; per-row
///   scales (A's, and B's per-channel ones) not yet in the MN-major TMA-aligned layout are copied
///   into it first, as DeepGEMM's `transform_sf_into_required_layout` does. Mixed devices throw
///   naming the argument.
///
/// Bad arguments throw ``DeepGEMMError`` naming DeepGEMM's argument (`a`, `b`, `a_sf`, `b_sf`,
/// `d`, `c`, `recipe`, `recipe_a`, `recipe_b`, `disable_ue8m0_cast`) before anything is written.
public func fp8FP4GEMM(
    _ layout: GEMMLayout, a: QuantizedTensor, b: QuantizedTensor, d: Tensor, c: Tensor? = nil,
    recipe: [Int]? = nil, recipeA: [Int]? = nil, recipeB: [Int]? = nil, compiledDims: String? = nil,
    disableUE8M0Cast: Bool = false, settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    let placement = try Placement([("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("d", d), ("c", c)])
    let rules = GEMMRules(settings: settings, strictArch: strictArch)
    let a = try a.ntMatrix(transposed: layout.transposesA, name: "a")
    let b = try b.ntMatrix(transposed: layout.transposesB, name: "b")

    let majorA = try checkABMajor(a.data, name: "a"), majorB = try checkABMajor(b.data, name: "b")
    try rules.checkFP8Majors(a: majorA, b: majorB)
    try checkCDMajor(d, name: "d")
    try rules.checkFP8FP4Operand(a.data, name: "a")
    try rules.checkFP8FP4Operand(b.data, name: "b")
    let shapeA = try gemmOperand(a.data, name: "a", scales: nil), shapeB = try gemmOperand(b.data, name: "b", scales: nil)
    let (m, n, k) = (shapeA.rows, shapeB.rows, shapeA.k)
    try DeepGEMMError.require(shapeB.k == k, "b", "K of b (\(shapeB.k)) must equal K of a (\(k))")
    try DeepGEMMError.require(d.rank == 2 && d.shape == [m, n], "d", "must be [M, N] = [\(m), \(n)], got \(d.shape)")
    try requireGEMMOutputType(d)

    let action = try checkGEMMOutput(m: m, n: n, k: k, d: d, c: c)
    guard case .compute = action else {
        _ = try prepareGEMMOutput(action, d: d, c: c)
        return
    }
    if case .cuda(let stream) = placement {
        try FP8GEMMOnCUDA.gemm(a: a, b: b, d: d, c: c, m: m, n: n, k: k, action: action, recipe: recipe, recipeA: recipeA, recipeB: recipeB,
                               compiledDims: compiledDims ?? (layout.transposesA ? "mn" : "nk"), settings: settings, stream: stream)
        return
    }
    let scales = try rules.resolveScales(sfa: a.sf, sfb: b.sf, m: m, n: n, k: k, recipe: recipe, recipeA: recipeA, recipeB: recipeB,
                                         disableUE8M0Cast: disableUE8M0Cast, settings: settings)
    try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: recipeA, recipeB: recipeB, sfb: b.sf, d: d, hasC: c != nil)
    let operandA = try gemmOperand(a.data, name: "a", scales: scales.a[0])
    let operandB = try gemmOperand(b.data, name: "b", scales: scales.b[0])
    let (run, accumulate) = try prepareGEMMOutput(action, d: d, c: c)
    if run { try GEMMEngine.run(a: operandA, b: operandB, d: d, accumulate: accumulate) }
}
