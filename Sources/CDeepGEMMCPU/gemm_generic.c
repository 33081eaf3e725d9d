// Layout-independent pieces of the GEMM engine: decode tables, packing of any format and strides,
// scale packing and the scalar output rule.
#include <string.h>
#include "gemm_internal.h"

const uint16_t dg_gemm_e2m1_bf16[16] = {
    0x0000, 0x3F00, 0x3F80, 0x3FC0, 0x4000, 0x4040, 0x4080, 0x40C0,
    0x0000, 0xBF00, 0xBF80, 0xBFC0, 0xC000, 0xC040, 0xC080, 0xC0C0,
};

const uint16_t dg_gemm_e4m3_bf16[128] = {
    0x0000, 0x3B00, 0x3B80, 0x3BC0, 0x3C00, 0x3C20, 0x3C40, 0x3C60, 0x3C80, 0x3C90, 0x3CA0, 0x3CB0,
    0x3CC0, 0x3CD0, 0x3CE0, 0x3CF0, 0x3D00, 0x3D10, 0x3D20, 0x3D30, 0x3D40, 0x3D50, 0x3D60, 0x3D70,
    0x3D80, 0x3D90, 0x3DA0, 0x3DB0, 0x3DC0, 0x3DD0, 0x3DE0, 0x3DF0, 0x3E00, 0x3E10, 0x3E20, 0x3E30,
    0x3E40, 0x3E50, 0x3E60, 0x3E70, 0x3E80, 0x3E90, 0x3EA0, 0x3EB0, 0x3EC0, 0x3ED0, 0x3EE0, 0x3EF0,
    0x3F00, 0x3F10, 0x3F20, 0x3F30, 0x3F40, 0x3F50, 0x3F60, 0x3F70, 0x3F80, 0x3F90, 0x3FA0, 0x3FB0,
    0x3FC0, 0x3FD0, 0x3FE0, 0x3FF0, 0x4000, 0x4010, 0x4020, 0x4030, 0x4040, 0x4050, 0x4060, 0x4070,
    0x4080, 0x4090, 0x40A0, 0x40B0, 0x40C0, 0x40D0, 0x40E0, 0x40F0, 0x4100, 0x4110, 0x4120, 0x4130,
    0x4140, 0x4150, 0x4160, 0x4170, 0x4180, 0x4190, 0x41A0, 0x41B0, 0x41C0, 0x41D0, 0x41E0, 0x41F0,
    0x4200, 0x4210, 0x4220, 0x4230, 0x4240, 0x4250, 0x4260, 0x4270, 0x4280, 0x4290, 0x42A0, 0x42B0,
    0x42C0, 0x42D0, 0x42E0, 0x42F0, 0x4300, 0x4310, 0x4320, 0x4330, 0x4340, 0x4350, 0x4360, 0x4370,
    0x4380, 0x4390, 0x43A0, 0x43B0, 0x43C0, 0x43D0, 0x43E0, 0x7FC0,
};

/// Decodes `n` elements starting at (row, k), stepping along K (`along_k`) or along the rows.
static void decode_line(const dg_gemm_operand *op, int64_t row, int64_t k, int64_t n, int along_k, float *out) {
    const int64_t s0 = op->stride0, s1 = op->stride1;
    switch (op->format) {
    case DG_TYPE_E4M3: {
        const uint8_t *p = (const uint8_t *)op->data + row * s0 + k * s1;
        const int64_t step = along_k ? s1 : s0;
        for (int64_t i = 0; i < n; i++) out[i] = dg_e4m3_to_f32(p[i * step]);
        break;
    }
    case DG_TYPE_BF16: {
        const uint16_t *p = (const uint16_t *)op->data + row * s0 + k * s1;
        const int64_t step = along_k ? s1 : s0;
        for (int64_t i = 0; i < n; i++) out[i] = dg_bf16_to_f32(p[i * step]);
        break;
    }
    case DG_TYPE_F32: {
        const float *p = (const float *)op->data + row * s0 + k * s1;
        const int64_t step = along_k ? s1 : s0;
        for (int64_t i = 0; i < n; i++) out[i] = p[i * step];
        break;
    }
    default: {  // E2M1: two codes per byte, along K or along the rows
        const uint8_t *p = (const uint8_t *)op->data;
        for (int64_t i = 0; i < n; i++) {
            const int64_t r = along_k ? row : row + i, kk = along_k ? k + i : k;
            const uint8_t byte = op->fp4_packed_along_k ? p[r * s0 + (kk >> 1) * s1] : p[(r >> 1) * s0 + kk * s1];
            const int high = op->fp4_packed_along_k ? (int)(kk & 1) : (int)(r & 1);
            out[i] = dg_bf16_to_f32(dg_gemm_e2m1_bf16[high ? byte >> 4 : byte & 15]);
        }
        break;
    }
    }
}

/// Stores decoded value `v` at element `index` of a packed block (BF16 bits by truncation, exact
/// for the formats that take the pair path).
DG_INLINE void put_packed(void *dst, int pairs, int64_t index, float v) {
    if (pairs) ((uint16_t *)dst)[index] = (uint16_t)(dg_f2u(v) >> 16);
    else ((float *)dst)[index] = v;
}

void dg_gemm_pack_generic(const dg_gemm_operand *op, int pairs, int64_t row0, int64_t width, int64_t k0, int64_t len,
                          void *dst) {
    const int64_t kstep = pairs ? 2 : 1, steps = dg_ceil_div64(len, kstep);
    const int64_t valid = dg_min64(width, op->rows - row0);
    memset(dst, 0, (size_t)(steps * kstep * width * (pairs ? 2 : 4)));
    // Walk the storage along its smaller stride (for FP4, the stride of the packed dimension).
    const int64_t k_stride = op->stride1 < 0 ? -op->stride1 : op->stride1;
    const int64_t row_stride = op->stride0 < 0 ? -op->stride0 : op->stride0;
    const int along_k = k_stride <= row_stride;
    enum { LINE = 256 };
    float line[LINE];
    if (along_k) {
        for (int64_t r = 0; r < valid; r++) {
            for (int64_t start = 0; start < len; start += LINE) {
                const int64_t n = dg_min64(LINE, len - start);
                decode_line(op, row0 + r, k0 + start, n, 1, line);
                for (int64_t i = 0; i < n; i++) {
                    const int64_t kk = start + i;
                    put_packed(dst, pairs, (kk / kstep) * width * kstep + r * kstep + kk % kstep, line[i]);
                }
            }
        }
    } else {
        for (int64_t kk = 0; kk < len; kk++) {
            for (int64_t start = 0; start < valid; start += LINE) {
                const int64_t n = dg_min64(LINE, valid - start);
                decode_line(op, row0 + start, k0 + kk, n, 0, line);
                for (int64_t i = 0; i < n; i++)
                    put_packed(dst, pairs, (kk / kstep) * width * kstep + (start + i) * kstep + kk % kstep, line[i]);
            }
        }
    }
}

void dg_gemm_pack_scales(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t b0, int64_t count,
                         int64_t block_len, float *dst) {
    const int64_t valid = dg_min64(width, op->rows - row0);
    for (int64_t b = 0; b < count; b++) {
        float *out = dst + b * width;
        int64_t r = 0;
        if (!op->scales) {
            for (; r < valid; r++) out[r] = 1.0f;
        } else {
            // The block's column of the grid, then its rows in order (no division per element).
            const float *column = op->scales + dg_gemm_scale_column(op, (b0 + b) * block_len);
            int64_t grid_row = row0 / op->gran_rows, left = op->gran_rows - row0 % op->gran_rows;
            for (; r < valid; r++) {
                out[r] = column[grid_row * op->scale_stride0];
                if (--left == 0) {
                    grid_row++;
                    left = op->gran_rows;
                }
            }
        }
        for (; r < width; r++) out[r] = 0.0f;
    }
}

void dg_gemm_store_generic(const dg_gemm_output *d, int64_t row0, int64_t col0, int64_t rows, int64_t cols,
                           const float *c, int64_t ldc) {
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t j = 0; j < cols; j++) {
            const int64_t at = (row0 + r) * d->stride0 + (col0 + j) * d->stride1;
            const float acc = c[r * ldc + j];
            if (d->type == DG_TYPE_BF16) {
                uint16_t *cell = (uint16_t *)d->data + at;
                const float sum = d->accumulate ? dg_bf16_to_f32(*cell) + dg_bf16_to_f32(dg_f32_to_bf16(acc)) : acc;
                *cell = dg_f32_to_bf16(sum);
            } else {
                float *cell = (float *)d->data + at;
                *cell = d->accumulate ? *cell + acc : acc;
            }
        }
    }
}
