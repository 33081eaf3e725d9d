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

// The chunk order of 32 consecutive elements as four vectors: x[0] holds elements 0-3 and 8-11,
// x[1] 4-7 and 12-15, x[2] 16-19 and 24-27, x[3] 20-23 and 28-31. Interleaving BF16 words with
// zeros widens them in this order with one instruction per vector, and the saturating packs of
// pack_chunk turn it back into 16-bit element order. With `magnitude` the signs are cleared.
DG_QTARGET static inline void load_chunk(const void *p, int type, int64_t i, int magnitude, __m256 x[4]) {
    for (int h = 0; h < 2; h++) {
        if (type == DG_TYPE_BF16) {
            __m256i w = _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i + 16 * h));
            if (magnitude) w = _mm256_and_si256(w, _mm256_set1_epi16(0x7FFF));
            x[2 * h] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), w));
            x[2 * h + 1] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(_mm256_setzero_si256(), w));
        } else {
            const __m256 low = load8(p, type, i + 16 * h), high = load8(p, type, i + 16 * h + 8);
            x[2 * h] = _mm256_permute2f128_ps(low, high, 0x20);
            x[2 * h + 1] = _mm256_permute2f128_ps(low, high, 0x31);
            if (magnitude)
                for (int k = 2 * h; k < 2 * h + 2; k++) x[k] = _mm256_and_ps(x[k], _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF)));
        }
    }
}

// Four vectors of 32-bit lanes (each 0..255, chunk order) as 32 bytes in "pack order": elements
// 0-7, 16-23, 8-15, 24-31 (a 64-bit permute 0xD8 restores element order).
DG_QTARGET static inline __m256i pack_chunk(const __m256i c[4]) {
    return _mm256_packus_epi16(_mm256_packus_epi32(c[0], c[1]), _mm256_packus_epi32(c[2], c[3]));
}

// 0xFF where a lane's sign bit is set, 0 elsewhere, as bytes in pack order.
DG_QTARGET static inline __m256i sign_bytes(const __m256 v[4]) {
    __m256i s[4];
    for (int k = 0; k < 4; k++) s[k] = _mm256_srai_epi32(_mm256_castps_si256(v[k]), 31);
    return _mm256_packs_epi16(_mm256_packs_epi32(s[0], s[1]), _mm256_packs_epi32(s[2], s[3]));
}

// sign_bytes of the 32 source elements at i (16-bit sources straight from their words).
DG_QTARGET static inline __m256i source_sign_bytes(const void *p, int type, int64_t i) {
    if (type == DG_TYPE_F32) {
        __m256 x[4];
        load_chunk(p, type, i, 0, x);
        return sign_bytes(x);
    }
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i));
    const __m256i w1 = _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i + 16));
    return _mm256_packs_epi16(_mm256_srai_epi16(w0, 15), _mm256_srai_epi16(w1, 15));
}

// E4M3FN codes (RNE, NaN past 448) of 32 binary32 values without their signs, one per 32-bit
// lane. Magnitudes clamp at 480, whose code is the NaN code 0x7F, so NaN and everything that
// rounds past 448 land there; the subnormal formula runs only for chunks that need it.
DG_QTARGET static inline void codes_e4m3(const __m256 v[4], __m256i c[4]) {
    __m256i a[4];
    for (int k = 0; k < 4; k++)
        a[k] = _mm256_min_epi32(_mm256_and_si256(_mm256_castps_si256(v[k]), _mm256_set1_epi32(0x7FFFFFFF)), _mm256_set1_epi32(0x43F00000));
    const __m256i least = _mm256_min_epi32(_mm256_min_epi32(a[0], a[1]), _mm256_min_epi32(a[2], a[3]));
    const int subnormal = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(0x3C800000), least))) != 0;
    for (int k = 0; k < 4; k++) {
        const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(a[k], 20), _mm256_set1_epi32(1));
        c[k] = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(a[k], _mm256_set1_epi32(0x7FFFF - 0x3C000000)), lsb), 20);
        if (subnormal) {
            const __m256i below = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3C800000), a[k]);
            const __m256 shifted = _mm256_add_ps(_mm256_castsi256_ps(a[k]), _mm256_set1_ps(16384.0f));
            c[k] = _mm256_blendv_epi8(c[k], _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x46800000)), below);
        }
    }
}

// FP4 E2M1 codes of 32 magnitudes by the helper's rule (strict midpoints, saturation at 6, NaN
// to 0) as bytes in pack order. Every midpoint has its 21 low bits zero, so (bits - 1) >> 21
// counts the midpoints strictly below |x|: clamped to [0.125, 5.5] (NaN to 0.125) that key is
// -5...17 after subtracting 500 (0.25's key), and a saturating subtraction of 2 folds it into a
// byte-shuffle index: 0-15 for the codes 1-7, bit 7 set (which the shuffle reads as 0) below.
DG_QTARGET static inline __m256i codes_e2m1(const __m256 v[4]) {
    const __m256i table = _mm256_setr_epi8(1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7);
    __m256i key[4];
    for (int k = 0; k < 4; k++) {
        const __m256 clamped = _mm256_min_ps(_mm256_max_ps(v[k], _mm256_set1_ps(0.125f)), _mm256_set1_ps(5.5f));
        key[k] = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_castps_si256(clamped), _mm256_set1_epi32(1 + (500 << 21))), 21);
    }
    const __m256i keys = _mm256_packs_epi16(_mm256_packs_epi32(key[0], key[1]), _mm256_packs_epi32(key[2], key[3]));
    return _mm256_shuffle_epi8(table, _mm256_subs_epu8(keys, _mm256_set1_epi8(2)));
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

// BF16 rows keep acc in chunk order within each 16 columns (two vectors of load_chunk's order,
// widened by interleaving with zeros); q_amax_columns_done restores column order.
DG_QTARGET static inline void q_amax_columns(const void *p, int type, int64_t len, uint32_t *acc) {
    int64_t i = 0;
    if (type == DG_TYPE_BF16) {
        for (; i + 16 <= len; i += 16) {
            const __m256i w = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i)), _mm256_set1_epi16(0x7FFF));
            __m256i *at = (__m256i *)(acc + i);
            _mm256_storeu_si256(at, _mm256_max_epu32(_mm256_loadu_si256(at), _mm256_unpacklo_epi16(_mm256_setzero_si256(), w)));
            _mm256_storeu_si256(at + 1, _mm256_max_epu32(_mm256_loadu_si256(at + 1), _mm256_unpackhi_epi16(_mm256_setzero_si256(), w)));
        }
    } else {
        for (; i + 8 <= len; i += 8) {
            const __m256i a = _mm256_and_si256(_mm256_castps_si256(load8(p, type, i)), _mm256_set1_epi32(0x7FFFFFFF));
            _mm256_storeu_si256((__m256i *)(acc + i), _mm256_max_epu32(_mm256_loadu_si256((const __m256i *)(acc + i)), a));
        }
    }
    dg_tail_amax_columns(p, type, i, len, acc);
}

DG_QTARGET static inline void amax_columns_in_order(int type, int64_t len, uint32_t *acc) {
    if (type != DG_TYPE_BF16) return;
    for (int64_t i = 0; i + 16 <= len; i += 16) {
        const __m256i low = _mm256_loadu_si256((const __m256i *)(acc + i)), high = _mm256_loadu_si256((const __m256i *)(acc + i + 8));
        _mm256_storeu_si256((__m256i *)(acc + i), _mm256_permute2x128_si256(low, high, 0x20));
        _mm256_storeu_si256((__m256i *)(acc + i + 8), _mm256_permute2x128_si256(low, high, 0x31));
    }
}
#define q_amax_columns_done amax_columns_in_order

// Per-column inverse scales in load_chunk's order (whole chunks; the scalar tail reads the rest
// in column order), so that q_encode_e4m3 loads them as they are.
DG_QTARGET static inline void inverse_in_chunk_order(int type, int64_t len, float *inverse) {
    (void)type;
    for (int64_t i = 0; i + 32 <= len; i += 32) {
        __m256 s[4];
        load_chunk(inverse, DG_TYPE_F32, i, 0, s);
        for (int k = 0; k < 4; k++) _mm256_storeu_ps(inverse + i + 8 * k, s[k]);
    }
}
#define q_inverse_done inverse_in_chunk_order

DG_QTARGET static inline void q_encode_e4m3(const void *p, int type, int64_t len, const float *inv, int per_column,
                                            uint8_t *out, int stream) {
    const __m256 uniform = _mm256_set1_ps(inv[0]);
    __m256 s[4] = {uniform, uniform, uniform, uniform};
    int64_t i = 0;
    for (; i + 32 <= len; i += 32) {
        __m256 v[4];
        __m256i c[4];
        load_chunk(p, type, i, 0, v);
        if (per_column)
            for (int k = 0; k < 4; k++) s[k] = _mm256_loadu_ps(inv + i + 8 * k);
        for (int k = 0; k < 4; k++) v[k] = _mm256_mul_ps(v[k], s[k]);
        codes_e4m3(v, c);
        const __m256i sign = _mm256_and_si256(sign_bytes(v), _mm256_set1_epi8((char)0x80));
        const __m256i bytes = _mm256_permute4x64_epi64(_mm256_or_si256(pack_chunk(c), sign), 0xD8);
        if (stream && ((uintptr_t)(out + i) & 31) == 0) _mm256_stream_si256((__m256i *)(out + i), bytes);
        else _mm256_storeu_si256((__m256i *)(out + i), bytes);
    }
    dg_tail_e4m3(p, type, i, len, inv, per_column, out);
}

DG_QTARGET static inline void q_encode_e2m1(const void *p, int type, int64_t pairs, float inv, uint8_t *out, int stream) {
    const __m256 s = _mm256_set1_ps(inv);
    int64_t i = 0;
    for (; i + 16 <= pairs; i += 16) {
        __m256 v[4];
        load_chunk(p, type, 2 * i, 1, v);
        for (int k = 0; k < 4; k++) v[k] = _mm256_mul_ps(v[k], s);
        // The scale is positive, so the products have the sources' signs; they go on non-zero
        // codes only.
        const __m256i codes = codes_e2m1(v);
        const __m256i sign = _mm256_and_si256(source_sign_bytes(p, type, 2 * i), _mm256_set1_epi8(8));
        const __m256i signed_codes = _mm256_or_si256(codes, _mm256_and_si256(sign, _mm256_cmpgt_epi8(codes, _mm256_setzero_si256())));
        // Byte pairs (even, odd) as even + 16 * odd in 16-bit lanes, narrowed to bytes; the
        // dwords of pack order then go back to element order.
        const __m256i words = _mm256_maddubs_epi16(signed_codes, _mm256_set1_epi16(0x1001));
        const __m256i narrowed = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(words, words), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        const __m128i bytes = _mm256_castsi256_si128(narrowed);
        if (stream && ((uintptr_t)(out + i) & 15) == 0) _mm_stream_si128((__m128i *)(out + i), bytes);
        else _mm_storeu_si128((__m128i *)(out + i), bytes);
    }
    dg_tail_e2m1(p, type, i, pairs, inv, out);
}

DG_QTARGET static inline void q_fence(void) { _mm_sfence(); }

#include "quantize_driver.inc"
#endif
