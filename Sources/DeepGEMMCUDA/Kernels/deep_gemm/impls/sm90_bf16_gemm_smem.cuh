// Shared-memory layout of the SM90 BF16 GEMM: the output tile, then the A stages, the B stages,
// and the full and empty barriers (one 8-byte mbarrier each per stage). The kernel places its
// buffers with it, and the host tests check that the size the heuristics launch with covers it.
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

struct SM90BF16GemmSmem {
    /// Bytes of one mbarrier.
    static constexpr u32 kBarrierBytes = 8;

    /// Output tile bytes, rounded up to 1024 so the stages keep the 128-byte swizzle's alignment.
    u32 d;
    /// Bytes of one A stage and one B stage (BF16 operands).
    u32 a_stage;
    u32 b_stage;
    u32 num_stages;

    DG_HOST_DEVICE constexpr SM90BF16GemmSmem(u32 block_m, u32 block_n, u32 block_k, u32 output_bytes, u32 stages)
        : d(ceil_div(block_m * block_n * output_bytes, 1024u) * 1024u), a_stage(block_m * block_k * 2),
          b_stage(block_n * block_k * 2), num_stages(stages) {}

    DG_HOST_DEVICE constexpr u32 a_offset() const { return d; }
    DG_HOST_DEVICE constexpr u32 b_offset() const { return a_offset() + num_stages * a_stage; }
    DG_HOST_DEVICE constexpr u32 barriers_offset() const { return b_offset() + num_stages * b_stage; }
    /// Everything the kernel addresses, in bytes.
    DG_HOST_DEVICE constexpr u32 total() const { return barriers_offset() + 2 * num_stages * kBarrierBytes; }
};

} // namespace dg
