/// Code generation for the SM90 FP8 1D2D GEMM family (`impls/sm90_fp8_gemm_1d2d.cuh`): one
/// translation unit per (problem shape class, configuration), holding only compile-time arguments.
enum SM90FP8GEMMKernel {
    /// The kernel family name (cache entries are `sm90_fp8_gemm_1d2d.<key>`).
    static let name = "sm90_fp8_gemm_1d2d"

    /// The translation unit instantiating the kernel for `problem` with `config`.
    static func source(for problem: GEMMKernelProblem, config: SM90GEMMConfig) -> KernelSource {
        let mma = WGMMAInstruction(n: config.blockN, transposeA: false, transposeB: false, operands: .e4m3)
        let arguments: [String] = [
            "\(problem.compiledValue("m", problem.m))", "\(problem.compiledValue("n", problem.n))", "\(problem.compiledValue("k", problem.k))",
            "\(problem.scheduledGroups)",
            "\(config.blockM)", "\(config.blockN)", "\(config.swizzleD)",
            "\(config.numStages)", "\(config.numMathThreads)",
            "\(config.clusterSize)", "\(config.multicastOnA)", "\(config.bandWidth)", "\(config.numSMs)",
            problem.kind.kernelName, "GeneratedMMA",
            problem.headSplits.map { "dg::HeadMidColumns<\($0.map(String.init).joined(separator: ", "))>" } ?? "dg::DenseColumns",
        ]
        let code = """
        #include <deep_gemm/impls/sm90_fp8_gemm_1d2d.cuh>

        \(mma.cppStruct(named: "GeneratedMMA"))

        extern "C" __global__ void __launch_bounds__(\(config.numThreads), 1) \(CUDAKernel.entryName)(
                const float* sfb, const int* grouped_layout, dg::u32 shape_m, dg::u32 shape_n, dg::u32 shape_k,
                dg::u32 sfb_stride_n, dg::u32 sfb_stride_k, dg::u32 sfb_stride_group,
                const __grid_constant__ dg::TensorMap map_a, const __grid_constant__ dg::TensorMap map_b,
                const __grid_constant__ dg::TensorMap map_sfa, const __grid_constant__ dg::TensorMap map_d) {
            dg::sm90_fp8_gemm_1d2d<\(arguments.joined(separator: ", "))>(
                sfb, grouped_layout, shape_m, shape_n, shape_k, sfb_stride_n, sfb_stride_k, sfb_stride_group,
                map_a, map_b, map_sfa, map_d);
        }

        """
        return KernelSource(name: name, code: code)
    }
}
