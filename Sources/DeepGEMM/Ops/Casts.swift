import DeepGEMMCPU
import DeepGEMMCUDA

// DeepGEMM's casts (spec §2), run where `x` is (``Placement``): host tensors on the CPU backend,
// CUDA tensors with the CUDA kernels on the device's current stream, outputs on the same device,
// byte-identical either way. These shadow the CPU backend's functions of the same names for
// importers of `DeepGEMM`; `variant` picks the CPU kernel level and is ignored on a CUDA device.

/// `per_token_cast_to_fp8` on the CPU or a CUDA device; see
/// ``DeepGEMMCPU/perTokenCastToFP8(_:useUE8M0:granK:usePackedUE8M0:variant:)`` for the rules.
public func perTokenCastToFP8(_ x: Tensor, useUE8M0: Bool, granK: Int = 128, usePackedUE8M0: Bool = false,
                              variant: CPUKernelVariant = .best) throws -> QuantizedTensor {
    try routedCast(x, .perTokenFP8, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: usePackedUE8M0) {
        try DeepGEMMCPU.perTokenCastToFP8(x, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: usePackedUE8M0, variant: variant)
    }
}

/// `per_token_cast_to_fp4` on the CPU or a CUDA device; see
/// ``DeepGEMMCPU/perTokenCastToFP4(_:useUE8M0:granK:usePackedUE8M0:variant:)`` for the rules.
public func perTokenCastToFP4(_ x: Tensor, useUE8M0: Bool, granK: Int = 128, usePackedUE8M0: Bool = false,
                              variant: CPUKernelVariant = .best) throws -> QuantizedTensor {
    try routedCast(x, .perTokenFP4, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: usePackedUE8M0) {
        try DeepGEMMCPU.perTokenCastToFP4(x, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: usePackedUE8M0, variant: variant)
    }
}

/// `per_channel_cast_to_fp8` on the CPU or a CUDA device; see
/// ``DeepGEMMCPU/perChannelCastToFP8(_:useUE8M0:granK:variant:)`` for the rules.
public func perChannelCastToFP8(_ x: Tensor, useUE8M0: Bool, granK: Int = 128, variant: CPUKernelVariant = .best) throws -> QuantizedTensor {
    try routedCast(x, .perChannelFP8, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: false) {
        try DeepGEMMCPU.perChannelCastToFP8(x, useUE8M0: useUE8M0, granK: granK, variant: variant)
    }
}

/// `per_block_cast_to_fp8` on the CPU or a CUDA device; see
/// ``DeepGEMMCPU/perBlockCastToFP8(_:useUE8M0:granK:variant:)`` for the rules.
public func perBlockCastToFP8(_ x: Tensor, useUE8M0: Bool, granK: Int = 128, variant: CPUKernelVariant = .best) throws -> QuantizedTensor {
    try routedCast(x, .perBlockFP8, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: false) {
        try DeepGEMMCPU.perBlockCastToFP8(x, useUE8M0: useUE8M0, granK: granK, variant: variant)
    }
}

/// `pack_ue8m0_to_int` on the CPU or a CUDA device (a CUDA call reads a validity flag back, so it
/// synchronises); see ``DeepGEMMCPU/packUE8M0ToInt(_:)`` for the rules.
public func packUE8M0ToInt(_ x: Tensor) throws -> Tensor {
    switch try Placement([("x", x)]) {
    case .cpu:
        return try DeepGEMMCPU.packUE8M0ToInt(x)
    case .cuda(let stream):
        try checkPackUE8M0Input(x)
        return try CUDABackend.packUE8M0ToInt(x, stream: stream)
    }
}

/// Runs `cpu` for a host `x`, or checks the cast once (``CastProblem``) and runs its CUDA kernels.
private func routedCast(_ x: Tensor, _ kind: CastProblem.Kind, useUE8M0: Bool, granK: Int, usePackedUE8M0: Bool,
                        cpu: () throws -> QuantizedTensor) throws -> QuantizedTensor {
    switch try Placement([("x", x)]) {
    case .cpu:
        return try cpu()
    case .cuda(let stream):
        let problem = try CastProblem(kind, x: x, useUE8M0: useUE8M0, granK: granK, usePackedUE8M0: usePackedUE8M0)
        let result = try CUDABackend.cast(x, problem, stream: stream)
        return QuantizedTensor(data: result.data, sf: result.sf)
    }
}
