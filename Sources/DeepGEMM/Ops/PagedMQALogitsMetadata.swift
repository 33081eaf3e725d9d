/// DeepGEMM's `get_paged_mqa_logits_metadata(context_lens, block_kv, num_sms, indices=None)`
/// (spec §12.2): the per-SM work schedule of the paged indexer, int32 [num_sms + 1, 2].
///
/// `contextLens` int32 [batch_size, next_n] (2-D, contiguous); `blockKV` 32 or 64 (64 under SM90);
/// varlen `indices` int32 [batch_size] with next_n == 1 (SM100). The rows are those of
/// `settings.arch`'s metadata kernel (``PagedMQASchedule``). `numSMs` must be the value later
/// given to ``fp8FP4PagedMQALogits(q:kvCache:weights:contextLens:blockTable:scheduleMeta:maxContextLen:cleanLogits:logitsDType:indices:numSMs:settings:strictArch:)``
/// (DeepGEMM's `get_num_sms()`); the CPU default is ``PagedMQASchedule/defaultNumSMs`` (132).
/// `strictArch` applies exactly `settings.arch`'s rules instead of the union of SM90 and SM100.
public func getPagedMQALogitsMetadata(
    contextLens: Tensor, blockKV: Int, numSMs: Int = PagedMQASchedule.defaultNumSMs, indices: Tensor? = nil,
    settings: DeepGEMMSettings = .default, strictArch: Bool = false
) throws -> Tensor {
    try PagedMQASchedule.metadata(contextLens: contextLens, blockKV: blockKV, numSMs: numSMs, indices: indices,
                                  settings: settings, strictArch: strictArch)
}
