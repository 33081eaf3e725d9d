// Internal: the hand-vectorized AVX-512 per-token FP8 kernel (F32 and BF16 sources only).
#pragma once
#include <stdint.h>

#if defined(__x86_64__)
void dg_quantize_rows_e4m3_avx512_explicit(const void *src, int src_type, int64_t rows, int64_t n, int64_t src_stride,
                                           int64_t gran, int use_ue8m0, uint8_t *dst, int64_t dst_stride, float *sf,
                                           int64_t sf_stride);
#endif
