// per_token_cast_to_fp8 (spec api.md §3): each row of x [m, n] in groups of gran_k columns, one
// warp per (row, group). The warp takes the group's amax as the largest binary32 magnitude bit
// pattern (an integer maximum: exact and order-free, NaN kept), lane 0 stores the group's scale,
// and every lane encodes its elements as e4m3(x * (1 / scale)) with the rules of
// common/scalar_formats.cuh, so the bytes equal the CPU backend's.
#pragma once

#include <deep_gemm/common/cast_source.cuh>

namespace dg {

/// One warp per (row, group) of a [m, n] input whose rows are `x_row_stride` elements apart; data
/// is [m, n] contiguous, sf [m, ceil(n / gran_k)] contiguous. Launch with whole warps per CTA.
template <CastSource kSource, bool kUseUE8M0>
DG_DEVICE void per_token_cast_to_fp8(const void* __restrict__ x, u64 x_row_stride, unsigned char* __restrict__ data,
                                     float* __restrict__ sf, u32 m, u32 n, u32 gran_k) {
    const u64 num_groups = (static_cast<u64>(n) + gran_k - 1) / gran_k;
    const u64 warp = (static_cast<u64>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    const u32 lane = threadIdx.x % 32;
    if (warp >= static_cast<u64>(m) * num_groups)
        return;  // the whole warp leaves together: blocks hold whole warps
    const u64 row = warp / num_groups, group = warp % num_groups;
    const u64 start = group * gran_k, end = min(static_cast<u64>(n), start + gran_k);
    const u64 source = row * x_row_stride;

    u32 amax_bits = 0;
    for (u64 j = start + lane; j < end; j += 32)
        amax_bits = max(amax_bits, fmt::f2u(load_cast_source<kSource>(x, source + j)) & 0x7FFFFFFFu);
    #pragma unroll
    for (u32 offset = 16; offset > 0; offset /= 2)
        amax_bits = max(amax_bits, __shfl_xor_sync(0xFFFFFFFFu, amax_bits, offset));

    const float scale = fmt::group_scale(fmt::u2f(amax_bits), 448.0f, kUseUE8M0);
    if (lane == 0)
        sf[row * num_groups + group] = scale;
    const float inverse = 1.0f / scale;
    for (u64 j = start + lane; j < end; j += 32)
        data[row * n + j] = static_cast<unsigned char>(fmt::bits_to_e4m3(fmt::f2u(load_cast_source<kSource>(x, source + j) * inverse)));
}

} // namespace dg
