// AVX-512F (F, BW, VL, DQ; no BF16 instructions) primitives of the quantization kernels, compiled
// into the shared loop structure of quantize_driver.inc. Gives the same bits as the portable code.
#include "quantize_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define DG_QTARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define DG_QNAME(base) base##_avx512

// 16 elements starting at i widened (exactly) to binary32.
DG_QTARGET static inline __m512 load16(const void *p, int type, int64_t i) {
    if (type == DG_TYPE_F32) return _mm512_loadu_ps((const float *)p + i);
    const __m256i halves = _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i));
    if (type == DG_TYPE_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
    return _mm512_cvtph_ps(halves);
}

// E4M3FN codes (RNE, NaN past 448) of 16 binary32 values, one per 32-bit lane. Magnitudes clamp
// at 480, whose code is the NaN code 0x7F, so NaN and everything that rounds past 448 land there;
// the subnormal path runs only when a lane needs it.
DG_QTARGET static inline __m512i codes_e4m3(__m512 v) {
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i a = _mm512_min_epu32(_mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x43F00000));
    // Normal: RNE at mantissa bit 20 and re-bias (127 - 7) << 3 in one add; wraps harmlessly for
    // lanes that the subnormal path replaces.
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(a, 20), _mm512_set1_epi32(1));
    __m512i code = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(a, _mm512_set1_epi32(0x7FFFF - 0x3C000000)), lsb), 20);
    const __mmask16 is_normal = _mm512_cmpge_epu32_mask(a, _mm512_set1_epi32(0x3C800000));
    if (is_normal != (__mmask16)0xFFFF) {
        const __m512 shifted = _mm512_add_ps(_mm512_castsi512_ps(a), _mm512_set1_ps(16384.0f));
        const __m512i sub = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x46800000));
        code = _mm512_mask_blend_epi32(is_normal, sub, code);
    }
    // code | ((bits >> 24) & 0x80)
    return _mm512_ternarylogic_epi32(code, _mm512_srli_epi32(bits, 24), _mm512_set1_epi32(0x80), 0xF8);
}

// FP4 E2M1 codes of 16 values by the helper's rule (strict midpoints, saturation at 6, NaN to 0,
// sign only on non-zero codes), one per 32-bit lane. Every midpoint has a two-bit mantissa, so
// |v| > midpoint exactly when (bits(|v|) - 1) >> 21 (exponent and top two mantissa bits, 0 gives
// -1) reaches the midpoint's; clamped to [499, 517] that key indexes a 32-entry code table by its
// low five bits.
DG_QTARGET static inline __m512i codes_e2m1(__m512 v) {
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i a = _mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF));
    __m512i key = _mm512_srai_epi32(_mm512_sub_epi32(a, _mm512_set1_epi32(1)), 21);
    key = _mm512_min_epi32(_mm512_max_epi32(key, _mm512_set1_epi32(499)), _mm512_set1_epi32(517));
    // Keys 512..517 -> entries 0..5 (codes 4 5 5 6 6 7); keys 499..511 -> entries 19..31 (codes 0,
    // 1 x6, 2 x3, 3 3 4).
    const __m512i low = _mm512_setr_epi32(4, 5, 5, 6, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i high = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4);
    const __mmask16 ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
    const __m512i code = _mm512_maskz_permutex2var_epi32(ordered, low, key, high);
    const __m512i sign = _mm512_and_si512(_mm512_srli_epi32(bits, 28), _mm512_set1_epi32(8));
    return _mm512_mask_or_epi32(code, _mm512_test_epi32_mask(code, code), code, sign);
}

// 64 codes (four vectors of 32-bit lanes, each 0..255) as 64 bytes in element order: two
// saturating packs interleave 128-bit lanes, one dword permute restores the order.
DG_QTARGET static inline __m512i pack64(__m512i c0, __m512i c1, __m512i c2, __m512i c3) {
    const __m512i words01 = _mm512_packus_epi32(c0, c1), words23 = _mm512_packus_epi32(c2, c3);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(order, _mm512_packus_epi16(words01, words23));
}

// 32 BF16 values at i widened (exactly) to binary32 by interleaving their words with zeros, one
// instruction per vector (load16 takes two): lo holds elements 0-3, 8-11, 16-19, 24-27, hi the
// other 16.
DG_QTARGET static inline void load32_interleaved(const void *p, int64_t i, __m512 *lo, __m512 *hi) {
    const __m512i w = _mm512_loadu_si512((const uint16_t *)p + i);
    *lo = _mm512_castsi512_ps(_mm512_unpacklo_epi16(_mm512_setzero_si512(), w));
    *hi = _mm512_castsi512_ps(_mm512_unpackhi_epi16(_mm512_setzero_si512(), w));
}

// 64 codes of two load32_interleaved pairs (each 0..255) as 64 bytes in element order: the word
// pack puts each pair back in element order, the byte pack interleaves their 64-bit halves.
DG_QTARGET static inline __m512i pack64_interleaved(__m512i lo0, __m512i hi0, __m512i lo1, __m512i hi1) {
    const __m512i bytes = _mm512_packus_epi16(_mm512_packus_epi32(lo0, hi0), _mm512_packus_epi32(lo1, hi1));
    return _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), bytes);
}

// Stores 64 bytes at out, with a streaming store when allowed and out starts a line.
DG_QTARGET static inline void store64(uint8_t *out, __m512i bytes, int stream) {
    if (stream && ((uintptr_t)out & 63) == 0) _mm512_stream_si512((__m512i *)out, bytes);
    else _mm512_storeu_si512(out, bytes);
}

DG_QTARGET static inline uint32_t q_amax(const void *p, int type, int64_t len) {
    int64_t i = 0;
    if (type == DG_TYPE_BF16) {
        // 16-bit magnitudes order BF16 values as their binary32 widenings do.
        const __m512i magnitude = _mm512_set1_epi16(0x7FFF);
        __m512i best = _mm512_setzero_si512();
        for (; i + 32 <= len; i += 32)
            best = _mm512_max_epu16(best, _mm512_and_si512(_mm512_loadu_si512((const uint16_t *)p + i), magnitude));
        if (i < len) {
            const __m512i tail = _mm512_maskz_loadu_epi16((__mmask32)((1u << (len - i)) - 1u), (const uint16_t *)p + i);
            best = _mm512_max_epu16(best, _mm512_and_si512(tail, magnitude));
        }
        const __m256i half = _mm256_max_epu16(_mm512_castsi512_si256(best), _mm512_extracti64x4_epi64(best, 1));
        return dg_max_bf16_magnitude8(_mm_max_epu16(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1)));
    }
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
    __m512i best = _mm512_setzero_si512();
    for (; i + 16 <= len; i += 16) best = _mm512_max_epu32(best, _mm512_and_si512(_mm512_castps_si512(load16(p, type, i)), magnitude));
    uint32_t top = (uint32_t)_mm512_reduce_max_epu32(best);
    for (; i < len; i++) {
        const uint32_t a = dg_f2u(dg_load_float(p, type, i)) & 0x7FFFFFFFu;
        top = a > top ? a : top;
    }
    return top;
}

DG_QTARGET static inline void q_amax_columns(const void *p, int type, int64_t len, uint32_t *acc) {
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
    int64_t i = 0;
    for (; i + 16 <= len; i += 16) {
        const __m512i a = _mm512_and_si512(_mm512_castps_si512(load16(p, type, i)), magnitude);
        _mm512_storeu_si512(acc + i, _mm512_max_epu32(_mm512_loadu_si512(acc + i), a));
    }
    dg_tail_amax_columns(p, type, i, len, acc);
}

// Per-column inverse scales of BF16 rows in load32_interleaved's order within each whole 64
// columns (the 16-column and scalar tails read the rest in column order), so that q_encode_e4m3
// loads them as they are.
DG_QTARGET static inline void inverse_interleaved(int type, int64_t len, float *inverse) {
    if (type != DG_TYPE_BF16) return;
    for (int64_t i = 0; i + 32 <= len - len % 64; i += 32) {
        const __m512 first = _mm512_loadu_ps(inverse + i), second = _mm512_loadu_ps(inverse + i + 16);
        _mm512_storeu_ps(inverse + i, _mm512_shuffle_f32x4(first, second, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm512_storeu_ps(inverse + i + 16, _mm512_shuffle_f32x4(first, second, _MM_SHUFFLE(3, 1, 3, 1)));
    }
}
#define q_inverse_done inverse_interleaved

DG_QTARGET static inline void q_encode_e4m3(const void *p, int type, int64_t len, const float *inv, int per_column,
                                            uint8_t *out, int stream) {
    __m512 s0 = _mm512_set1_ps(inv[0]), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= len; i += 64) {
        if (per_column) {
            s0 = _mm512_loadu_ps(inv + i); s1 = _mm512_loadu_ps(inv + i + 16);
            s2 = _mm512_loadu_ps(inv + i + 32); s3 = _mm512_loadu_ps(inv + i + 48);
        }
        __m512i bytes;
        if (type == DG_TYPE_BF16) {
            __m512 lo0, hi0, lo1, hi1;
            load32_interleaved(p, i, &lo0, &hi0);
            load32_interleaved(p, i + 32, &lo1, &hi1);
            bytes = pack64_interleaved(codes_e4m3(_mm512_mul_ps(lo0, s0)), codes_e4m3(_mm512_mul_ps(hi0, s1)),
                                       codes_e4m3(_mm512_mul_ps(lo1, s2)), codes_e4m3(_mm512_mul_ps(hi1, s3)));
        } else {
            bytes = pack64(codes_e4m3(_mm512_mul_ps(load16(p, type, i), s0)), codes_e4m3(_mm512_mul_ps(load16(p, type, i + 16), s1)),
                           codes_e4m3(_mm512_mul_ps(load16(p, type, i + 32), s2)), codes_e4m3(_mm512_mul_ps(load16(p, type, i + 48), s3)));
        }
        store64(out + i, bytes, stream);
    }
    for (; i + 16 <= len; i += 16) {
        const __m512 scale = per_column ? _mm512_loadu_ps(inv + i) : s0;
        _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtepi32_epi8(codes_e4m3(_mm512_mul_ps(load16(p, type, i), scale))));
    }
    dg_tail_e4m3(p, type, i, len, inv, per_column, out);
}

DG_QTARGET static inline void q_encode_e2m1(const void *p, int type, int64_t pairs, float inv, uint8_t *out, int stream) {
    const __m512 s = _mm512_set1_ps(inv);
    int64_t i = 0;
    for (; i + 32 <= pairs; i += 32) {
        const int64_t e = 2 * i;
        const __m512i codes = pack64(codes_e2m1(_mm512_mul_ps(load16(p, type, e), s)), codes_e2m1(_mm512_mul_ps(load16(p, type, e + 16), s)),
                                     codes_e2m1(_mm512_mul_ps(load16(p, type, e + 32), s)), codes_e2m1(_mm512_mul_ps(load16(p, type, e + 48), s)));
        // Byte pairs (even, odd) as 16-bit words: even | odd << 4 in the low byte.
        const __m256i bytes = _mm512_cvtepi16_epi8(_mm512_or_si512(codes, _mm512_srli_epi16(codes, 4)));
        if (stream && ((uintptr_t)(out + i) & 31) == 0) _mm256_stream_si256((__m256i *)(out + i), bytes);
        else _mm256_storeu_si256((__m256i *)(out + i), bytes);
    }
    dg_tail_e2m1(p, type, i, pairs, inv, out);
}

DG_QTARGET static inline void q_fence(void) { _mm_sfence(); }

#include "quantize_driver.inc"
#endif
