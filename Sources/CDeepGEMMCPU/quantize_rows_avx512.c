// Hand-vectorized AVX-512 per-token FP8 quantization for F32 and BF16 rows: one pass for the
// group amax (16-bit or 32-bit integer max on magnitudes, so NaN wins) and one for the scaled
// E4M3 encode, with masked loads and stores for tails. Gives the same bits as the portable body.
#include "CDeepGEMMCPU.h"
#include "scalar_formats.h"
#include "quantize_rows_avx512.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define DG_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

// Loads up to 16 elements starting at `i` of a row as binary32 (masked past `len`).
DG_AVX512 static inline __m512 load16(const void *row, int src_type, int64_t i, int64_t len) {
    __mmask16 mask = len - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (len - i)) - 1u);
    if (src_type == DG_TYPE_F32) return _mm512_maskz_loadu_ps(mask, (const float *)row + i);
    __m256i halves = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)row + i);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
}

// Loads 16 elements starting at `i` of a row as binary32.
DG_AVX512 static inline __m512 load16_full(const void *row, int src_type, int64_t i) {
    if (src_type == DG_TYPE_F32) return _mm512_loadu_ps((const float *)row + i);
    __m256i halves = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
}

// E4M3FN codes (RNE, NaN past 448) of 16 binary32 values. The subnormal path runs only when a lane
// needs it, and the overflow/NaN path only when the group's amax is not finite (a finite amax
// bounds every scaled value by 448 plus rounding, far below 464).
DG_AVX512 static inline __m128i encode16(__m512 v, int may_overflow) {
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i a = _mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF));
    // Normal: RNE at mantissa bit 20 and re-bias (127 - 7) << 3 in one add; wraps harmlessly for
    // lanes that the subnormal or overflow paths replace.
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(a, 20), _mm512_set1_epi32(1));
    __m512i code = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(a, _mm512_set1_epi32(0x7FFFF - 0x3C000000)), lsb), 20);
    const __mmask16 is_normal = _mm512_cmpge_epu32_mask(a, _mm512_set1_epi32(0x3C800000));
    if (is_normal != (__mmask16)0xFFFF) {
        const __m512 shifted = _mm512_add_ps(_mm512_castsi512_ps(a), _mm512_set1_ps(16384.0f));
        const __m512i sub = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x46800000));
        code = _mm512_mask_blend_epi32(is_normal, sub, code);
    }
    if (may_overflow) {
        const __mmask16 overflow = _mm512_cmpge_epu32_mask(a, _mm512_set1_epi32(0x43F00000));
        code = _mm512_mask_mov_epi32(code, overflow, _mm512_set1_epi32(0x7F));
    }
    // code | ((bits >> 24) & 0x80)
    code = _mm512_ternarylogic_epi32(code, _mm512_srli_epi32(bits, 24), _mm512_set1_epi32(0x80), 0xF8);
    return _mm512_cvtepi32_epi8(code);
}

// max |x| of `len` elements as binary32 (integer max on magnitudes).
DG_AVX512 static inline float group_amax(const void *group, int src_type, int64_t len) {
    if (src_type == DG_TYPE_F32) {
        const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
        __m512i best = _mm512_setzero_si512();
        int64_t i = 0;
        for (; i + 16 <= len; i += 16) {
            best = _mm512_max_epu32(best, _mm512_and_si512(_mm512_loadu_si512((const uint32_t *)group + i), magnitude));
        }
        if (i < len) {
            __m512i tail = _mm512_maskz_loadu_epi32((__mmask16)((1u << (len - i)) - 1u), (const uint32_t *)group + i);
            best = _mm512_max_epu32(best, _mm512_and_si512(tail, magnitude));
        }
        return dg_u2f((uint32_t)_mm512_reduce_max_epu32(best));
    }
    const __m512i magnitude = _mm512_set1_epi16(0x7FFF);
    __m512i best = _mm512_setzero_si512();
    int64_t i = 0;
    for (; i + 32 <= len; i += 32) {
        best = _mm512_max_epu16(best, _mm512_and_si512(_mm512_loadu_si512((const uint16_t *)group + i), magnitude));
    }
    if (i < len) {
        __m512i tail = _mm512_maskz_loadu_epi16((__mmask32)((1u << (len - i)) - 1u), (const uint16_t *)group + i);
        best = _mm512_max_epu16(best, _mm512_and_si512(tail, magnitude));
    }
    // Widen the 16-bit maxima to 32-bit lanes and reduce.
    __m512i low = _mm512_cvtepu16_epi32(_mm512_castsi512_si256(best));
    __m512i high = _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(best, 1));
    return dg_bf16_to_f32((uint16_t)_mm512_reduce_max_epu32(_mm512_max_epu32(low, high)));
}

DG_AVX512 void dg_quantize_rows_e4m3_avx512_explicit(const void *src, int src_type, int64_t rows, int64_t n,
                                                     int64_t src_stride, int64_t gran, int use_ue8m0, uint8_t *dst,
                                                     int64_t dst_stride, float *sf, int64_t sf_stride) {
    const int64_t element = src_type == DG_TYPE_F32 ? 4 : 2;
    const int64_t groups = (n + gran - 1) / gran;
    // Three passes per row (all group maxima, all scales, all encodes) so that the long-latency
    // reductions and divisions of different groups overlap.
    float inverse[64];
    int finite[64];
    for (int64_t r = 0; r < rows; r++) {
        const uint8_t *row = (const uint8_t *)src + r * src_stride * element;
        for (int64_t g0 = 0; g0 < groups; g0 += 64) {
            const int64_t count = groups - g0 < 64 ? groups - g0 : 64;
            float *scales = sf + r * sf_stride + g0;
            for (int64_t g = 0; g < count; g++) {
                const int64_t start = (g0 + g) * gran, len = n - start < gran ? n - start : gran;
                scales[g] = group_amax(row + start * element, src_type, len);
            }
            for (int64_t g = 0; g < count; g++) {
                finite[g] = dg_f2u(scales[g]) < 0x7F800000u;
                scales[g] = dg_group_scale(scales[g], 448.0f, use_ue8m0);
                inverse[g] = 1.0f / scales[g];
            }
            for (int64_t g = 0; g < count; g++) {
                const int64_t start = (g0 + g) * gran, len = n - start < gran ? n - start : gran;
                const void *group = row + start * element;
                const __m512 scale = _mm512_set1_ps(inverse[g]);
                uint8_t *out = dst + r * dst_stride + start;
                int64_t i = 0;
                if (finite[g]) {
                    for (; i + 16 <= len; i += 16) {
                        _mm_storeu_si128((__m128i *)(out + i), encode16(_mm512_mul_ps(load16_full(group, src_type, i), scale), 0));
                    }
                }
                for (; i < len; i += 16) {
                    __mmask16 mask = len - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (len - i)) - 1u);
                    _mm_mask_storeu_epi8(out + i, mask, encode16(_mm512_mul_ps(load16(group, src_type, i, len), scale), !finite[g]));
                }
            }
        }
    }
}
#endif
