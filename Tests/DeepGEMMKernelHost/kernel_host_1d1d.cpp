// Compiles the SM90 FP8 1D1D kernel's arithmetic headers for the host (see include/DeepGEMMKernelHost1D1D.h).
#include "DeepGEMMKernelHost1D1D.h"

#include <deep_gemm/impls/sm90_fp8_gemm_1d1d_smem.cuh>
#include <deep_gemm/scheduler/sm90_k_grouped_scheduler.cuh>

namespace {

/// The scheduler's parameters as runtime values (the normal kind: the k-grouped scheduler walks
/// each group's grid as a normal one).
struct RuntimeKGroupedShape {
    dg::GemmKind kind;
    dg::u32 block_m;
    dg::u32 block_n;
    dg::u32 num_groups;
    dg::u32 cluster_size;
    bool multicast_on_a;
    dg::u32 band_width;
    dg::u32 num_sms;
};

} // namespace

extern "C" size_t dg_host_sm90_k_grouped_schedule(dg_host_sm90_tile_shape shape, uint32_t shape_m, uint32_t shape_n, const uint32_t* ks,
                                                  dg_host_sm90_k_grouped_tile* tiles, size_t capacity) {
    const RuntimeKGroupedShape params{dg::GemmKind::Normal, shape.block_m, shape.block_n, shape.num_groups,
                                      shape.cluster_size, shape.multicast_on_a, shape.band_width, shape.num_sms};
    size_t count = 0;
    for (uint32_t cta = 0; cta < shape.num_sms; ++cta) {
        dg::sched::SM90KGroupedScheduler<RuntimeKGroupedShape> scheduler(params, cta, shape_m, shape_n, ks);
        dg::u32 m_block = 0, n_block = 0;
        for (uint32_t round = 0; scheduler.next(m_block, n_block); ++round, ++count) {
            if (count >= capacity)
                continue;
            tiles[count] = dg_host_sm90_k_grouped_tile{cta, round, scheduler.group, m_block, n_block, scheduler.k_offset,
                                                       scheduler.shape_k, scheduler.sf_k_offset(), scheduler.multicast_valid(m_block),
                                                       scheduler.peer_alive};
        }
    }
    return count;
}

extern "C" uint32_t dg_host_sm90_fp8_1d1d_smem_bytes(uint32_t block_m, uint32_t block_n, uint32_t stages) {
    return dg::SM90FP8Gemm1D1DSmem(block_m, block_n, stages).total();
}
