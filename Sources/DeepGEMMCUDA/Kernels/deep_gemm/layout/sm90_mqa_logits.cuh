// Arithmetic of the SM90 FP8 MQA logits kernel, shared by the kernel and the host tests: the
// shared-memory layout of its pipelines and the work split (which query blocks a CTA takes and which
// key tokens one query block loads).
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

/// Byte offsets of the shared-memory regions: the Q stages ([BLOCK_Q * H, D] FP8 tiles), the KV
/// stages ([BLOCK_KV, D] FP8 tiles), the weight stages ([BLOCK_Q, H] floats), the KV scale stages
/// ([BLOCK_KV] floats) and the mbarriers (full and empty per Q stage, then per KV stage).
struct SM90MQALogitsSmem {
    u32 q_stage_bytes, kv_stage_bytes, weight_stage_bytes, scale_stage_bytes;
    u32 q_offset, kv_offset, weight_offset, scale_offset, barrier_offset, total_bytes;

    constexpr SM90MQALogitsSmem(u32 num_heads, u32 head_dim, u32 block_q, u32 block_kv, u32 num_q_stages, u32 num_kv_stages)
        : q_stage_bytes(block_q * num_heads * head_dim),
          kv_stage_bytes(block_kv * head_dim),
          weight_stage_bytes(block_q * num_heads * 4),
          scale_stage_bytes(block_kv * 4),
          q_offset(0),
          kv_offset(num_q_stages * block_q * num_heads * head_dim),
          weight_offset(kv_offset + num_kv_stages * block_kv * head_dim),
          scale_offset(weight_offset + num_q_stages * block_q * num_heads * 4),
          barrier_offset(scale_offset + num_kv_stages * block_kv * 4),
          total_bytes(barrier_offset + 2 * (num_q_stages + num_kv_stages) * 8) {}
};

/// The key tokens one query block loads: the union of its queries' windows clamped to `seq_len_kv`,
/// its start rounded down to a multiple of 4 (16 bytes of float scales, TMA's alignment), in whole
/// blocks of `block_kv`. Queries past `seq_len` (the padding rows of the last block) use the last
/// query's window.
struct MQAKeySpan {
    u32 start;
    u32 num_blocks;
};

DG_HOST_DEVICE MQAKeySpan mqa_key_span(const u32* ks, const u32* ke, u32 block_q_index, u32 block_q, u32 seq_len, u32 seq_len_kv,
                                       u32 block_kv) {
    u32 start = 0xFFFFFFFFu, end = 0;
    for (u32 i = 0; i < block_q; ++ i) {
        const u32 query = min_of(block_q_index * block_q + i, seq_len - 1);
        start = min_of(start, min_of(ks[query], seq_len_kv));
        end = max_of(end, min_of(ke[query], seq_len_kv));
    }
    start = start / 4 * 4;
    return {start, end > start ? ceil_div(end - start, block_kv) : 0};
}

} // namespace dg
