// Lightning-indexer kernels: packing, the portable chunk steps, and the entry points that choose a
// level (see "Levels" in include/dg_mqa.h).
#pragma clang fp contract(off)
#include "CDeepGEMMCPU.h"
#include "mqa_internal.h"

int64_t dg_mqa_kv_group_bytes(int isa, int format, int dim) { return dg_mqa_group_bytes(dg_mqa_level_of(isa), format, dim); }

int64_t dg_mqa_kv_group_scales(int format, int dim) {
    return format == DG_MQA_FP8 ? DG_MQA_LANES : (int64_t)(dim / 32) * DG_MQA_LANES;
}

int64_t dg_mqa_q_bytes(int isa, int format, int heads, int dim) {
    if (format == DG_MQA_FP4) return 4 * ((int64_t)heads * (dim / 4 + 2 * (dim / 32)));
    return (int64_t)heads * dim * (dg_mqa_level_of(isa) == DG_MQA_LEVEL_AVX2 ? 4 : 2);
}

void dg_mqa_pack_q(int isa, int format, int heads, int dim, const uint8_t *q, const int32_t *q_sf, void *packed) {
#if defined(__x86_64__)
    if (format == DG_MQA_FP8 && dg_mqa_level_of(isa) == DG_MQA_LEVEL_AVX2) {
        dg_mqa_pack_q_fp8_avx2((int64_t)heads * dim, q, (float *)packed);
        return;
    }
#endif
    if (format == DG_MQA_FP8) {
        uint32_t *out = (uint32_t *)packed;
        for (int64_t i = 0; i < (int64_t)heads * dim / 2; i++)
            out[i] = dg_mqa_e4m3_to_bf16(q[2 * i]) | (uint32_t)dg_mqa_e4m3_to_bf16(q[2 * i + 1]) << 16;
        return;
    }
    const int words = dim / 4, blocks = dim / 32;
    int32_t *out = (int32_t *)packed;
    int32_t *corrections = out + dg_mqa_q4_corrections(heads, dim);
    float *scales = (float *)(out + dg_mqa_q4_scales(heads, dim));
    for (int h = 0; h < heads; h++) {
        const uint8_t *row = q + (int64_t)h * dim / 2;
        int8_t *values = (int8_t *)(out + (int64_t)h * words);
        for (int i = 0; i < dim / 2; i++) {
            values[2 * i] = dg_mqa_e2m1_doubled(row[i]);
            values[2 * i + 1] = dg_mqa_e2m1_doubled((uint8_t)(row[i] >> 4));
        }
        int32_t sf;
        memcpy(&sf, q_sf + h, 4);
        for (int b = 0; b < blocks; b++) {
            int32_t sum = 0;
            for (int d = 32 * b; d < 32 * b + 32; d++) sum += values[d];
            corrections[h * blocks + b] = -12 * sum;
            scales[h * blocks + b] = dg_mqa_ue8m0((uint8_t)((uint32_t)sf >> (8 * b))) * 0.25f;
        }
    }
}

/// Packs KV values by the portable loops (see dg_mqa_pack_kv), FP4 bytes 2·v + `fp4_bias`.
static void pack_kv_values_generic(int format, int dim, int64_t rows, const uint8_t *values, int64_t value_stride, int fp4_bias,
                                   void *packed) {
    const int64_t groups = (rows + DG_MQA_LANES - 1) / DG_MQA_LANES;
    if (format == DG_MQA_FP8) {
        const int pairs = dim / 2;
        for (int64_t g = 0; g < groups; g++) {
            uint32_t *out = (uint32_t *)packed + g * pairs * DG_MQA_LANES;
            for (int l = 0; l < DG_MQA_LANES; l++) {
                const int64_t row = g * DG_MQA_LANES + l;
                if (row >= rows) {
                    for (int p = 0; p < pairs; p++) out[p * DG_MQA_LANES + l] = 0;
                    continue;
                }
                const uint8_t *v = values + row * value_stride;
                for (int p = 0; p < pairs; p++)
                    out[p * DG_MQA_LANES + l] = dg_mqa_e4m3_to_bf16(v[2 * p]) | (uint32_t)dg_mqa_e4m3_to_bf16(v[2 * p + 1]) << 16;
            }
        }
        return;
    }
    const int words = dim / 4;
    for (int64_t g = 0; g < groups; g++) {
        uint8_t *out = (uint8_t *)packed + g * words * DG_MQA_LANES * 4;
        for (int l = 0; l < DG_MQA_LANES; l++) {
            const int64_t row = g * DG_MQA_LANES + l;
            for (int w = 0; w < words; w++) {
                uint8_t *o = out + (w * DG_MQA_LANES + l) * 4;
                if (row >= rows) {
                    o[0] = o[1] = o[2] = o[3] = (uint8_t)fp4_bias;
                    continue;
                }
                const uint8_t *v = values + row * value_stride + 2 * w;
                o[0] = (uint8_t)(dg_mqa_e2m1_doubled(v[0]) + fp4_bias);
                o[1] = (uint8_t)(dg_mqa_e2m1_doubled((uint8_t)(v[0] >> 4)) + fp4_bias);
                o[2] = (uint8_t)(dg_mqa_e2m1_doubled(v[1]) + fp4_bias);
                o[3] = (uint8_t)(dg_mqa_e2m1_doubled((uint8_t)(v[1] >> 4)) + fp4_bias);
            }
        }
    }
}

/// Packs KV scales (see dg_mqa_pack_kv).
static void pack_kv_scales(int format, int dim, int64_t rows, const uint8_t *scales, int64_t scale_stride, float *packed) {
    const int64_t groups = (rows + DG_MQA_LANES - 1) / DG_MQA_LANES;
    const int blocks = dim / 32;
    for (int64_t g = 0; g < groups; g++) {
        for (int l = 0; l < DG_MQA_LANES; l++) {
            const int64_t row = g * DG_MQA_LANES + l;
            uint32_t word = 0;
            if (row < rows) memcpy(&word, scales + row * scale_stride, 4);
            if (format == DG_MQA_FP8) {
                packed[g * DG_MQA_LANES + l] = row < rows ? dg_u2f(word) : 1.0f;
            } else {
                for (int b = 0; b < blocks; b++)
                    packed[(g * blocks + b) * DG_MQA_LANES + l] = row < rows ? dg_mqa_ue8m0((uint8_t)(word >> (8 * b))) : 1.0f;
            }
        }
    }
}

void dg_mqa_pack_kv(int isa, int format, int dim, int64_t rows, const uint8_t *values, int64_t value_stride,
                    const uint8_t *scales, int64_t scale_stride, void *packed, float *packed_scales) {
    const dg_mqa_level level = dg_mqa_level_of(isa);
    const int bias = dg_mqa_fp4_bias(level);
    switch (level) {
#if defined(__x86_64__)
    case DG_MQA_LEVEL_AVX2:
        dg_mqa_pack_kv_avx2(format, dim, rows, values, value_stride, packed);
        if (scale_stride == 4) {
            dg_mqa_pack_kv_scales_avx2(format, dim, rows, scales, packed_scales);
            return;
        }
        break;
    case DG_MQA_LEVEL_AVX512_DOT:
    case DG_MQA_LEVEL_AMX:
        if (!dg_mqa_pack_kv_avx512(format, dim, rows, values, value_stride, bias, packed))
            pack_kv_values_generic(format, dim, rows, values, value_stride, bias, packed);
        if (scale_stride == 4) {
            dg_mqa_pack_kv_scales_avx512(format, dim, rows, scales, packed_scales);
            return;
        }
        break;
#endif
    default: pack_kv_values_generic(format, dim, rows, values, value_stride, bias, packed); break;
    }
    pack_kv_scales(format, dim, rows, scales, scale_stride, packed_scales);
}

// The portable chunk steps.
static void scores_portable(int format, int heads, int dim, const void *q, const void *kv, const float *s, int64_t g, int groups,
                            dg_mqa_span prefetch, float *out) {
    dg_mqa_scores_chunk(format, heads, dim, q, kv, s, g, groups, prefetch, out);
}
static void reduce_f32_portable(int heads, const float *scores, int groups, const float *w, const float *kv_sf, float *red) {
    dg_mqa_reduce_f32(heads, scores, groups, w, kv_sf, red);
}
static void reduce_portable(int format, int heads, int dim, int wb, int ob, const float *scores, int groups, const void *w,
                            const float *s, int64_t g, int a, int b, void *out) {
    (void)dim;
    dg_mqa_reduce_chunk(reduce_f32_portable, format, heads, wb, ob, scores, groups, w, s, g, a, b, out);
}

void dg_mqa_logits(int isa, int format, int heads, int dim, int weights_bf16, int out_bf16, const void *q_packed,
                   const void *weights, const void *kv_packed, const float *kv_scales, int64_t lane_begin, int64_t lane_end,
                   const void *const *prefetch, int64_t prefetch_count, int64_t prefetch_bytes, void *out) {
    if (lane_end <= lane_begin) return;
    const dg_mqa_span span = dg_mqa_span_of((const uint8_t *const *)prefetch, prefetch ? prefetch_count : 0, prefetch_bytes);
    dg_mqa_scores_fn scores = scores_portable;
    dg_mqa_reduce_fn reduce = reduce_portable;
    switch (dg_mqa_level_of(isa)) {
#if defined(__x86_64__)
    case DG_MQA_LEVEL_AVX2: scores = dg_mqa_scores_chunk_avx2; reduce = dg_mqa_reduce_chunk_avx2; break;
    case DG_MQA_LEVEL_AMX:
        if (format == DG_MQA_FP4) {
            dg_mqa_logits_fp4_amx(heads, dim, weights_bf16, out_bf16, q_packed, weights, kv_packed, kv_scales, lane_begin, lane_end,
                                  span, out);
            return;
        }
        __attribute__((fallthrough));  // FP8 at the AMX level runs the AVX-512 dot kernels.
    case DG_MQA_LEVEL_AVX512_DOT: scores = dg_mqa_scores_chunk_avx512_dot; reduce = dg_mqa_reduce_chunk_avx512; break;
#endif
    default: break;
    }
    dg_mqa_logits_loop(scores, reduce, format, heads, dim, weights_bf16, out_bf16, q_packed, weights, kv_packed, kv_scales,
                       lane_begin, lane_end, span, out);
}
