import DeepGEMM

/// Lightning-indexer MQA logits ops (spec §12): prefill, paged, and the paged schedule metadata.
let attentionOps: [OpDefinition] = []
