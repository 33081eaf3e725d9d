// Compiles the kernels' arithmetic headers for the host (see include/DeepGEMMKernelHost.h).
#include "DeepGEMMKernelHost.h"

#include <deep_gemm/impls/sm90_bf16_gemm_smem.cuh>
#include <deep_gemm/impls/sm90_fp8_gemm_1d2d_smem.cuh>
#include <deep_gemm/impls/sm90_gemm_columns.cuh>
#include <deep_gemm/scheduler/sm90_tile_scheduler.cuh>

namespace {

/// The scheduler's parameters as runtime values.
struct RuntimeTileShape {
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

extern "C" size_t dg_host_sm90_schedule(dg_host_sm90_tile_shape shape, uint32_t shape_m, uint32_t shape_n,
                                        const int32_t* grouped_layout, dg_host_sm90_tile* tiles, size_t capacity) {
    const RuntimeTileShape params{static_cast<dg::GemmKind>(shape.kind), shape.block_m, shape.block_n, shape.num_groups,
                                  shape.cluster_size, shape.multicast_on_a, shape.band_width, shape.num_sms};
    size_t count = 0;
    for (uint32_t cta = 0; cta < shape.num_sms; ++cta) {
        dg::sched::SM90TileScheduler<RuntimeTileShape> scheduler(params, cta, shape_m, shape_n, grouped_layout);
        dg::u32 m_block = 0, n_block = 0;
        for (uint32_t round = 0; scheduler.next(m_block, n_block); ++round, ++count) {
            if (count >= capacity)
                continue;
            uint32_t valid = 0;
            for (uint32_t row = 0, bit = 0; row < shape.block_m; row += 64, ++bit)
                valid |= scheduler.rows_valid(m_block, row) ? 1u << bit : 0u;
            tiles[count] = dg_host_sm90_tile{cta, round, m_block, n_block, scheduler.group, scheduler.band_width,
                                             scheduler.multicast_valid(m_block), scheduler.peer_alive, valid};
        }
    }
    return count;
}

extern "C" uint32_t dg_host_sm90_bf16_smem_bytes(uint32_t block_m, uint32_t block_n, uint32_t block_k, uint32_t output_bytes,
                                                 uint32_t stages) {
    return dg::SM90BF16GemmSmem(block_m, block_n, block_k, output_bytes, stages).total();
}

extern "C" uint32_t dg_host_sm90_fp8_1d2d_smem_bytes(uint32_t block_m, uint32_t block_n, uint32_t stages, uint32_t shape_k) {
    return dg::SM90FP8Gemm1D2DSmem(block_m, block_n, stages).total(shape_k);
}

extern "C" dg_host_sm90_fp8_scale_blocks dg_host_sm90_fp8_tile_scale_blocks(uint32_t n_block, uint32_t block_n, uint32_t shape_n) {
    const dg::SM90FP8TileScaleBlocks blocks(n_block, block_n, shape_n);
    return dg_host_sm90_fp8_scale_blocks{blocks.first_block, blocks.second_block, blocks.first_columns,
                                         dg::tiles_span_two_scale_blocks(block_n)};
}

extern "C" uint32_t dg_host_head_mid_column(uint32_t column, uint32_t left, uint32_t mid, uint32_t right) {
    return dg::head_mid_column(column, left, mid, right);
}
