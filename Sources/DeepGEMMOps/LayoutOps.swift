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
        parameters: [OpParameter("x", .int, "a size in elements"), OpParameter("element_size", .int, "bytes per element, dividing 16")],
        returns: ["out"]  // a Python int (i64 0-dim)
    ) { c in try scalarOutput(getTMAAlignedSize(c.int("x"), elementSize: c.int("element_size"))) },
    OpDefinition(
        name: "get_mn_major_tma_aligned_tensor", summary: "f32 SF in MN-major, TMA-aligned layout",
        parameters: [OpParameter("sf", .tensor, "f32 [mn, sk] or [b, mn, sk]")], returns: ["out"]
    ) { c in [("out", try getMNMajorTMAAlignedTensor(c.tensor("sf")))] },
    OpDefinition(
        name: "get_mn_major_tma_aligned_packed_ue8m0_tensor", summary: "f32 power-of-two SF packed to UE8M0 int32, MN-major, TMA-aligned",
        parameters: [OpParameter("sf", .tensor, "f32 [mn, sk] or [b, mn, sk]"),
                     OpParameter("psum_layout", .tensor, default: .null, "i32 [g] cumulative group ends (uses the mk alignment setting)")],
        returns: ["out"]  // i32
    ) { c in
        [("out", try getMNMajorTMAAlignedPackedUE8M0Tensor(c.tensor("sf"), psumLayout: c.optionalTensor("psum_layout"), settings: c.settings))]
    },
    OpDefinition(
        name: "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor", summary: "k-grouped f32 SF packed to UE8M0 int32 per group",
        parameters: [OpParameter("sf", .tensor, "f32 [sk_total, mn]"), OpParameter("grouped_layout", .tensor, "i32 [g]"),
                     OpParameter("ks_cpu", .ints, "K of every group (or None: read from grouped_layout)"), OpParameter("gran_k", .int, "32 or 128"),
                     OpParameter("k_alignment", .int, "a multiple of 32"), OpParameter("use_psum_layout", .bool, default: .bool(false), "grouped_layout holds cumulative ends")],
        returns: ["out"]  // i32 [p, mn]
    ) { c in
        [("out", try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
            c.tensor("sf"), groupedLayout: c.tensor("grouped_layout"), ksCPU: c.intList("ks_cpu"), granK: c.int("gran_k"),
            kAlignment: c.int("k_alignment"), usePsumLayout: c.bool("use_psum_layout")))]
    },
    OpDefinition(
        name: "transform_sf_into_required_layout", summary: "SF in the layout the GEMM kernels need (spec §3.5)",
        parameters: [OpParameter("sf", .tensor, "f32 or packed UE8M0 i32 scales"), OpParameter("mn", .int, "rows (or columns) scaled"),
                     OpParameter("k", .int, "the reduction size"), OpParameter("recipe", .ints, "(gran_m, gran_n, gran_k) with is_sfa, or (gran_mn, gran_k)"),
                     OpParameter("num_groups", .int, default: .null, "groups of a grouped sf"), OpParameter("is_sfa", .bool, default: .null, "sf belongs to a (3-entry recipe)"),
                     disableUE8M0CastParameter, OpParameter("psum_layout", .tensor, default: .null, "i32 [g] cumulative group ends")],
        returns: ["out"]
    ) { c in
        [("out", try transformSFIntoRequiredLayout(
            c.tensor("sf"), mn: c.int("mn"), k: c.int("k"), recipe: recipe(c), numGroups: c.optionalInt("num_groups"),
            isSFA: c.optionalBool("is_sfa"), disableUE8M0Cast: c.bool("disable_ue8m0_cast"),
            psumLayout: c.optionalTensor("psum_layout"), settings: c.settings))]
    },
    OpDefinition(
        name: "get_theoretical_mk_alignment_for_contiguous_layout", summary: "the M/K alignment the grouped kernels assume",
        parameters: [OpParameter("expected_m", .int, default: .null, "expected rows per group (a hint)")],
        returns: ["out"]  // a Python int (i64 0-dim)
    ) { c in try scalarOutput(getTheoreticalMKAlignmentForContiguousLayout(expectedM: c.optionalInt("expected_m"), settings: c.settings)) },
]
