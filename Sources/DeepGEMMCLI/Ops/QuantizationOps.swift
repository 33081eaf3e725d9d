import DeepGEMM

/// The quantization helpers of `deep_gemm.utils`.
let quantizationOps: [OpDefinition] = [
    OpDefinition(
        name: "per_token_cast_to_fp8", summary: "FP8 E4M3 with one scale per row and gran_k columns",
        arguments: [.init(name: "x", detail: "tensor bf16|f32|f16 [m, n]"), .init(name: "use_ue8m0", detail: "bool"),
                    .init(name: "gran_k", detail: "int = 128"), .init(name: "use_packed_ue8m0", detail: "bool = false")],
        outputs: ["out0 (fp8 [m, n])", "out1 (sf f32 [m, ceil(n/gran_k)] or packed i32)"]
    ) { c in
        let r = try perTokenCastToFP8(c.tensor("x"), useUE8M0: c.bool("use_ue8m0"), granK: c.int("gran_k", default: 128),
                                      usePackedUE8M0: c.bool("use_packed_ue8m0", default: false))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "per_channel_cast_to_fp8", summary: "FP8 E4M3 with one scale per column and gran_k rows",
        arguments: [.init(name: "x", detail: "tensor bf16|f32|f16 [m, n], m % gran_k == 0"), .init(name: "use_ue8m0", detail: "bool"),
                    .init(name: "gran_k", detail: "int = 128")],
        outputs: ["out0 (fp8 [m, n])", "out1 (sf f32 [m/gran_k, n])"]
    ) { c in
        let r = try perChannelCastToFP8(c.tensor("x"), useUE8M0: c.bool("use_ue8m0"), granK: c.int("gran_k", default: 128))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "per_block_cast_to_fp8", summary: "FP8 E4M3 with one scale per gran_k x gran_k block",
        arguments: [.init(name: "x", detail: "tensor bf16|f32|f16 [m, n]"), .init(name: "use_ue8m0", detail: "bool"),
                    .init(name: "gran_k", detail: "int = 128")],
        outputs: ["out0 (fp8 [m, n])", "out1 (sf f32 [ceil(m/gran_k), ceil(n/gran_k)])"]
    ) { c in
        let r = try perBlockCastToFP8(c.tensor("x"), useUE8M0: c.bool("use_ue8m0"), granK: c.int("gran_k", default: 128))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "per_custom_dims_cast_to_fp8", summary: "FP8 E4M3 with one scale per index of dims",
        arguments: [.init(name: "x", detail: "tensor bf16|f32|f16"), .init(name: "dims", detail: "int list"),
                    .init(name: "use_ue8m0", detail: "bool")],
        outputs: ["out0 (fp8, shape of x)", "out1 (sf f32, squeezed)"]
    ) { c in
        guard let dims = try c.intList("dims") else {
            throw DeepGEMMError.invalidArgument(argument: "dims", rule: "required integer list is missing (--set dims=0,1)")
        }
        let r = try perCustomDimsCastToFP8(c.tensor("x"), dims: dims, useUE8M0: c.bool("use_ue8m0"))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "per_token_cast_to_fp4", summary: "packed FP4 E2M1 with one scale per row and gran_k columns",
        arguments: [.init(name: "x", detail: "tensor bf16|f32|f16 [m, n], n even"), .init(name: "use_ue8m0", detail: "bool"),
                    .init(name: "gran_k", detail: "int = 128"), .init(name: "use_packed_ue8m0", detail: "bool = false")],
        outputs: ["out0 (i8 [m, n/2])", "out1 (sf f32 [m, ceil(n/gran_k)] or packed i32)"]
    ) { c in
        let r = try perTokenCastToFP4(c.tensor("x"), useUE8M0: c.bool("use_ue8m0"), granK: c.int("gran_k", default: 128),
                                      usePackedUE8M0: c.bool("use_packed_ue8m0", default: false))
        return [("out0", try r.data.viewing(as: .int8)), ("out1", r.sf)]
    },
    OpDefinition(
        name: "transpose_packed_fp4", summary: "transpose a packed FP4 matrix, repacking along the new rows",
        arguments: [.init(name: "a", detail: "tensor i8 [m, n/2], m even")], outputs: ["out (i8 [n, m/2])"]
    ) { c in
        [("out", try transposePackedFP4(c.tensor("a")).viewing(as: .int8))]
    },
    OpDefinition(
        name: "cast_back_from_fp4", summary: "dequantize packed FP4 with its scales to f32",
        arguments: [.init(name: "packed", detail: "tensor i8 [m, n/2]"), .init(name: "sf", detail: "tensor f32 [m, ceil(n/gran_k)] or packed i32"),
                    .init(name: "gran_k", detail: "int = 128"), .init(name: "use_packed_ue8m0", detail: "bool = false")],
        outputs: ["out (f32 [m, n])"]
    ) { c in
        [("out", try castBackFromFP4(c.tensor("packed"), sf: c.tensor("sf"), granK: c.int("gran_k", default: 128),
                                     usePackedUE8M0: c.bool("use_packed_ue8m0", default: false)))]
    },
    OpDefinition(
        name: "ceil_to_ue8m0", summary: "smallest power of two >= |x| (exponent clamped to [1, 254])",
        arguments: [.init(name: "x", detail: "tensor f32|bf16|f16")], outputs: ["out (f32)"]
    ) { c in [("out", try ceilToUE8M0(c.tensor("x")))] },
    OpDefinition(
        name: "pack_ue8m0_to_int", summary: "pack f32 powers of two four per int32 (exponent bytes, little-endian)",
        arguments: [.init(name: "x", detail: "tensor f32 [..., n], n % 4 == 0")], outputs: ["out (i32 [..., n/4])"]
    ) { c in [("out", try packUE8M0ToInt(c.tensor("x")))] },
    OpDefinition(
        name: "unpack_ue8m0_from_int", summary: "unpack int32 UE8M0 words to f32 (byte 0 gives 0.0)",
        arguments: [.init(name: "packed_sf", detail: "tensor i32 [..., n]")], outputs: ["out (f32 [..., 4n])"]
    ) { c in [("out", try unpackUE8M0FromInt(c.tensor("packed_sf")))] },
]

/// Testing utilities of `deep_gemm.testing`.
let utilityOps: [OpDefinition] = [
    OpDefinition(
        name: "calc_diff", summary: "1 - 2*sum(x*y) / sum(x^2 + y^2) in f64",
        arguments: [.init(name: "x", detail: "tensor"), .init(name: "y", detail: "tensor, shape of x")], outputs: ["out (f64 scalar)"]
    ) { c in [("out", try Tensor([calcDiff(c.tensor("x"), c.tensor("y"))], shape: []))] },
]
