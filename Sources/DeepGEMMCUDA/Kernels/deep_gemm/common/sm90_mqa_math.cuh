// Pieces the SM90 MQA logits kernels (prefill and paged) share: the wgmma descriptor of their FP8
// tiles, the score tile they issue per KV block, and the head reduction of one token's accumulators.
#pragma once

#include <deep_gemm/ptx/wgmma.cuh>

namespace dg {

/// The wgmma descriptor of a K-major FP8 tile whose rows are `kSwizzleBytes` long (one swizzle atom),
/// starting at shared address `address`: 8-row groups are 8 rows apart, no leading offset.
template <u32 kSwizzleBytes>
DG_DEVICE u64 fp8_kmajor_descriptor(u32 address) {
    return static_cast<u64>((address >> 4) & 0x3FFF)
        | (static_cast<u64>(((8 * kSwizzleBytes) >> 4) & 0x3FFF) << 32)
        | (ptx::descriptor_layout_type<kSwizzleBytes>() << 62);
}

/// One score tile: `accum` = the K-major FP8 KV tile at shared address `kv_address` times the K-major
/// FP8 query tile at `q_address`, both `kHeadDim` bytes a row, over the whole head dimension in
/// `WGMMA_K`-deep steps of `MMA`; returns once the wgmma group is done and `accum` can be read.
template <typename MMA, u32 kHeadDim, u32 WGMMA_K>
DG_DEVICE void mqa_score_tile(u32 kv_address, u32 q_address, float* accum) {
    #pragma unroll
    for (u32 i = 0; i < MMA::kNumAccum; ++ i)
        ptx::fence_operand(accum[i]);
    ptx::wgmma_fence();
    #pragma unroll
    for (u32 k = 0; k < kHeadDim / WGMMA_K; ++ k)
        MMA::mma(fp8_kmajor_descriptor<kHeadDim>(kv_address + k * WGMMA_K), fp8_kmajor_descriptor<kHeadDim>(q_address + k * WGMMA_K),
                 accum, k > 0 ? 1u : 0u);
    ptx::wgmma_commit_group();
    #pragma unroll
    for (u32 i = 0; i < MMA::kNumAccum; ++ i)
        ptx::fence_operand(accum[i]);
    ptx::wgmma_wait_group<0>();
}

/// The head reduction of one token: `accum` holds its m64nHk32 accumulators of a thread (columns
/// 8 j + 2 (lane % 4) + {0, 1} of rows lane / 4 and lane / 4 + 8), `weights` the matching heads'
/// weights. Returns in every lane of a 4-lane group the two rows' sums of relu(score) * weight.
template <u32 kNumHeads>
DG_DEVICE void reduce_heads(const float* accum, const float* weights, float& sum0, float& sum1) {
    sum0 = 0.0f;
    sum1 = 0.0f;
    #pragma unroll
    for (u32 j = 0; j < kNumHeads / 8; ++ j) {
        sum0 = fmaf(fmaxf(accum[4 * j + 0], 0.0f), weights[2 * j + 0], sum0);
        sum0 = fmaf(fmaxf(accum[4 * j + 1], 0.0f), weights[2 * j + 1], sum0);
        sum1 = fmaf(fmaxf(accum[4 * j + 2], 0.0f), weights[2 * j + 0], sum1);
        sum1 = fmaf(fmaxf(accum[4 * j + 3], 0.0f), weights[2 * j + 1], sum1);
    }
    sum0 += __shfl_xor_sync(0xFFFFFFFFu, sum0, 1);
    sum1 += __shfl_xor_sync(0xFFFFFFFFu, sum1, 1);
    sum0 += __shfl_xor_sync(0xFFFFFFFFu, sum0, 2);
    sum1 += __shfl_xor_sync(0xFFFFFFFFu, sum1, 2);
}

} // namespace dg
