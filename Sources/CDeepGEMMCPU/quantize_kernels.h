// Internal: the quantization kernels (per-token rows and row-block x column-block tiles), their
// entry points per ISA, and the scalar tail helpers every ISA shares.
#pragma once
#include <stdint.h>
#include "CDeepGEMMCPU.h"
#include "scalar_formats.h"

/// Bytes per element of a float source type (F32, BF16 or F16).
DG_INLINE int64_t dg_float_size(int src_type) { return src_type == DG_TYPE_F32 ? 4 : 2; }

/// Element i of a float source widened exactly to binary32.
DG_INLINE float dg_load_float(const void *src, int src_type, int64_t i) {
    if (src_type == DG_TYPE_F32) return ((const float *)src)[i];
    uint16_t h = ((const uint16_t *)src)[i];
    return src_type == DG_TYPE_BF16 ? dg_bf16_to_f32(h) : dg_f16_to_f32(h);
}

/// Scalar tail of a scaled E4M3 encode: elements [from, len) times inv[i] (gran 0: an inverse scale
/// per column) or inv[i / gran] (one per run of gran elements).
DG_INLINE void dg_tail_e4m3(const void *src, int src_type, int64_t from, int64_t len, const float *inv, int64_t gran,
                            uint8_t *out) {
    if (!gran) {
        for (int64_t i = from; i < len; i++) out[i] = dg_bits_to_e4m3(dg_f2u(dg_load_float(src, src_type, i) * inv[i]), 0);
        return;
    }
    for (int64_t g = from / gran; g * gran < len; g++) {
        const int64_t end = (g + 1) * gran < len ? (g + 1) * gran : len;
        for (int64_t i = from > g * gran ? from : g * gran; i < end; i++)
            out[i] = dg_bits_to_e4m3(dg_f2u(dg_load_float(src, src_type, i) * inv[g]), 0);
    }
}

/// Scalar tail of a scaled E2M1 encode: byte pairs [from, pairs), even element in the low nibble,
/// element e times inv[e / gran] (gran even).
DG_INLINE void dg_tail_e2m1(const void *src, int src_type, int64_t from, int64_t pairs, const float *inv, int64_t gran,
                            uint8_t *out) {
    const int64_t half = gran / 2;
    for (int64_t g = from / half; g * half < pairs; g++) {
        const int64_t end = (g + 1) * half < pairs ? (g + 1) * half : pairs;
        for (int64_t i = from > g * half ? from : g * half; i < end; i++) {
            uint8_t lo = dg_f32_to_e2m1(dg_load_float(src, src_type, 2 * i) * inv[g]);
            uint8_t hi = dg_f32_to_e2m1(dg_load_float(src, src_type, 2 * i + 1) * inv[g]);
            out[i] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/// Scalar tail of a column amax: acc[i] = max(acc[i], |x[i]| as binary32 bits) for [from, len).
DG_INLINE void dg_tail_amax_columns(const void *src, int src_type, int64_t from, int64_t len, uint32_t *acc) {
    for (int64_t i = from; i < len; i++) {
        uint32_t a = dg_f2u(dg_load_float(src, src_type, i)) & 0x7FFFFFFFu;
        acc[i] = a > acc[i] ? a : acc[i];
    }
}

/// Whether the vector encoders may take a group whose amax has binary32 bits `amax`: a finite
/// amax gives a finite positive inverse scale, so every product is a number with its source's
/// sign (a NaN or infinite amax can make the inverse NaN or 0, or with UE8M0 scales leave NaN
/// products; such groups go through the scalar tail encoders).
DG_INLINE int dg_plain_amax(uint32_t amax) { return amax < 0x7F800000u; }

/// Pulls the `bytes` bytes `from` bytes past `base` into L2, a line at a time (nothing when base
/// is null).
DG_INLINE void dg_prefetch_l2(const void *base, int64_t from, int64_t bytes) {
    if (base)
        for (int64_t off = from; off < from + bytes; off += 64) __builtin_prefetch((const char *)base + off, 0, 2);
}

/// 16-bit and 32-bit views of the column maxima scratch (both views touch the same memory).
typedef uint16_t dg_u16_alias __attribute__((may_alias));
typedef uint32_t dg_u32_alias __attribute__((may_alias));

/// Scalar tail of a BF16 column amax on 16-bit magnitudes: acc[i] = max(acc[i], |x[i]|) for [from, len).
DG_INLINE void dg_tail_amax_bf16_columns(const void *src, int64_t from, int64_t len, dg_u16_alias *acc) {
    for (int64_t i = from; i < len; i++) {
        const uint16_t a = ((const uint16_t *)src)[i] & 0x7FFFu;
        acc[i] = a > acc[i] ? a : acc[i];
    }
}

/// Turns `len` 16-bit BF16 column maxima at the start of `acc` into binary32 bits in place (from
/// the last column down, so that no maximum is overwritten before it is read).
DG_INLINE void dg_widen_bf16_maxima(int64_t len, uint32_t *acc) {
    const dg_u16_alias *narrow = (const dg_u16_alias *)acc;
    dg_u32_alias *wide = (dg_u32_alias *)acc;
    for (int64_t i = len - 1; i >= 0; i--) wide[i] = (uint32_t)narrow[i] << 16;
}

/// q_amax_columns_done of the vector levels, which keep BF16 column maxima as 16-bit words.
DG_INLINE void dg_amax_columns_widen(int type, int64_t len, uint32_t *acc) {
    if (type == DG_TYPE_BF16) dg_widen_bf16_maxima(len, acc);
}

#if defined(__x86_64__)
#include <immintrin.h>
/// The largest of eight 16-bit BF16 magnitudes (sign bits clear) as binary32 bits: 0x7FFF - m
/// reverses their order, so one `phminposuw` finds it.
__attribute__((target("sse4.1"))) DG_INLINE uint32_t dg_max_bf16_magnitude8(__m128i m) {
    const __m128i least = _mm_minpos_epu16(_mm_xor_si128(m, _mm_set1_epi16(0x7FFF)));
    return (uint32_t)((_mm_cvtsi128_si32(least) & 0xFFFF) ^ 0x7FFF) << 16;
}
#endif

// Entry points per ISA (see dg_quantize_rows and dg_quantize_blocks in CDeepGEMMCPU.h).
#define DG_QUANTIZE_ROWS_PARAMS                                                                    \
    (const void *src, int src_type, int64_t rows, int64_t n, int64_t src_stride, int64_t gran, int use_ue8m0, int fp4, \
     uint8_t *dst, int64_t dst_stride, float *sf, int64_t sf_stride)
#define DG_QUANTIZE_BLOCKS_PARAMS                                                                  \
    (const void *src, int src_type, int64_t rows, int64_t n, int64_t block_rows, int64_t block_cols, int use_ue8m0, \
     uint8_t *dst, float *sf, uint32_t *scratch)

void dg_quantize_rows_portable DG_QUANTIZE_ROWS_PARAMS;
void dg_quantize_blocks_portable DG_QUANTIZE_BLOCKS_PARAMS;
#if defined(__x86_64__)
void dg_quantize_rows_avx2 DG_QUANTIZE_ROWS_PARAMS;
void dg_quantize_blocks_avx2 DG_QUANTIZE_BLOCKS_PARAMS;
void dg_quantize_rows_avx512 DG_QUANTIZE_ROWS_PARAMS;
void dg_quantize_blocks_avx512 DG_QUANTIZE_BLOCKS_PARAMS;
#endif
