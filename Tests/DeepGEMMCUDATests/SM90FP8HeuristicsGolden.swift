/// DeepGEMM's SM90 FP8 1D2D configuration for each of its FP8 test shapes (spec api.md §5, §7.1,
/// §7.2) on 132 SMs, computed with a line-by-line Python port of csrc/jit_kernels/heuristics/sm90.hpp
/// and common.hpp for kernel type 1D2D (E4M3 operands, BF16 output), independent of the Swift code.
///
/// Columns: kind m n k groups expected_m -> block_m block_n cluster_m cluster_n stages shared_memory.
let deepGEMMSM90FP8Choices = """
normal 1 2112 7168 1 - -> 16 16 1 1 16 69088
normal 1 576 7168 1 - -> 16 16 1 1 16 69088
normal 1 24576 1536 1 - -> 16 96 2 1 15 220384
normal 1 32768 512 1 - -> 16 128 2 1 12 227088
normal 1 7168 16384 1 - -> 16 64 1 1 16 168704
normal 1 4096 7168 1 - -> 16 32 1 1 16 101856
normal 1 7168 2048 1 - -> 16 64 1 1 16 168256
normal 128 2112 7168 1 - -> 64 32 1 1 16 205280
normal 128 576 7168 1 - -> 64 16 1 1 16 170464
normal 128 24576 1536 1 - -> 128 192 1 1 4 215392
normal 128 32768 512 1 - -> 128 128 1 2 5 199440
normal 128 7168 16384 1 - -> 64 112 1 1 9 220672
normal 128 4096 7168 1 - -> 64 64 1 1 13 224992
normal 128 7168 2048 1 - -> 64 112 1 1 9 219776
normal 4096 2112 7168 1 - -> 128 192 2 1 4 215744
normal 4096 576 7168 1 - -> 128 144 1 1 5 214208
normal 4096 24576 1536 1 - -> 256 128 1 2 3 216368
normal 4096 32768 512 1 - -> 256 128 1 2 3 216336
normal 4096 7168 16384 1 - -> 256 128 1 2 3 216832
normal 4096 4096 7168 1 - -> 256 128 1 2 3 216544
normal 4096 7168 2048 1 - -> 256 128 1 2 3 216384
mGroupedContiguous 32768 6144 7168 4 - -> 128 192 2 1 4 215744
mGroupedContiguousPsum 32768 6144 7168 4 - -> 128 192 2 1 4 215744
mGroupedContiguousPsum 32768 6144 7168 4 8192 -> 128 192 2 1 4 215744
mGroupedContiguous 32768 7168 3072 4 - -> 128 192 2 1 4 215488
mGroupedContiguousPsum 32768 7168 3072 4 - -> 128 192 2 1 4 215488
mGroupedContiguousPsum 32768 7168 3072 4 8192 -> 128 192 2 1 4 215488
mGroupedContiguous 32768 4096 4096 4 - -> 128 192 2 1 4 215552
mGroupedContiguousPsum 32768 4096 4096 4 - -> 128 192 2 1 4 215552
mGroupedContiguousPsum 32768 4096 4096 4 8192 -> 128 192 2 1 4 215552
mGroupedContiguous 32768 4096 2048 4 - -> 128 192 2 1 4 215424
mGroupedContiguousPsum 32768 4096 2048 4 - -> 128 192 2 1 4 215424
mGroupedContiguousPsum 32768 4096 2048 4 8192 -> 128 192 2 1 4 215424
mGroupedContiguous 32768 6144 7168 8 - -> 128 192 2 1 4 215744
mGroupedContiguousPsum 32768 6144 7168 8 - -> 128 192 2 1 4 215744
mGroupedContiguousPsum 32768 6144 7168 8 4096 -> 128 192 2 1 4 215744
mGroupedContiguous 32768 7168 3072 8 - -> 128 192 2 1 4 215488
mGroupedContiguousPsum 32768 7168 3072 8 - -> 128 192 2 1 4 215488
mGroupedContiguousPsum 32768 7168 3072 8 4096 -> 128 192 2 1 4 215488
mGroupedContiguous 32768 4096 4096 8 - -> 128 192 2 1 4 215552
mGroupedContiguousPsum 32768 4096 4096 8 - -> 128 192 2 1 4 215552
mGroupedContiguousPsum 32768 4096 4096 8 4096 -> 128 192 2 1 4 215552
mGroupedContiguous 32768 4096 2048 8 - -> 128 192 2 1 4 215424
mGroupedContiguousPsum 32768 4096 2048 8 - -> 128 192 2 1 4 215424
mGroupedContiguousPsum 32768 4096 2048 8 4096 -> 128 192 2 1 4 215424
mGroupedMasked 4096 6144 7168 32 230 -> 128 192 2 1 4 215744
mGroupedMasked 4096 7168 3072 32 230 -> 128 192 2 1 4 215488
mGroupedMasked 4096 4096 4096 32 230 -> 128 192 2 1 4 215552
mGroupedMasked 4096 4096 2048 32 230 -> 128 192 2 1 4 215424
mGroupedMasked 4096 6144 7168 6 1228 -> 128 192 2 1 4 215744
mGroupedMasked 4096 7168 3072 6 1228 -> 128 192 2 1 4 215488
mGroupedMasked 4096 4096 4096 6 1228 -> 128 192 2 1 4 215552
mGroupedMasked 4096 4096 2048 6 1228 -> 128 192 2 1 4 215424
mGroupedMasked 4096 6144 7168 32 24 -> 64 192 2 1 6 223424
mGroupedMasked 4096 7168 3072 32 24 -> 64 192 2 1 6 223168
mGroupedMasked 4096 4096 4096 32 24 -> 64 128 2 1 8 215424
mGroupedMasked 4096 4096 2048 32 24 -> 64 128 2 1 8 215360
mGroupedMasked 4096 6144 7168 6 24 -> 64 96 2 1 10 220352
mGroupedMasked 4096 7168 3072 6 24 -> 64 192 2 1 6 223168
mGroupedMasked 4096 4096 4096 6 24 -> 64 192 1 1 6 223232
mGroupedMasked 4096 4096 2048 6 24 -> 64 192 1 1 6 223104
"""
