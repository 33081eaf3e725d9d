import DeepGEMMCore

/// The block-scaled casts (`impls/block_cast.cuh`): `per_token_cast_to_fp4`,
/// `per_channel_cast_to_fp8` and `per_block_cast_to_fp8` as two launches on one stream, a scale
/// pass (one CTA per scale reduces its block's amax) and an encode pass (one thread per output
/// byte). Bytes equal the CPU backend's (`layout/block_cast.cuh` holds the arithmetic the host
/// tests run). `per_token_cast_to_fp8` keeps its one-pass kernel (``PerTokenCastKernel``) for
/// rows with unit column stride and runs here otherwise.
public struct BlockCastKernel: CUDAKernelFamily {
    /// `sm90_block_cast` (also the cache entries' prefix).
    public var name: String { "sm90_block_cast" }
    /// Plain CUDA C++, compiled for the architecture of the other SM90 kernels.
    public var architecture: CUDAArchitecture { .sm90a }
    /// Threads of a scale-pass CTA (one scale's block).
    static let scaleThreads = 128
    /// Threads of an encode-pass CTA (one output byte each).
    static let encodeThreads = 256

    /// Creates the family.
    public init() {}

    /// The ops and the (FP4, block) variants the compile check lists for them.
    static let ops: [(op: String, kind: CastProblem.Kind)] = [
        ("per_token_cast_to_fp4", .perTokenFP4), ("per_channel_cast_to_fp8", .perChannelFP8), ("per_block_cast_to_fp8", .perBlockFP8),
    ]

    /// Both passes for every source dtype, with and without UE8M0 scales, for each op.
    public func representativeLaunches(numSMs: Int) throws -> [RepresentativeLaunch] {
        BlockCastKernel.ops.flatMap { entry in
            PerTokenCastKernel.sources.flatMap { source in
                let fp4 = entry.kind == .perTokenFP4
                let scales = [false, true].map { useUE8M0 in
                    RepresentativeLaunch(op: entry.op, label: "\(entry.op) scales x=\(source.dtype) use_ue8m0=\(useUE8M0)",
                                         selection: scaleSelection(source: source.dtype, fp4: fp4, useUE8M0: useUE8M0))
                }
                return scales + [RepresentativeLaunch(op: entry.op, label: "\(entry.op) encode x=\(source.dtype)",
                                                      selection: encodeSelection(source: source.dtype, fp4: fp4))]
            }
        }
    }

    /// The scale pass for `source`, FP4 (max code 6) or FP8 (448), with or without UE8M0 rounding.
    func scaleSelection(source: DType, fp4: Bool, useUE8M0: Bool) -> KernelSelection {
        let code = """
        #include <deep_gemm/impls/block_cast.cuh>

        extern "C" __global__ void __launch_bounds__(\(BlockCastKernel.scaleThreads)) \(CUDAKernel.entryName)(
                const void* x, dg::u32 m, dg::u32 n, dg::u32 row_stride, dg::u32 column_stride, dg::u32 block_rows,
                dg::u32 block_columns, dg::u32 sf_columns, float* sf) {
            const dg::BlockCastShape shape{m, n, row_stride, column_stride, block_rows, block_columns, sf_columns};
            dg::block_cast_scales<dg::CastSource::\(Self.kernelName(source)), \(useUE8M0), \(BlockCastKernel.scaleThreads)>(x, shape, \(fp4 ? "6.0f" : "448.0f"), sf);
        }

        """
        let config = TiledKernelConfig(blockM: 1, blockN: BlockCastKernel.scaleThreads, blockK: 0, numStages: 1, numThreads: BlockCastKernel.scaleThreads,
                                       sharedMemoryBytes: 0, summary: "scale pass: one scale per CTA, source \(source), \(fp4 ? "fp4" : "fp8"), ue8m0 \(useUE8M0)")
        return KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code))
    }

    /// The encode pass for `source`, FP4 (two codes per byte) or FP8.
    func encodeSelection(source: DType, fp4: Bool) -> KernelSelection {
        let code = """
        #include <deep_gemm/impls/block_cast.cuh>

        extern "C" __global__ void __launch_bounds__(\(BlockCastKernel.encodeThreads)) \(CUDAKernel.entryName)(
                const void* x, dg::u32 m, dg::u32 n, dg::u32 row_stride, dg::u32 column_stride, dg::u32 block_rows,
                dg::u32 block_columns, dg::u32 sf_columns, const float* sf, unsigned char* data) {
            const dg::BlockCastShape shape{m, n, row_stride, column_stride, block_rows, block_columns, sf_columns};
            dg::block_cast_encode<dg::CastSource::\(Self.kernelName(source)), \(fp4)>(x, shape, sf, data);
        }

        """
        let config = TiledKernelConfig(blockM: 1, blockN: BlockCastKernel.encodeThreads, blockK: 0, numStages: 1, numThreads: BlockCastKernel.encodeThreads,
                                       sharedMemoryBytes: 0, summary: "encode pass: one output byte per thread, source \(source), \(fp4 ? "fp4" : "fp8")")
        return KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code))
    }

    /// The `dg::CastSource` name of a source dtype (the problem has checked it is one of them).
    static func kernelName(_ source: DType) -> String {
        PerTokenCastKernel.sources.first { $0.dtype == source }?.kernelName ?? "F32"
    }

    /// The two launches of `problem` on `x` (2-D, any element strides) into contiguous `data`
    /// (``CastProblem/dataShape``) and contiguous F32 scales [scaleRows, storedScaleColumns].
    /// Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `x` for sizes, strides or grids
    /// past 32 bits.
    func plans(_ problem: CastProblem, x: StridedLayout, dataAddress: UInt64, sfAddress: UInt64) throws -> [KernelPlan] {
        let limit = Int(UInt32.max)
        let values = [problem.m, problem.n, x.stride(0), x.stride(1), problem.blockRows, problem.blockColumns, problem.storedScaleColumns]
        try DeepGEMMError.requireSupported(values.allSatisfy { $0 >= 0 && $0 <= limit }, "x",
                                  "the CUDA casts take non-negative sizes and strides below 2^32, got shape \(x.shape), strides \(x.strides)")
        let scales = problem.scaleRows * problem.storedScaleColumns
        let bytes = problem.dataShape.reduce(1, *)
        let encodeBlocks = ceilDiv(bytes, BlockCastKernel.encodeThreads)
        try DeepGEMMError.requireSupported(scales < Int(Int32.max) && encodeBlocks < Int(Int32.max), "x",
                                  "the CUDA casts launch at most 2^31 - 1 CTAs per pass, got shape \(x.shape)")
        let shape: [KernelArgument] = [.pointer(x.address)] + values.map { .u32(UInt32($0)) }
        return [
            KernelPlan(selection: scaleSelection(source: x.dtype, fp4: problem.isFP4, useUE8M0: problem.useUE8M0),
                       arguments: shape + [.pointer(sfAddress)],
                       launch: LaunchConfiguration(gridSize: scales, blockSize: BlockCastKernel.scaleThreads, sharedMemoryBytes: 0, clusterSize: 1,
                                                   programmaticDependentLaunch: false)),
            KernelPlan(selection: encodeSelection(source: x.dtype, fp4: problem.isFP4),
                       arguments: shape + [.pointer(sfAddress), .pointer(dataAddress)],
                       launch: LaunchConfiguration(gridSize: encodeBlocks, blockSize: BlockCastKernel.encodeThreads, sharedMemoryBytes: 0,
                                                   clusterSize: 1, programmaticDependentLaunch: false)),
        ]
    }
}
