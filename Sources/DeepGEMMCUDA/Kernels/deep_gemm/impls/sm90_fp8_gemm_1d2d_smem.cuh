// Shared-memory layout of the SM90 FP8 1D2D GEMM: the BF16 output tile, the A stages, the B
// stages, the per-token A scale stages, the full and empty barriers, and last the tile's B scales
// for every K block (one or two 128-column scale blocks, so its size depends on K). The kernel
// places its buffers with it, and the host tests check that the heuristics' size covers it.
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

struct SM90FP8Gemm1D2DSmem {
    /// Bytes of one mbarrier.
    static constexpr u32 kBarrierBytes = 8;
    /// K per stage (128 FP8 bytes: one 128-byte swizzle atom), also the B scale block size.
    static constexpr u32 kBlockK = 128;

    /// BF16 output tile bytes, rounded up to 1024 so the stages keep the 128-byte swizzle's alignment.
    u32 d;
    /// Bytes of one A stage, one B stage and one A scale stage (BLOCK_M floats, 128-byte aligned).
    u32 a_stage;
    u32 b_stage;
    u32 sfa_stage;
    u32 num_stages;
    /// B scale floats per K block: 1 when a tile never straddles two 128-column scale blocks, else 2.
    u32 sfb_per_k_block;

    DG_HOST_DEVICE constexpr SM90FP8Gemm1D2DSmem(u32 block_m, u32 block_n, u32 stages)
        : d(ceil_div(block_m * block_n * 2u, 1024u) * 1024u), a_stage(block_m * kBlockK), b_stage(block_n * kBlockK),
          sfa_stage(ceil_div(block_m * 4u, 128u) * 128u), num_stages(stages), sfb_per_k_block(kBlockK % block_n == 0 ? 1u : 2u) {}

    DG_HOST_DEVICE constexpr u32 a_offset() const { return d; }
    DG_HOST_DEVICE constexpr u32 b_offset() const { return a_offset() + num_stages * a_stage; }
    DG_HOST_DEVICE constexpr u32 sfa_offset() const { return b_offset() + num_stages * b_stage; }
    DG_HOST_DEVICE constexpr u32 barriers_offset() const { return sfa_offset() + num_stages * sfa_stage; }
    DG_HOST_DEVICE constexpr u32 sfb_offset() const { return barriers_offset() + 2 * num_stages * kBarrierBytes; }
    /// Everything the kernel addresses for a K of `shape_k`, in bytes.
    DG_HOST_DEVICE constexpr u32 total(u32 shape_k) const {
        return sfb_offset() + ceil_div(shape_k, kBlockK) * sfb_per_k_block * 4u;
    }
};

/// Whether every tile of `block_n` columns lies in at most two 128-column B scale blocks: its first
/// block covers at least gcd(block_n, 128) columns, so the rest must fit in one more block.
DG_HOST_DEVICE constexpr bool tiles_span_two_scale_blocks(u32 block_n) {
    u32 a = block_n, b = SM90FP8Gemm1D2DSmem::kBlockK;
    while (b != 0) {
        const u32 r = a % b;
        a = b;
        b = r;
    }
    return block_n <= SM90FP8Gemm1D2DSmem::kBlockK + a;
}

/// Which 128-column B scale blocks a tile of `block_n` columns at `n_block` reads: the first
/// (`first_block`), the last one that exists for an N of `shape_n` (`second_block`, equal to the
/// first when the tile stays inside one), and how many of the tile's columns use the first
/// (`first_columns`, a multiple of 8 when `block_n` is a multiple of 16, so no 8-column MMA
/// fragment straddles the boundary).
struct SM90FP8TileScaleBlocks {
    u32 first_block;
    u32 second_block;
    u32 first_columns;

    DG_HOST_DEVICE constexpr SM90FP8TileScaleBlocks(u32 n_block, u32 block_n, u32 shape_n)
        : first_block(n_block * block_n / SM90FP8Gemm1D2DSmem::kBlockK),
          second_block(min_of(first_block + 1, ceil_div(shape_n, SM90FP8Gemm1D2DSmem::kBlockK) - 1)),
          first_columns(min_of(block_n, (first_block + 1) * SM90FP8Gemm1D2DSmem::kBlockK - n_block * block_n)) {}
};

} // namespace dg
