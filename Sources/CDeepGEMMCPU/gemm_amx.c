// The AMX GEMM path: MR 32 x NR 32 tiles as 2 x 2 FP32 accumulator tiles of 16 x 16, fed by two A
// tiles (16 rows x 32 K, row-major) and two B tiles (16 K pairs x 16 columns, the pair layout)
// with `tdpbf16ps`: 8 tiles in all, each configured as 16 rows of 64 bytes. A K block runs in the
// tiles from zero and is stored to a scratch area on the stack; every BATCH blocks the scratch is
// folded into the accumulators by the scale rule of the other kernels (C = P·(sa·sb), or C += ...),
// block by block in K order.
//
// Packed A (see dg_gemm_pairs_to_rows_avx512): per group of 16 steps, [MR rows][16 steps][2].
// Packed B: the common pair layout [step][NR][2]. Blocks are padded to whole groups of 16 steps.
#include "gemm_internal.h"
#include "amx_tile_config.h"

#if DG_GEMM_X86
#include <immintrin.h>

#define DG_TARGET_AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

enum { MR = DG_AMX_MR, NR = DG_AMX_NR, GROUP = DG_AMX_GROUP_STEPS, HALF = 16 };

/// Every tile 16 rows of 64 bytes.
DG_TARGET_AMX void dg_gemm_amx_configure(void) {
    dg_amx_tile_config config = dg_amx_palette1();
    for (int i = 0; i < 8; i++) {
        config.bytes_per_row[i] = 64;
        config.rows[i] = 16;
    }
    _tile_loadconfig(&config);
}

DG_TARGET_AMX void dg_gemm_amx_release(void) { _tile_release(); }

/// Blocks run into scratch tiles before one fold: the accumulators are read and written once per
/// batch instead of once per block (FP4's 32-element scale blocks fill one tile row each).
enum { BATCH = 4 };

/// Folds blocks [blk0, blk0+count) of rows [0, rows) into the accumulators, block after block:
/// C = P·(sa·sb) or C += P·(sa·sb) (C = P or C += P when unscaled), the rule of the other kernels;
/// p[i] is block blk0+i as [MR][NR] floats.
static inline __attribute__((always_inline)) DG_TARGET_AMX void fold(const dg_gemm_tile *t, int64_t blk0, int64_t count,
                                                                  const float (*p)[MR * NR]) {
    for (int r = 0; r < t->rows; r++) {
        float *c = t->c + r * t->ldc;
        for (int h = 0; h < t->cols; h += 16) {
            __m512 acc = _mm512_setzero_ps();
            for (int64_t i = 0; i < count; i++) {
                const int64_t blk = blk0 + i;
                if (i == 0 && !(t->first && blk == 0)) acc = _mm512_loadu_ps(c + h);
                const __m512 v = _mm512_load_ps(p[i] + r * NR + h);
                if (t->sa) {
                    const __m512 x = _mm512_mul_ps(_mm512_set1_ps(t->sa[blk * MR + r]), _mm512_loadu_ps(t->sb + blk * NR + h));
                    acc = t->first && blk == 0 ? _mm512_mul_ps(v, x) : _mm512_fmadd_ps(v, x, acc);
                } else {
                    acc = t->first && blk == 0 ? v : _mm512_add_ps(v, acc);
                }
            }
            _mm512_storeu_ps(c + h, acc);
        }
    }
}

DG_TARGET_AMX void dg_gemm_tile_amx(const dg_gemm_tile *t) {
    const char *a = (const char *)t->a, *b = (const char *)t->b;
    float p[BATCH][MR * NR] __attribute__((aligned(64)));
    // Rows 16-31 and columns 16-31 are computed only when they hold data (else they are padding).
    const int lower = t->rows > HALF, right = t->cols > HALF;
    for (int64_t blk0 = 0; blk0 < t->blocks; blk0 += BATCH) {
        const int64_t count = dg_min64(BATCH, t->blocks - blk0);
        for (int64_t i = 0; i < count; i++) {
            const int64_t steps = blk0 + i == t->blocks - 1 ? t->steps_last : t->steps_full;
            _tile_zero(0);
            if (right) _tile_zero(1);
            if (lower) _tile_zero(2);
            if (lower && right) _tile_zero(3);
            for (int64_t s = 0; s < steps; s += GROUP) {
                _tile_loadd(4, a, 64);
                _tile_loadd(6, b, NR * 4);
                _tile_dpbf16ps(0, 4, 6);
                if (right) {
                    _tile_loadd(7, b + 64, NR * 4);
                    _tile_dpbf16ps(1, 4, 7);
                }
                if (lower) {
                    _tile_loadd(5, a + HALF * 64, 64);
                    _tile_dpbf16ps(2, 5, 6);
                    if (right) _tile_dpbf16ps(3, 5, 7);
                }
                a += GROUP * MR * 4;
                b += GROUP * NR * 4;
            }
            _tile_stored(0, p[i], NR * 4);
            if (right) _tile_stored(1, p[i] + HALF, NR * 4);
            if (lower) _tile_stored(2, p[i] + HALF * NR, NR * 4);
            if (lower && right) _tile_stored(3, p[i] + HALF * NR + HALF, NR * 4);
        }
        fold(t, blk0, count, p);
    }
}
#endif
