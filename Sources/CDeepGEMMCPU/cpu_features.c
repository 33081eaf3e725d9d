#include "CDeepGEMMCPU.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
/// AMX-TILE, AMX-BF16 and AMX-INT8 bits: CPUID leaf 7 EDX bits 24, 22 and 25, reported only when
/// the OS enables the tile state in XCR0 (bits 17 XTILECFG and 18 XTILEDATA, read with xgetbv after
/// OSXSAVE).
static uint32_t amx_features(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return 0;  // OSXSAVE
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    const unsigned tile_state = (1u << 17) | (1u << 18);
    if ((xcr0_low & tile_state) != tile_state) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    uint32_t features = 0;
    if (edx & (1u << 24)) features |= DG_CPU_AMX_TILE;
    if (edx & (1u << 22)) features |= DG_CPU_AMX_BF16;
    if (edx & (1u << 25)) features |= DG_CPU_AMX_INT8;
    return features;
}
#endif

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
    features |= amx_features();
#elif defined(__aarch64__)
    features |= DG_CPU_NEON;
#endif
    return features;
}

int dg_cpu_amx_ready(void) {
#if defined(__x86_64__) && defined(__linux__)
    // -1: not asked yet. Racing first callers both ask; the request is idempotent.
    static int ready = -1;
    int state = __atomic_load_n(&ready, __ATOMIC_ACQUIRE);
    if (state < 0) {
        const uint32_t needed = DG_CPU_AMX_TILE | DG_CPU_AMX_BF16;
        enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
        state = (dg_cpu_features() & needed) == needed && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
        __atomic_store_n(&ready, state, __ATOMIC_RELEASE);
    }
    return state;
#else
    return 0;
#endif
}
