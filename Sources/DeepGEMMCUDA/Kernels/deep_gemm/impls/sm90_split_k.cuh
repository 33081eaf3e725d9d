// Work division, tilings and shared-memory layouts of the split-K SM90 kernels, as plain
// arithmetic the host tests run too.
//
// - `split_k_range`: the K blocks of one split when `num_k_blocks` blocks are dealt out to
//   `num_splits` splits (tf32_hc_prenorm_gemm's rule: `num_k_blocks / num_splits` each, one more to
//   each of the first `num_k_blocks % num_splits`).
// - `batched_sum_work`: the output tile and the run of (batch, K block) pairs one CTA of the
//   `bmk,bnk->mn` kernel reduces; the pairs of all batches form one sequence, cut into runs of
//   `split_factor`, and every CTA of a run adds its partial tile into D.
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

/// A contiguous range of K blocks.
struct KBlockRange {
    u32 first;
    u32 count;
};

DG_HOST_DEVICE constexpr KBlockRange split_k_range(u32 num_k_blocks, u32 num_splits, u32 split) {
    const u32 base = num_k_blocks / num_splits;
    const u32 extra = num_k_blocks % num_splits;
    return KBlockRange{split * base + (split < extra ? split : extra), base + (split < extra ? 1u : 0u)};
}

/// One CTA's share of the batched sum: its output tile and its (batch, K block) pairs
/// `[first, first + count)` of the sequence `batch * k_blocks_per_batch + k_block`.
struct BatchedSumWork {
    u32 m_block;
    u32 n_block;
    KBlockRange pairs;
};

/// CTAs run tiles fastest (CTA `c` has tile `c % (num_m_blocks * num_n_blocks)`, row-major over
/// the tiles) and runs of `split_factor` pairs slowest; the last run may be short.
DG_HOST_DEVICE constexpr BatchedSumWork batched_sum_work(u32 cta, u32 num_m_blocks, u32 num_n_blocks, u32 num_pairs, u32 split_factor) {
    const u32 tile = cta % (num_m_blocks * num_n_blocks);
    const u32 run = cta / (num_m_blocks * num_n_blocks);
    const u32 first = run * split_factor;
    const u32 left = num_pairs > first ? num_pairs - first : 0u;
    return BatchedSumWork{tile / num_n_blocks, tile % num_n_blocks, KBlockRange{first, left < split_factor ? left : split_factor}};
}

/// CTAs the batched sum launches: one per (tile, run).
DG_HOST_DEVICE constexpr u32 batched_sum_num_ctas(u32 num_m_blocks, u32 num_n_blocks, u32 num_pairs, u32 split_factor) {
    return num_m_blocks * num_n_blocks * ((num_pairs + split_factor - 1) / split_factor);
}

/// Shared memory of a TMA pipeline kernel: an optional output tile (rounded up to 1024 bytes so
/// the 128-byte-swizzled stages stay aligned), the A stages, the B stages, then one full and one
/// empty 8-byte mbarrier per stage.
struct SM90PipelineSmem {
    static constexpr u32 kBarrierBytes = 8;

    u32 d;
    u32 a_stage;
    u32 b_stage;
    u32 num_stages;

    DG_HOST_DEVICE constexpr SM90PipelineSmem(u32 output_bytes, u32 a_stage_bytes, u32 b_stage_bytes, u32 stages)
        : d((output_bytes + 1023u) / 1024u * 1024u), a_stage(a_stage_bytes), b_stage(b_stage_bytes), num_stages(stages) {}

    DG_HOST_DEVICE constexpr u32 a_offset() const { return d; }
    DG_HOST_DEVICE constexpr u32 b_offset() const { return a_offset() + num_stages * a_stage; }
    DG_HOST_DEVICE constexpr u32 barriers_offset() const { return b_offset() + num_stages * b_stage; }
    /// Everything the kernel addresses, in bytes.
    DG_HOST_DEVICE constexpr u32 total() const { return barriers_offset() + 2 * num_stages * kBarrierBytes; }
};

/// The fixed tiling of the tf32_hc_prenorm_gemm kernel: 64 rows (one wgmma M), 64 K per stage (one 128-byte BF16
/// row), one math warpgroup.
struct SM90HCPrenormTiling {
    static constexpr u32 BLOCK_M = 64;
    static constexpr u32 BLOCK_K = 64;
    static constexpr u32 kNumMathThreads = 128;
    /// FP32 elements of B in one 128-byte swizzle atom.
    static constexpr u32 kBAtom = 32;

    /// Shared memory for a tile of BLOCK_N columns and `stages` stages.
    DG_HOST_DEVICE static constexpr SM90PipelineSmem smem(u32 block_n, u32 stages) {
        return SM90PipelineSmem(BLOCK_M * block_n * 4, BLOCK_M * BLOCK_K * 2, block_n * BLOCK_K * 4, stages);
    }
};

/// The fixed tiling of the bmk,bnk->mn kernel (DeepGEMM's): 128 x 128 tiles, 64 K per stage, two math
/// warpgroups and one producer warpgroup.
struct SM90BatchedSumTiling {
    static constexpr u32 BLOCK_M = 128;
    static constexpr u32 BLOCK_N = 128;
    static constexpr u32 BLOCK_K = 64;
    static constexpr u32 kNumMathThreads = 256;

    /// Shared memory for `stages` stages (no output tile: D is written with atomics).
    DG_HOST_DEVICE static constexpr SM90PipelineSmem smem(u32 stages) {
        return SM90PipelineSmem(0, BLOCK_M * BLOCK_K * 2, BLOCK_N * BLOCK_K * 2, stages);
    }
};

} // namespace dg
