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

/// `dg::SM90MQALogitsSmem(...).total_bytes`: the shared-memory bytes the SM90 MQA logits kernel addresses.
uint32_t dg_host_sm90_mqa_logits_smem_bytes(uint32_t num_heads, uint32_t head_dim, uint32_t block_q, uint32_t block_kv,
                                            uint32_t num_q_stages, uint32_t num_kv_stages);

/// `dg::mqa_key_span(...)` for query block `block_q_index`: writes the first key its producer loads
/// and the number of `block_kv` key blocks.
void dg_host_mqa_key_span(const uint32_t* ks, const uint32_t* ke, uint32_t block_q_index, uint32_t block_q, uint32_t seq_len,
                          uint32_t seq_len_kv, uint32_t block_kv, uint32_t* start, uint32_t* num_blocks);

/// `dg::SM90PagedMQALogitsSmem(...).total_bytes` for four KV rings.
uint32_t dg_host_sm90_paged_mqa_logits_smem_bytes(uint32_t next_n, uint32_t num_heads, uint32_t head_dim, uint32_t block_kv,
                                                  uint32_t num_q_stages, uint32_t num_kv_stages);

/// The SM90 paged schedule as the metadata kernel computes it (prefix sums, then
/// `dg::paged_schedule_row` per SM and the final row): writes `2 * (num_sms + 1)` values to `rows`.
void dg_host_sm90_paged_schedule(const uint32_t* context_lens, uint32_t batch_size, uint32_t next_n, uint32_t num_sms, uint32_t* rows);

/// One task of the paged kernel's walk: the SM, the request and the first page of its split.
typedef struct {
    uint32_t sm;
    uint32_t request;
    uint32_t page;
} dg_host_paged_task;

/// Runs `dg::PagedTaskWalk` of every SM over `schedule` (four pages per split) and writes up to
/// `capacity` tasks. Returns the number of tasks (which may exceed `capacity`).
size_t dg_host_paged_task_walk(const uint32_t* schedule, uint32_t num_sms, const uint32_t* context_lens, uint32_t next_n,
                               dg_host_paged_task* tasks, size_t capacity);
/// `dg::SM90FP8Gemm1D2DSmem(...).total(shape_k)`: the shared-memory bytes the SM90 FP8 1D2D kernel addresses.
uint32_t dg_host_sm90_fp8_1d2d_smem_bytes(uint32_t block_m, uint32_t block_n, uint32_t stages, uint32_t shape_k);

/// `dg::SM90FP8TileScaleBlocks`: the 128-column B scale blocks one FP8 1D2D tile reads.
typedef struct {
    uint32_t first_block;
    uint32_t second_block;
    /// Columns of the tile (from its first) that use `first_block`.
    uint32_t first_columns;
    /// `dg::tiles_span_two_scale_blocks(block_n)`: whether the kernel accepts this block N.
    bool kernel_accepts;
} dg_host_sm90_fp8_scale_blocks;

/// The B scale blocks of the tile at `n_block` of `block_n` columns, for an N of `shape_n`.
dg_host_sm90_fp8_scale_blocks dg_host_sm90_fp8_tile_scale_blocks(uint32_t n_block, uint32_t block_n, uint32_t shape_n);

/// `dg::head_mid_column`: the D column of a product column in `fp8_gemm_nt_skip_head_mid`'s epilogue.
uint32_t dg_host_head_mid_column(uint32_t column, uint32_t left, uint32_t mid, uint32_t right);

/// Inputs on which the kernels' scalar format rules (`common/scalar_formats.cuh`) differ from the
/// CPU backend's (`scalar_formats.h`): every 16-bit input of the widenings, every binary32 whose
/// E4M3 rounding is not trivial (magnitudes 2^-10 ... 2^9), and every `step`-th binary32 pattern for
/// the encoders, the UE8M0 ceiling and the group scales. 0 means bit-identical.
uint64_t dg_host_scalar_format_mismatches(uint32_t step);

/// `dg::split_k_range`: the K blocks `[first, first + count)` of split `split`.
typedef struct {
    uint32_t first;
    uint32_t count;
} dg_host_k_block_range;

dg_host_k_block_range dg_host_split_k_range(uint32_t num_k_blocks, uint32_t num_splits, uint32_t split);

/// `dg::batched_sum_work`: the tile and the (batch, K block) pairs of one CTA of the bmk,bnk->mn kernel.
typedef struct {
    uint32_t m_block;
    uint32_t n_block;
    dg_host_k_block_range pairs;
} dg_host_batched_sum_work;

dg_host_batched_sum_work dg_host_batched_sum_work_of(uint32_t cta, uint32_t num_m_blocks, uint32_t num_n_blocks, uint32_t num_pairs,
                                                     uint32_t split_factor);

/// `dg::batched_sum_num_ctas`: the grid of the bmk,bnk->mn kernel.
uint32_t dg_host_batched_sum_num_ctas(uint32_t num_m_blocks, uint32_t num_n_blocks, uint32_t num_pairs, uint32_t split_factor);

/// `dg::SM90HCPrenormTiling::smem(block_n, stages).total()` and
/// `dg::SM90BatchedSumTiling::smem(stages).total()`: the shared-memory bytes the kernels address.
uint32_t dg_host_sm90_hc_prenorm_smem_bytes(uint32_t block_n, uint32_t stages);
uint32_t dg_host_sm90_batched_sum_smem_bytes(uint32_t stages);

/// Both passes of a block-scaled cast (`layout/block_cast.cuh`) run on the host as the GPU runs
/// them: the scale pass as `num_scales` CTAs of `num_threads` threads whose partial amaxes are
/// combined, then one encode per output byte. `source` is `dg::CastSource` (0 F32, 1 BF16, 2 F16);
/// the geometry arguments are the kernels' (see `dg::BlockCastShape`). Writes the scales
/// [ceil(m / block_rows), sf_columns] and the data bytes (m x n, or m x n/2 packed FP4).
void dg_host_block_cast(uint32_t source, bool fp4, bool use_ue8m0, const void* x, uint32_t m, uint32_t n, uint32_t row_stride,
                        uint32_t column_stride, uint32_t block_rows, uint32_t block_columns, uint32_t sf_columns, uint32_t num_threads,
                        float* sf, uint8_t* data);

/// The `dg::SFBatches` parameters of the MN-major layout kernels.
typedef struct {
    uint32_t batches, mn, sf_k, batch_stride, mn_stride, k_stride, row_divisor;
} dg_host_sf_batches;

/// `get_mn_major_tma_aligned_tensor`'s kernel over every output element (`layout/sf_layout.cuh`):
/// writes B x SK x align(MN, 4) words.
void dg_host_mn_major_copy(const uint32_t* sf, dg_host_sf_batches shape, uint32_t* out);

/// The MN-major UE8M0 packing kernel over every output word: writes B x ceil(SK/4) x align(MN, 4)
/// words and returns the smallest element offset of a scale without UE8M0 encoding (all ones: none).
uint64_t dg_host_mn_major_pack(const uint32_t* sf, dg_host_sf_batches shape, const uint32_t* ranges, uint32_t num_ranges, uint32_t* out);

/// The k-grouped packing kernel over every output word of [packed_rows, mn]; returns as above.
uint64_t dg_host_k_grouped_pack(const uint32_t* sf, uint32_t mn, const uint32_t* rows, uint32_t packed_rows, uint32_t* out);

/// The `pack_ue8m0_to_int` kernel over `words` output words; returns as above.
uint64_t dg_host_pack_ue8m0(const uint32_t* sf, uint64_t words, uint32_t* out);

#ifdef __cplusplus
}
#endif

// The SM90 FP8 1D1D kernel's layout and k-grouped scheduler
#include "DeepGEMMKernelHost1D1D.h"
