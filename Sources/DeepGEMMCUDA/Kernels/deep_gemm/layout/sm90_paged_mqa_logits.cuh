// Arithmetic of the SM90 paged MQA logits kernel, shared by the kernel and the host tests: the
// shared-memory layout (Q stages, one KV ring per math warpgroup, weight and scale stages,
// mbarriers) and the walk of one SM over its share of the schedule.
#pragma once

#include <deep_gemm/scheduler/sm90_paged_mqa_schedule.cuh>

namespace dg {

/// Byte offsets of the shared-memory regions: Q stages ([next_n * H, D] FP8), then for each of the
/// `num_groups` KV rings its stages ([block_kv, D] FP8), the weight stages ([next_n, H] floats),
/// the scale stages (ring-major, [block_kv] floats each), and the mbarriers (full and empty per Q
/// stage, then full and empty per stage of each ring).
struct SM90PagedMQALogitsSmem {
    u32 q_stage_bytes, kv_stage_bytes, weight_stage_bytes, scale_stage_bytes;
    u32 kv_offset, weight_offset, scale_offset, barrier_offset, total_bytes;

    constexpr SM90PagedMQALogitsSmem(u32 next_n, u32 num_heads, u32 head_dim, u32 block_kv, u32 num_groups, u32 num_q_stages, u32 num_kv_stages)
        : q_stage_bytes(next_n * num_heads * head_dim),
          kv_stage_bytes(block_kv * head_dim),
          weight_stage_bytes(next_n * num_heads * 4),
          scale_stage_bytes(block_kv * 4),
          kv_offset(num_q_stages * next_n * num_heads * head_dim),
          weight_offset(kv_offset + num_groups * num_kv_stages * block_kv * head_dim),
          scale_offset(weight_offset + num_q_stages * next_n * num_heads * 4),
          barrier_offset(scale_offset + num_groups * num_kv_stages * block_kv * 4),
          total_bytes(barrier_offset + 2 * (num_q_stages + num_groups * num_kv_stages) * 8) {}
};

/// One SM's walk over its schedule rows: tasks are (request, split) pairs, a split being
/// `blocks_per_split` pages of the request (one per math warpgroup), from row `sm` (inclusive) to
/// row `sm + 1` (exclusive) of the metadata, in request order. A request has
/// ceil(context_lens[request, next_n - 1] / block_kv) pages; a request without pages still takes
/// one task when the walk passes it (its logits row is masked afterwards), as the schedule rows
/// skip such requests only at SM boundaries.
struct PagedTaskWalk {
    u32 request, page, end_request, end_page, num_pages;

    DG_HOST_DEVICE PagedTaskWalk(const u32* schedule, u32 sm, u32 blocks_per_split)
        : request(schedule[2 * sm]), page(schedule[2 * sm + 1] * blocks_per_split),
          end_request(schedule[2 * sm + 2]), end_page(schedule[2 * sm + 3] * blocks_per_split), num_pages(0) {}

    /// Pages of `request`, from its last token's context length.
    DG_HOST_DEVICE static u32 pages_of(const u32* context_lens, u32 next_n, u32 block_kv, u32 request) {
        return ceil_div(context_lens[request * next_n + next_n - 1], block_kv);
    }

    /// Whether a task remains; call `refresh` once first and after every `advance`.
    DG_HOST_DEVICE bool has_task() const {
        return request < end_request or (request == end_request and page < end_page);
    }

    DG_HOST_DEVICE void refresh(const u32* context_lens, u32 next_n, u32 block_kv) {
        if (has_task())
            num_pages = pages_of(context_lens, next_n, block_kv, request);
    }

    /// Moves to the next split, or the next request's first split; returns whether the request changed.
    DG_HOST_DEVICE bool advance(const u32* context_lens, u32 next_n, u32 block_kv, u32 blocks_per_split) {
        page += blocks_per_split;
        if (page < num_pages)
            return false;
        page = 0;
        ++ request;
        refresh(context_lens, next_n, block_kv);
        return true;
    }
};

} // namespace dg
