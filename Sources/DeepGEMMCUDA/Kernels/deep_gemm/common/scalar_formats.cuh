// The bit-exact scalar format rules of the casts (spec api.md §1), for device code and, in the host
// tests, for the host: the same formulas as the CPU backend's `scalar_formats.h`, written once for
// CUDA (integer arithmetic on binary32 bits, no fast-math paths), so a CUDA cast and a CPU cast of
// the same input give the same bytes. `swift test` compares every function here with the CPU header
// over sampled binary32 inputs.
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg::fmt {

/// The bits of a binary32.
DG_HOST_DEVICE u32 f2u(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    u32 u;
    __builtin_memcpy(&u, &f, 4);
    return u;
#endif
}

/// The binary32 with bits `u`.
DG_HOST_DEVICE float u2f(u32 u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
#endif
}

/// BF16 bits widened exactly.
DG_HOST_DEVICE float bf16_to_f32(u16 h) { return u2f(static_cast<u32>(h) << 16); }

/// F16 bits widened exactly (subnormals by one exact scaling, infinities and NaN kept).
DG_HOST_DEVICE float f16_to_f32(u16 h) {
    const u32 sign = static_cast<u32>(h & 0x8000u) << 16;
    u32 magnitude = f2u(u2f(static_cast<u32>(h & 0x7FFFu) << 13) * 0x1p112f);
    magnitude |= (h & 0x7C00u) == 0x7C00u ? 0x7F800000u : 0u;
    return u2f(sign | magnitude);
}

/// E4M3FN code of binary32 `bits`, round-to-nearest-even; past 448 after rounding NaN (0x7F).
DG_HOST_DEVICE u32 bits_to_e4m3(u32 bits) {
    const u32 sign = (bits >> 24) & 0x80u, a = bits & 0x7FFFFFFFu;
    const u32 normal = ((a + 0x7FFFFu + ((a >> 20) & 1u)) >> 20) - 960u;
    const u32 sub = f2u(u2f(a) + 16384.0f) - 0x46800000u;
    u32 r = a >= 0x3C800000u ? normal : sub;
    r = a >= 0x43F00000u ? 0x7Fu : r;
    r = a > 0x7F800000u ? 0x7Fu : r;
    return r | sign;
}

/// FP4 E2M1 code of `x` by the helper's rule: strict midpoints (ties to the smaller magnitude),
/// saturation at 6, NaN to 0, no negative zero.
DG_HOST_DEVICE u32 f32_to_e2m1(float x) {
    const float a = u2f(f2u(x) & 0x7FFFFFFFu);
    const u32 code = (a > 0.25f) + (a > 0.75f) + (a > 1.25f) + (a > 1.75f) + (a > 2.5f) + (a > 3.5f) + (a > 5.0f);
    return code | ((x < 0.0f and code != 0) ? 8u : 0u);
}

/// The smallest power of two >= |x| (ceil to UE8M0), exponent field clamped to [1, 254].
DG_HOST_DEVICE float ceil_ue8m0(float x) {
    const u32 bits = f2u(x) & 0x7FFFFFFFu;
    int e = static_cast<int>(bits >> 23) + ((bits & 0x7FFFFFu) != 0 ? 1 : 0);
    e = e < 1 ? 1 : (e > 254 ? 254 : e);
    return u2f(static_cast<u32>(e) << 23);
}

/// A group's scale from its amax: clamp to 1e-4 (NaN kept), a true division by `max_code`, then
/// the optional power-of-two ceiling.
DG_HOST_DEVICE float group_scale(float amax, float max_code, bool use_ue8m0) {
    const float clamped = amax < 1e-4f ? 1e-4f : amax;
    const float sf = clamped / max_code;
    return use_ue8m0 ? ceil_ue8m0(sf) : sf;
}

} // namespace dg::fmt
