import DeepGEMMCPU

// The helpers of `deep_gemm.utils` without a CUDA kernel in this version: on CUDA tensors they throw
// ``DeepGEMMError/unsupported(argument:rule:)`` naming the op (``Device/requireHost(op:_:)``) instead
// of reaching host code with device memory. They shadow the CPU backend's functions of the same
// names for importers of `DeepGEMM`; on host tensors they are those functions.

/// `per_custom_dims_cast_to_fp8` on host tensors; see ``DeepGEMMCPU/perCustomDimsCastToFP8(_:dims:useUE8M0:variant:)``.
public func perCustomDimsCastToFP8(_ x: Tensor, dims: [Int], useUE8M0: Bool, variant: CPUKernelVariant = .best) throws -> QuantizedTensor {
    try Device.requireHost(op: "per_custom_dims_cast_to_fp8", [("x", x)])
    return try DeepGEMMCPU.perCustomDimsCastToFP8(x, dims: dims, useUE8M0: useUE8M0, variant: variant)
}

/// `transpose_packed_fp4` on host tensors; see ``DeepGEMMCPU/transposePackedFP4(_:)``.
public func transposePackedFP4(_ a: Tensor) throws -> Tensor {
    try Device.requireHost(op: "transpose_packed_fp4", [("a", a)])
    return try DeepGEMMCPU.transposePackedFP4(a)
}

/// `cast_back_from_fp4` on host tensors; see ``DeepGEMMCPU/castBackFromFP4(_:sf:granK:usePackedUE8M0:)``.
public func castBackFromFP4(_ packed: Tensor, sf: Tensor, granK: Int = 128, usePackedUE8M0: Bool = false) throws -> Tensor {
    try Device.requireHost(op: "cast_back_from_fp4", [("packed", packed), ("sf", sf)])
    return try DeepGEMMCPU.castBackFromFP4(packed, sf: sf, granK: granK, usePackedUE8M0: usePackedUE8M0)
}

/// `ceil_to_ue8m0` on host tensors; see ``DeepGEMMCPU/ceilToUE8M0(_:)``.
public func ceilToUE8M0(_ x: Tensor) throws -> Tensor {
    try Device.requireHost(op: "ceil_to_ue8m0", [("x", x)])
    return try DeepGEMMCPU.ceilToUE8M0(x)
}

/// `unpack_ue8m0_from_int` on host tensors; see ``DeepGEMMCPU/unpackUE8M0FromInt(_:)``.
public func unpackUE8M0FromInt(_ packedSF: Tensor) throws -> Tensor {
    try Device.requireHost(op: "unpack_ue8m0_from_int", [("packed_sf", packedSF)])
    return try DeepGEMMCPU.unpackUE8M0FromInt(packedSF)
}
