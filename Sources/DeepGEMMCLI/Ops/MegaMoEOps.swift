import DeepGEMM

/// The Mega MoE building blocks `deepgemm run` can execute one at a time.
let megaMoEOps: [OpDefinition] = [
    OpDefinition(
        name: "swiglu_apply_weight_to_fp8",
        summary: "SwiGLU of the L1 output times the row weight, requantized to FP8 with per-32 UE8M0 scales",
        arguments: [.init(name: "x", detail: "tensor bf16 [m, 2I] (gate | up), I % 32 == 0"),
                    .init(name: "topk_weights", detail: "tensor f32 [m], optional (weight 1)"),
                    .init(name: "activation_clamp", detail: "float >= 0 = none"), .init(name: "fast_math", detail: "bool = true"),
                    .init(name: "output_bf16", detail: "bool = false (true: only out0, bf16 [m, I], I % 16 == 0)")],
        outputs: ["out0 (fp8 [m, I])", "out1 (packed ue8m0 i32 [m, ceil(I/128)], MN-major)"]
    ) { c in
        if try c.bool("output_bf16", default: false) {
            return [("out0", try swigluApplyWeightToBF16(c.tensor("x"), topkWeights: c.optionalTensor("topk_weights"),
                                                         activationClamp: c.optionalNumber("activation_clamp"),
                                                         fastMath: c.bool("fast_math", default: true)))]
        }
        let r = try swigluApplyWeightToFP8(c.tensor("x"), topkWeights: c.optionalTensor("topk_weights"),
                                           activationClamp: c.optionalNumber("activation_clamp"),
                                           fastMath: c.bool("fast_math", default: true))
        return [("out0", r.data), ("out1", r.sf)]
    },
    OpDefinition(
        name: "transform_weights_for_mega_moe",
        summary: "interleave L1 gate/up rows in runs of 8 and UTCCP-transpose the weight scale rows for the fused kernel",
        arguments: [.init(name: "l1_weights", detail: "tensor [E_l, 2I, k] (i8 packed fp4 | fp8 | bf16), 2I % 16 == 0"),
                    .init(name: "l1_weights_sf", detail: "tensor i32 [E_l, 2I, k'], 2I % 128 == 0; absent for bf16 weights"),
                    .init(name: "l2_weights", detail: "tensor [E_l, H, k]"),
                    .init(name: "l2_weights_sf", detail: "tensor i32 [E_l, H, k''], H % 128 == 0; absent for bf16 weights")],
        outputs: ["out0 (l1 weights)", "out1 (l1 sf, or l2 weights for bf16)", "out2 (l2 weights, fp8 form)", "out3 (l2 sf, fp8 form)"]
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
