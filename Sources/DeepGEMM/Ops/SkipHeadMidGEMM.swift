/// DeepGEMM's `fp8_gemm_nt_skip_head_mid(a, b, d, head_splits=(L, Mid, R), recipe=None,
/// compiled_dims="nk", disable_ue8m0_cast=False)` (spec §9): an FP8 nt GEMM whose output columns
/// are spread over heads with a gap of `Mid` columns in the middle of each head, left unwritten.
///
/// - `a`: `(data, sf)` with FP8 E4M3 data [M, K]; `b`: FP8 E4M3 [N, K] with N = H·(L + R) for H
///   heads; scale factors as in ``fp8FP4GEMM(_:a:b:d:c:recipe:recipeA:recipeB:compiledDims:disableUE8M0Cast:settings:strictArch:)``
///   with `recipe` only, and gran_k 128 on both sides. N and K must be positive.
/// - `d`: [M, N + H·Mid], BF16 or F32, row-major. Product column n of head `h = n / (L + R)` at
///   offset `r = n % (L + R)` goes to column `h·(L + Mid + R) + (r < L ? r : r + Mid)`; the Mid
///   columns keep their contents. There is no C. M == 0 does nothing.
/// - `headSplits`: three non-negative integers (L, Mid, R) with L + R > 0. DeepGEMM's CUDA
///   epilogue also needs each to be a multiple of its store width (128 bytes of D: 64 BF16 or 32
///   F32 columns); that is required only with `strictArch`.
/// - Rules: the union of SM90 and SM100 by default (see ``GEMMRules``); with `strictArch`,
///   `settings.arch`'s: SM90 runs the 1D2D kernel (BF16 D, gran_n ≠ 1, K-major operands), SM100
///   needs packed UE8M0 scales (no `disableUE8M0Cast` with F32 scale factors).
/// - `compiledDims` is a compilation hint of the CUDA kernels; it does not change the result.
/// - Runs where the tensors are: host tensors on the CPU; CUDA tensors on an SM90 device with the
///   FP8 1D2D kernel, whose epilogue stores each 64-column atom at its head-split column, under
///   SM90's rules exactly (BF16 D, F32 scales with A's MN-major TMA-aligned, L/Mid/R multiples of
///   the store width); mixed devices throw naming the argument.
///
/// Bad arguments throw ``DeepGEMMError`` naming `a`, `b`, `a_sf`, `b_sf`, `d`, `head_splits`,
/// `recipe` or `disable_ue8m0_cast` before anything is written.
public func fp8GEMMNTSkipHeadMid(
    a: QuantizedTensor, b: QuantizedTensor, d: Tensor, headSplits: [Int], recipe: [Int]? = nil, compiledDims: String? = nil,
    disableUE8M0Cast: Bool = false, settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws {
    let placement = try Placement([("a", a.data), ("a_sf", a.sf), ("b", b.data), ("b_sf", b.sf), ("d", d)])
    // On a CUDA device the SM90 kernel's rules apply exactly (store-width multiples included)
    let rules = placement.isCUDA ? FP8GEMMOnCUDA.rules(settings) : GEMMRules(settings: settings, strictArch: strictArch)
    let majorA = try checkABMajor(a.data, name: "a"), majorB = try checkABMajor(b.data, name: "b")
    try rules.checkFP8Majors(a: majorA, b: majorB)
    try checkCDMajor(d, name: "d")
    for (name, tensor) in [("a", a.data), ("b", b.data), ("d", d)] {
        try DeepGEMMError.require(tensor.rank == 2, name, "must be a 2-D matrix, got shape \(tensor.shape)")
    }
    let (m, k, n) = (a.data.size(0), a.data.size(1), b.data.size(0))
    try DeepGEMMError.require(d.size(0) == m, "d", "must have M = \(m) rows, got \(d.size(0))")
    try DeepGEMMError.require(b.data.size(1) == k, "b", "K of b (\(b.data.size(1))) must equal K of a (\(k))")
    try DeepGEMMError.require(n > 0, "b", "needs N > 0 rows")
    try DeepGEMMError.require(k > 0, "a", "needs K > 0 columns")
    try rules.checkFP8FP4Operand(a.data, name: "a", allowsFP4: false)
    try rules.checkFP8FP4Operand(b.data, name: "b", allowsFP4: false)
    try requireGEMMOutputType(d)
    let splits = try HeadSplits(headSplits, n: n, outputColumns: d.size(1), storeWidth: rules.arch == nil ? nil : 128 / d.dtype.size)
    if m == 0 { return }
    if case .cuda(let stream) = placement {
        try FP8GEMMOnCUDA.checkOperands(a: a, b: b, rules: rules)
        try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: nil, recipeB: nil, sfb: b.sf, d: d, hasC: false, allows1D1D: false)
        let problem = GEMMProblem(kind: .normal, m: m, n: n, k: k, typeA: a.data.dtype, typeB: b.data.dtype, typeCD: d.dtype,
                                  kernelType: .oneD2D, headSplits: headSplits)
        try CUDABackend.fp8GEMM(problem, a: a.data, sfa: a.sf, b: b.data, sfb: b.sf, d: d, compiledDims: compiledDims ?? "nk",
                                options: RuntimeSettings.current.cudaOptions, stream: stream)
        return
    }

    let scales = try rules.resolveScales(sfa: a.sf, sfb: b.sf, m: m, n: n, k: k, recipe: recipe, recipeA: nil, recipeB: nil,
                                         disableUE8M0Cast: disableUE8M0Cast, settings: settings)
    try DeepGEMMError.require(scales.granKA == 128 && scales.granKB == 128, "recipe",
                              "needs gran_k 128 for both operands, got \(scales.granKA) and \(scales.granKB)")
    try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: nil, recipeB: nil, sfb: b.sf, d: d, hasC: false, allows1D1D: false)
    let operandA = try gemmOperand(a.data, name: "a", scales: scales.a[0])
    let scalesB = try perRowScales(scales.b[0], rows: n)
    for part in splits.parts {
        let bPart = try gemmOperand(b.data.narrow(dim: 0, start: part.productColumn, length: part.width), name: "b",
                                    scales: ScaleGrid(values: scalesB.narrow(dim: 0, start: part.productColumn, length: part.width),
                                                      granRows: 1, granK: scales.granKB))
        try GEMMEngine.run(a: operandA, b: bPart, d: d.narrow(dim: 1, start: part.outputColumn, length: part.width), accumulate: false)
    }
}

/// The (L, Mid, R) head splits of ``fp8GEMMNTSkipHeadMid(a:b:d:headSplits:recipe:compiledDims:disableUE8M0Cast:settings:strictArch:)``
/// checked against N product columns and D's column count, as contiguous column runs.
private struct HeadSplits {
    /// One run of product columns and where it lands in D.
    struct Part {
        /// First product column (row of B).
        var productColumn: Int
        /// First column of D.
        var outputColumn: Int
        /// Number of columns.
        var width: Int
    }

    /// The non-empty runs, left then right part of each head.
    let parts: [Part]

    /// Checks `splits` (named `head_splits`): three non-negative values with L + R > 0 dividing
    /// `n`, `outputColumns == n + H·Mid`, and each a multiple of `storeWidth` when given.
    init(_ splits: [Int], n: Int, outputColumns: Int, storeWidth: Int?) throws {
        try DeepGEMMError.require(splits.count == 3, "head_splits", "must be three integers (left, mid, right), got \(splits)")
        let (left, mid, right) = (splits[0], splits[1], splits[2])
        try DeepGEMMError.require(left >= 0 && mid >= 0 && right >= 0 && left + right > 0, "head_splits",
                                  "needs non-negative (left, mid, right) with left + right > 0, got \(splits)")
        try DeepGEMMError.require(n % (left + right) == 0, "head_splits", "left + right = \(left + right) must divide N = \(n)")
        let heads = n / (left + right)
        try DeepGEMMError.require(outputColumns == n + heads * mid, "d",
                                  "must have N + H·mid = \(n) + \(heads)·\(mid) = \(n + heads * mid) columns, got \(outputColumns)")
        if let storeWidth {
            try DeepGEMMError.require(splits.allSatisfy { $0 % storeWidth == 0 }, "head_splits",
                                      "each split must be a multiple of the epilogue store width \(storeWidth) for this D dtype, got \(splits)")
        }
        var parts: [Part] = []
        for head in 0..<heads {
            let product = head * (left + right), output = head * (left + mid + right)
            if left > 0 { parts.append(Part(productColumn: product, outputColumn: output, width: left)) }
            if right > 0 { parts.append(Part(productColumn: product + left, outputColumn: output + left + mid, width: right)) }
        }
        self.parts = parts
    }
}

/// `grid`'s values repeated so that each of `rows` rows has its own scale row, which lets a row
/// range of the operand be cut out together with its scales.
private func perRowScales(_ grid: ScaleGrid, rows: Int) throws -> Tensor {
    if grid.granRows == 1 { return grid.values }
    let columns = grid.values.size(1)
    let expanded = Tensor(zeros: [rows, columns], dtype: .float32)
    for row in 0..<rows {
        try expanded.select(dim: 0, index: row).copy(from: grid.values.select(dim: 0, index: row / grid.granRows))
    }
    return expanded
}
