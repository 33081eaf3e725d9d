// Bulk conversions, group amax and scaled FP8/FP4 encoding, with per-ISA variants.
#include "CDeepGEMMCPU.h"
#include "scalar_formats.h"
#include "quantize_kernels.h"
#include "isa_variants.h"

// Loads element i of a float-typed buffer as binary32.
#define DG_LOAD_F32(ptr, i) (((const float *)(ptr))[i])
#define DG_LOAD_BF16(ptr, i) dg_bf16_to_f32(((const uint16_t *)(ptr))[i])
#define DG_LOAD_F16(ptr, i) dg_f16_to_f32(((const uint16_t *)(ptr))[i])

// Runs STATEMENT with LOAD bound to the loader of src_type (F32, BF16 or F16), so each inner loop
// is specialised on its element type.
#define DG_WITH_FLOAT_LOADER(src_type, STATEMENT)                                                  \
    switch (src_type) {                                                                            \
    case DG_TYPE_F32: { STATEMENT(DG_LOAD_F32) break; }                                          \
    case DG_TYPE_BF16: { STATEMENT(DG_LOAD_BF16) break; }                                          \
    case DG_TYPE_F16: { STATEMENT(DG_LOAD_F16) break; }                                            \
    default: break;                                                                                \
    }

// ---------------------------------------------------------------------------------------------
// Kernel bodies (inlined into each ISA variant).

DG_INLINE void convert_body(const void *src, int src_type, void *dst, int dst_type, int64_t count, int saturate) {
    const uint8_t *s8 = (const uint8_t *)src;
    const uint16_t *s16 = (const uint16_t *)src;
    const float *s32 = (const float *)src;
    // Decode to binary32 in chunks, then encode; both loops vectorize.
    float buffer[256];
    for (int64_t start = 0; start < count; start += 256) {
        int64_t n = count - start < 256 ? count - start : 256;
        switch (src_type) {
        case DG_TYPE_F32: for (int64_t i = 0; i < n; i++) buffer[i] = s32[start + i]; break;
        case DG_TYPE_BF16: for (int64_t i = 0; i < n; i++) buffer[i] = dg_bf16_to_f32(s16[start + i]); break;
        case DG_TYPE_F16: for (int64_t i = 0; i < n; i++) buffer[i] = dg_f16_to_f32(s16[start + i]); break;
        case DG_TYPE_E4M3: for (int64_t i = 0; i < n; i++) buffer[i] = dg_e4m3_to_f32(s8[start + i]); break;
        default: for (int64_t i = 0; i < n; i++) buffer[i] = dg_e5m2_to_f32(s8[start + i]); break;
        }
        switch (dst_type) {
        case DG_TYPE_F32: for (int64_t i = 0; i < n; i++) ((float *)dst)[start + i] = buffer[i]; break;
        case DG_TYPE_BF16: for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[start + i] = dg_f32_to_bf16(buffer[i]); break;
        case DG_TYPE_F16: for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[start + i] = dg_f32_to_f16(buffer[i]); break;
        case DG_TYPE_E4M3: for (int64_t i = 0; i < n; i++) ((uint8_t *)dst)[start + i] = dg_bits_to_e4m3(dg_f2u(buffer[i]), saturate); break;
        default: for (int64_t i = 0; i < n; i++) ((uint8_t *)dst)[start + i] = dg_bits_to_e5m2(dg_f2u(buffer[i]), saturate); break;
        }
    }
}

DG_INLINE float amax_body(const void *src, int src_type, int64_t count) {
    uint32_t best = 0;
    switch (src_type) {
    case DG_TYPE_F32: {
        const uint32_t *s = (const uint32_t *)src;
        for (int64_t i = 0; i < count; i++) { uint32_t a = s[i] & 0x7FFFFFFFu; best = a > best ? a : best; }
        break;
    }
    default: {  // BF16 and F16 compare as 16-bit magnitudes, then widen the winner
        const uint16_t *s = (const uint16_t *)src;
        uint16_t top = 0;
        for (int64_t i = 0; i < count; i++) { uint16_t a = s[i] & 0x7FFFu; top = a > top ? a : top; }
        return src_type == DG_TYPE_BF16 ? dg_bf16_to_f32(top) : dg_f16_to_f32(top);
    }
    }
    return dg_u2f(best);
}

DG_INLINE void amax_columns_body(const void *src, int src_type, int64_t count, uint32_t *acc) {
    switch (src_type) {
    case DG_TYPE_F32: {
        const uint32_t *s = (const uint32_t *)src;
        for (int64_t i = 0; i < count; i++) { uint32_t a = s[i] & 0x7FFFFFFFu; acc[i] = a > acc[i] ? a : acc[i]; }
        break;
    }
    case DG_TYPE_BF16: {
        const uint16_t *s = (const uint16_t *)src;
        for (int64_t i = 0; i < count; i++) { uint32_t a = (uint32_t)(s[i] & 0x7FFFu) << 16; acc[i] = a > acc[i] ? a : acc[i]; }
        break;
    }
    default: {
        const uint16_t *s = (const uint16_t *)src;
        for (int64_t i = 0; i < count; i++) {
            uint32_t a = dg_f2u(dg_f16_to_f32(s[i] & 0x7FFFu));
            acc[i] = a > acc[i] ? a : acc[i];
        }
        break;
    }
    }
}

#define DG_ENCODE_SCALED(LOAD) \
    for (int64_t i = 0; i < count; i++) dst[i] = dg_bits_to_e4m3(dg_f2u(LOAD(src, i) * inv_scale), 0);

DG_INLINE void encode_e4m3_scaled_body(const void *src, int src_type, int64_t count, float inv_scale, uint8_t *dst) {
    DG_WITH_FLOAT_LOADER(src_type, DG_ENCODE_SCALED)
}

#define DG_ENCODE_SCALED_COLUMNS(LOAD) \
    for (int64_t i = 0; i < count; i++) dst[i] = dg_bits_to_e4m3(dg_f2u(LOAD(src, i) * inv_scales[i]), 0);

DG_INLINE void encode_e4m3_scaled_columns_body(const void *src, int src_type, int64_t count, const float *inv_scales, uint8_t *dst) {
    DG_WITH_FLOAT_LOADER(src_type, DG_ENCODE_SCALED_COLUMNS)
}

#define DG_ENCODE_FP4_PAIRS(LOAD)                                                                   \
    for (int64_t i = 0; i < pairs; i++) {                                                          \
        uint8_t lo = dg_f32_to_e2m1(LOAD(src, 2 * i) * inv_scale);                                 \
        uint8_t hi = dg_f32_to_e2m1(LOAD(src, 2 * i + 1) * inv_scale);                             \
        dst[i] = (uint8_t)(lo | (hi << 4));                                                        \
    }

DG_INLINE void encode_e2m1_scaled_body(const void *src, int src_type, int64_t pairs, float inv_scale, uint8_t *dst) {
    DG_WITH_FLOAT_LOADER(src_type, DG_ENCODE_FP4_PAIRS)
}

// ---------------------------------------------------------------------------------------------
// Portable primitives of the quantization kernels (quantize_driver.inc); the compiler vectorizes
// them for the baseline target.

#define DG_QTARGET
#define DG_QNAME(base) base##_portable

DG_INLINE uint32_t q_amax(const void *p, int type, int64_t len) { return dg_f2u(amax_body(p, type, len)); }

DG_INLINE void q_amax_columns(const void *p, int type, int64_t rows, int64_t stride, int64_t len, uint32_t *acc) {
    for (int64_t r = 0; r < rows; r++) amax_columns_body((const uint8_t *)p + r * stride * dg_float_size(type), type, len, acc);
}

DG_INLINE void q_encode_e4m3(const void *p, int type, int64_t len, const float *inv, int64_t gran, uint8_t *out,
                             int stream, const void *ahead) {
    (void)stream;
    dg_prefetch_l2(ahead, 0, len * dg_float_size(type));
    if (!gran) {
        encode_e4m3_scaled_columns_body(p, type, len, inv, out);
        return;
    }
    for (int64_t start = 0, g = 0; start < len; start += gran, g++)
        encode_e4m3_scaled_body((const uint8_t *)p + start * dg_float_size(type), type, len - start < gran ? len - start : gran,
                                inv[g], out + start);
}

DG_INLINE void q_encode_e2m1(const void *p, int type, int64_t pairs, const float *inv, int64_t gran, uint8_t *out, int stream,
                             const void *ahead) {
    (void)stream;
    dg_prefetch_l2(ahead, 0, 2 * pairs * dg_float_size(type));
    for (int64_t start = 0, g = 0; start < 2 * pairs; start += gran, g++)
        encode_e2m1_scaled_body((const uint8_t *)p + start * dg_float_size(type), type,
                                (2 * pairs - start < gran ? 2 * pairs - start : gran) / 2, inv[g], out + start / 2);
}

DG_INLINE void q_fence(void) {}

#include "quantize_driver.inc"

// ---------------------------------------------------------------------------------------------
// ISA variants and dispatch. Each public function calls the variant named by `isa`; an ISA that is
// not compiled in falls back to the portable variant.

DG_DEFINE(void, convert, (const void *src, int src_type, void *dst, int dst_type, int64_t count, int saturate),
          (src, src_type, dst, dst_type, count, saturate))
DG_DEFINE(float, amax, (const void *src, int src_type, int64_t count), (src, src_type, count))
DG_DEFINE(void, encode_e4m3_scaled, (const void *src, int src_type, int64_t count, float inv_scale, uint8_t *dst),
          (src, src_type, count, inv_scale, dst))

void dg_convert(int isa, const void *src, int src_type, void *dst, int dst_type, int64_t count, int saturate) {
    DG_DISPATCH(convert, isa, (src, src_type, dst, dst_type, count, saturate));
}

float dg_amax(int isa, const void *src, int src_type, int64_t count) {
    return DG_DISPATCH(amax, isa, (src, src_type, count));
}

void dg_encode_e4m3_scaled(int isa, const void *src, int src_type, int64_t count, float inv_scale, uint8_t *dst) {
    DG_DISPATCH(encode_e4m3_scaled, isa, (src, src_type, count, inv_scale, dst));
}

void dg_quantize_rows(int isa, int format, const void *src, int src_type, int64_t rows, int64_t n, int64_t src_stride,
                      int64_t gran, int use_ue8m0, uint8_t *dst, int64_t dst_stride, float *sf, int64_t sf_stride) {
    DG_DISPATCH(dg_quantize_rows, isa,
                (src, src_type, rows, n, src_stride, gran, use_ue8m0, format == DG_TYPE_E2M1, dst, dst_stride, sf, sf_stride));
}

void dg_quantize_blocks(int isa, const void *src, int src_type, int64_t rows, int64_t n, int64_t block_rows,
                        int64_t block_cols, int use_ue8m0, uint8_t *dst, float *sf, uint32_t *scratch) {
    DG_DISPATCH(dg_quantize_blocks, isa, (src, src_type, rows, n, block_rows, block_cols, use_ue8m0, dst, sf, scratch));
}
