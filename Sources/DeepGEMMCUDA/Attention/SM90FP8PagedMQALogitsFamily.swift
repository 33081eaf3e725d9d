import DeepGEMMCore

/// The SM90 FP8 paged MQA logits kernel (`impls/sm90_fp8_paged_mqa_logits.cuh`): one producer and
/// four math warpgroups per SM, a task being one request and a split of four 64-token pages (one per
/// math warpgroup), three Q and three KV stages per ring (DeepGEMM's fixed choice on SM90).
public struct SM90FP8PagedMQALogitsFamily: CUDAKernelFamily {
    /// Creates the family.
    public init() {}

    /// `sm90_fp8_paged_mqa_logits`.
    public var name: String { "sm90_fp8_paged_mqa_logits" }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }

    /// Math warpgroups, each reading one page of a split.
    static let numGroups = 4
    /// Q and KV pipeline stages.
    static let numQStages = 3, numKVStages = 3
    /// Producer and math threads.
    static let numThreads = 128 + 128 * numGroups

    /// The configuration for `problem`; throws naming the argument for shapes the SM90 kernel lacks.
    public func config(for problem: PagedMQAKernelProblem) throws -> TiledKernelConfig {
        try DeepGEMMError.require(problem.numHeads == 32 || problem.numHeads == 64, "q",
                                  "the SM90 paged MQA logits kernel needs 32 or 64 heads, got \(problem.numHeads)")
        try DeepGEMMError.require([32, 64, 128].contains(problem.headDim), "q",
                                  "the SM90 paged MQA logits kernel needs head_dim 32, 64 or 128, got \(problem.headDim)")
        try DeepGEMMError.require(problem.nextN == 1 || problem.nextN == 2, "q", "the SM90 paged MQA logits kernel needs next_n 1 or 2, got \(problem.nextN)")
        try DeepGEMMError.require(problem.blockKV == 64, "kv_cache", "the SM90 paged MQA logits kernel needs block_kv 64, got \(problem.blockKV)")
        let columns = problem.nextN * problem.numHeads
        return TiledKernelConfig(blockM: columns, blockN: problem.blockKV * Self.numGroups, blockK: problem.headDim, numStages: Self.numKVStages,
                                 numThreads: Self.numThreads, sharedMemoryBytes: Self.sharedMemoryBytes(columns: columns, headDim: problem.headDim),
                                 summary: "next_n \(problem.nextN) x H \(problem.numHeads), 4 pages of \(problem.blockKV), D \(problem.headDim), "
                                     + "\(problem.outputType) logits")
    }

    /// `SM90PagedMQALogitsSmem::total_bytes` (layout/sm90_paged_mqa_logits.cuh) for `columns` =
    /// next_n * H and 64-token pages.
    static func sharedMemoryBytes(columns: Int, headDim: Int) -> Int {
        let rings = numGroups * numKVStages
        return numQStages * (columns * headDim + columns * 4) + rings * (64 * headDim + 64 * 4) + 2 * (numQStages + rings) * 8
    }

    /// The selection: configuration and generated kernel.
    public func select(_ problem: PagedMQAKernelProblem) throws -> KernelSelection {
        let config = try config(for: problem)
        let mma = WGMMAInstruction(n: problem.nextN * problem.numHeads, transposeA: false, transposeB: false, operands: .e4m3)
        let arguments = [
            "\(problem.nextN)", "\(problem.numHeads)", "\(problem.headDim)", "\(problem.blockKV)", "\(Self.numQStages)", "\(Self.numKVStages)",
            problem.outputType, "GeneratedMMA",
        ]
        let code = """
        #include <deep_gemm/impls/sm90_fp8_paged_mqa_logits.cuh>

        \(mma.cppStruct(named: "GeneratedMMA"))

        extern "C" __global__ void __launch_bounds__(\(Self.numThreads), 1) \(CUDAKernel.entryName)(
                dg::u32 stride_logits, dg::u32 block_table_stride, const dg::u32* context_lens, const dg::u32* block_table,
                const dg::u32* schedule, \(problem.outputType)* logits,
                const __grid_constant__ dg::TensorMap map_q, const __grid_constant__ dg::TensorMap map_kv,
                const __grid_constant__ dg::TensorMap map_kv_scales, const __grid_constant__ dg::TensorMap map_weights) {
            dg::sm90_fp8_paged_mqa_logits<\(arguments.joined(separator: ", "))>(
                stride_logits, block_table_stride, context_lens, block_table, schedule, logits, map_q, map_kv, map_kv_scales, map_weights);
        }

        """
        return KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code))
    }

    /// Where the tensors of one launch are: q [B, next_n, H, D] contiguous FP8; the fused cache's
    /// first byte and page stride (bytes); weights [B * next_n, H] float32; context lengths, block
    /// table (and its row stride), schedule and logits buffer pointers.
    public struct Operands: Sendable, Equatable {
        /// q.
        public var q: UInt64
        /// The fused cache: page p's values at `kvCache + p * pageStride`, its scales `64 * D` bytes later.
        public var kvCache: UInt64
        /// Bytes between pages.
        public var pageStride: Int
        /// weights.
        public var weights: StridedLayout
        /// `context_lens`.
        public var contextLens: UInt64
        /// `block_table`.
        public var blockTable: UInt64
        /// Elements between block-table rows.
        public var blockTableStride: Int
        /// `schedule_meta`.
        public var schedule: UInt64
        /// The logits buffer (row 0, column 0).
        public var logits: UInt64

        /// Creates the operands of a launch.
        public init(q: UInt64, kvCache: UInt64, pageStride: Int, weights: StridedLayout, contextLens: UInt64, blockTable: UInt64,
                    blockTableStride: Int, schedule: UInt64, logits: UInt64) {
            self.q = q
            self.kvCache = kvCache
            self.pageStride = pageStride
            self.weights = weights
            self.contextLens = contextLens
            self.blockTable = blockTable
            self.blockTableStride = blockTableStride
            self.schedule = schedule
            self.logits = logits
        }
    }

    /// The launch: row strides, the context lengths, block table, schedule and logits pointers, then
    /// the maps of q, the cache's values and scales, and the weights; one CTA per schedule row.
    public func plan(_ problem: PagedMQAKernelProblem, operands: Operands, pdl: Bool) throws -> KernelPlan {
        let selection = try select(problem)
        let (heads, dim, page) = (problem.numHeads, problem.headDim, problem.blockKV)
        let columns = problem.nextN * heads
        let mapQ = try TensorMapDescription(name: "q", elementType: .byte, address: operands.q, rowsName: "q",
                                            innerSize: dim, outerSize: problem.batchSize * columns, outerStride: dim,
                                            boxInner: dim, boxOuter: columns, swizzleBytes: dim)
        let mapKV = try TensorMapDescription(name: "kv_cache", elementType: .byte, address: operands.kvCache, rowsName: "kv_cache",
                                             innerSize: dim, outerSize: page, outerStride: dim, groups: problem.numBlocks,
                                             groupStride: operands.pageStride, boxInner: dim, boxOuter: page, swizzleBytes: dim)
        let mapScales = try TensorMapDescription(name: "kv_cache", elementType: .float32, address: operands.kvCache + UInt64(page * dim),
                                                 rowsName: "kv_cache scale", innerSize: page, outerSize: problem.numBlocks,
                                                 outerStride: operands.pageStride / 4, boxInner: page, boxOuter: 1, swizzleBytes: 0)
        let mapWeights = try TensorMapDescription(name: "weights", elementType: .float32, address: operands.weights.address, rowsName: "weights",
                                                  innerSize: heads, outerSize: problem.batchSize * problem.nextN, outerStride: operands.weights.stride(0),
                                                  boxInner: heads, boxOuter: problem.nextN, swizzleBytes: 0)
        let arguments: [KernelArgument] = [
            .u32(UInt32(problem.rowStride)), .u32(UInt32(operands.blockTableStride)),
            .pointer(operands.contextLens), .pointer(operands.blockTable), .pointer(operands.schedule), .pointer(operands.logits),
            .tensorMap(mapQ), .tensorMap(mapKV), .tensorMap(mapScales), .tensorMap(mapWeights),
        ]
        let launch = LaunchConfiguration(gridSize: problem.numSMs, blockSize: Self.numThreads, sharedMemoryBytes: selection.config.sharedMemoryBytes,
                                         clusterSize: 1, programmaticDependentLaunch: pdl)
        return KernelPlan(selection: selection, arguments: arguments, launch: launch)
    }

    /// next_n 1 and 2 with both head counts at D 128 (DeepGEMM's decode shapes), D 64, and BF16 logits.
    public func representativeLaunches(numSMs: Int) throws -> [RepresentativeLaunch] {
        var problems: [PagedMQAKernelProblem] = []
        for nextN in [1, 2] {
            for heads in [32, 64] {
                problems.append(PagedMQAKernelProblem(batchSize: 64, nextN: nextN, numHeads: heads, headDim: 128, numBlocks: 4096,
                                                      maxContextLen: 32768, numSMs: numSMs))
            }
        }
        problems.append(PagedMQAKernelProblem(batchSize: 64, nextN: 2, numHeads: 64, headDim: 64, numBlocks: 4096, maxContextLen: 32768, numSMs: numSMs))
        problems.append(PagedMQAKernelProblem(batchSize: 64, nextN: 2, numHeads: 64, headDim: 128, numBlocks: 4096, maxContextLen: 32768,
                                              logitsDType: .bfloat16, numSMs: numSMs))
        return try problems.map { RepresentativeLaunch(op: "fp8_paged_mqa_logits", label: $0.description, selection: try select($0)) }
    }
}
