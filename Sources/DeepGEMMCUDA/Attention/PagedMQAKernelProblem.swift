import DeepGEMMCore

/// What the SM90 paged MQA logits kernel is specialised on and launched with, from a validated
/// ``PagedMQALogitsProblem`` (or a representative shape).
public struct PagedMQAKernelProblem: Sendable, Hashable, CustomStringConvertible {
    /// Requests B.
    public var batchSize: Int
    /// Tokens per request (1 or 2 on SM90).
    public var nextN: Int
    /// Heads H (32 or 64 on SM90).
    public var numHeads: Int
    /// Head dimension D.
    public var headDim: Int
    /// Tokens per page (64 on SM90).
    public var blockKV: Int
    /// Pages of the cache.
    public var numBlocks: Int
    /// Columns of the logits.
    public var maxContextLen: Int
    /// float32 or bfloat16 logits.
    public var logitsDType: DType
    /// SMs of the schedule (its rows - 1), the grid size.
    public var numSMs: Int

    /// Creates a kernel problem.
    public init(batchSize: Int, nextN: Int, numHeads: Int, headDim: Int, blockKV: Int = 64, numBlocks: Int, maxContextLen: Int,
                logitsDType: DType = .float32, numSMs: Int) {
        self.batchSize = batchSize
        self.nextN = nextN
        self.numHeads = numHeads
        self.headDim = headDim
        self.blockKV = blockKV
        self.numBlocks = numBlocks
        self.maxContextLen = maxContextLen
        self.logitsDType = logitsDType
        self.numSMs = numSMs
    }

    /// The kernel problem of a validated call whose schedule has `numSMs` + 1 rows.
    public init(_ problem: PagedMQALogitsProblem, numSMs: Int) {
        self.init(batchSize: problem.batchSize, nextN: problem.nextN, numHeads: problem.numHeads, headDim: problem.headDim,
                  blockKV: problem.blockKV, numBlocks: problem.numBlocks, maxContextLen: problem.maxContextLen,
                  logitsDType: problem.logitsDType, numSMs: numSMs)
    }

    /// Row stride of the logits buffer, as DeepGEMM allocates it.
    public var rowStride: Int { MQALogitsLayout.pagedRowStride(maxContextLen: maxContextLen, dtype: logitsDType) }
    /// The kernel's C++ output type.
    var outputType: String { logitsDType == .bfloat16 ? "__nv_bfloat16" : "float" }

    /// `fp8_paged_mqa_logits B=.. next_n=.. H=.. D=.. ctx=..`.
    public var description: String {
        "fp8_paged_mqa_logits B=\(batchSize) next_n=\(nextN) H=\(numHeads) D=\(headDim) block_kv=\(blockKV) max_context_len=\(maxContextLen)"
            + (logitsDType == .bfloat16 ? " bf16" : "")
    }
}
