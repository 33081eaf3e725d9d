// Lightning-indexer (MQA logits) kernels of the CPU backend. Shapes: heads 8, 16, 32 or 64; dim
// 32, 64 or 128 (FP4: 64 or 128).
//
// Layouts. KV rows are packed in lane groups of 16 rows so that one 512-bit vector holds one
// step of 16 rows:
// - FP8: a group is [dim/2][16] uint32, each the BF16 pair (even element in the low half) of one
//   row; its scales are float[16] (the per-token kv_sf).
// - FP4: a group is [dim/4][16][4] bytes, each byte 2·v + 12 for the E2M1 value v of one row (an
//   unsigned int8 in [0, 24]; at the AMX level the signed int8 2·v, in [-12, 12]); its scales are
//   float[dim/32][16], the UE8M0 values 2^(e-127) (byte 0 reads 2^-127, 255 NaN).
// - A query token: FP8 [heads][dim/2] uint32 BF16 pairs; FP4 [heads][dim/4] int32 (four int8
//   2·v), then int32 [heads][dim/32] (-12 · Σ 2·v over each 32-element block), then float
//   [heads][dim/32] (the q block scale times 0.25).
// - FP8 at the AVX2 level (the FMA kernels) holds float values instead of BF16 pairs, each pair's
//   two elements swapped so that the kernels stream them in the order of the arithmetic below:
//   a KV group is float [dim][16] with position 2p holding element 2p+1 and 2p+1 element 2p of
//   each row; a query token float [heads][dim] with the same swap. FP4 and every scale layout
//   are the same at every level.
//
// Levels. `isa` selects the kernels: DG_ISA_PORTABLE the portable loops; DG_ISA_AVX512 with
// DG_MQA_DOT_EXTENSION the AVX-512 BF16 (FP8) / VNNI (FP4) dot kernels; DG_ISA_AMX with
// DG_MQA_DOT_EXTENSION FP4 scores on AMX-INT8 tiles (tdpbssd; the caller must only ask for it
// where the CPU has AMX-INT8 and the process the tile state, see dg_cpu_amx_ready) and the AVX-512
// dot kernels for FP8; any other code (AVX2, AVX-512 or AMX without the extension, or a level this
// file does not know) the AVX2 + FMA kernels, which the caller must only ask for on a CPU with
// AVX2, FMA and F16C. A panel must be packed and read with codes of the same level.
//
// Arithmetic (every kernel, bit for bit):
// - FP8 score of head h and row j: acc = 0; for p in 0..<dim/2: acc = acc + q[2p+1]·k[2p+1];
//   acc = acc + q[2p]·k[2p] (each product exact, each addition rounded to binary32), the order of
//   AVX-512 BF16's vdpbf16ps.
// - FP4 score: for each 32-element block b in order, the exact integer dot d_b of the doubled
//   values, then s = fma(float(d_b), (qs_b·0.25)·ks_b, s) from s = 0.
// - Head reduction with F32 weights: c_k = fma(relu(s_h), w_h, c_k) for the heads h ≡ k (mod 4)
//   in increasing order, then ((c0 + c2) + (c1 + c3)), times kv_sf for FP8; relu(x) = x > 0 ? x : 0.
// - With BF16 weights: r_h = bf16(relu(s_h)); c_k = bf16(r_h·w_h + c_k) rounded once (exactly);
//   x = bf16(c0 + c2), y = bf16(c1 + c3), r = bf16(x + y); FP8: bf16(r · bf16(kv_sf)).
// - Logits are stored as binary32, or rounded to BF16 (round to nearest even).
#pragma once
#include <stdint.h>

/// Input formats.
enum {
    DG_MQA_FP8 = 0,
    DG_MQA_FP4 = 1,
};

/// KV rows per packed lane group.
enum { DG_MQA_LANES = 16 };

/// OR-ed into `isa` (DG_ISA_AVX512 only): use the AVX-512 BF16 (FP8) or VNNI (FP4) dot kernels.
/// Without it, DG_ISA_AVX512 runs the AVX2 kernels.
enum { DG_MQA_DOT_EXTENSION = 0x100 };

/// Bytes of one packed lane group of KV values for the kernels of `isa`.
int64_t dg_mqa_kv_group_bytes(int isa, int format, int dim);

/// Floats of one packed lane group of KV scales.
int64_t dg_mqa_kv_group_scales(int format, int dim);

/// Bytes of one packed query token of `heads` heads for the kernels of `isa`.
int64_t dg_mqa_q_bytes(int isa, int format, int heads, int dim);

/// Packs `rows` KV rows into ceil(rows / 16) lane groups; rows past `rows` in the last group are
/// zero (scales 1). Row r's values start at `values + r * value_stride` (FP8: dim bytes of E4M3;
/// FP4: dim/2 bytes of packed E2M1) and its scale at `scales + r * scale_stride` (FP8: float;
/// FP4: int32 of packed UE8M0 bytes, byte b for elements [32b, 32b + 32)).
void dg_mqa_pack_kv(int isa, int format, int dim, int64_t rows, const uint8_t *values, int64_t value_stride,
                    const uint8_t *scales, int64_t scale_stride, void *packed, float *packed_scales);

/// Packs one query token of `heads` heads for the kernels of `isa`: q holds heads·dim E4M3 bytes
/// (FP8) or heads·dim/2 packed E2M1 bytes plus `q_sf`, heads int32 of packed UE8M0 (FP4).
void dg_mqa_pack_q(int isa, int format, int heads, int dim, const uint8_t *q, const int32_t *q_sf, void *packed);

/// Logits of one packed query token for the KV lanes [lane_begin, lane_end), lane 0 being the
/// first row of the lane group at `kv_packed` / `kv_scales`. `weights` holds the token's `heads`
/// weights (float, or BF16 when `weights_bf16`); the logit of lane l is stored at
/// out[l - lane_begin] as float, or BF16 when `out_bf16`. The `prefetch_count` blocks of
/// `prefetch_bytes` bytes at `prefetch[0..<prefetch_count]` (prefetch may be NULL when the count is
/// 0) are brought towards the caches a little at a time during the computation: a paged driver
/// passes the pages it packs next.
void dg_mqa_logits(int isa, int format, int heads, int dim, int weights_bf16, int out_bf16, const void *q_packed,
                   const void *weights, const void *kv_packed, const float *kv_scales, int64_t lane_begin, int64_t lane_end,
                   const void *const *prefetch, int64_t prefetch_count, int64_t prefetch_bytes, void *out);
