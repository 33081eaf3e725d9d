// Compiles the kernels' arithmetic headers for the host (see include/DeepGEMMKernelHost.h).
#include "DeepGEMMKernelHost.h"

#include <deep_gemm/common/scalar_formats.cuh>
#include <deep_gemm/impls/sm90_bf16_gemm_smem.cuh>
#include <deep_gemm/impls/sm90_fp8_gemm_1d2d_smem.cuh>
#include <deep_gemm/impls/sm90_gemm_columns.cuh>
#include <deep_gemm/impls/sm90_split_k.cuh>
#include <deep_gemm/layout/sm90_mqa_logits.cuh>
#include <deep_gemm/layout/sm90_paged_mqa_logits.cuh>
#include <deep_gemm/scheduler/sm90_tile_scheduler.cuh>

#include <vector>

#include <scalar_formats.h>

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

extern "C" uint32_t dg_host_sm90_mqa_logits_smem_bytes(uint32_t num_heads, uint32_t head_dim, uint32_t block_q, uint32_t block_kv,
                                                       uint32_t num_q_stages, uint32_t num_kv_stages) {
    return dg::SM90MQALogitsSmem(num_heads, head_dim, block_q, block_kv, num_q_stages, num_kv_stages).total_bytes;
}

extern "C" void dg_host_mqa_key_span(const uint32_t* ks, const uint32_t* ke, uint32_t block_q_index, uint32_t block_q, uint32_t seq_len,
                                     uint32_t seq_len_kv, uint32_t block_kv, uint32_t* start, uint32_t* num_blocks) {
    const dg::MQAKeySpan span = dg::mqa_key_span(ks, ke, block_q_index, block_q, seq_len, seq_len_kv, block_kv);
    *start = span.start;
    *num_blocks = span.num_blocks;
}

extern "C" uint32_t dg_host_sm90_paged_mqa_logits_smem_bytes(uint32_t next_n, uint32_t num_heads, uint32_t head_dim, uint32_t block_kv,
                                                             uint32_t num_q_stages, uint32_t num_kv_stages) {
    return dg::SM90PagedMQALogitsSmem(next_n, num_heads, head_dim, block_kv, 4, num_q_stages, num_kv_stages).total_bytes;
}

extern "C" void dg_host_sm90_paged_schedule(const uint32_t* context_lens, uint32_t batch_size, uint32_t next_n, uint32_t num_sms,
                                            uint32_t* rows) {
    std::vector<uint32_t> prefix(batch_size);
    uint32_t running = 0;
    for (uint32_t request = 0; request < batch_size; ++request) {
        running += dg::ceil_div(context_lens[request * next_n + next_n - 1], dg::kPagedSplitKV);
        prefix[request] = running;
    }
    const uint32_t atoms = dg::paged_atoms_per_request(next_n);
    for (uint32_t sm = 0; sm < num_sms; ++sm)
        dg::paged_schedule_row(prefix.data(), batch_size, atoms, num_sms, sm, &rows[2 * sm], &rows[2 * sm + 1]);
    rows[2 * num_sms] = batch_size * atoms;
    rows[2 * num_sms + 1] = 0;
}

extern "C" size_t dg_host_paged_task_walk(const uint32_t* schedule, uint32_t num_sms, const uint32_t* context_lens, uint32_t next_n,
                                          dg_host_paged_task* tasks, size_t capacity) {
    size_t count = 0;
    for (uint32_t sm = 0; sm < num_sms; ++sm) {
        dg::PagedTaskWalk walk(schedule, sm, 4);
        walk.refresh(context_lens, next_n, 64);
        for (; walk.has_task(); walk.advance(context_lens, next_n, 64, 4), ++count) {
            if (count < capacity)
                tasks[count] = dg_host_paged_task{sm, walk.request, walk.page};
        }
    }
    return count;
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

extern "C" uint64_t dg_host_scalar_format_mismatches(uint32_t step) {
    uint64_t mismatches = 0;
    for (uint32_t h = 0; h <= 0xFFFFu; ++h) {
        mismatches += dg_f2u(dg_bf16_to_f32(static_cast<uint16_t>(h))) != dg::fmt::f2u(dg::fmt::bf16_to_f32(static_cast<dg::u16>(h)));
        mismatches += dg_f2u(dg_f16_to_f32(static_cast<uint16_t>(h))) != dg::fmt::f2u(dg::fmt::f16_to_f32(static_cast<dg::u16>(h)));
    }
    for (uint32_t a = 0x3A800000u; a < 0x44800000u; ++a) {
        mismatches += dg_bits_to_e4m3(a, 0) != dg::fmt::bits_to_e4m3(a);
        mismatches += dg_bits_to_e4m3(a | 0x80000000u, 0) != dg::fmt::bits_to_e4m3(a | 0x80000000u);
    }
    for (uint64_t i = 0; i <= 0xFFFFFFFFull; i += step) {
        const uint32_t bits = static_cast<uint32_t>(i);
        const float x = dg_u2f(bits);
        mismatches += dg_bits_to_e4m3(bits, 0) != dg::fmt::bits_to_e4m3(bits);
        mismatches += dg_f32_to_e2m1(x) != dg::fmt::f32_to_e2m1(x);
        mismatches += dg_f2u(dg_ceil_ue8m0(x)) != dg::fmt::f2u(dg::fmt::ceil_ue8m0(x));
        for (int ue8m0 = 0; ue8m0 < 2; ++ue8m0) {
            mismatches += dg_f2u(dg_group_scale(x, 448.0f, ue8m0)) != dg::fmt::f2u(dg::fmt::group_scale(x, 448.0f, ue8m0 != 0));
            mismatches += dg_f2u(dg_group_scale(x, 6.0f, ue8m0)) != dg::fmt::f2u(dg::fmt::group_scale(x, 6.0f, ue8m0 != 0));
        }
    }
    return mismatches;
}

extern "C" dg_host_k_block_range dg_host_split_k_range(uint32_t num_k_blocks, uint32_t num_splits, uint32_t split) {
    const dg::KBlockRange range = dg::split_k_range(num_k_blocks, num_splits, split);
    return dg_host_k_block_range{range.first, range.count};
}

extern "C" dg_host_batched_sum_work dg_host_batched_sum_work_of(uint32_t cta, uint32_t num_m_blocks, uint32_t num_n_blocks, uint32_t num_pairs,
                                                                uint32_t split_factor) {
    const dg::BatchedSumWork work = dg::batched_sum_work(cta, num_m_blocks, num_n_blocks, num_pairs, split_factor);
    return dg_host_batched_sum_work{work.m_block, work.n_block, dg_host_k_block_range{work.pairs.first, work.pairs.count}};
}

extern "C" uint32_t dg_host_batched_sum_num_ctas(uint32_t num_m_blocks, uint32_t num_n_blocks, uint32_t num_pairs, uint32_t split_factor) {
    return dg::batched_sum_num_ctas(num_m_blocks, num_n_blocks, num_pairs, split_factor);
}

extern "C" uint32_t dg_host_sm90_hc_prenorm_smem_bytes(uint32_t block_n, uint32_t stages) {
    return dg::SM90HCPrenormTiling::smem(block_n, stages).total();
}

extern "C" uint32_t dg_host_sm90_batched_sum_smem_bytes(uint32_t stages) {
    return dg::SM90BatchedSumTiling::smem(stages).total();
}
