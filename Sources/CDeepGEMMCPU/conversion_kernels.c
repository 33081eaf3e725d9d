// Bulk conversions, group amax and scaled FP8/FP4 encoding, with per-ISA variants.
#include "CDeepGEMMCPU.h"
#include "scalar_formats.h"
#include "quantize_rows_avx512.h"

#if defined(__x86_64__)
#define DG_HAS_X86_VARIANTS 1
#define DG_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define DG_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define DG_HAS_X86_VARIANTS 0
#endif

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

DG_INLINE const void *dg_offset(const void *src, int src_type, int64_t elements) {
    return (const uint8_t *)src + elements * (src_type == DG_TYPE_F32 ? 4 : 2);
}

// Per-token quantization of rows to E4M3 (fp4 == 0) or packed E2M1 (fp4 != 0).
DG_INLINE void quantize_rows_body(const void *src, int src_type, int64_t rows, int64_t n, int64_t src_stride,
                                  int64_t gran, int use_ue8m0, int fp4, uint8_t *dst, int64_t dst_stride, float *sf,
                                  int64_t sf_stride) {
    int64_t groups = (n + gran - 1) / gran;
    for (int64_t r = 0; r < rows; r++) {
        const void *row = dg_offset(src, src_type, r * src_stride);
        for (int64_t g = 0; g < groups; g++) {
            int64_t start = g * gran, len = n - start < gran ? n - start : gran;
            const void *group = dg_offset(row, src_type, start);
            float scale = dg_group_scale(amax_body(group, src_type, len), fp4 ? 6.0f : 448.0f, use_ue8m0);
            sf[r * sf_stride + g] = scale;
            if (fp4) encode_e2m1_scaled_body(group, src_type, len / 2, 1.0f / scale, dst + r * dst_stride + start / 2);
            else encode_e4m3_scaled_body(group, src_type, len, 1.0f / scale, dst + r * dst_stride + start);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ISA variants and dispatch. Each public function calls the variant named by `isa`; an ISA that is
// not compiled in falls back to the portable variant.

#if DG_HAS_X86_VARIANTS
#define DG_DISPATCH(NAME, isa, ARGS)                                                               \
    (isa == DG_ISA_AVX512 ? NAME##_avx512 ARGS : isa == DG_ISA_AVX2 ? NAME##_avx2 ARGS : NAME##_portable ARGS)
#else
#define DG_DISPATCH(NAME, isa, ARGS) (NAME##_portable ARGS)
#endif

#if DG_HAS_X86_VARIANTS
#define DG_DEFINE(RET, NAME, PARAMS, ARGS)                                                          \
    DG_TARGET_AVX512 static RET NAME##_avx512 PARAMS { return NAME##_body ARGS; }                 \
    DG_TARGET_AVX2 static RET NAME##_avx2 PARAMS { return NAME##_body ARGS; }                     \
    static RET NAME##_portable PARAMS { return NAME##_body ARGS; }
#else
#define DG_DEFINE(RET, NAME, PARAMS, ARGS) static RET NAME##_portable PARAMS { return NAME##_body ARGS; }
#endif

DG_DEFINE(void, convert, (const void *src, int src_type, void *dst, int dst_type, int64_t count, int saturate),
          (src, src_type, dst, dst_type, count, saturate))
DG_DEFINE(float, amax, (const void *src, int src_type, int64_t count), (src, src_type, count))
DG_DEFINE(void, amax_columns, (const void *src, int src_type, int64_t count, uint32_t *acc), (src, src_type, count, acc))
DG_DEFINE(void, encode_e4m3_scaled, (const void *src, int src_type, int64_t count, float inv_scale, uint8_t *dst),
          (src, src_type, count, inv_scale, dst))
DG_DEFINE(void, encode_e4m3_scaled_columns,
          (const void *src, int src_type, int64_t count, const float *inv_scales, uint8_t *dst),
          (src, src_type, count, inv_scales, dst))
DG_DEFINE(void, quantize_rows,
          (const void *src, int src_type, int64_t rows, int64_t n, int64_t src_stride, int64_t gran, int use_ue8m0,
           int fp4, uint8_t *dst, int64_t dst_stride, float *sf, int64_t sf_stride),
          (src, src_type, rows, n, src_stride, gran, use_ue8m0, fp4, dst, dst_stride, sf, sf_stride))

void dg_convert(int isa, const void *src, int src_type, void *dst, int dst_type, int64_t count, int saturate) {
    DG_DISPATCH(convert, isa, (src, src_type, dst, dst_type, count, saturate));
}

float dg_amax(int isa, const void *src, int src_type, int64_t count) {
    return DG_DISPATCH(amax, isa, (src, src_type, count));
}

void dg_amax_columns(int isa, const void *src, int src_type, int64_t count, uint32_t *acc) {
    DG_DISPATCH(amax_columns, isa, (src, src_type, count, acc));
}

void dg_encode_e4m3_scaled(int isa, const void *src, int src_type, int64_t count, float inv_scale, uint8_t *dst) {
    DG_DISPATCH(encode_e4m3_scaled, isa, (src, src_type, count, inv_scale, dst));
}

void dg_encode_e4m3_scaled_columns(int isa, const void *src, int src_type, int64_t count, const float *inv_scales,
                                   uint8_t *dst) {
    DG_DISPATCH(encode_e4m3_scaled_columns, isa, (src, src_type, count, inv_scales, dst));
}

void dg_quantize_rows(int isa, int format, const void *src, int src_type, int64_t rows, int64_t n, int64_t src_stride,
                      int64_t gran, int use_ue8m0, uint8_t *dst, int64_t dst_stride, float *sf, int64_t sf_stride) {
    const int fp4 = format == DG_TYPE_E2M1;
#if DG_HAS_X86_VARIANTS
    if (isa == DG_ISA_AVX512 && !fp4 && src_type != DG_TYPE_F16) {
        dg_quantize_rows_e4m3_avx512_explicit(src, src_type, rows, n, src_stride, gran, use_ue8m0, dst, dst_stride, sf,
                                              sf_stride);
        return;
    }
#endif
    DG_DISPATCH(quantize_rows, isa, (src, src_type, rows, n, src_stride, gran, use_ue8m0, fp4, dst, dst_stride, sf, sf_stride));
}
