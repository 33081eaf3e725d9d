// The AVX2 + FMA GEMM microkernel (MR 6 x NR 16 F32 tiles, 12 YMM accumulators) and output writer.
#include "gemm_internal.h"

#if DG_GEMM_X86
#include <immintrin.h>

#define DG_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))

/// The tile body for `rows` valid rows (a constant after inlining).
static inline __attribute__((always_inline)) DG_TARGET_AVX2 void tile_rows(const dg_gemm_tile *t, const int rows) {
    enum { MR = 6, NR = 16 };
    const float *a = (const float *)t->a, *b = (const float *)t->b;
    for (int64_t blk = 0; blk < t->blocks; blk++) {
        const int64_t steps = blk == t->blocks - 1 ? t->steps_last : t->steps_full;
        __m256 p[MR][2];
        for (int r = 0; r < rows; r++) p[r][0] = p[r][1] = _mm256_setzero_ps();
        for (int64_t s = 0; s < steps; s++) {
            const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
            for (int r = 0; r < rows; r++) {
                const __m256 av = _mm256_broadcast_ss(a + r);
                p[r][0] = _mm256_fmadd_ps(av, b0, p[r][0]);
                p[r][1] = _mm256_fmadd_ps(av, b1, p[r][1]);
            }
            a += MR;
            b += NR;
        }
        const int init = t->first && blk == 0;
        for (int r = 0; r < rows; r++) {
            float *c = t->c + r * t->ldc;
            for (int j = 0; j < 2; j++) {
                if (t->sa) {
                    const __m256 s = _mm256_mul_ps(_mm256_broadcast_ss(t->sa + blk * MR + r), _mm256_loadu_ps(t->sb + blk * NR + 8 * j));
                    _mm256_storeu_ps(c + 8 * j, init ? _mm256_mul_ps(p[r][j], s) : _mm256_fmadd_ps(p[r][j], s, _mm256_loadu_ps(c + 8 * j)));
                } else {
                    _mm256_storeu_ps(c + 8 * j, init ? p[r][j] : _mm256_add_ps(p[r][j], _mm256_loadu_ps(c + 8 * j)));
                }
            }
        }
    }
}

DG_TILE_TABLE_6(tile_, tile_rows, DG_TARGET_AVX2)

void dg_gemm_tile_f32_avx2(const dg_gemm_tile *t) { tile_s[t->rows - 1](t); }

/// BF16 bits (RNE, NaN kept quiet with its sign) of 8 floats, in the low 16 bits of each lane.
static inline __attribute__((always_inline)) DG_TARGET_AVX2 __m256i to_bf16_bits(__m256 v) {
    const __m256i bits = _mm256_castps_si256(v);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), lsb), 16);
    const __m256i magnitude = _mm256_and_si256(bits, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i nan = _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32(0x7F800000));
    const __m256i quiet = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x8000)), _mm256_set1_epi32(0x7FC0));
    return _mm256_blendv_epi8(rounded, quiet, nan);
}

/// Eight BF16 values at `p` widened to floats.
static inline __attribute__((always_inline)) DG_TARGET_AVX2 __m256 load_bf16(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

DG_TARGET_AVX2 void dg_gemm_store_avx2(const dg_gemm_output *d, int64_t row0, int64_t col0, int64_t rows, int64_t cols,
                                       const float *c, int64_t ldc) {
    if (d->stride1 != 1) {
        dg_gemm_store_generic(d, row0, col0, rows, cols, c, ldc);
        return;
    }
    const int64_t body = cols & ~(int64_t)7;
    for (int64_t r = 0; r < rows; r++) {
        const float *src = c + r * ldc;
        const int64_t at = (row0 + r) * d->stride0 + col0;
        if (d->type == DG_TYPE_F32) {
            float *dst = (float *)d->data + at;
            for (int64_t j = 0; j < body; j += 8) {
                const __m256 v = _mm256_loadu_ps(src + j);
                _mm256_storeu_ps(dst + j, d->accumulate ? _mm256_add_ps(v, _mm256_loadu_ps(dst + j)) : v);
            }
        } else {
            uint16_t *dst = (uint16_t *)d->data + at;
            for (int64_t j = 0; j < body; j += 8) {
                __m256 v = _mm256_loadu_ps(src + j);
                if (d->accumulate) {
                    const __m256 rounded = _mm256_castsi256_ps(_mm256_slli_epi32(to_bf16_bits(v), 16));
                    v = _mm256_add_ps(load_bf16(dst + j), rounded);
                }
                const __m256i bits = to_bf16_bits(v);
                const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(bits), _mm256_extracti128_si256(bits, 1));
                _mm_storeu_si128((__m128i *)(dst + j), packed);
            }
        }
        dg_gemm_store_generic(d, row0 + r, col0 + body, 1, cols - body, src + body, ldc);
    }
}
#endif
