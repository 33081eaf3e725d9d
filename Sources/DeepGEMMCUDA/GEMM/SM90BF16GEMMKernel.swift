/// Code generation for the SM90 BF16 GEMM family (`impls/sm90_bf16_gemm.cuh`): one translation
/// unit per (problem shape class, configuration), holding only compile-time arguments.
enum SM90BF16GEMMKernel {
    /// The kernel family name (cache entries are `sm90_bf16_gemm.<key>`).
    static let name = "sm90_bf16_gemm"

    /// The translation unit instantiating the kernel for `problem` with `config`.
    static func source(for problem: GEMMKernelProblem, config: SM90GEMMConfig) -> KernelSource {
        let mma = WGMMAInstruction(n: config.blockN, transposeA: problem.majorA == .mn, transposeB: problem.majorB == .mn)
        let outputType = problem.typeCD == .float32 ? "float" : "__nv_bfloat16"
        let arguments: [String] = [
            problem.majorA.kernelName, problem.majorB.kernelName,
            "\(problem.compiledValue("m", problem.m))", "\(problem.compiledValue("n", problem.n))", "\(problem.compiledValue("k", problem.k))",
            "\(problem.scheduledGroups)",
            "\(config.blockM)", "\(config.blockN)", "\(config.blockK)",
            "\(config.swizzleA)", "\(config.swizzleB)", "\(config.swizzleD)",
            "\(config.numStages)", "\(config.numMathThreads)",
            "\(config.clusterSize)", "\(config.multicastOnA)", "\(config.bandWidth)", "\(config.numSMs)",
            problem.kind.kernelName, "\(problem.accumulate)", outputType, "GeneratedMMA",
        ]
        let code = """
        #include <deep_gemm/impls/sm90_bf16_gemm.cuh>

        \(mma.cppStruct(named: "GeneratedMMA"))

        extern "C" __global__ void __launch_bounds__(\(config.numThreads), 1) \(CUDAKernel.entryName)(
                const int* grouped_layout, dg::u32 shape_m, dg::u32 shape_n, dg::u32 shape_k,
                const __grid_constant__ dg::TensorMap map_a, const __grid_constant__ dg::TensorMap map_b,
                const __grid_constant__ dg::TensorMap map_d) {
            dg::sm90_bf16_gemm<\(arguments.joined(separator: ", "))>(
                grouped_layout, shape_m, shape_n, shape_k, map_a, map_b, map_d);
        }

        """
        return KernelSource(name: name, code: code)
    }
}
