import DeepGEMM

/// Reads a recipe given as 3 integers (gran_m, gran_n, gran_k) or 2 (gran_mn, gran_k).
private func recipe(_ c: OpContext) throws -> ScaleRecipe {
    switch try c.intList("recipe") {
    case let r? where r.count == 3: return .shared(granM: r[0], granN: r[1], granK: r[2])
    case let r? where r.count == 2: return .operand(granMN: r[0], granK: r[1])
    case let r?: throw DeepGEMMError.invalidArgument(argument: "recipe", rule: "must have 3 (gran_m,gran_n,gran_k) or 2 (gran_mn,gran_k) entries, got \(r)")
    case nil: throw DeepGEMMError.invalidArgument(argument: "recipe", rule: "required (--set recipe=1,128,128)")
    }
}

/// The scale-factor layout utilities of `deep_gemm` (spec §3) and the alignment query of §14.
let layoutOps: [OpDefinition] = [
    OpDefinition(
        name: "get_tma_aligned_size", summary: "x rounded up to a multiple of 16/element_size",
        arguments: [.init(name: "x", detail: "int"), .init(name: "element_size", detail: "int dividing 16")], outputs: ["out (i64 scalar)"]
    ) { c in try scalarOutput(getTMAAlignedSize(c.int("x"), elementSize: c.int("element_size"))) },
    OpDefinition(
        name: "get_mn_major_tma_aligned_tensor", summary: "f32 SF in MN-major, TMA-aligned layout",
        arguments: [.init(name: "sf", detail: "tensor f32 [mn, sk] or [b, mn, sk]")], outputs: ["out"]
    ) { c in [("out", try getMNMajorTMAAlignedTensor(c.tensor("sf")))] },
    OpDefinition(
        name: "get_mn_major_tma_aligned_packed_ue8m0_tensor", summary: "f32 power-of-two SF packed to UE8M0 int32, MN-major, TMA-aligned",
        arguments: [.init(name: "sf", detail: "tensor f32 [mn, sk] or [b, mn, sk]"), .init(name: "psum_layout", detail: "tensor i32 [g] = none"),
                    .init(name: "mk_alignment", detail: "int = 128 (global setting)")],
        outputs: ["out (i32)"]
    ) { c in
        [("out", try getMNMajorTMAAlignedPackedUE8M0Tensor(c.tensor("sf"), psumLayout: c.optionalTensor("psum_layout"), settings: c.settings))]
    },
    OpDefinition(
        name: "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor", summary: "k-grouped f32 SF packed to UE8M0 int32 per group",
        arguments: [.init(name: "sf", detail: "tensor f32 [sk_total, mn]"), .init(name: "grouped_layout", detail: "tensor i32 [g]"),
                    .init(name: "ks_cpu", detail: "int list or none"), .init(name: "gran_k", detail: "int 32|128"),
                    .init(name: "k_alignment", detail: "int, multiple of 32"), .init(name: "use_psum_layout", detail: "bool = false")],
        outputs: ["out (i32 [p, mn])"]
    ) { c in
        [("out", try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
            c.tensor("sf"), groupedLayout: c.tensor("grouped_layout"), ksCPU: c.intList("ks_cpu"), granK: c.int("gran_k"),
            kAlignment: c.int("k_alignment"), usePsumLayout: c.bool("use_psum_layout", default: false)))]
    },
    OpDefinition(
        name: "transform_sf_into_required_layout", summary: "SF in the layout the GEMM kernels need (spec §3.5)",
        arguments: [.init(name: "sf", detail: "tensor f32 or i32"), .init(name: "mn", detail: "int"), .init(name: "k", detail: "int"),
                    .init(name: "recipe", detail: "3 or 2 ints"), .init(name: "num_groups", detail: "int = none"),
                    .init(name: "is_sfa", detail: "bool = none"), .init(name: "disable_ue8m0_cast", detail: "bool = false"),
                    .init(name: "psum_layout", detail: "tensor i32 [g] = none"), .init(name: "arch", detail: "sm90|sm100 = sm100 (global setting)")],
        outputs: ["out"]
    ) { c in
        [("out", try transformSFIntoRequiredLayout(
            c.tensor("sf"), mn: c.int("mn"), k: c.int("k"), recipe: recipe(c), numGroups: c.optionalInt("num_groups"),
            isSFA: c.optionalBool("is_sfa"), disableUE8M0Cast: c.bool("disable_ue8m0_cast", default: false),
            psumLayout: c.optionalTensor("psum_layout"), settings: c.settings))]
    },
    OpDefinition(
        name: "get_theoretical_mk_alignment_for_contiguous_layout", summary: "the M/K alignment the grouped kernels assume",
        arguments: [.init(name: "expected_m", detail: "int = none"), .init(name: "arch", detail: "sm90|sm100 = sm100 (global setting)")],
        outputs: ["out (i64 scalar)"]
    ) { c in try scalarOutput(getTheoreticalMKAlignmentForContiguousLayout(expectedM: c.optionalInt("expected_m"), settings: c.settings)) },
]
