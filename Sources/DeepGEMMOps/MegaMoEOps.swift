import DeepGEMM

/// The Mega MoE building blocks `deepgemm run` can execute one at a time.
let megaMoEOps: [OpDefinition] = [
    OpDefinition(
        name: "swiglu_apply_weight_to_fp8",
        summary: "SwiGLU of the L1 output times the row weight, requantized to FP8 with per-32 UE8M0 scales",
        surface: .cli,
        parameters: [OpParameter("x", .tensor, "bf16 [m, 2I] (gate | up), I % 32 == 0"),
                     OpParameter("topk_weights", .tensor, default: .null, "f32 [m] (None: weight 1)"),
                     activationClampParameter, fastMathParameter,
                     OpParameter("output_bf16", .bool, default: .bool(false), "True: only out0, bf16 [m, I], I % 16 == 0")],
        returns: ["out0", "out1"]  // fp8 [m, I]; packed ue8m0 i32 [m, ceil(I/128)], MN-major
    ) { c in
        if try c.bool("output_bf16") {
            return [("out0", try swigluApplyWeightToBF16(c.tensor("x"), topkWeights: c.optionalTensor("topk_weights"),
                                                         activationClamp: c.optionalNumber("activation_clamp"),
                                                         fastMath: c.bool("fast_math")))]
        }
        let r = try swigluApplyWeightToFP8(c.tensor("x"), topkWeights: c.optionalTensor("topk_weights"),
                                           activationClamp: c.optionalNumber("activation_clamp"),
                                           fastMath: c.bool("fast_math"))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "transform_weights_for_mega_moe",
        summary: "interleave L1 gate/up rows in runs of 8 and UTCCP-transpose the weight scale rows for the fused kernel",
        parameters: [OpParameter("l1_weights", .pair, "([E_l, 2I, k] i8 packed FP4 | fp8 | bf16 with 2I % 16 == 0, i32 [E_l, 2I, k'] with 2I % 128 == 0 or None for bf16)"),
                     OpParameter("l2_weights", .pair, "([E_l, H, k], i32 [E_l, H, k''] with H % 128 == 0 or None for bf16)")],
        returns: ["out0", "out1", "out2", "out3"]  // ((l1, l1 sf), (l2, l2 sf)); bf16 weights: (l1, l2) as out0, out1
    ) { c in
        let (l1, l2) = (try c.tensor("l1_weights"), try c.tensor("l2_weights"))
        guard let l1SF = c.optionalTensor("l1_weights_sf") else {
            let r = try transformWeightsForMegaMoE(l1Weights: l1, l2Weights: l2)
            return [("out0", r.l1), ("out1", r.l2)]
        }
        let r = try transformWeightsForMegaMoE(l1Weights: QuantizedTensor(data: l1, sf: l1SF),
                                               l2Weights: QuantizedTensor(data: l2, sf: c.tensor("l2_weights_sf")))
        return [("out0", r.l1.data), ("out1", r.l1.sf), ("out2", r.l2.data), ("out3", r.l2.sf)]
    },
]

/// `activation_clamp` of the SwiGLU epilogue.
let activationClampParameter = OpParameter("activation_clamp", .float, default: .null, "clamp of the gate and up values (>= 0)")

/// `fast_math` of the SwiGLU epilogue.
let fastMathParameter = OpParameter("fast_math", .bool, default: .bool(true), "fast exp/reciprocal in the SwiGLU")

/// `activation` of the Mega MoE ops.
let activationParameter = OpParameter("activation", .str, default: .string("swiglu"), "only swiglu")
