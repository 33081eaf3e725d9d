import DeepGEMMCUDA

/// DeepGEMM's `get_paged_mqa_logits_metadata(context_lens, block_kv, num_sms, indices=None)`
/// (spec §12.2): the per-SM work schedule of the paged indexer, int32 [num_sms + 1, 2].
///
/// `contextLens` int32 [batch_size, next_n] (2-D, contiguous); `blockKV` 32 or 64 (64 under SM90);
/// varlen `indices` int32 [batch_size] with next_n == 1 (SM100). The rows are those of
/// `settings.arch`'s metadata kernel (``PagedMQASchedule``). `numSMs` must be the value later
/// given to ``fp8FP4PagedMQALogits(q:kvCache:weights:contextLens:blockTable:scheduleMeta:maxContextLen:cleanLogits:logitsDType:indices:numSMs:settings:strictArch:)``
/// (DeepGEMM's `get_num_sms()`); the CPU default is ``PagedMQASchedule/defaultNumSMs`` (132).
/// `strictArch` applies exactly `settings.arch`'s rules instead of the union of SM90 and SM100.
///
/// Runs where the tensors are (``Placement``): on an SM90 device the schedule kernel computes the
/// SM90 rows on the current stream (the arguments are first checked on a host copy of
/// `contextLens`; `indices` throws ``DeepGEMMError/unsupported(argument:rule:)``, as DeepGEMM has
/// no SM90 varlen schedule), and the device's architecture stands for `settings.arch`.
public func getPagedMQALogitsMetadata(
    contextLens: Tensor, blockKV: Int, numSMs: Int = PagedMQASchedule.defaultNumSMs, indices: Tensor? = nil,
    settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws -> Tensor {
    let placement = try Placement([("context_lens", contextLens), ("indices", indices)])
    let schedule = try PagedMQASchedule.metadata(contextLens: placement.readable(contextLens)!, blockKV: blockKV, numSMs: numSMs,
                                                 indices: placement.readable(indices), settings: placement.rules(settings), strictArch: strictArch)
    guard case .cuda(let stream) = placement else { return schedule }
    return try CUDABackend.pagedMQALogitsMetadata(contextLens: contextLens, numSMs: numSMs, hasIndices: indices != nil, stream: stream)
}
