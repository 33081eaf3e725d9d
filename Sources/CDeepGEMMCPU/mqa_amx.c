// AMX-INT8 lightning-indexer kernel: FP4 scores with `tdpbssd`, one 32-element scale block per
// tile product (its int32 dots are exact, as with vpdpbusd), each block's dot tile stored and
// folded into the float scores in AVX-512 by the arithmetic of the other levels; the head
// reduction is the AVX-512 one. KV bytes are the signed 2·v (dg_mqa_fp4_bias), so the query
// tokens' corrections are not used.
//
// Tiles (palette 1), with R = min(heads, 16) rows of heads:
// - 0, 1: the dots of one block, R heads x 16 lanes of int32 (64-byte rows);
// - 2, 3: one block of R query heads, R x 32 int8 (32-byte rows, read from the packed token);
// - 4...7: the blocks of one KV lane group, 8 quads x 16 lanes x 4 int8 each (the packed group).
#pragma clang fp contract(off)
#include "CDeepGEMMCPU.h"
#include "mqa_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define DG_MQA_AMX __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

enum {
    TILE_DOTS = 0,
    TILE_QUERY = 2,
    TILE_KV = 4,
    /// Elements of a scale block (the K of one tile product).
    BLOCK = 32,
    /// Bytes of one block of a packed KV lane group.
    KV_BLOCK_BYTES = BLOCK * DG_MQA_LANES,
    /// int32 of one block's dot tile as stored (16 rows of 16 lanes).
    DOT_TILE = 16 * DG_MQA_LANES,
};

/// The 64-byte operand of ldtilecfg.
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} tile_config;

/// Loads the tile configuration for `rows` heads per tile (see the list above).
DG_MQA_AMX static void configure(int rows) {
    tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = TILE_DOTS; t < TILE_KV + 4; t++) {
        config.rows[t] = (uint8_t)(t < TILE_KV ? rows : BLOCK / 4);
        config.bytes_per_row[t] = t >= TILE_QUERY && t < TILE_KV ? BLOCK : 64;
    }
    _tile_loadconfig(&config);
}

/// Dots of block B (a literal) of the heads at `q` (rows `dim` bytes apart) against KV tile
/// TILE_KV + B, stored to `dots` + B · DOT_TILE ([head][16 lanes] int32).
#define DG_MQA_BLOCK_DOTS(B)                                                  \
    _tile_loadd(TILE_QUERY + (B) % 2, q + (B) * BLOCK, dim);                  \
    _tile_zero(TILE_DOTS + (B) % 2);                                          \
    _tile_dpbssd(TILE_DOTS + (B) % 2, TILE_QUERY + (B) % 2, TILE_KV + (B));   \
    _tile_stored(TILE_DOTS + (B) % 2, dots + (B) * DOT_TILE, DG_MQA_LANES * 4)

/// Dots of every block (2 or 4) of the heads at `q` against the loaded KV tiles.
DG_MQA_AMX static inline __attribute__((always_inline)) void head_dots(int blocks, int dim, const int8_t *q, int32_t *dots) {
    DG_MQA_BLOCK_DOTS(0);
    DG_MQA_BLOCK_DOTS(1);
    if (blocks == 4) {
        DG_MQA_BLOCK_DOTS(2);
        DG_MQA_BLOCK_DOTS(3);
    }
}

/// Scores of `rows` heads from their block dots: s = fma(float(d_b), qs_b · ks_b, s) block after
/// block from 0, the order of every level; `q_scales` holds the first head's block scales, then the
/// next head's, and `scores` the first head's 16 lanes (heads DG_MQA_CHUNK_LANES apart).
DG_MQA_AMX static inline __attribute__((always_inline)) void fold(int rows, int blocks, const int32_t *dots, const float *q_scales,
                                                                  const __m512 kv_scales[4], float *scores) {
    for (int r = 0; r < rows; r++) {
        __m512 s = _mm512_setzero_ps();
        for (int b = 0; b < blocks; b++) {
            const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(q_scales[r * blocks + b]), kv_scales[b]);
            const __m512 dot = _mm512_cvtepi32_ps(_mm512_load_si512(dots + b * DOT_TILE + r * DG_MQA_LANES));
            s = _mm512_fmadd_ps(dot, scale, s);
        }
        _mm512_storeu_ps(scores + r * DG_MQA_CHUNK_LANES, s);
    }
}

/// FP4 scores of one chunk (a dg_mqa_scores_fn): per lane group, its KV blocks stay in tiles while
/// the dots of the next heads are computed ahead of the fold of the current ones.
DG_MQA_AMX static void scores_chunk(int format, int heads, int dim, const void *q_packed, const void *kv_packed,
                                    const float *kv_scales, int64_t g, int groups, dg_mqa_span prefetch, float *scores) {
    (void)format;
    const int blocks = dim / BLOCK, rows = heads < 16 ? heads : 16;
    const int8_t *q = (const int8_t *)q_packed;
    const float *q_scales = (const float *)((const int32_t *)q_packed + dg_mqa_q4_scales(heads, dim));
    int32_t dots[2][4 * DOT_TILE] __attribute__((aligned(64)));
    for (int v = 0; v < groups; v++) {
        dg_mqa_prefetch(dg_mqa_span_part(prefetch, v, groups));
        const int8_t *kv = (const int8_t *)kv_packed + (g + v) * dim * DG_MQA_LANES;
        const float *group_scales = kv_scales + (g + v) * blocks * DG_MQA_LANES;
        __m512 ks[4];
        for (int b = 0; b < blocks; b++) ks[b] = _mm512_loadu_ps(group_scales + b * DG_MQA_LANES);
        _tile_loadd(TILE_KV + 0, kv, 64);
        _tile_loadd(TILE_KV + 1, kv + KV_BLOCK_BYTES, 64);
        if (blocks == 4) {
            _tile_loadd(TILE_KV + 2, kv + 2 * KV_BLOCK_BYTES, 64);
            _tile_loadd(TILE_KV + 3, kv + 3 * KV_BLOCK_BYTES, 64);
        }
        head_dots(blocks, dim, q, dots[0]);
        for (int hb = 0, step = 0; hb < heads; hb += rows, step++) {
            if (hb + rows < heads) head_dots(blocks, dim, q + (int64_t)(hb + rows) * dim, dots[(step + 1) % 2]);
            fold(rows, blocks, dots[step % 2], q_scales + hb * blocks, ks, scores + hb * DG_MQA_CHUNK_LANES + v * DG_MQA_LANES);
        }
    }
}

DG_MQA_AMX void dg_mqa_logits_fp4_amx(int heads, int dim, int weights_bf16, int out_bf16, const void *q_packed, const void *weights,
                                      const void *kv_packed, const float *kv_scales, int64_t lane_begin, int64_t lane_end,
                                      dg_mqa_span prefetch, void *out) {
    configure(heads < 16 ? heads : 16);
    dg_mqa_logits_loop(scores_chunk, dg_mqa_reduce_chunk_avx512, DG_MQA_FP4, heads, dim, weights_bf16, out_bf16, q_packed, weights,
                       kv_packed, kv_scales, lane_begin, lane_end, prefetch, out);
    _tile_release();
}
#endif
