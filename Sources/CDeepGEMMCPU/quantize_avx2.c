// AVX2 + FMA + F16C primitives of the quantization kernels, compiled into the shared loop
// structure of quantize_driver.inc. Gives the same bits as the portable code.
//
// The encoders work in "pair order": 16 elements as two vectors of binary32 magnitudes, `even`
// (elements 0, 2, ..., 14) and `odd` (1, 3, ..., 15), plus 16-bit words in element order whose bit
// 15 is each element's sign. BF16 words become binary32 in place (a shift and a mask, no shuffles),
// and the 32-bit results of the two vectors merge back into element order with one word blend.
// The driver hands them only groups with a finite amax (dg_plain_amax), so the products of the
// magnitudes are numbers and keep their sources' signs.
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

// The 16 elements at i in pair order: magnitudes `even` and `odd`, sign words `signs`.
DG_QTARGET static inline void load16_pairs(const void *p, int type, int64_t i, __m256 *even, __m256 *odd, __m256i *signs) {
    if (type == DG_TYPE_BF16) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i));
        *signs = w;
        *even = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(w, _mm256_set1_epi32(0x7FFF)), 16));
        *odd = _mm256_castsi256_ps(_mm256_and_si256(w, _mm256_set1_epi32(0x7FFF0000)));
        return;
    }
    const __m256 a = load8(p, type, i), b = load8(p, type, i + 8);
    // Lanes of elements 0-3 | 8-11 and 4-7 | 12-15: the saturating pack keeps each sign in
    // element order, the shuffles pick the even and the odd ones.
    const __m256 low = _mm256_permute2f128_ps(a, b, 0x20), high = _mm256_permute2f128_ps(a, b, 0x31);
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    *signs = _mm256_packs_epi32(_mm256_castps_si256(low), _mm256_castps_si256(high));
    *even = _mm256_and_ps(_mm256_shuffle_ps(low, high, 0x88), magnitude);
    *odd = _mm256_and_ps(_mm256_shuffle_ps(low, high, 0xDD), magnitude);
}

// Two pair-order vectors of 32-bit results, each wanted as its bits `shift`..31, merged into 16
// words in element order: even elements take the low words of even >> shift, odd elements the
// high words of odd >> (shift - 16) (both arithmetic, so negative results stay negative).
DG_QTARGET static inline __m256i merge_pairs(__m256i even, __m256i odd, int shift) {
    return _mm256_blend_epi16(_mm256_srai_epi32(even, shift), _mm256_srai_epi32(odd, shift - 16), 0xAA);
}

// E4M3FN rounding of binary32 magnitudes: bits + 0x7FFFF + (bit 20) rounds to nearest even at
// mantissa bit 20, and subtracting 120 << 23 re-biases the exponent, so bits 20..31 hold the code
// for values of at least 2^-6 (past 448 they exceed 0x7E, which the signed byte pack saturates to
// the NaN code 0x7F) and a code below 8 or a negative number for smaller ones.
DG_QTARGET static inline __m256i e4m3_rounded(__m256 v) {
    const __m256i a = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(a, 20), _mm256_set1_epi32(1));
    return _mm256_add_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(0x7FFFF - (120 << 23))), lsb);
}

// Subnormal E4M3 codes (values below 2^-6, exact by adding 2^14) in a pair's two vectors,
// replacing the words of `words` below 8.
DG_QTARGET static inline __m256i e4m3_subnormals(__m256 even, __m256 odd, __m256i words) {
    const __m256 bias = _mm256_set1_ps(16384.0f);
    const __m256i base = _mm256_set1_epi32(0x46800000);
    const __m256i low = _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(even, bias)), base);
    const __m256i high = _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(odd, bias)), base);
    const __m256i sub = _mm256_blend_epi16(low, _mm256_slli_epi32(high, 16), 0xAA);
    return _mm256_blendv_epi8(words, sub, _mm256_cmpgt_epi16(_mm256_set1_epi16(8), words));
}

// FP4 E2M1 keys of binary32 magnitudes in bits 21..31: every midpoint has its 21 low bits zero,
// so (bits - 1) >> 21 tells the midpoints strictly below |x| apart (0 gives -1); minus 500 that is
// -1 up to the midpoint 0.25, 0..5 up to 0.75, ..., 17 from just above 5 to 6 (-501 for 0).
DG_QTARGET static inline __m256i e2m1_keyed(__m256 v) {
    return _mm256_sub_epi32(_mm256_castps_si256(v), _mm256_set1_epi32(1 + (500 << 21)));
}

// E4M3 bytes of the 32 elements at i times s[0..3] (pair order), in element order.
DG_QTARGET static inline __m256i e4m3_bytes(const void *p, int type, int64_t i, const __m256 s[4]) {
    __m256 e0, o0, e1, o1;
    __m256i s0, s1;
    load16_pairs(p, type, i, &e0, &o0, &s0);
    load16_pairs(p, type, i + 16, &e1, &o1, &s1);
    e0 = _mm256_mul_ps(e0, s[0]); o0 = _mm256_mul_ps(o0, s[1]);
    e1 = _mm256_mul_ps(e1, s[2]); o1 = _mm256_mul_ps(o1, s[3]);
    __m256i w0 = merge_pairs(e4m3_rounded(e0), e4m3_rounded(o0), 20);
    __m256i w1 = merge_pairs(e4m3_rounded(e1), e4m3_rounded(o1), 20);
    // Bytes in "pack order" (elements 0-7, 16-23, 8-15, 24-31); a 64-bit permute restores
    // element order.
    __m256i codes = _mm256_packs_epi16(w0, w1);
    if (_mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_set1_epi8(8), codes))) {
        w0 = e4m3_subnormals(e0, o0, w0);
        w1 = e4m3_subnormals(e1, o1, w1);
        codes = _mm256_packs_epi16(w0, w1);
    }
    const __m256i signs = _mm256_and_si256(_mm256_packs_epi16(s0, s1), _mm256_set1_epi8((char)0x80));
    return _mm256_permute4x64_epi64(_mm256_or_si256(codes, signs), 0xD8);
}

// The 32 elements at i times s as 16 words of two E2M1 codes each (even element in the low
// nibble), in pack order. Keys are clamped to -5..17 after the saturating byte pack (products of
// the group's maximum may round a little past 6), and a saturating subtraction of 2 folds them
// into a byte-shuffle index: 0-15 for the codes 1-7, bit 7 set (which the shuffle reads as 0)
// for keys below 0.
DG_QTARGET static inline __m256i e2m1_words(const void *p, int type, int64_t i, __m256 s) {
    const __m256i table = _mm256_setr_epi8(1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7);
    __m256 e0, o0, e1, o1;
    __m256i s0, s1;
    load16_pairs(p, type, i, &e0, &o0, &s0);
    load16_pairs(p, type, i + 16, &e1, &o1, &s1);
    const __m256i w0 = merge_pairs(e2m1_keyed(_mm256_mul_ps(e0, s)), e2m1_keyed(_mm256_mul_ps(o0, s)), 21);
    const __m256i w1 = merge_pairs(e2m1_keyed(_mm256_mul_ps(e1, s)), e2m1_keyed(_mm256_mul_ps(o1, s)), 21);
    const __m256i keys = _mm256_min_epi8(_mm256_max_epi8(_mm256_packs_epi16(w0, w1), _mm256_set1_epi8(-5)), _mm256_set1_epi8(17));
    const __m256i index = _mm256_subs_epu8(keys, _mm256_set1_epi8(2));
    const __m256i codes = _mm256_shuffle_epi8(table, index);
    // The sign (8) goes on negative sources' non-zero codes.
    const __m256i negative = _mm256_cmpgt_epi8(_mm256_setzero_si256(), _mm256_packs_epi16(s0, s1));
    const __m256i sign = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi8(8), index), negative);
    return _mm256_maddubs_epi16(_mm256_or_si256(codes, sign), _mm256_set1_epi16(0x1001));
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
        top = dg_max_bf16_magnitude8(_mm_max_epu16(_mm256_castsi256_si128(best), _mm256_extracti128_si256(best, 1)));
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

// BF16 rows keep 16-bit maxima (column order) in the first half of acc's bytes, four rows per
// pass over them (a short last group repeats its last row); q_amax_columns_done widens them.
DG_QTARGET static inline void q_amax_columns(const void *p, int type, int64_t rows, int64_t stride, int64_t len, uint32_t *acc) {
    if (type == DG_TYPE_BF16) {
        dg_u16_alias *narrow = (dg_u16_alias *)acc;
        const __m256i magnitude = _mm256_set1_epi16(0x7FFF);
        for (int64_t r = 0; r < rows; r += 4) {
            const uint16_t *row[4];
            for (int k = 0; k < 4; k++) row[k] = (const uint16_t *)p + (r + k < rows ? r + k : rows - 1) * stride;
            int64_t i = 0;
            for (; i + 16 <= len; i += 16) {
                __m256i m[4];
                for (int k = 0; k < 4; k++) m[k] = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(row[k] + i)), magnitude);
                __m256i *at = (__m256i *)(narrow + i);
                _mm256_storeu_si256(at, _mm256_max_epu16(_mm256_loadu_si256(at), _mm256_max_epu16(_mm256_max_epu16(m[0], m[1]), _mm256_max_epu16(m[2], m[3]))));
            }
            for (int k = 0; k < 4; k++) dg_tail_amax_bf16_columns(row[k], i, len, narrow);
        }
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const void *row = (const uint8_t *)p + r * stride * dg_float_size(type);
        int64_t i = 0;
        for (; i + 8 <= len; i += 8) {
            const __m256i a = _mm256_and_si256(_mm256_castps_si256(load8(row, type, i)), _mm256_set1_epi32(0x7FFFFFFF));
            _mm256_storeu_si256((__m256i *)(acc + i), _mm256_max_epu32(_mm256_loadu_si256((const __m256i *)(acc + i)), a));
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
        for (int h = 0; h < 32; h += 16) {
            __m256 even, odd;
            __m256i signs;
            load16_pairs(inverse, DG_TYPE_F32, i + h, &even, &odd, &signs);
            _mm256_storeu_ps(inverse + i + h, even);
            _mm256_storeu_ps(inverse + i + h + 8, odd);
        }
    }
}
#define q_inverse_done inverse_in_pair_order

DG_QTARGET static inline void q_encode_e4m3(const void *p, int type, int64_t len, const float *inv, int64_t gran,
                                            uint8_t *out, int stream, const void *ahead) {
    const int64_t element = dg_float_size(type);
    __m256 s[4];
    int64_t i = 0, g = -1, group_end = 0;
    for (; i + 32 <= len; i += 32) {
        if (!gran) {
            for (int k = 0; k < 4; k++) s[k] = _mm256_loadu_ps(inv + i + 8 * k);
        } else if (i >= group_end) {
            group_end += gran;
            s[0] = s[1] = s[2] = s[3] = _mm256_set1_ps(inv[++g]);
        }
        dg_prefetch_l2(ahead, i * element, 32 * element);
        const __m256i bytes = e4m3_bytes(p, type, i, s);
        if (stream && ((uintptr_t)(out + i) & 31) == 0) _mm256_stream_si256((__m256i *)(out + i), bytes);
        else _mm256_storeu_si256((__m256i *)(out + i), bytes);
    }
    dg_prefetch_l2(ahead, i * element, (len - i) * element);
    dg_tail_e4m3(p, type, i, len, inv, gran, out);
}

DG_QTARGET static inline void q_encode_e2m1(const void *p, int type, int64_t pairs, const float *inv, int64_t gran, uint8_t *out,
                                            int stream, const void *ahead) {
    const int64_t element = dg_float_size(type);
    // Words of pack order (pairs of elements 0-7, 16-23 | 8-15, 24-31 for each 32) narrowed to
    // bytes and put back in element order by one dword permute.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256 s = _mm256_setzero_ps();
    int64_t i = 0, g = -1, group_end = 0;
    for (; i + 32 <= pairs; i += 32) {
        if (2 * i >= group_end) {
            group_end += gran;
            s = _mm256_set1_ps(inv[++g]);
        }
        dg_prefetch_l2(ahead, 2 * i * element, 64 * element);
        const __m256i first = e2m1_words(p, type, 2 * i, s), second = e2m1_words(p, type, 2 * i + 32, s);
        const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(first, second), order);
        if (stream && ((uintptr_t)(out + i) & 31) == 0) _mm256_stream_si256((__m256i *)(out + i), bytes);
        else _mm256_storeu_si256((__m256i *)(out + i), bytes);
    }
    dg_prefetch_l2(ahead, 2 * i * element, 2 * (pairs - i) * element);
    for (; i + 16 <= pairs; i += 16) {
        if (2 * i >= group_end) {
            group_end += gran;
            s = _mm256_set1_ps(inv[++g]);
        }
        const __m256i words = e2m1_words(p, type, 2 * i, s);
        _mm_storeu_si128((__m128i *)(out + i), _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_packus_epi16(words, words), order)));
    }
    dg_tail_e2m1(p, type, i, pairs, inv, gran, out);
}

DG_QTARGET static inline void q_fence(void) { _mm_sfence(); }

#include "quantize_driver.inc"
#endif
