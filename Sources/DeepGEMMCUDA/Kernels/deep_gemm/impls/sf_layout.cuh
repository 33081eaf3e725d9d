// The scale-factor layout kernels on the GPU: one thread per output element of layout/sf_layout.cuh.
// The packing kernels fold the smallest offset of a scale without UE8M0 encoding into `bad`
// (initialised to kNoBadScale by the host, which reads it back and throws).
#pragma once

#include <deep_gemm/layout/sf_layout.cuh>

namespace dg {

/// This thread's output element, or false past `count`.
DG_DEVICE bool layout_thread_index(u64 count, u64* index) {
    *index = static_cast<u64>(blockIdx.x) * blockDim.x + threadIdx.x;
    return *index < count;
}

/// Records a word's bad scale offset, if any.
DG_DEVICE void report_bad_scale(u64* bad, u64 offset) {
    if (offset != kNoBadScale)
        atomicMin(bad, offset);
}

/// pack_ue8m0_to_int into `out` (`words` int32 values).
DG_DEVICE void pack_ue8m0(const u32* __restrict__ sf, u64 words, u32* __restrict__ out, u64* bad) {
    u64 index, offset;
    if (layout_thread_index(words, &index)) {
        out[index] = packed_ue8m0_word(sf, index, &offset);
        report_bad_scale(bad, offset);
    }
}

/// get_mn_major_tma_aligned_tensor into `out` [B, SK, align(MN, 4)].
DG_DEVICE void mn_major_copy(const u32* __restrict__ sf, const SFBatches& s, u32* __restrict__ out) {
    u64 index;
    if (layout_thread_index(static_cast<u64>(s.batches) * s.sf_k * s.aligned_mn(), &index))
        out[index] = mn_major_element(sf, s, index);
}

/// get_mn_major_tma_aligned_packed_ue8m0_tensor into `out` [B, ceil(SK/4), align(MN, 4)].
DG_DEVICE void mn_major_pack(const u32* __restrict__ sf, const SFBatches& s, const u32* __restrict__ ranges, u32 num_ranges,
                             u32* __restrict__ out, u64* bad) {
    u64 index, offset;
    if (layout_thread_index(static_cast<u64>(s.batches) * ((s.sf_k + 3) / 4) * s.aligned_mn(), &index)) {
        out[index] = mn_major_packed_word(sf, s, ranges, num_ranges, index, &offset);
        report_bad_scale(bad, offset);
    }
}

/// The k-grouped packing into `out` [P, MN] from the per-packed-row table `rows` [P, 2].
DG_DEVICE void k_grouped_pack(const u32* __restrict__ sf, u32 mn, const u32* __restrict__ rows, u32 packed_rows,
                              u32* __restrict__ out, u64* bad) {
    u64 index, offset;
    if (layout_thread_index(static_cast<u64>(packed_rows) * mn, &index)) {
        out[index] = k_grouped_packed_word(sf, mn, rows, index, &offset);
        report_bad_scale(bad, offset);
    }
}

} // namespace dg
