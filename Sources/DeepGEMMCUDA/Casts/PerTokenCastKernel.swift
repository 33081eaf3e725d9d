import DeepGEMMCore

/// The `per_token_cast_to_fp8` kernel (`impls/per_token_cast.cuh`): one warp per (row, group of
/// `gran_k` columns), eight warps per CTA, specialised on the source dtype and the UE8M0 rounding.
/// Its bytes equal the CPU backend's (the shared rules of `common/scalar_formats.cuh`).
public struct PerTokenCastKernel: CUDAKernelFamily {
    /// `sm90_per_token_cast_to_fp8` (also the cache entries' prefix).
    public var name: String { "sm90_per_token_cast_to_fp8" }
    /// The kernels are plain CUDA C++ and compiled for the architecture of the other SM90 kernels.
    public var architecture: CUDAArchitecture { .sm90a }
    /// Threads per CTA: eight warps, one (row, group) pair each.
    static let threads = 256

    /// Creates the family.
    public init() {}

    /// The source dtypes the kernel reads and their `dg::CastSource` names.
    static let sources: [(dtype: DType, kernelName: String)] = [(.float32, "F32"), (.bfloat16, "BF16"), (.float16, "F16")]

    /// The kernel for every source dtype, with and without UE8M0 scales.
    public func representativeLaunches(numSMs: Int) throws -> [RepresentativeLaunch] {
        PerTokenCastKernel.sources.flatMap { source in
            [false, true].map { useUE8M0 in
                RepresentativeLaunch(op: "per_token_cast_to_fp8", label: "per_token_cast_to_fp8 x=\(source.dtype) use_ue8m0=\(useUE8M0)",
                                     selection: selection(source: source.dtype, useUE8M0: useUE8M0))
            }
        }
    }

    /// The configuration and generated translation unit for `source` rows and `useUE8M0`.
    public func selection(source: DType, useUE8M0: Bool) -> KernelSelection {
        let kernelName = PerTokenCastKernel.sources.first { $0.dtype == source }?.kernelName ?? "F32"
        let code = """
        #include <deep_gemm/impls/per_token_cast.cuh>

        extern "C" __global__ void __launch_bounds__(\(PerTokenCastKernel.threads)) \(CUDAKernel.entryName)(
                const void* x, dg::u32 x_row_stride, unsigned char* data, float* sf, dg::u32 m, dg::u32 n, dg::u32 gran_k) {
            dg::per_token_cast_to_fp8<dg::CastSource::\(kernelName), \(useUE8M0)>(x, x_row_stride, data, sf, m, n, gran_k);
        }

        """
        let config = TiledKernelConfig(blockM: PerTokenCastKernel.threads / 32, blockN: 32, blockK: 0, numStages: 1,
                                       numThreads: PerTokenCastKernel.threads, sharedMemoryBytes: 0,
                                       summary: "(row, group) pairs per CTA \(PerTokenCastKernel.threads / 32), lanes per group 32, source \(source), ue8m0 \(useUE8M0)")
        return KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code))
    }

    /// The launch for a 2-D `x` [m, n] (unit column stride, rows `stride(0)` apart) and a positive
    /// `granK` into contiguous `data` [m, n] at `dataAddress` and `sf` [m, ceil(n / granK)] at
    /// `sfAddress`. Throws naming `x` for a dtype the kernel does not read, a non-unit column stride
    /// or sizes past 32 bits.
    func plan(x: StridedLayout, granK: Int, useUE8M0: Bool, dataAddress: UInt64, sfAddress: UInt64) throws -> KernelPlan {
        try DeepGEMMError.require(PerTokenCastKernel.sources.contains { $0.dtype == x.dtype }, "x", "must be float32, bfloat16 or float16, got \(x.dtype)")
        let (m, n) = (x.size(0), x.size(1))
        try DeepGEMMError.requireSupported(x.stride(1) == 1 || n <= 1, "x", "the CUDA cast reads rows with unit column stride, got strides \(x.strides)")
        let limit = Int(UInt32.max)
        try DeepGEMMError.requireSupported(m <= limit && n <= limit && granK <= limit && x.stride(0) <= limit, "x",
                                           "the CUDA cast takes sizes and strides below 2^32, got shape \(x.shape), strides \(x.strides)")
        let warps = m * ceilDiv(n, granK)
        let arguments: [KernelArgument] = [.pointer(x.address), .u32(UInt32(max(x.stride(0), 0))), .pointer(dataAddress), .pointer(sfAddress),
                                           .u32(UInt32(m)), .u32(UInt32(n)), .u32(UInt32(granK))]
        let launch = LaunchConfiguration(gridSize: ceilDiv(warps * 32, PerTokenCastKernel.threads), blockSize: PerTokenCastKernel.threads,
                                         sharedMemoryBytes: 0, clusterSize: 1, programmaticDependentLaunch: false)
        return KernelPlan(selection: selection(source: x.dtype, useUE8M0: useUE8M0), arguments: arguments, launch: launch)
    }
}

extension CUDABackend {
    /// `per_token_cast_to_fp8(x, use_ue8m0, gran_k)` on a CUDA tensor: `x` [m, n] F32, BF16 or F16
    /// with unit column stride, on the stream's device. Returns FP8 E4M3 data [m, n] and F32 scales
    /// [m, ceil(n / gran_k)] on that device, byte-identical to the CPU backend's
    /// `perTokenCastToFP8(_:useUE8M0:granK:)` (packed UE8M0 scales: ``cast(_:_:stream:)``).
    public static func perTokenCastToFP8(_ x: Tensor, useUE8M0: Bool, granK: Int = 128, stream: CUDAStream) throws -> (data: Tensor, sf: Tensor) {
        let family = PerTokenCastKernel()
        try DeepGEMMError.require(x.device != .host, "x", "must be a CUDA tensor (host tensors use the CPU cast)")
        try DeepGEMMError.require(x.rank == 2, "x", "must be 2-D [m, n], got shape \(x.shape)")
        try DeepGEMMError.require(granK > 0, "gran_k", "must be positive, got \(granK)")
        let (m, n) = (x.size(0), x.size(1))
        let device = x.device
        let data = try Tensor.empty([m, n], dtype: .float8E4M3, device: device)
        let sf = try Tensor.empty([m, ceilDiv(n, granK)], dtype: .float32, device: device)
        let plan = try family.plan(x: x.layout, granK: granK, useUE8M0: useUE8M0, dataAddress: data.deviceAddress, sfAddress: sf.deviceAddress)
        if plan.launch.gridSize > 0 {
            try plan.run(describing: "per_token_cast_to_fp8 m=\(m) n=\(n) gran_k=\(granK) x=\(x.dtype) use_ue8m0=\(useUE8M0)", on: stream)
        }
        return (data, sf)
    }
}
