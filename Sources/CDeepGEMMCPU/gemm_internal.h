// Pieces of the GEMM engine shared by gemm_plan.c, gemm_generic.c and the per-ISA files.
//
// Packed layout. An operand is cut into panels of `width` rows (MR for A, NR for B); K into
// blocks of `block_len` (the scale block, or a cache block when unscaled). A panel holds its
// blocks one after the other; a block of `len` elements is stored as ceil(len/kstep) steps, each
// step [width][kstep] elements (kstep 2: BF16 pairs for vdpbf16ps; kstep 1: F32), zero-padded
// past the last valid row and past the block's end. Scales are packed per panel as
// [block][width] floats (each operand's scale is read at the block's first k).
#pragma once
#include "CDeepGEMMCPU.h"
#include "scalar_formats.h"

#if defined(__x86_64__)
#define DG_GEMM_X86 1
#else
#define DG_GEMM_X86 0
#endif

/// One microkernel call: a width-MR x width-NR tile over the blocks of one K chunk.
typedef struct dg_gemm_tile {
    /// Packed A and B at the chunk's first block.
    const void *a, *b;
    /// Packed scales [blocks][MR] and [blocks][NR] at the chunk's first block; NULL when unscaled.
    const float *sa, *sb;
    /// The tile's accumulators: `rows` rows of NR floats, `ldc` floats apart.
    float *c;
    int64_t ldc;
    /// Blocks in the chunk, and steps in each block (the last one may be shorter).
    int64_t blocks, steps_full, steps_last;
    /// Valid rows (1 ... MR) and columns (1 ... NR); non-zero `first` when the accumulators hold nothing yet.
    int32_t rows, cols, first;
} dg_gemm_tile;

DG_INLINE int64_t dg_ceil_div64(int64_t a, int64_t b) { return (a + b - 1) / b; }
DG_INLINE int64_t dg_min64(int64_t a, int64_t b) { return a < b ? a : b; }
DG_INLINE int64_t dg_max64(int64_t a, int64_t b) { return a > b ? a : b; }
DG_INLINE uint32_t dg_max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

/// Non-zero when K is the unit-stride dimension of the operand's storage (for E2M1: when the two
/// codes of a byte are K neighbours).
DG_INLINE int dg_gemm_k_contiguous(const dg_gemm_operand *op) {
    return op->stride1 == 1 && (op->format != DG_TYPE_E2M1 || op->fp4_packed_along_k);
}
/// Non-zero when the operand's rows are the unit-stride dimension of its storage (for E2M1: when
/// the two codes of a byte are row neighbours).
DG_INLINE int dg_gemm_mn_contiguous(const dg_gemm_operand *op) {
    return op->stride0 == 1 && (op->format != DG_TYPE_E2M1 || !op->fp4_packed_along_k);
}

/// A stride of the operand's storage in elements (for E2M1: in codes, two per byte).
DG_INLINE int64_t dg_gemm_code_stride(const dg_gemm_operand *op, int64_t stride) {
    return stride * (op->format == DG_TYPE_E2M1 ? 2 : 1);
}
/// The scales of operand row `row`: its row of the grid.
DG_INLINE const float *dg_gemm_scale_row(const dg_gemm_operand *op, int64_t row) {
    return op->scales + row / op->gran_rows * op->scale_stride0;
}
/// Offset, within a row of the grid, of the scale of element k.
DG_INLINE int64_t dg_gemm_scale_column(const dg_gemm_operand *op, int64_t k) { return k / op->gran_k * op->scale_stride1; }

/// BF16 bits of the E2M1 codes 0 ... 15 (code 8, negative zero, decodes to +0).
extern const uint16_t dg_gemm_e2m1_bf16[16];
/// BF16 bits of the E4M3 magnitudes 0 ... 127 (0x7F is NaN).
extern const uint16_t dg_gemm_e4m3_bf16[128];

/// Packs one block [k0, k0+len) of the panel of `width` rows from `row0`, any format and strides.
void dg_gemm_pack_generic(const dg_gemm_operand *op, int pairs, int64_t row0, int64_t width, int64_t k0, int64_t len,
                          void *dst);

/// Packs the scales of blocks [b0, b0+count) of a panel as [block][width] floats (1 when the
/// operand is unscaled, 0 past the last row).
void dg_gemm_pack_scales(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t b0, int64_t count,
                         int64_t block_len, float *dst);

/// Writes `rows` x `cols` accumulators (`ldc` floats apart) to D at (row0, col0) by the output rule.
void dg_gemm_store_generic(const dg_gemm_output *d, int64_t row0, int64_t col0, int64_t rows, int64_t cols,
                           const float *c, int64_t ldc);

/// Power-of-two scaling (gemm_prescale.c): AMX and AVX-512 BF16 plans whose scaled operands have only power-of-two
/// scales pack each value times 2^(e - E_row) and scale the output by 2^(E_row + E_col) at the end.
/// Non-zero when the operand is unscaled, or scaled by powers of two (or NaN) in blocks of a
/// multiple of 32 along a K-contiguous E4M3 or E2M1 storage: the layouts the prescaled packing takes.
int dg_gemm_prescalable(const dg_gemm_operand *op);
/// 255 tables of 16 BF16 values, table s being dg_gemm_e2m1_bf16 times 2^-s (values that leave the
/// normal range ±0): the E2M1 decode tables of the prescaled packers.
const uint16_t *dg_gemm_e2m1_scaled_tables(void);
/// E_row of rows [row0, row0+width) as floats: the largest exponent of the row's scales, NaN when
/// one of them is NaN, 0 for rows past the last and for an unscaled operand.
void dg_gemm_row_exponents(const dg_gemm_operand *op, int64_t row0, int64_t width, float *dst);

/// Portable C: MR 6, NR 8, F32.
void dg_gemm_tile_f32_portable(const dg_gemm_tile *t);

// One non-inlined tile function per row count, named NAME1, NAME2, ..., and a table NAMEs of them
// indexed by rows - 1: inlined into a single switch, the bodies would share stack slots for their
// accumulators. BODY(tile, rows) is the row-generic kernel; TARGET its target attribute (or empty).
#define DG_TILE_ROWS(name, body, target, rows) \
    static __attribute__((noinline)) target void name##rows(const dg_gemm_tile *t) { body(t, rows); }
#define DG_TILE_ROWS_1_TO_6(name, body, target)                                                  \
    DG_TILE_ROWS(name, body, target, 1) DG_TILE_ROWS(name, body, target, 2)                      \
    DG_TILE_ROWS(name, body, target, 3) DG_TILE_ROWS(name, body, target, 4)                      \
    DG_TILE_ROWS(name, body, target, 5) DG_TILE_ROWS(name, body, target, 6)
#define DG_TILE_TABLE_6(name, body, target)                                                      \
    DG_TILE_ROWS_1_TO_6(name, body, target)                                                      \
    static void (*const name##s[6])(const dg_gemm_tile *) = {name##1, name##2, name##3, name##4, name##5, name##6};
#define DG_TILE_TABLE_8(name, body, target)                                                      \
    DG_TILE_ROWS_1_TO_6(name, body, target)                                                      \
    DG_TILE_ROWS(name, body, target, 7) DG_TILE_ROWS(name, body, target, 8)                      \
    static void (*const name##s[8])(const dg_gemm_tile *) = {name##1, name##2, name##3, name##4,  \
                                                            name##5, name##6, name##7, name##8};

/// The dot-product path (gemm_plan.c): plans whose smaller operand has at most DG_GEMV_MAX_ROWS rows
/// (decode steps), with BF16 pairs and K-contiguous decodable operands, pack those rows once as
/// BF16 lines and stream the other operand's rows in panels of DG_GEMV_PANEL, each row decoded
/// once and dotted with every small row (no packing of the large operand, no padding rows).
enum { DG_GEMV_PANEL = 32 };
/// AMX-BF16 (gemm_amx.c): MR 32, NR 32, BF16 pairs with tdpbf16ps; blocks padded to whole groups
/// of DG_AMX_GROUP_STEPS steps (32 K values, one tile row), A packed by dg_gemm_pairs_to_rows_avx512.
enum { DG_AMX_MR = 32, DG_AMX_NR = 32, DG_AMX_GROUP_STEPS = 16 };

#if DG_GEMM_X86
/// AVX2 + FMA: MR 6, NR 16, F32.
void dg_gemm_tile_f32_avx2(const dg_gemm_tile *t);
/// Vectorized packing of F32 panels (any width) from E4M3, E2M1, BF16 or F32 sources that are
/// contiguous along K or along the rows; returns 0 (and writes nothing) for other layouts.
int dg_gemm_pack_f32_avx2(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t k0, int64_t len, void *dst);
void dg_gemm_store_avx2(const dg_gemm_output *d, int64_t row0, int64_t col0, int64_t rows, int64_t cols,
                        const float *c, int64_t ldc);

/// AVX-512: MR 8, NR 48, BF16 pairs with vdpbf16ps or F32 with FMA.
void dg_gemm_tile_bf16_avx512(const dg_gemm_tile *t);
void dg_gemm_tile_f32_avx512(const dg_gemm_tile *t);
/// Vectorized packing of the common layouts; returns 0 (and writes nothing) for the others.
int dg_gemm_pack_avx512(const dg_gemm_operand *op, int pairs, int64_t row0, int64_t width, int64_t k0, int64_t len,
                        void *dst);
void dg_gemm_store_avx512(const dg_gemm_output *d, int64_t row0, int64_t col0, int64_t rows, int64_t cols,
                          const float *c, int64_t ldc);
/// Packs a scaled operand like dg_gemm_pack_avx512 (pairs, K-contiguous E4M3 or E2M1, width 8, 32 or 48) with each value of
/// row r times 2^(e - row_exp[r]) for its block's scale 2^e (see dg_gemm_row_exponents); values that
/// leave the normal range become ±0, NaN stays NaN, rows with a NaN row_exp are packed unscaled.
void dg_gemm_pack_prescaled_avx512(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t k0, int64_t len,
                                   const float *row_exp, void *dst);
/// Packs rows [row0, row0+width) of a K-contiguous E4M3, E2M1 (packed along K) or BF16 operand, block
/// [k0, k0+len), straight into the AMX A tiles' layout (per group of 16 steps: [width rows][32 K]
/// BF16, zero past the last row and past `len` up to `steps` steps); with `row_exp` (prescaled
/// plans, scaled operands) each value is scaled as by dg_gemm_pack_prescaled_avx512.
void dg_gemm_pack_rows_avx512(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t k0, int64_t len,
                              int64_t steps, const float *row_exp, void *dst);
/// Packs rows [0, rows) of a K-contiguous E4M3, E2M1 (packed along K) or BF16 operand as BF16 lines
/// of `kpad` elements (K rounded up to 32, zero past K) at dst + r * kpad; with `row_exp` and scales,
/// each 32-element line times 2^(e - row_exp[r]) as dg_gemm_pack_prescaled_avx512 scales it.
void dg_gemm_pack_lines_avx512(const dg_gemm_operand *op, int64_t rows, int64_t kpad, const float *row_exp, uint16_t *dst);
/// out[m * ldc + j] = sum over K of x[m] · row (row0 + j) of `op`, for j < width (<= DG_GEMV_PANEL)
/// and m < x_rows (1 ... DG_GEMV_MAX_ROWS): `x` as dg_gemm_pack_lines_avx512 packs it, the rows
/// decoded (with `row_exp`, prescaled) the same way, pairs multiplied with vdpbf16ps into 16 lanes
/// and the lanes summed in a fixed order. With `x_scales` ([ceil(K / block)][x_rows] floats; `block`
/// a multiple of 32), each block's lanes are folded as acc += p · (sx · sw), sw the row's scale of
/// the block (1 when `op` is unscaled); without, the lanes run over all of K.
void dg_gemm_dot_rows_avx512(const dg_gemm_operand *op, int64_t row0, int64_t width, const float *row_exp, const uint16_t *x,
                             int64_t x_rows, int64_t kpad, int64_t block, const float *x_scales, float *out, int64_t ldc);
/// Multiplies `rows` x `cols` accumulators (`ldc` floats apart) by 2^(row_exp[r] + col_exp[c]), one
/// rounding each (vscalefps; NaN exponents give NaN).
void dg_gemm_scale_tile_avx512(float *c, int64_t ldc, int64_t rows, int64_t cols, const float *row_exp,
                               const float *col_exp);
/// Rewrites a packed pair-layout A block of `steps` steps (a multiple of DG_AMX_GROUP_STEPS) and
/// DG_AMX_MR rows in place: each group of 16 steps [step][row][2] becomes [row][step][2], the
/// row-major layout of an AMX A tile (16 rows of 32 K values).
void dg_gemm_pairs_to_rows_avx512(void *block, int64_t steps);
/// The AMX-BF16 microkernel: a DG_AMX_MR x DG_AMX_NR tile with tdpbf16ps (the caller has loaded the
/// tile configuration with dg_gemm_amx_configure).
void dg_gemm_tile_amx(const dg_gemm_tile *t);
/// Loads the AMX tile configuration of dg_gemm_tile_amx on the calling thread (before its first tile).
void dg_gemm_amx_configure(void);
/// Releases the calling thread's tile state (after its last tile).
void dg_gemm_amx_release(void);

#endif
