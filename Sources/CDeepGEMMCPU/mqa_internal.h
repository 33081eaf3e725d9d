// Shared pieces of the lightning-indexer kernels (see include/dg_mqa.h for layouts and arithmetic).
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "CDeepGEMMCPU.h"
#include "dg_mqa.h"
#include "scalar_formats.h"

/// Lane groups per chunk of scores (64 KV rows).
#define DG_MQA_CHUNK_GROUPS 4
#define DG_MQA_CHUNK_LANES (DG_MQA_CHUNK_GROUPS * DG_MQA_LANES)
/// Most heads a query token has.
#define DG_MQA_MAX_HEADS 64

/// The kernels a dispatch code selects (see "Levels" in dg_mqa.h).
typedef enum {
    DG_MQA_LEVEL_PORTABLE,
    DG_MQA_LEVEL_AVX2,
    DG_MQA_LEVEL_AVX512_DOT,
    /// FP4 scores on AMX-INT8 tiles; FP8 runs the DG_MQA_LEVEL_AVX512_DOT kernels.
    DG_MQA_LEVEL_AMX,
} dg_mqa_level;

/// The level of dispatch code `isa`: every x86 code other than portable, AVX-512 and AMX with the
/// dot extension (including codes added after this file) runs the AVX2 kernels.
DG_INLINE dg_mqa_level dg_mqa_level_of(int isa) {
#if defined(__x86_64__)
    if ((isa & 0xFF) == DG_ISA_PORTABLE) return DG_MQA_LEVEL_PORTABLE;
    if ((isa & 0xFF) == DG_ISA_AVX512 && (isa & DG_MQA_DOT_EXTENSION)) return DG_MQA_LEVEL_AVX512_DOT;
    if ((isa & 0xFF) == DG_ISA_AMX && (isa & DG_MQA_DOT_EXTENSION)) return DG_MQA_LEVEL_AMX;
    return DG_MQA_LEVEL_AVX2;
#else
    (void)isa;
    return DG_MQA_LEVEL_PORTABLE;
#endif
}

/// Bytes of one packed lane group of KV values at `level` (FP8: BF16 pairs, or floats at the AVX2
/// level; FP4: offset bytes).
DG_INLINE int64_t dg_mqa_group_bytes(dg_mqa_level level, int format, int dim) {
    if (format == DG_MQA_FP4) return (int64_t)dim * DG_MQA_LANES;
    return (int64_t)dim * (level == DG_MQA_LEVEL_AVX2 ? 4 : 2) * DG_MQA_LANES;
}

/// What a packed FP4 KV byte adds to 2·v at `level`: 12 (unsigned bytes for vpdpbusd and the
/// integer loops, whose query tokens carry the correction), or 0 (signed bytes for tdpbssd).
DG_INLINE int dg_mqa_fp4_bias(dg_mqa_level level) { return level == DG_MQA_LEVEL_AMX ? 0 : 12; }

/// Offsets of the parts of a packed FP4 query token (in 4-byte words).
DG_INLINE int64_t dg_mqa_q4_corrections(int heads, int dim) { return (int64_t)heads * (dim / 4); }
DG_INLINE int64_t dg_mqa_q4_scales(int heads, int dim) { return (int64_t)heads * (dim / 4 + dim / 32); }

/// BF16 bits of an E4M3 code (exact; NaN codes give the quiet NaN).
DG_INLINE uint16_t dg_mqa_e4m3_to_bf16(uint8_t code) { return (uint16_t)(dg_f2u(dg_e4m3_to_f32(code)) >> 16); }

/// 2·v for each E2M1 code (the index): the table of every level's FP4 decode.
static const int8_t dg_mqa_e2m1_doubled_table[16] __attribute__((aligned(16))) = {0,  1,  2,  3,  4,  6,  8,  12,
                                                                                   0, -1, -2, -3, -4, -6, -8, -12};

/// 2·v for the E2M1 code in the low nibble of `code`.
DG_INLINE int8_t dg_mqa_e2m1_doubled(uint8_t code) { return dg_mqa_e2m1_doubled_table[code & 0xF]; }

/// The value of a UE8M0 byte as the hardware reads it: 2^(e-127), byte 0 is 2^-127, 255 NaN.
DG_INLINE float dg_mqa_ue8m0(uint8_t byte) {
    float normal = dg_u2f((uint32_t)byte << 23);
    return byte == 0 ? 0x1p-127f : (byte == 255 ? dg_u2f(0x7FC00000u) : normal);
}

/// `x` rounded to BF16 (nearest even; NaN to the quiet NaN of its sign), as a float.
DG_INLINE float dg_mqa_bf16_round(float x) { return dg_bf16_to_f32(dg_f32_to_bf16(x)); }

/// bf16(a·b + c) rounded once, for BF16-exact a, b and c: the product is exact in binary32, the
/// binary32 sum s and its exact error e (TwoSum) decide the BF16 rounding, e breaking the ties of s.
DG_INLINE float dg_mqa_bf16_fma(float a, float b, float c) {
    float p = a * b;
    float s = p + c;
    float v = s - p;
    float e = (p - (s - v)) + (c - v);
    uint32_t bits = dg_f2u(s);
    int tie = (bits & 0xFFFFu) == 0x8000u && e != 0.0f;
    int away = (e > 0.0f) == (s > 0.0f);
    uint32_t moved = away ? bits + 0x8000u : bits - 0x8000u;
    return dg_mqa_bf16_round(dg_u2f(tie ? moved : bits));
}

/// Head reduction of `groups` lane groups of a chunk with F32 weights: red[l] from scores [heads][64].
typedef void (*dg_mqa_reduce_f32_fn)(int heads, const float *scores, int groups, const float *w, const float *kv_sf, float *red);

/// The portable dg_mqa_reduce_f32_fn.
DG_INLINE void dg_mqa_reduce_f32(int heads, const float *scores, int groups, const float *w, const float *kv_sf, float *red) {
    const int lanes = groups * DG_MQA_LANES;
    float c[4][DG_MQA_CHUNK_LANES];
    for (int k = 0; k < 4; k++)
        for (int l = 0; l < DG_MQA_CHUNK_LANES; l++) c[k][l] = 0.0f;
    for (int h = 0; h < heads; h++) {
        const float wh = w[h];
        const float *s = scores + h * DG_MQA_CHUNK_LANES;
        float *ck = c[h & 3];
        for (int l = 0; l < lanes; l++) {
            float r = s[l] > 0.0f ? s[l] : 0.0f;
            ck[l] = fmaf(r, wh, ck[l]);
        }
    }
    for (int l = 0; l < lanes; l++) {
        float r = (c[0][l] + c[2][l]) + (c[1][l] + c[3][l]);
        red[l] = kv_sf ? r * kv_sf[l] : r;
    }
}

/// Head reduction of a chunk with BF16 weights (SM100's BF16 path); results are BF16-exact floats.
DG_INLINE void dg_mqa_reduce_bf16(int heads, const float *scores, int lanes, const uint16_t *w, const float *kv_sf, float *red) {
    float c[4][DG_MQA_CHUNK_LANES];
    for (int k = 0; k < 4; k++)
        for (int l = 0; l < DG_MQA_CHUNK_LANES; l++) c[k][l] = 0.0f;
    for (int h = 0; h < heads; h++) {
        const float wh = dg_bf16_to_f32(w[h]);
        const float *s = scores + h * DG_MQA_CHUNK_LANES;
        float *ck = c[h & 3];
        for (int l = 0; l < lanes; l++) {
            float r = dg_mqa_bf16_round(s[l] > 0.0f ? s[l] : 0.0f);
            ck[l] = dg_mqa_bf16_fma(r, wh, ck[l]);
        }
    }
    for (int l = 0; l < lanes; l++) {
        float x = dg_mqa_bf16_round(c[0][l] + c[2][l]);
        float y = dg_mqa_bf16_round(c[1][l] + c[3][l]);
        float r = dg_mqa_bf16_round(x + y);
        red[l] = kv_sf ? dg_mqa_bf16_round(r * dg_mqa_bf16_round(kv_sf[l])) : r;
    }
}

/// Stores red[a..<b] to out (float, or BF16 bits when out_bf16).
DG_INLINE void dg_mqa_store(const float *red, int a, int b, int out_bf16, void *out) {
    if (out_bf16) {
        uint16_t *o = (uint16_t *)out;
        for (int l = a; l < b; l++) o[l - a] = dg_f32_to_bf16(red[l]);
    } else {
        float *o = (float *)out;
        for (int l = a; l < b; l++) o[l - a] = red[l];
    }
}

/// FP8 scores of `groups` lane groups (at most a chunk) for every head, by the portable loops.
DG_INLINE void dg_mqa_scores_fp8_generic(int heads, int dim, const uint32_t *q, const uint32_t *kv, int groups, float *scores) {
    const int pairs = dim / 2;
    for (int h = 0; h < heads; h++) {
        const uint32_t *qh = q + (int64_t)h * pairs;
        for (int g = 0; g < groups; g++) {
            const uint32_t *kg = kv + (int64_t)g * pairs * DG_MQA_LANES;
            float acc[DG_MQA_LANES];
            for (int l = 0; l < DG_MQA_LANES; l++) acc[l] = 0.0f;
            for (int p = 0; p < pairs; p++) {
                const float q0 = dg_bf16_to_f32((uint16_t)qh[p]), q1 = dg_bf16_to_f32((uint16_t)(qh[p] >> 16));
                for (int l = 0; l < DG_MQA_LANES; l++) {
                    const uint32_t k = kg[p * DG_MQA_LANES + l];
                    float a = acc[l] + q1 * dg_bf16_to_f32((uint16_t)(k >> 16));
                    acc[l] = a + q0 * dg_bf16_to_f32((uint16_t)k);
                }
            }
            for (int l = 0; l < DG_MQA_LANES; l++) scores[h * DG_MQA_CHUNK_LANES + g * DG_MQA_LANES + l] = acc[l];
        }
    }
}

/// FP4 scores of `groups` lane groups (at most a chunk) for every head, by the portable loops.
DG_INLINE void dg_mqa_scores_fp4_generic(int heads, int dim, const int32_t *q, const uint8_t *kv, const float *kv_scales,
                                          int groups, float *scores) {
    const int words = dim / 4, blocks = dim / 32;
    const int32_t *corrections = q + dg_mqa_q4_corrections(heads, dim);
    const float *q_scales = (const float *)(q + dg_mqa_q4_scales(heads, dim));
    for (int h = 0; h < heads; h++) {
        const int8_t *qh = (const int8_t *)(q + (int64_t)h * words);
        for (int g = 0; g < groups; g++) {
            const uint8_t *kg = kv + (int64_t)g * words * DG_MQA_LANES * 4;
            const float *sg = kv_scales + (int64_t)g * blocks * DG_MQA_LANES;
            float s[DG_MQA_LANES];
            for (int l = 0; l < DG_MQA_LANES; l++) s[l] = 0.0f;
            for (int b = 0; b < blocks; b++) {
                int32_t acc[DG_MQA_LANES];
                for (int l = 0; l < DG_MQA_LANES; l++) acc[l] = corrections[h * blocks + b];
                for (int w = b * 8; w < b * 8 + 8; w++) {
                    const int8_t *qw = qh + 4 * w;
                    for (int l = 0; l < DG_MQA_LANES; l++) {
                        const uint8_t *k = kg + (w * DG_MQA_LANES + l) * 4;
                        acc[l] += k[0] * qw[0] + k[1] * qw[1] + k[2] * qw[2] + k[3] * qw[3];
                    }
                }
                const float qs = q_scales[h * blocks + b];
                for (int l = 0; l < DG_MQA_LANES; l++) s[l] = fmaf((float)acc[l], qs * sg[b * DG_MQA_LANES + l], s[l]);
            }
            for (int l = 0; l < DG_MQA_LANES; l++) scores[h * DG_MQA_CHUNK_LANES + g * DG_MQA_LANES + l] = s[l];
        }
    }
}

/// Memory to prefetch while chunks are computed: the 64-byte lines [first, end) of `count` blocks
/// of `bytes` bytes each (block i at `starts[i]`), numbered block after block.
typedef struct {
    const uint8_t *const *starts;
    int64_t count, bytes, first, end;
} dg_mqa_span;

/// Lines of one block of `span`.
DG_INLINE int64_t dg_mqa_span_block_lines(dg_mqa_span span) { return (span.bytes + 63) / 64; }

/// Every line of the `count` blocks of `bytes` bytes at `starts` (count 0: nothing).
DG_INLINE dg_mqa_span dg_mqa_span_of(const uint8_t *const *starts, int64_t count, int64_t bytes) {
    dg_mqa_span span = {starts, count, bytes, 0, 0};
    span.end = count * dg_mqa_span_block_lines(span);
    return span;
}

/// The next line of a span to prefetch, for spans prefetched a few lines at a time.
typedef struct {
    dg_mqa_span span;
    int64_t block, line;
} dg_mqa_prefetcher;

/// A prefetcher at the first line of `span`.
DG_INLINE dg_mqa_prefetcher dg_mqa_prefetcher_of(dg_mqa_span span) {
    const int64_t lines = dg_mqa_span_block_lines(span);
    const dg_mqa_prefetcher at = {span, lines > 0 ? span.first / lines : 0, lines > 0 ? span.first % lines : 0};
    return at;
}

/// Prefetches the next `count` lines of `at` (fewer at the end of its span) towards the L2 cache
/// (prefetcht2: it does not evict the working set from L1).
DG_INLINE void dg_mqa_prefetch_lines(dg_mqa_prefetcher *at, int64_t count) {
    const int64_t lines = dg_mqa_span_block_lines(at->span);
    const int64_t end = at->span.first + count < at->span.end ? at->span.first + count : at->span.end;
    for (; at->span.first < end; at->span.first++) {
        __builtin_prefetch(at->span.starts[at->block] + 64 * at->line, 0, 1);
        if (++at->line == lines) at->line = 0, at->block++;
    }
}

/// Prefetches every line of `span` (see dg_mqa_prefetch_lines).
DG_INLINE void dg_mqa_prefetch(dg_mqa_span span) {
    if (span.first >= span.end) return;
    dg_mqa_prefetcher at = dg_mqa_prefetcher_of(span);
    dg_mqa_prefetch_lines(&at, span.end - span.first);
}

/// Part `index` of `parts` equal parts of `span` (in whole lines).
DG_INLINE dg_mqa_span dg_mqa_span_part(dg_mqa_span span, int64_t index, int64_t parts) {
    const int64_t lines = span.end - span.first;
    dg_mqa_span part = span;
    part.first = span.first + lines * index / parts;
    part.end = span.first + lines * (index + 1) / parts;
    return part;
}

/// Scores of one chunk: `groups` lane groups starting at group `g`, prefetching `prefetch` meanwhile.
typedef void (*dg_mqa_scores_fn)(int format, int heads, int dim, const void *q, const void *kv_packed, const float *kv_scales,
                                 int64_t g, int groups, dg_mqa_span prefetch, float *scores);

/// Head reduction and store of one chunk: lanes [a, b) of the chunk at lane group `g`, to `out`.
typedef void (*dg_mqa_reduce_fn)(int format, int heads, int dim, int weights_bf16, int out_bf16, const float *scores,
                                 int groups, const void *weights, const float *kv_scales, int64_t g, int a, int b, void *out);

/// The chunk loop shared by every variant: scores of up to DG_MQA_CHUNK_GROUPS groups, then their
/// head reduction for the lanes inside [lane_begin, lane_end).
DG_INLINE void dg_mqa_logits_loop(dg_mqa_scores_fn scores_fn, dg_mqa_reduce_fn reduce_fn, int format, int heads, int dim,
                                  int weights_bf16, int out_bf16, const void *q, const void *weights, const void *kv_packed,
                                  const float *kv_scales, int64_t lane_begin, int64_t lane_end, dg_mqa_span prefetch, void *out) {
    float scores[DG_MQA_MAX_HEADS * DG_MQA_CHUNK_LANES];
    const int64_t element = out_bf16 ? 2 : 4;
    const int64_t first = lane_begin / DG_MQA_LANES, last = (lane_end + DG_MQA_LANES - 1) / DG_MQA_LANES;
    const int64_t chunks = (last - first + DG_MQA_CHUNK_GROUPS - 1) / DG_MQA_CHUNK_GROUPS;
    for (int64_t g = first; g < last; g += DG_MQA_CHUNK_GROUPS) {
        const int groups = (int)(last - g < DG_MQA_CHUNK_GROUPS ? last - g : DG_MQA_CHUNK_GROUPS);
        const int64_t base = g * DG_MQA_LANES;
        const int a = (int)(lane_begin > base ? lane_begin - base : 0);
        const int b = (int)(lane_end < base + groups * DG_MQA_LANES ? lane_end - base : groups * DG_MQA_LANES);
        scores_fn(format, heads, dim, q, kv_packed, kv_scales, g, groups,
                  dg_mqa_span_part(prefetch, (g - first) / DG_MQA_CHUNK_GROUPS, chunks), scores);
        reduce_fn(format, heads, dim, weights_bf16, out_bf16, scores, groups, weights, kv_scales, g, a, b,
                  (uint8_t *)out + (base + a - lane_begin) * element);
    }
}

/// The reduction step of one chunk (a dg_mqa_reduce_fn but for `reduce_f32`, the F32-weight
/// reduction of the level; BF16 weights take dg_mqa_reduce_bf16 at every level).
DG_INLINE void dg_mqa_reduce_chunk(dg_mqa_reduce_f32_fn reduce_f32, int format, int heads, int weights_bf16, int out_bf16,
                                   const float *scores, int groups, const void *weights, const float *kv_scales, int64_t g, int a,
                                   int b, void *out) {
    float red[DG_MQA_CHUNK_LANES];
    const float *kv_sf = format == DG_MQA_FP8 ? kv_scales + g * DG_MQA_LANES : 0;
    if (weights_bf16) dg_mqa_reduce_bf16(heads, scores, groups * DG_MQA_LANES, (const uint16_t *)weights, kv_sf, red);
    else reduce_f32(heads, scores, groups, (const float *)weights, kv_sf, red);
    dg_mqa_store(red, a, b, out_bf16, out);
}

/// Portable scores of one chunk.
DG_INLINE void dg_mqa_scores_chunk(int format, int heads, int dim, const void *q, const void *kv_packed, const float *kv_scales,
                                   int64_t g, int groups, dg_mqa_span prefetch, float *scores) {
    dg_mqa_prefetch(prefetch);
    const int64_t bytes = dg_mqa_group_bytes(DG_MQA_LEVEL_PORTABLE, format, dim), floats = dg_mqa_kv_group_scales(format, dim);
    const uint8_t *kv = (const uint8_t *)kv_packed + g * bytes;
    if (format == DG_MQA_FP8) dg_mqa_scores_fp8_generic(heads, dim, (const uint32_t *)q, (const uint32_t *)kv, groups, scores);
    else dg_mqa_scores_fp4_generic(heads, dim, (const int32_t *)q, kv, kv_scales + g * floats, groups, scores);
}

#if defined(__x86_64__)
/// AVX-512 BF16 / VNNI scores of one chunk (mqa_avx512.c).
void dg_mqa_scores_chunk_avx512_dot(int format, int heads, int dim, const void *q, const void *kv_packed, const float *kv_scales,
                                    int64_t g, int groups, dg_mqa_span prefetch, float *scores);
/// The AVX-512 reduction of one chunk (mqa_avx512.c).
void dg_mqa_reduce_chunk_avx512(int format, int heads, int dim, int weights_bf16, int out_bf16, const float *scores,
                                int groups, const void *weights, const float *kv_scales, int64_t g, int a, int b, void *out);
/// AVX-512 packing of KV scales stored 4 bytes apart (mqa_avx512.c).
void dg_mqa_pack_kv_scales_avx512(int format, int dim, int64_t rows, const uint8_t *scales, float *packed);
/// AVX-512 packing of FP8 (with VBMI) and FP4 KV rows, FP4 bytes 2·v + `fp4_bias` (mqa_avx512.c);
/// returns 0 when it does not handle the case.
int dg_mqa_pack_kv_avx512(int format, int dim, int64_t rows, const uint8_t *values, int64_t value_stride, int fp4_bias,
                          void *packed);
/// FP4 logits of one packed query token on AMX-INT8 tiles (dg_mqa_logits at the AMX level; KV bytes
/// are the signed 2·v), the tile configuration loaded before the first tile and released after the
/// last (mqa_amx.c).
void dg_mqa_logits_fp4_amx(int heads, int dim, int weights_bf16, int out_bf16, const void *q_packed, const void *weights,
                           const void *kv_packed, const float *kv_scales, int64_t lane_begin, int64_t lane_end, dg_mqa_span prefetch,
                           void *out);
/// AVX2 + FMA scores of one chunk: FP32 FMA (FP8) or exact int16/int32 dots (FP4) (mqa_avx2.c).
void dg_mqa_scores_chunk_avx2(int format, int heads, int dim, const void *q, const void *kv_packed, const float *kv_scales,
                              int64_t g, int groups, dg_mqa_span prefetch, float *scores);
/// The AVX2 reduction of one chunk (mqa_avx2.c).
void dg_mqa_reduce_chunk_avx2(int format, int heads, int dim, int weights_bf16, int out_bf16, const float *scores,
                              int groups, const void *weights, const float *kv_scales, int64_t g, int a, int b, void *out);
/// AVX2 packing of KV values in the AVX2 level's layout, for every dim dg_mqa.h allows (mqa_avx2.c).
void dg_mqa_pack_kv_avx2(int format, int dim, int64_t rows, const uint8_t *values, int64_t value_stride, void *packed);
/// AVX2 packing of an FP8 query token: `count` E4M3 codes (a multiple of 16) to floats in the AVX2
/// level's layout, each pair's two elements swapped (mqa_avx2.c).
void dg_mqa_pack_q_fp8_avx2(int64_t count, const uint8_t *q, float *packed);
/// AVX2 packing of KV scales stored 4 bytes apart (mqa_avx2.c).
void dg_mqa_pack_kv_scales_avx2(int format, int dim, int64_t rows, const uint8_t *scales, float *packed);
#endif
