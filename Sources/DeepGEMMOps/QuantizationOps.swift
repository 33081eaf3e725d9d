import DeepGEMM

/// `x`, the input of a cast, with the shape rule `rule`.
private func castInput(_ rule: String) -> OpParameter { OpParameter("x", .tensor, "bf16|f32|f16 \(rule)") }
/// `use_ue8m0`.
private let useUE8M0 = OpParameter("use_ue8m0", .bool, "round scales up to powers of two")
/// `gran_k`.
private let granK = OpParameter("gran_k", .int, default: .int(128), "elements per scale")
/// `use_packed_ue8m0`.
private let usePackedUE8M0 = OpParameter("use_packed_ue8m0", .bool, default: .bool(false), "return scales as packed UE8M0 i32 (4 per word)")

/// The quantization helpers of `deep_gemm.utils`.
let quantizationOps: [OpDefinition] = [
    OpDefinition(
        name: "per_token_cast_to_fp8", summary: "FP8 E4M3 with one scale per row and gran_k columns",
        parameters: [castInput("[m, n]"), useUE8M0, granK, usePackedUE8M0],
        returns: ["out0", "out1"]  // fp8 [m, n]; sf f32 [m, ceil(n/gran_k)] or packed i32
    ) { c in
        let r = try perTokenCastToFP8(c.tensor("x"), useUE8M0: c.bool("use_ue8m0"), granK: c.int("gran_k"),
                                      usePackedUE8M0: c.bool("use_packed_ue8m0"))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "per_channel_cast_to_fp8", summary: "FP8 E4M3 with one scale per column and gran_k rows",
        parameters: [castInput("[m, n], m % gran_k == 0"), useUE8M0, granK],
        returns: ["out0", "out1"]  // fp8 [m, n]; sf f32 [m/gran_k, n]
    ) { c in
        let r = try perChannelCastToFP8(c.tensor("x"), useUE8M0: c.bool("use_ue8m0"), granK: c.int("gran_k"))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "per_block_cast_to_fp8", summary: "FP8 E4M3 with one scale per gran_k x gran_k block",
        parameters: [castInput("[m, n]"), useUE8M0, granK],
        returns: ["out0", "out1"]  // fp8 [m, n]; sf f32 [ceil(m/gran_k), ceil(n/gran_k)]
    ) { c in
        let r = try perBlockCastToFP8(c.tensor("x"), useUE8M0: c.bool("use_ue8m0"), granK: c.int("gran_k"))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "per_custom_dims_cast_to_fp8", summary: "FP8 E4M3 with one scale per index of dims",
        parameters: [castInput("any shape"), OpParameter("dims", .ints, "the dimensions that keep one scale per index"), useUE8M0],
        returns: ["out0", "out1"]  // fp8, shape of x; sf f32, squeezed
    ) { c in
        guard let dims = try c.intList("dims") else {
            throw DeepGEMMError.invalidArgument(argument: "dims", rule: "required integer list is missing (--set dims=0,1)")
        }
        let r = try perCustomDimsCastToFP8(c.tensor("x"), dims: dims, useUE8M0: c.bool("use_ue8m0"))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "per_token_cast_to_fp4", summary: "packed FP4 E2M1 with one scale per row and gran_k columns",
        parameters: [castInput("[m, n], n even"), useUE8M0, granK, usePackedUE8M0],
        returns: ["out0", "out1"]  // packed FP4 i8 [m, n/2]; sf f32 [m, ceil(n/gran_k)] or packed i32
    ) { c in
        let r = try perTokenCastToFP4(c.tensor("x"), useUE8M0: c.bool("use_ue8m0"), granK: c.int("gran_k"),
                                      usePackedUE8M0: c.bool("use_packed_ue8m0"))
        return [("out0", try r.data.viewing(as: .int8)), ("out1", r.sf)]
    },
    OpDefinition(
        name: "transpose_packed_fp4", summary: "transpose a packed FP4 matrix, repacking along the new rows",
        parameters: [OpParameter("a", .tensor, "packed FP4 i8 [m, n/2], m even")], returns: ["out"]  // i8 [n, m/2]
    ) { c in
        [("out", try transposePackedFP4(c.tensor("a")).viewing(as: .int8))]
    },
    OpDefinition(
        name: "cast_back_from_fp4", summary: "dequantize packed FP4 with its scales to f32",
        parameters: [OpParameter("packed", .tensor, "packed FP4 i8 [m, n/2]"), OpParameter("sf", .tensor, "f32 [m, ceil(n/gran_k)] or packed i32"),
                     granK, usePackedUE8M0],
        returns: ["out"]  // f32 [m, n]
    ) { c in
        [("out", try castBackFromFP4(c.tensor("packed"), sf: c.tensor("sf"), granK: c.int("gran_k"),
                                     usePackedUE8M0: c.bool("use_packed_ue8m0")))]
    },
    OpDefinition(
        name: "ceil_to_ue8m0", summary: "smallest power of two >= |x| (exponent clamped to [1, 254])",
        parameters: [OpParameter("x", .tensor, "f32|bf16|f16")], returns: ["out"]
    ) { c in [("out", try ceilToUE8M0(c.tensor("x")))] },
    OpDefinition(
        name: "pack_ue8m0_to_int", summary: "pack f32 powers of two four per int32 (exponent bytes, little-endian)",
        parameters: [OpParameter("x", .tensor, "f32 powers of two [..., n], n % 4 == 0")], returns: ["out"]  // i32 [..., n/4]
    ) { c in [("out", try packUE8M0ToInt(c.tensor("x")))] },
    OpDefinition(
        name: "unpack_ue8m0_from_int", summary: "unpack int32 UE8M0 words to f32 (byte 0 gives 0.0)",
        parameters: [OpParameter("packed_sf", .tensor, "i32 [..., n]")], returns: ["out"]  // f32 [..., 4n]
    ) { c in [("out", try unpackUE8M0FromInt(c.tensor("packed_sf")))] },
]

/// Testing utilities of `deep_gemm.testing`.
let utilityOps: [OpDefinition] = [
    OpDefinition(
        name: "calc_diff", summary: "1 - 2*sum(x*y) / sum(x^2 + y^2) in f64",
        parameters: [OpParameter("x", .tensor, "any dtype"), OpParameter("y", .tensor, "shape of x")], returns: ["out"]  // f64 scalar
    ) { c in [("out", try Tensor([calcDiff(c.tensor("x"), c.tensor("y"))], shape: []))] },
]
