import DeepGEMMCore

/// What the SM90 MQA logits kernels are specialised on and launched with, from a validated
/// ``MQALogitsProblem`` (or a representative shape): sizes, output mode and type, and the SMs.
public struct MQALogitsKernelProblem: Sendable, Hashable, CustomStringConvertible {
    /// Query tokens S.
    public var seqLen: Int
    /// Key tokens SKV.
    public var seqLenKV: Int
    /// Heads H (32 or 64 on SM90).
    public var numHeads: Int
    /// Head dimension D (32, 64 or 128).
    public var headDim: Int
    /// 0 for full-width logits, else the compressed row length.
    public var maxSeqlenK: Int
    /// float32 or bfloat16 logits.
    public var logitsDType: DType
    /// SMs of the persistent grid.
    public var numSMs: Int

    /// Creates a kernel problem.
    public init(seqLen: Int, seqLenKV: Int, numHeads: Int, headDim: Int, maxSeqlenK: Int = 0, logitsDType: DType = .float32, numSMs: Int) {
        self.seqLen = seqLen
        self.seqLenKV = seqLenKV
        self.numHeads = numHeads
        self.headDim = headDim
        self.maxSeqlenK = maxSeqlenK
        self.logitsDType = logitsDType
        self.numSMs = numSMs
    }

    /// The kernel problem of a validated call on a device with `numSMs` SMs.
    public init(_ problem: MQALogitsProblem, numSMs: Int) {
        self.init(seqLen: problem.seqLen, seqLenKV: problem.seqLenKV, numHeads: problem.numHeads, headDim: problem.headDim,
                  maxSeqlenK: problem.maxSeqlenK, logitsDType: problem.logitsDType, numSMs: numSMs)
    }

    /// True for compressed logits.
    public var isCompressed: Bool { maxSeqlenK > 0 }
    /// Columns of the logits view.
    public var outputColumns: Int { isCompressed ? maxSeqlenK : seqLenKV }
    /// Row stride of the logits buffer, as DeepGEMM allocates it.
    public var rowStride: Int {
        isCompressed ? MQALogitsLayout.compressedRowStride(maxSeqlenK: maxSeqlenK, dtype: logitsDType)
            : MQALogitsLayout.rowStride(seqLenKV: seqLenKV, dtype: logitsDType)
    }
    /// The kernels' C++ output type.
    var outputType: String { logitsDType == .bfloat16 ? "__nv_bfloat16" : "float" }

    /// `fp8_mqa_logits S=.. SKV=.. H=.. D=..` and the output mode and type.
    public var description: String {
        "fp8_mqa_logits S=\(seqLen) SKV=\(seqLenKV) H=\(numHeads) D=\(headDim)"
            + (isCompressed ? " max_seqlen_k=\(maxSeqlenK)" : "") + (logitsDType == .bfloat16 ? " bf16" : "")
    }
}
