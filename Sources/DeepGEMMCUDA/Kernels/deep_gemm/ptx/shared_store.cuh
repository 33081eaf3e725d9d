// Shared-memory stores used by epilogues: `stmatrix` for BF16 fragments and vector FP32 stores.
#pragma once

#include <deep_gemm/ptx/sync.cuh>

namespace dg::ptx {

/// Packs two floats into BF16x2 with round-to-nearest-even, `low` in the low half.
DG_DEVICE u32 pack_bf16x2(float low, float high) {
    const __nv_bfloat162 packed = __floats2bfloat162_rn(low, high);
    return *reinterpret_cast<const u32*>(&packed);
}

/// Stores two 8x8 BF16 matrices; lanes 0-7 address the rows of the first, lanes 8-15 of the second.
DG_DEVICE void stmatrix_x2(u32 row_address, u32 first, u32 second) {
    asm volatile("stmatrix.sync.aligned.x2.m8n8.shared.b16 [%0], {%1, %2};" :: "r"(row_address), "r"(first), "r"(second) : "memory");
}

DG_DEVICE void store_shared(u32 address, float x, float y) {
    asm volatile("st.shared.v2.f32 [%0], {%1, %2};" :: "r"(address), "f"(x), "f"(y) : "memory");
}

/// The address TMA reads for byte `offset` of a tile stored with a `kSwizzleBytes` swizzle: the
/// 16-byte chunk index is XORed with the row of the 128-byte line, within the swizzle width.
template <u32 kSwizzleBytes>
DG_DEVICE constexpr u32 swizzled_offset(u32 offset) {
    return offset ^ (((offset >> 7) & (kSwizzleBytes / 16 - 1)) << 4);
}

} // namespace dg::ptx
