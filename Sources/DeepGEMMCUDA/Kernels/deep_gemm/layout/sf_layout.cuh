// Arithmetic of the scale-factor layout kernels (spec api.md §2-§3: pack_ue8m0_to_int,
// get_mn_major_tma_aligned_tensor, get_mn_major_tma_aligned_packed_ue8m0_tensor and its k-grouped
// variant), shared by the kernels of impls/sf_layout.cuh and the host tests. One thread per output
// element; packing reads up to four f32 scales and keeps their UE8M0 bytes, and reports the first
// scale that has no UE8M0 encoding through `bad` (the host then throws, as the CPU backend does).
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

/// `bad` holds this when every packed scale was +0 or a finite positive power of two.
constexpr u64 kNoBadScale = ~0ull;

/// The UE8M0 byte of f32 scale bits, or 0x100 when they are not +0 or a positive power of two
/// (finite, or also +infinity, byte 0xFF, with `allow_infinity` as pack_ue8m0_to_int allows).
DG_HOST_DEVICE u32 ue8m0_byte(u32 bits, bool allow_infinity) {
    return (bits & 0x807FFFFFu) != 0 || (bits == 0x7F800000u and not allow_infinity) ? 0x100u : bits >> 23;
}

/// The bits of an int32 [..] word packing `count` (at most 4) scales `sf[offset + j * stride]`, byte j
/// from scale j, missing bytes 0. The element offset of a scale without UE8M0 encoding goes to
/// `*bad_offset` (the smallest such offset of this word; the kernels keep the minimum over words).
DG_HOST_DEVICE u32 pack_ue8m0_word(const u32* sf, u64 offset, u64 stride, u32 count, u64* bad_offset, bool allow_infinity = false) {
    u32 packed = 0;
    *bad_offset = kNoBadScale;
    for (u32 j = 0; j < count; ++j) {
        const u32 byte = ue8m0_byte(sf[offset + j * stride], allow_infinity);
        if (byte > 0xFFu) {
            *bad_offset = min_of(*bad_offset, offset + j * stride);
            continue;
        }
        packed |= byte << (8 * j);
    }
    return packed;
}

/// pack_ue8m0_to_int: word `index` of the contiguous result packs scales 4·index ..< 4·index + 4 of
/// the contiguous f32 input (+infinity packs as byte 0xFF here, as the CPU helper allows).
DG_HOST_DEVICE u32 packed_ue8m0_word(const u32* sf, u64 index, u64* bad_offset) {
    return pack_ue8m0_word(sf, 4 * index, 1, 4, bad_offset, true);
}

/// A batched f32 scale tensor [B, MN, SK] as the MN-major kernels read it (element strides), with
/// logical row i reading stored row i / row_divisor (SM100 broadcast of gran_mn > 1 rows).
struct SFBatches {
    u32 batches, mn, sf_k;
    u64 batch_stride, mn_stride, k_stride;
    u32 row_divisor;

    /// align(MN, 4): the rows of every output column.
    DG_HOST_DEVICE u32 aligned_mn() const { return (mn + 3) / 4 * 4; }
    /// The element offset of logical (batch, row, column).
    DG_HOST_DEVICE u64 offset(u32 batch, u32 row, u32 column) const {
        return batch * batch_stride + static_cast<u64>(row / row_divisor) * mn_stride + column * k_stride;
    }
};

/// get_mn_major_tma_aligned_tensor: output element `index` of the [B, SK, align(MN, 4)] MN-major
/// buffer (row fastest), as bits; padding rows are 0.
DG_HOST_DEVICE u32 mn_major_element(const u32* sf, const SFBatches& s, u64 index) {
    const u32 aligned = s.aligned_mn();
    const u32 row = static_cast<u32>(index % aligned);
    const u64 rest = index / aligned;
    const u32 column = static_cast<u32>(rest % s.sf_k), batch = static_cast<u32>(rest / s.sf_k);
    return row < s.mn ? sf[s.offset(batch, row, column)] : 0u;
}

/// Whether row `row` belongs to one of `num_ranges` half-open row ranges `ranges[2i] ..< ranges[2i + 1]`.
DG_HOST_DEVICE bool row_in_ranges(const u32* ranges, u32 num_ranges, u32 row) {
    bool inside = false;
    for (u32 i = 0; i < num_ranges; ++i)
        inside = inside or (ranges[2 * i] <= row and row < ranges[2 * i + 1]);
    return inside;
}

/// get_mn_major_tma_aligned_packed_ue8m0_tensor: output word `index` of the [B, ceil(SK/4),
/// align(MN, 4)] MN-major buffer (row fastest): scales 4p..4p+3 of its row packed; padding rows
/// and rows outside every range are 0 (their scales are not read).
DG_HOST_DEVICE u32 mn_major_packed_word(const u32* sf, const SFBatches& s, const u32* ranges, u32 num_ranges, u64 index,
                                        u64* bad_offset) {
    const u32 aligned = s.aligned_mn(), packed_k = (s.sf_k + 3) / 4;
    const u32 row = static_cast<u32>(index % aligned);
    const u64 rest = index / aligned;
    const u32 pack = static_cast<u32>(rest % packed_k), batch = static_cast<u32>(rest / packed_k);
    *bad_offset = kNoBadScale;
    if (row >= s.mn or not row_in_ranges(ranges, num_ranges, row))
        return 0u;
    return pack_ue8m0_word(sf, s.offset(batch, row, 4 * pack), s.k_stride, min_of(4u, s.sf_k - 4 * pack), bad_offset);
}

/// The k-grouped packing: output word `index` of the row-major [P, MN] result. Packed row p packs
/// `rows[2p + 1]` (0..4) consecutive SF rows starting at row `rows[2p]` of the contiguous f32 [SK, MN] input.
DG_HOST_DEVICE u32 k_grouped_packed_word(const u32* sf, u32 mn, const u32* rows, u64 index, u64* bad_offset) {
    const u64 packed_row = index / mn;
    const u32 column = static_cast<u32>(index % mn);
    return pack_ue8m0_word(sf, static_cast<u64>(rows[2 * packed_row]) * mn + column, mn, rows[2 * packed_row + 1], bad_offset);
}

} // namespace dg
