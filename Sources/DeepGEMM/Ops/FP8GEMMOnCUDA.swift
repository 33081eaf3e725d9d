import DeepGEMMCUDA

/// The FP8 GEMM ops on a CUDA device: the device's architecture decides the rules (SM90's, exactly,
/// whatever `strictArch` says: the kernels are SM90's), which Core states once in ``GEMMRules``.
/// Core's scale resolution reads scale values on the host, so on the device the scale factors are
/// checked by shape and type only, by the kernel family's launch plan (errors name `a_sf`/`b_sf`).
enum FP8GEMMOnCUDA {
    /// SM90's rules, as the FP8 kernels on the device apply them.
    static func rules(_ settings: DeepGEMMSettings) -> GEMMRules {
        var sm90 = settings
        sm90.arch = .sm90
        return GEMMRules(settings: sm90, strictArch: true)
    }

    /// SM90's operand rules for an FP8 GEMM whose nt-oriented A and B are given: FP8 E4M3 data, K-major,
    /// F32 scale factors (the SM90 kernels read F32; packed UE8M0 is SM100's).
    static func checkOperands(a: QuantizedTensor, b: QuantizedTensor, rules: GEMMRules) throws {
        try rules.checkFP8FP4Operand(a.data, name: "a")
        try rules.checkFP8FP4Operand(b.data, name: "b")
        try rules.checkFP8Majors(a: checkABMajor(a.data, name: "a"), b: checkABMajor(b.data, name: "b"))
        for (name, sf) in [("a_sf", a.sf), ("b_sf", b.sf)] {
            try DeepGEMMError.require(sf.dtype == .float32, name, "SM90 FP8 kernels read float32 scale factors, got \(sf.dtype)")
        }
    }

    /// The kernel type SM90 runs for these recipes (after ``GEMMRules/checkSM90FP8Kernel(recipe:recipeA:recipeB:sfb:d:hasC:allows1D1D:)``
    /// passed): 1D1D when B's scales are per channel (gran_n == 1), else 1D2D.
    static func kernelType(recipe: [Int]?, recipeB: [Int]?) -> GEMMKernelType {
        let granN = recipe.map { $0.count > 1 ? $0[1] : 128 } ?? recipeB?.first ?? 128
        return granN == 1 ? .oneD1D : .oneD2D
    }

    /// `fp8_fp4_gemm_nt` (any alias whose nt view is K-major) on the device: rules, spec §4's
    /// output handling (C copied into D first), then the kernel on `stream`.
    static func gemm(a: QuantizedTensor, b: QuantizedTensor, d: Tensor, c: Tensor?, m: Int, n: Int, k: Int, action: GEMMOutputAction,
                     recipe: [Int]?, recipeA: [Int]?, recipeB: [Int]?, compiledDims: String, settings: DeepGEMMSettings,
                     stream: CUDAStream) throws {
        let rules = rules(settings)
        try checkOperands(a: a, b: b, rules: rules)
        try rules.checkSM90FP8Kernel(recipe: recipe, recipeA: recipeA, recipeB: recipeB, sfb: b.sf, d: d, hasC: c != nil)
        let (run, accumulate) = try prepareGEMMOutput(action, d: d, c: c)
        guard run else { return }
        let problem = GEMMProblem(kind: .normal, m: m, n: n, k: k, typeA: a.data.dtype, typeB: b.data.dtype, typeCD: d.dtype,
                                  kernelType: kernelType(recipe: recipe, recipeB: recipeB), accumulate: accumulate)
        try CUDABackend.fp8GEMM(problem, a: a.data, sfa: a.sf, b: b.data, sfb: b.sf, d: d, compiledDims: compiledDims,
                                options: RuntimeSettings.current.cudaOptions, stream: stream)
    }
}
