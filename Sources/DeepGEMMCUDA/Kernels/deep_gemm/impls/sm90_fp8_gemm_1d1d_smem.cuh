// Shared-memory layout of the SM90 FP8 1D1D GEMM: the FP32 output tile, the A stages, the B
// stages, the per-token A scale stages, the per-channel B scale stages, and the full and empty
// barriers. The kernel places its buffers with it, and the host tests check that the size the
// heuristics launch with covers it.
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

struct SM90FP8Gemm1D1DSmem {
    /// Bytes of one mbarrier.
    static constexpr u32 kBarrierBytes = 8;
    /// K per stage (128 FP8 bytes: one 128-byte swizzle atom), also the scale block along K.
    static constexpr u32 kBlockK = 128;

    /// FP32 output tile bytes, rounded up to 1024 so the stages keep the 128-byte swizzle's alignment.
    u32 d;
    /// Bytes of one A stage and one B stage (FP8 operands).
    u32 a_stage;
    u32 b_stage;
    /// Bytes of one A scale stage (BLOCK_M floats) and one B scale stage (BLOCK_N floats), each
    /// 128-byte aligned for TMA.
    u32 sfa_stage;
    u32 sfb_stage;
    u32 num_stages;

    DG_HOST_DEVICE constexpr SM90FP8Gemm1D1DSmem(u32 block_m, u32 block_n, u32 stages)
        : d(ceil_div(block_m * block_n * 4u, 1024u) * 1024u), a_stage(block_m * kBlockK), b_stage(block_n * kBlockK),
          sfa_stage(ceil_div(block_m * 4u, 128u) * 128u), sfb_stage(ceil_div(block_n * 4u, 128u) * 128u), num_stages(stages) {}

    DG_HOST_DEVICE constexpr u32 a_offset() const { return d; }
    DG_HOST_DEVICE constexpr u32 b_offset() const { return a_offset() + num_stages * a_stage; }
    DG_HOST_DEVICE constexpr u32 sfa_offset() const { return b_offset() + num_stages * b_stage; }
    DG_HOST_DEVICE constexpr u32 sfb_offset() const { return sfa_offset() + num_stages * sfa_stage; }
    DG_HOST_DEVICE constexpr u32 barriers_offset() const { return sfb_offset() + num_stages * sfb_stage; }
    /// Everything the kernel addresses, in bytes.
    DG_HOST_DEVICE constexpr u32 total() const { return barriers_offset() + 2 * num_stages * kBarrierBytes; }
};

} // namespace dg
