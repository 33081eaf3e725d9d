/// Code generation for the SM90 FP8 1D1D GEMM family (`impls/sm90_fp8_gemm_1d1d.cuh`): one
/// translation unit per (problem shape class, configuration), holding only compile-time arguments.
enum SM90FP8GEMM1D1DKernel {
    /// The kernel family name (cache entries are `sm90_fp8_gemm_1d1d.<key>`).
    static let name = "sm90_fp8_gemm_1d1d"

    /// The translation unit instantiating the kernel for `problem` with `config`. A k-grouped
    /// problem's K varies by group, so it is never compiled in.
    static func source(for problem: GEMMKernelProblem, config: SM90GEMMConfig) -> KernelSource {
        let kGrouped = SM90FP8GEMM1D1DHeuristics.isKGrouped(problem.problem)
        let mma = WGMMAInstruction(n: config.blockN, transposeA: false, transposeB: false, operands: .e4m3)
        let arguments: [String] = [
            "\(problem.compiledValue("m", problem.m))", "\(problem.compiledValue("n", problem.n))",
            "\(kGrouped ? 0 : problem.compiledValue("k", problem.k))", "\(problem.numGroups)",
            "\(config.blockM)", "\(config.blockN)", "\(config.numStages)", "\(config.numMathThreads)",
            "\(config.clusterSize)", "\(config.multicastOnA)", "\(config.bandWidth)", "\(config.numSMs)",
            "\(kGrouped)", "GeneratedMMA",
        ]
        let code = """
        #include <deep_gemm/impls/sm90_fp8_gemm_1d1d.cuh>

        \(mma.cppStruct(named: "GeneratedMMA"))

        extern "C" __global__ void __launch_bounds__(\(config.numThreads), 1) \(CUDAKernel.entryName)(
                const dg::TensorMap* group_maps, const dg::u32* group_ks, dg::u32 shape_m, dg::u32 shape_n, dg::u32 shape_k,
                const __grid_constant__ dg::TensorMap map_a, const __grid_constant__ dg::TensorMap map_b,
                const __grid_constant__ dg::TensorMap map_sfa, const __grid_constant__ dg::TensorMap map_sfb,
                const __grid_constant__ dg::TensorMap map_d) {
            dg::sm90_fp8_gemm_1d1d<\(arguments.joined(separator: ", "))>(
                group_maps, group_ks, shape_m, shape_n, shape_k, map_a, map_b, map_sfa, map_sfb, map_d);
        }

        """
        return KernelSource(name: name, code: code)
    }
}
