// The CPU GEMM engine: D (+)= A·Bᵀ with block-scaled FP8/FP4/BF16/F32 operands.
//
// A call is planned once (dg_gemm_plan_init), given a workspace (dg_gemm_plan_bind), then run in
// DG_GEMM_PHASES phases; in each phase every worker calls dg_gemm_plan_work and takes tasks from a
// shared counter until none are left, and a phase starts only after the previous one finished.
#pragma once
#include <stdint.h>

/// Phases of a planned GEMM: pack A, pack B (empty when B is packed per tile), compute tiles.
enum { DG_GEMM_PHASES = 3 };

/// One operand seen as a logical [rows, k] matrix (A: rows = M, B: rows = N).
typedef struct dg_gemm_operand {
    /// The storage's first element.
    const void *data;
    /// Logical rows and reduction length.
    int64_t rows, k;
    /// Strides of the storage's two dimensions in elements (bytes for FP8 and packed FP4). The
    /// storage is [rows, k], or for FP4 [rows, ceil(k/2)] (packed along K) or [ceil(rows/2), k].
    int64_t stride0, stride1;
    /// DG_TYPE_E4M3, DG_TYPE_E2M1, DG_TYPE_BF16 or DG_TYPE_F32.
    int32_t format;
    /// For DG_TYPE_E2M1: non-zero when the two codes of a byte are consecutive along K.
    int32_t fp4_packed_along_k;
    /// F32 block scales [ceil(rows/gran_rows), ceil(k/gran_k)], or NULL when unscaled.
    const float *scales;
    /// Strides of the scale grid in floats.
    int64_t scale_stride0, scale_stride1;
    /// Rows and K elements sharing one scale.
    int64_t gran_rows, gran_k;
    /// Non-zero when every scale is known to be 2^e (e in -127 ... 127) or NaN (decoded from UE8M0):
    /// AMX plans then use them as powers of two without checking the grid.
    int32_t scales_from_ue8m0;
} dg_gemm_operand;

/// The output D, a [A.rows, B.rows] view of F32 or BF16.
typedef struct dg_gemm_output {
    /// The view's first element.
    void *data;
    /// DG_TYPE_F32 or DG_TYPE_BF16.
    int32_t type;
    /// Non-zero to add into D (BF16: bf16(float(D) + float(bf16(acc)))).
    int32_t accumulate;
    /// Strides in elements.
    int64_t stride0, stride1;
} dg_gemm_output;

/// AMX and AVX-512 BF16 plans whose smaller operand has at most this many rows, with K-contiguous
/// FP8/FP4/BF16 operands (unscaled, or scale blocks of a multiple of 32), take the dot-product
/// path (vdpbf16ps over whole rows) instead of tiles; a row's bits then depend on which path its call takes. (Past 4
/// rows the tiles are faster: the dot path's vdpbf16ps count grows with the rows, the tiles' cost
/// does not until 16.)
enum { DG_GEMV_MAX_ROWS = 4 };

/// A planned GEMM. Fill it with dg_gemm_plan_init; the fields are private to the engine.
typedef struct dg_gemm_plan {
    dg_gemm_operand a, b;
    dg_gemm_output d;
    int32_t isa, pairs, mr, nr, kstep, element_size, scaled, prescaled, stream_a, global_b, gemv, workers;
    int64_t block_len, blocks, steps_full, steps_last, blocks_per_chunk, chunks;
    int64_t panels_a, panels_b, item_panels_a, item_panels_b, items_m, items_n;
    int64_t panel_bytes_a, panel_bytes_b, local_panel_bytes_b;
    int64_t packed_a, scales_a, packed_b, scales_b, row_exp_a, row_exp_b, worker_area, worker_bytes;
    int64_t c_offset, local_b_offset, local_sb_offset, local_a_offset, local_sa_offset;
    int64_t task_counts[DG_GEMM_PHASES];
    int64_t next_task[DG_GEMM_PHASES];
    unsigned char *workspace;
} dg_gemm_plan;

/// The microkernel's tile for instruction set `isa` (DG_ISA_*): `mr` rows of A by `nr` rows of B
/// (the same for the F32 and the BF16-pair kernels of a set).
void dg_gemm_tile_shape(int isa, int32_t *mr, int32_t *nr);

/// Plans D (+)= A·Bᵀ with instruction set `isa` (DG_ISA_*) for up to `max_workers` workers.
/// With DG_ISA_AVX512, `use_bf16_dot` selects `vdpbf16ps` for operands that are exact in BF16
/// (E4M3, E2M1, BF16); F32 operands always use F32 FMA. DG_ISA_AMX runs such operands on AMX tiles
/// (`use_bf16_dot` set); with an F32 operand, without `use_bf16_dot` or where dg_cpu_amx_ready()
/// is 0 it plans DG_ISA_AVX512 instead. Both operands have equal k >= 1 and
/// at least one row. Returns the workspace size in bytes (a multiple of 64).
int64_t dg_gemm_plan_init(dg_gemm_plan *plan, int isa, int use_bf16_dot, const dg_gemm_operand *a,
                          const dg_gemm_operand *b, const dg_gemm_output *d, int max_workers);

/// The number of workers the plan wants (at most `max_workers`, fewer for small problems).
int dg_gemm_plan_workers(const dg_gemm_plan *plan);

/// Gives the plan its workspace: 64-byte aligned, at least the size dg_gemm_plan_init returned.
void dg_gemm_plan_bind(dg_gemm_plan *plan, void *workspace);

/// Runs tasks of `phase` (0 ..< DG_GEMM_PHASES) as worker `worker` (0 ..< workers) until none are left.
void dg_gemm_plan_work(dg_gemm_plan *plan, int phase, int worker);
