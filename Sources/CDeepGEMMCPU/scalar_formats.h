// Branch-free scalar conversions shared by the conversion kernels; written so that loops over them
// vectorize.
#pragma once
#include <stdint.h>
#include <string.h>

#define DG_INLINE static inline __attribute__((always_inline))

DG_INLINE uint32_t dg_f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
DG_INLINE float dg_u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

DG_INLINE float dg_bf16_to_f32(uint16_t h) { return dg_u2f((uint32_t)h << 16); }

DG_INLINE uint16_t dg_f32_to_bf16(float f) {
    uint32_t bits = dg_f2u(f);
    uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    uint32_t nan = ((bits >> 16) & 0x8000u) | 0x7FC0u;
    return (uint16_t)((bits & 0x7FFFFFFFu) > 0x7F800000u ? nan : rounded);
}

DG_INLINE float dg_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t magnitude = dg_f2u(dg_u2f((uint32_t)(h & 0x7FFFu) << 13) * 0x1p112f);
    magnitude |= (h & 0x7C00u) == 0x7C00u ? 0x7F800000u : 0u;
    return dg_u2f(sign | magnitude);
}

DG_INLINE uint16_t dg_f32_to_f16(float f) {
    uint32_t bits = dg_f2u(f);
    uint32_t sign = (bits >> 16) & 0x8000u, a = bits & 0x7FFFFFFFu;
    uint32_t normal = ((a + 0xFFFu + ((a >> 13) & 1u)) >> 13) - (112u << 10);
    uint32_t sub = dg_f2u(dg_u2f(a) + 0.5f) - 0x3F000000u;
    uint32_t r = a >= 0x38800000u ? normal : sub;
    r = a >= 0x477FF000u ? 0x7C00u : r;
    r = a > 0x7F800000u ? 0x7E00u : r;
    return (uint16_t)(r | sign);
}

DG_INLINE float dg_e4m3_to_f32(uint8_t c) {
    uint32_t sign = (uint32_t)(c & 0x80u) << 24;
    uint32_t magnitude = dg_f2u(dg_u2f((uint32_t)(c & 0x7Fu) << 20) * 0x1p120f);
    magnitude = (c & 0x7Fu) == 0x7Fu ? 0x7FC00000u : magnitude;
    return dg_u2f(sign | magnitude);
}

DG_INLINE float dg_e5m2_to_f32(uint8_t c) {
    uint32_t sign = (uint32_t)(c & 0x80u) << 24;
    uint32_t magnitude = dg_f2u(dg_u2f((uint32_t)(c & 0x7Fu) << 21) * 0x1p112f);
    magnitude = (c & 0x7Cu) == 0x7Cu ? ((c & 3u) ? 0x7FC00000u : 0x7F800000u) : magnitude;
    return dg_u2f(sign | magnitude);
}

/// E4M3FN from binary32 bits, RNE; past 448 (after rounding) NaN, or 448 when saturating.
DG_INLINE uint8_t dg_bits_to_e4m3(uint32_t bits, int saturate) {
    uint32_t sign = (bits >> 24) & 0x80u, a = bits & 0x7FFFFFFFu;
    uint32_t normal = ((a + 0x7FFFFu + ((a >> 20) & 1u)) >> 20) - 960u;
    uint32_t sub = dg_f2u(dg_u2f(a) + 16384.0f) - 0x46800000u;
    uint32_t r = a >= 0x3C800000u ? normal : sub;
    if (saturate) r = a > 0x43E00000u ? 0x7Eu : r;
    else r = a >= 0x43F00000u ? 0x7Fu : r;
    r = a > 0x7F800000u ? 0x7Fu : r;
    return (uint8_t)(r | sign);
}

/// E5M2 from binary32 bits, RNE; past 57344 infinity, or 57344 when saturating; NaN stays NaN.
DG_INLINE uint8_t dg_bits_to_e5m2(uint32_t bits, int saturate) {
    uint32_t sign = (bits >> 24) & 0x80u, a = bits & 0x7FFFFFFFu;
    uint32_t normal = ((a + 0xFFFFFu + ((a >> 21) & 1u)) >> 21) - 448u;
    uint32_t sub = dg_f2u(dg_u2f(a) + 128.0f) - 0x43000000u;
    uint32_t r = a >= 0x38800000u ? normal : sub;
    if (saturate) r = a > 0x47600000u ? 0x7Bu : r;
    else r = a >= 0x47700000u ? 0x7Cu : r;
    r = a > 0x7F800000u ? 0x7Eu : r;
    return (uint8_t)(r | sign);
}

/// The FP4 E2M1 code of x by the helper's rule: strict midpoints (ties to the smaller magnitude),
/// saturate at 6, NaN to 0, no negative zero.
DG_INLINE uint8_t dg_f32_to_e2m1(float x) {
    float a = __builtin_fabsf(x);
    uint32_t code = (a > 0.25f) + (a > 0.75f) + (a > 1.25f) + (a > 1.75f) + (a > 2.5f) + (a > 3.5f) + (a > 5.0f);
    uint32_t sign = (x < 0.0f && code != 0) ? 8u : 0u;
    return (uint8_t)(code | sign);
}

/// ceil_to_ue8m0: the smallest power of two >= |x|, exponent field clamped to [1, 254].
DG_INLINE float dg_ceil_ue8m0(float x) {
    uint32_t bits = dg_f2u(x) & 0x7FFFFFFFu;
    int32_t e = (int32_t)(bits >> 23) + ((bits & 0x7FFFFFu) != 0);
    e = e < 1 ? 1 : (e > 254 ? 254 : e);
    return dg_u2f((uint32_t)e << 23);
}

/// The scale of a group from its amax: clamp to 1e-4 (NaN kept), divide by `max_code`, optional
/// power-of-two ceiling.
DG_INLINE float dg_group_scale(float amax, float max_code, int use_ue8m0) {
    float clamped = amax < 1e-4f ? 1e-4f : amax;
    float sf = clamped / max_code;
    return use_ue8m0 ? dg_ceil_ue8m0(sf) : sf;
}
