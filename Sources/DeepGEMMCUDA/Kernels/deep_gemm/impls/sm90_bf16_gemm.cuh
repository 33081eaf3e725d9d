// SM90 BF16 GEMM, D (+)= A * B^T with FP32 accumulation, for normal and m-grouped (contiguous, with
// per-row group ids or a psum layout, and masked) problems.
//
// Structure: one producer warpgroup (a single elected thread issues TMA loads of A and B tiles into
// a ring of `kNumStages` shared-memory stages, guarded by full/empty mbarriers) and one or two
// consumer warpgroups that issue wgmma on each stage and release it. With a cluster of two CTAs one
// operand tile is multicast to both. The grid is persistent: each CTA walks tiles given by the
// scheduler. The epilogue converts the accumulators, writes them to a (swizzled) shared tile and
// stores (or reduce-adds) it with TMA.
#pragma once

#include <deep_gemm/impls/sm90_bf16_gemm_smem.cuh>
#include <deep_gemm/impls/sm90_gemm_pipeline.cuh>
#include <deep_gemm/impls/sm90_gemm_tile_store.cuh>
#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>
#include <deep_gemm/ptx/wgmma.cuh>
#include <deep_gemm/scheduler/sm90_tile_scheduler.cuh>

namespace dg {

template <Major kMajorA, Major kMajorB,
          u32 SHAPE_M, u32 SHAPE_N, u32 SHAPE_K, u32 kNumGroups,
          u32 BLOCK_M, u32 BLOCK_N, u32 BLOCK_K,
          u32 kSwizzleA, u32 kSwizzleB, u32 kSwizzleD,
          u32 kNumStages, u32 kNumMathThreads,
          u32 kClusterSize, bool kMulticastOnA, u32 kBandWidth, u32 kNumSMs,
          GemmKind kKind, bool kAccumulate, typename OutT, typename MMA>
DG_DEVICE void sm90_bf16_gemm(const int* grouped_layout, u32 shape_m, u32 shape_n, u32 shape_k,
                              const TensorMap& map_a, const TensorMap& map_b, const TensorMap& map_d) {
#if defined(__CUDA_ARCH__) and __CUDA_ARCH__ >= 900
    constexpr u32 kNumMathWarps = kNumMathThreads / 32;
    constexpr u32 WGMMA_M = 64;
    constexpr u32 WGMMA_K = 16;
    // Rows all math warpgroups cover in one pass; BLOCK_M below 64 leaves wgmma rows unused
    constexpr u32 WAVE_M = BLOCK_M < WGMMA_M ? BLOCK_M : WGMMA_M * (kNumMathThreads / 128);
    constexpr u32 kNumWaves = BLOCK_M / WAVE_M;
    static_assert(BLOCK_M % WAVE_M == 0, "BLOCK_M must be a whole number of waves");
    static_assert(BLOCK_M >= WGMMA_M or kNumMathThreads == 128, "one math warpgroup below 64 rows");
    static_assert(MMA::N == BLOCK_N and BLOCK_K % WGMMA_K == 0, "MMA shape mismatch");
    static_assert(kKind == GemmKind::Normal or not kAccumulate, "grouped GEMMs do not accumulate");

    shape_m = SHAPE_M != 0 ? SHAPE_M : shape_m;
    shape_n = SHAPE_N != 0 ? SHAPE_N : shape_n;
    shape_k = SHAPE_K != 0 ? SHAPE_K : shape_k;

    // Shared memory: output tile, A stages, B stages, full barriers, empty barriers
    constexpr SM90BF16GemmSmem kSmem(BLOCK_M, BLOCK_N, BLOCK_K, static_cast<u32>(sizeof(OutT)), kNumStages);
    constexpr u32 SMEM_A = kSmem.a_stage;
    constexpr u32 SMEM_B = kSmem.b_stage;
    static_assert(SMEM_A % 1024 == 0 and SMEM_B % 1024 == 0, "stages must keep 1024-byte swizzle alignment");
    static_assert(sizeof(ptx::Barrier) == SM90BF16GemmSmem::kBarrierBytes, "barrier size of the layout");
    // Below 64 rows wgmma still reads 64 rows of A; the extra rows land in later stages, never past the buffer
    static_assert(WGMMA_M * BLOCK_K * 2 <= SMEM_A + kNumStages * SMEM_B, "wgmma A reads must stay in shared memory");
    extern __shared__ __align__(1024) unsigned char smem[];
    unsigned char* smem_d = smem;
    unsigned char* smem_a = smem + kSmem.a_offset();
    unsigned char* smem_b = smem + kSmem.b_offset();
    auto* full_barriers = reinterpret_cast<ptx::Barrier*>(smem + kSmem.barriers_offset());
    auto* empty_barriers = full_barriers + kNumStages;

    const u32 warp = __shfl_sync(0xffffffff, threadIdx.x / 32, 0);
    const u32 lane = ptx::lane_index();

    sm90_gemm_start<kNumMathWarps, kNumStages, kClusterSize>(warp, full_barriers, empty_barriers, &map_a, &map_b, &map_d);

    using Shape = sched::SM90TileShape<kKind, BLOCK_M, BLOCK_N, kNumGroups, kClusterSize, kMulticastOnA, kBandWidth, kNumSMs>;
    sched::SM90TileScheduler<Shape> scheduler(Shape(), blockIdx.x, shape_m, shape_n, grouped_layout);
    const u32 num_k_blocks = ceil_div(shape_k, BLOCK_K);
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
            while (scheduler.next(m_block, n_block)) {
                const bool multicast = scheduler.multicast_valid(m_block);
                const TileLoad shared_mode = multicast ? (cluster_leader ? TileLoad::Multicast : TileLoad::Skip) : TileLoad::Local;
                const TileLoad mode_a = kMulticastOnA ? shared_mode : TileLoad::Local;
                const TileLoad mode_b = kMulticastOnA ? TileLoad::Local : shared_mode;
                const u32 group_a = kKind == GemmKind::MGroupedMasked ? scheduler.group : 0;
                const u32 group_b = kKind == GemmKind::Normal ? 0 : scheduler.group;
                for (u32 k_block = 0; k_block < num_k_blocks; ++ k_block) {
                    empty_barriers[stage].wait(phase ^ 1);
                    ptx::Barrier* barrier = &full_barriers[stage];
                    const u32 k = k_block * BLOCK_K;
                    load_operand_tile<kMajorA, BLOCK_M, BLOCK_K, kSwizzleA>(
                        &map_a, barrier, smem_a + stage * SMEM_A, m_block * BLOCK_M, k, group_a, mode_a);
                    load_operand_tile<kMajorB, BLOCK_N, BLOCK_K, kSwizzleB>(
                        &map_b, barrier, smem_b + stage * SMEM_B, n_block * BLOCK_N, k, group_b, mode_b);
                    barrier->arrive_expect_bytes(SMEM_A + SMEM_B);
                    advance_stage();
                }
            }
        }
        __syncwarp();
    } else {
        // Math warpgroups
        ptx::increase_registers<kNumMathThreads == 128 ? 248 : 232>();
        using OperandA = ptx::SmemOperand<kMajorA, BLOCK_M, BLOCK_K, kSwizzleA>;
        using OperandB = ptx::SmemOperand<kMajorB, BLOCK_N, BLOCK_K, kSwizzleB>;
        const u32 math_warpgroup = __shfl_sync(0xffffffff, threadIdx.x / 128, 0);
        const u32 smem_a_address = ptx::shared_address(smem_a);
        const u32 smem_b_address = ptx::shared_address(smem_b);

        using TileStore = SM90TileStore<BLOCK_M, BLOCK_N, kSwizzleD, kNumMathThreads, kNumWaves, WAVE_M, MMA::kNumAccum, OutT, kAccumulate>;
        const bool stores_rows = BLOCK_M >= WGMMA_M or warp * 16 < BLOCK_M;

        while (scheduler.next(m_block, n_block)) {
            float accum[kNumWaves * MMA::kNumAccum];
            bool wave_valid[kNumWaves];
            #pragma unroll
            for (u32 wave = 0; wave < kNumWaves; ++ wave)
                wave_valid[wave] = scheduler.rows_valid(m_block, wave * WAVE_M + math_warpgroup * WGMMA_M);
            #pragma unroll
            for (u32 i = 0; i < kNumWaves * MMA::kNumAccum; ++ i)
                accum[i] = 0.0f;

            for (u32 k_block = 0; k_block < num_k_blocks; ++ k_block) {
                full_barriers[stage].wait(phase);
                const u32 a_stage = smem_a_address + stage * SMEM_A;
                const u32 b_stage = smem_b_address + stage * SMEM_B;

                #pragma unroll
                for (u32 i = 0; i < kNumWaves * MMA::kNumAccum; ++ i)
                    ptx::fence_operand(accum[i]);
                ptx::wgmma_fence();
                #pragma unroll
                for (u32 wave = 0; wave < kNumWaves; ++ wave) {
                    if (not wave_valid[wave])
                        continue;
                    const u32 row = wave * WAVE_M + math_warpgroup * WGMMA_M;
                    #pragma unroll
                    for (u32 k = 0; k < BLOCK_K; k += WGMMA_K) {
                        const u64 desc_a = OperandA::descriptor(a_stage, OperandA::offset_bytes(row, k));
                        const u64 desc_b = OperandB::descriptor(b_stage, OperandB::offset_bytes(0, k));
                        MMA::mma(desc_a, desc_b, accum + wave * MMA::kNumAccum, 1u);
                    }
                }
                ptx::wgmma_commit_group();
                #pragma unroll
                for (u32 i = 0; i < kNumWaves * MMA::kNumAccum; ++ i)
                    ptx::fence_operand(accum[i]);
                ptx::wgmma_wait_group<0>();

                // Release the stage to the producers of every CTA that wrote into it
                release_stage<kClusterSize>(&empty_barriers[stage], lane, scheduler.peer_alive);
                advance_stage();
            }

            TileStore::store(accum, stores_rows, warp, lane, smem_d, &map_d, m_block, n_block,
                             kKind == GemmKind::MGroupedMasked ? scheduler.group : 0);
        }
        TileStore::drain();
    }

    // No CTA may leave while its cluster peer can still signal its barriers
    if constexpr (kClusterSize > 1)
        ptx::cluster_sync();
#endif
}

} // namespace dg
