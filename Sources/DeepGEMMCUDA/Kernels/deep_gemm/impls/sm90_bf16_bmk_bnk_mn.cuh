// SM90 batched-sum BF16 GEMM, `einsum("bmk,bnk->mn")`: D[M, N] += sum over s of A[s] * B[s]^T for
// contiguous BF16 A [S, M, K] and B [S, N, K] and a contiguous FP32 D.
//
// The (batch, K block) pairs of all batches form one sequence; each CTA takes one 128 x 128 output
// tile and one run of `kSplitFactor` consecutive pairs (see `batched_sum_work`), so the grid
// covers every tile as often as the sequence has runs. A producer warp loads the pairs' tiles of
// A and B (A viewed as [S*M, K], B as [S*N, K], 128-byte swizzle) through a ring of stages, two
// math warpgroups run 64 rows each with BF16 wgmma, and every thread adds its FP32 fragment into D
// with vector atomics (rows and columns past M and N are skipped). The order of the additions is
// not fixed, so D is not bitwise reproducible.
//
// `sm90_f32_to_bf16` is the cast a BF16 D needs after the sum went into an FP32 workspace.
#pragma once

#include <deep_gemm/impls/sm90_gemm_pipeline.cuh>
#include <deep_gemm/impls/sm90_split_k.cuh>
#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>
#include <deep_gemm/ptx/wgmma.cuh>

namespace dg {

template <u32 SHAPE_M, u32 SHAPE_N, u32 SHAPE_K, u32 kSplitFactor, u32 kNumStages, typename MMA>
DG_DEVICE void sm90_bf16_bmk_bnk_mn(u32 shape_s, const TensorMap& map_a, const TensorMap& map_b, float* d) {
#if defined(__CUDA_ARCH__) and __CUDA_ARCH__ >= 900
    using Tiling = SM90BatchedSumTiling;
    constexpr u32 BLOCK_M = Tiling::BLOCK_M;
    constexpr u32 BLOCK_N = Tiling::BLOCK_N;
    constexpr u32 BLOCK_K = Tiling::BLOCK_K;
    constexpr u32 kNumMathWarps = Tiling::kNumMathThreads / 32;
    constexpr u32 WGMMA_M = 64;
    constexpr u32 WGMMA_K = 16;
    constexpr u32 kKBlocks = SHAPE_K / BLOCK_K;
    static_assert(MMA::N == BLOCK_N and MMA::kNumAccum == BLOCK_N / 2, "MMA shape mismatch");
    static_assert(BLOCK_M == WGMMA_M * (Tiling::kNumMathThreads / 128), "one wgmma row block per math warpgroup");
    static_assert(SHAPE_M % 64 == 0 and SHAPE_N % 64 == 0 and SHAPE_K % BLOCK_K == 0 and kKBlocks > 0, "shapes of the batched sum");
    static_assert(SHAPE_N % 2 == 0, "vector atomics add column pairs");

    constexpr SM90PipelineSmem kSmem = Tiling::smem(kNumStages);
    constexpr u32 SMEM_A = kSmem.a_stage;
    constexpr u32 SMEM_B = kSmem.b_stage;
    static_assert(SMEM_A % 1024 == 0 and SMEM_B % 1024 == 0, "stages keep the 1024-byte swizzle alignment");
    static_assert(sizeof(ptx::Barrier) == SM90PipelineSmem::kBarrierBytes, "barrier size of the layout");
    extern __shared__ __align__(1024) unsigned char smem[];
    unsigned char* smem_a = smem + kSmem.a_offset();
    unsigned char* smem_b = smem + kSmem.b_offset();
    auto* full_barriers = reinterpret_cast<ptx::Barrier*>(smem + kSmem.barriers_offset());
    auto* empty_barriers = full_barriers + kNumStages;

    const u32 warp = __shfl_sync(0xffffffff, threadIdx.x / 32, 0);
    const u32 lane = ptx::lane_index();

    sm90_gemm_start<kNumMathWarps, kNumStages, 1>(warp, full_barriers, empty_barriers, &map_a, &map_b);

    constexpr u32 kNumMBlocks = (SHAPE_M + BLOCK_M - 1) / BLOCK_M;
    constexpr u32 kNumNBlocks = (SHAPE_N + BLOCK_N - 1) / BLOCK_N;
    const BatchedSumWork work = batched_sum_work(blockIdx.x, kNumMBlocks, kNumNBlocks, shape_s * kKBlocks, kSplitFactor);

    if (warp >= kNumMathWarps) {
        ptx::decrease_registers<40>();
        if (warp == kNumMathWarps and ptx::elect_one()) {
            for (u32 i = 0; i < work.pairs.count; ++ i) {
                const u32 stage = i % kNumStages;
                empty_barriers[stage].wait(((i / kNumStages) & 1) ^ 1);
                ptx::Barrier* barrier = &full_barriers[stage];
                const u32 pair = work.pairs.first + i;
                const u32 batch = pair / kKBlocks;
                const u32 k = (pair % kKBlocks) * BLOCK_K;
                // Rows past M (or N) of the last tile belong to the next batch and are loaded but never stored
                load_operand_tile<Major::K, BLOCK_M, BLOCK_K, 128>(&map_a, barrier, smem_a + stage * SMEM_A,
                                                                  batch * SHAPE_M + work.m_block * BLOCK_M, k, 0, TileLoad::Local);
                load_operand_tile<Major::K, BLOCK_N, BLOCK_K, 128>(&map_b, barrier, smem_b + stage * SMEM_B,
                                                                  batch * SHAPE_N + work.n_block * BLOCK_N, k, 0, TileLoad::Local);
                barrier->arrive_expect_bytes(SMEM_A + SMEM_B);
            }
        }
        __syncwarp();
    } else {
        ptx::increase_registers<232>();
        using OperandA = ptx::SmemOperand<Major::K, BLOCK_M, BLOCK_K, 128>;
        using OperandB = ptx::SmemOperand<Major::K, BLOCK_N, BLOCK_K, 128>;
        const u32 math_warpgroup = __shfl_sync(0xffffffff, threadIdx.x / 128, 0);
        const u32 smem_a_address = ptx::shared_address(smem_a);
        const u32 smem_b_address = ptx::shared_address(smem_b);

        float accum[MMA::kNumAccum];
        #pragma unroll
        for (u32 i = 0; i < MMA::kNumAccum; ++ i)
            accum[i] = 0.0f;

        for (u32 i = 0; i < work.pairs.count; ++ i) {
            const u32 stage = i % kNumStages;
            full_barriers[stage].wait((i / kNumStages) & 1);
            const u32 a_stage = smem_a_address + stage * SMEM_A;
            const u32 b_stage = smem_b_address + stage * SMEM_B;
            #pragma unroll
            for (u32 j = 0; j < MMA::kNumAccum; ++ j)
                ptx::fence_operand(accum[j]);
            ptx::wgmma_fence();
            #pragma unroll
            for (u32 k = 0; k < BLOCK_K; k += WGMMA_K) {
                const u64 desc_a = OperandA::descriptor(a_stage, OperandA::offset_bytes(math_warpgroup * WGMMA_M, k));
                const u64 desc_b = OperandB::descriptor(b_stage, OperandB::offset_bytes(0, k));
                MMA::mma(desc_a, desc_b, accum, 1u);
            }
            ptx::wgmma_commit_group();
            #pragma unroll
            for (u32 j = 0; j < MMA::kNumAccum; ++ j)
                ptx::fence_operand(accum[j]);
            ptx::wgmma_wait_group<0>();
            release_stage<1>(&empty_barriers[stage], lane, false);
        }

        // wgmma's fragment: chunk j holds columns 8j + 2 * (lane % 4) + {0, 1} of rows lane / 4 and lane / 4 + 8
        if (work.pairs.count > 0) {
            const u32 row = work.m_block * BLOCK_M + warp * 16 + lane / 4;
            const u32 column = work.n_block * BLOCK_N + (lane % 4) * 2;
            #pragma unroll
            for (u32 j = 0; j < MMA::kNumAccum / 4; ++ j) {
                if (column + j * 8 >= SHAPE_N)
                    break;
                if (row < SHAPE_M)
                    atomicAdd(reinterpret_cast<float2*>(d + static_cast<u64>(row) * SHAPE_N + column + j * 8),
                              make_float2(accum[j * 4 + 0], accum[j * 4 + 1]));
                if (row + 8 < SHAPE_M)
                    atomicAdd(reinterpret_cast<float2*>(d + static_cast<u64>(row + 8) * SHAPE_N + column + j * 8),
                              make_float2(accum[j * 4 + 2], accum[j * 4 + 3]));
            }
        }
    }
#endif
}

/// `out[i] = bf16(in[i])` (round to nearest even) for `count` elements, one per thread.
DG_DEVICE void sm90_f32_to_bf16(const float* in, __nv_bfloat16* out, u32 count) {
#if defined(__CUDA_ARCH__)
    const u64 i = static_cast<u64>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < count)
        out[i] = __float2bfloat16_rn(in[i]);
#endif
}

} // namespace dg
