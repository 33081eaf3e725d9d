// C microkernels of the CPU backend. Each kernel has a portable variant and, on x86-64, AVX2 and
// AVX-512 variants compiled with per-function target attributes and chosen at run time (any
// `isa` >= DG_ISA_AVX512 runs the AVX-512F code).
#pragma once
#include <stdint.h>

/// CPU feature bits reported by dg_cpu_features().
enum {
    DG_CPU_AVX2 = 1 << 0,
    DG_CPU_FMA = 1 << 1,
    DG_CPU_F16C = 1 << 2,
    DG_CPU_AVX512F = 1 << 3,
    DG_CPU_AVX512BW = 1 << 4,
    DG_CPU_AVX512VL = 1 << 5,
    DG_CPU_AVX512DQ = 1 << 6,
    DG_CPU_AVX512BF16 = 1 << 7,
    DG_CPU_AVX512VNNI = 1 << 8,
    DG_CPU_NEON = 1 << 9,
    /// The vendor is Intel (a tuning hint, not an instruction set).
    DG_CPU_INTEL = 1 << 10,
    /// AMX tiles (CPUID AMX-TILE) with the tile state enabled in XCR0 (XTILECFG and XTILEDATA).
    DG_CPU_AMX_TILE = 1 << 11,
    /// AMX BF16 tile dot products (`tdpbf16ps`), reported with DG_CPU_AMX_TILE's XCR0 condition.
    DG_CPU_AMX_BF16 = 1 << 12,
    /// AMX INT8 tile dot products (`tdpbssd`), reported with DG_CPU_AMX_TILE's XCR0 condition.
    DG_CPU_AMX_INT8 = 1 << 13,
};

/// Instruction-set variants a kernel can run with. DG_ISA_AVX512 is AVX-512 F/BW/VL/DQ; the kernels
/// that also have AVX-512 BF16 / VNNI code take that choice separately (dg_gemm_plan_init's
/// `use_bf16_dot`, DG_MQA_DOT_EXTENSION), so a CPU without them runs the plain AVX-512 code.
/// DG_ISA_AMX is AVX-512 BF16 plus AMX tiles: the GEMM engine (AMX-BF16) and the FP4 lightning
/// indexer (AMX-INT8, with DG_MQA_DOT_EXTENSION) have AMX code; every other kernel runs its AVX-512
/// code for it.
enum {
    DG_ISA_PORTABLE = 0,
    DG_ISA_AVX2 = 1,
    DG_ISA_AVX512 = 2,
    DG_ISA_AMX = 3,
};

/// Element types the conversion kernels read and write.
enum {
    DG_TYPE_F32 = 0,
    DG_TYPE_BF16 = 1,
    DG_TYPE_F16 = 2,
    DG_TYPE_E4M3 = 3,
    DG_TYPE_E5M2 = 4,
    DG_TYPE_E2M1 = 5,
};

/// The features of the running CPU (DG_CPU_* bits).
uint32_t dg_cpu_features(void);

/// Non-zero when this process may run AMX tile instructions: the CPU has AMX-TILE and AMX-BF16
/// (with their XCR0 state) and the OS granted the tile data state to the process
/// (arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) on Linux; asked once, the answer is cached and the
/// grant is process-wide). Always 0 off x86-64 Linux.
int dg_cpu_amx_ready(void);

/// Converts `count` elements from `src_type` to `dst_type` (any of DG_TYPE_*), rounding to nearest
/// even; FP8 overflow becomes NaN (E4M3) or infinity (E5M2), or the largest finite value when
/// `saturate` is non-zero.
void dg_convert(int isa, const void *src, int src_type, void *dst, int dst_type, int64_t count, int saturate);

/// The largest |x| of `count` elements of a float type (F32, BF16 or F16) as a float; NaN if any
/// element is NaN.
float dg_amax(int isa, const void *src, int src_type, int64_t count);

/// dst[i] = e4m3(float(src[i]) * inv_scale) for `count` elements (RNE, NaN on overflow).
void dg_encode_e4m3_scaled(int isa, const void *src, int src_type, int64_t count, float inv_scale, uint8_t *dst);

/// Per-token quantization of `rows` rows of `n` elements (F32, BF16 or F16), in groups of `gran`
/// along the row, to `format`:
/// - DG_TYPE_E4M3: sf = max(amax, 1e-4) / 448 (a true division), optionally ceiled to a power of
///   two, then e4m3(x * (1/sf)), RNE with NaN on overflow; n bytes per row.
/// - DG_TYPE_E2M1: sf = max(amax, 1e-4) / 6, codes by the helper's rounding, two per byte (even
///   element in the low nibble); `n` and `gran` even; n/2 bytes per row.
/// Row r reads src + r*src_stride elements and writes dst + r*dst_stride bytes and
/// sf + r*sf_stride floats (ceil(n/gran) of them).
void dg_quantize_rows(int isa, int format, const void *src, int src_type, int64_t rows, int64_t n, int64_t src_stride,
                      int64_t gran, int use_ue8m0, uint8_t *dst, int64_t dst_stride, float *sf, int64_t sf_stride);

/// Quantization of contiguous `rows` x `n` elements (F32, BF16 or F16) to E4M3 with one scale per
/// block of `block_rows` rows x `block_cols` columns (the last row and column blocks may be short;
/// the amax runs over the elements present): sf = max(amax, 1e-4) / 448, optionally ceiled to a
/// power of two, data = e4m3(x * (1/sf)), RNE with NaN on overflow. Writes `n` bytes per row to
/// dst and ceil(rows/block_rows) x ceil(n/block_cols) scales to sf (row-major). `scratch` holds
/// 2*n 32-bit words.
void dg_quantize_blocks(int isa, const void *src, int src_type, int64_t rows, int64_t n, int64_t block_rows,
                        int64_t block_cols, int use_ue8m0, uint8_t *dst, float *sf, uint32_t *scratch);

/// Mega MoE's SwiGLU + top-k weight + FP8 quantization of one row (MegaMoESwiGLUArithmetic in
/// Swift): column c (0 <= c < `columns`, a multiple of 32) reads its BF16 gate and up values at
/// index (c / 8) * chunk_stride + c % 8 of `gate` and `up`; with `has_clamp` the gate is bounded
/// above and up on both sides by `clamp` (a BF16 value; NaN stays NaN); a = (silu[gate bits] * up)
/// * weight, rounded after each product. Per group of 32 columns: E = ceil(log2(amax / 448)) at the
/// bit level (NaN skipped, no floor), codes[c] = E4M3 of a * 2^-E (RNE, saturating; 0x7F for
/// NaN of either sign), and exponents[group] = E + 127.
void dg_swiglu_fp8_row(int isa, const uint16_t *gate, const uint16_t *up, int64_t chunk_stride, int64_t columns,
                       float weight, const float *silu, int has_clamp, float clamp, uint8_t *codes,
                       uint8_t *exponents);

// The GEMM engine (planning, packing, microkernels).
#include "dg_gemm.h"

// The lightning-indexer (MQA logits) kernels.
#include "dg_mqa.h"
