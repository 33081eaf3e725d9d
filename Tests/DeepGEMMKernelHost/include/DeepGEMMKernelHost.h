// Host builds of the kernels' arithmetic headers (Sources/DeepGEMMCUDA/Kernels), called by the
// DeepGEMMCUDA tests to check the tile schedulers and shared-memory layouts without a GPU.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The runtime form of `dg::sched::SM90TileShape`'s parameters.
typedef struct {
    /// `dg::GemmKind`: 0 normal, 1 m-grouped contiguous, 2 masked, 3 contiguous with a psum layout.
    uint32_t kind;
    uint32_t block_m;
    uint32_t block_n;
    uint32_t num_groups;
    uint32_t cluster_size;
    bool multicast_on_a;
    uint32_t band_width;
    uint32_t num_sms;
} dg_host_sm90_tile_shape;

/// One tile a CTA's scheduler hands out, with what the kernel asks the scheduler about it.
typedef struct {
    uint32_t cta;
    /// The CTA's iteration (all CTAs of one round run their tiles of that round concurrently).
    uint32_t round;
    uint32_t m_block;
    uint32_t n_block;
    uint32_t group;
    uint32_t band_width;
    /// `multicast_valid(m_block)`: whether this CTA takes part in a multicast of the shared operand.
    bool multicast;
    bool peer_alive;
    /// Bit i: `rows_valid(m_block, 64 * i)` (bit 0 only when BLOCK_M < 64).
    uint32_t valid_row_blocks;
} dg_host_sm90_tile;

/// Runs the scheduler of every CTA of the persistent grid (`shape.num_sms` CTAs) over a problem of
/// `shape_m` x `shape_n` (masked: Mmax per group) and writes up to `capacity` tiles, CTA by CTA.
/// Returns the number of tiles handed out (which may exceed `capacity`).
size_t dg_host_sm90_schedule(dg_host_sm90_tile_shape shape, uint32_t shape_m, uint32_t shape_n,
                             const int32_t* grouped_layout, dg_host_sm90_tile* tiles, size_t capacity);

/// `dg::SM90BF16GemmSmem(...).total()`: the shared-memory bytes the SM90 BF16 kernel addresses.
uint32_t dg_host_sm90_bf16_smem_bytes(uint32_t block_m, uint32_t block_n, uint32_t block_k, uint32_t output_bytes,
                                      uint32_t stages);

/// Inputs on which the kernels' scalar format rules (`common/scalar_formats.cuh`) differ from the
/// CPU backend's (`scalar_formats.h`): every 16-bit input of the widenings, every binary32 whose
/// E4M3 rounding is not trivial (magnitudes 2^-10 ... 2^9), and every `step`-th binary32 pattern for
/// the encoders, the UE8M0 ceiling and the group scales. 0 means bit-identical.
uint64_t dg_host_scalar_format_mismatches(uint32_t step);

#ifdef __cplusplus
}
#endif
