// The AVX-512 GEMM path: MR 8 x NR 48 tiles (24 ZMM accumulators, A broadcast, three B vectors per
// step) with vdpbf16ps on BF16 pairs or FMA on F32; vectorized packing that decodes FP8/FP4/BF16
// to BF16 pairs (E4M3 through a 128-entry table held in registers); and the output writer.
#include "gemm_internal.h"

#if DG_GEMM_X86
#include <immintrin.h>

#define DG_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define DG_TARGET_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx2,fma,f16c")))
#define DG_ALWAYS_INLINE static inline __attribute__((always_inline))

enum { MR = 8, NR = 48 };

// ---------------------------------------------------------------------------------------------
// Microkernels.

// The tile bodies keep their 24 accumulators in named variables p<row><vector> (an array would be
// kept in memory). Each per-row macro is guarded by `rows > r`, a constant after inlining.
#define DG_FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DG_DECLARE(r) __m512 p##r##0 = _mm512_setzero_ps(), p##r##1 = p##r##0, p##r##2 = p##r##0;
#define DG_ZERO(r)                                                                                                     \
    if (rows > r) p##r##0 = p##r##1 = p##r##2 = _mm512_setzero_ps();
#define DG_STEP_BF16(r)                                                                                                \
    if (rows > r) {                                                                                                    \
        const __m512bh av = (__m512bh)_mm512_set1_epi32(a[r]);                                                         \
        p##r##0 = _mm512_dpbf16_ps(p##r##0, av, b0);                                                                   \
        p##r##1 = _mm512_dpbf16_ps(p##r##1, av, b1);                                                                   \
        p##r##2 = _mm512_dpbf16_ps(p##r##2, av, b2);                                                                   \
    }
#define DG_STEP_F32(r)                                                                                                 \
    if (rows > r) {                                                                                                    \
        const __m512 av = _mm512_set1_ps(a[r]);                                                                        \
        p##r##0 = _mm512_fmadd_ps(av, b0, p##r##0);                                                                    \
        p##r##1 = _mm512_fmadd_ps(av, b1, p##r##1);                                                                    \
        p##r##2 = _mm512_fmadd_ps(av, b2, p##r##2);                                                                    \
    }
// C (+)= P·(sa·sb) for one row.
#define DG_FOLD_SCALED(r)                                                                                              \
    if (rows > r) {                                                                                                    \
        float *c = t->c + r * t->ldc;                                                                                  \
        const __m512 sa = _mm512_set1_ps(sa_block[r]);                                                                 \
        const __m512 x0 = _mm512_mul_ps(sa, s0), x1 = _mm512_mul_ps(sa, s1), x2 = _mm512_mul_ps(sa, s2);               \
        _mm512_storeu_ps(c, init ? _mm512_mul_ps(p##r##0, x0) : _mm512_fmadd_ps(p##r##0, x0, _mm512_loadu_ps(c)));     \
        _mm512_storeu_ps(c + 16, init ? _mm512_mul_ps(p##r##1, x1) : _mm512_fmadd_ps(p##r##1, x1, _mm512_loadu_ps(c + 16))); \
        _mm512_storeu_ps(c + 32, init ? _mm512_mul_ps(p##r##2, x2) : _mm512_fmadd_ps(p##r##2, x2, _mm512_loadu_ps(c + 32))); \
    }
// C (+)= P for one row.
#define DG_FOLD_PLAIN(r)                                                                                               \
    if (rows > r) {                                                                                                    \
        float *c = t->c + r * t->ldc;                                                                                  \
        _mm512_storeu_ps(c, init ? p##r##0 : _mm512_add_ps(p##r##0, _mm512_loadu_ps(c)));                              \
        _mm512_storeu_ps(c + 16, init ? p##r##1 : _mm512_add_ps(p##r##1, _mm512_loadu_ps(c + 16)));                    \
        _mm512_storeu_ps(c + 32, init ? p##r##2 : _mm512_add_ps(p##r##2, _mm512_loadu_ps(c + 32)));                    \
    }
// Folds block `blk` into the accumulators of the tile.
#define DG_FOLD_BLOCK()                                                                                                \
    do {                                                                                                               \
        const int init = t->first && blk == 0;                                                                         \
        if (t->sa) {                                                                                                   \
            const float *sa_block = t->sa + blk * MR, *sb = t->sb + blk * NR;                                          \
            const __m512 s0 = _mm512_loadu_ps(sb), s1 = _mm512_loadu_ps(sb + 16), s2 = _mm512_loadu_ps(sb + 32);        \
            DG_FOR_ROWS(DG_FOLD_SCALED)                                                                                \
        } else {                                                                                                       \
            DG_FOR_ROWS(DG_FOLD_PLAIN)                                                                                 \
        }                                                                                                              \
    } while (0)

/// BF16 tile body for `rows` valid rows: each step is one K pair, A a 32-bit pair broadcast per row.
DG_ALWAYS_INLINE DG_TARGET_AVX512BF16 void tile_bf16_rows(const dg_gemm_tile *t, const int rows) {
    const int32_t *a = (const int32_t *)t->a;
    const char *b = (const char *)t->b;
    DG_FOR_ROWS(DG_DECLARE)
    for (int64_t blk = 0; blk < t->blocks; blk++) {
        const int64_t steps = blk == t->blocks - 1 ? t->steps_last : t->steps_full;
        DG_FOR_ROWS(DG_ZERO)
        for (int64_t s = 0; s < steps; s++) {
            const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
            const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 64);
            const __m512bh b2 = (__m512bh)_mm512_loadu_si512(b + 128);
            DG_FOR_ROWS(DG_STEP_BF16)
            a += MR;
            b += NR * 4;
        }
        DG_FOLD_BLOCK();
    }
}

/// F32 tile body for `rows` valid rows.
DG_ALWAYS_INLINE DG_TARGET_AVX512 void tile_f32_rows(const dg_gemm_tile *t, const int rows) {
    const float *a = (const float *)t->a, *b = (const float *)t->b;
    DG_FOR_ROWS(DG_DECLARE)
    for (int64_t blk = 0; blk < t->blocks; blk++) {
        const int64_t steps = blk == t->blocks - 1 ? t->steps_last : t->steps_full;
        DG_FOR_ROWS(DG_ZERO)
        for (int64_t s = 0; s < steps; s++) {
            const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32);
            DG_FOR_ROWS(DG_STEP_F32)
            a += MR;
            b += NR;
        }
        DG_FOLD_BLOCK();
    }
}

DG_TILE_TABLE_8(tile_bf16_, tile_bf16_rows, DG_TARGET_AVX512BF16)
DG_TILE_TABLE_8(tile_f32_, tile_f32_rows, DG_TARGET_AVX512)

void dg_gemm_tile_bf16_avx512(const dg_gemm_tile *t) { tile_bf16_s[t->rows - 1](t); }

void dg_gemm_tile_f32_avx512(const dg_gemm_tile *t) { tile_f32_s[t->rows - 1](t); }

// ---------------------------------------------------------------------------------------------
// Decoding to BF16.

/// The E4M3 table in four registers (magnitudes 0-31, 32-63, 64-95, 96-127).
typedef struct { __m512i t0, t1, t2, t3; } e4m3_table;

DG_ALWAYS_INLINE DG_TARGET_AVX512 e4m3_table load_e4m3_table(void) {
    e4m3_table t;
    t.t0 = _mm512_loadu_si512(dg_gemm_e4m3_bf16);
    t.t1 = _mm512_loadu_si512(dg_gemm_e4m3_bf16 + 32);
    t.t2 = _mm512_loadu_si512(dg_gemm_e4m3_bf16 + 64);
    t.t3 = _mm512_loadu_si512(dg_gemm_e4m3_bf16 + 96);
    return t;
}

/// BF16 of 32 E4M3 codes held one per 16-bit lane.
DG_ALWAYS_INLINE DG_TARGET_AVX512 __m512i decode_e4m3(const e4m3_table *t, __m512i codes) {
    const __m512i magnitude = _mm512_and_si512(codes, _mm512_set1_epi16(0x7F));
    const __m512i low = _mm512_permutex2var_epi16(t->t0, magnitude, t->t1);
    const __m512i high = _mm512_permutex2var_epi16(t->t2, magnitude, t->t3);
    const __mmask32 upper = _mm512_test_epi16_mask(magnitude, _mm512_set1_epi16(0x40));
    const __m512i value = _mm512_mask_blend_epi16(upper, low, high);
    return _mm512_or_si512(value, _mm512_slli_epi16(_mm512_and_si512(codes, _mm512_set1_epi16(0x80)), 8));
}

/// A decode table for decode_e2m1_pairs: the 16 BF16 values of the E2M1 codes at `values`, in
/// both halves of the 32 word lanes.
DG_ALWAYS_INLINE DG_TARGET_AVX512 __m512i e2m1_table(const uint16_t *values) {
    return _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)values));
}

/// BF16 pairs of 16 FP4 bytes (low nibble first), one byte per 32-bit lane of `bytes`, through an
/// e2m1_table. Each dword d becomes the word indices d | d << 12: vpermw reads 5 bits of a word,
/// the low word's are the low nibble plus one bit the doubled table ignores, the high word's the
/// high nibble.
DG_ALWAYS_INLINE DG_TARGET_AVX512 __m512i decode_e2m1_pairs(__m512i table, __m128i bytes) {
    const __m512i d = _mm512_cvtepu8_epi32(bytes);
    return _mm512_permutexvar_epi16(_mm512_or_si512(d, _mm512_slli_epi32(d, 12)), table);
}

DG_ALWAYS_INLINE __mmask32 mask32(int64_t n) { return n >= 32 ? 0xFFFFFFFFu : (n <= 0 ? 0 : (__mmask32)((1u << n) - 1)); }
DG_ALWAYS_INLINE __mmask16 mask16(int64_t n) { return n >= 16 ? 0xFFFF : (n <= 0 ? 0 : (__mmask16)((1u << n) - 1)); }

/// Loads `n` (<= 32) consecutive elements of one line as 32 BF16 values, zero past `n`. The line
/// starts at element `at` of the storage and steps by one element (for E2M1: by one code).
DG_ALWAYS_INLINE DG_TARGET_AVX512 __m512i load_line_bf16(const dg_gemm_operand *op, const e4m3_table *t, __m512i e2m1,
                                                         int64_t at, int64_t n) {
    switch (op->format) {
    case DG_TYPE_E4M3: {
        const __m256i bytes = _mm256_maskz_loadu_epi8(mask32(n), (const uint8_t *)op->data + at);
        return decode_e4m3(t, _mm512_cvtepu8_epi16(bytes));
    }
    case DG_TYPE_BF16:
        return _mm512_maskz_loadu_epi16(mask32(n), (const uint16_t *)op->data + at);
    default: {  // E2M1: `at` is a code index (even), two codes per byte
        const __m128i bytes = _mm_maskz_loadu_epi8(mask16((n + 1) / 2), (const uint8_t *)op->data + at / 2);
        return _mm512_maskz_mov_epi16(mask32(n), decode_e2m1_pairs(e2m1, bytes));
    }
    }
}

// ---------------------------------------------------------------------------------------------
// Packing.

/// In-place transpose of a 16 x 16 matrix of 32-bit lanes.
DG_ALWAYS_INLINE DG_TARGET_AVX512 void transpose16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int q = 0; q < 4; q++) {
        r[4 * q] = _mm512_unpacklo_epi64(t[4 * q], t[4 * q + 2]);
        r[4 * q + 1] = _mm512_unpackhi_epi64(t[4 * q], t[4 * q + 2]);
        r[4 * q + 2] = _mm512_unpacklo_epi64(t[4 * q + 1], t[4 * q + 3]);
        r[4 * q + 3] = _mm512_unpackhi_epi64(t[4 * q + 1], t[4 * q + 3]);
    }
    // r[4q + j] now holds, in 128-bit lane l, column 4l + j of rows 4q ... 4q+3.
    for (int j = 0; j < 4; j++) {
        const __m512i u0 = _mm512_shuffle_i32x4(r[j], r[4 + j], 0x44), u1 = _mm512_shuffle_i32x4(r[j], r[4 + j], 0xEE);
        const __m512i u2 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0x44), u3 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0xEE);
        t[j] = _mm512_shuffle_i32x4(u0, u2, 0x88);
        t[4 + j] = _mm512_shuffle_i32x4(u0, u2, 0xDD);
        t[8 + j] = _mm512_shuffle_i32x4(u1, u3, 0x88);
        t[12 + j] = _mm512_shuffle_i32x4(u1, u3, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

/// Stores the 32-bit lanes of `v` for `width` rows (8: the low half) at `dst`.
DG_ALWAYS_INLINE DG_TARGET_AVX512 void store_rows(void *dst, int64_t width, __m512i v) {
    if (width == 8) _mm256_storeu_si256((__m256i *)dst, _mm512_castsi512_si256(v));
    else _mm512_storeu_si512(dst, v);
}

/// Elements ahead of the line being packed that the packer prefetches in each row: the rows of a
/// panel are many streams at once, more than the hardware prefetchers follow.
enum { DG_PACK_PREFETCH = 512 };

/// Prefetches the line of element `at` of the storage (for E2M1: code `at`).
DG_ALWAYS_INLINE DG_TARGET_AVX512 void prefetch_line(const dg_gemm_operand *op, int64_t at) {
    const int64_t bytes = op->format == DG_TYPE_E2M1 ? at / 2 : at * (op->format == DG_TYPE_BF16 ? 2 : 1);
    _mm_prefetch((const char *)op->data + bytes, _MM_HINT_T0);
}

/// BF16 lanes times 2^shift (shift <= 0): zeros and NaNs kept, values leaving the normal range ±0.
DG_ALWAYS_INLINE DG_TARGET_AVX512 __m512i shift_exponents(__m512i v, int shift) {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i e = _mm512_and_si512(_mm512_srli_epi16(v, 7), _mm512_set1_epi16(0xFF));
    const __mmask32 live = _mm512_cmpneq_epi16_mask(e, zero) & _mm512_cmpneq_epi16_mask(e, _mm512_set1_epi16(0xFF));
    const __mmask32 gone = live & _mm512_cmple_epi16_mask(_mm512_add_epi16(e, _mm512_set1_epi16((short)shift)), zero);
    v = _mm512_mask_add_epi16(v, live & ~gone, v, _mm512_set1_epi16((short)(shift * 128)));
    return _mm512_mask_mov_epi16(v, gone, _mm512_and_si512(v, _mm512_set1_epi16((short)0x8000)));
}

/// The widest panel the packers take (the AVX-512 tiles' NR).
enum { DG_PACK_MAX_WIDTH = 48 };

/// Where dg_gemm_pack_prescaled_avx512 finds each row's scales: the row of the grid, and the row's
/// largest exponent (INT32_MIN for a NaN row, which is packed unscaled).
typedef struct {
    const float *grid_row[DG_PACK_MAX_WIDTH];
    int largest[DG_PACK_MAX_WIDTH];
    /// dg_gemm_e2m1_scaled_tables().
    const uint16_t *e2m1_tables;
} prescale_rows;

DG_ALWAYS_INLINE void prescale_rows_init(prescale_rows *p, const dg_gemm_operand *op, const float *row_exp, int64_t row0,
                                         int64_t valid) {
    p->e2m1_tables = dg_gemm_e2m1_scaled_tables();
    for (int64_t r = 0; r < valid; r++) {
        p->grid_row[r] = dg_gemm_scale_row(op, row0 + r);
        p->largest[r] = row_exp[r] != row_exp[r] ? INT32_MIN : (int)row_exp[r];
    }
}

/// The shift of row `row`'s line whose scale is at `column` of the grid row: the scale's exponent
/// minus the row's largest (0 for a NaN row). The plan checked that every scale is a power of two
/// (or NaN), so the exponent is the biased exponent field less 127, which also holds for 2^-127.
DG_ALWAYS_INLINE int line_shift(const prescale_rows *p, int64_t row, int64_t column) {
    if (p->largest[row] == INT32_MIN) return 0;
    return (int)(dg_f2u(p->grid_row[row][column]) >> 23) - 127 - p->largest[row];
}

/// load_line_bf16 of a prescaled line: times 2^shift (E2M1 through the table scaled by 2^shift).
DG_ALWAYS_INLINE DG_TARGET_AVX512 __m512i load_line_shifted(const dg_gemm_operand *op, const e4m3_table *t, __m512i e2m1,
                                                            const prescale_rows *p, int shift, int64_t at, int64_t n) {
    if (shift == 0) return load_line_bf16(op, t, e2m1, at, n);
    if (op->format == DG_TYPE_E2M1) {
        const __m512i scaled = e2m1_table(p->e2m1_tables + (-shift) * 16);
        return load_line_bf16(op, t, scaled, at, n);
    }
    return shift_exponents(load_line_bf16(op, t, e2m1, at, n), shift);
}

/// K-contiguous source: per group of 16 rows, decode 16 steps of each row, transpose, store. With
/// `row_exp` (pairs only), each 32-element line is shifted by line_shift.
DG_ALWAYS_INLINE DG_TARGET_AVX512 void pack_k_contiguous(const dg_gemm_operand *op, int pairs, int64_t row0, int64_t width,
                                                         int64_t k0, int64_t len, const float *row_exp, char *dst) {
    const e4m3_table table = load_e4m3_table();
    const __m512i e2m1 = e2m1_table(dg_gemm_e2m1_bf16);
    const int64_t valid = dg_min64(width, op->rows - row0);
    const int64_t per_step = pairs ? 32 : 16;  // elements per 16 lanes
    const int64_t lane_stride = pairs ? 2 : 1;
    const int64_t row_stride = dg_gemm_code_stride(op, op->stride0);
    prescale_rows prescale;
    if (row_exp) prescale_rows_init(&prescale, op, row_exp, row0, valid);
    for (int64_t kk = 0; kk < len; kk += per_step) {
        const int64_t n = dg_min64(per_step, len - kk);
        const int64_t lanes = (n + lane_stride - 1) / lane_stride;
        const int64_t column = row_exp ? dg_gemm_scale_column(op, k0 + kk) : 0;
        for (int64_t group = 0; group < width; group += 16) {
            __m512i r[16];
            for (int i = 0; i < 16; i++) {
                const int64_t row = group + i;
                if (row >= valid || row >= width) {
                    r[i] = _mm512_setzero_si512();
                } else if (pairs) {
                    const int64_t at = (row0 + row) * row_stride + k0 + kk;
                    const int shift = row_exp ? line_shift(&prescale, row, column) : 0;
                    r[i] = load_line_shifted(op, &table, e2m1, &prescale, shift, at, n);
                    prefetch_line(op, at + DG_PACK_PREFETCH);
                } else {
                    r[i] = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask16(n), (const float *)op->data + (row0 + row) * op->stride0 + k0 + kk));
                }
            }
            transpose16(r);
            for (int64_t j = 0; j < lanes; j++)
                store_rows(dst + ((kk / lane_stride + j) * width + group) * 4, width, r[j]);
        }
    }
}

/// MN-contiguous source: per step, decode 32 rows of K element k (and k+1 for pairs), interleave, store.
DG_ALWAYS_INLINE DG_TARGET_AVX512 void pack_mn_contiguous(const dg_gemm_operand *op, int pairs, int64_t row0, int64_t width,
                                                          int64_t k0, int64_t len, char *dst) {
    const e4m3_table table = load_e4m3_table();
    const __m512i e2m1 = e2m1_table(dg_gemm_e2m1_bf16);
    const int64_t valid = dg_min64(width, op->rows - row0);
    const int64_t k_stride = dg_gemm_code_stride(op, op->stride1);
    const int64_t kstep = pairs ? 2 : 1;
    for (int64_t s = 0; s * kstep < len; s++) {
        const int64_t k = k0 + s * kstep;
        char *out = dst + s * width * 4;
        if (!pairs) {
            for (int64_t group = 0; group < width; group += 16) {
                const __m512 v = _mm512_maskz_loadu_ps(mask16(valid - group), (const float *)op->data + k * op->stride1 + row0 + group);
                store_rows(out + group * 4, width, _mm512_castps_si512(v));
            }
            continue;
        }
        const int second = s * 2 + 1 < len;
        for (int64_t group = 0; group < width; group += 32) {
            const int64_t n = valid - group;
            const __m512i lo = n > 0 ? load_line_bf16(op, &table, e2m1, k * k_stride + row0 + group, n) : _mm512_setzero_si512();
            const __m512i hi = n > 0 && second ? load_line_bf16(op, &table, e2m1, (k + 1) * k_stride + row0 + group, n)
                                               : _mm512_setzero_si512();
            for (int half = 0; half < 2 && group + 16 * half < width; half++) {
                const __m256i lo16 = half ? _mm512_extracti64x4_epi64(lo, 1) : _mm512_castsi512_si256(lo);
                const __m256i hi16 = half ? _mm512_extracti64x4_epi64(hi, 1) : _mm512_castsi512_si256(hi);
                const __m512i v = _mm512_or_si512(_mm512_cvtepu16_epi32(lo16), _mm512_slli_epi32(_mm512_cvtepu16_epi32(hi16), 16));
                store_rows(out + (group + 16 * half) * 4, width, v);
            }
        }
    }
}

DG_TARGET_AVX512 int dg_gemm_pack_avx512(const dg_gemm_operand *op, int pairs, int64_t row0, int64_t width, int64_t k0,
                                         int64_t len, void *dst) {
    // Pairs need formats exact in BF16; F32 panels take F32 sources only (others decode generically).
    if (pairs ? op->format == DG_TYPE_F32 : op->format != DG_TYPE_F32) return 0;
    if (width != 8 && width != DG_AMX_NR && width != DG_PACK_MAX_WIDTH) return 0;
    const int fp4 = op->format == DG_TYPE_E2M1;
    // E2M1 panels start on a whole byte.
    const int k_contiguous = dg_gemm_k_contiguous(op) && (!fp4 || k0 % 2 == 0);
    const int mn_contiguous = dg_gemm_mn_contiguous(op) && (!fp4 || row0 % 2 == 0);
    if (k_contiguous) pack_k_contiguous(op, pairs, row0, width, k0, len, NULL, (char *)dst);
    else if (mn_contiguous) pack_mn_contiguous(op, pairs, row0, width, k0, len, (char *)dst);
    else return 0;
    return 1;
}

DG_TARGET_AVX512 void dg_gemm_pack_prescaled_avx512(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t k0,
                                                   int64_t len, const float *row_exp, void *dst) {
    pack_k_contiguous(op, 1, row0, width, k0, len, row_exp, (char *)dst);
}

/// dg_gemm_pack_rows_avx512 for E2M1 (packed along K): per line one 16-byte load and one lookup in
/// the decode table scaled by the line's shift.
DG_ALWAYS_INLINE DG_TARGET_AVX512 void pack_rows_e2m1(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t k0,
                                                      int64_t len, int64_t steps, const prescale_rows *prescale, char *dst) {
    const uint16_t *tables = prescale ? prescale->e2m1_tables : dg_gemm_e2m1_bf16;
    const int64_t valid = dg_min64(width, op->rows - row0);
    const uint8_t *base = (const uint8_t *)op->data + row0 * op->stride0 + k0 / 2;
    for (int64_t g = 0; g * DG_AMX_GROUP_STEPS < steps; g++) {
        const int64_t kk = g * 2 * DG_AMX_GROUP_STEPS, n = len - kk;
        const int64_t column = prescale && n > 0 ? dg_gemm_scale_column(op, k0 + kk) : 0;
        char *out = dst + g * width * 64;
        int64_t r = 0;
        for (; r < valid && n > 0; r++) {
            const uint8_t *src = base + r * op->stride0 + kk / 2;
            const __m128i bytes = n >= 32 ? _mm_loadu_si128((const __m128i *)src) : _mm_maskz_loadu_epi8(mask16((n + 1) / 2), src);
            _mm_prefetch((const char *)src + DG_PACK_PREFETCH / 2, _MM_HINT_T0);
            const int shift = prescale ? line_shift(prescale, r, column) : 0;
            const __m512i table = e2m1_table(tables + (-shift) * 16);
            __m512i v = decode_e2m1_pairs(table, bytes);
            if (n < 32) v = _mm512_maskz_mov_epi16(mask32(n), v);
            _mm512_storeu_si512(out + r * 64, v);
        }
        for (; r < width; r++) _mm512_storeu_si512(out + r * 64, _mm512_setzero_si512());
    }
}

DG_TARGET_AVX512 void dg_gemm_pack_rows_avx512(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t k0,
                                              int64_t len, int64_t steps, const float *row_exp, void *dst) {
    const int64_t valid = dg_min64(width, op->rows - row0);
    prescale_rows rows;
    const prescale_rows *prescale = NULL;
    if (row_exp && op->scales) {
        prescale_rows_init(&rows, op, row_exp, row0, valid);
        prescale = &rows;
    }
    if (op->format == DG_TYPE_E2M1) {
        pack_rows_e2m1(op, row0, width, k0, len, steps, prescale, (char *)dst);
        return;
    }
    const e4m3_table table = load_e4m3_table();
    const __m512i e2m1 = e2m1_table(dg_gemm_e2m1_bf16);
    for (int64_t g = 0; g * DG_AMX_GROUP_STEPS < steps; g++) {
        const int64_t kk = g * 2 * DG_AMX_GROUP_STEPS, n = len - kk;
        const int64_t column = prescale && n > 0 ? dg_gemm_scale_column(op, k0 + kk) : 0;
        char *out = (char *)dst + g * width * 64;
        for (int64_t r = 0; r < width; r++) {
            __m512i v = _mm512_setzero_si512();
            if (r < valid && n > 0) {
                const int64_t at = (row0 + r) * op->stride0 + k0 + kk;
                const int shift = prescale ? line_shift(prescale, r, column) : 0;
                v = load_line_shifted(op, &table, e2m1, prescale, shift, at, n);
                prefetch_line(op, at + DG_PACK_PREFETCH);
            }
            _mm512_storeu_si512(out + r * 64, v);
        }
    }
}

DG_TARGET_AVX512 void dg_gemm_pairs_to_rows_avx512(void *block, int64_t steps) {
    enum { HALF = 16, GROUP_BYTES = DG_AMX_GROUP_STEPS * DG_AMX_MR * 4 };
    for (int64_t g = 0; g < steps; g += DG_AMX_GROUP_STEPS) {
        char *group = (char *)block + g / DG_AMX_GROUP_STEPS * GROUP_BYTES;
        // Read the whole group (both 16-row halves) before writing it back in place.
        __m512i r[2][16];
        for (int h = 0; h < 2; h++)
            for (int s = 0; s < 16; s++) r[h][s] = _mm512_loadu_si512(group + (s * DG_AMX_MR + h * HALF) * 4);
        for (int h = 0; h < 2; h++) {
            transpose16(r[h]);
            for (int row = 0; row < 16; row++) _mm512_storeu_si512(group + (h * HALF + row) * 64, r[h][row]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Output.

DG_TARGET_AVX512 void dg_gemm_scale_tile_avx512(float *c, int64_t ldc, int64_t rows, int64_t cols, const float *row_exp,
                                               const float *col_exp) {
    for (int64_t r = 0; r < rows; r++) {
        const __m512 e = _mm512_set1_ps(row_exp[r]);
        for (int64_t j = 0; j < cols; j += 16) {
            const __mmask16 m = mask16(cols - j);
            const __m512 v = _mm512_maskz_loadu_ps(m, c + r * ldc + j);
            const __m512 x = _mm512_add_ps(e, _mm512_maskz_loadu_ps(m, col_exp + j));
            _mm512_mask_storeu_ps(c + r * ldc + j, m, _mm512_scalef_ps(v, x));
        }
    }
}

/// BF16 bits (RNE, NaN kept quiet with its sign) of 16 floats.
DG_ALWAYS_INLINE DG_TARGET_AVX512 __m256i to_bf16(__m512 v) {
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i high = _mm512_srli_epi32(bits, 16);
    const __m512i lsb = _mm512_and_si512(high, _mm512_set1_epi32(1));
    __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7FFF)), lsb), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, _mm512_set1_epi32(0x7FFFFFFF)), _mm512_set1_epi32(0x7F800000));
    const __m512i quiet = _mm512_or_si512(_mm512_and_si512(high, _mm512_set1_epi32(0x8000)), _mm512_set1_epi32(0x7FC0));
    rounded = _mm512_mask_mov_epi32(rounded, nan, quiet);
    return _mm512_cvtepi32_epi16(rounded);
}

DG_ALWAYS_INLINE DG_TARGET_AVX512 __m512 widen_bf16(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

DG_TARGET_AVX512 void dg_gemm_store_avx512(const dg_gemm_output *d, int64_t row0, int64_t col0, int64_t rows,
                                           int64_t cols, const float *c, int64_t ldc) {
    if (d->stride1 != 1) {
        dg_gemm_store_generic(d, row0, col0, rows, cols, c, ldc);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const float *src = c + r * ldc;
        const int64_t at = (row0 + r) * d->stride0 + col0;
        for (int64_t j = 0; j < cols; j += 16) {
            const __mmask16 m = mask16(cols - j);
            __m512 v = _mm512_maskz_loadu_ps(m, src + j);
            if (d->type == DG_TYPE_F32) {
                float *dst = (float *)d->data + at + j;
                if (d->accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, dst));
                _mm512_mask_storeu_ps(dst, m, v);
            } else {
                uint16_t *dst = (uint16_t *)d->data + at + j;
                if (d->accumulate) v = _mm512_add_ps(widen_bf16(_mm256_maskz_loadu_epi16(m, dst)), widen_bf16(to_bf16(v)));
                _mm256_mask_storeu_epi16(dst, m, to_bf16(v));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The dot-product path (plans with at most DG_GEMV_MAX_ROWS rows of the small operand).

DG_TARGET_AVX512 void dg_gemm_pack_lines_avx512(const dg_gemm_operand *op, int64_t rows, int64_t kpad, const float *row_exp,
                                               uint16_t *dst) {
    const e4m3_table table = load_e4m3_table();
    const __m512i e2m1 = e2m1_table(dg_gemm_e2m1_bf16);
    const int64_t row_stride = dg_gemm_code_stride(op, op->stride0);
    prescale_rows prescale;
    if (row_exp && op->scales) prescale_rows_init(&prescale, op, row_exp, 0, rows);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t kk = 0; kk < kpad; kk += 32) {
            const int shift = row_exp && op->scales ? line_shift(&prescale, r, dg_gemm_scale_column(op, kk)) : 0;
            const __m512i v = load_line_shifted(op, &table, e2m1, &prescale, shift, r * row_stride + kk, dg_min64(32, op->k - kk));
            _mm512_storeu_si512(dst + r * kpad + kk, v);
        }
}

/// Line kk (n <= 32 elements) of a row starting at `row`, in storage `format` (a constant after
/// inlining), decoded to BF16 and times 2^shift; E2M1 through the decode table scaled by 2^shift.
DG_ALWAYS_INLINE DG_TARGET_AVX512 __m512i dot_line(const int format, const e4m3_table *table, const uint16_t *e2m1_tables,
                                                   const void *row, int64_t kk, int64_t n, int shift) {
    __m512i v;
    switch (format) {
    case DG_TYPE_E2M1: {
        const uint8_t *src = (const uint8_t *)row + kk / 2;
        const __m128i bytes = n >= 32 ? _mm_loadu_si128((const __m128i *)src) : _mm_maskz_loadu_epi8(mask16((n + 1) / 2), src);
        return _mm512_maskz_mov_epi16(mask32(n), decode_e2m1_pairs(e2m1_table(e2m1_tables + (-shift) * 16), bytes));
    }
    case DG_TYPE_E4M3:
        v = decode_e4m3(table, _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask32(n), (const uint8_t *)row + kk)));
        break;
    default:
        v = _mm512_maskz_loadu_epi16(mask32(n), (const uint16_t *)row + kk);
        break;
    }
    return shift ? shift_exponents(v, shift) : v;
}

/// One line (elements [kk, kk + n)) of G rows into their G x M accumulators.
DG_ALWAYS_INLINE DG_TARGET_AVX512BF16 void dot_line_step(const dg_gemm_operand *op, const int format, const e4m3_table *table,
                                                         const uint16_t *e2m1_tables, const prescale_rows *prescale,
                                                         const char *const *rows, int64_t r, const int G, const uint16_t *x,
                                                         const int M, int64_t kpad, int64_t kk, int64_t n,
                                                         __m512 acc[][DG_GEMV_MAX_ROWS]) {
    const int64_t element_bytes = format == DG_TYPE_BF16 ? 2 : 1;
    const int64_t column = prescale ? dg_gemm_scale_column(op, kk) : 0;
    // One prefetch per cache line of each row.
    const int64_t ahead = format == DG_TYPE_E2M1 ? (kk + DG_PACK_PREFETCH) / 2 : (kk + DG_PACK_PREFETCH) * element_bytes;
    const int prefetch = format == DG_TYPE_BF16 || (kk & (format == DG_TYPE_E2M1 ? 127 : 63)) == 0;
    __m512bh xv[DG_GEMV_MAX_ROWS];
    for (int m = 0; m < M; m++) xv[m] = (__m512bh)_mm512_loadu_si512(x + m * kpad + kk);
    for (int i = 0; i < G; i++) {
        const int shift = prescale ? line_shift(prescale, r + i, column) : 0;
        const __m512bh v = (__m512bh)dot_line(format, table, e2m1_tables, rows[i], kk, n, shift);
        if (prefetch) _mm_prefetch(rows[i] + ahead, _MM_HINT_T0);
        for (int m = 0; m < M; m++) acc[i][m] = _mm512_dpbf16_ps(acc[i][m], v, xv[m]);
    }
}

/// Lines [k0, k1) of G rows into their G x M accumulators: whole lines, then the last partial one.
DG_ALWAYS_INLINE DG_TARGET_AVX512BF16 void dot_span(const dg_gemm_operand *op, const int format, const e4m3_table *table,
                                                    const uint16_t *e2m1_tables, const prescale_rows *prescale,
                                                    const char *const *rows, int64_t r, const int G, const uint16_t *x,
                                                    const int M, int64_t kpad, int64_t k0, int64_t k1,
                                                    __m512 acc[][DG_GEMV_MAX_ROWS]) {
    const int64_t whole = k0 + (k1 - k0) / 32 * 32;
    for (int64_t kk = k0; kk < whole; kk += 32)
        dot_line_step(op, format, table, e2m1_tables, prescale, rows, r, G, x, M, kpad, kk, 32, acc);
    if (whole < k1) dot_line_step(op, format, table, e2m1_tables, prescale, rows, r, G, x, M, kpad, whole, k1 - whole, acc);
}

/// Rows [r, r + G) of the panel against the M lines of `x`: G x M accumulators of 16 lanes (G, M,
/// the storage format and `scaled` constants after inlining), each summing its lanes' pairs with
/// vdpbf16ps, then reduced in a fixed order. Unscaled and prescaled plans sum over all of K; with
/// `scaled`, each block of `block` elements is summed apart and folded as acc += p · (sx · sw) (sx
/// from `x_scales` [blocks][M], sw the row's scale), lane by lane.
DG_ALWAYS_INLINE DG_TARGET_AVX512BF16 void dot_rows(const dg_gemm_operand *op, const int format, const e4m3_table *table,
                                                    const prescale_rows *prescale, int64_t row0, int64_t r, const int G,
                                                    const uint16_t *x, const int M, int64_t kpad, const int scaled,
                                                    int64_t block, const float *x_scales, float *out, int64_t ldc) {
    const int64_t element_bytes = format == DG_TYPE_BF16 ? 2 : 1;  // E2M1: two per byte, counted in dot_line
    const uint16_t *e2m1_tables = prescale ? prescale->e2m1_tables : dg_gemm_e2m1_bf16;
    const char *rows[4];
    __m512 acc[4][DG_GEMV_MAX_ROWS];
    for (int i = 0; i < G; i++) {
        rows[i] = (const char *)op->data + (row0 + r + i) * op->stride0 * element_bytes;
        for (int m = 0; m < M; m++) acc[i][m] = _mm512_setzero_ps();
    }
    if (!scaled) {
        dot_span(op, format, table, e2m1_tables, prescale, rows, r, G, x, M, kpad, 0, op->k, acc);
    } else {
        const int64_t blocks = dg_ceil_div64(op->k, block);
        for (int64_t b = 0; b < blocks; b++) {
            __m512 part[4][DG_GEMV_MAX_ROWS];
            for (int i = 0; i < G; i++)
                for (int m = 0; m < M; m++) part[i][m] = _mm512_setzero_ps();
            dot_span(op, format, table, e2m1_tables, NULL, rows, r, G, x, M, kpad, b * block, dg_min64(op->k, (b + 1) * block), part);
            for (int i = 0; i < G; i++) {
                const float sw = op->scales ? dg_gemm_scale_row(op, row0 + r + i)[dg_gemm_scale_column(op, b * block)] : 1.0f;
                for (int m = 0; m < M; m++)
                    acc[i][m] = _mm512_fmadd_ps(part[i][m], _mm512_set1_ps(x_scales[b * M + m] * sw), acc[i][m]);
            }
        }
    }
    for (int i = 0; i < G; i++)
        for (int m = 0; m < M; m++) out[m * ldc + r + i] = _mm512_reduce_add_ps(acc[i][m]);
}

/// dot_rows over a panel, G rows at a time (GS when scaled: the G x M accumulators, twice that when
/// scaled, stay within the 32 registers), the rows past the last whole group one at a time.
#define DG_DOT_ROWS(FORMAT, M, G, SCALED)                                                                              \
    {                                                                                                                  \
        int64_t r = 0;                                                                                                 \
        for (; r + G <= width; r += G)                                                                                 \
            dot_rows(op, FORMAT, &table, prescale, row0, r, G, x, M, kpad, SCALED, block, x_scales, out, ldc);         \
        for (; r < width; r++) dot_rows(op, FORMAT, &table, prescale, row0, r, 1, x, M, kpad, SCALED, block, x_scales, out, ldc); \
    }
#define DG_DOT_CASE(FORMAT, M, G, GS)                                                                                  \
    case M:                                                                                                            \
        if (x_scales) DG_DOT_ROWS(FORMAT, M, GS, 1) else DG_DOT_ROWS(FORMAT, M, G, 0)                                  \
        break;
#define DG_DOT_FORMAT(FORMAT)                                                                                          \
    switch (x_rows) {                                                                                                  \
        DG_DOT_CASE(FORMAT, 1, 4, 4)                                                                                   \
        DG_DOT_CASE(FORMAT, 2, 4, 4)                                                                                   \
        DG_DOT_CASE(FORMAT, 3, 4, 2)                                                                                   \
        DG_DOT_CASE(FORMAT, 4, 4, 2)                                                                                   \
    default: break;                                                                                                    \
    }

DG_TARGET_AVX512BF16 void dg_gemm_dot_rows_avx512(const dg_gemm_operand *op, int64_t row0, int64_t width, const float *row_exp,
                                                 const uint16_t *x, int64_t x_rows, int64_t kpad, int64_t block,
                                                 const float *x_scales, float *out, int64_t ldc) {
    const e4m3_table table = load_e4m3_table();
    prescale_rows rows;
    const prescale_rows *prescale = NULL;
    if (row_exp && op->scales) {
        prescale_rows_init(&rows, op, row_exp, row0, dg_min64(width, op->rows - row0));
        prescale = &rows;
    }
    switch (op->format) {
    case DG_TYPE_E2M1: DG_DOT_FORMAT(DG_TYPE_E2M1) break;
    case DG_TYPE_E4M3: DG_DOT_FORMAT(DG_TYPE_E4M3) break;
    default: DG_DOT_FORMAT(DG_TYPE_BF16) break;
    }
}
#endif
