// SM90 paged lightning-indexer logits: for decode token t = b * next_n + n and key position j,
// logits[t, j] = scale(K_j) * sum_h relu(q[t, h] . K_j) * weights[t, h], K_j being slot j % 64 of page
// block_table[b, j / 64] of the fused FP8 cache (64 values rows, then 64 float scales, per page).
//
// Structure: every SM walks its share of the schedule (get_paged_mqa_logits_metadata) in tasks of
// one request and one split of four pages. A single producer thread loads the request's Q tile
// ([next_n * H, D]) and weights into a ring of Q stages when the request changes, and the split's
// four pages into four KV rings, one per math warpgroup. Math warpgroup g computes the [64 keys,
// next_n * H] product of page g of the split with wgmma (kv as A, q as B, K-major, D-byte swizzle),
// reduces over heads in registers (ReLU, weight, sum within the thread and across the 4 lanes of a
// key row, times the key's scale) and writes next_n logits rows. Keys past a token's context
// length get values of whatever page the split reads there; the clean pass masks them.
#pragma once

#include <deep_gemm/common/convert.cuh>
#include <deep_gemm/common/sm90_mqa_math.cuh>
#include <deep_gemm/layout/sm90_paged_mqa_logits.cuh>
#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>
#include <deep_gemm/ptx/wgmma.cuh>

namespace dg {

template <u32 kNextN, u32 kNumHeads, u32 kHeadDim, u32 BLOCK_KV, u32 kNumQStages, u32 kNumKVStages, typename OutT, typename MMA>
DG_DEVICE void sm90_fp8_paged_mqa_logits(u32 stride_logits, u32 block_table_stride,
                                         const u32* context_lens, const u32* block_table, const u32* schedule, OutT* logits,
                                         const TensorMap& map_q, const TensorMap& map_kv,
                                         const TensorMap& map_kv_scales, const TensorMap& map_weights) {
#if defined(__CUDA_ARCH__) and __CUDA_ARCH__ >= 900
    constexpr u32 kNumGroups = 4;
    constexpr u32 kNumMathThreads = 128 * kNumGroups;
    constexpr u32 WGMMA_K = 32;
    static_assert(BLOCK_KV == 64, "one page is one wgmma M");
    static_assert(MMA::N == kNextN * kNumHeads, "one wgmma spans the request's (token, head) columns");
    static_assert(kHeadDim == 32 or kHeadDim == 64 or kHeadDim == 128, "rows of D bytes are one swizzle atom");
    static_assert(kNumHeads % 8 == 0 and (kNextN == 1 or kNextN == 2), "SM90 paged logits take 1 or 2 tokens per request");
    constexpr SM90PagedMQALogitsSmem kSmem(kNextN, kNumHeads, kHeadDim, BLOCK_KV, kNumGroups, kNumQStages, kNumKVStages);
    static_assert(kSmem.q_stage_bytes % (8 * kHeadDim) == 0 and kSmem.kv_stage_bytes % (8 * kHeadDim) == 0, "stages keep swizzle atoms aligned");

    extern __shared__ __align__(1024) unsigned char smem[];
    auto q_tile = [&](u32 stage) { return smem + stage * kSmem.q_stage_bytes; };
    auto kv_tile = [&](u32 group, u32 stage) { return smem + kSmem.kv_offset + (group * kNumKVStages + stage) * kSmem.kv_stage_bytes; };
    auto weight_tile = [&](u32 stage) { return reinterpret_cast<float*>(smem + kSmem.weight_offset + stage * kSmem.weight_stage_bytes); };
    auto scale_tile = [&](u32 group, u32 stage) {
        return reinterpret_cast<float*>(smem + kSmem.scale_offset + (group * kNumKVStages + stage) * kSmem.scale_stage_bytes);
    };
    auto* barriers = reinterpret_cast<ptx::Barrier*>(smem + kSmem.barrier_offset);
    ptx::Barrier* full_q = barriers;
    ptx::Barrier* empty_q = barriers + kNumQStages;
    ptx::Barrier* full_kv = barriers + 2 * kNumQStages;                                 // [group][stage]
    ptx::Barrier* empty_kv = barriers + 2 * kNumQStages + kNumGroups * kNumKVStages;    // [group][stage]

    const u32 warp = threadIdx.x / 32;
    if (warp == kNumMathThreads / 32 and ptx::elect_one()) {
        ptx::prefetch_tensor_map(&map_q);
        ptx::prefetch_tensor_map(&map_kv);
        ptx::prefetch_tensor_map(&map_kv_scales);
        ptx::prefetch_tensor_map(&map_weights);
        for (u32 i = 0; i < kNumQStages; ++ i) {
            full_q[i].init(1);
            empty_q[i].init(kNumMathThreads);
        }
        for (u32 i = 0; i < kNumGroups * kNumKVStages; ++ i) {
            full_kv[i].init(1);
            empty_kv[i].init(128);
        }
        ptx::fence_barrier_init();
    }
    __syncthreads();
    ptx::wait_for_previous_grid();

    PagedTaskWalk walk(schedule, blockIdx.x, kNumGroups);
    walk.refresh(context_lens, kNextN, BLOCK_KV);
    if (threadIdx.x >= kNumMathThreads) {
        // Producer warpgroup: one elected thread of its first warp issues every copy
        ptx::decrease_registers<40>();
        if (warp != kNumMathThreads / 32 or not ptx::elect_one())
            return;
        u32 q_iteration = 0, kv_iteration = 0;
        bool new_request = true;
        for (; walk.has_task(); ++ kv_iteration) {
            if (new_request) {
                const u32 q_stage = q_iteration % kNumQStages;
                empty_q[q_stage].wait(((q_iteration / kNumQStages) & 1) ^ 1);
                ptx::tma_load(&map_q, &full_q[q_stage], q_tile(q_stage), 0, walk.request * kNextN * kNumHeads, 0);
                ptx::tma_load(&map_weights, &full_q[q_stage], weight_tile(q_stage), 0, walk.request * kNextN, 0);
                full_q[q_stage].arrive_expect_bytes(kSmem.q_stage_bytes + kSmem.weight_stage_bytes);
                ++ q_iteration;
            }
            const u32 kv_stage = kv_iteration % kNumKVStages;
            #pragma unroll
            for (u32 group = 0; group < kNumGroups; ++ group) {
                const u32 page = walk.page + group;
                const u32 block = page < walk.num_pages ? block_table[static_cast<u64>(walk.request) * block_table_stride + page] : 0;
                ptx::Barrier* empty = &empty_kv[group * kNumKVStages + kv_stage];
                ptx::Barrier* full = &full_kv[group * kNumKVStages + kv_stage];
                empty->wait(((kv_iteration / kNumKVStages) & 1) ^ 1);
                ptx::tma_load(&map_kv, full, kv_tile(group, kv_stage), 0, 0, block);
                ptx::tma_load(&map_kv_scales, full, scale_tile(group, kv_stage), 0, block, 0);
                full->arrive_expect_bytes(kSmem.kv_stage_bytes + kSmem.scale_stage_bytes);
            }
            new_request = walk.advance(context_lens, kNextN, BLOCK_KV, kNumGroups);
        }
        return;
    }

    // Math warpgroup g reads page g of each split; lane l of warp w holds key rows 16 (w % 4) + l / 4
    // and + 8 of the page, and heads 8 j + 2 (l % 4) + {0, 1} of each token
    ptx::increase_registers<112>();
    const u32 group = warp / 4;
    const u32 lane = ptx::lane_index();
    const u32 row0 = (warp % 4) * 16 + lane / 4;
    const u32 row1 = row0 + 8;
    constexpr u32 kAccumPerToken = kNumHeads / 2;
    static_assert(MMA::kNumAccum == kNextN * kAccumPerToken, "accumulators cover next_n tokens of H heads");
    float accum[MMA::kNumAccum];
    float weights[kNextN][kNumHeads / 4];

    u32 q_iteration = 0, kv_iteration = 0, q_stage = 0;
    bool new_request = true;
    for (; walk.has_task(); ++ kv_iteration) {
        if (new_request) {
            if (q_iteration > 0)
                empty_q[q_stage].arrive();
            q_stage = q_iteration % kNumQStages;
            full_q[q_stage].wait((q_iteration / kNumQStages) & 1);
            ++ q_iteration;
            #pragma unroll
            for (u32 i = 0; i < kNextN; ++ i) {
                #pragma unroll
                for (u32 j = 0; j < kNumHeads / 4; ++ j)
                    weights[i][j] = weight_tile(q_stage)[i * kNumHeads + (j / 2) * 8 + (lane % 4) * 2 + (j % 2)];
            }
        }
        const u32 kv_stage = kv_iteration % kNumKVStages;
        full_kv[group * kNumKVStages + kv_stage].wait((kv_iteration / kNumKVStages) & 1);
        const float scale0 = scale_tile(group, kv_stage)[row0];
        const float scale1 = scale_tile(group, kv_stage)[row1];

        const u32 a_base = ptx::shared_address(kv_tile(group, kv_stage));
        const u32 b_base = ptx::shared_address(q_tile(q_stage));
        mqa_score_tile<MMA, kHeadDim, WGMMA_K>(a_base, b_base, accum);
        empty_kv[group * kNumKVStages + kv_stage].arrive();

        const u32 key0 = (walk.page + group) * BLOCK_KV + row0;
        #pragma unroll
        for (u32 i = 0; i < kNextN; ++ i) {
            float sum0, sum1;
            reduce_heads<kNumHeads>(accum + i * kAccumPerToken, weights[i], sum0, sum1);
            if (lane % 4 != 0)
                continue;
            OutT* row = logits + static_cast<u64>(walk.request * kNextN + i) * stride_logits;
            row[key0] = from_float<OutT>(sum0 * scale0);
            row[key0 + 8] = from_float<OutT>(sum1 * scale1);
        }
        new_request = walk.advance(context_lens, kNextN, BLOCK_KV, kNumGroups);
    }
#endif
}

} // namespace dg
