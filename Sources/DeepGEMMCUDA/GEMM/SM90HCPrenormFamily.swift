import DeepGEMMCore

/// The SM90 `tf32_hc_prenorm_gemm` kernel (`impls/sm90_tf32_hc_prenorm_gemm.cuh`): BF16 A [M, K]
/// and FP32 B [N, K] (K-major, N <= 32) into FP32 D [(S,) M, N] and the square sums [(S,) M],
/// one CTA per (64-row block, split), specialised on N's tile, K, the split count and the stages.
public struct SM90HCPrenormFamily: CUDAKernelFamily {
    /// Creates the family.
    public init() {}

    /// `sm90_tf32_hc_prenorm_gemm` (also the cache entries' prefix).
    public var name: String { "sm90_tf32_hc_prenorm_gemm" }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }

    /// DeepGEMM's test shapes: (N, K) in {(24, 28672), (24, 7680), (24, 7168)} without and with 16
    /// splits (M is a runtime argument), plus N = 16 for the 16-column tile.
    public func representativeLaunches(numSMs: Int) throws -> [RepresentativeLaunch] {
        let shapes = [(24, 28672), (24, 7680), (24, 7168), (16, 7168)]
        return try shapes.flatMap { n, k in
            try [1, 16].map { splits in
                RepresentativeLaunch(op: "tf32_hc_prenorm_gemm", label: "tf32_hc_prenorm_gemm N=\(n) K=\(k) num_splits=\(splits)",
                                     selection: try selection(m: 4096, n: n, k: k, numSplits: splits).selection)
            }
        }
    }

    /// The heuristics' configuration and the generated kernel for M x N x K with `numSplits` splits.
    public func selection(m: Int, n: Int, k: Int, numSplits: Int) throws -> (config: SM90SplitKConfig, selection: KernelSelection) {
        let config = try SM90HCPrenormHeuristics.config(m: m, n: n, k: k, numSplits: numSplits)
        let mma = WGMMAInstruction(n: config.blockN, transposeA: false, transposeB: false, operands: .tf32RegisterA)
        let code = """
        #include <deep_gemm/impls/sm90_tf32_hc_prenorm_gemm.cuh>

        \(mma.cppStruct(named: "GeneratedMMA"))

        extern "C" __global__ void __launch_bounds__(\(config.numThreads), 1) \(CUDAKernel.entryName)(
                dg::u32 shape_m, const __grid_constant__ dg::TensorMap map_a, const __grid_constant__ dg::TensorMap map_b,
                const __grid_constant__ dg::TensorMap map_d, float* sqr_sum) {
            dg::sm90_tf32_hc_prenorm_gemm<\(k), \(config.blockN), \(numSplits), \(config.numStages), GeneratedMMA>(
                shape_m, map_a, map_b, map_d, sqr_sum);
        }

        """
        return (config, KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code)))
    }

    /// The launch for `a` BF16 [M, K] and `b` F32 [N, K] (both K-major), `d` F32 [M, N] or
    /// [S, M, N] row-major and `sqrSum` F32 [M] or [S, M] contiguous, with `numSplits` = S (1 for
    /// the 2-D forms). B's map has the TFLOAT32 type, so TMA rounds B to TF32 as it loads it.
    func plan(m: Int, n: Int, k: Int, numSplits: Int, a: StridedLayout, b: StridedLayout, d: StridedLayout, sqrSum: UInt64,
              pdl: Bool) throws -> KernelPlan {
        let (config, selection) = try selection(m: m, n: n, k: k, numSplits: numSplits)
        let mapA = try TensorMapDescription(name: "a", elementType: .bfloat16, address: a.address, rowsName: "K-major",
                                            innerSize: k, outerSize: m, outerStride: a.stride(0),
                                            boxInner: config.blockK, boxOuter: config.blockM, swizzleBytes: 128)
        let mapB = try TensorMapDescription(name: "b", elementType: .tfloat32, address: b.address, rowsName: "K-major",
                                            innerSize: k, outerSize: n, outerStride: b.stride(0),
                                            boxInner: 128 / 4, boxOuter: config.blockN, swizzleBytes: 128)
        let mapD = try TensorMapDescription(name: "d", elementType: .float32, address: d.address, rowsName: "row-major",
                                            innerSize: n, outerSize: m, outerStride: d.stride(-2),
                                            groups: numSplits, groupStride: d.rank == 3 ? d.stride(0) : nil,
                                            boxInner: config.blockN, boxOuter: config.blockM, swizzleBytes: 0)
        let arguments: [KernelArgument] = [.u32(UInt32(m)), .tensorMap(mapA), .tensorMap(mapB), .tensorMap(mapD), .pointer(sqrSum)]
        let launch = LaunchConfiguration(gridSize: config.gridSize, blockSize: config.numThreads, sharedMemoryBytes: config.sharedMemoryBytes,
                                         clusterSize: 1, programmaticDependentLaunch: pdl)
        return KernelPlan(selection: selection, arguments: arguments, launch: launch)
    }
}
