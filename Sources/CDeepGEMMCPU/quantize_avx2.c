// AVX2 + FMA + F16C primitives of the quantization kernels, compiled into the shared loop
// structure of quantize_driver.inc. Gives the same bits as the portable code.
#include "quantize_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define DG_QTARGET __attribute__((target("avx2,fma,f16c")))
#define DG_QNAME(base) base##_avx2

// 8 elements starting at i widened (exactly) to binary32.
DG_QTARGET static inline __m256 load8(const void *p, int type, int64_t i) {
    if (type == DG_TYPE_F32) return _mm256_loadu_ps((const float *)p + i);
    const __m128i halves = _mm_loadu_si128((const __m128i *)((const uint16_t *)p + i));
    if (type == DG_TYPE_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(halves), 16));
    return _mm256_cvtph_ps(halves);
}

// E4M3FN codes (RNE, NaN past 448) of 8 binary32 values, one per 32-bit lane (signed compares are
// exact on magnitudes, which are below 2^31).
DG_QTARGET static inline __m256i codes_e4m3(__m256 v) {
    const __m256i bits = _mm256_castps_si256(v);
    const __m256i a = _mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(a, 20), _mm256_set1_epi32(1));
    __m256i code = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(0x7FFFF - 0x3C000000)), lsb), 20);
    const __m256i subnormal = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3C800000), a);
    if (!_mm256_testz_si256(subnormal, subnormal)) {
        const __m256 shifted = _mm256_add_ps(_mm256_castsi256_ps(a), _mm256_set1_ps(16384.0f));
        const __m256i sub = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x46800000));
        code = _mm256_blendv_epi8(code, sub, subnormal);
    }
    const __m256i overflow = _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x43F00000 - 1));
    code = _mm256_blendv_epi8(code, _mm256_set1_epi32(0x7F), overflow);
    return _mm256_or_si256(code, _mm256_and_si256(_mm256_srli_epi32(bits, 24), _mm256_set1_epi32(0x80)));
}

// FP4 E2M1 codes of 8 values by the helper's rule (strict midpoints, saturation at 6, NaN to 0,
// sign only on non-zero codes): each true compare (all ones) subtracts -1.
DG_QTARGET static inline __m256i codes_e2m1(__m256 v) {
    const __m256 a = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
    const float midpoints[7] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f};
    const __m256i nonzero = _mm256_castps_si256(_mm256_cmp_ps(a, _mm256_set1_ps(midpoints[0]), _CMP_GT_OQ));
    __m256i code = _mm256_sub_epi32(_mm256_setzero_si256(), nonzero);
    for (int t = 1; t < 7; t++)
        code = _mm256_sub_epi32(code, _mm256_castps_si256(_mm256_cmp_ps(a, _mm256_set1_ps(midpoints[t]), _CMP_GT_OQ)));
    const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(v), 28), _mm256_set1_epi32(8));
    return _mm256_or_si256(code, _mm256_and_si256(sign, nonzero));
}

// 32 codes (four vectors of 32-bit lanes, each 0..255) as 32 bytes in element order: the
// saturating packs interleave 128-bit lanes, one dword permute restores the order.
DG_QTARGET static inline __m256i pack32(__m256i c0, __m256i c1, __m256i c2, __m256i c3) {
    const __m256i bytes = _mm256_packus_epi16(_mm256_packus_epi32(c0, c1), _mm256_packus_epi32(c2, c3));
    return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// The largest of eight unsigned 32-bit lanes.
DG_QTARGET static inline uint32_t reduce_max8(__m256i v) {
    __m128i m = _mm_max_epu32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
    return (uint32_t)_mm_cvtsi128_si32(m);
}

DG_QTARGET static inline uint32_t q_amax(const void *p, int type, int64_t len) {
    int64_t i = 0;
    uint32_t top;
    if (type == DG_TYPE_BF16) {
        // 16-bit magnitudes order BF16 values as their binary32 widenings do.
        const __m256i magnitude = _mm256_set1_epi16(0x7FFF);
        __m256i best = _mm256_setzero_si256();
        for (; i + 16 <= len; i += 16)
            best = _mm256_max_epu16(best, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i)), magnitude));
        const __m256i low = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(best));
        const __m256i high = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(best, 1));
        top = reduce_max8(_mm256_max_epu32(low, high)) << 16;
    } else {
        const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF);
        __m256i best = _mm256_setzero_si256();
        for (; i + 8 <= len; i += 8) best = _mm256_max_epu32(best, _mm256_and_si256(_mm256_castps_si256(load8(p, type, i)), magnitude));
        top = reduce_max8(best);
    }
    for (; i < len; i++) {
        const uint32_t a = dg_f2u(dg_load_float(p, type, i)) & 0x7FFFFFFFu;
        top = a > top ? a : top;
    }
    return top;
}

DG_QTARGET static inline void q_amax_columns(const void *p, int type, int64_t len, uint32_t *acc) {
    const __m256i magnitude = _mm256_set1_epi32(0x7FFFFFFF);
    int64_t i = 0;
    for (; i + 8 <= len; i += 8) {
        const __m256i a = _mm256_and_si256(_mm256_castps_si256(load8(p, type, i)), magnitude);
        _mm256_storeu_si256((__m256i *)(acc + i), _mm256_max_epu32(_mm256_loadu_si256((const __m256i *)(acc + i)), a));
    }
    dg_tail_amax_columns(p, type, i, len, acc);
}

DG_QTARGET static inline void q_encode_e4m3(const void *p, int type, int64_t len, const float *inv, int per_column,
                                            uint8_t *out, int stream) {
    __m256 s0 = _mm256_set1_ps(inv[0]), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= len; i += 32) {
        if (per_column) {
            s0 = _mm256_loadu_ps(inv + i); s1 = _mm256_loadu_ps(inv + i + 8);
            s2 = _mm256_loadu_ps(inv + i + 16); s3 = _mm256_loadu_ps(inv + i + 24);
        }
        const __m256i bytes = pack32(codes_e4m3(_mm256_mul_ps(load8(p, type, i), s0)), codes_e4m3(_mm256_mul_ps(load8(p, type, i + 8), s1)),
                                     codes_e4m3(_mm256_mul_ps(load8(p, type, i + 16), s2)), codes_e4m3(_mm256_mul_ps(load8(p, type, i + 24), s3)));
        if (stream && ((uintptr_t)(out + i) & 31) == 0) _mm256_stream_si256((__m256i *)(out + i), bytes);
        else _mm256_storeu_si256((__m256i *)(out + i), bytes);
    }
    dg_tail_e4m3(p, type, i, len, inv, per_column, out);
}

DG_QTARGET static inline void q_encode_e2m1(const void *p, int type, int64_t pairs, float inv, uint8_t *out, int stream) {
    const __m256 s = _mm256_set1_ps(inv);
    int64_t i = 0;
    for (; i + 16 <= pairs; i += 16) {
        const int64_t e = 2 * i;
        const __m256i codes = pack32(codes_e2m1(_mm256_mul_ps(load8(p, type, e), s)), codes_e2m1(_mm256_mul_ps(load8(p, type, e + 8), s)),
                                     codes_e2m1(_mm256_mul_ps(load8(p, type, e + 16), s)), codes_e2m1(_mm256_mul_ps(load8(p, type, e + 24), s)));
        // Byte pairs (even, odd) as 16-bit words: even | odd << 4 in the low byte, then narrowed.
        const __m256i words = _mm256_and_si256(_mm256_or_si256(codes, _mm256_srli_epi16(codes, 4)), _mm256_set1_epi16(0xFF));
        const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
        if (stream && ((uintptr_t)(out + i) & 15) == 0) _mm_stream_si128((__m128i *)(out + i), bytes);
        else _mm_storeu_si128((__m128i *)(out + i), bytes);
    }
    dg_tail_e2m1(p, type, i, pairs, inv, out);
}

DG_QTARGET static inline void q_fence(void) { _mm_sfence(); }

#include "quantize_driver.inc"
#endif
