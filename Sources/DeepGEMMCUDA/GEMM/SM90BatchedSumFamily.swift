import DeepGEMMCore

/// The SM90 `einsum("bmk,bnk->mn")` kernel (`impls/sm90_bf16_bmk_bnk_mn.cuh`): contiguous BF16
/// A [S, M, K] and B [S, N, K] summed over S into a contiguous FP32 D [M, N] with atomics,
/// specialised on M, N, K, the split factor and the stages; plus the FP32 -> BF16 cast a BF16 D
/// needs after its FP32 workspace.
public struct SM90BatchedSumFamily: CUDAKernelFamily {
    /// Creates the family.
    public init() {}

    /// `sm90_bf16_bmk_bnk_mn` (also the cache entries' prefix).
    public var name: String { "sm90_bf16_bmk_bnk_mn" }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }
    /// Threads per CTA of the cast.
    static let castThreads = 256

    /// DeepGEMM's test shapes: S in {129, 4096, 8192} x (M, N, K) in {(128, 384, 128), (256, 256,
    /// 256), (384, 128, 384)} on `numSMs` SMs, and the cast.
    public func representativeLaunches(numSMs: Int) throws -> [RepresentativeLaunch] {
        let shapes = [(128, 384, 128), (256, 256, 256), (384, 128, 384)]
        var launches = try [129, 4096, 8192].flatMap { s in
            try shapes.map { m, n, k in
                RepresentativeLaunch(op: "einsum", label: "einsum bmk,bnk->mn S=\(s) M=\(m) N=\(n) K=\(k)",
                                     selection: try selection(s: s, m: m, n: n, k: k, numSMs: numSMs).selection)
            }
        }
        launches.append(RepresentativeLaunch(op: "einsum", label: "einsum bmk,bnk->mn float32 -> bfloat16 cast", selection: castSelection()))
        return launches
    }

    /// The heuristics' configuration and the generated kernel.
    public func selection(s: Int, m: Int, n: Int, k: Int, numSMs: Int) throws -> (config: SM90SplitKConfig, selection: KernelSelection) {
        let config = try SM90BatchedSumHeuristics.config(s: s, m: m, n: n, k: k, numSMs: numSMs)
        let mma = WGMMAInstruction(n: config.blockN, transposeA: false, transposeB: false)
        let code = """
        #include <deep_gemm/impls/sm90_bf16_bmk_bnk_mn.cuh>

        \(mma.cppStruct(named: "GeneratedMMA"))

        extern "C" __global__ void __launch_bounds__(\(config.numThreads), 1) \(CUDAKernel.entryName)(
                dg::u32 shape_s, const __grid_constant__ dg::TensorMap map_a, const __grid_constant__ dg::TensorMap map_b, float* d) {
            dg::sm90_bf16_bmk_bnk_mn<\(m), \(n), \(k), \(config.splitK), \(config.numStages), GeneratedMMA>(shape_s, map_a, map_b, d);
        }

        """
        return (config, KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code)))
    }

    /// The launch adding Σ_s A[s]·B[s]ᵀ into `d` (F32 [M, N] contiguous) for contiguous `a`
    /// [S, M, K] and `b` [S, N, K] on `numSMs` SMs.
    func plan(a: StridedLayout, b: StridedLayout, d: UInt64, numSMs: Int, pdl: Bool) throws -> KernelPlan {
        let (s, m, k, n) = (a.size(0), a.size(1), a.size(2), b.size(1))
        let (config, selection) = try selection(s: s, m: m, n: n, k: k, numSMs: numSMs)
        let mapA = try TensorMapDescription(name: "a", elementType: .bfloat16, address: a.address, rowsName: "K-major",
                                            innerSize: k, outerSize: s * m, outerStride: k,
                                            boxInner: config.blockK, boxOuter: config.blockM, swizzleBytes: 128)
        let mapB = try TensorMapDescription(name: "b", elementType: .bfloat16, address: b.address, rowsName: "K-major",
                                            innerSize: k, outerSize: s * n, outerStride: k,
                                            boxInner: config.blockK, boxOuter: config.blockN, swizzleBytes: 128)
        let arguments: [KernelArgument] = [.u32(UInt32(s)), .tensorMap(mapA), .tensorMap(mapB), .pointer(d)]
        let launch = LaunchConfiguration(gridSize: config.gridSize, blockSize: config.numThreads, sharedMemoryBytes: config.sharedMemoryBytes,
                                         clusterSize: 1, programmaticDependentLaunch: pdl)
        return KernelPlan(selection: selection, arguments: arguments, launch: launch)
    }

    /// The FP32 -> BF16 (round to nearest even) cast kernel.
    public func castSelection() -> KernelSelection {
        let code = """
        #include <deep_gemm/impls/sm90_bf16_bmk_bnk_mn.cuh>

        extern "C" __global__ void __launch_bounds__(\(Self.castThreads)) \(CUDAKernel.entryName)(
                const float* in, __nv_bfloat16* out, dg::u32 count) {
            dg::sm90_f32_to_bf16(in, out, count);
        }

        """
        let config = TiledKernelConfig(blockM: Self.castThreads, blockN: 1, blockK: 0, numStages: 1, numThreads: Self.castThreads,
                                       sharedMemoryBytes: 0, summary: "elements per CTA \(Self.castThreads)")
        return KernelSelection(family: "sm90_f32_to_bf16", config: config, source: KernelSource(name: "sm90_f32_to_bf16", code: code))
    }

    /// The launch writing BF16 of the `count` contiguous floats at `source` to `destination`;
    /// throws naming `d` past 2^32 - 1 elements.
    func castPlan(source: UInt64, destination: UInt64, count: Int) throws -> KernelPlan {
        try DeepGEMMError.requireSupported(count <= Int(UInt32.max), "d", "the CUDA cast takes fewer than 2^32 elements, got \(count)")
        let launch = LaunchConfiguration(gridSize: ceilDiv(count, Self.castThreads), blockSize: Self.castThreads, sharedMemoryBytes: 0,
                                         clusterSize: 1, programmaticDependentLaunch: false)
        return KernelPlan(selection: castSelection(), arguments: [.pointer(source), .pointer(destination), .u32(UInt32(count))], launch: launch)
    }
}
