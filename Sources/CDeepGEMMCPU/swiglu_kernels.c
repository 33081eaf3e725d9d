// Mega MoE's SwiGLU + top-k weight + per-32 FP8 quantization of one row: a C body for the
// portable and AVX2 levels (vectorized by the compiler) and AVX-512 intrinsics. The Swift
// definition is MegaMoESwiGLUArithmetic (activation, scaleExponent, fp8Code, quantizeRow); both
// perform its binary32 operations in its order, so every level gives its bits.
#include "CDeepGEMMCPU.h"
#include "scalar_formats.h"
#include "isa_variants.h"

/// Columns per quantization group, and per chunk of consecutive gate (and up) values.
enum { GROUP = 32, CHUNK = 8 };

/// 2^k as binary32 for k in -149 ... 127 (exact; subnormal below -126).
DG_INLINE float power_of_two(int k) { return k >= -126 ? dg_u2f((uint32_t)(k + 127) << 23) : dg_u2f(1u << (k + 149)); }

/// The group exponent E of the largest magnitude `amax` (binary32 bits, not NaN): q = RN(amax /
/// 448) as a multiplication, then ceil(log2 q) at the bit level (no floor; amax 0 gives -127).
DG_INLINE int group_exponent(uint32_t amax) {
    const uint32_t q = dg_f2u(dg_u2f(amax) * (1.0f / 448.0f));
    return (int)((q >> 23) & 0xFFu) - 127 + ((q & 0x7FFFFFu) != 0);
}

DG_INLINE void swiglu_fp8_row_body(const uint16_t *gate, const uint16_t *up, int64_t chunk_stride, int64_t columns,
                                   float weight, const float *silu, int has_clamp, float clamp, uint8_t *codes,
                                   uint8_t *exponents) {
    const uint16_t clamp_bits = (uint16_t)(dg_f2u(clamp) >> 16);
    for (int64_t g = 0; g < columns / GROUP; g++) {
        // The group's (clamped) gate bits and up values, then a, then the largest |a| as bits (the
        // order of non-negative floats; NaN magnitudes are skipped): separate loops, so that each
        // vectorizes (the silu lookup as a gather).
        int32_t gate_bits[GROUP];
        float a[GROUP];
        for (int j = 0; j < GROUP / CHUNK; j++) {
            const int64_t at = (g * (GROUP / CHUNK) + j) * chunk_stride;
            for (int i = 0; i < CHUNK; i++) {
                uint16_t bits = gate[at + i];
                float u = dg_bf16_to_f32(up[at + i]);
                if (has_clamp) {
                    bits = dg_bf16_to_f32(bits) > clamp ? clamp_bits : bits;
                    u = u > clamp ? clamp : u;
                    u = u < -clamp ? -clamp : u;
                }
                gate_bits[j * CHUNK + i] = bits;
                a[j * CHUNK + i] = u;
            }
        }
#pragma clang loop vectorize_width(8)
        for (int i = 0; i < GROUP; i++) a[i] = (silu[gate_bits[i]] * a[i]) * weight;
        uint32_t amax = 0;
        for (int i = 0; i < GROUP; i++) {
            uint32_t m = dg_f2u(a[i]) & 0x7FFFFFFFu;
            m = m > 0x7F800000u ? 0 : m;
            amax = m > amax ? m : amax;
        }
        const int e = group_exponent(amax);
        const float s = power_of_two(-e);
        // NaN takes the positive NaN code whatever its sign (the GPU's canonical NaN).
        for (int i = 0; i < GROUP; i++) {
            const uint32_t bits = dg_f2u(a[i] * s);
            codes[g * GROUP + i] = dg_bits_to_e4m3((bits & 0x7FFFFFFFu) > 0x7F800000u ? 0x7FC00000u : bits, 1);
        }
        exponents[g] = (uint8_t)(e + 127);
    }
}

#if DG_HAS_X86_VARIANTS
#include <immintrin.h>

/// E4M3 codes (RNE, saturating, 0x7F for NaN of either sign) of 16 binary32 values, as
/// dg_bits_to_e4m3(bits, 1) computes each.
DG_INLINE DG_TARGET_AVX512 __m128i e4m3_codes16(__m512 x) {
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i a = _mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF));
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(a, 20), _mm512_set1_epi32(1));
    const __m512i normal = _mm512_sub_epi32(
        _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(a, _mm512_set1_epi32(0x7FFFF)), odd), 20), _mm512_set1_epi32(960));
    const __m512i sub = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(_mm512_castsi512_ps(a), _mm512_set1_ps(16384.0f))),
                                         _mm512_set1_epi32(0x46800000));
    __m512i r = _mm512_mask_mov_epi32(sub, _mm512_cmpge_epu32_mask(a, _mm512_set1_epi32(0x3C800000)), normal);
    r = _mm512_mask_mov_epi32(r, _mm512_cmpgt_epu32_mask(a, _mm512_set1_epi32(0x43E00000)), _mm512_set1_epi32(0x7E));
    r = _mm512_or_si512(r, _mm512_and_si512(_mm512_srli_epi32(bits, 24), _mm512_set1_epi32(0x80)));
    r = _mm512_mask_mov_epi32(r, _mm512_cmpgt_epu32_mask(a, _mm512_set1_epi32(0x7F800000)), _mm512_set1_epi32(0x7F));
    return _mm512_cvtepi32_epi8(r);
}

/// swiglu_fp8_row_body with AVX-512 (F, BW): 16 columns per vector, the silu lookup as a gather.
DG_TARGET_AVX512 static void swiglu_fp8_row_avx512(const uint16_t *gate, const uint16_t *up, int64_t chunk_stride,
                                                   int64_t columns, float weight, const float *silu, int has_clamp,
                                                   float clamp, uint8_t *codes, uint8_t *exponents) {
    const __m512 c = _mm512_set1_ps(clamp), neg_c = _mm512_set1_ps(-clamp), w = _mm512_set1_ps(weight);
    const __m512i clamp_bits = _mm512_set1_epi32((int)(dg_f2u(clamp) >> 16));
    for (int64_t g = 0; g < columns / GROUP; g++) {
        __m512 a[GROUP / 16];
        __m512i amax = _mm512_setzero_si512();
        for (int h = 0; h < GROUP / 16; h++) {
            // Two chunks of 8 columns.
            const int64_t at0 = (g * (GROUP / CHUNK) + 2 * h) * chunk_stride, at1 = at0 + chunk_stride;
            const __m256i gate16 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(gate + at0))),
                                                           _mm_loadu_si128((const __m128i *)(gate + at1)), 1);
            const __m256i up16 = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(up + at0))),
                                                         _mm_loadu_si128((const __m128i *)(up + at1)), 1);
            __m512i index = _mm512_cvtepu16_epi32(gate16);
            __m512 u = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(up16), 16));
            if (has_clamp) {
                const __m512 gf = _mm512_castsi512_ps(_mm512_slli_epi32(index, 16));
                index = _mm512_mask_mov_epi32(index, _mm512_cmp_ps_mask(gf, c, _CMP_GT_OQ), clamp_bits);
                u = _mm512_mask_mov_ps(u, _mm512_cmp_ps_mask(u, c, _CMP_GT_OQ), c);
                u = _mm512_mask_mov_ps(u, _mm512_cmp_ps_mask(u, neg_c, _CMP_LT_OQ), neg_c);
            }
            a[h] = _mm512_mul_ps(_mm512_mul_ps(_mm512_i32gather_ps(index, silu, 4), u), w);
            const __m512i m = _mm512_and_si512(_mm512_castps_si512(a[h]), _mm512_set1_epi32(0x7FFFFFFF));
            amax = _mm512_mask_max_epu32(amax, _mm512_cmple_epu32_mask(m, _mm512_set1_epi32(0x7F800000)), amax, m);
        }
        const int e = group_exponent((uint32_t)_mm512_reduce_max_epu32(amax));
        const __m512 s = _mm512_set1_ps(power_of_two(-e));
        for (int h = 0; h < GROUP / 16; h++)
            _mm_storeu_si128((__m128i *)(codes + g * GROUP + 16 * h), e4m3_codes16(_mm512_mul_ps(a[h], s)));
        exponents[g] = (uint8_t)(e + 127);
    }
}

DG_TARGET_AVX2 static void swiglu_fp8_row_avx2(const uint16_t *gate, const uint16_t *up, int64_t chunk_stride,
                                               int64_t columns, float weight, const float *silu, int has_clamp,
                                               float clamp, uint8_t *codes, uint8_t *exponents) {
    swiglu_fp8_row_body(gate, up, chunk_stride, columns, weight, silu, has_clamp, clamp, codes, exponents);
}
#endif

static void swiglu_fp8_row_portable(const uint16_t *gate, const uint16_t *up, int64_t chunk_stride, int64_t columns,
                                    float weight, const float *silu, int has_clamp, float clamp, uint8_t *codes,
                                    uint8_t *exponents) {
    swiglu_fp8_row_body(gate, up, chunk_stride, columns, weight, silu, has_clamp, clamp, codes, exponents);
}

void dg_swiglu_fp8_row(int isa, const uint16_t *gate, const uint16_t *up, int64_t chunk_stride, int64_t columns,
                       float weight, const float *silu, int has_clamp, float clamp, uint8_t *codes,
                       uint8_t *exponents) {
    DG_DISPATCH(swiglu_fp8_row, isa, (gate, up, chunk_stride, columns, weight, silu, has_clamp, clamp, codes, exponents));
}
