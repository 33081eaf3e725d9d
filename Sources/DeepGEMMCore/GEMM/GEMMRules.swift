/// Which architecture's argument rules a scaled GEMM follows (spec §3, §5, §9, §11, §17).
///
/// DeepGEMM accepts different argument combinations on SM90 and SM100. The CPU backend can run all
/// of them, so by default (``union``) it accepts every combination that either architecture
/// accepts, and where the two give an argument different meanings it uses the meaning of the
/// architecture that accepts it:
/// - operands: FP8 E4M3 or packed FP4 (SM100) on either side, K-major or MN-major (SM100);
/// - F32 scale factors: kept as given when the SM90 rules accept them (any finite values, gran_k
///   128), otherwise the SM100 rules apply (gran_k 32 or 128, powers of two only); packed UE8M0
///   Int32 scale factors follow the SM100 rules; `disable_ue8m0_cast` therefore means "keep F32
///   scale factors" (SM90's behaviour) instead of SM100's error;
/// - C and D: any D dtype with or without C (SM100), so SM90's coupling of the recipe to the kernel
///   (1D2D: BF16 D without C; 1D1D: C and F32 D) does not apply.
///
/// With an ``arch``, exactly that architecture's rules apply: SM90 takes FP8 only, both operands
/// K-major, F32 scale factors, per-token A, and the 1D2D/1D1D coupling; SM100 takes everything
/// above except F32 scale factors that are not powers of two and `disable_ue8m0_cast` with F32
/// scale factors.
///
/// `DeepGEMMSettings` has no "union" value (its `arch` defaults to SM100), so the ops take the
/// settings plus a `strictArch` flag, as ``resolveGEMMScales(sfa:sfb:m:n:k:recipe:recipeA:recipeB:numGroupsA:numGroupsB:disableUE8M0Cast:psumLayout:settings:strictArch:)``
/// does, and build their rules with ``init(settings:strictArch:)``.
public struct GEMMRules: Sendable, Hashable {
    /// The architecture whose rules apply exactly, or nil for the union of both.
    public var arch: ArchPersonality?

    /// Rules of exactly `arch`, or the union of both architectures when nil.
    public init(arch: ArchPersonality?) {
        self.arch = arch
    }

    /// `settings.arch`'s rules when `strictArch`, otherwise the union.
    public init(settings: DeepGEMMSettings, strictArch: Bool) {
        arch = strictArch ? settings.arch : nil
    }

    /// The union of the SM90 and SM100 rules (the CPU backend's default).
    public static let union = GEMMRules(arch: nil)

    /// Checks the dtype of an FP8/FP4 operand `data` named `name`: FP8 E4M3, or packed FP4 (int8
    /// storage) when `allowsFP4` and the rules are not SM90's.
    public func checkFP8FP4Operand(_ data: Tensor, name: String, allowsFP4: Bool = true) throws {
        switch data.dtype {
        case .float8E4M3:
            return
        case .int8 where allowsFP4, .float4E2M1x2 where allowsFP4:
            if arch == .sm90 { throw DeepGEMMError.unsupported(argument: name, rule: "packed FP4 operands need SM100; SM90 takes float8_e4m3fn only") }
        default:
            let accepted = allowsFP4 ? "float8_e4m3fn or packed FP4 (int8)" : "float8_e4m3fn"
            throw DeepGEMMError.invalidArgument(argument: name, rule: "must be \(accepted), got \(data.dtype)")
        }
    }

    /// SM90's FP8 kernels read both operands K-major; no restriction otherwise.
    public func checkFP8Majors(a: GEMMMajor, b: GEMMMajor) throws {
        guard arch == .sm90 else { return }
        for (name, major) in [("a", a), ("b", b)] where major != .k {
            throw DeepGEMMError.unsupported(argument: name, rule: "SM90 FP8 GEMMs need K-major operands (stride(-1) == 1)")
        }
    }

    /// The scale factors as dense F32 grids under these rules: DeepGEMM's recipe resolution
    /// (``resolveGEMMScales(sfa:sfb:m:n:k:recipe:recipeA:recipeB:numGroupsA:numGroupsB:disableUE8M0Cast:psumLayout:settings:strictArch:)``)
    /// plus SM100's dispatch rule that its kernels read packed UE8M0 scale factors only, so
    /// `disable_ue8m0_cast` with an F32 scale factor is an error there.
    public func resolveScales(
        sfa: Tensor, sfb: Tensor, m: Int, n: Int, k: Int, recipe: [Int]?, recipeA: [Int]?, recipeB: [Int]?,
        numGroupsA: Int? = nil, numGroupsB: Int? = nil, disableUE8M0Cast: Bool = false, psumLayout: Tensor? = nil,
        settings: DeepGEMMSettings
    ) throws -> ResolvedScales {
        var personality = settings
        if let arch { personality.arch = arch }
        let resolved = try resolveGEMMScales(
            sfa: sfa, sfb: sfb, m: m, n: n, k: k, recipe: recipe, recipeA: recipeA, recipeB: recipeB,
            numGroupsA: numGroupsA, numGroupsB: numGroupsB, disableUE8M0Cast: disableUE8M0Cast, psumLayout: psumLayout,
            settings: personality, strictArch: arch != nil)
        if arch == .sm100 && disableUE8M0Cast && (sfa.dtype == .float32 || sfb.dtype == .float32) {
            throw DeepGEMMError.unsupported(argument: "disable_ue8m0_cast",
                                            rule: "SM100 kernels read packed UE8M0 scale factors only: Unsupported architecture or scaling factor types")
        }
        return resolved
    }

    /// SM90's two FP8 kernels (spec §3, §17.3), checked after scale resolution: both read A's
    /// scales per token (`gran_m == 1`); `gran_n == 1` selects 1D1D (C required, F32 D, and only
    /// where `allows1D1D`), anything else 1D2D (BF16 D, no C). The granularities come from
    /// `recipe`, else `recipeA`/`recipeB`, else DeepGEMM's default for `sfb` ((1, 1, 128) for
    /// packed Int32, (1, 128, 128) otherwise). No restriction under the union or SM100 rules.
    public func checkSM90FP8Kernel(recipe: [Int]?, recipeA: [Int]?, recipeB: [Int]?, sfb: Tensor, d: Tensor, hasC: Bool,
                                   allows1D1D: Bool = true) throws {
        guard arch == .sm90 else { return }
        let granM = recipe?.first ?? recipeA?.first ?? 1
        let granN = recipe.map { $0.count > 1 ? $0[1] : 128 } ?? recipeB?.first ?? (sfb.dtype == .int32 ? 1 : 128)
        let (nameM, nameN) = recipe != nil || recipeA == nil ? ("recipe", "recipe") : ("recipe_a", "recipe_b")
        try Self.requireSM90(granM == 1, nameM, "SM90 FP8 kernels read A's scales per token: gran_m must be 1, got \(granM)")
        if granN == 1 {
            try Self.requireSM90(allows1D1D, nameN, "SM90 runs this op with the 1D2D kernel only: gran_n must not be 1")
            try Self.requireSM90(hasC, "c", "the SM90 1D1D kernel (gran_n == 1) needs C")
            try Self.requireSM90(d.dtype == .float32, "d", "the SM90 1D1D kernel (gran_n == 1) writes float32 D, got \(d.dtype)")
        } else {
            try Self.requireSM90(d.dtype == .bfloat16, "d", "the SM90 1D2D kernel writes bfloat16 D, got \(d.dtype)")
            try Self.requireSM90(!hasC, "c", "the SM90 1D2D kernel cannot accumulate into C")
        }
    }

    private static func requireSM90(_ condition: Bool, _ argument: String, _ rule: String) throws {
        if !condition { throw DeepGEMMError.unsupported(argument: argument, rule: rule) }
    }
}
