import DeepGEMMCore

extension CUDABackend {
    /// `get_paged_mqa_logits_metadata` without `indices` on an SM90 device: the schedule of
    /// `batchSize` requests of `nextN` tokens whose int32 [B, next_n] `contextLens` (validated) live
    /// on the stream's device, for `numSMs` SMs. Returns int32 [num_sms + 1, 2] on the device, equal
    /// bit for bit to ``PagedMQASchedule/sm90Rows(contextLens:batchSize:nextN:indices:numSMs:)``.
    ///
    /// Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `device` off SM90, `indices`
    /// for the varlen form (DeepGEMM schedules it on SM100 only) and `context_lens` when the batch
    /// does not fit the kernel's shared memory.
    public static func pagedMQALogitsMetadata(contextLens: Tensor, numSMs: Int, hasIndices: Bool, options: Options = Options(),
                                              stream: CUDAStream) throws -> Tensor {
        try requireSM90(stream.device, what: "paged MQA schedule")
        try requireKernel(!hasIndices, "indices", "the varlen schedule has no SM90 kernel (DeepGEMM runs it on SM100 only)")
        let (batchSize, nextN) = (contextLens.size(0), contextLens.size(1))
        try requireKernel(4 * batchSize <= PagedMQASchedule.sharedMemoryCapacity, "context_lens",
                          "batch_size \(batchSize) needs \(4 * batchSize) bytes of shared memory in the SM90 metadata kernel, more than \(PagedMQASchedule.sharedMemoryCapacity)")
        let schedule = try Tensor.empty([numSMs + 1, 2], dtype: .int32, device: contextLens.device)
        let plan = SM90PagedMQAMetadataFamily().plan(batchSize: batchSize, nextN: nextN, numSMs: numSMs, contextLens: contextLens.deviceAddress,
                                                     schedule: schedule.deviceAddress, pdl: options.pdl)
        try plan.run(describing: "get_paged_mqa_logits_metadata B=\(batchSize) next_n=\(nextN) num_sms=\(numSMs)", on: stream)
        return schedule
    }

    /// `fp8_paged_mqa_logits` / `fp8_fp4_paged_mqa_logits` with FP8 inputs on an SM90 device, for a
    /// validated `problem` (without `indices`) whose tensors live on the stream's device: q [B, next_n,
    /// H, D], the fused cache [num_blocks, 64, 1, D + 4], weights [B * next_n, H] float32, context
    /// lengths, block table and the SM90 schedule of `numSMs` SMs. Allocates the logits buffer as
    /// DeepGEMM does ([B * next_n, row stride]), runs the kernel and then the clean pass, so keys at
    /// or past a token's context length are -inf, as on the CPU backend. Returns the [B * next_n,
    /// max_context_len] view.
    ///
    /// Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `device` off SM90, `q_sf` for FP4,
    /// `weights` for bfloat16 weights, `indices` for the varlen form, and the argument whose shape
    /// the SM90 kernel lacks (heads, head_dim, next_n, block_kv).
    public static func fp8PagedMQALogits(_ problem: PagedMQALogitsProblem, q: Tensor, kvCache: Tensor, weights: Tensor, contextLens: Tensor,
                                         blockTable: Tensor, scheduleMeta: Tensor, numSMs: Int, hasIndices: Bool,
                                         options: Options = Options(), stream: CUDAStream) throws -> Tensor {
        try requireSM90(stream.device, what: "paged MQA logits")
        try requireKernel(problem.format == .fp8, "q_sf", "FP4 paged MQA logits have no SM90 kernel (DeepGEMM runs them on SM100 only)")
        try requireKernel(problem.weightsDType == .float32, "weights", "bfloat16 weights have no SM90 kernel (SM100 only); pass float32")
        try requireKernel(!hasIndices, "indices", "varlen paged MQA logits have no SM90 kernel (SM100 only)")
        let kernelProblem = PagedMQAKernelProblem(problem, numSMs: numSMs)
        let family = SM90FP8PagedMQALogitsFamily()
        _ = try family.config(for: kernelProblem)

        let rows = problem.tokenCount
        let buffer = try Tensor.empty([rows, problem.rowStride], dtype: problem.logitsDType, device: q.device)
        let logits = try buffer.narrow(dim: 1, start: 0, length: problem.maxContextLen)
        guard rows > 0, problem.maxContextLen > 0 else { return logits }
        let operands = SM90FP8PagedMQALogitsFamily.Operands(
            q: q.deviceAddress, kvCache: kvCache.deviceAddress, pageStride: problem.pageStride, weights: weights.layout,
            contextLens: contextLens.deviceAddress, blockTable: blockTable.deviceAddress, blockTableStride: blockTable.stride(0),
            schedule: scheduleMeta.deviceAddress, logits: buffer.deviceAddress)
        try family.plan(kernelProblem, operands: operands, pdl: options.pdl).run(describing: "\(kernelProblem)", on: stream)
        let cleanRows = SMXXCleanLogitsFamily.Rows(count: rows, seqLenKV: problem.maxContextLen, columns: problem.maxContextLen,
                                                   rowStride: problem.rowStride, compressed: false, dtype: problem.logitsDType)
        try SMXXCleanLogitsFamily().plan(cleanRows, ks: 0, ke: contextLens.deviceAddress, logits: buffer.deviceAddress, pdl: options.pdl)
            .run(describing: "clean \(kernelProblem)", on: stream)
        return logits
    }

    /// Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `device` unless it is an SM90 device.
    static func requireSM90(_ device: CUDADevice, what: String) throws {
        try requireKernel(device.architecture == .sm90a, "device",
                          "CUDA \(what) kernels exist for sm_90a only; this device is \(device.architecture?.rawValue ?? "of another architecture")")
    }
}

/// Throws ``DeepGEMMError/unsupported(argument:rule:)`` naming `argument` unless `condition` holds.
func requireKernel(_ condition: Bool, _ argument: String, _ rule: @autoclosure () -> String) throws {
    if !condition { throw DeepGEMMError.unsupported(argument: argument, rule: rule()) }
}
