// The portable GEMM microkernel: MR 6 x NR 8 F32 tiles in 128-bit vectors (SSE2 on x86-64, NEON on
// arm64), compiled for the baseline target.
#include <string.h>
#include "gemm_internal.h"

typedef float dg_v4f __attribute__((vector_size(16)));

DG_INLINE dg_v4f load4(const float *p) { dg_v4f v; memcpy(&v, p, sizeof v); return v; }
DG_INLINE void store4(float *p, dg_v4f v) { memcpy(p, &v, sizeof v); }
DG_INLINE dg_v4f splat4(float x) { dg_v4f v = {x, x, x, x}; return v; }

/// The tile body for `rows` valid rows (a constant after inlining, so the accumulators stay in registers).
DG_INLINE void tile_rows(const dg_gemm_tile *t, const int rows) {
    enum { MR = 6, NR = 8 };
    const float *a = (const float *)t->a, *b = (const float *)t->b;
    for (int64_t blk = 0; blk < t->blocks; blk++) {
        const int64_t steps = blk == t->blocks - 1 ? t->steps_last : t->steps_full;
        dg_v4f p[MR][2];
        for (int r = 0; r < rows; r++) p[r][0] = p[r][1] = splat4(0.0f);
        for (int64_t s = 0; s < steps; s++) {
            const dg_v4f b0 = load4(b), b1 = load4(b + 4);
            for (int r = 0; r < rows; r++) {
                const dg_v4f av = splat4(a[r]);
                p[r][0] += av * b0;
                p[r][1] += av * b1;
            }
            a += MR;
            b += NR;
        }
        const int init = t->first && blk == 0;
        for (int r = 0; r < rows; r++) {
            float *c = t->c + r * t->ldc;
            for (int j = 0; j < 2; j++) {
                dg_v4f v = p[r][j];
                if (t->sa) v = v * (splat4(t->sa[blk * MR + r]) * load4(t->sb + blk * NR + 4 * j));
                store4(c + 4 * j, init ? v : load4(c + 4 * j) + v);
            }
        }
    }
}

DG_TILE_TABLE_6(tile_, tile_rows, )

void dg_gemm_tile_f32_portable(const dg_gemm_tile *t) { tile_s[t->rows - 1](t); }
