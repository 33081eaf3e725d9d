// One C body compiled once per instruction set: DG_DEFINE makes the AVX-512, AVX2 and portable
// variants of NAME##_body (the compiler vectorizes each for its target), DG_DISPATCH calls the one
// an `isa` code (DG_ISA_*) names. Off x86-64 only the portable variant exists.
#pragma once
#include "CDeepGEMMCPU.h"

#if defined(__x86_64__)
#define DG_HAS_X86_VARIANTS 1
#define DG_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))
#define DG_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define DG_HAS_X86_VARIANTS 0
#endif

#if DG_HAS_X86_VARIANTS
#define DG_DISPATCH(NAME, isa, ARGS)                                                               \
    (isa >= DG_ISA_AVX512 ? NAME##_avx512 ARGS : isa == DG_ISA_AVX2 ? NAME##_avx2 ARGS : NAME##_portable ARGS)
#define DG_DEFINE(RET, NAME, PARAMS, ARGS)                                                          \
    DG_TARGET_AVX512 static RET NAME##_avx512 PARAMS { return NAME##_body ARGS; }                 \
    DG_TARGET_AVX2 static RET NAME##_avx2 PARAMS { return NAME##_body ARGS; }                     \
    static RET NAME##_portable PARAMS { return NAME##_body ARGS; }
#else
#define DG_DISPATCH(NAME, isa, ARGS) ((void)(isa), NAME##_portable ARGS)
#define DG_DEFINE(RET, NAME, PARAMS, ARGS) static RET NAME##_portable PARAMS { return NAME##_body ARGS; }
#endif
