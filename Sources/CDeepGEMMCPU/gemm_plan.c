// Planning and scheduling of the GEMM engine: tile geometry, K blocking, workspace layout, and
// the three phases (pack A, pack B, compute output tiles) that workers run from shared counters.
//
// Output tiles ("items") are MC x NC blocks of D. An item walks K in chunks of whole scale blocks;
// for each chunk it runs the microkernel over its MR x NR tiles into a per-worker F32 buffer, and
// finally writes the buffer to D by the output rule. A is packed once up front; B is packed once up
// front when several items share its columns, otherwise one panel at a time (per chunk) into a
// per-worker buffer right before the tiles that use it, so it is still in L1 when they run.
//
// DG_ISA_AMX plans run FP8/FP4/BF16 operands on AMX tiles (gemm_amx.c): blocks padded to whole
// 16-step groups, A rewritten to the tiles' row-major layout after packing, and the tile
// configuration loaded per item and released when a worker leaves the compute phase. Operands in
// F32, and processes without the AMX grant, run the AVX-512 FP32 path instead. AMX and AVX-512
// BF16 plans whose scales are all powers of two are "prescaled" (gemm_prescale.c): the scales go
// into the packed values, the tiles run unscaled over whole chunks, and the output is scaled by
// 2^(E_row + E_col).
//
// Plans of those two levels whose smaller operand has at most DG_GEMV_MAX_ROWS rows run the
// dot-product path instead (gemv): those rows are packed once as BF16 lines (phase 0), and the
// items are panels of the other operand's rows, each decoded line by line and dotted with every
// small row with vdpbf16ps (gemv_item); no tiles, so no padding rows are computed. Power-of-two
// scales are folded in as on the tiles; other scales (blocks of whole lines) per block.
#include <string.h>
#include "gemm_internal.h"

/// K elements per chunk (before rounding to whole scale blocks), output rows and columns per item.
enum { DG_KC_PAIRS = 512, DG_KC_F32 = 256, DG_MC = 192, DG_NC = 384 };
/// Problems below this many multiply-adds run on one worker.
static const int64_t dg_single_worker_macs = 1 << 18;

DG_INLINE int64_t align64(int64_t x) { return (x + 63) & ~(int64_t)63; }

/// Steps a block of `steps` occupies when packed for `isa` (AMX: whole groups of 16 steps).
DG_INLINE int64_t padded_steps(int isa, int64_t steps) {
    return isa == DG_ISA_AMX ? dg_ceil_div64(steps, DG_AMX_GROUP_STEPS) * DG_AMX_GROUP_STEPS : steps;
}

/// Non-zero when dg_gemm_pack_rows_avx512 takes the operand (K-contiguous E4M3, E2M1 packed along K, BF16).
static int rows_decodable(const dg_gemm_operand *op) {
    return dg_gemm_k_contiguous(op) && op->format != DG_TYPE_F32;
}

void dg_gemm_tile_shape(int isa, int32_t *mr, int32_t *nr) {
    switch (isa) {
    case DG_ISA_AMX: *mr = DG_AMX_MR; *nr = DG_AMX_NR; break;
    case DG_ISA_AVX512: *mr = 8; *nr = 48; break;
    case DG_ISA_AVX2: *mr = 6; *nr = 16; break;
    default: *mr = 6; *nr = 8; break;
    }
}

/// Takes the call's operands into the plan, swapped when `swap` (D = A·Bᵀ computed as Dᵀ = B·Aᵀ:
/// D's strides exchanged).
static void take_operands(dg_gemm_plan *plan, const dg_gemm_operand *a, const dg_gemm_operand *b, const dg_gemm_output *d,
                          int swap) {
    plan->a = swap ? *b : *a;
    plan->b = swap ? *a : *b;
    plan->d = *d;
    if (swap) {
        plan->d.stride0 = d->stride1;
        plan->d.stride1 = d->stride0;
    }
}

/// Non-zero when the operand is unscaled or its scale blocks are whole 32-element lines (the dot
/// product path's unit).
DG_INLINE int dot_blocks_ok(const dg_gemm_operand *op) { return !op->scales || op->gran_k % 32 == 0; }

/// Lines of the small operand: K rounded up to whole 32-element lines.
DG_INLINE int64_t gemv_kpad(const dg_gemm_plan *plan) { return dg_ceil_div64(plan->a.k, 32) * 32; }

/// The dot-product plan (see the file comment): plan->a is the small operand (at most
/// DG_GEMV_MAX_ROWS rows), plan->b the one streamed in panels of DG_GEMV_PANEL rows. Workspace: the
/// small rows' exponents and BF16 lines, then per worker a panel's exponents and its M x
/// DG_GEMV_PANEL results.
static int64_t gemv_plan_init(dg_gemm_plan *plan, const dg_gemm_operand *a, const dg_gemm_operand *b,
                              const dg_gemm_output *d, int max_workers) {
    plan->gemv = 1;
    take_operands(plan, a, b, d, b->rows < a->rows);
    const int has_scales = plan->a.scales != NULL || plan->b.scales != NULL;
    plan->prescaled = has_scales && dg_gemm_prescalable(&plan->a) && dg_gemm_prescalable(&plan->b);
    plan->scaled = has_scales && !plan->prescaled;
    const int64_t m = plan->a.rows, n = plan->b.rows, k = plan->a.k;
    // Scaled plans fold blocks of the smaller scale block (each operand's scale read at a block's first k).
    plan->block_len = k;
    if (plan->a.scales) plan->block_len = dg_min64(plan->block_len, plan->a.gran_k);
    if (plan->b.scales) plan->block_len = dg_min64(plan->block_len, plan->b.gran_k);
    plan->blocks = dg_ceil_div64(k, plan->block_len);
    const int64_t items = dg_ceil_div64(n, DG_GEMV_PANEL);
    int64_t workers = dg_max64(1, dg_min64(max_workers, items));
    if (m * n * k < dg_single_worker_macs) workers = 1;
    plan->workers = (int32_t)workers;
    int64_t offset = 0;
    plan->row_exp_a = offset;
    offset += align64(DG_GEMV_MAX_ROWS * 4);
    plan->packed_a = offset;
    offset += align64(m * gemv_kpad(plan) * 2);
    plan->scales_a = offset;
    if (plan->scaled) offset += align64(m * plan->blocks * 4);
    plan->worker_area = offset;
    plan->row_exp_b = 0;
    plan->c_offset = align64(DG_GEMV_PANEL * 4);
    plan->worker_bytes = plan->c_offset + align64(m * DG_GEMV_PANEL * 4);
    offset += workers * plan->worker_bytes;
    plan->task_counts[0] = 1;
    plan->task_counts[2] = items;
    return offset;
}

int64_t dg_gemm_plan_init(dg_gemm_plan *plan, int isa, int use_bf16_dot, const dg_gemm_operand *a,
                          const dg_gemm_operand *b, const dg_gemm_output *d, int max_workers) {
    memset(plan, 0, sizeof *plan);
#if !DG_GEMM_X86
    isa = DG_ISA_PORTABLE;
#endif
    const int has_f32 = a->format == DG_TYPE_F32 || b->format == DG_TYPE_F32;
    if (isa == DG_ISA_AMX && (has_f32 || !use_bf16_dot || !dg_cpu_amx_ready())) isa = DG_ISA_AVX512;
    plan->isa = isa;
    plan->pairs = isa >= DG_ISA_AVX512 && use_bf16_dot && !has_f32;
    dg_gemm_tile_shape(isa, &plan->mr, &plan->nr);
    plan->kstep = plan->pairs ? 2 : 1;
    plan->element_size = plan->pairs ? 2 : 4;

    const int has_scales = a->scales != NULL || b->scales != NULL;
    if (plan->pairs && dg_min64(a->rows, b->rows) <= DG_GEMV_MAX_ROWS && rows_decodable(a) && rows_decodable(b) &&
        dot_blocks_ok(a) && dot_blocks_ok(b))
        return gemv_plan_init(plan, a, b, d, max_workers);

    // Vectors run along B's rows; when B is narrower than a vector and A is taller, compute Dᵀ = B·Aᵀ.
    // AMX plans with at most one tile of A rows and B rows that decode straight into the A tiles'
    // layout also swap, and stream the new A (B's rows) through per-chunk panels (stream_a).
    plan->stream_a = isa == DG_ISA_AMX && plan->pairs && a->rows <= DG_AMX_NR && b->rows >= 2 * DG_AMX_MR &&
                     rows_decodable(b);
    take_operands(plan, a, b, d, plan->stream_a || (b->rows < plan->nr && a->rows > b->rows));
    const int64_t m = plan->a.rows, n = plan->b.rows, k = plan->a.k;

    // K blocking: scale blocks of min(gran_k), several per chunk; unscaled GEMMs use one block per chunk.
    const int64_t kc = plan->pairs ? DG_KC_PAIRS : DG_KC_F32;
    plan->prescaled = (isa == DG_ISA_AMX || (isa == DG_ISA_AVX512 && plan->pairs)) && has_scales && dg_gemm_prescalable(&plan->a) &&
                      dg_gemm_prescalable(&plan->b);
    plan->scaled = has_scales && !plan->prescaled;
    if (plan->scaled) {
        int64_t kb = k;
        if (plan->a.scales) kb = dg_min64(kb, plan->a.gran_k);
        if (plan->b.scales) kb = dg_min64(kb, plan->b.gran_k);
        plan->block_len = dg_max64(kb, 1);
        plan->blocks_per_chunk = dg_max64(1, kc / plan->block_len);
    } else {
        plan->block_len = kc;
        plan->blocks_per_chunk = 1;
    }
    plan->blocks = dg_ceil_div64(k, plan->block_len);
    plan->chunks = dg_ceil_div64(plan->blocks, plan->blocks_per_chunk);
    plan->steps_full = padded_steps(isa, dg_ceil_div64(plan->block_len, plan->kstep));
    plan->steps_last = padded_steps(isa, dg_ceil_div64(k - (plan->blocks - 1) * plan->block_len, plan->kstep));
    const int64_t steps_total = (plan->blocks - 1) * plan->steps_full + plan->steps_last;
    const int64_t chunk_steps = plan->blocks_per_chunk * plan->steps_full;

    // Items: MC x NC output blocks, made smaller when there are too few to keep every worker busy.
    plan->panels_a = dg_ceil_div64(m, plan->mr);
    plan->panels_b = dg_ceil_div64(n, plan->nr);
    plan->item_panels_a = dg_max64(1, DG_MC / plan->mr);
    plan->item_panels_b = dg_max64(1, DG_NC / plan->nr);
    // Long chunks (huge scale blocks) shrink the items' B so its chunk stays near the L2 size.
    const int64_t chunk_bytes_b = chunk_steps * plan->kstep * plan->nr * plan->element_size;
    while (plan->item_panels_b > 1 && plan->item_panels_b * chunk_bytes_b > (2 << 20)) plan->item_panels_b /= 2;
    const int64_t wanted = 8 * (int64_t)(max_workers > 0 ? max_workers : 1);
    // Streamed A (one B panel) splits A's panels instead.
    if (plan->stream_a) plan->item_panels_a = dg_max64(1, dg_min64(plan->item_panels_a, dg_ceil_div64(plan->panels_a, wanted)));
    plan->items_m = dg_ceil_div64(plan->panels_a, plan->item_panels_a);
    if (plan->items_m * dg_ceil_div64(plan->panels_b, plan->item_panels_b) < wanted) {
        const int64_t per_item = dg_ceil_div64(plan->panels_b, dg_ceil_div64(wanted, plan->items_m));
        plan->item_panels_b = dg_max64(1, dg_min64(plan->item_panels_b, dg_max64(per_item, 2)));
    }
    plan->items_n = dg_ceil_div64(plan->panels_b, plan->item_panels_b);
    plan->global_b = plan->items_m > 1;
    const int64_t items = plan->items_m * plan->items_n;
    int64_t workers = dg_max64(1, dg_min64(max_workers, items));
    if (m * n * k < dg_single_worker_macs) workers = 1;
    plan->workers = (int32_t)workers;

    // Workspace: packed A (+ scales), packed B (+ scales) when global, then one area per worker.
    plan->panel_bytes_a = align64(steps_total * plan->kstep * plan->mr * plan->element_size);
    plan->panel_bytes_b = align64(steps_total * plan->kstep * plan->nr * plan->element_size);
    plan->local_panel_bytes_b = align64(chunk_bytes_b);
    int64_t offset = 0;
    plan->packed_a = offset;
    if (!plan->stream_a) offset += plan->panels_a * plan->panel_bytes_a;
    plan->scales_a = offset;
    if (plan->scaled && !plan->stream_a) offset += align64(plan->panels_a * plan->blocks * plan->mr * 4);
    plan->packed_b = offset;
    if (plan->global_b) offset += plan->panels_b * plan->panel_bytes_b;
    plan->scales_b = offset;
    if (plan->global_b && plan->scaled) offset += align64(plan->panels_b * plan->blocks * plan->nr * 4);
    plan->row_exp_a = offset;
    if (plan->prescaled) offset += align64(plan->panels_a * plan->mr * 4);
    plan->row_exp_b = offset;
    if (plan->prescaled) offset += align64(plan->panels_b * plan->nr * 4);
    plan->worker_area = offset;
    plan->c_offset = 0;
    int64_t area = align64(plan->item_panels_a * plan->mr * plan->item_panels_b * plan->nr * 4);
    plan->local_b_offset = area;
    if (!plan->global_b) area += plan->local_panel_bytes_b;
    plan->local_sb_offset = area;
    if (!plan->global_b && plan->scaled) area += align64(plan->blocks_per_chunk * plan->nr * 4);
    plan->local_a_offset = area;
    if (plan->stream_a) area += align64(chunk_steps * plan->kstep * plan->mr * plan->element_size);
    plan->local_sa_offset = area;
    if (plan->stream_a && plan->scaled) area += align64(plan->blocks_per_chunk * plan->mr * 4);
    plan->worker_bytes = area;
    offset += workers * area;

    plan->task_counts[0] = !plan->stream_a || plan->prescaled ? plan->panels_a : 0;
    plan->task_counts[1] = plan->global_b || plan->prescaled ? plan->panels_b : 0;
    plan->task_counts[2] = items;
    return offset;
}

int dg_gemm_plan_workers(const dg_gemm_plan *plan) { return plan->workers; }

void dg_gemm_plan_bind(dg_gemm_plan *plan, void *workspace) { plan->workspace = (unsigned char *)workspace; }

/// Packs one block [k0, k0+len) of the panel at `row0` into `out` (prescaled plans: scaled by the
/// panel's row exponents `row_exp`).
static void pack_block(const dg_gemm_plan *plan, const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t k0,
                       int64_t len, const float *row_exp, void *out) {
#if DG_GEMM_X86
    if (plan->prescaled && op->scales) {
        dg_gemm_pack_prescaled_avx512(op, row0, width, k0, len, row_exp, out);
        return;
    }
    if (plan->isa >= DG_ISA_AVX512 && dg_gemm_pack_avx512(op, plan->pairs, row0, width, k0, len, out)) return;
    if (plan->isa != DG_ISA_PORTABLE && !plan->pairs && dg_gemm_pack_f32_avx2(op, row0, width, k0, len, out)) return;
#endif
    dg_gemm_pack_generic(op, plan->pairs, row0, width, k0, len, out);
}

/// Packs blocks [b0, b0+count) of the panel at `row0` (data at `dst`, scales at `scales`, row
/// exponents of prescaled plans at `row_exp`); `is_a` when the panel is A's (AMX plans rewrite it
/// to the A tiles' row-major layout).
static void pack_panel(const dg_gemm_plan *plan, const dg_gemm_operand *op, int is_a, int64_t row0, int64_t width,
                       int64_t b0, int64_t count, const float *row_exp, unsigned char *dst, float *scales) {
    const int64_t step_bytes = plan->kstep * width * plan->element_size;
    for (int64_t blk = 0; blk < count; blk++) {
        const int64_t k0 = (b0 + blk) * plan->block_len;
        const int64_t len = dg_min64(plan->block_len, op->k - k0);
        unsigned char *out = dst + blk * plan->steps_full * step_bytes;
#if DG_GEMM_X86
        if (is_a && plan->stream_a) {
            const int64_t steps = b0 + blk == plan->blocks - 1 ? plan->steps_last : plan->steps_full;
            dg_gemm_pack_rows_avx512(op, row0, width, k0, len, steps, plan->prescaled ? row_exp : NULL, out);
            continue;
        }
#endif
        pack_block(plan, op, row0, width, k0, len, row_exp, out);
#if DG_GEMM_X86
        if (plan->isa == DG_ISA_AMX) {
            // Zero the steps that pad the block to whole groups, then give A its tile layout.
            const int64_t written = dg_ceil_div64(len, plan->kstep);
            const int64_t steps = b0 + blk == plan->blocks - 1 ? plan->steps_last : plan->steps_full;
            memset(out + written * step_bytes, 0, (size_t)((steps - written) * step_bytes));
            if (is_a) dg_gemm_pairs_to_rows_avx512(out, steps);
        }
#endif
    }
    if (plan->scaled) dg_gemm_pack_scales(op, row0, width, b0, count, plan->block_len, scales);
}

static void run_tile(const dg_gemm_plan *plan, const dg_gemm_tile *tile) {
    switch (plan->isa) {
#if DG_GEMM_X86
    case DG_ISA_AMX: dg_gemm_tile_amx(tile); break;
    case DG_ISA_AVX512:
        if (plan->pairs) dg_gemm_tile_bf16_avx512(tile);
        else dg_gemm_tile_f32_avx512(tile);
        break;
    case DG_ISA_AVX2: dg_gemm_tile_f32_avx2(tile); break;
#endif
    default: dg_gemm_tile_f32_portable(tile); break;
    }
}

static void store(const dg_gemm_plan *plan, int64_t row0, int64_t col0, int64_t rows, int64_t cols, const float *c,
                  int64_t ldc) {
    switch (plan->isa) {
#if DG_GEMM_X86
    case DG_ISA_AMX:
    case DG_ISA_AVX512: dg_gemm_store_avx512(&plan->d, row0, col0, rows, cols, c, ldc); break;
    case DG_ISA_AVX2: dg_gemm_store_avx2(&plan->d, row0, col0, rows, cols, c, ldc); break;
#endif
    default: dg_gemm_store_generic(&plan->d, row0, col0, rows, cols, c, ldc); break;
    }
}

/// Computes output item `item` with the buffers of worker `worker`.
static void run_item(const dg_gemm_plan *plan, int64_t item, int worker) {
    const int64_t mr = plan->mr, nr = plan->nr;
    const int64_t pa0 = (item % plan->items_m) * plan->item_panels_a;
    const int64_t pa1 = dg_min64(plan->panels_a, pa0 + plan->item_panels_a);
    const int64_t pb0 = (item / plan->items_m) * plan->item_panels_b;
    const int64_t pb1 = dg_min64(plan->panels_b, pb0 + plan->item_panels_b);
    unsigned char *area = plan->workspace + plan->worker_area + worker * plan->worker_bytes;
    float *c = (float *)(area + plan->c_offset);
    const int64_t ldc = plan->item_panels_b * nr;
    unsigned char *local_b = area + plan->local_b_offset;
    float *local_sb = (float *)(area + plan->local_sb_offset);
    unsigned char *local_a = area + plan->local_a_offset;
    float *local_sa = (float *)(area + plan->local_sa_offset);
    const unsigned char *packed_a = plan->workspace + plan->packed_a;
    const float *scales_a = (const float *)(plan->workspace + plan->scales_a);
    const unsigned char *packed_b = plan->workspace + plan->packed_b;
    const float *row_exp_a = (const float *)(plan->workspace + plan->row_exp_a);
    const float *row_exp_b = (const float *)(plan->workspace + plan->row_exp_b);
    const float *scales_b = (const float *)(plan->workspace + plan->scales_b);
    const int64_t step_bytes_a = plan->kstep * mr * plan->element_size, step_bytes_b = plan->kstep * nr * plan->element_size;
#if DG_GEMM_X86
    if (plan->isa == DG_ISA_AMX) dg_gemm_amx_configure();
#endif

    // Streamed A panels run all of K one panel at a time, so that the panel's rows are read as
    // sequential streams; other plans run each chunk over all the item's A panels.
    const int64_t step_a = plan->stream_a ? 1 : pa1 - pa0;
    for (int64_t qa0 = pa0; qa0 < pa1; qa0 += step_a) {
        const int64_t qa1 = dg_min64(pa1, qa0 + step_a);
        for (int64_t chunk = 0; chunk < plan->chunks; chunk++) {
            const int64_t b0 = chunk * plan->blocks_per_chunk;
            const int64_t count = dg_min64(plan->blocks, b0 + plan->blocks_per_chunk) - b0;
            const int64_t chunk_step = b0 * plan->steps_full;
            dg_gemm_tile tile;
            tile.ldc = ldc;
            tile.blocks = count;
            tile.steps_full = plan->steps_full;
            tile.steps_last = b0 + count == plan->blocks ? plan->steps_last : plan->steps_full;
            tile.first = chunk == 0;
            for (int64_t pb = pb0; pb < pb1; pb++) {
                tile.cols = (int32_t)dg_min64(nr, plan->b.rows - pb * nr);
                if (plan->global_b) {
                    tile.b = packed_b + pb * plan->panel_bytes_b + chunk_step * step_bytes_b;
                    tile.sb = plan->scaled ? scales_b + (pb * plan->blocks + b0) * nr : NULL;
                } else {
                    pack_panel(plan, &plan->b, 0, pb * nr, nr, b0, count, row_exp_b + pb * nr, local_b, local_sb);
                    tile.b = local_b;
                    tile.sb = plan->scaled ? local_sb : NULL;
                }
                for (int64_t pa = qa0; pa < qa1; pa++) {
                    if (plan->stream_a) {  // one B panel: each A panel is packed once per chunk
                        pack_panel(plan, &plan->a, 1, pa * mr, mr, b0, count, row_exp_a + pa * mr, local_a, local_sa);
                        tile.a = local_a;
                        tile.sa = plan->scaled ? local_sa : NULL;
                    } else {
                        tile.a = packed_a + pa * plan->panel_bytes_a + chunk_step * step_bytes_a;
                        tile.sa = plan->scaled ? scales_a + (pa * plan->blocks + b0) * mr : NULL;
                    }
                    tile.c = c + (pa - pa0) * mr * ldc + (pb - pb0) * nr;
                    tile.rows = (int32_t)dg_min64(mr, plan->a.rows - pa * mr);
                    run_tile(plan, &tile);
                }
            }
        }
    }
    const int64_t row0 = pa0 * mr, col0 = pb0 * nr;
    const int64_t rows = dg_min64(plan->a.rows, pa1 * mr) - row0, cols = dg_min64(plan->b.rows, pb1 * nr) - col0;
#if DG_GEMM_X86
    if (plan->prescaled) dg_gemm_scale_tile_avx512(c, ldc, rows, cols, row_exp_a + row0, row_exp_b + col0);
#endif
    store(plan, row0, col0, rows, cols, c, ldc);
}

/// Phase 0 of a dot-product plan: the small rows' exponents, BF16 lines and (scaled plans) scales.
static void gemv_pack(const dg_gemm_plan *plan) {
#if DG_GEMM_X86
    float *row_exp = (float *)(plan->workspace + plan->row_exp_a);
    if (plan->prescaled) dg_gemm_row_exponents(&plan->a, 0, plan->a.rows, row_exp);
    dg_gemm_pack_lines_avx512(&plan->a, plan->a.rows, gemv_kpad(plan), plan->prescaled ? row_exp : NULL,
                              (uint16_t *)(plan->workspace + plan->packed_a));
    if (plan->scaled) dg_gemm_pack_scales(&plan->a, 0, plan->a.rows, 0, plan->blocks, plan->block_len,
                                          (float *)(plan->workspace + plan->scales_a));
#else
    (void)plan;  // dot-product plans need BF16 pairs, an x86 level
#endif
}

/// Item `item` of a dot-product plan: the panel of B rows from item * DG_GEMV_PANEL, against every
/// small row (block by block with their scales when scaled), times 2^(E_row + E_col) when
/// prescaled, stored by the output rule.
static void gemv_item(const dg_gemm_plan *plan, int64_t item, int worker) {
#if DG_GEMM_X86
    unsigned char *area = plan->workspace + plan->worker_area + worker * plan->worker_bytes;
    float *col_exp = (float *)(area + plan->row_exp_b), *c = (float *)(area + plan->c_offset);
    const float *row_exp = (const float *)(plan->workspace + plan->row_exp_a);
    const int64_t row0 = item * DG_GEMV_PANEL, width = dg_min64(DG_GEMV_PANEL, plan->b.rows - row0);
    if (plan->prescaled) dg_gemm_row_exponents(&plan->b, row0, width, col_exp);
    dg_gemm_dot_rows_avx512(&plan->b, row0, width, plan->prescaled ? col_exp : NULL,
                            (const uint16_t *)(plan->workspace + plan->packed_a), plan->a.rows, gemv_kpad(plan),
                            plan->block_len, plan->scaled ? (const float *)(plan->workspace + plan->scales_a) : NULL, c,
                            DG_GEMV_PANEL);
    if (plan->prescaled) dg_gemm_scale_tile_avx512(c, DG_GEMV_PANEL, plan->a.rows, width, row_exp, col_exp);
    store(plan, 0, row0, plan->a.rows, width, c, DG_GEMV_PANEL);
#else
    (void)plan, (void)item, (void)worker;  // dot-product plans need BF16 pairs, an x86 level
#endif
}

void dg_gemm_plan_work(dg_gemm_plan *plan, int phase, int worker) {
    for (;;) {
        const int64_t task = __atomic_fetch_add(&plan->next_task[phase], 1, __ATOMIC_RELAXED);
        if (task >= plan->task_counts[phase]) break;
        if (plan->gemv) {
            if (phase == 0) gemv_pack(plan);
            else gemv_item(plan, task, worker);
            continue;
        }
        switch (phase) {
        case 0: {
            float *row_exp = (float *)(plan->workspace + plan->row_exp_a) + task * plan->mr;
            if (plan->prescaled) dg_gemm_row_exponents(&plan->a, task * plan->mr, plan->mr, row_exp);
            if (!plan->stream_a)
                pack_panel(plan, &plan->a, 1, task * plan->mr, plan->mr, 0, plan->blocks, row_exp,
                           plan->workspace + plan->packed_a + task * plan->panel_bytes_a,
                           (float *)(plan->workspace + plan->scales_a) + task * plan->blocks * plan->mr);
            break;
        }
        case 1: {
            // Prescaled plans find B's row exponents here, before any local panel is packed.
            float *row_exp = (float *)(plan->workspace + plan->row_exp_b) + task * plan->nr;
            if (plan->prescaled) dg_gemm_row_exponents(&plan->b, task * plan->nr, plan->nr, row_exp);
            if (plan->global_b)
                pack_panel(plan, &plan->b, 0, task * plan->nr, plan->nr, 0, plan->blocks, row_exp,
                           plan->workspace + plan->packed_b + task * plan->panel_bytes_b,
                           (float *)(plan->workspace + plan->scales_b) + task * plan->blocks * plan->nr);
            break;
        }
        default: run_item(plan, task, worker); break;
        }
    }
#if DG_GEMM_X86
    if (phase == 2 && plan->isa == DG_ISA_AMX) dg_gemm_amx_release();
#endif
}
