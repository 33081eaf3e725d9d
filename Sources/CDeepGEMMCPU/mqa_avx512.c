// AVX-512 lightning-indexer kernels: FP8 scores with vdpbf16ps, FP4 scores with vpdpbusd, and the
// KV packing (table lookups plus 16 x 16 transposes). Same arithmetic as the portable loops.
#pragma clang fp contract(off)
#include "CDeepGEMMCPU.h"
#include "mqa_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define DG_MQA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define DG_MQA_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma,f16c")))
#define DG_MQA_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#define DG_MQA_AVX512_VBMI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vbmi,avx2,fma,f16c")))

// FP8 scores of G lane groups for every head: 4 heads x G groups of accumulators, one BF16 pair
// of every row per step.
#define DG_MQA_FP8_TILE(G)                                                                                             \
    DG_MQA_AVX512_BF16 static void fp8_tile_##G(int heads, int pairs, const uint32_t *q, const uint32_t *kv,          \
                                                dg_mqa_span prefetch, float *scores) {                                \
        const int64_t group_words = (int64_t)pairs * DG_MQA_LANES;                                                    \
        for (int hb = 0; hb < heads; hb += 4) {                                                                       \
            dg_mqa_prefetch(dg_mqa_span_part(prefetch, hb / 4, heads / 4));                                           \
            __m512 acc[4][G];                                                                                         \
            for (int k = 0; k < 4; k++)                                                                               \
                for (int g = 0; g < G; g++) acc[k][g] = _mm512_setzero_ps();                                          \
            const uint32_t *q0 = q + (int64_t)hb * pairs;                                                             \
            for (int p = 0; p < pairs; p++) {                                                                         \
                __m512i k_vec[G];                                                                                     \
                for (int g = 0; g < G; g++) k_vec[g] = _mm512_loadu_si512(kv + g * group_words + p * DG_MQA_LANES);   \
                for (int k = 0; k < 4; k++) {                                                                         \
                    const __m512i q_pair = _mm512_set1_epi32((int)q0[k * pairs + p]);                                  \
                    for (int g = 0; g < G; g++)                                                                       \
                        acc[k][g] = _mm512_dpbf16_ps(acc[k][g], (__m512bh)k_vec[g], (__m512bh)q_pair);                \
                }                                                                                                     \
            }                                                                                                         \
            for (int k = 0; k < 4; k++)                                                                               \
                for (int g = 0; g < G; g++)                                                                           \
                    _mm512_storeu_ps(scores + (hb + k) * DG_MQA_CHUNK_LANES + g * DG_MQA_LANES, acc[k][g]);           \
        }                                                                                                             \
    }
DG_MQA_FP8_TILE(1)
DG_MQA_FP8_TILE(2)
DG_MQA_FP8_TILE(3)
DG_MQA_FP8_TILE(4)

// FP4 scores of G lane groups for every head: per 32-element block, integer dots started from the
// offset correction, then scaled into the float scores.
#define DG_MQA_FP4_TILE(G)                                                                                             \
    DG_MQA_AVX512_VNNI static void fp4_tile_##G(int heads, int dim, const int32_t *q, const uint8_t *kv,              \
                                                const float *kv_scales, dg_mqa_span prefetch, float *scores) {        \
        const int words = dim / 4, blocks = dim / 32;                                                                 \
        const int64_t group_bytes = (int64_t)dim * DG_MQA_LANES, group_floats = (int64_t)blocks * DG_MQA_LANES;      \
        const int32_t *corrections = q + dg_mqa_q4_corrections(heads, dim);                                           \
        const float *q_scales = (const float *)(q + dg_mqa_q4_scales(heads, dim));                                    \
        for (int hb = 0; hb < heads; hb += 4) {                                                                       \
            dg_mqa_prefetch(dg_mqa_span_part(prefetch, hb / 4, heads / 4));                                           \
            __m512 s[4][G];                                                                                           \
            for (int k = 0; k < 4; k++)                                                                               \
                for (int g = 0; g < G; g++) s[k][g] = _mm512_setzero_ps();                                            \
            for (int b = 0; b < blocks; b++) {                                                                        \
                __m512i acc[4][G];                                                                                    \
                for (int k = 0; k < 4; k++) {                                                                         \
                    const __m512i c = _mm512_set1_epi32(corrections[(hb + k) * blocks + b]);                          \
                    for (int g = 0; g < G; g++) acc[k][g] = c;                                                        \
                }                                                                                                     \
                for (int w = 8 * b; w < 8 * b + 8; w++) {                                                             \
                    __m512i k_vec[G];                                                                                 \
                    for (int g = 0; g < G; g++) k_vec[g] = _mm512_loadu_si512(kv + g * group_bytes + w * 64);         \
                    for (int k = 0; k < 4; k++) {                                                                     \
                        const __m512i q_word = _mm512_set1_epi32(q[(int64_t)(hb + k) * words + w]);                   \
                        for (int g = 0; g < G; g++) acc[k][g] = _mm512_dpbusd_epi32(acc[k][g], k_vec[g], q_word);     \
                    }                                                                                                 \
                }                                                                                                     \
                for (int k = 0; k < 4; k++) {                                                                         \
                    const __m512 qs = _mm512_set1_ps(q_scales[(hb + k) * blocks + b]);                                \
                    for (int g = 0; g < G; g++) {                                                                     \
                        const __m512 scale = _mm512_mul_ps(qs, _mm512_loadu_ps(kv_scales + g * group_floats + b * 16)); \
                        s[k][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[k][g]), scale, s[k][g]);                     \
                    }                                                                                                 \
                }                                                                                                     \
            }                                                                                                         \
            for (int k = 0; k < 4; k++)                                                                               \
                for (int g = 0; g < G; g++)                                                                           \
                    _mm512_storeu_ps(scores + (hb + k) * DG_MQA_CHUNK_LANES + g * DG_MQA_LANES, s[k][g]);             \
        }                                                                                                             \
    }
DG_MQA_FP4_TILE(1)
DG_MQA_FP4_TILE(2)
DG_MQA_FP4_TILE(3)

void dg_mqa_scores_chunk_avx512_dot(int format, int heads, int dim, const void *q, const void *kv_packed, const float *kv_scales,
                                    int64_t g, int groups, dg_mqa_span prefetch, float *scores) {
    const int64_t bytes = dg_mqa_group_bytes(DG_MQA_LEVEL_AVX512_DOT, format, dim), floats = dg_mqa_kv_group_scales(format, dim);
    const uint8_t *kv = (const uint8_t *)kv_packed + g * bytes;
    if (format == DG_MQA_FP8) {
        const uint32_t *k = (const uint32_t *)kv;
        switch (groups) {
        case 1: fp8_tile_1(heads, dim / 2, (const uint32_t *)q, k, prefetch, scores); break;
        case 2: fp8_tile_2(heads, dim / 2, (const uint32_t *)q, k, prefetch, scores); break;
        case 3: fp8_tile_3(heads, dim / 2, (const uint32_t *)q, k, prefetch, scores); break;
        default: fp8_tile_4(heads, dim / 2, (const uint32_t *)q, k, prefetch, scores); break;
        }
        return;
    }
    const float *s = kv_scales + g * floats;
    for (int done = 0; done < groups; done += 3) {
        const int left = groups - done;
        const dg_mqa_span part = dg_mqa_span_part(prefetch, done / 3, (groups + 2) / 3);
        const uint8_t *kd = kv + done * bytes;
        const float *sd = s + done * floats;
        float *out = scores + done * DG_MQA_LANES;
        if (left >= 3) fp4_tile_3(heads, dim, (const int32_t *)q, kd, sd, part, out);
        else if (left == 2) fp4_tile_2(heads, dim, (const int32_t *)q, kd, sd, part, out);
        else fp4_tile_1(heads, dim, (const int32_t *)q, kd, sd, part, out);
    }
}

/// Head reduction of a chunk with F32 weights: the four chains of dg_mqa_reduce_f32, 16 lanes at a time.
DG_MQA_AVX512 static void reduce_f32(int heads, const float *scores, int groups, const float *w, const float *kv_sf, float *red) {
    const __m512 zero = _mm512_setzero_ps();
    for (int v = 0; v < groups; v++) {
        __m512 c[4] = {zero, zero, zero, zero};
        for (int h = 0; h < heads; h += 4) {
            for (int k = 0; k < 4; k++) {
                const __m512 s = _mm512_loadu_ps(scores + (h + k) * DG_MQA_CHUNK_LANES + v * DG_MQA_LANES);
                c[k] = _mm512_fmadd_ps(_mm512_max_ps(s, zero), _mm512_set1_ps(w[h + k]), c[k]);
            }
        }
        __m512 r = _mm512_add_ps(_mm512_add_ps(c[0], c[2]), _mm512_add_ps(c[1], c[3]));
        if (kv_sf) r = _mm512_mul_ps(r, _mm512_loadu_ps(kv_sf + v * DG_MQA_LANES));
        _mm512_storeu_ps(red + v * DG_MQA_LANES, r);
    }
}

DG_MQA_AVX512 void dg_mqa_reduce_chunk_avx512(int format, int heads, int dim, int weights_bf16, int out_bf16, const float *scores,
                                              int groups, const void *weights, const float *kv_scales, int64_t g, int a, int b, void *out) {
    (void)dim;
    dg_mqa_reduce_chunk(reduce_f32, format, heads, weights_bf16, out_bf16, scores, groups, weights, kv_scales, g, a, b, out);
}

DG_MQA_AVX512 void dg_mqa_pack_kv_scales_avx512(int format, int dim, int64_t rows, const uint8_t *scales, float *packed) {
    const int blocks = format == DG_MQA_FP8 ? 1 : dim / 32;
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512i byte = _mm512_set1_epi32(0xFF), smallest = _mm512_set1_epi32(0x00400000), nan = _mm512_set1_epi32(0x7FC00000);
    for (int64_t g = 0; g * DG_MQA_LANES < rows; g++) {
        const int64_t left = rows - g * DG_MQA_LANES;
        const __mmask16 valid = left >= DG_MQA_LANES ? 0xFFFF : (__mmask16)((1u << left) - 1);
        const __m512i words = _mm512_maskz_loadu_epi32(valid, scales + g * DG_MQA_LANES * 4);
        float *out = packed + g * blocks * DG_MQA_LANES;
        if (format == DG_MQA_FP8) {
            _mm512_storeu_ps(out, _mm512_mask_blend_ps(valid, one, _mm512_castsi512_ps(words)));
            continue;
        }
        // UE8M0 byte e reads 2^(e-127): exponent field e, except 0 (2^-127, a subnormal) and 255 (NaN).
        for (int b = 0; b < blocks; b++) {
            const __m512i e = _mm512_and_si512(_mm512_srli_epi32(words, 8 * b), byte);
            __m512i bits = _mm512_slli_epi32(e, 23);
            bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(e, _mm512_setzero_si512()), smallest);
            bits = _mm512_mask_mov_epi32(bits, _mm512_cmpeq_epi32_mask(e, byte), nan);
            _mm512_storeu_ps(out + b * DG_MQA_LANES, _mm512_mask_blend_ps(valid, one, _mm512_castsi512_ps(bits)));
        }
    }
}

/// BF16 bits of the E4M3 codes 0...127 (the magnitudes; 127 is NaN), the source of the byte tables.
static const uint16_t e4m3_magnitudes[128] __attribute__((aligned(64))) = {
    0x0000, 0x3B00, 0x3B80, 0x3BC0, 0x3C00, 0x3C20, 0x3C40, 0x3C60, 0x3C80, 0x3C90, 0x3CA0, 0x3CB0, 0x3CC0, 0x3CD0, 0x3CE0, 0x3CF0,
    0x3D00, 0x3D10, 0x3D20, 0x3D30, 0x3D40, 0x3D50, 0x3D60, 0x3D70, 0x3D80, 0x3D90, 0x3DA0, 0x3DB0, 0x3DC0, 0x3DD0, 0x3DE0, 0x3DF0,
    0x3E00, 0x3E10, 0x3E20, 0x3E30, 0x3E40, 0x3E50, 0x3E60, 0x3E70, 0x3E80, 0x3E90, 0x3EA0, 0x3EB0, 0x3EC0, 0x3ED0, 0x3EE0, 0x3EF0,
    0x3F00, 0x3F10, 0x3F20, 0x3F30, 0x3F40, 0x3F50, 0x3F60, 0x3F70, 0x3F80, 0x3F90, 0x3FA0, 0x3FB0, 0x3FC0, 0x3FD0, 0x3FE0, 0x3FF0,
    0x4000, 0x4010, 0x4020, 0x4030, 0x4040, 0x4050, 0x4060, 0x4070, 0x4080, 0x4090, 0x40A0, 0x40B0, 0x40C0, 0x40D0, 0x40E0, 0x40F0,
    0x4100, 0x4110, 0x4120, 0x4130, 0x4140, 0x4150, 0x4160, 0x4170, 0x4180, 0x4190, 0x41A0, 0x41B0, 0x41C0, 0x41D0, 0x41E0, 0x41F0,
    0x4200, 0x4210, 0x4220, 0x4230, 0x4240, 0x4250, 0x4260, 0x4270, 0x4280, 0x4290, 0x42A0, 0x42B0, 0x42C0, 0x42D0, 0x42E0, 0x42F0,
    0x4300, 0x4310, 0x4320, 0x4330, 0x4340, 0x4350, 0x4360, 0x4370, 0x4380, 0x4390, 0x43A0, 0x43B0, 0x43C0, 0x43D0, 0x43E0, 0x7FC0,
};

/// Transposes 16 rows of 16 dwords: r[m] holds dword m of in[0], ..., in[15].
DG_MQA_AVX512 static inline void transpose16(const __m512i in[16], __m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(in[i], in[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(in[i], in[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    // r[4a + b] now holds, in 128-bit lane L, rows 4a..4a+3 of column 4L + b: what remains is a
    // 4 x 4 transpose of 128-bit lanes among r[b], r[4 + b], r[8 + b], r[12 + b]. With Ma[L] the
    // lane L of r[4a + b]: t[b] = (M0[0], M0[2], M1[0], M1[2]), t[4 + b] = (M2[0], M2[2], M3[0],
    // M3[2]), and t[8 + b], t[12 + b] the odd lanes likewise.
    for (int i = 0; i < 8; i++) {
        const int a = i / 4, b = i % 4;
        t[i] = _mm512_shuffle_i32x4(r[8 * a + b], r[8 * a + 4 + b], 0x88);
        t[i + 8] = _mm512_shuffle_i32x4(r[8 * a + b], r[8 * a + 4 + b], 0xDD);
    }
    for (int b = 0; b < 4; b++) {
        r[b] = _mm512_shuffle_i32x4(t[b], t[4 + b], 0x88);
        r[8 + b] = _mm512_shuffle_i32x4(t[b], t[4 + b], 0xDD);
        r[4 + b] = _mm512_shuffle_i32x4(t[8 + b], t[12 + b], 0x88);
        r[12 + b] = _mm512_shuffle_i32x4(t[8 + b], t[12 + b], 0xDD);
    }
}

/// Transposes 16 rows of 16 dwords (`in[row]`) and stores column m (the 16 rows' dword m) as 64
/// bytes at `out + ((m / 4) · quad_stride + m % 4) · 64`, for m < count.
DG_MQA_AVX512 static inline void transpose16_store(const __m512i in[16], uint8_t *out, int quad_stride, int count) {
    __m512i r[16];
    transpose16(in, r);
    for (int m = 0; m < 16; m++)
        if (m < count) _mm512_storeu_si512(out + ((m / 4) * quad_stride + m % 4) * 64, r[m]);
}

/// FP8 KV rows to BF16 pairs in lane groups, with AVX-512 VBMI: the low and high BF16 bytes of 64 codes at a time come from
/// two 128-byte tables (vpermt2b), then the sign; interleaving the bytes gives the pairs of each
/// 128-bit lane in two registers, whose 16 x 16 transposes land on known pairs.
DG_MQA_AVX512_VBMI static void pack_fp8_vbmi(int dim, int64_t rows, const uint8_t *values, int64_t value_stride, uint32_t *packed) {
    __m512i tables[2][2];
    for (int half = 0; half < 2; half++) {
        const __m512i a = _mm512_load_si512(e4m3_magnitudes + 64 * half), b = _mm512_load_si512(e4m3_magnitudes + 64 * half + 32);
        tables[0][half] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(a)), _mm512_cvtepi16_epi8(b), 1);
        tables[1][half] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(_mm512_srli_epi16(a, 8))),
                                             _mm512_cvtepi16_epi8(_mm512_srli_epi16(b, 8)), 1);
    }
    const __m512i sign = _mm512_set1_epi8((char)0x80);
    const int pairs = dim / 2;
    const int64_t groups = (rows + DG_MQA_LANES - 1) / DG_MQA_LANES;
    for (int64_t g = 0; g < groups; g++) {
        uint32_t *out = packed + g * pairs * DG_MQA_LANES;
        for (int piece = 0; piece < (dim + 63) / 64; piece++) {
            __m512i words[2][16];
            for (int l = 0; l < DG_MQA_LANES; l++) {
                const int64_t row = g * DG_MQA_LANES + l;
                if (row >= rows) {
                    words[0][l] = words[1][l] = _mm512_setzero_si512();
                    continue;
                }
                const uint8_t *v = values + row * value_stride + 64 * piece;
                const __m512i codes = dim >= 64 ? _mm512_loadu_si512(v) : _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)v));
                const __m512i low = _mm512_permutex2var_epi8(tables[0][0], codes, tables[0][1]);
                const __m512i high = _mm512_ternarylogic_epi32(_mm512_permutex2var_epi8(tables[1][0], codes, tables[1][1]), codes, sign, 0xF8);
                words[0][l] = _mm512_unpacklo_epi8(low, high);
                words[1][l] = _mm512_unpackhi_epi8(low, high);
            }
            // Position m of words[half] holds pair 32·piece + 8·(m / 4) + 4·half + m % 4 (for D = 32,
            // positions 8 and up are past the row).
            for (int half = 0; half < 2; half++)
                transpose16_store(words[half], (uint8_t *)(out + (32 * piece + 4 * half) * DG_MQA_LANES), 8, pairs >= 32 ? 16 : 8);
        }
    }
}

/// FP4 KV rows to bytes 2·v + bias in lane groups: the packed rows' dwords (8 elements each) are
/// transposed first, so that dword j of the 16 rows is one register, whose nibbles are looked up
/// with vpshufb and interleaved into quads 2j and 2j + 1 of the 16 rows.
DG_MQA_AVX512 static void pack_fp4_avx512(int dim, int64_t rows, const uint8_t *values, int64_t value_stride, int bias,
                                          uint8_t *packed) {
    const __m512i doubled = _mm512_broadcast_i32x4(_mm_load_si128((const __m128i *)dg_mqa_e2m1_doubled_table));
    const __m512i table = _mm512_add_epi8(doubled, _mm512_set1_epi8((char)bias));
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    // After the interleave, 128-bit lane i holds quads (2j, 2j + 1) of rows 4i, 4i + 1 (low) and
    // 4i + 2, 4i + 3 (high): quad 2j of row 4i + k is dword 4i + 2·(k % 2) of the low (k < 2) or high half.
    const __m512i even = _mm512_setr_epi32(0, 2, 16, 18, 4, 6, 20, 22, 8, 10, 24, 26, 12, 14, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const int64_t groups = (rows + DG_MQA_LANES - 1) / DG_MQA_LANES;
    for (int64_t g = 0; g < groups; g++) {
        __m512i in[16], words[16];
        for (int l = 0; l < DG_MQA_LANES; l++) {
            const int64_t row = g * DG_MQA_LANES + l;
            if (row >= rows) {
                in[l] = _mm512_setzero_si512();  // code 0 reads 0
                continue;
            }
            const uint8_t *v = values + row * value_stride;
            in[l] = dim == 128 ? _mm512_loadu_si512(v) : _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)v));
        }
        transpose16(in, words);
        uint8_t *out = packed + g * (int64_t)dim * DG_MQA_LANES;
        for (int j = 0; j < dim / 8; j++) {
            const __m512i low = _mm512_shuffle_epi8(table, _mm512_and_si512(words[j], nibble));
            const __m512i high = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(words[j], 4), nibble));
            const __m512i first = _mm512_unpacklo_epi8(low, high), second = _mm512_unpackhi_epi8(low, high);
            _mm512_storeu_si512(out + 2 * j * 64, _mm512_permutex2var_epi32(first, even, second));
            _mm512_storeu_si512(out + (2 * j + 1) * 64, _mm512_permutex2var_epi32(first, odd, second));
        }
    }
}

int dg_mqa_pack_kv_avx512(int format, int dim, int64_t rows, const uint8_t *values, int64_t value_stride, int fp4_bias,
                          void *packed) {
    if (format == DG_MQA_FP8 && dim % 32 == 0) {
        if (!__builtin_cpu_supports("avx512vbmi")) return 0;
        pack_fp8_vbmi(dim, rows, values, value_stride, (uint32_t *)packed);
        return 1;
    }
    if (format == DG_MQA_FP4 && (dim == 64 || dim == 128)) {
        pack_fp4_avx512(dim, rows, values, value_stride, fp4_bias, (uint8_t *)packed);
        return 1;
    }
    return 0;
}
#endif
