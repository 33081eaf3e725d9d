// Host runs of the cast and scale-factor layout kernels' arithmetic (layout/block_cast.cuh,
// layout/sf_layout.cuh), thread by thread, for the tests that compare them with the CPU backend.
#include "DeepGEMMKernelHost.h"

#include <deep_gemm/layout/block_cast.cuh>
#include <deep_gemm/layout/sf_layout.cuh>

namespace {

/// Both passes for one source type and code format.
template <dg::CastSource kSource, bool kFP4>
void block_cast(bool use_ue8m0, const void* x, const dg::BlockCastShape& s, uint32_t num_threads, float* sf, uint8_t* data) {
    for (dg::u64 scale = 0; scale < s.num_scales(); ++scale) {
        dg::u32 amax = 0;
        for (uint32_t thread = 0; thread < num_threads; ++thread)
            amax = dg::max_of(amax, dg::block_amax_part<kSource>(x, s, scale, thread, num_threads));
        sf[scale] = dg::block_scale(s, scale, amax, kFP4 ? 6.0f : 448.0f, use_ue8m0);
    }
    for (dg::u64 index = 0; index < dg::block_cast_num_bytes<kFP4>(s); ++index)
        data[index] = dg::block_cast_byte<kSource, kFP4>(x, s, sf, index);
}

/// The kernels' SFBatches from the C struct.
dg::SFBatches batches(dg_host_sf_batches s) {
    return dg::SFBatches{s.batches, s.mn, s.sf_k, s.batch_stride, s.mn_stride, s.k_stride, s.row_divisor};
}

/// Runs `word(index, &bad)` for every output word and returns the smallest bad offset.
template <typename Word>
uint64_t pack_all(uint64_t words, uint32_t* out, Word word) {
    uint64_t first_bad = dg::kNoBadScale;
    for (uint64_t index = 0; index < words; ++index) {
        dg::u64 bad;
        out[index] = word(index, &bad);
        first_bad = dg::min_of<dg::u64>(first_bad, bad);
    }
    return first_bad;
}

} // namespace

extern "C" void dg_host_block_cast(uint32_t source, bool fp4, bool use_ue8m0, const void* x, uint32_t m, uint32_t n, uint32_t row_stride,
                                   uint32_t column_stride, uint32_t block_rows, uint32_t block_columns, uint32_t sf_columns,
                                   uint32_t num_threads, float* sf, uint8_t* data) {
    const dg::BlockCastShape s{m, n, row_stride, column_stride, block_rows, block_columns, sf_columns};
    using dg::CastSource;
    switch (source * 2 + (fp4 ? 1 : 0)) {
    case 0: block_cast<CastSource::F32, false>(use_ue8m0, x, s, num_threads, sf, data); break;
    case 1: block_cast<CastSource::F32, true>(use_ue8m0, x, s, num_threads, sf, data); break;
    case 2: block_cast<CastSource::BF16, false>(use_ue8m0, x, s, num_threads, sf, data); break;
    case 3: block_cast<CastSource::BF16, true>(use_ue8m0, x, s, num_threads, sf, data); break;
    case 4: block_cast<CastSource::F16, false>(use_ue8m0, x, s, num_threads, sf, data); break;
    default: block_cast<CastSource::F16, true>(use_ue8m0, x, s, num_threads, sf, data); break;
    }
}

extern "C" void dg_host_mn_major_copy(const uint32_t* sf, dg_host_sf_batches shape, uint32_t* out) {
    const dg::SFBatches s = batches(shape);
    const dg::u64 count = static_cast<dg::u64>(s.batches) * s.sf_k * s.aligned_mn();
    for (dg::u64 index = 0; index < count; ++index)
        out[index] = dg::mn_major_element(sf, s, index);
}

extern "C" uint64_t dg_host_mn_major_pack(const uint32_t* sf, dg_host_sf_batches shape, const uint32_t* ranges, uint32_t num_ranges,
                                          uint32_t* out) {
    const dg::SFBatches s = batches(shape);
    const dg::u64 count = static_cast<dg::u64>(s.batches) * ((s.sf_k + 3) / 4) * s.aligned_mn();
    return pack_all(count, out, [&](dg::u64 index, dg::u64* bad) { return dg::mn_major_packed_word(sf, s, ranges, num_ranges, index, bad); });
}

extern "C" uint64_t dg_host_k_grouped_pack(const uint32_t* sf, uint32_t mn, const uint32_t* rows, uint32_t packed_rows, uint32_t* out) {
    return pack_all(static_cast<dg::u64>(packed_rows) * mn, out,
                    [&](dg::u64 index, dg::u64* bad) { return dg::k_grouped_packed_word(sf, mn, rows, index, bad); });
}

extern "C" uint64_t dg_host_pack_ue8m0(const uint32_t* sf, uint64_t words, uint32_t* out) {
    return pack_all(words, out, [&](dg::u64 index, dg::u64* bad) { return dg::packed_ue8m0_word(sf, index, bad); });
}
