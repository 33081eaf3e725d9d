import DeepGEMMCore

extension CUDABackend {
    /// `fp8_mqa_logits` / `fp8_fp4_mqa_logits` with FP8 inputs on an SM90 device, for a validated
    /// `problem` whose tensors (q [S, H, D], kv [SKV, D], kv scales [SKV], weights [S, H] float32,
    /// int32 windows [S]) live on the stream's device. Allocates the logits buffer as DeepGEMM does
    /// ([align(S, 128 / H), row stride], see ``MQALogitsProblem/rowStride``), runs the logits kernel
    /// and then the clean pass, so every column outside a query's window is -inf in every mode, as
    /// on the CPU backend. Returns the [S, SKV] (or compressed [S, max_seqlen_k]) view.
    ///
    /// Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `device` off SM90, `q_sf` for FP4
    /// inputs (DeepGEMM has FP4 MQA kernels on SM100 only), `weights` for bfloat16 weights (SM100 only)
    /// and `q` for head counts or dimensions the SM90 kernel lacks.
    public static func fp8MQALogits(_ problem: MQALogitsProblem, q: Tensor, kv: Tensor, kvSF: Tensor, weights: Tensor,
                                    cuSeqLenKStart: Tensor, cuSeqLenKEnd: Tensor, options: Options = Options(),
                                    stream: CUDAStream) throws -> Tensor {
        let device = stream.device
        try requireSM90(device, what: "MQA logits")
        try requireKernel(problem.format == .fp8, "q_sf", "FP4 MQA logits have no SM90 kernel (DeepGEMM runs them on SM100 only)")
        try requireKernel(problem.weightsDType == .float32, "weights", "bfloat16 weights have no SM90 kernel (SM100 only); pass float32")
        let kernelProblem = MQALogitsKernelProblem(problem, numSMs: try numSMs(options, device))
        let family = SM90FP8MQALogitsFamily()
        _ = try family.config(for: kernelProblem)

        let buffer = try Tensor.empty([problem.bufferRows, problem.rowStride], dtype: problem.logitsDType, device: q.device)
        let logits = try buffer.narrow(dim: 0, start: 0, length: problem.seqLen).narrow(dim: 1, start: 0, length: problem.outputColumns)
        guard problem.seqLen > 0 else { return logits }
        let (ks, ke) = (cuSeqLenKStart.deviceAddress, cuSeqLenKEnd.deviceAddress)
        if problem.seqLenKV > 0 {
            let operands = SM90FP8MQALogitsFamily.Operands(q: q.layout, kv: kv.layout, kvScales: kvSF.layout, weights: weights.layout,
                                                           ks: ks, ke: ke, logits: buffer.deviceAddress)
            try family.plan(kernelProblem, operands: operands, pdl: options.pdl).run(describing: "\(kernelProblem)", on: stream)
        }
        if problem.outputColumns > 0 {
            let clean = SMXXCleanLogitsFamily().plan(.init(kernelProblem), ks: ks, ke: ke, logits: buffer.deviceAddress, pdl: options.pdl)
            try clean.run(describing: "clean \(kernelProblem)", on: stream)
        }
        return logits
    }
}
