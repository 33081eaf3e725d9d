// The float sources the casts read (F32, BF16, F16), widened exactly to binary32 with the rules of
// common/scalar_formats.cuh. Plain arithmetic: the host tests compile it as C++.
#pragma once

#include <deep_gemm/common/scalar_formats.cuh>

namespace dg {

/// Source element types of the casts (the CPU backend's DG_TYPE_* order is not assumed).
enum class CastSource : u32 { F32 = 0, BF16 = 1, F16 = 2 };

/// Element `i` of a float source widened exactly to binary32.
template <CastSource kSource>
DG_HOST_DEVICE float load_cast_source(const void* x, u64 i) {
    if constexpr (kSource == CastSource::F32)
        return static_cast<const float*>(x)[i];
    else if constexpr (kSource == CastSource::BF16)
        return fmt::bf16_to_f32(static_cast<const u16*>(x)[i]);
    else
        return fmt::f16_to_f32(static_cast<const u16*>(x)[i]);
}

} // namespace dg
