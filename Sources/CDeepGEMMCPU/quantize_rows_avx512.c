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

// 16 BF16 values widened (exactly) to binary32.
DG_AVX512 static inline __m512 widen_bf16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

// E4M3FN codes (RNE, NaN past 448) of 16 binary32 values. The subnormal path runs only when a lane
// needs it, and the overflow/NaN path only when the group's amax is not finite (a finite amax
// bounds every scaled value by 448 plus rounding, far below 464).
DG_AVX512 static inline __m512i codes16(__m512 v, int may_overflow) {
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
    return _mm512_ternarylogic_epi32(code, _mm512_srli_epi32(bits, 24), _mm512_set1_epi32(0x80), 0xF8);
}

// The codes of 16 values as 16 bytes.
DG_AVX512 static inline __m128i encode16(__m512 v, int may_overflow) {
    return _mm512_cvtepi32_epi8(codes16(v, may_overflow));
}

// The codes of 64 finite values (four vectors) as one 64-byte vector in element order: two
// saturating packs (exact, codes are 0..255) interleave 128-bit lanes, one dword permute restores
// the order.
DG_AVX512 static inline __m512i encode64(__m512 v0, __m512 v1, __m512 v2, __m512 v3) {
    const __m512i words01 = _mm512_packus_epi32(codes16(v0, 0), codes16(v1, 0));
    const __m512i words23 = _mm512_packus_epi32(codes16(v2, 0), codes16(v3, 0));
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(order, _mm512_packus_epi16(words01, words23));
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
    // Large outputs bypass the cache (no read-for-ownership of lines that are overwritten in
    // full); that needs 64-byte aligned rows and group starts.
    const int streaming = rows * n >= ((int64_t)1 << 23) && ((uintptr_t)dst & 63) == 0 && dst_stride % 64 == 0 && gran % 64 == 0;
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
                    // Whole 64-element chunks, one (optionally non-temporal) 64-byte store each.
                    if (src_type == DG_TYPE_F32) {
                        for (; i + 64 <= len; i += 64) {
                            const float *p = (const float *)group + i;
                            for (int line = 0; line < 4; line++) _mm_prefetch((const char *)(p + src_stride + 16 * line), _MM_HINT_T0);
                            const __m512i bytes = encode64(_mm512_mul_ps(_mm512_loadu_ps(p), scale), _mm512_mul_ps(_mm512_loadu_ps(p + 16), scale),
                                                           _mm512_mul_ps(_mm512_loadu_ps(p + 32), scale), _mm512_mul_ps(_mm512_loadu_ps(p + 48), scale));
                            if (streaming) _mm512_stream_si512((__m512i *)(out + i), bytes);
                            else _mm512_storeu_si512(out + i, bytes);
                        }
                    } else {
                        for (; i + 64 <= len; i += 64) {
                            const uint16_t *p = (const uint16_t *)group + i;
                            // Pull the next row in while this one is encoded (its amax pass reads it next).
                            _mm_prefetch((const char *)(p + src_stride), _MM_HINT_T0);
                            _mm_prefetch((const char *)(p + src_stride + 32), _MM_HINT_T0);
                            const __m512i bytes = encode64(_mm512_mul_ps(widen_bf16(p), scale), _mm512_mul_ps(widen_bf16(p + 16), scale),
                                                           _mm512_mul_ps(widen_bf16(p + 32), scale), _mm512_mul_ps(widen_bf16(p + 48), scale));
                            if (streaming) _mm512_stream_si512((__m512i *)(out + i), bytes);
                            else _mm512_storeu_si512(out + i, bytes);
                        }
                    }
                }
                for (; i < len; i += 16) {
                    __mmask16 mask = len - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (len - i)) - 1u);
                    _mm_mask_storeu_epi8(out + i, mask, encode16(_mm512_mul_ps(load16(group, src_type, i, len), scale), !finite[g]));
                }
            }
        }
    }
    if (streaming) _mm_sfence();
}
#endif
