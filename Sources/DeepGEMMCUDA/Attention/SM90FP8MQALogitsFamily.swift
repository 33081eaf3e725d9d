import DeepGEMMCore

/// The SM90 FP8 MQA logits kernel (`impls/sm90_fp8_mqa_logits.cuh`): a persistent grid of one
/// producer and four math warpgroups per SM, BLOCK_Q = 128 / H queries per block, 256 keys per KV
/// stage, three Q and three KV stages (DeepGEMM's fixed choice on SM90).
public struct SM90FP8MQALogitsFamily: CUDAKernelFamily {
    /// Creates the family.
    public init() {}

    /// `sm90_fp8_mqa_logits`.
    public var name: String { "sm90_fp8_mqa_logits" }
    /// sm_90a.
    public var architecture: CUDAArchitecture { .sm90a }

    /// (query heads x query tokens) per block, the wgmma N.
    static let blockQH = MQALogitsLayout.blockQH
    /// Keys per KV stage (four math warpgroups of 64 rows).
    static let blockKV = MQALogitsLayout.splitKV
    /// Q and KV pipeline stages.
    static let numQStages = 3, numKVStages = 3
    /// Producer and math threads.
    static let numThreads = 128 + 512

    /// The configuration for `problem`; throws naming `q` for heads or head dimensions the SM90
    /// kernel does not have.
    public func config(for problem: MQALogitsKernelProblem) throws -> TiledKernelConfig {
        try DeepGEMMError.require(problem.numHeads == 32 || problem.numHeads == 64, "q",
                                  "the SM90 MQA logits kernel needs 32 or 64 heads, got \(problem.numHeads)")
        try DeepGEMMError.require([32, 64, 128].contains(problem.headDim), "q",
                                  "the SM90 MQA logits kernel needs head_dim 32, 64 or 128, got \(problem.headDim)")
        let blockQ = Self.blockQH / problem.numHeads
        let smem = Self.sharedMemoryBytes(numHeads: problem.numHeads, headDim: problem.headDim)
        return TiledKernelConfig(blockM: Self.blockQH, blockN: Self.blockKV, blockK: problem.headDim, numStages: Self.numKVStages,
                                 numThreads: Self.numThreads, sharedMemoryBytes: smem,
                                 summary: "BLOCK_Q \(blockQ) x H \(problem.numHeads), BLOCK_KV \(Self.blockKV), D \(problem.headDim)"
                                     + (problem.isCompressed ? ", compressed" : "") + ", \(problem.outputType) logits")
    }

    /// `SM90MQALogitsSmem::total_bytes` (layout/sm90_mqa_logits.cuh): Q, KV, weight and scale
    /// stages, then two mbarriers per stage.
    static func sharedMemoryBytes(numHeads: Int, headDim: Int) -> Int {
        let qStage = blockQH * headDim, kvStage = blockKV * headDim
        return numQStages * (qStage + blockQH * 4) + numKVStages * (kvStage + blockKV * 4) + 2 * (numQStages + numKVStages) * 8
    }

    /// The selection: configuration and generated kernel.
    public func select(_ problem: MQALogitsKernelProblem) throws -> KernelSelection {
        let config = try config(for: problem)
        let mma = WGMMAInstruction(n: Self.blockQH, transposeA: false, transposeB: false, operands: .e4m3)
        let arguments = [
            "\(problem.numHeads)", "\(problem.headDim)", "\(problem.isCompressed)",
            "\(Self.blockQH / problem.numHeads)", "\(Self.blockKV)", "\(Self.numQStages)", "\(Self.numKVStages)", "\(problem.numSMs)",
            problem.outputType, "GeneratedMMA",
        ]
        let code = """
        #include <deep_gemm/impls/sm90_fp8_mqa_logits.cuh>

        \(mma.cppStruct(named: "GeneratedMMA"))

        extern "C" __global__ void __launch_bounds__(\(Self.numThreads), 1) \(CUDAKernel.entryName)(
                dg::u32 seq_len, dg::u32 seq_len_kv, dg::u32 stride_logits,
                const dg::u32* ks, const dg::u32* ke, \(problem.outputType)* logits,
                const __grid_constant__ dg::TensorMap map_q, const __grid_constant__ dg::TensorMap map_kv,
                const __grid_constant__ dg::TensorMap map_kv_scales, const __grid_constant__ dg::TensorMap map_weights) {
            dg::sm90_fp8_mqa_logits<\(arguments.joined(separator: ", "))>(
                seq_len, seq_len_kv, stride_logits, ks, ke, logits, map_q, map_kv, map_kv_scales, map_weights);
        }

        """
        return KernelSelection(family: name, config: config, source: KernelSource(name: name, code: code))
    }

    /// Where the tensors of one launch are: q [S, H, D] and kv [SKV, D] contiguous FP8, kv scales
    /// [SKV] float32, weights [S, H] float32 (rows 16-byte aligned), the int32 windows, the logits buffer.
    public struct Operands: Sendable, Equatable {
        /// q.
        public var q: StridedLayout
        /// kv.
        public var kv: StridedLayout
        /// kv scales.
        public var kvScales: StridedLayout
        /// weights.
        public var weights: StridedLayout
        /// `cu_seq_len_k_start`.
        public var ks: UInt64
        /// `cu_seq_len_k_end`.
        public var ke: UInt64
        /// The logits buffer (row 0, column 0).
        public var logits: UInt64

        /// Creates the operands of a launch.
        public init(q: StridedLayout, kv: StridedLayout, kvScales: StridedLayout, weights: StridedLayout, ks: UInt64, ke: UInt64, logits: UInt64) {
            self.q = q
            self.kv = kv
            self.kvScales = kvScales
            self.weights = weights
            self.ks = ks
            self.ke = ke
            self.logits = logits
        }
    }

    /// The launch: S, SKV and the row stride, the windows and logits pointers, then the maps of q,
    /// kv, kv scales and weights (the entry point's order); one CTA per SM, or fewer when there are
    /// fewer query blocks.
    public func plan(_ problem: MQALogitsKernelProblem, operands: Operands, pdl: Bool) throws -> KernelPlan {
        let selection = try select(problem)
        let (heads, dim) = (problem.numHeads, problem.headDim)
        let blockQ = Self.blockQH / heads
        let mapQ = try TensorMapDescription(name: "q", elementType: .byte, address: operands.q.address, rowsName: "q",
                                            innerSize: dim, outerSize: problem.seqLen * heads, outerStride: dim,
                                            boxInner: dim, boxOuter: Self.blockQH, swizzleBytes: dim)
        let mapKV = try TensorMapDescription(name: "kv", elementType: .byte, address: operands.kv.address, rowsName: "kv",
                                             innerSize: dim, outerSize: problem.seqLenKV, outerStride: dim,
                                             boxInner: dim, boxOuter: Self.blockKV, swizzleBytes: dim)
        let mapScales = try TensorMapDescription(name: "kv_sf", elementType: .float32, address: operands.kvScales.address, rowsName: "kv_sf",
                                                 innerSize: problem.seqLenKV, outerSize: 1, outerStride: problem.seqLenKV,
                                                 boxInner: Self.blockKV, boxOuter: 1, swizzleBytes: 0)
        let mapWeights = try TensorMapDescription(name: "weights", elementType: .float32, address: operands.weights.address, rowsName: "weights",
                                                  innerSize: heads, outerSize: problem.seqLen, outerStride: operands.weights.stride(0),
                                                  boxInner: heads, boxOuter: blockQ, swizzleBytes: 0)
        let arguments: [KernelArgument] = [
            .u32(UInt32(problem.seqLen)), .u32(UInt32(problem.seqLenKV)), .u32(UInt32(problem.rowStride)),
            .pointer(operands.ks), .pointer(operands.ke), .pointer(operands.logits),
            .tensorMap(mapQ), .tensorMap(mapKV), .tensorMap(mapScales), .tensorMap(mapWeights),
        ]
        let blocks = (problem.seqLen + blockQ - 1) / blockQ
        let launch = LaunchConfiguration(gridSize: min(problem.numSMs, max(blocks, 1)), blockSize: Self.numThreads,
                                         sharedMemoryBytes: selection.config.sharedMemoryBytes, clusterSize: 1, programmaticDependentLaunch: pdl)
        return KernelPlan(selection: selection, arguments: arguments, launch: launch)
    }

    /// Every SM90 head count and head dimension with full-width FP32 logits, the indexer's shape
    /// (S 4096, SKV 16384, H 64, D 128) compressed and with BF16 logits.
    public func representativeLaunches(numSMs: Int) throws -> [RepresentativeLaunch] {
        var problems: [MQALogitsKernelProblem] = []
        for heads in [32, 64] {
            for dim in [32, 64, 128] { problems.append(MQALogitsKernelProblem(seqLen: 4096, seqLenKV: 16384, numHeads: heads, headDim: dim, numSMs: numSMs)) }
        }
        problems.append(MQALogitsKernelProblem(seqLen: 4096, seqLenKV: 16384, numHeads: 64, headDim: 128, maxSeqlenK: 8192, numSMs: numSMs))
        problems.append(MQALogitsKernelProblem(seqLen: 4096, seqLenKV: 16384, numHeads: 64, headDim: 128, logitsDType: .bfloat16, numSMs: numSMs))
        return try problems.map { RepresentativeLaunch(op: "fp8_mqa_logits", label: $0.description, selection: try select($0)) }
    }
}
