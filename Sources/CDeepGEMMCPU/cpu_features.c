#include "CDeepGEMMCPU.h"

uint32_t dg_cpu_features(void) {
    uint32_t features = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) features |= DG_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) features |= DG_CPU_FMA;
    if (__builtin_cpu_supports("f16c")) features |= DG_CPU_F16C;
    if (__builtin_cpu_supports("avx512f")) features |= DG_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) features |= DG_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) features |= DG_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512dq")) features |= DG_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512bf16")) features |= DG_CPU_AVX512BF16;
    if (__builtin_cpu_supports("avx512vnni")) features |= DG_CPU_AVX512VNNI;
    if (__builtin_cpu_is("intel")) features |= DG_CPU_INTEL;
#elif defined(__aarch64__)
    features |= DG_CPU_NEON;
#endif
    return features;
}
