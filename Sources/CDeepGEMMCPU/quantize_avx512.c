// AVX-512F (F, BW, VL, DQ; no BF16 instructions) primitives of the quantization kernels, compiled
// into the shared loop structure of quantize_driver.inc. Gives the same bits as the portable code.
//
// The encoders work in "pair order", as the AVX2 ones do (see quantize_avx2.c): 32 elements as
// binary32 magnitudes `even` (elements 0, 2, ..., 30) and `odd` (1, 3, ..., 31) plus 16-bit words
// in element order whose bit 15 is each element's sign; the driver hands them only groups with a
// finite amax.
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

// The 32 elements at i in pair order: magnitudes `even` and `odd`, sign words `signs`.
DG_QTARGET static inline void load32_pairs(const void *p, int type, int64_t i, __m512 *even, __m512 *odd, __m512i *signs) {
    if (type == DG_TYPE_BF16) {
        const __m512i w = _mm512_loadu_si512((const uint16_t *)p + i);
        *signs = w;
        *even = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_and_si512(w, _mm512_set1_epi32(0x7FFF)), 16));
        *odd = _mm512_castsi512_ps(_mm512_and_si512(w, _mm512_set1_epi32(0x7FFF0000)));
        return;
    }
    const __m512 a = load16(p, type, i), b = load16(p, type, i + 16);
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
    const __m512 magnitude = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
    // Word j of the sign words is the high word of element j: word 2j + 1 of a:b.
    const __m512i high_words = _mm512_cvtepu8_epi16(_mm256_setr_epi8(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39,
                                                                     41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63));
    *signs = _mm512_permutex2var_epi16(_mm512_castps_si512(a), high_words, _mm512_castps_si512(b));
    *even = _mm512_and_ps(_mm512_permutex2var_ps(a, evens, b), magnitude);
    *odd = _mm512_and_ps(_mm512_permutex2var_ps(a, odds, b), magnitude);
}

// Two pair-order result vectors merged into 32 words in element order: even elements take the
// low words of even >> shift, odd elements the high words of odd >> (shift - 16) (arithmetic).
DG_QTARGET static inline __m512i merge_pairs(__m512i even, __m512i odd, int shift) {
    return _mm512_mask_blend_epi16((__mmask32)0xAAAAAAAAu, _mm512_srai_epi32(even, shift), _mm512_srai_epi32(odd, shift - 16));
}

// E4M3FN rounding of binary32 magnitudes, as in quantize_avx2.c: bits + 0x7FFFF + (bit 20) -
// (120 << 23), so that bits 20..31 hold the code for values of at least 2^-6 (past 448 more than
// 0x7E, which the signed byte pack saturates to the NaN code 0x7F) and a code below 8 or a
// negative number for smaller ones. Bit 20 is added under a mask.
DG_QTARGET static inline __m512i e4m3_rounded(__m512 v) {
    const __m512i a = _mm512_castps_si512(v);
    const __m512i t = _mm512_add_epi32(a, _mm512_set1_epi32(0x7FFFF - (120 << 23)));
    return _mm512_mask_add_epi32(t, _mm512_test_epi32_mask(a, _mm512_set1_epi32(1 << 20)), t, _mm512_set1_epi32(1));
}

// Subnormal E4M3 codes (values below 2^-6, exact by adding 2^14) of a pair's two vectors,
// replacing the words of `words` below 8.
DG_QTARGET static inline __m512i e4m3_subnormals(__m512 even, __m512 odd, __m512i words) {
    const __m512 bias = _mm512_set1_ps(16384.0f);
    const __m512i base = _mm512_set1_epi32(0x46800000);
    const __m512i low = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(even, bias)), base);
    const __m512i high = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(odd, bias)), base);
    const __m512i sub = _mm512_mask_blend_epi16((__mmask32)0xAAAAAAAAu, low, _mm512_slli_epi32(high, 16));
    return _mm512_mask_blend_epi16(_mm512_cmplt_epi16_mask(words, _mm512_set1_epi16(8)), words, sub);
}

// FP4 E2M1 keys of binary32 magnitudes in bits 21..31, as in quantize_avx2.c: -1 up to the
// midpoint 0.25, 0..5 up to 0.75, ..., 17 from just above 5 to 6 (-501 for 0).
DG_QTARGET static inline __m512i e2m1_keyed(__m512 v) {
    return _mm512_sub_epi32(_mm512_castps_si512(v), _mm512_set1_epi32(1 + (500 << 21)));
}

// The E4M3 words of the 32 elements at i times s[0..1] (pair order), in element order (codes,
// below 8 where subnormal results are still to come); `pair` keeps the products for those.
DG_QTARGET static inline __m512i e4m3_words(const void *p, int type, int64_t i, const __m512 s[2], __m512 pair[2], __m512i *signs) {
    load32_pairs(p, type, i, &pair[0], &pair[1], signs);
    pair[0] = _mm512_mul_ps(pair[0], s[0]);
    pair[1] = _mm512_mul_ps(pair[1], s[1]);
    return merge_pairs(e4m3_rounded(pair[0]), e4m3_rounded(pair[1]), 20);
}

// The E2M1 keys of the 32 elements at i times s, clamped to -5..17 as bytes in pack order
// (elements 0-7, 32-39, 8-15, 40-47, ... for the 64 at i) with the 64 elements' sign mask.
DG_QTARGET static inline __m512i e2m1_keys64(const void *p, int type, int64_t i, __m512 s, __mmask64 *negative) {
    __m512 e0, o0, e1, o1;
    __m512i s0, s1;
    load32_pairs(p, type, i, &e0, &o0, &s0);
    load32_pairs(p, type, i + 32, &e1, &o1, &s1);
    const __m512i w0 = merge_pairs(e2m1_keyed(_mm512_mul_ps(e0, s)), e2m1_keyed(_mm512_mul_ps(o0, s)), 21);
    const __m512i w1 = merge_pairs(e2m1_keyed(_mm512_mul_ps(e1, s)), e2m1_keyed(_mm512_mul_ps(o1, s)), 21);
    *negative = _mm512_movepi8_mask(_mm512_packs_epi16(s0, s1));
    return _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(w0, w1), _mm512_set1_epi8(-5)), _mm512_set1_epi8(17));
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

// BF16 rows keep 16-bit maxima (column order) in the first half of acc's bytes, four rows per
// pass over them (a short last group repeats its last row); q_amax_columns_done widens them.
DG_QTARGET static inline void q_amax_columns(const void *p, int type, int64_t rows, int64_t stride, int64_t len, uint32_t *acc) {
    if (type == DG_TYPE_BF16) {
        dg_u16_alias *narrow = (dg_u16_alias *)acc;
        const __m512i magnitude = _mm512_set1_epi16(0x7FFF);
        for (int64_t r = 0; r < rows; r += 4) {
            const uint16_t *row[4];
            for (int k = 0; k < 4; k++) row[k] = (const uint16_t *)p + (r + k < rows ? r + k : rows - 1) * stride;
            int64_t i = 0;
            for (; i + 32 <= len; i += 32) {
                __m512i m[4];
                for (int k = 0; k < 4; k++) m[k] = _mm512_and_si512(_mm512_loadu_si512(row[k] + i), magnitude);
                _mm512_storeu_si512(narrow + i, _mm512_max_epu16(_mm512_loadu_si512(narrow + i), _mm512_max_epu16(_mm512_max_epu16(m[0], m[1]), _mm512_max_epu16(m[2], m[3]))));
            }
            for (int k = 0; k < 4; k++) dg_tail_amax_bf16_columns(row[k], i, len, narrow);
        }
        return;
    }
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
    for (int64_t r = 0; r < rows; r++) {
        const void *row = (const uint8_t *)p + r * stride * dg_float_size(type);
        int64_t i = 0;
        for (; i + 16 <= len; i += 16) {
            const __m512i a = _mm512_and_si512(_mm512_castps_si512(load16(row, type, i)), magnitude);
            _mm512_storeu_si512(acc + i, _mm512_max_epu32(_mm512_loadu_si512(acc + i), a));
        }
        dg_tail_amax_columns(row, type, i, len, acc);
    }
}

#define q_amax_columns_done dg_amax_columns_widen

// Per-column inverse scales in pair order within each whole 32 columns (the scalar tail reads the
// rest in column order), so that q_encode_e4m3 loads them as they are.
DG_QTARGET static inline void inverse_in_pair_order(int type, int64_t len, float *inverse) {
    (void)type;
    for (int64_t i = 0; i + 32 <= len; i += 32) {
        __m512 even, odd;
        __m512i signs;
        load32_pairs(inverse, DG_TYPE_F32, i, &even, &odd, &signs);
        _mm512_storeu_ps(inverse + i, even);
        _mm512_storeu_ps(inverse + i + 16, odd);
    }
}
#define q_inverse_done inverse_in_pair_order

DG_QTARGET static inline void q_encode_e4m3(const void *p, int type, int64_t len, const float *inv, int64_t gran,
                                            uint8_t *out, int stream, const void *ahead) {
    const int64_t element = dg_float_size(type);
    __m512 s0[2], s1[2];
    const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    int64_t i = 0, g = -1, group_end = 0;
    for (; i + 64 <= len; i += 64) {
        if (!gran) {
            s0[0] = _mm512_loadu_ps(inv + i); s0[1] = _mm512_loadu_ps(inv + i + 16);
            s1[0] = _mm512_loadu_ps(inv + i + 32); s1[1] = _mm512_loadu_ps(inv + i + 48);
        } else if (i >= group_end) {
            group_end += gran;
            s0[0] = s0[1] = s1[0] = s1[1] = _mm512_set1_ps(inv[++g]);
        }
        dg_prefetch_l2(ahead, i * element, 64 * element);
        __m512 pair0[2], pair1[2];
        __m512i signs0, signs1;
        __m512i w0 = e4m3_words(p, type, i, s0, pair0, &signs0), w1 = e4m3_words(p, type, i + 32, s1, pair1, &signs1);
        // Bytes in pack order (elements 0-7, 32-39, 8-15, 40-47, ...); a 64-bit permute restores
        // element order.
        __m512i codes = _mm512_packs_epi16(w0, w1);
        if (_mm512_cmplt_epi8_mask(codes, _mm512_set1_epi8(8))) {
            w0 = e4m3_subnormals(pair0[0], pair0[1], w0);
            w1 = e4m3_subnormals(pair1[0], pair1[1], w1);
            codes = _mm512_packs_epi16(w0, w1);
        }
        // codes | (signs & 0x80)
        codes = _mm512_ternarylogic_epi32(codes, _mm512_packs_epi16(signs0, signs1), _mm512_set1_epi8((char)0x80), 0xF8);
        store64(out + i, _mm512_permutexvar_epi64(order, codes), stream);
    }
    dg_prefetch_l2(ahead, i * element, (len - i) * element);
    if (i + 32 <= len) {
        if (!gran) {
            s0[0] = _mm512_loadu_ps(inv + i); s0[1] = _mm512_loadu_ps(inv + i + 16);
        } else if (i >= group_end) {
            s0[0] = s0[1] = _mm512_set1_ps(inv[++g]);
        }
        __m512 pair[2];
        __m512i signs;
        const __m512i rounded = e4m3_words(p, type, i, s0, pair, &signs);
        const __m512i words = e4m3_subnormals(pair[0], pair[1], rounded);
        const __m256i codes = _mm512_cvtsepi16_epi8(words);
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_mask_blend_epi8(_mm512_movepi16_mask(signs), codes, _mm256_or_si256(codes, _mm256_set1_epi8((char)0x80))));
        i += 32;
    }
    dg_tail_e4m3(p, type, i, len, inv, gran, out);
}

DG_QTARGET static inline void q_encode_e2m1(const void *p, int type, int64_t pairs, const float *inv, int64_t gran, uint8_t *out,
                                            int stream, const void *ahead) {
    const int64_t element = dg_float_size(type);
    const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7));
    // Pairs of elements 8j..8j+7 sit in dword 2j (j < 4) or 2(j - 4) + 1 after the narrowing.
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    __m512 s = _mm512_setzero_ps();
    int64_t i = 0, g = -1, group_end = 0;
    for (; i + 32 <= pairs; i += 32) {
        if (2 * i >= group_end) {
            group_end += gran;
            s = _mm512_set1_ps(inv[++g]);
        }
        dg_prefetch_l2(ahead, 2 * i * element, 64 * element);
        __mmask64 negative;
        // A saturating subtraction of 2 folds the keys into a byte-shuffle index: 0-15 for the
        // codes 1-7, bit 7 set (which the shuffle reads as 0) for keys below 0; the sign (8)
        // goes on negative sources' non-zero codes.
        const __m512i index = _mm512_subs_epu8(e2m1_keys64(p, type, 2 * i, s, &negative), _mm512_set1_epi8(2));
        __m512i codes = _mm512_shuffle_epi8(table, index);
        codes = _mm512_or_si512(codes, _mm512_maskz_shuffle_epi8(negative, _mm512_set1_epi8(8), index));
        // Byte pairs (even, odd) as words even + 16 * odd, narrowed to bytes.
        const __m256i bytes = _mm256_permutevar8x32_epi32(_mm512_cvtepi16_epi8(_mm512_maddubs_epi16(codes, _mm512_set1_epi16(0x1001))), order);
        if (stream && ((uintptr_t)(out + i) & 31) == 0) _mm256_stream_si256((__m256i *)(out + i), bytes);
        else _mm256_storeu_si256((__m256i *)(out + i), bytes);
    }
    dg_prefetch_l2(ahead, 2 * i * element, 2 * (pairs - i) * element);
    dg_tail_e2m1(p, type, i, pairs, inv, gran, out);
}

DG_QTARGET static inline void q_fence(void) { _mm_sfence(); }

#include "quantize_driver.inc"
#endif
