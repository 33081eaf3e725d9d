// AVX2 + FMA lightning-indexer kernels: FP8 scores by FP32 FMA on values decoded once per panel,
// FP4 scores by exact int8 x int8 -> int16 -> int32 dots (vpmaddubsw on the offset KV bytes), the
// head reduction, and the KV packing. Same arithmetic as the portable loops (see dg_mqa.h).
#pragma clang fp contract(off)
#include "CDeepGEMMCPU.h"
#include "mqa_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define DG_MQA_AVX2 __attribute__((target("avx2,fma,f16c")))
#define DG_MQA_AVX2_INLINE static inline __attribute__((always_inline)) DG_MQA_AVX2

/// Heads per register tile: FP8 6 (12 float accumulators); FP4 4 (8 int16 accumulators, which
/// leaves the per-block scaling its registers instead of spilling it).
enum { TILE_HEADS = 6, FP4_TILE_HEADS = 4 };

/// FP8 scores of `rows` heads (a constant after inlining) against one lane group: q holds the
/// heads' swapped float rows, k the group's float [dim][16]; every step is one FMA per head and
/// 8 lanes, whose product is exact, so it rounds as the addition of the definition does.
DG_MQA_AVX2_INLINE void fp8_tile(const int rows, int dim, const float *q, const float *k, float *scores) {
    __m256 acc[TILE_HEADS][2];
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int d = 0; d < dim; d++) {
        const __m256 k0 = _mm256_load_ps(k + d * DG_MQA_LANES), k1 = _mm256_load_ps(k + d * DG_MQA_LANES + 8);
        for (int r = 0; r < rows; r++) {
            const __m256 qv = _mm256_broadcast_ss(q + r * dim + d);
            acc[r][0] = _mm256_fmadd_ps(qv, k0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(qv, k1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        _mm256_storeu_ps(scores + r * DG_MQA_CHUNK_LANES, acc[r][0]);
        _mm256_storeu_ps(scores + r * DG_MQA_CHUNK_LANES + 8, acc[r][1]);
    }
}

/// Pointers into a packed FP4 query token: doubled values, block corrections, block scales.
typedef struct {
    const int32_t *values, *corrections;
    const float *scales;
} fp4_query;

/// The parts of packed FP4 query token `q` (of `heads` heads) from head `h` on.
DG_MQA_AVX2_INLINE fp4_query fp4_query_at(const int32_t *q, int heads, int dim, int h) {
    const int words = dim / 4, blocks = dim / 32;
    const fp4_query at = {q + (int64_t)h * words, q + dg_mqa_q4_corrections(heads, dim) + h * blocks,
                          (const float *)(q + dg_mqa_q4_scales(heads, dim)) + h * blocks};
    return at;
}

/// FP4 scores of `rows` heads (a constant after inlining) against one lane group. Per 32-element
/// block, vpmaddubsw multiplies the offset KV bytes (0...24) by the doubled q values (-12...12)
/// into pairs of int16 (the block's first word starts the sums); the int16 sums of each lane's 16
/// even and 16 odd elements stay within ±4608, so they are exact; vpmaddwd adds the two into the
/// lane's int32 dot, and the block's offset correction completes it. Then
/// s = fma(float(dot), qs · ks, s) as the definition says.
DG_MQA_AVX2_INLINE void fp4_tile(const int rows, int dim, fp4_query q, const uint8_t *k, const float *ks, float *scores) {
    const int words = dim / 4, blocks = dim / 32;
    for (int b = 0; b < blocks; b++) {
        __m256i acc[FP4_TILE_HEADS][2];
        for (int w = 8 * b; w < 8 * b + 8; w++) {
            const __m256i k0 = _mm256_load_si256((const __m256i *)(k + w * 64));
            const __m256i k1 = _mm256_load_si256((const __m256i *)(k + w * 64 + 32));
            for (int r = 0; r < rows; r++) {
                const __m256i qw = _mm256_set1_epi32(q.values[r * words + w]);
                const __m256i p0 = _mm256_maddubs_epi16(k0, qw), p1 = _mm256_maddubs_epi16(k1, qw);
                acc[r][0] = w == 8 * b ? p0 : _mm256_add_epi16(acc[r][0], p0);
                acc[r][1] = w == 8 * b ? p1 : _mm256_add_epi16(acc[r][1], p1);
            }
        }
        const __m256 ks0 = _mm256_loadu_ps(ks + b * DG_MQA_LANES), ks1 = _mm256_loadu_ps(ks + b * DG_MQA_LANES + 8);
        const __m256i ones = _mm256_set1_epi16(1);
        for (int r = 0; r < rows; r++) {
            const __m256 qs = _mm256_set1_ps(q.scales[r * blocks + b]);
            const __m256i correction = _mm256_set1_epi32(q.corrections[r * blocks + b]);
            float *s = scores + r * DG_MQA_CHUNK_LANES;
            const __m256 dot0 = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16(acc[r][0], ones), correction));
            const __m256 dot1 = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16(acc[r][1], ones), correction));
            const __m256 s0 = b == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(s), s1 = b == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(s + 8);
            _mm256_storeu_ps(s, _mm256_fmadd_ps(dot0, _mm256_mul_ps(qs, ks0), s0));
            _mm256_storeu_ps(s + 8, _mm256_fmadd_ps(dot1, _mm256_mul_ps(qs, ks1), s1));
        }
    }
}

/// Scores of heads [h, h + rows) for one lane group, through the tile of that height (heads come
/// in multiples of 2, so the last tile has 2 or 4 rows).
DG_MQA_AVX2_INLINE void group_tile(int format, int heads, int dim, const void *q, const uint8_t *kv, const float *ks, int h, int rows,
                                   float *scores) {
    if (format == DG_MQA_FP8) {
        const float *qh = (const float *)q + (int64_t)h * dim;
        const float *k = (const float *)kv;
        switch (rows) {
        case 6: fp8_tile(6, dim, qh, k, scores); break;
        case 4: fp8_tile(4, dim, qh, k, scores); break;
        default: fp8_tile(2, dim, qh, k, scores); break;
        }
        return;
    }
    const fp4_query qh = fp4_query_at((const int32_t *)q, heads, dim, h);
    if (rows == 4) fp4_tile(4, dim, qh, kv, ks, scores);
    else fp4_tile(2, dim, qh, kv, ks, scores);
}

DG_MQA_AVX2 void dg_mqa_scores_chunk_avx2(int format, int heads, int dim, const void *q, const void *kv_packed, const float *kv_scales,
                                          int64_t g, int groups, dg_mqa_span prefetch, float *scores) {
    const int64_t bytes = dg_mqa_group_bytes(DG_MQA_LEVEL_AVX2, format, dim), floats = dg_mqa_kv_group_scales(format, dim);
    const int height = format == DG_MQA_FP8 ? TILE_HEADS : FP4_TILE_HEADS, tiles = (heads + height - 1) / height;
    for (int j = 0; j < groups; j++) {
        const uint8_t *kv = (const uint8_t *)kv_packed + (g + j) * bytes;
        const float *ks = kv_scales + (g + j) * floats;
        for (int t = 0; t < tiles; t++) {
            dg_mqa_prefetch(dg_mqa_span_part(prefetch, (int64_t)j * tiles + t, (int64_t)groups * tiles));
            const int h = t * height, rows = heads - h < height ? heads - h : height;
            group_tile(format, heads, dim, q, kv, ks, h, rows, scores + h * DG_MQA_CHUNK_LANES + j * DG_MQA_LANES);
        }
    }
}

/// Head reduction of a chunk with F32 weights: the four chains of dg_mqa_reduce_f32, for 16 lanes
/// at a time (eight independent FMA chains).
DG_MQA_AVX2 static void reduce_f32(int heads, const float *scores, int groups, const float *w, const float *kv_sf, float *red) {
    const __m256 zero = _mm256_setzero_ps();
    for (int v = 0; v < groups * DG_MQA_LANES; v += 16) {
        __m256 c[4][2];
        for (int k = 0; k < 4; k++) c[k][0] = c[k][1] = zero;
        for (int h = 0; h < heads; h += 4) {
            for (int k = 0; k < 4; k++) {
                const __m256 wk = _mm256_set1_ps(w[h + k]);
                const float *s = scores + (h + k) * DG_MQA_CHUNK_LANES + v;
                c[k][0] = _mm256_fmadd_ps(_mm256_max_ps(_mm256_loadu_ps(s), zero), wk, c[k][0]);
                c[k][1] = _mm256_fmadd_ps(_mm256_max_ps(_mm256_loadu_ps(s + 8), zero), wk, c[k][1]);
            }
        }
        for (int i = 0; i < 2; i++) {
            __m256 r = _mm256_add_ps(_mm256_add_ps(c[0][i], c[2][i]), _mm256_add_ps(c[1][i], c[3][i]));
            if (kv_sf) r = _mm256_mul_ps(r, _mm256_loadu_ps(kv_sf + v + 8 * i));
            _mm256_storeu_ps(red + v + 8 * i, r);
        }
    }
}

DG_MQA_AVX2 void dg_mqa_reduce_chunk_avx2(int format, int heads, int dim, int weights_bf16, int out_bf16, const float *scores,
                                          int groups, const void *weights, const float *kv_scales, int64_t g, int a, int b, void *out) {
    (void)dim;
    dg_mqa_reduce_chunk(reduce_f32, format, heads, weights_bf16, out_bf16, scores, groups, weights, kv_scales, g, a, b, out);
}

/// Floats of 16 E4M3 codes held in the low byte of each 16-bit lane (lanes 0-7 give the first
/// vector), as dg_e4m3_to_f32 gives them: the code's bits moved into a binary16 (sign, then the
/// magnitude shifted so that a binary16 reads 2^-8 times the E4M3 value, subnormals included),
/// code 0x7F the binary16 quiet NaN, widened by vcvtph2ps and scaled by 2^8 (exact).
DG_MQA_AVX2_INLINE void decode_e4m3_words(__m256i w, __m256 out[2]) {
    const __m256i magnitude = _mm256_and_si256(_mm256_slli_epi16(w, 7), _mm256_set1_epi16(0x3F80));
    const __m256i sign = _mm256_and_si256(_mm256_slli_epi16(w, 8), _mm256_set1_epi16((short)0x8000));
    const __m256i nan = _mm256_cmpeq_epi16(magnitude, _mm256_set1_epi16(0x3F80));
    // A NaN code's magnitude 0x3F80 becomes 0x7E00 (0x3F80 ^ 0x4180): and + xor, cheaper than a blend.
    const __m256i half = _mm256_or_si256(_mm256_xor_si256(magnitude, _mm256_and_si256(nan, _mm256_set1_epi16(0x4180))), sign);
    const __m256 scale = _mm256_set1_ps(0x1p8f);
    out[0] = _mm256_mul_ps(_mm256_cvtph_ps(_mm256_castsi256_si128(half)), scale);
    out[1] = _mm256_mul_ps(_mm256_cvtph_ps(_mm256_extracti128_si256(half, 1)), scale);
}

DG_MQA_AVX2 void dg_mqa_pack_q_fp8_avx2(int64_t count, const uint8_t *q, float *packed) {
    for (int64_t i = 0; i < count; i += 16) {
        __m256 v[2];
        decode_e4m3_words(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(q + i))), v);
        // Elements 2p and 2p + 1 trade places.
        _mm256_storeu_ps(packed + i, _mm256_permute_ps(v[0], 0xB1));
        _mm256_storeu_ps(packed + i + 8, _mm256_permute_ps(v[1], 0xB1));
    }
}

/// The 8 bytes at `p`, or zeros for a row past the panel.
DG_MQA_AVX2_INLINE __m128i load_row8(const uint8_t *p, int valid) {
    return valid ? _mm_loadl_epi64((const __m128i *)p) : _mm_setzero_si128();
}

/// FP8 KV rows to the AVX2 layout (floats [dim][16] per group, pairs swapped). Per 8 rows and 8
/// columns: a byte transpose gives each column's 8 codes, two columns at a time, which are
/// decoded 16 at a time.
DG_MQA_AVX2 static void pack_fp8(int dim, int64_t rows, const uint8_t *values, int64_t value_stride, float *packed) {
    const int64_t groups = (rows + DG_MQA_LANES - 1) / DG_MQA_LANES;
    for (int64_t g = 0; g < groups; g++) {
        float *out = packed + g * (int64_t)dim * DG_MQA_LANES;
        for (int half = 0; half < 2; half++) {
            const int64_t first = g * DG_MQA_LANES + 8 * half;
            for (int d = 0; d < dim; d += 8) {
                __m128i x[8];
                for (int r = 0; r < 8; r++) x[r] = load_row8(values + (first + r) * value_stride + d, first + r < rows);
                const __m128i s01 = _mm_unpacklo_epi8(x[0], x[1]), s23 = _mm_unpacklo_epi8(x[2], x[3]);
                const __m128i s45 = _mm_unpacklo_epi8(x[4], x[5]), s67 = _mm_unpacklo_epi8(x[6], x[7]);
                const __m128i t0 = _mm_unpacklo_epi16(s01, s23), t1 = _mm_unpackhi_epi16(s01, s23);
                const __m128i t2 = _mm_unpacklo_epi16(s45, s67), t3 = _mm_unpackhi_epi16(s45, s67);
                // columns[i] holds the 8 codes of columns 2i and 2i + 1.
                const __m128i columns[4] = {_mm_unpacklo_epi32(t0, t2), _mm_unpackhi_epi32(t0, t2), _mm_unpacklo_epi32(t1, t3),
                                            _mm_unpackhi_epi32(t1, t3)};
                for (int i = 0; i < 4; i++) {
                    __m256 v[2];
                    decode_e4m3_words(_mm256_cvtepu8_epi16(columns[i]), v);
                    // Columns 2i and 2i + 1 are a pair: each goes to the other's position.
                    _mm256_store_ps(out + (d + 2 * i + 1) * DG_MQA_LANES + 8 * half, v[0]);
                    _mm256_store_ps(out + (d + 2 * i) * DG_MQA_LANES + 8 * half, v[1]);
                }
            }
        }
    }
}

/// Transposes 8 rows of 8 dwords in place (row r, lane j becomes row j, lane r).
DG_MQA_AVX2_INLINE void transpose8(__m256 m[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(m[i], m[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(m[i], m[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        m[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        m[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/// FP4 KV rows to offset bytes (2·v + 12) in lane groups ([dim/4][16][4]), 64 elements of 8 rows
/// at a time: vpshufb looks the nibbles up, interleaving them gives words 0-3 and 8-11 (low) and
/// 4-7 and 12-15 (high) of each row, and 8 x 8 transposes give each word across the 8 rows.
DG_MQA_AVX2 static void pack_fp4(int dim, int64_t rows, const uint8_t *values, int64_t value_stride, uint8_t *packed) {
    const __m256i doubled = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)dg_mqa_e2m1_doubled_table));
    const __m256i table = _mm256_add_epi8(doubled, _mm256_set1_epi8((char)dg_mqa_fp4_bias(DG_MQA_LEVEL_AVX2)));
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const int64_t groups = (rows + DG_MQA_LANES - 1) / DG_MQA_LANES;
    for (int64_t g = 0; g < groups; g++) {
        uint8_t *out = packed + g * (int64_t)dim * DG_MQA_LANES;
        for (int half = 0; half < 2; half++) {
            const int64_t first = g * DG_MQA_LANES + 8 * half;
            for (int piece = 0; piece < dim / 64; piece++) {
                __m256 low[8], high[8];
                for (int r = 0; r < 8; r++) {
                    if (first + r >= rows) {
                        low[r] = high[r] = _mm256_castsi256_ps(_mm256_set1_epi8(12));
                        continue;
                    }
                    const __m256i bytes = _mm256_loadu_si256((const __m256i *)(values + (first + r) * value_stride + 32 * piece));
                    const __m256i even = _mm256_shuffle_epi8(table, _mm256_and_si256(bytes, nibble));
                    const __m256i odd = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble));
                    low[r] = _mm256_castsi256_ps(_mm256_unpacklo_epi8(even, odd));
                    high[r] = _mm256_castsi256_ps(_mm256_unpackhi_epi8(even, odd));
                }
                transpose8(low);
                transpose8(high);
                for (int j = 0; j < 8; j++) {
                    const int word = 16 * piece + (j & 3) + 8 * (j >> 2);
                    _mm256_store_ps((float *)(out + (word * DG_MQA_LANES + 8 * half) * 4), low[j]);
                    _mm256_store_ps((float *)(out + ((word + 4) * DG_MQA_LANES + 8 * half) * 4), high[j]);
                }
            }
        }
    }
}

DG_MQA_AVX2 void dg_mqa_pack_kv_avx2(int format, int dim, int64_t rows, const uint8_t *values, int64_t value_stride, void *packed) {
    if (format == DG_MQA_FP8) pack_fp8(dim, rows, values, value_stride, (float *)packed);
    else pack_fp4(dim, rows, values, value_stride, (uint8_t *)packed);
}

DG_MQA_AVX2 void dg_mqa_pack_kv_scales_avx2(int format, int dim, int64_t rows, const uint8_t *scales, float *packed) {
    const int blocks = format == DG_MQA_FP8 ? 1 : dim / 32;
    const __m256i byte = _mm256_set1_epi32(0xFF), smallest = _mm256_set1_epi32(0x00400000), nan = _mm256_set1_epi32(0x7FC00000);
    const __m256i one = _mm256_castps_si256(_mm256_set1_ps(1.0f)), index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t g = 0; g * DG_MQA_LANES < rows; g++) {
        float *out = packed + g * blocks * DG_MQA_LANES;
        for (int half = 0; half < 2; half++) {
            const int64_t first = g * DG_MQA_LANES + 8 * half, left = rows - first;
            const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(left > 8 ? 8 : (int)(left < 0 ? 0 : left)), index);
            const __m256i words = _mm256_maskload_epi32((const int *)(scales + first * 4), valid);
            if (format == DG_MQA_FP8) {
                _mm256_storeu_si256((__m256i *)(out + 8 * half), _mm256_blendv_epi8(one, words, valid));
                continue;
            }
            // UE8M0 byte e reads 2^(e-127): exponent field e, except 0 (2^-127, a subnormal) and 255 (NaN).
            for (int b = 0; b < blocks; b++) {
                const __m256i e = _mm256_and_si256(_mm256_srli_epi32(words, 8 * b), byte);
                __m256i bits = _mm256_slli_epi32(e, 23);
                bits = _mm256_blendv_epi8(bits, smallest, _mm256_cmpeq_epi32(e, _mm256_setzero_si256()));
                bits = _mm256_blendv_epi8(bits, nan, _mm256_cmpeq_epi32(e, byte));
                _mm256_storeu_si256((__m256i *)(out + b * DG_MQA_LANES + 8 * half), _mm256_blendv_epi8(one, bits, valid));
            }
        }
    }
}
#endif
