// SM90 lightning-indexer logits: logits[i, j] = kv_scale[j] * sum_h relu(q[i, h] . kv[j]) * weights[i, h]
// with FP8 E4M3 q [S, H, D] and kv [SKV, D], FP32 accumulation.
//
// Structure: a persistent grid walks query blocks of BLOCK_Q tokens (BLOCK_Q * H = 128 wgmma columns).
// One producer warpgroup (a single elected thread) streams each block's Q tile and weights through a
// ring of Q stages, and the KV tiles and scales of the block's key span (the union of its windows)
// through a ring of KV stages, every stage guarded by full/empty mbarriers. Four math warpgroups each
// compute a [64 keys, BLOCK_Q * H] product per KV stage with wgmma (kv as A, q as B, both K-major
// tiles TMA wrote with a D-byte swizzle), then reduce over heads in registers: ReLU, times the head's
// weight, summed inside the thread and across the four lanes that hold one key row, times the key's
// scale. Full-width logits are written for every key of the span (the clean pass masks the rest);
// compressed logits only inside each query's window, at column j - ks.
#pragma once

#include <deep_gemm/common/convert.cuh>
#include <deep_gemm/common/sm90_mqa_math.cuh>
#include <deep_gemm/layout/sm90_mqa_logits.cuh>
#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>
#include <deep_gemm/ptx/wgmma.cuh>

namespace dg {

template <u32 kNumHeads, u32 kHeadDim, bool kCompressed,
          u32 BLOCK_Q, u32 BLOCK_KV, u32 kNumQStages, u32 kNumKVStages, u32 kNumSMs,
          typename OutT, typename MMA>
DG_DEVICE void sm90_fp8_mqa_logits(u32 seq_len, u32 seq_len_kv, u32 stride_logits,
                                   const u32* ks, const u32* ke, OutT* logits,
                                   const TensorMap& map_q, const TensorMap& map_kv,
                                   const TensorMap& map_kv_scales, const TensorMap& map_weights) {
#if defined(__CUDA_ARCH__) and __CUDA_ARCH__ >= 900
    constexpr u32 kNumMathThreads = 512;
    constexpr u32 WGMMA_M = 64;
    constexpr u32 WGMMA_K = 32;
    static_assert(BLOCK_Q * kNumHeads == 128 and MMA::N == 128, "one wgmma spans the block's 128 (query, head) columns");
    static_assert(BLOCK_KV == WGMMA_M * (kNumMathThreads / 128), "each math warpgroup owns 64 keys of a KV stage");
    static_assert(kHeadDim == 32 or kHeadDim == 64 or kHeadDim == 128, "rows of D bytes are one swizzle atom");
    static_assert(kNumHeads % 8 == 0, "heads come in groups of 8 accumulator columns");
    constexpr SM90MQALogitsSmem kSmem(kNumHeads, kHeadDim, BLOCK_Q, BLOCK_KV, kNumQStages, kNumKVStages);
    static_assert(kSmem.q_stage_bytes % (8 * kHeadDim) == 0 and kSmem.kv_stage_bytes % (8 * kHeadDim) == 0, "stages keep swizzle atoms aligned");

    extern __shared__ __align__(1024) unsigned char smem[];
    auto q_tile = [&](u32 stage) { return smem + kSmem.q_offset + stage * kSmem.q_stage_bytes; };
    auto kv_tile = [&](u32 stage) { return smem + kSmem.kv_offset + stage * kSmem.kv_stage_bytes; };
    auto weight_tile = [&](u32 stage) { return reinterpret_cast<float*>(smem + kSmem.weight_offset + stage * kSmem.weight_stage_bytes); };
    auto scale_tile = [&](u32 stage) { return reinterpret_cast<float*>(smem + kSmem.scale_offset + stage * kSmem.scale_stage_bytes); };
    auto* barriers = reinterpret_cast<ptx::Barrier*>(smem + kSmem.barrier_offset);
    ptx::Barrier* full_q = barriers;
    ptx::Barrier* empty_q = barriers + kNumQStages;
    ptx::Barrier* full_kv = barriers + 2 * kNumQStages;
    ptx::Barrier* empty_kv = barriers + 2 * kNumQStages + kNumKVStages;

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
        for (u32 i = 0; i < kNumKVStages; ++ i) {
            full_kv[i].init(1);
            empty_kv[i].init(kNumMathThreads);
        }
        ptx::fence_barrier_init();
    }
    __syncthreads();
    ptx::wait_for_previous_grid();

    const u32 num_q_blocks = ceil_div(seq_len, BLOCK_Q);
    if (threadIdx.x >= kNumMathThreads) {
        // Producer warpgroup: one elected thread of its first warp issues every copy
        ptx::decrease_registers<40>();
        if (warp != kNumMathThreads / 32 or not ptx::elect_one())
            return;
        u32 q_iteration = 0, kv_iteration = 0;
        for (u32 block = blockIdx.x; block < num_q_blocks; block += kNumSMs, ++ q_iteration) {
            const u32 q_stage = q_iteration % kNumQStages;
            empty_q[q_stage].wait(((q_iteration / kNumQStages) & 1) ^ 1);
            ptx::tma_load(&map_q, &full_q[q_stage], q_tile(q_stage), 0, block * BLOCK_Q * kNumHeads, 0);
            ptx::tma_load(&map_weights, &full_q[q_stage], weight_tile(q_stage), 0, block * BLOCK_Q, 0);
            full_q[q_stage].arrive_expect_bytes(kSmem.q_stage_bytes + kSmem.weight_stage_bytes);

            const MQAKeySpan span = mqa_key_span(ks, ke, block, BLOCK_Q, seq_len, seq_len_kv, BLOCK_KV);
            for (u32 i = 0; i < span.num_blocks; ++ i, ++ kv_iteration) {
                const u32 kv_stage = kv_iteration % kNumKVStages;
                empty_kv[kv_stage].wait(((kv_iteration / kNumKVStages) & 1) ^ 1);
                const u32 key = span.start + i * BLOCK_KV;
                ptx::tma_load(&map_kv, &full_kv[kv_stage], kv_tile(kv_stage), 0, key, 0);
                ptx::tma_load(&map_kv_scales, &full_kv[kv_stage], scale_tile(kv_stage), key, 0, 0);
                full_kv[kv_stage].arrive_expect_bytes(kSmem.kv_stage_bytes + kSmem.scale_stage_bytes);
            }
        }
        return;
    }

    // Math warpgroups: warpgroup g owns keys [64 g, 64 g + 64) of each KV stage; in a warp, lane l holds
    // key rows 16 (warp % 4) + l / 4 and + 8, and heads 8 j + 2 (l % 4) + {0, 1} of every query
    ptx::increase_registers<112>();
    const u32 warpgroup = warp / 4;
    const u32 lane = ptx::lane_index();
    const u32 row0 = warpgroup * WGMMA_M + (warp % 4) * 16 + lane / 4;
    const u32 row1 = row0 + 8;
    constexpr u32 kAccumPerQuery = kNumHeads / 2;
    static_assert(MMA::kNumAccum == BLOCK_Q * kAccumPerQuery, "accumulators cover BLOCK_Q queries of H heads");
    float accum[MMA::kNumAccum];
    float weights[BLOCK_Q][kNumHeads / 4];

    u32 q_iteration = 0, kv_iteration = 0;
    for (u32 block = blockIdx.x; block < num_q_blocks; block += kNumSMs, ++ q_iteration) {
        const u32 q_stage = q_iteration % kNumQStages;
        full_q[q_stage].wait((q_iteration / kNumQStages) & 1);
        #pragma unroll
        for (u32 i = 0; i < BLOCK_Q; ++ i) {
            #pragma unroll
            for (u32 j = 0; j < kNumHeads / 4; ++ j)
                weights[i][j] = weight_tile(q_stage)[i * kNumHeads + (j / 2) * 8 + (lane % 4) * 2 + (j % 2)];
        }
        u32 window_start[BLOCK_Q], window_end[BLOCK_Q];
        #pragma unroll
        for (u32 i = 0; i < BLOCK_Q; ++ i) {
            const u32 query = min_of(block * BLOCK_Q + i, seq_len - 1);
            window_start[i] = min_of(ks[query], seq_len_kv);
            window_end[i] = min_of(ke[query], seq_len_kv);
        }

        const MQAKeySpan span = mqa_key_span(ks, ke, block, BLOCK_Q, seq_len, seq_len_kv, BLOCK_KV);
        for (u32 kv_block = 0; kv_block < span.num_blocks; ++ kv_block, ++ kv_iteration) {
            const u32 kv_stage = kv_iteration % kNumKVStages;
            full_kv[kv_stage].wait((kv_iteration / kNumKVStages) & 1);
            const float scale0 = scale_tile(kv_stage)[row0];
            const float scale1 = scale_tile(kv_stage)[row1];

            const u32 a_base = ptx::shared_address(kv_tile(kv_stage)) + warpgroup * WGMMA_M * kHeadDim;
            const u32 b_base = ptx::shared_address(q_tile(q_stage));
            mqa_score_tile<MMA, kHeadDim, WGMMA_K>(a_base, b_base, accum);
            empty_kv[kv_stage].arrive();

            const u32 key0 = span.start + kv_block * BLOCK_KV + row0;
            const u32 key1 = key0 + 8;
            #pragma unroll
            for (u32 i = 0; i < BLOCK_Q; ++ i) {
                float sum0, sum1;
                reduce_heads<kNumHeads>(accum + i * kAccumPerQuery, weights[i], sum0, sum1);
                if (lane % 4 != 0)
                    continue;
                OutT* row = logits + static_cast<u64>(block * BLOCK_Q + i) * stride_logits;
                if constexpr (kCompressed) {
                    if (window_start[i] <= key0 and key0 < window_end[i])
                        row[key0 - window_start[i]] = from_float<OutT>(sum0 * scale0);
                    if (window_start[i] <= key1 and key1 < window_end[i])
                        row[key1 - window_start[i]] = from_float<OutT>(sum1 * scale1);
                } else {
                    row[key0] = from_float<OutT>(sum0 * scale0);
                    row[key1] = from_float<OutT>(sum1 * scale1);
                }
            }
        }
        empty_q[q_stage].arrive();
    }
#endif
}

} // namespace dg
