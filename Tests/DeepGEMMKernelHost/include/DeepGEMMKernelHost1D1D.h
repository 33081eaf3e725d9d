// Host builds of the SM90 FP8 1D1D kernel's arithmetic headers: its shared-memory layout and the
// k-grouped tile scheduler (see DeepGEMMKernelHost.h).
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "DeepGEMMKernelHost.h"

#ifdef __cplusplus
extern "C" {
#endif

/// One tile a CTA's k-grouped scheduler hands out, with the group's K placement.
typedef struct {
    uint32_t cta;
    uint32_t round;
    uint32_t group;
    uint32_t m_block;
    uint32_t n_block;
    /// The group's first K (elements), its K, and its first 128-wide scale block.
    uint32_t k_offset;
    uint32_t shape_k;
    uint32_t sf_k_offset;
    bool multicast;
    bool peer_alive;
} dg_host_sm90_k_grouped_tile;

/// Runs `dg::sched::SM90KGroupedScheduler` of every CTA of the persistent grid (`shape.num_sms` CTAs,
/// `shape.num_groups` groups of K `ks`; `shape.kind` is ignored) over [M, N] = `shape_m` x `shape_n`
/// and writes up to `capacity` tiles, CTA by CTA. Returns the number of tiles handed out.
size_t dg_host_sm90_k_grouped_schedule(dg_host_sm90_tile_shape shape, uint32_t shape_m, uint32_t shape_n, const uint32_t* ks,
                                       dg_host_sm90_k_grouped_tile* tiles, size_t capacity);

/// `dg::SM90FP8Gemm1D1DSmem(...).total()`: the shared-memory bytes the SM90 FP8 1D1D kernel addresses.
uint32_t dg_host_sm90_fp8_1d1d_smem_bytes(uint32_t block_m, uint32_t block_n, uint32_t stages);

#ifdef __cplusplus
}
#endif
