// Vectorized packing of F32 panels with AVX2: decodes E4M3, E2M1 and BF16 (or copies F32) eight
// values at a time into the [step][width] layout the F32 microkernels stream (AVX2 and AVX-512F).
// The values are those of the scalar decoders (dg_e4m3_to_f32, dg_gemm_e2m1_bf16), so a panel
// packed here is bit for bit the panel dg_gemm_pack_generic writes.
#include <string.h>
#include "gemm_internal.h"

#if DG_GEMM_X86
#include <immintrin.h>

#define DG_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define DG_ALWAYS_INLINE static inline __attribute__((always_inline))

/// Floats of eight E4M3 codes, one in the low byte of each 32-bit lane (the values of
/// dg_e4m3_to_f32). Normal codes rebias the exponent in integer lanes and subnormal ones (m·2⁻⁹)
/// convert m, so no subnormal float enters an instruction (each would cost a microcode assist).
DG_ALWAYS_INLINE DG_TARGET_AVX2 __m256 decode_e4m3(__m256i codes) {
    const __m256i magnitude = _mm256_and_si256(codes, _mm256_set1_epi32(0x7F));
    const __m256 normal = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(magnitude, 20), _mm256_set1_epi32(120 << 23)));
    const __m256 subnormal = _mm256_mul_ps(_mm256_cvtepi32_ps(magnitude), _mm256_set1_ps(0x1p-9f));
    const __m256 small = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(8), magnitude));
    const __m256 value = _mm256_blendv_ps(normal, subnormal, small);
    const __m256 nan = _mm256_castsi256_ps(_mm256_cmpeq_epi32(magnitude, _mm256_set1_epi32(0x7F)));
    const __m256 finite = _mm256_blendv_ps(value, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000)), nan);
    const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(codes, _mm256_set1_epi32(0x80)), 24);
    return _mm256_or_ps(finite, _mm256_castsi256_ps(sign));
}

/// Floats of eight E2M1 codes, one in the low nibble of each 32-bit lane (bits above 3 ignored);
/// code 8 (negative zero) gives +0 like dg_gemm_e2m1_bf16.
DG_ALWAYS_INLINE DG_TARGET_AVX2 __m256 decode_e2m1(__m256i codes) {
    const __m256 positive = _mm256_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f);
    const __m256 negative = _mm256_setr_ps(0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f);
    const __m256 sign = _mm256_castsi256_ps(_mm256_slli_epi32(codes, 28));  // bit 3 -> bit 31
    return _mm256_blendv_ps(_mm256_permutevar8x32_ps(positive, codes), _mm256_permutevar8x32_ps(negative, codes), sign);
}

/// Eight consecutive values of format `format` at element `at` of `data` (for E2M1 a code index,
/// even; two codes per byte, the even one in the low nibble), all eight in memory.
DG_ALWAYS_INLINE DG_TARGET_AVX2 __m256 load_full(const void *data, int format, int64_t at) {
    switch (format) {
    case DG_TYPE_E4M3:
        return decode_e4m3(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)((const uint8_t *)data + at))));
    case DG_TYPE_BF16: {
        const __m128i bits = _mm_loadu_si128((const __m128i *)((const uint16_t *)data + at));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
    }
    case DG_TYPE_E2M1: {
        int32_t word;
        memcpy(&word, (const uint8_t *)data + at / 2, 4);
        const __m128i bytes = _mm_cvtsi32_si128(word);
        const __m256i doubled = _mm256_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));
        return decode_e2m1(_mm256_srlv_epi32(doubled, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4)));
    }
    default:
        return _mm256_loadu_ps((const float *)data + at);
    }
}

/// Bytes that hold `n` consecutive values of `format` starting at an even index.
DG_ALWAYS_INLINE int64_t value_bytes(int format, int64_t n) {
    switch (format) {
    case DG_TYPE_E4M3: return n;
    case DG_TYPE_BF16: return 2 * n;
    case DG_TYPE_E2M1: return (n + 1) / 2;
    default: return 4 * n;
    }
}

/// A lane mask of the first `n` (0 ... 8) lanes.
DG_ALWAYS_INLINE DG_TARGET_AVX2 __m256i first_lanes(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Like load_full for the first `n` (1 ... 8) values, zero in the other lanes; reads only those values.
DG_ALWAYS_INLINE DG_TARGET_AVX2 __m256 load_line(const void *data, int format, int64_t at, int64_t n) {
    if (n >= 8) return load_full(data, format, at);
    const int64_t first_byte = format == DG_TYPE_E2M1 ? at / 2 : value_bytes(format, at);
    unsigned char buffer[32] = {0};
    memcpy(buffer, (const unsigned char *)data + first_byte, (size_t)value_bytes(format, n));
    return _mm256_and_ps(load_full(buffer, format, 0), _mm256_castsi256_ps(first_lanes(n)));
}

/// Stores the first `count` (1 ... 8) lanes of `v` at `dst`.
DG_ALWAYS_INLINE DG_TARGET_AVX2 void store_lanes(float *dst, int64_t count, __m256 v) {
    if (count == 8) _mm256_storeu_ps(dst, v);
    else _mm256_maskstore_ps(dst, first_lanes(count), v);
}

/// In-place transpose of an 8 x 8 matrix of floats.
DG_ALWAYS_INLINE DG_TARGET_AVX2 void transpose8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4q + j] holds column j (low half) and column j + 4 (high half) of rows 4q ... 4q+3.
    for (int q = 0; q < 2; q++) {
        u[4 * q] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
        u[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
        u[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
        u[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
        r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
}

/// K-contiguous source: per group of eight rows and eight K, decode each row, transpose, store.
DG_ALWAYS_INLINE DG_TARGET_AVX2 void pack_k_contiguous(const dg_gemm_operand *op, int format, int64_t row0, int64_t width,
                                                       int64_t k0, int64_t len, float *dst) {
    const int64_t valid = dg_min64(width, op->rows - row0);
    const int64_t row_stride = dg_gemm_code_stride(op, op->stride0);
    for (int64_t group = 0; group < width; group += 8) {
        const int64_t lanes = dg_min64(8, width - group), rows = dg_max64(0, dg_min64(8, valid - group));
        for (int64_t kk = 0; kk < len; kk += 8) {
            const int64_t n = dg_min64(8, len - kk);
            __m256 r[8];
            for (int64_t i = 0; i < 8; i++)
                r[i] = i < rows ? load_line(op->data, format, (row0 + group + i) * row_stride + k0 + kk, n) : _mm256_setzero_ps();
            transpose8(r);
            for (int64_t j = 0; j < n; j++) store_lanes(dst + (kk + j) * width + group, lanes, r[j]);
        }
    }
}

/// MN-contiguous source: per K element, decode the panel's rows eight at a time.
DG_ALWAYS_INLINE DG_TARGET_AVX2 void pack_mn_contiguous(const dg_gemm_operand *op, int format, int64_t row0, int64_t width,
                                                        int64_t k0, int64_t len, float *dst) {
    const int64_t valid = dg_min64(width, op->rows - row0);
    const int64_t k_stride = dg_gemm_code_stride(op, op->stride1);
    for (int64_t s = 0; s < len; s++) {
        for (int64_t group = 0; group < width; group += 8) {
            const int64_t lanes = dg_min64(8, width - group), rows = valid - group;
            const __m256 v = rows > 0 ? load_line(op->data, format, (k0 + s) * k_stride + row0 + group, rows) : _mm256_setzero_ps();
            store_lanes(dst + s * width + group, lanes, v);
        }
    }
}

/// The two packers for one format (a constant after inlining).
DG_ALWAYS_INLINE DG_TARGET_AVX2 void pack_format(const dg_gemm_operand *op, int format, int k_contiguous, int64_t row0,
                                                 int64_t width, int64_t k0, int64_t len, float *dst) {
    if (k_contiguous) pack_k_contiguous(op, format, row0, width, k0, len, dst);
    else pack_mn_contiguous(op, format, row0, width, k0, len, dst);
}

DG_TARGET_AVX2 int dg_gemm_pack_f32_avx2(const dg_gemm_operand *op, int64_t row0, int64_t width, int64_t k0, int64_t len,
                                         void *dst) {
    const int fp4 = op->format == DG_TYPE_E2M1;
    // E2M1 panels start on a whole byte.
    const int k_contiguous = dg_gemm_k_contiguous(op) && (!fp4 || k0 % 2 == 0);
    const int mn_contiguous = dg_gemm_mn_contiguous(op) && (!fp4 || row0 % 2 == 0);
    if (!k_contiguous && !mn_contiguous) return 0;
    float *out = (float *)dst;
    switch (op->format) {
    case DG_TYPE_E4M3: pack_format(op, DG_TYPE_E4M3, k_contiguous, row0, width, k0, len, out); break;
    case DG_TYPE_E2M1: pack_format(op, DG_TYPE_E2M1, k_contiguous, row0, width, k0, len, out); break;
    case DG_TYPE_BF16: pack_format(op, DG_TYPE_BF16, k_contiguous, row0, width, k0, len, out); break;
    default: pack_format(op, DG_TYPE_F32, k_contiguous, row0, width, k0, len, out); break;
    }
    return 1;
}
#endif
