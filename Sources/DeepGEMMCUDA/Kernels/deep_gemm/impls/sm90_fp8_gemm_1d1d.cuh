// SM90 FP8 GEMM with 1D1D block scaling (recipe (1, 1, 128)): D += A * B^T in FP32, where A is
// E4M3 with one FP32 scale per row and 128-wide K block and B is E4M3 with one FP32 scale per
// column and 128-wide K block; D already holds C (the op copies C into D first). Both operands
// K-major. Two kinds: normal, and k-grouped contiguous (`k_grouped_fp8_gemm_nt_contiguous`): group
// g's A and B are [M, K_g] and [N, K_g] row-major blocks of their flat buffers, its scales the
// columns of [M, sum K / 128] and [N, sum K / 128] after the previous groups', its output D[g].
//
// Structure: a producer warpgroup issues TMA loads (A and B tiles, multicast across a 2-CTA
// cluster, and per stage the tile's A and B scale vectors) into a ring of stages guarded by
// full/empty mbarriers; one or two math warpgroups (64 rows each) run the stage's four m64nNk32
// E4M3 wgmmas into a scratch accumulator and add it to the FP32 result scaled per element by
// SFA[row] * SFB[column]. The epilogue writes the FP32 tile to shared memory and reduce-adds it
// into D with TMA. k-grouped problems take each group's A and B tensor maps from a table in
// global memory (one pair per group, encoded on the host), since every group has its own row
// stride; their tile order is `SM90KGroupedScheduler`'s.
#pragma once

#include <deep_gemm/impls/sm90_fp8_gemm_1d1d_smem.cuh>
#include <deep_gemm/impls/sm90_gemm_pipeline.cuh>
#include <deep_gemm/impls/sm90_gemm_tile_store.cuh>
#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>
#include <deep_gemm/ptx/wgmma.cuh>
#include <deep_gemm/scheduler/sm90_k_grouped_scheduler.cuh>
#include <deep_gemm/scheduler/sm90_tile_scheduler.cuh>

namespace dg {

/// Makes a tensor map in global memory, written before the launch, visible to the TMA unit.
DG_DEVICE void acquire_global_tensor_map(const TensorMap* map) {
    asm volatile("fence.proxy.tensormap::generic.acquire.gpu [%0], 128;" :: "l"(reinterpret_cast<u64>(map)) : "memory");
}

/// The tile schedulers of the two kinds behind one interface: `next`, `multicast_valid`,
/// `peer_alive`, and the current group's output index, K, and first scale block along K.
template <bool kKGrouped, typename Shape>
struct SM90FP8Gemm1D1DSchedule;

template <typename Shape>
struct SM90FP8Gemm1D1DSchedule<false, Shape> : sched::SM90TileScheduler<Shape> {
    u32 shape_k;
    DG_DEVICE SM90FP8Gemm1D1DSchedule(u32 cta, u32 shape_m, u32 shape_n, u32 k, const u32*)
        : sched::SM90TileScheduler<Shape>(Shape(), cta, shape_m, shape_n, nullptr), shape_k(k) {}
    DG_DEVICE u32 output_group() const { return 0; }
    DG_DEVICE u32 group_k() const { return shape_k; }
    DG_DEVICE u32 sf_k_offset() const { return 0; }
};

template <typename Shape>
struct SM90FP8Gemm1D1DSchedule<true, Shape> : sched::SM90KGroupedScheduler<Shape> {
    DG_DEVICE SM90FP8Gemm1D1DSchedule(u32 cta, u32 shape_m, u32 shape_n, u32, const u32* ks)
        : sched::SM90KGroupedScheduler<Shape>(Shape(), cta, shape_m, shape_n, ks) {}
    DG_DEVICE u32 output_group() const { return this->group; }
    DG_DEVICE u32 group_k() const { return this->shape_k; }
};

template <u32 SHAPE_M, u32 SHAPE_N, u32 SHAPE_K, u32 kNumGroups,
          u32 BLOCK_M, u32 BLOCK_N,
          u32 kNumStages, u32 kNumMathThreads,
          u32 kClusterSize, bool kMulticastOnA, u32 kBandWidth, u32 kNumSMs,
          bool kKGrouped, typename MMA>
DG_DEVICE void sm90_fp8_gemm_1d1d(const TensorMap* group_maps, const u32* group_ks,
                                  u32 shape_m, u32 shape_n, u32 shape_k,
                                  const TensorMap& map_a, const TensorMap& map_b,
                                  const TensorMap& map_sfa, const TensorMap& map_sfb, const TensorMap& map_d) {
#if defined(__CUDA_ARCH__) and __CUDA_ARCH__ >= 900
    constexpr u32 BLOCK_K = SM90FP8Gemm1D1DSmem::kBlockK;
    constexpr u32 kNumMathWarps = kNumMathThreads / 32;
    constexpr u32 WGMMA_M = 64;
    constexpr u32 WGMMA_K = 32;
    static_assert(BLOCK_M == WGMMA_M * (kNumMathThreads / 128), "one 64-row wgmma per math warpgroup");
    static_assert(MMA::N == BLOCK_N and BLOCK_N % 8 == 0, "MMA shape mismatch");
    static_assert(kKGrouped or kNumGroups == 1, "normal GEMMs have one group");

    shape_m = SHAPE_M != 0 ? SHAPE_M : shape_m;
    shape_n = SHAPE_N != 0 ? SHAPE_N : shape_n;
    shape_k = SHAPE_K != 0 ? SHAPE_K : shape_k;

    constexpr SM90FP8Gemm1D1DSmem kSmem(BLOCK_M, BLOCK_N, kNumStages);
    constexpr u32 SMEM_A = kSmem.a_stage;
    constexpr u32 SMEM_B = kSmem.b_stage;
    constexpr u32 SMEM_SFA = kSmem.sfa_stage;
    constexpr u32 SMEM_SFB = kSmem.sfb_stage;
    static_assert(SMEM_A % 1024 == 0 and SMEM_B % 1024 == 0 and kSmem.d % 1024 == 0, "stages must keep 1024-byte swizzle alignment");
    static_assert(sizeof(ptx::Barrier) == SM90FP8Gemm1D1DSmem::kBarrierBytes, "barrier size of the layout");
    extern __shared__ __align__(1024) unsigned char smem[];
    unsigned char* smem_d = smem;
    unsigned char* smem_a = smem + kSmem.a_offset();
    unsigned char* smem_b = smem + kSmem.b_offset();
    unsigned char* smem_sfa = smem + kSmem.sfa_offset();
    unsigned char* smem_sfb = smem + kSmem.sfb_offset();
    auto* full_barriers = reinterpret_cast<ptx::Barrier*>(smem + kSmem.barriers_offset());
    auto* empty_barriers = full_barriers + kNumStages;

    const u32 warp = __shfl_sync(0xffffffff, threadIdx.x / 32, 0);
    const u32 lane = ptx::lane_index();

    sm90_gemm_start<kNumMathWarps, kNumStages, kClusterSize>(warp, full_barriers, empty_barriers, &map_a, &map_b, &map_sfa, &map_sfb, &map_d);

    using Shape = sched::SM90TileShape<GemmKind::Normal, BLOCK_M, BLOCK_N, kNumGroups, kClusterSize, kMulticastOnA, kBandWidth, kNumSMs>;
    SM90FP8Gemm1D1DSchedule<kKGrouped, Shape> scheduler(blockIdx.x, shape_m, shape_n, shape_k, group_ks);
    u32 stage = 0, phase = 0;
    auto advance_stage = [&]() {
        stage = stage + 1 == kNumStages ? 0 : stage + 1;
        phase ^= stage == 0 ? 1 : 0;
    };
    u32 m_block, n_block;

    if (warp >= kNumMathWarps) {
        // Producer warpgroup: one thread issues every load
        ptx::decrease_registers<40>();
        if (warp == kNumMathWarps and ptx::elect_one()) {
            const bool cluster_leader = kClusterSize == 1 or ptx::cluster_cta_rank() == 0;
            u32 mapped_group = kNumGroups;
            const TensorMap* tile_map_a = &map_a;
            const TensorMap* tile_map_b = &map_b;
            while (scheduler.next(m_block, n_block)) {
                if constexpr (kKGrouped) {
                    if (mapped_group != scheduler.output_group()) {
                        mapped_group = scheduler.output_group();
                        tile_map_a = group_maps + 2 * mapped_group;
                        tile_map_b = tile_map_a + 1;
                        acquire_global_tensor_map(tile_map_a);
                        acquire_global_tensor_map(tile_map_b);
                    }
                }
                const bool multicast = scheduler.multicast_valid(m_block);
                const TileLoad shared_mode = multicast ? (cluster_leader ? TileLoad::Multicast : TileLoad::Skip) : TileLoad::Local;
                const TileLoad mode_a = kMulticastOnA ? shared_mode : TileLoad::Local;
                const TileLoad mode_b = kMulticastOnA ? TileLoad::Local : shared_mode;
                const u32 num_k_blocks = ceil_div(scheduler.group_k(), BLOCK_K);
                for (u32 k_block = 0; k_block < num_k_blocks; ++ k_block) {
                    empty_barriers[stage].wait(phase ^ 1);
                    ptx::Barrier* barrier = &full_barriers[stage];
                    const u32 sf_k = scheduler.sf_k_offset() + k_block;
                    load_operand_tile<Major::K, BLOCK_M, BLOCK_K, 128, 1>(
                        tile_map_a, barrier, smem_a + stage * SMEM_A, m_block * BLOCK_M, k_block * BLOCK_K, 0, mode_a);
                    load_operand_tile<Major::K, BLOCK_N, BLOCK_K, 128, 1>(
                        tile_map_b, barrier, smem_b + stage * SMEM_B, n_block * BLOCK_N, k_block * BLOCK_K, 0, mode_b);
                    // Every CTA loads its own scales: BLOCK_M row scales and BLOCK_N column scales of K block `sf_k`
                    ptx::tma_load(&map_sfa, barrier, smem_sfa + stage * SMEM_SFA, m_block * BLOCK_M, sf_k, 0);
                    ptx::tma_load(&map_sfb, barrier, smem_sfb + stage * SMEM_SFB, n_block * BLOCK_N, sf_k, 0);
                    barrier->arrive_expect_bytes(SMEM_A + SMEM_B + (BLOCK_M + BLOCK_N) * 4);
                    advance_stage();
                }
            }
        }
        __syncwarp();
    } else {
        // Math warpgroups: warpgroup w computes rows [64w, 64w + 64) of the tile
        ptx::increase_registers<232>();
        using OperandA = ptx::SmemOperand<Major::K, BLOCK_M, BLOCK_K, 128, 1>;
        using OperandB = ptx::SmemOperand<Major::K, BLOCK_N, BLOCK_K, 128, 1>;
        using TileStore = SM90TileStore<BLOCK_M, BLOCK_N, 0, kNumMathThreads, 1, BLOCK_M, MMA::kNumAccum, float, true>;
        const u32 math_warpgroup = __shfl_sync(0xffffffff, threadIdx.x / 128, 0);
        const u32 smem_a_address = ptx::shared_address(smem_a);
        const u32 smem_b_address = ptx::shared_address(smem_b);
        // This thread's two accumulator rows (r and r + 8) and its first column in each 8-column chunk
        const u32 thread_row = warp * 16 + lane / 4;
        const u32 thread_column = (lane % 4) * 2;

        while (scheduler.next(m_block, n_block)) {
            float accum[MMA::kNumAccum];
            float partial[MMA::kNumAccum];
            #pragma unroll
            for (u32 i = 0; i < MMA::kNumAccum; ++ i)
                accum[i] = 0.0f;

            const u32 num_k_blocks = ceil_div(scheduler.group_k(), BLOCK_K);
            for (u32 k_block = 0; k_block < num_k_blocks; ++ k_block) {
                full_barriers[stage].wait(phase);
                const u32 a_stage = smem_a_address + stage * SMEM_A;
                const u32 b_stage = smem_b_address + stage * SMEM_B;
                const float* sfa = reinterpret_cast<const float*>(smem_sfa + stage * SMEM_SFA);
                const float* sfb = reinterpret_cast<const float*>(smem_sfb + stage * SMEM_SFB);

                // Read the stage's scales before the stage is released
                const float scale_a_low = sfa[thread_row];
                const float scale_a_high = sfa[thread_row + 8];
                float scale_b[BLOCK_N / 8][2];
                #pragma unroll
                for (u32 j = 0; j < BLOCK_N / 8; ++ j) {
                    scale_b[j][0] = sfb[j * 8 + thread_column];
                    scale_b[j][1] = sfb[j * 8 + thread_column + 1];
                }

                #pragma unroll
                for (u32 i = 0; i < MMA::kNumAccum; ++ i)
                    ptx::fence_operand(partial[i]);
                ptx::wgmma_fence();
                #pragma unroll
                for (u32 k = 0; k < BLOCK_K; k += WGMMA_K) {
                    const u64 desc_a = OperandA::descriptor(a_stage, OperandA::offset_bytes(math_warpgroup * WGMMA_M, k));
                    const u64 desc_b = OperandB::descriptor(b_stage, OperandB::offset_bytes(0, k));
                    MMA::mma(desc_a, desc_b, partial, k == 0 ? 0u : 1u);
                }
                ptx::wgmma_commit_group();
                #pragma unroll
                for (u32 i = 0; i < MMA::kNumAccum; ++ i)
                    ptx::fence_operand(partial[i]);
                ptx::wgmma_wait_group<0>();
                release_stage<kClusterSize>(&empty_barriers[stage], lane, scheduler.peer_alive);
                advance_stage();

                // Promote: every element of the block's product scaled by its row's and its column's scale
                #pragma unroll
                for (u32 j = 0; j < BLOCK_N / 8; ++ j) {
                    accum[j * 4 + 0] += partial[j * 4 + 0] * (scale_a_low * scale_b[j][0]);
                    accum[j * 4 + 1] += partial[j * 4 + 1] * (scale_a_low * scale_b[j][1]);
                    accum[j * 4 + 2] += partial[j * 4 + 2] * (scale_a_high * scale_b[j][0]);
                    accum[j * 4 + 3] += partial[j * 4 + 3] * (scale_a_high * scale_b[j][1]);
                }
            }

            TileStore::store(accum, true, warp, lane, smem_d, &map_d, m_block, n_block, scheduler.output_group());
        }
        TileStore::drain();
    }

    // No CTA may leave while its cluster peer can still signal its barriers
    if constexpr (kClusterSize > 1)
        ptx::cluster_sync();
#endif
}

} // namespace dg
