// Power-of-two scales folded into the packed operands (AMX plans; see gemm_internal.h).
//
// When every scale of an operand is a power of two (UE8M0 scales always are), the engine can move
// each scale into the operand itself: a value v of row r in a block with scale 2^e is packed as
// v·2^(e - E_r), where E_r is the largest exponent of row r's scales, and the tile then sums plain
// BF16 products over all of K; the output is finally multiplied by 2^(E_r + E_c) with one rounding.
// v·2^(e - E_r) is exact in BF16 (the shift only lowers the exponent) unless it drops below the
// normal range, where it becomes ±0 as AMX would flush it anyway: such values are at least 2^117
// times smaller than the row's largest scale allows.
#include <pthread.h>
#include "gemm_internal.h"

// Only AMX and AVX-512 BF16 plans call the grid scans below, so they may use AVX-512.
#if DG_GEMM_X86
#define DG_PRESCALE_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2")))
#else
#define DG_PRESCALE_TARGET
#endif

/// Non-zero when `bits` is a float the prescaled plans take: a normal power of two, 2^-127 or a NaN
/// (branch-free, so that the loops over a grid vectorize).
DG_INLINE uint32_t power_of_two_or_nan(uint32_t bits) {
    const uint32_t magnitude = bits & 0x7FFFFFFFu, exponent = magnitude >> 23;
    const uint32_t normal = (bits & 0x807FFFFFu) == 0 && exponent - 1 < 254;
    return normal | (bits == 0x00400000u) | (magnitude > 0x7F800000u);
}

/// The biased exponent field of a checked scale (0 for 2^-127, 255 for a NaN).
DG_INLINE uint32_t exponent_field(uint32_t bits) { return (bits & 0x7FFFFFFFu) >> 23; }

DG_PRESCALE_TARGET int dg_gemm_prescalable(const dg_gemm_operand *op) {
    if (!op->scales) return 1;
    const int fp8_or_fp4 = op->format == DG_TYPE_E4M3 || op->format == DG_TYPE_E2M1;
    if (!dg_gemm_k_contiguous(op) || !fp8_or_fp4 || op->gran_k % 32 != 0) return 0;
    if (op->scales_from_ue8m0) return 1;
    const int64_t grid_rows = dg_ceil_div64(op->rows, op->gran_rows), grid_cols = dg_ceil_div64(op->k, op->gran_k);
    const int64_t stride = op->scale_stride1;
    uint32_t ok = 1;
    for (int64_t i = 0; i < grid_rows && ok; i++) {
        const uint32_t *row = (const uint32_t *)(op->scales + i * op->scale_stride0);
        if (stride == 1)
            for (int64_t j = 0; j < grid_cols; j++) ok &= power_of_two_or_nan(row[j]);
        else
            for (int64_t j = 0; j < grid_cols; j++) ok &= power_of_two_or_nan(row[j * stride]);
    }
    return (int)ok;
}

DG_PRESCALE_TARGET void dg_gemm_row_exponents(const dg_gemm_operand *op, int64_t row0, int64_t width, float *dst) {
    const int64_t valid = op->scales ? dg_min64(width, op->rows - row0) : 0;
    const int64_t grid_cols = dg_ceil_div64(op->k, op->gran_k), stride = op->scale_stride1;
    for (int64_t r = 0; r < valid; r++) {
        const uint32_t *row = (const uint32_t *)dg_gemm_scale_row(op, row0 + r);
        uint32_t largest = 0;
        if (stride == 1)
            for (int64_t j = 0; j < grid_cols; j++) largest = dg_max_u32(largest, exponent_field(row[j]));
        else
            for (int64_t j = 0; j < grid_cols; j++) largest = dg_max_u32(largest, exponent_field(row[j * stride]));
        dst[r] = largest == 255 ? __builtin_nanf("") : (float)((int)largest - 127);
    }
    for (int64_t r = valid; r < width; r++) dst[r] = 0.0f;
}

/// dg_gemm_e2m1_bf16 times 2^-s for s = 0 ... 254, filled once.
static uint16_t e2m1_scaled[255][16];
static pthread_once_t e2m1_scaled_once = PTHREAD_ONCE_INIT;

static void fill_e2m1_scaled(void) {
    for (int s = 0; s < 255; s++) {
        for (int c = 0; c < 16; c++) {
            const uint16_t v = dg_gemm_e2m1_bf16[c];
            const int exponent = (v >> 7) & 0xFF;
            if (exponent == 0) e2m1_scaled[s][c] = v;
            else if (exponent - s <= 0) e2m1_scaled[s][c] = v & 0x8000;
            else e2m1_scaled[s][c] = (uint16_t)(v - (s << 7));
        }
    }
}

const uint16_t *dg_gemm_e2m1_scaled_tables(void) {
    pthread_once(&e2m1_scaled_once, fill_e2m1_scaled);
    return &e2m1_scaled[0][0];
}
