// Arithmetic of the SM90 paged MQA schedule (get_paged_mqa_logits_metadata), shared by the metadata
// kernel and the host tests. Work is counted in segments of kSplitKV keys of each request's last
// context length; a request of next_n tokens is cut into atoms of two tokens (one when next_n == 1),
// each atom taking all of the request's segments. With T segments in all and S SMs, the first
// S - T % S SMs take T / S segments and the others one more; an SM's row is (atom, segment within
// the atom) of its first segment, and row S is (batch_size * atoms, 0).
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

constexpr u32 kPagedSplitKV = 256;

/// Atoms per request of `next_n` tokens.
DG_HOST_DEVICE u32 paged_atoms_per_request(u32 next_n) {
    return next_n >= 2 ? ceil_div(next_n, 2u) : 1u;
}

/// Row `sm` (< num_sms) from the inclusive prefix sums of the requests' segment counts.
DG_HOST_DEVICE void paged_schedule_row(const u32* prefix, u32 batch_size, u32 atoms, u32 num_sms, u32 sm, u32* atom, u32* segment) {
    const u32 total = batch_size == 0 ? 0 : prefix[batch_size - 1] * atoms;
    const u32 quotient = total / num_sms, remainder = total % num_sms;
    const u32 pivot = num_sms - remainder;
    const u32 first = sm * quotient + (sm > pivot ? sm - pivot : 0);
    // The first request whose segments (times its atoms) end past `first`
    u32 low = 0, high = batch_size;
    while (low < high) {
        const u32 mid = (low + high) / 2;
        if (prefix[mid] * atoms <= first)
            low = mid + 1;
        else
            high = mid;
    }
    const u32 before = low == 0 ? 0 : prefix[low - 1];
    const u32 segments = low < batch_size ? prefix[low] - before : 0;
    const u32 offset = first - before * atoms;
    *atom = low * atoms + (segments > 0 ? offset / segments : 0);
    *segment = segments > 0 ? offset % segments : 0;
}

} // namespace dg
