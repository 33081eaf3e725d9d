import DeepGEMMCore

/// The clean pass of the MQA logits (`impls/smxx_clean_logits.cuh`): -inf outside each row's key
/// window, one CTA of 256 threads per row. Compiled for sm_90a here; the kernel itself uses
/// nothing architecture-specific.
public struct SMXXCleanLogitsFamily: CUDAKernelFamily {
    /// Creates the family.
    public init() {}

    /// `smxx_clean_logits`.
    public var name: String { "smxx_clean_logits" }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }

    /// Threads per CTA.
    static let numThreads = 256

    /// The logits rows one launch cleans.
    public struct Rows: Sendable, Equatable {
        /// Rows (queries, or decode tokens).
        public var count: Int
        /// Keys the windows are clamped to (SKV, or max_context_len).
        public var seqLenKV: Int
        /// Columns of each row.
        public var columns: Int
        /// Elements between rows.
        public var rowStride: Int
        /// Compressed rows (column t is key ks + t).
        public var compressed: Bool
        /// float32 or bfloat16.
        public var dtype: DType

        /// Describes the rows of one launch.
        public init(count: Int, seqLenKV: Int, columns: Int, rowStride: Int, compressed: Bool, dtype: DType) {
            self.count = count
            self.seqLenKV = seqLenKV
            self.columns = columns
            self.rowStride = rowStride
            self.compressed = compressed
            self.dtype = dtype
        }

        /// The rows of a prefill call.
        init(_ problem: MQALogitsKernelProblem) {
            self.init(count: problem.seqLen, seqLenKV: problem.seqLenKV, columns: problem.outputColumns, rowStride: problem.rowStride,
                      compressed: problem.isCompressed, dtype: problem.logitsDType)
        }
    }

    /// The selection for an output mode and type.
    public func select(compressed: Bool, dtype: DType) -> KernelSelection {
        let outputType = dtype == .bfloat16 ? "__nv_bfloat16" : "float"
        let config = TiledKernelConfig(blockM: 1, blockN: Self.numThreads, blockK: 0, numStages: 1, numThreads: Self.numThreads, sharedMemoryBytes: 0,
                                       summary: "one row per CTA" + (compressed ? ", compressed" : "") + ", \(outputType) logits")
        let code = """
        #include <deep_gemm/impls/smxx_clean_logits.cuh>

        extern "C" __global__ void __launch_bounds__(\(Self.numThreads), 1) \(CUDAKernel.entryName)(
                dg::u32 seq_len_kv, dg::u32 num_columns, dg::u32 stride_logits,
                const dg::u32* ks, const dg::u32* ke, \(outputType)* logits) {
            dg::smxx_clean_logits<\(compressed), \(Self.numThreads), \(outputType)>(
                seq_len_kv, num_columns, stride_logits, ks, ke, logits);
        }

        """
        return KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code))
    }

    /// The launch over `rows` of a logits buffer at `logits`, windows from `ks` (0: from key 0) and `ke`.
    public func plan(_ rows: Rows, ks: UInt64, ke: UInt64, logits: UInt64, pdl: Bool) -> KernelPlan {
        let arguments: [KernelArgument] = [
            .u32(UInt32(rows.seqLenKV)), .u32(UInt32(rows.columns)), .u32(UInt32(rows.rowStride)),
            .pointer(ks), .pointer(ke), .pointer(logits),
        ]
        let launch = LaunchConfiguration(gridSize: rows.count, blockSize: Self.numThreads, sharedMemoryBytes: 0, clusterSize: 1,
                                         programmaticDependentLaunch: pdl)
        return KernelPlan(selection: select(compressed: rows.compressed, dtype: rows.dtype), arguments: arguments, launch: launch)
    }

    /// Both output modes and types.
    public func representativeLaunches(numSMs: Int) -> [RepresentativeLaunch] {
        [(false, DType.float32), (true, .float32), (false, .bfloat16), (true, .bfloat16)].map { compressed, dtype in
            RepresentativeLaunch(op: "fp8_mqa_logits", label: "clean_logits" + (compressed ? " compressed" : "") + " \(dtype)",
                                 selection: select(compressed: compressed, dtype: dtype))
        }
    }
}
