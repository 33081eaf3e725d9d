/// `swiglu_apply_weight_to_fp8(x, topk_weights, activation_clamp=None, fast_math=True)`: the
/// activation step between Mega MoE's two grouped GEMMs (spec/megamoe-indexer.md §1.5 steps 4-6,
/// §1.7, §1.9), as the unfused pipeline uses it with 32-column UE8M0 scales and MN-major packed
/// scale output.
///
/// - `x`: BF16 [rows, 2I], the L1 GEMM output on untransformed weights: gate in columns [0, I), up
///   in [I, 2I); I a positive multiple of 32; any strides.
/// - `topkWeights`: F32 [rows], the routing weight of each row's (token, slot), or nil for weight 1.
/// - `activationClamp`: nil (no clamp) or C ≥ 0; C' = bf16(fp32(C)) bounds gate from above and up
///   on both sides, in the BF16 domain.
/// - `fastMath`: the exponential and reciprocal form of the GPU kernel's fast path (see
///   ``MegaMoESwiGLUArithmetic/activation(gate:up:weight:clamp:fastMath:)``).
///
/// Returns data FP8 E4M3 [rows, I] and sf packed UE8M0 Int32 [rows, ceil(I/128)], MN-major with
/// row stride 1 and column stride align(rows, 4). Rounding: `a = RN(RN(silu(g)·up)·w)` in binary32,
/// `E = ceil_log2(RN(amax·fp32(1/448)))` per 32 columns with no amax floor (amax = 0 gives scale
/// byte 0 and zero codes), `q = satfinite_e4m3(RN(a·2^-E))`. This is the fused kernel's rule; DeepGEMM's
/// TileLang baseline floors amax at 1e-4, which changes the scale byte only when
/// 0 < amax ≤ 448·2^-23 or amax = 0 (byte 0 here, 105 there, with the same zero codes) (spec §1.7).
///
/// - Runs on host tensors; tensors on a CUDA device throw ``DeepGEMMError/unsupported(argument:rule:)``
///   naming the op (no CUDA kernel yet).
public func swigluApplyWeightToFP8(
    _ x: Tensor, topkWeights: Tensor?, activationClamp: Double? = nil, fastMath: Bool = true
) throws -> QuantizedTensor {
    try Device.requireHost(op: "swiglu_apply_weight_to_fp8", [("x", x), ("topk_weights", topkWeights)])
    let problem = try SwiGLUApplyWeightProblem(x: x, topkWeights: topkWeights, activationClamp: activationClamp)
    return swigluApplyWeightToFP8CPU(problem, x: x, topkWeights: topkWeights, fastMath: fastMath)
}

/// The BF16-output form of ``swigluApplyWeightToFP8(_:topkWeights:activationClamp:fastMath:)``
/// used by `bf16_mega_moe` (spec/megamoe-indexer.md §1.11; TileLang's `output_bf16=True`):
/// `out = bf16_rn(RN(RN(silu(gate)·up)·w))`, with the same clamp and `fastMath` rules and no FP8
/// requantization. `x` is BF16 [rows, 2I] with I a positive multiple of 16; returns BF16 [rows, I].
///
/// - Runs on host tensors; tensors on a CUDA device throw ``DeepGEMMError/unsupported(argument:rule:)``
///   naming the op (no CUDA kernel yet).
public func swigluApplyWeightToBF16(
    _ x: Tensor, topkWeights: Tensor?, activationClamp: Double? = nil, fastMath: Bool = true
) throws -> Tensor {
    try Device.requireHost(op: "swiglu_apply_weight_to_bf16", [("x", x), ("topk_weights", topkWeights)])
    let problem = try SwiGLUApplyWeightProblem(x: x, topkWeights: topkWeights, activationClamp: activationClamp, outputBF16: true)
    return swigluApplyWeightToBF16CPU(problem, x: x, topkWeights: topkWeights, fastMath: fastMath)
}
