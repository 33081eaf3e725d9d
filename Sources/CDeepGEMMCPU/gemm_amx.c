// The AMX GEMM path: MR 32 x NR 32 tiles as 2 x 2 FP32 accumulator tiles of 16 x 16, fed by two A
// tiles (16 rows x 32 K, row-major) and two B tiles (16 K pairs x 16 columns, the pair layout)
// with `tdpbf16ps`: 8 tiles in all, each configured as 16 rows of 64 bytes. A K block runs in the
// tiles from zero, is stored to a scratch tile on the stack and folded into the accumulators by the
// scale rule of the other kernels (C = P·(sa·sb), or C += ...).
//
// Packed A (see dg_gemm_pairs_to_rows_avx512): per group of 16 steps, [MR rows][16 steps][2].
// Packed B: the common pair layout [step][NR][2]. Blocks are padded to whole groups of 16 steps.
#include "gemm_internal.h"

#if DG_GEMM_X86
#include <immintrin.h>
#include <string.h>

#define DG_TARGET_AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

enum { MR = DG_AMX_MR, NR = DG_AMX_NR, GROUP = DG_AMX_GROUP_STEPS, HALF = 16 };

/// The tile configuration (palette 1): every tile 16 rows of 64 bytes.
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} amx_config;

DG_TARGET_AMX void dg_gemm_amx_configure(void) {
    amx_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int i = 0; i < 8; i++) {
        config.bytes_per_row[i] = 64;
        config.rows[i] = 16;
    }
    _tile_loadconfig(&config);
}

DG_TARGET_AMX void dg_gemm_amx_release(void) { _tile_release(); }

/// C (+)= P·(sa·sb) (or C (+)= P when unscaled) for rows [0, rows) of the tile; P is [MR][NR].
static inline __attribute__((always_inline)) DG_TARGET_AMX void fold(const dg_gemm_tile *t, int64_t blk, int init,
                                                                  const float *p) {
    if (t->sa) {
        const float *sa = t->sa + blk * MR, *sb = t->sb + blk * NR;
        const __m512 s0 = _mm512_loadu_ps(sb), s1 = _mm512_loadu_ps(sb + 16);
        for (int r = 0; r < t->rows; r++) {
            float *c = t->c + r * t->ldc;
            const __m512 a = _mm512_set1_ps(sa[r]);
            const __m512 x0 = _mm512_mul_ps(a, s0), x1 = _mm512_mul_ps(a, s1);
            const __m512 p0 = _mm512_load_ps(p + r * NR), p1 = _mm512_load_ps(p + r * NR + 16);
            _mm512_storeu_ps(c, init ? _mm512_mul_ps(p0, x0) : _mm512_fmadd_ps(p0, x0, _mm512_loadu_ps(c)));
            _mm512_storeu_ps(c + 16, init ? _mm512_mul_ps(p1, x1) : _mm512_fmadd_ps(p1, x1, _mm512_loadu_ps(c + 16)));
        }
    } else {
        for (int r = 0; r < t->rows; r++) {
            float *c = t->c + r * t->ldc;
            const __m512 p0 = _mm512_load_ps(p + r * NR), p1 = _mm512_load_ps(p + r * NR + 16);
            _mm512_storeu_ps(c, init ? p0 : _mm512_add_ps(p0, _mm512_loadu_ps(c)));
            _mm512_storeu_ps(c + 16, init ? p1 : _mm512_add_ps(p1, _mm512_loadu_ps(c + 16)));
        }
    }
}

DG_TARGET_AMX void dg_gemm_tile_amx(const dg_gemm_tile *t) {
    const char *a = (const char *)t->a, *b = (const char *)t->b;
    float p[MR * NR] __attribute__((aligned(64)));
    const int lower = t->rows > HALF;  // rows 16-31 hold data (else they are padding: skipped)
    for (int64_t blk = 0; blk < t->blocks; blk++) {
        const int64_t steps = blk == t->blocks - 1 ? t->steps_last : t->steps_full;
        _tile_zero(0);
        _tile_zero(1);
        if (lower) {
            _tile_zero(2);
            _tile_zero(3);
        }
        for (int64_t s = 0; s < steps; s += GROUP) {
            _tile_loadd(4, a, 64);
            _tile_loadd(6, b, NR * 4);
            _tile_loadd(7, b + 64, NR * 4);
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
            if (lower) {
                _tile_loadd(5, a + HALF * 64, 64);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
            a += GROUP * MR * 4;
            b += GROUP * NR * 4;
        }
        _tile_stored(0, p, NR * 4);
        _tile_stored(1, p + HALF, NR * 4);
        if (lower) {
            _tile_stored(2, p + HALF * NR, NR * 4);
            _tile_stored(3, p + HALF * NR + HALF, NR * 4);
        }
        fold(t, blk, t->first && blk == 0, p);
    }
}
#endif
