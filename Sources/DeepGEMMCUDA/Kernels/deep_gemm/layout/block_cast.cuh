// Arithmetic of the block-scaled casts (spec api.md §2: per_token_cast_to_fp4, per_channel_cast_to_fp8,
// per_block_cast_to_fp8), shared by the kernels of impls/block_cast.cuh and the host tests. A cast
// is two passes: one CTA per scale reduces its block's amax (the largest binary32 magnitude bit
// pattern, an integer maximum: exact, order-free, NaN kept) and stores the scale; then one thread
// per output byte encodes its element(s) with the scale of their block. Every formula is the one of
// common/scalar_formats.cuh, so the bytes equal the CPU backend's.
#pragma once

#include <deep_gemm/common/cast_source.cuh>

namespace dg {

/// A cast's geometry: x [m, n] (element strides `row_stride`, `column_stride`), one scale per
/// `block_rows` x `block_columns` block, scales stored row-major [ceil(m / block_rows), sf_columns]
/// where columns past ceil(n / block_columns) are padding that holds 1.0 (FP4 packed scales).
struct BlockCastShape {
    u32 m, n;
    u64 row_stride, column_stride;
    u32 block_rows, block_columns;
    u32 sf_columns;

    /// Scale rows, ceil(m / block_rows).
    DG_HOST_DEVICE u32 scale_rows() const { return ceil_div(m, block_rows); }
    /// Scale columns that cover x, ceil(n / block_columns).
    DG_HOST_DEVICE u32 scale_columns() const { return ceil_div(n, block_columns); }
    /// Every stored scale, padding included (the scale pass's grid).
    DG_HOST_DEVICE u64 num_scales() const { return static_cast<u64>(scale_rows()) * sf_columns; }
    /// The stored scale of element (row, column).
    DG_HOST_DEVICE u64 scale_index(u32 row, u32 column) const {
        return static_cast<u64>(row / block_rows) * sf_columns + column / block_columns;
    }
};

/// The amax bits of the elements of scale `scale`'s block that thread `thread` of `num_threads`
/// reads (elements `thread`, `thread + num_threads`, ... of the block in row-major order; padding
/// scales read nothing). The block's amax is the maximum over the threads.
template <CastSource kSource>
DG_HOST_DEVICE u32 block_amax_part(const void* x, const BlockCastShape& s, u64 scale, u32 thread, u32 num_threads) {
    const u32 block_row = static_cast<u32>(scale / s.sf_columns), block_column = static_cast<u32>(scale % s.sf_columns);
    if (block_column >= s.scale_columns())
        return 0;
    const u32 row0 = block_row * s.block_rows, column0 = block_column * s.block_columns;
    const u32 rows = min_of(s.block_rows, s.m - row0), columns = min_of(s.block_columns, s.n - column0);
    u32 amax = 0;
    for (u64 e = thread; e < static_cast<u64>(rows) * columns; e += num_threads) {
        const u64 row = row0 + e / columns, column = column0 + e % columns;
        amax = max_of(amax, fmt::f2u(load_cast_source<kSource>(x, row * s.row_stride + column * s.column_stride)) & 0x7FFFFFFFu);
    }
    return amax;
}

/// The stored value of scale `scale` whose block has amax bits `amax_bits`: the group scale for
/// `max_code` (448 for FP8, 6 for FP4), 1.0 for a padding column.
DG_HOST_DEVICE float block_scale(const BlockCastShape& s, u64 scale, u32 amax_bits, float max_code, bool use_ue8m0) {
    return scale % s.sf_columns < s.scale_columns() ? fmt::group_scale(fmt::u2f(amax_bits), max_code, use_ue8m0) : 1.0f;
}

/// The code of element (row, column) under its stored scale: e4m3(x * (1 / scale)) or, with
/// `kFP4`, e2m1 of the same product.
template <CastSource kSource, bool kFP4>
DG_HOST_DEVICE u32 block_cast_code(const void* x, const BlockCastShape& s, const float* sf, u32 row, u32 column) {
    const float inverse = 1.0f / sf[s.scale_index(row, column)];
    const float value = load_cast_source<kSource>(x, row * s.row_stride + column * s.column_stride) * inverse;
    if constexpr (kFP4)
        return fmt::f32_to_e2m1(value);
    else
        return fmt::bits_to_e4m3(fmt::f2u(value));
}

/// Output bytes of the encode pass: m x n FP8 codes, or m x n/2 packed FP4 bytes.
template <bool kFP4>
DG_HOST_DEVICE u64 block_cast_num_bytes(const BlockCastShape& s) {
    return static_cast<u64>(s.m) * (kFP4 ? s.n / 2 : s.n);
}

/// Output byte `index` (row-major): one FP8 code, or two FP4 codes with the even column in the low
/// nibble.
template <CastSource kSource, bool kFP4>
DG_HOST_DEVICE unsigned char block_cast_byte(const void* x, const BlockCastShape& s, const float* sf, u64 index) {
    if constexpr (kFP4) {
        const u32 half = s.n / 2, row = static_cast<u32>(index / half), pair = static_cast<u32>(index % half);
        const u32 low = block_cast_code<kSource, true>(x, s, sf, row, 2 * pair);
        const u32 high = block_cast_code<kSource, true>(x, s, sf, row, 2 * pair + 1);
        return static_cast<unsigned char>((low & 0xFu) | ((high & 0xFu) << 4));
    } else {
        return static_cast<unsigned char>(block_cast_code<kSource, false>(x, s, sf, static_cast<u32>(index / s.n), static_cast<u32>(index % s.n)));
    }
}

} // namespace dg
