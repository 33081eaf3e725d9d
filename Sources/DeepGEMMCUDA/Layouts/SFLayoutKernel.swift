import DeepGEMMCore

/// The scale-factor layout kernels (`impls/sf_layout.cuh`), one thread per output element:
/// `pack_ue8m0_to_int`, `get_mn_major_tma_aligned_tensor`,
/// `get_mn_major_tma_aligned_packed_ue8m0_tensor` and the k-grouped packing. The packing kernels
/// report the first scale without a UE8M0 encoding through an 8-byte flag the host reads back.
/// `layout/sf_layout.cuh` holds the index arithmetic the host tests run.
public struct SFLayoutKernel: CUDAKernelFamily {
    /// `sm90_sf_layout` (also the cache entries' prefix).
    public var name: String { "sm90_sf_layout" }
    /// Plain CUDA C++, compiled for the architecture of the other SM90 kernels.
    public var architecture: CUDAArchitecture { .sm90a }
    /// Threads per CTA.
    static let threads = 256

    /// Creates the family.
    public init() {}

    /// The four kernels, with the DeepGEMM ops they serve, their parameters and their bodies.
    enum Entry: CaseIterable {
        case packUE8M0, mnMajorCopy, mnMajorPack, kGroupedPack

        /// The op the compile check lists the kernel under.
        var op: String {
            switch self {
            case .packUE8M0: "pack_ue8m0_to_int"
            case .mnMajorCopy: "get_mn_major_tma_aligned_tensor"
            case .mnMajorPack: "get_mn_major_tma_aligned_packed_ue8m0_tensor"
            case .kGroupedPack: "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor"
            }
        }

        /// The entry's parameters and its call.
        var signature: (parameters: String, call: String) {
            let batches = "const dg::u32* sf, dg::u32 batches, dg::u32 mn, dg::u32 sf_k, dg::u32 batch_stride, dg::u32 mn_stride, dg::u32 k_stride, dg::u32 row_divisor"
            let shape = "const dg::SFBatches shape{batches, mn, sf_k, batch_stride, mn_stride, k_stride, row_divisor};\n    "
            switch self {
            case .packUE8M0:
                return ("const dg::u32* sf, dg::u32 words, dg::u32* out, dg::u64* bad", "dg::pack_ue8m0(sf, words, out, bad);")
            case .mnMajorCopy:
                return ("\(batches), dg::u32* out", shape + "dg::mn_major_copy(sf, shape, out);")
            case .mnMajorPack:
                return ("\(batches), const dg::u32* ranges, dg::u32 num_ranges, dg::u32* out, dg::u64* bad",
                        shape + "dg::mn_major_pack(sf, shape, ranges, num_ranges, out, bad);")
            case .kGroupedPack:
                return ("const dg::u32* sf, dg::u32 mn, const dg::u32* rows, dg::u32 packed_rows, dg::u32* out, dg::u64* bad",
                        "dg::k_grouped_pack(sf, mn, rows, packed_rows, out, bad);")
            }
        }
    }

    /// Every kernel of the family.
    public func representativeLaunches(numSMs: Int) throws -> [RepresentativeLaunch] {
        Entry.allCases.map { RepresentativeLaunch(op: $0.op, label: $0.op, selection: selection($0)) }
    }

    /// The generated translation unit of `entry`.
    func selection(_ entry: Entry) -> KernelSelection {
        let (parameters, call) = entry.signature
        let code = """
        #include <deep_gemm/impls/sf_layout.cuh>

        extern "C" __global__ void __launch_bounds__(\(SFLayoutKernel.threads)) \(CUDAKernel.entryName)(\(parameters)) {
            \(call)
        }

        """
        let config = TiledKernelConfig(blockM: 1, blockN: SFLayoutKernel.threads, blockK: 0, numStages: 1, numThreads: SFLayoutKernel.threads,
                                       sharedMemoryBytes: 0, summary: "\(entry.op): one output element per thread")
        return KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code))
    }

    /// A plan of `entry` with one thread per element of `elements` outputs and `arguments` in the
    /// entry's order; throws naming `argument` when the grid exceeds 2^31 - 1 CTAs.
    func plan(_ entry: Entry, elements: Int, arguments: [KernelArgument], argument: String) throws -> KernelPlan {
        let blocks = ceilDiv(elements, SFLayoutKernel.threads)
        try DeepGEMMError.requireSupported(blocks < Int(Int32.max), argument, "the CUDA layout kernels launch at most 2^31 - 1 CTAs, got \(elements) outputs")
        return KernelPlan(selection: selection(entry), arguments: arguments,
                          launch: LaunchConfiguration(gridSize: blocks, blockSize: SFLayoutKernel.threads, sharedMemoryBytes: 0, clusterSize: 1,
                                                      programmaticDependentLaunch: false))
    }

    /// `value` as a 32-bit kernel parameter; throws naming `argument` when it does not fit.
    static func u32(_ value: Int, _ argument: String) throws -> KernelArgument {
        try DeepGEMMError.requireSupported(value >= 0 && value <= Int(UInt32.max), argument,
                                           "the CUDA layout kernels take sizes and strides in [0, 2^32), got \(value)")
        return .u32(UInt32(value))
    }

    /// The `dg::SFBatches` parameters of `rows`, in the entries' order.
    static func batchArguments(_ rows: ScaleFactorBatches) throws -> [KernelArgument] {
        try [.pointer(rows.tensor.deviceAddress)]
            + [rows.batches, rows.mn, rows.sfK, rows.batchStride, rows.mnStride, rows.kStride, rows.rowDivisor].map { try u32($0, "sf") }
    }
}
