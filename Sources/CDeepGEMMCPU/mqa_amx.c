// AMX-INT8 lightning-indexer kernel: FP4 scores with `tdpbssd`, one 32-element scale block per
// tile product (its int32 dots are exact, as with vpdpbusd), each block's dot tile stored and
// folded into the float scores in AVX-512 by the arithmetic of the other levels; the head
// reduction is the AVX-512 one. KV bytes are the signed 2·v (dg_mqa_fp4_bias), so the query
// tokens' corrections are not used.
//
// Tiles (palette 1), with R = min(heads, 16) rows of heads:
// - 0, 1: the dots of two blocks, R heads x 16 lanes of int32 each (64-byte rows);
// - 2, 3: two blocks of R query heads, R x 32 int8 each (32-byte rows, read from the packed token);
// - 4...7: the blocks of one KV lane group, 8 quads x 16 lanes x 4 int8 each (the packed group).
// Measured on Sapphire Rapids, the tile stores and the vector fold take about equal time and
// barely overlap; the products themselves are hidden. Triple-buffered dots, a deeper lag or BF16
// tiles (tdpbf16ps, whose sums of these integers are exact too, saving the int32 conversion but
// doubling the KV panel) were no faster.
#pragma clang fp contract(off)
#include "CDeepGEMMCPU.h"
#include "mqa_internal.h"
#include "amx_tile_config.h"

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

/// Loads the tile configuration for `rows` heads per tile (see the list above).
DG_MQA_AMX static void configure(int rows) {
    dg_amx_tile_config config = dg_amx_palette1();
    for (int t = TILE_DOTS; t < TILE_KV + 4; t++) {
        config.rows[t] = (uint8_t)(t < TILE_KV ? rows : BLOCK / 4);
        config.bytes_per_row[t] = t >= TILE_QUERY && t < TILE_KV ? BLOCK : 64;
    }
    _tile_loadconfig(&config);
}

/// Products of blocks B and B + 1 (B a literal) of the heads at `q` (rows `dim` bytes apart) with
/// KV tiles TILE_KV + B and TILE_KV + B + 1, into dot tiles TILE_DOTS and TILE_DOTS + 1.
#define DG_MQA_PAIR_PRODUCTS(B)                                               \
    _tile_loadd(TILE_QUERY, q + (B) * BLOCK, dim);                            \
    _tile_loadd(TILE_QUERY + 1, q + ((B) + 1) * BLOCK, dim);                  \
    _tile_zero(TILE_DOTS);                                                    \
    _tile_zero(TILE_DOTS + 1);                                                \
    _tile_dpbssd(TILE_DOTS, TILE_QUERY, TILE_KV + (B));                       \
    _tile_dpbssd(TILE_DOTS + 1, TILE_QUERY + 1, TILE_KV + (B) + 1)

/// One step of a chunk: block pair `pair` of the heads from `head` against lane group `group`.
typedef struct {
    int group, head, pair;
} step_place;

/// Step `step` of a chunk whose steps run pair by pair, then head tile by head tile (`rows` heads
/// each), then lane group by lane group.
DG_INLINE step_place place_of(int step, int pairs, int head_steps, int rows) {
    const step_place place = {step / (pairs * head_steps), step / pairs % head_steps * rows, step % pairs};
    return place;
}

/// Issues the tile products of step `at`, loading the KV tiles of its lane group at the group's
/// first step.
DG_MQA_AMX static inline __attribute__((always_inline)) void products(step_place at, int dim, const int8_t *query, const int8_t *kv) {
    if (at.head == 0 && at.pair == 0) {
        const int8_t *group = kv + (int64_t)at.group * dim * DG_MQA_LANES;
        _tile_loadd(TILE_KV + 0, group, 64);
        _tile_loadd(TILE_KV + 1, group + KV_BLOCK_BYTES, 64);
        if (dim == 4 * BLOCK) {
            _tile_loadd(TILE_KV + 2, group + 2 * KV_BLOCK_BYTES, 64);
            _tile_loadd(TILE_KV + 3, group + 3 * KV_BLOCK_BYTES, 64);
        }
    }
    const int8_t *q = query + (int64_t)at.head * dim;
    if (at.pair == 0) {
        DG_MQA_PAIR_PRODUCTS(0);
    } else {
        DG_MQA_PAIR_PRODUCTS(2);
    }
}

/// Folds the dots of step `at` (`dots`: the pair's two tiles, [head][16 lanes] int32 each) into
/// `acc`, one register per head: s = fma(float(d_b), qs_b · ks_b, s) block after block from 0, the
/// order of every level; the last pair stores the scores of the `rows` heads.
DG_MQA_AMX static inline __attribute__((always_inline)) void fold(step_place at, int rows, int pairs, int blocks, const int32_t *dots,
                                                                  const float *q_scales, const float *kv_scales, __m512 acc[16],
                                                                  float *scores) {
    const float *ks = kv_scales + ((int64_t)at.group * blocks + 2 * at.pair) * DG_MQA_LANES;
    const __m512 ks0 = _mm512_loadu_ps(ks), ks1 = _mm512_loadu_ps(ks + DG_MQA_LANES);
    const float *qs = q_scales + at.head * blocks + 2 * at.pair;
    float *out = scores + at.head * DG_MQA_CHUNK_LANES + at.group * DG_MQA_LANES;
    for (int r = 0; r < rows; r++) {
        __m512 s = at.pair == 0 ? _mm512_setzero_ps() : acc[r];
        s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots + r * DG_MQA_LANES)),
                            _mm512_mul_ps(_mm512_set1_ps(qs[r * blocks]), ks0), s);
        s = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(dots + DOT_TILE + r * DG_MQA_LANES)),
                            _mm512_mul_ps(_mm512_set1_ps(qs[r * blocks + 1]), ks1), s);
        acc[r] = s;
        if (at.pair + 1 == pairs) _mm512_storeu_ps(out + r * DG_MQA_CHUNK_LANES, s);
    }
}

/// FP4 scores of one chunk (a dg_mqa_scores_fn). The products of step i + 1 are issued before the
/// dots of step i are folded and stored after them, two dot buffers taking turns; each step
/// prefetches its share of `prefetch` (a few lines each: bursts of prefetches that miss every
/// cache stall the kernel).
DG_MQA_AMX static void scores_chunk(int format, int heads, int dim, const void *q_packed, const void *kv_packed,
                                    const float *kv_scales, int64_t g, int groups, dg_mqa_span prefetch, float *scores) {
    (void)format;
    const int blocks = dim / BLOCK, pairs = blocks / 2, rows = heads < 16 ? heads : 16, head_steps = heads / rows;
    const int steps = groups * head_steps * pairs;
    const int8_t *query = (const int8_t *)q_packed;
    const float *q_scales = (const float *)((const int32_t *)q_packed + dg_mqa_q4_scales(heads, dim));
    const int8_t *kv = (const int8_t *)kv_packed + g * dim * DG_MQA_LANES;
    const float *ks = kv_scales + g * blocks * DG_MQA_LANES;
    int32_t dots[2][2 * DOT_TILE] __attribute__((aligned(64)));
    __m512 acc[16];
    dg_mqa_prefetcher ahead = dg_mqa_prefetcher_of(prefetch);
    const int64_t lines_per_step = (prefetch.end - prefetch.first + steps - 1) / steps;
    products(place_of(0, pairs, head_steps, rows), dim, query, kv);
    _tile_stored(TILE_DOTS, dots[0], DG_MQA_LANES * 4);
    _tile_stored(TILE_DOTS + 1, dots[0] + DOT_TILE, DG_MQA_LANES * 4);
    for (int step = 0; step < steps; step++) {
        const int next = step + 1;
        if (next < steps) products(place_of(next, pairs, head_steps, rows), dim, query, kv);
        dg_mqa_prefetch_lines(&ahead, lines_per_step);
        fold(place_of(step, pairs, head_steps, rows), rows, pairs, blocks, dots[step % 2], q_scales, ks, acc, scores);
        if (next < steps) {
            _tile_stored(TILE_DOTS, dots[next % 2], DG_MQA_LANES * 4);
            _tile_stored(TILE_DOTS + 1, dots[next % 2] + DOT_TILE, DG_MQA_LANES * 4);
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
