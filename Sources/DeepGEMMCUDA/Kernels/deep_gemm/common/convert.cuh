// Conversion of FP32 results into the output types of the attention kernels (FP32 or BF16, RNE).
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

template <typename OutT>
DG_DEVICE OutT from_float(float value) {
    if constexpr (sizeof(OutT) == 2)
        return __float2bfloat16_rn(value);
    else
        return value;
}

} // namespace dg
