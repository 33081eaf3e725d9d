import DeepGEMMCUDA

/// DeepGEMM's `tf32_hc_prenorm_gemm(a, b, d, sqr_sum, num_splits=None)` (spec §13): the
/// HyperConnection pre-norm GEMM `D = A · Bᵀ` with TF32 inputs, together with the row sums of
/// squares `sqr_sum[m] = Σ_k float(a[m, k])²` (F32), both written in place.
///
/// - `a`: BF16 [M, K], K-major. `b`: F32 [N, K], K-major, rounded to TF32 (10-bit mantissa,
///   round to nearest even) before the product, as the tensor cores read it.
/// - `d`: F32 [M, N] row-major, or [S, M, N] with `numSplits` = S.
/// - `sqrSum`: F32 [M], or [S, M] with splits; contiguous.
/// - With splits, the K / 64 blocks of K are dealt out to the splits (`K/64 / S` each, one more to
///   each of the first `(K/64) % S`), and `d[s]`, `sqrSum[s]` hold the partial results over split
///   s's blocks; summing over s gives the full result. A split with no block (S > K/64) is zeroed.
/// - Rules: N > 0, K > 0, K % 64 == 0, N % 8 == 0, N <= 128 (SM100's limit, the union of both
///   architectures); with `strictArch` and `settings.arch` SM90, N <= 32
///   (``DeepGEMMError/unsupported(argument:rule:)``). Every rule is checked before the M == 0 return.
/// - Runs where the tensors are (see ``Placement``): on the CPU, or on an SM90 device with the
///   TF32 wgmma kernel, where SM90's N <= 32 applies whatever `strictArch` says (N > 32 throws
///   ``DeepGEMMError/unsupported(argument:rule:)`` naming `b`).
///
/// Products accumulate in F32 (``GEMMEngine``) from the exact BF16 values of `a` and the TF32 values of `b`.
public func tf32HCPrenormGEMM(a: Tensor, b: Tensor, d: Tensor, sqrSum: Tensor, numSplits: Int? = nil,
                              settings: DeepGEMMSettings = .default, strictArch: Bool = false) throws {
    let placement = try Placement([("a", a), ("b", b), ("d", d), ("sqr_sum", sqrSum)])
    let problem = try HyperConnectionPrenormProblem(a: a, b: b, d: d, sqrSum: sqrSum, numSplits: numSplits,
                                                    rules: GEMMRules(settings: settings, strictArch: strictArch))
    if case .cuda(let stream) = placement {
        return try CUDABackend.tf32HCPrenormGEMM(a: a, b: b, d: d, sqrSum: sqrSum, numSplits: numSplits,
                                                 options: RuntimeSettings.current.cudaOptions, stream: stream)
    }
    if problem.m == 0 { return }
    let roundedB = try tf32Rounded(b)
    for split in 0..<problem.splits {
        let kRange = problem.kRange(split: split)
        let dSplit = numSplits == nil ? d : try d.select(dim: 0, index: split)
        let sqrSplit = numSplits == nil ? sqrSum : try sqrSum.select(dim: 0, index: split)
        if kRange.isEmpty {
            try dSplit.zero()
            try sqrSplit.zero()
            continue
        }
        let aSplit = try a.narrow(dim: 1, start: kRange.lowerBound, length: kRange.count)
        let bSplit = try roundedB.narrow(dim: 1, start: kRange.lowerBound, length: kRange.count)
        let aOperand = try GEMMOperand(format: .bf16, rows: problem.m, k: kRange.count, data: aSplit)
        let bOperand = try GEMMOperand(format: .f32, rows: problem.n, k: kRange.count, data: bSplit)
        try GEMMEngine.run(a: aOperand, b: bOperand, d: dSplit, accumulate: false)
        writeSquareSums(of: aSplit, to: sqrSplit)
    }
}

/// A contiguous F32 copy of `b` with every element rounded to TF32.
private func tf32Rounded(_ b: Tensor) throws -> Tensor {
    let values = b.floatValues().map(TF32.round)
    return try Tensor(values, shape: b.shape)
}

/// `out[r] = Σ_c float(x[r, c])²` accumulated in F32 in column order, for BF16 `x` [R, C] with
/// unit column stride and a contiguous F32 `out` [R].
private func writeSquareSums(of x: Tensor, to out: Tensor) {
    let input = UnsafeRawPointer(x.dataPointer).assumingMemoryBound(to: UInt16.self)
    let output = out.dataPointer.assumingMemoryBound(to: Float.self)
    let rowStride = x.stride(0)
    for row in 0..<x.size(0) {
        var sum: Float = 0
        for column in 0..<x.size(1) {
            let value = BFloat16(bitPattern: input[row * rowStride + column]).floatValue
            sum += value * value
        }
        output[row] = sum
    }
}
