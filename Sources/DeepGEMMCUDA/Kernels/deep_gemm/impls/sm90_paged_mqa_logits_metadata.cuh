// The SM90 paged MQA schedule on the device: one warp computes the inclusive prefix sums of the
// requests' segment counts into shared memory (32 requests per step, a shuffle scan per step), then
// writes row s of every SM (scheduler/sm90_paged_mqa_schedule.cuh) and the final row.
#pragma once

#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/scheduler/sm90_paged_mqa_schedule.cuh>

namespace dg {

DG_DEVICE void sm90_paged_mqa_logits_metadata(u32 batch_size, u32 next_n, u32 num_sms, const u32* context_lens, u32* schedule) {
#if defined(__CUDA_ARCH__)
    extern __shared__ u32 prefix[];
    const u32 lane = ptx::lane_index();
    ptx::wait_for_previous_grid();

    u32 running = 0;
    for (u32 base = 0; base < batch_size; base += 32) {
        const u32 request = base + lane;
        u32 value = request < batch_size ? ceil_div(context_lens[request * next_n + next_n - 1], kPagedSplitKV) : 0;
        #pragma unroll
        for (u32 offset = 1; offset < 32; offset <<= 1) {
            const u32 lower = __shfl_up_sync(0xFFFFFFFFu, value, offset);
            value += lane >= offset ? lower : 0;
        }
        value += running;
        if (request < batch_size)
            prefix[request] = value;
        running = __shfl_sync(0xFFFFFFFFu, value, 31);
    }
    __syncwarp();

    const u32 atoms = paged_atoms_per_request(next_n);
    for (u32 sm = lane; sm < num_sms; sm += 32)
        paged_schedule_row(prefix, batch_size, atoms, num_sms, sm, &schedule[2 * sm], &schedule[2 * sm + 1]);
    if (lane == 0) {
        schedule[2 * num_sms] = batch_size * atoms;
        schedule[2 * num_sms + 1] = 0;
    }
#endif
}

} // namespace dg
