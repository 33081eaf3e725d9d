import DeepGEMMCUDA

/// DeepGEMM's `fp8_einsum(expr, a, b, d, c=None, recipe=(1, 128, 128))` (spec §11): three fixed
/// contractions of block-scaled FP8 tensors, each run as a batched FP8 GEMM (DeepGEMM's `fp8_bmm`).
///
/// `a` and `b` are `(data, sf)` pairs with FP8 E4M3 data; `d` is BF16 or F32; `c` (optional) has
/// d's dtype and shape, or is `d` itself. Expressions (batch, M, N, K of the GEMM in brackets):
/// - `"bhr,hdr->bhd"` (h, b, d, r): x [B, H, R] with per-token sf [B, H, ceil(R/gk)]; y [H, D, R]
///   with per-block sf [H, ceil(D/gran_n), ceil(R/gk)]; `D[b, h, :] = C + Σ_r xdeq · ydeq`.
/// - `"bhd,hdr->bhr"` (h, b, r, d): x [B, H, D] per token, y [H, D, R] with sf
///   [H, ceil(D/gk), ceil(R/gran_n)]; `D[b, h, r] = C + Σ_d xdeq · ydeq`. SM100 only.
/// - `"bhd,bhr->hdr"` (h, d, r, b): x [B, H, D] and y [B, H, R] quantized along B, sf
///   [ceil(B/gk), H, D] and [ceil(B/gk), H, R] (recipe (1, 1, gk)); `D[h, d, r] = C + Σ_b xdeq · ydeq`.
///   SM100 only.
///
/// The data and scale factors are permuted into batched [G, M, K] / [G, N, K] views as DeepGEMM
/// does, and DeepGEMM's checks run on those views: A and B K- or MN-major, D row-major, and
/// spec §4 on the permuted D and C. In particular DeepGEMM checks the permuted C for compact
/// batches, so a C for the two `bh*` expressions is accepted only when that view is compact
/// (B == 1). Scale factors follow `recipe` with one group per batch, as in
/// ``fp8FP4GEMM(_:a:b:d:c:recipe:recipeA:recipeB:compiledDims:disableUE8M0Cast:settings:strictArch:)``.
///
/// Rules: the union of SM90 and SM100 by default (see ``GEMMRules``); with `strictArch`,
/// `settings.arch`'s: SM90 takes only `"bhr,hdr->bhd"` with K-major operands, F32 scales,
/// per-token A and per-block B (gran_k 128), BF16 D and no C (SM90's kernel would overwrite it);
/// SM100 needs power-of-two or packed UE8M0 scale factors.
/// Runs where the tensors are (see ``Placement``): on the CPU, or on an SM90 device under SM90's
/// rules whatever `strictArch` says (the other two expressions throw
/// ``DeepGEMMError/unsupported(argument:rule:)`` naming `expr`), one FP8 1D2D GEMM per batch, whose
/// A scales are brought into the MN-major TMA-aligned layout as for `fp8_gemm_nt` on the device.
///
/// Bad arguments throw ``DeepGEMMError`` naming `expr`, `a`, `a_sf`, `b`, `b_sf`, `d`, `c` or
/// `recipe` before anything is written.
public func fp8Einsum(
    _ expression: String, a: QuantizedTensor, b: QuantizedTensor, d: Tensor, c: Tensor? = nil, recipe: [Int] = [1, 128, 128],
    settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    let placement = try Placement([("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("d", d), ("c", c)])
    let rules = placement.isCUDA ? FP8GEMMOnCUDA.rules(settings) : GEMMRules(settings: settings, strictArch: strictArch)
    let permutation = try FP8EinsumPermutation(expression, rules: rules)
    let arguments = [("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("d", d)] + (c.map { [("c", $0)] } ?? [])
    for (name, tensor) in arguments {
        try DeepGEMMError.require(tensor.rank == 3, name, "must be 3-D for \(expression), got shape \(tensor.shape)")
    }
    try batchedFP8GEMM(a: QuantizedTensor(data: permutation.a(a.data), sf: permutation.a(a.sf)),
                       b: QuantizedTensor(data: permutation.b(b.data), sf: permutation.b(b.sf)),
                       d: permutation.d(d), c: try c.map(permutation.d), recipe: recipe, settings: settings, rules: rules, placement: placement)
}

/// How each `fp8_einsum` expression permutes its 3-D tensors into batched GEMM views.
private struct FP8EinsumPermutation {
    /// A permutation given as the source dimension of each result dimension.
    typealias Order = [Int]

    let orderA: Order, orderB: Order, orderD: Order

    init(_ expression: String, rules: GEMMRules) throws {
        switch expression {
        case "bhr,hdr->bhd":
            (orderA, orderB, orderD) = ([1, 0, 2], [0, 1, 2], [1, 0, 2])
        case "bhd,hdr->bhr" where rules.arch != .sm90:
            (orderA, orderB, orderD) = ([1, 0, 2], [0, 2, 1], [1, 0, 2])
        case "bhd,bhr->hdr" where rules.arch != .sm90:
            (orderA, orderB, orderD) = ([1, 2, 0], [1, 2, 0], [0, 1, 2])
        case "bhd,hdr->bhr", "bhd,bhr->hdr":
            throw DeepGEMMError.unsupported(argument: "expr", rule: "\(expression) needs SM100: Unsupported einsum expression")
        default:
            throw DeepGEMMError.invalidArgument(argument: "expr", rule: "Unsupported einsum expression: \(expression)")
        }
    }

    func a(_ tensor: Tensor) throws -> Tensor { try Self.permute(tensor, orderA) }
    func b(_ tensor: Tensor) throws -> Tensor { try Self.permute(tensor, orderB) }
    func d(_ tensor: Tensor) throws -> Tensor { try Self.permute(tensor, orderD) }

    /// PyTorch's `permute(order)` for a 3-D tensor (a view).
    private static func permute(_ tensor: Tensor, _ order: Order) throws -> Tensor {
        try Tensor(storage: tensor.storage, dtype: tensor.dtype, shape: order.map { tensor.shape[$0] },
                   strides: order.map { tensor.strides[$0] }, offset: tensor.offset)
    }
}

/// DeepGEMM's `fp8_bmm`: `D[g] = C[g] + Adeq[g] · Bdeq[g]ᵀ` for A [G, M, K], B [G, N, K] and
/// D [G, M, N] views, with one scale grid per batch; on a device, one SM90 FP8 GEMM per batch.
private func batchedFP8GEMM(a: QuantizedTensor, b: QuantizedTensor, d: Tensor, c: Tensor?, recipe: [Int],
                            settings: DeepGEMMSettings, rules: GEMMRules, placement: Placement) throws {
    var majors: [GEMMMajor] = []
    for (name, data) in [("a", a.data), ("b", b.data)] {
        try DeepGEMMError.require(data.stride(-1) == 1 || data.stride(-2) == 1, name,
                                  "must be K-major or MN-major after the expression's permutation, got strides \(data.strides)")
        majors.append(data.stride(-1) == 1 ? .k : .mn)
    }
    try DeepGEMMError.require(d.stride(-1) == 1, "d", "must be row-major after the expression's permutation, got strides \(d.strides)")
    let (batches, m, k, n) = (a.data.size(0), a.data.size(1), a.data.size(2), b.data.size(1))
    try DeepGEMMError.require(b.data.size(0) == batches && b.data.size(2) == k, "b",
                              "must be [G, N, K] with G = \(batches), K = \(k) after the permutation, got \(b.data.shape)")
    try DeepGEMMError.require(d.shape == [batches, m, n], "d", "must be [G, M, N] = [\(batches), \(m), \(n)] after the permutation, got \(d.shape)")
    try rules.checkFP8FP4Operand(a.data, name: "a", allowsFP4: false)
    try rules.checkFP8FP4Operand(b.data, name: "b", allowsFP4: false)
    try requireGEMMOutputType(d)
    if batches == 0 { return }
    let action = try checkGEMMOutput(m: m, n: n, k: k, d: d, c: c)
    guard case .compute = action else {
        _ = try prepareGEMMOutput(action, d: d, c: c)
        return
    }
    if case .cuda(let stream) = placement {
        for batch in 0..<batches {
            func slice(_ tensor: Tensor) throws -> Tensor { try tensor.select(dim: 0, index: batch) }
            try FP8GEMMOnCUDA.gemm(a: QuantizedTensor(data: slice(a.data), sf: slice(a.sf)), b: QuantizedTensor(data: slice(b.data), sf: slice(b.sf)),
                                   d: slice(d), c: try c.map(slice), m: m, n: n, k: k, action: action, recipe: recipe, recipeA: nil, recipeB: nil,
                                   compiledDims: "nk", settings: settings, stream: stream)
        }
        return
    }

    let scales = try rules.resolveScales(sfa: a.sf, sfb: b.sf, m: m, n: n, k: k, recipe: recipe, recipeA: nil, recipeB: nil,
                                         numGroupsA: batches, numGroupsB: batches, settings: settings)
    try rules.checkFP8Majors(a: majors[0], b: majors[1])
    try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: nil, recipeB: nil, sfb: b.sf, d: d, hasC: c != nil, allows1D1D: false)
    let operands = try (0..<batches).map { batch in
        (try gemmOperand(a.data.select(dim: 0, index: batch), name: "a", scales: scales.a[batch]),
         try gemmOperand(b.data.select(dim: 0, index: batch), name: "b", scales: scales.b[batch]))
    }
    let (run, accumulate) = try prepareGEMMOutput(action, d: d, c: c)
    guard run else { return }
    for (batch, (operandA, operandB)) in operands.enumerated() {
        try GEMMEngine.run(a: operandA, b: operandB, d: d.select(dim: 0, index: batch), accumulate: accumulate)
    }
}
