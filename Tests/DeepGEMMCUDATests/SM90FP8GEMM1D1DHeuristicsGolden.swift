/// DeepGEMM's SM90 FP8 1D1D configuration for its 1D1D test shapes on 132 SMs: the weight-gradient
/// GEMMs of its dense FP8 tests (M = N', N = 4096, F32 D with C), a few other dense shapes, and its
/// k-grouped shapes (`k_grouped_fp8_gemm_nt_contiguous`, at the largest K 1.3x the expected and at the
/// expected K), computed with a Python port of csrc/jit_kernels/heuristics/sm90.hpp and common.hpp
/// for kernel type 1D1D (E4M3 operands, float32 C/D), independent of the Swift code.
///
/// Columns: kind m n k groups -> block_m block_n cluster_m cluster_n stages shared_memory
/// (k is the largest group's K for kGrouped rows).
let deepGEMMSM90FP81D1DChoices = """
normal 2112 4096 7168 1 -> 128 136 2 1 4 209664
normal 576 4096 7168 1 -> 64 152 2 1 6 210432
normal 24576 4096 1536 1 -> 128 152 2 1 4 226048
normal 32768 4096 512 1 -> 128 152 2 1 4 226048
normal 7168 4096 16384 1 -> 128 152 2 1 4 226048
normal 4096 4096 7168 1 -> 128 152 2 1 4 226048
normal 7168 4096 2048 1 -> 128 152 2 1 4 226048
kGrouped 4096 7168 10752 4 -> 128 152 2 1 4 226560
kGrouped 4096 7168 8192 4 -> 128 152 2 1 4 226560
kGrouped 7168 2048 10752 4 -> 128 152 2 1 4 226560
kGrouped 7168 2048 8192 4 -> 128 152 2 1 4 226560
kGrouped 4096 7168 5376 8 -> 128 152 1 1 4 226560
kGrouped 4096 7168 4096 8 -> 128 152 1 1 4 226560
kGrouped 7168 2048 5376 8 -> 128 152 1 1 4 226560
kGrouped 7168 2048 4096 8 -> 128 152 1 1 4 226560
kGrouped 4096 7168 2688 16 -> 128 152 1 1 4 226560
kGrouped 4096 7168 2048 16 -> 128 152 1 1 4 226560
kGrouped 7168 2048 2688 16 -> 128 152 1 1 4 226560
kGrouped 7168 2048 2048 16 -> 128 152 1 1 4 226560
normal 64 7168 2048 1 -> 64 56 1 1 13 220928
normal 128 4096 7168 1 -> 64 72 1 1 11 217216
normal 256 256 7168 1 -> 64 16 1 1 16 174336
normal 4096 129280 7168 1 -> 128 152 2 1 4 226048
"""
