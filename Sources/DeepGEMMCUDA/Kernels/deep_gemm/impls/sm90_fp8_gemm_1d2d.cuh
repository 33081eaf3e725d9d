// SM90 FP8 GEMM with 1D2D block scaling (recipe (1, 128, 128)): D = A * B^T in BF16, where A is
// E4M3 with one FP32 scale per row and 128-wide K block, and B is E4M3 with one FP32 scale per
// 128 x 128 block. Normal and m-grouped (contiguous with per-row group ids or a psum layout, and
// masked) problems; both operands K-major. `Columns` remaps output columns (skip_head_mid).
//
// Structure: as the BF16 kernel, a producer warpgroup issues TMA loads (A and B tiles, multicast
// across a 2-CTA cluster, and the tile's column of A scales) into a ring of stages guarded by
// full/empty mbarriers, and one or two math warpgroups consume them on a persistent tile schedule.
// Each stage is one 128-wide K block: the math warpgroups run its four m64nNk32 E4M3 wgmmas into
// a scratch accumulator, then add it, multiplied by the row's A scale and the block's B scale, to
// the FP32 result on the CUDA cores. The B scales of a tile are read from global memory once per
// tile into shared memory. The epilogue stores BF16 through a swizzled shared tile with TMA.
#pragma once

#include <deep_gemm/impls/sm90_fp8_gemm_1d2d_smem.cuh>
#include <deep_gemm/impls/sm90_gemm_pipeline.cuh>
#include <deep_gemm/impls/sm90_gemm_tile_store.cuh>
#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>
#include <deep_gemm/ptx/wgmma.cuh>
#include <deep_gemm/scheduler/sm90_tile_scheduler.cuh>

namespace dg {

template <u32 SHAPE_M, u32 SHAPE_N, u32 SHAPE_K, u32 kNumGroups,
          u32 BLOCK_M, u32 BLOCK_N, u32 kSwizzleD,
          u32 kNumStages, u32 kNumMathThreads,
          u32 kClusterSize, bool kMulticastOnA, u32 kBandWidth, u32 kNumSMs,
          GemmKind kKind, typename MMA, typename Columns = DenseColumns>
DG_DEVICE void sm90_fp8_gemm_1d2d(const float* sfb, const int* grouped_layout,
                                  u32 shape_m, u32 shape_n, u32 shape_k,
                                  u32 sfb_stride_n, u32 sfb_stride_k, u32 sfb_stride_group,
                                  const TensorMap& map_a, const TensorMap& map_b,
                                  const TensorMap& map_sfa, const TensorMap& map_d) {
#if defined(__CUDA_ARCH__) and __CUDA_ARCH__ >= 900
    constexpr u32 BLOCK_K = SM90FP8Gemm1D2DSmem::kBlockK;
    constexpr u32 kNumMathWarps = kNumMathThreads / 32;
    constexpr u32 WGMMA_M = 64;
    constexpr u32 WGMMA_K = 32;
    // Rows all math warpgroups cover in one pass; BLOCK_M below 64 leaves wgmma rows unused
    constexpr u32 WAVE_M = BLOCK_M < WGMMA_M ? BLOCK_M : WGMMA_M * (kNumMathThreads / 128);
    constexpr u32 kNumWaves = BLOCK_M / WAVE_M;
    static_assert(BLOCK_M % WAVE_M == 0, "BLOCK_M must be a whole number of waves");
    static_assert(BLOCK_M >= WGMMA_M or kNumMathThreads == 128, "one math warpgroup below 64 rows");
    static_assert(MMA::N == BLOCK_N and BLOCK_N % 16 == 0, "MMA shape mismatch");
    static_assert(kSwizzleD != 0, "BF16 output goes through a swizzled tile");
    static_assert(tiles_span_two_scale_blocks(BLOCK_N), "a tile may read at most two B scale blocks");

    shape_m = SHAPE_M != 0 ? SHAPE_M : shape_m;
    shape_n = SHAPE_N != 0 ? SHAPE_N : shape_n;
    shape_k = SHAPE_K != 0 ? SHAPE_K : shape_k;

    constexpr SM90FP8Gemm1D2DSmem kSmem(BLOCK_M, BLOCK_N, kNumStages);
    constexpr u32 SMEM_A = kSmem.a_stage;
    constexpr u32 SMEM_B = kSmem.b_stage;
    constexpr u32 SMEM_SFA = kSmem.sfa_stage;
    constexpr bool kUniformSFB = kSmem.sfb_per_k_block == 1;
    static_assert(SMEM_A % 1024 == 0 and SMEM_B % 1024 == 0, "stages must keep 1024-byte swizzle alignment");
    static_assert(sizeof(ptx::Barrier) == SM90FP8Gemm1D2DSmem::kBarrierBytes, "barrier size of the layout");
    // Below 64 rows wgmma still reads 64 rows of A; the extra rows land in later stages, never past the buffer
    static_assert(WGMMA_M * BLOCK_K <= SMEM_A + kNumStages * SMEM_B, "wgmma A reads must stay in shared memory");
    extern __shared__ __align__(1024) unsigned char smem[];
    unsigned char* smem_d = smem;
    unsigned char* smem_a = smem + kSmem.a_offset();
    unsigned char* smem_b = smem + kSmem.b_offset();
    unsigned char* smem_sfa = smem + kSmem.sfa_offset();
    auto* full_barriers = reinterpret_cast<ptx::Barrier*>(smem + kSmem.barriers_offset());
    auto* empty_barriers = full_barriers + kNumStages;
    auto* smem_sfb = reinterpret_cast<float*>(smem + kSmem.sfb_offset());

    const u32 warp = __shfl_sync(0xffffffff, threadIdx.x / 32, 0);
    const u32 lane = ptx::lane_index();

    sm90_gemm_start<kNumMathWarps, kNumStages, kClusterSize>(warp, full_barriers, empty_barriers, &map_a, &map_b, &map_sfa, &map_d);

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
                    load_operand_tile<Major::K, BLOCK_M, BLOCK_K, 128, 1>(
                        &map_a, barrier, smem_a + stage * SMEM_A, m_block * BLOCK_M, k, group_a, mode_a);
                    load_operand_tile<Major::K, BLOCK_N, BLOCK_K, 128, 1>(
                        &map_b, barrier, smem_b + stage * SMEM_B, n_block * BLOCK_N, k, group_b, mode_b);
                    // Every CTA loads its own A scales: [BLOCK_M rows] of K block `k_block`
                    ptx::tma_load(&map_sfa, barrier, smem_sfa + stage * SMEM_SFA, m_block * BLOCK_M, k_block, group_a);
                    barrier->arrive_expect_bytes(SMEM_A + SMEM_B + BLOCK_M * 4);
                    advance_stage();
                }
            }
        }
        __syncwarp();
    } else {
        // Math warpgroups
        ptx::increase_registers<kNumMathThreads == 128 ? 248 : 232>();
        using OperandA = ptx::SmemOperand<Major::K, BLOCK_M, BLOCK_K, 128, 1>;
        using OperandB = ptx::SmemOperand<Major::K, BLOCK_N, BLOCK_K, 128, 1>;
        using TileStore = SM90TileStore<BLOCK_M, BLOCK_N, kSwizzleD, kNumMathThreads, kNumWaves, WAVE_M, MMA::kNumAccum, __nv_bfloat16, false, Columns>;
        const u32 math_warpgroup = __shfl_sync(0xffffffff, threadIdx.x / 128, 0);
        const u32 smem_a_address = ptx::shared_address(smem_a);
        const u32 smem_b_address = ptx::shared_address(smem_b);
        const bool stores_rows = BLOCK_M >= WGMMA_M or warp * 16 < BLOCK_M;
        // This thread's two accumulator rows of a wave, relative to the wave's first row
        const u32 thread_row = warp * 16 + lane / 4;

        while (scheduler.next(m_block, n_block)) {
            // The tile's B scales for every K block: [first block | second block] when they differ
            const SM90FP8TileScaleBlocks scale_blocks(n_block, BLOCK_N, shape_n);
            const float* sfb_group = sfb + static_cast<u64>(kKind == GemmKind::Normal ? 0 : scheduler.group) * sfb_stride_group;
            for (u32 i = threadIdx.x; i < num_k_blocks * kSmem.sfb_per_k_block; i += kNumMathThreads) {
                const u32 block = i < num_k_blocks ? scale_blocks.first_block : scale_blocks.second_block;
                const u32 k_block = i < num_k_blocks ? i : i - num_k_blocks;
                smem_sfb[i] = __ldg(sfb_group + static_cast<u64>(block) * sfb_stride_n + static_cast<u64>(k_block) * sfb_stride_k);
            }
            ptx::named_barrier_sync(2, kNumMathThreads);

            float accum[kNumWaves * MMA::kNumAccum];
            float partial[MMA::kNumAccum];
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
                const float* sfa = reinterpret_cast<const float*>(smem_sfa + stage * SMEM_SFA);
                const float scale_b_first = smem_sfb[k_block];
                const float scale_b_second = kUniformSFB ? scale_b_first : smem_sfb[num_k_blocks + k_block];

                // Read the stage's A scales before the stage is released (rows past BLOCK_M do not exist)
                float scale_a[kNumWaves][2];
                #pragma unroll
                for (u32 wave = 0; wave < kNumWaves; ++ wave) {
                    const u32 row = wave * WAVE_M + thread_row;
                    scale_a[wave][0] = row < BLOCK_M ? sfa[row] : 0.0f;
                    scale_a[wave][1] = row + 8 < BLOCK_M ? sfa[row + 8] : 0.0f;
                }

                #pragma unroll
                for (u32 wave = 0; wave < kNumWaves; ++ wave) {
                    if (not wave_valid[wave])
                        continue;
                    const u32 row = wave * WAVE_M + math_warpgroup * WGMMA_M;
                    #pragma unroll
                    for (u32 i = 0; i < MMA::kNumAccum; ++ i)
                        ptx::fence_operand(partial[i]);
                    ptx::wgmma_fence();
                    #pragma unroll
                    for (u32 k = 0; k < BLOCK_K; k += WGMMA_K) {
                        const u64 desc_a = OperandA::descriptor(a_stage, OperandA::offset_bytes(row, k));
                        const u64 desc_b = OperandB::descriptor(b_stage, OperandB::offset_bytes(0, k));
                        MMA::mma(desc_a, desc_b, partial, k == 0 ? 0u : 1u);
                    }
                    ptx::wgmma_commit_group();
                    #pragma unroll
                    for (u32 i = 0; i < MMA::kNumAccum; ++ i)
                        ptx::fence_operand(partial[i]);
                    ptx::wgmma_wait_group<0>();

                    // Promote: the block's product, scaled per row and per 128-column block, into FP32
                    float* values = accum + wave * MMA::kNumAccum;
                    #pragma unroll
                    for (u32 j = 0; j < BLOCK_N / 8; ++ j) {
                        const float scale_b = kUniformSFB or j * 8 < scale_blocks.first_columns ? scale_b_first : scale_b_second;
                        const float scale_low = scale_a[wave][0] * scale_b;
                        const float scale_high = scale_a[wave][1] * scale_b;
                        values[j * 4 + 0] += partial[j * 4 + 0] * scale_low;
                        values[j * 4 + 1] += partial[j * 4 + 1] * scale_low;
                        values[j * 4 + 2] += partial[j * 4 + 2] * scale_high;
                        values[j * 4 + 3] += partial[j * 4 + 3] * scale_high;
                    }
                }

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
