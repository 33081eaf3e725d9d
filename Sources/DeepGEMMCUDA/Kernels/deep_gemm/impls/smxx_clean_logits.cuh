// The clean pass of the MQA logits: writes -inf into every column of a logits row outside its
// query's key window. Full-width rows keep [min(ks, SKV), min(ke, SKV)); compressed rows keep their
// first min(ke, SKV) - min(ks, SKV) columns; without `ks` (paged logits) windows start at 0. One
// CTA per row, threads striding over the columns.
#pragma once

#include <deep_gemm/common/convert.cuh>

namespace dg {

template <bool kCompressed, u32 kNumThreads, typename OutT>
DG_DEVICE void smxx_clean_logits(u32 seq_len_kv, u32 num_columns, u32 stride_logits, const u32* ks, const u32* ke, OutT* logits) {
#if defined(__CUDA_ARCH__)
    const u32 query = blockIdx.x;
    const u32 start = ks == nullptr ? 0 : min_of(ks[query], seq_len_kv);
    const u32 end = min_of(ke[query], seq_len_kv);
    const u32 keep_begin = kCompressed ? 0 : start;
    const u32 keep_end = kCompressed ? end - start : end;
    OutT* row = logits + static_cast<u64>(query) * stride_logits;
    const OutT negative_infinity = from_float<OutT>(-__int_as_float(0x7F800000));
    for (u32 column = threadIdx.x; column < num_columns; column += kNumThreads) {
        if (column < keep_begin or column >= keep_end)
            row[column] = negative_infinity;
    }
#endif
}

} // namespace dg
