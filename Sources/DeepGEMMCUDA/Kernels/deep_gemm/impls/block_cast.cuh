// The block-scaled casts on the GPU (per_token_cast_to_fp4, per_channel_cast_to_fp8,
// per_block_cast_to_fp8): the two passes of layout/block_cast.cuh as device functions.
#pragma once

#include <deep_gemm/layout/block_cast.cuh>

namespace dg {

/// Scale pass: CTA `blockIdx.x` reduces the amax of one scale's block over its `kThreads` threads
/// (a shared integer maximum) and thread 0 stores the scale.
template <CastSource kSource, bool kUseUE8M0, u32 kThreads>
DG_DEVICE void block_cast_scales(const void* __restrict__ x, const BlockCastShape& s, float max_code, float* __restrict__ sf) {
    __shared__ u32 amax;
    if (threadIdx.x == 0)
        amax = 0;
    __syncthreads();
    const u64 scale = blockIdx.x;
    atomicMax(&amax, block_amax_part<kSource>(x, s, scale, threadIdx.x, kThreads));
    __syncthreads();
    if (threadIdx.x == 0)
        sf[scale] = block_scale(s, scale, amax, max_code, kUseUE8M0);
}

/// Encode pass: one thread per output byte, after the scale pass on the same stream.
template <CastSource kSource, bool kFP4>
DG_DEVICE void block_cast_encode(const void* __restrict__ x, const BlockCastShape& s, const float* __restrict__ sf,
                                 unsigned char* __restrict__ data) {
    const u64 index = static_cast<u64>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (index < block_cast_num_bytes<kFP4>(s))
        data[index] = block_cast_byte<kSource, kFP4>(x, s, sf, index);
}

} // namespace dg
