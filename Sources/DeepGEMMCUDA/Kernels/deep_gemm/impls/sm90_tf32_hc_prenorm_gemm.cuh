// SM90 TF32 HyperConnection pre-norm GEMM: D = A * B^T for BF16 A [M, K] and FP32 B [N, K] with
// N <= 32, plus the per-row sums of squares of A, with K split into `kNumSplits` partial results.
//
// One CTA per (64-row block, split). A producer warp streams the split's K blocks of A (one
// 128-byte-swizzled [64, 64] BF16 box) and B (two [BLOCK_N, 32] FP32 boxes, one per 128-byte
// atom; TMA rounds B to TF32 when its map has the TFLOAT32 type) through a ring of stages. The
// math warpgroup widens its A fragment to FP32 in registers (exact in TF32), adds the squares to
// two per-thread row sums, and issues register-A m64nNk8 TF32 wgmma against B in shared memory.
// The epilogue writes the square sums directly and stores the FP32 tile of split s into D[s]
// with TMA (columns and rows past N and M are dropped by the store).
#pragma once

#include <deep_gemm/impls/sm90_gemm_pipeline.cuh>
#include <deep_gemm/impls/sm90_gemm_tile_store.cuh>
#include <deep_gemm/impls/sm90_split_k.cuh>
#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>
#include <deep_gemm/ptx/wgmma.cuh>

namespace dg {

template <u32 SHAPE_K, u32 BLOCK_N, u32 kNumSplits, u32 kNumStages, typename MMA>
DG_DEVICE void sm90_tf32_hc_prenorm_gemm(u32 shape_m, const TensorMap& map_a, const TensorMap& map_b, const TensorMap& map_d,
                                         float* sqr_sum) {
#if defined(__CUDA_ARCH__) and __CUDA_ARCH__ >= 900
    using Tiling = SM90HCPrenormTiling;
    constexpr u32 BLOCK_M = Tiling::BLOCK_M;
    constexpr u32 BLOCK_K = Tiling::BLOCK_K;
    constexpr u32 kNumMathWarps = Tiling::kNumMathThreads / 32;
    constexpr u32 WGMMA_K = 8;
    constexpr u32 kNumChunks = BLOCK_K / WGMMA_K;
    static_assert(MMA::N == BLOCK_N and MMA::kNumAccum == BLOCK_N / 2, "MMA shape mismatch");
    static_assert(BLOCK_N % 16 == 0 and BLOCK_N <= 32, "SM90 HC prenorm tiles are 16 or 32 columns");
    static_assert(SHAPE_K % BLOCK_K == 0 and kNumSplits >= 1, "K is whole 64-wide blocks");

    constexpr SM90PipelineSmem kSmem = Tiling::smem(BLOCK_N, kNumStages);
    constexpr u32 SMEM_A = kSmem.a_stage;
    constexpr u32 SMEM_B = kSmem.b_stage;
    static_assert(SMEM_A % 1024 == 0 and SMEM_B % 1024 == 0 and kSmem.d % 1024 == 0, "stages keep the 1024-byte swizzle alignment");
    static_assert(sizeof(ptx::Barrier) == SM90PipelineSmem::kBarrierBytes, "barrier size of the layout");
    extern __shared__ __align__(1024) unsigned char smem[];
    unsigned char* smem_d = smem;
    unsigned char* smem_a = smem + kSmem.a_offset();
    unsigned char* smem_b = smem + kSmem.b_offset();
    auto* full_barriers = reinterpret_cast<ptx::Barrier*>(smem + kSmem.barriers_offset());
    auto* empty_barriers = full_barriers + kNumStages;

    const u32 warp = __shfl_sync(0xffffffff, threadIdx.x / 32, 0);
    const u32 lane = ptx::lane_index();

    sm90_gemm_start<kNumMathWarps, kNumStages, 1>(warp, full_barriers, empty_barriers, &map_a, &map_b, &map_d);

    const u32 m_block = blockIdx.x / kNumSplits;
    const u32 split = blockIdx.x % kNumSplits;
    const KBlockRange range = split_k_range(SHAPE_K / BLOCK_K, kNumSplits, split);

    if (warp >= kNumMathWarps) {
        ptx::decrease_registers<40>();
        if (warp == kNumMathWarps and ptx::elect_one()) {
            for (u32 i = 0; i < range.count; ++ i) {
                const u32 stage = i % kNumStages;
                empty_barriers[stage].wait(((i / kNumStages) & 1) ^ 1);
                ptx::Barrier* barrier = &full_barriers[stage];
                const u32 k = (range.first + i) * BLOCK_K;
                ptx::tma_load(&map_a, barrier, smem_a + stage * SMEM_A, k, m_block * BLOCK_M, 0);
                #pragma unroll
                for (u32 atom = 0; atom < BLOCK_K / Tiling::kBAtom; ++ atom)
                    ptx::tma_load(&map_b, barrier, smem_b + stage * SMEM_B + atom * BLOCK_N * 128, k + atom * Tiling::kBAtom, 0, 0);
                barrier->arrive_expect_bytes(SMEM_A + SMEM_B);
            }
        }
        __syncwarp();
    } else {
        ptx::increase_registers<248>();
        using OperandB = ptx::SmemOperand<Major::K, BLOCK_N, Tiling::kBAtom, 128, 4>;
        const u32 smem_b_address = ptx::shared_address(smem_b);
        // wgmma's A fragment (m64k8, 32-bit): rows `row` and `row + 8`, columns lane % 4 and lane % 4 + 4
        const u32 row = warp * 16 + lane / 4;
        const u32 column = lane % 4;

        float accum[MMA::kNumAccum];
        #pragma unroll
        for (u32 i = 0; i < MMA::kNumAccum; ++ i)
            accum[i] = 0.0f;
        float sum_upper = 0.0f, sum_lower = 0.0f;

        for (u32 i = 0; i < range.count; ++ i) {
            const u32 stage = i % kNumStages;
            full_barriers[stage].wait((i / kNumStages) & 1);

            // A fragment of every k8 chunk; chunk c of a row sits in 16-byte slot c ^ (row % 8) of the swizzled row
            const auto* tile = reinterpret_cast<const __nv_bfloat16*>(smem_a + stage * SMEM_A);
            float a[kNumChunks * 4];
            #pragma unroll
            for (u32 c = 0; c < kNumChunks; ++ c) {
                const u32 slot = (c ^ (row % 8)) * 8;
                const __nv_bfloat16* upper = tile + row * BLOCK_K + slot;
                const __nv_bfloat16* lower = tile + (row + 8) * BLOCK_K + slot;
                a[c * 4 + 0] = __bfloat162float(upper[column]);
                a[c * 4 + 1] = __bfloat162float(lower[column]);
                a[c * 4 + 2] = __bfloat162float(upper[column + 4]);
                a[c * 4 + 3] = __bfloat162float(lower[column + 4]);
                sum_upper += a[c * 4 + 0] * a[c * 4 + 0] + a[c * 4 + 2] * a[c * 4 + 2];
                sum_lower += a[c * 4 + 1] * a[c * 4 + 1] + a[c * 4 + 3] * a[c * 4 + 3];
            }

            const u32 b_stage = smem_b_address + stage * SMEM_B;
            #pragma unroll
            for (u32 j = 0; j < MMA::kNumAccum; ++ j)
                ptx::fence_operand(accum[j]);
            ptx::wgmma_fence();
            #pragma unroll
            for (u32 c = 0; c < kNumChunks; ++ c) {
                const u32 atom = c / (Tiling::kBAtom / WGMMA_K);
                const u32 k = (c % (Tiling::kBAtom / WGMMA_K)) * WGMMA_K;
                const u64 desc_b = OperandB::descriptor(b_stage + atom * BLOCK_N * 128, OperandB::offset_bytes(0, k));
                MMA::mma(a + c * 4, desc_b, accum, 1u);
            }
            ptx::wgmma_commit_group();
            #pragma unroll
            for (u32 j = 0; j < MMA::kNumAccum; ++ j)
                ptx::fence_operand(accum[j]);
            ptx::wgmma_wait_group<0>();
            release_stage<1>(&empty_barriers[stage], lane, false);
        }

        // The four lanes of a row hold its partial sums
        #pragma unroll
        for (u32 offset = 1; offset < 4; offset *= 2) {
            sum_upper += __shfl_xor_sync(0xffffffff, sum_upper, offset);
            sum_lower += __shfl_xor_sync(0xffffffff, sum_lower, offset);
        }
        const u32 m = m_block * BLOCK_M + row;
        if (column == 0) {
            if (m < shape_m)
                sqr_sum[split * shape_m + m] = sum_upper;
            if (m + 8 < shape_m)
                sqr_sum[split * shape_m + m + 8] = sum_lower;
        }

        using TileStore = SM90TileStore<BLOCK_M, BLOCK_N, 0, Tiling::kNumMathThreads, 1, BLOCK_M, MMA::kNumAccum, float, false>;
        TileStore::store(accum, true, warp, lane, smem_d, &map_d, m_block, 0, split);
        TileStore::drain();
    }
#endif
}

} // namespace dg
