// Basic types shared by every kernel: fixed-width integers, operand major-ness, GEMM kinds and the
// 128-byte tensor-map parameter the host encodes with cuTensorMapEncodeTiled.
//
// Headers that hold only arithmetic (this one, the tile schedulers, the shared-memory layouts) also
// compile as plain C++ for the host, where `swift test` checks them without a GPU.
#pragma once

#if defined(__CUDACC__) or defined(__CUDACC_RTC__)
#include <cuda_bf16.h>
#define DG_DEVICE __device__ __forceinline__
#define DG_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define DG_DEVICE inline
#define DG_HOST_DEVICE inline
#endif

namespace dg {

using u16 = unsigned short;
using u32 = unsigned int;
using u64 = unsigned long long;

/// Which dimension of an operand is contiguous in memory.
enum class Major : u32 { K = 0, MN = 1 };

/// How tiles map to groups of a grouped GEMM.
enum class GemmKind : u32 {
    /// One [M, N] output.
    Normal = 0,
    /// Rows of A (and D) carry a group id each; B is [G, N, K].
    MGroupedContiguous = 1,
    /// A is [G, Mmax, K]; only the first masked_m[g] rows of each group count.
    MGroupedMasked = 2,
    /// Groups are row ranges given by cumulative end offsets (psum layout); group g starts at the
    /// previous end aligned up to BLOCK_M.
    MGroupedContiguousPsum = 3,
};

/// The opaque TMA descriptor (CUtensorMap), passed to kernels as a __grid_constant__ parameter.
struct alignas(64) TensorMap {
    u64 opaque[16];
};

template <typename T>
DG_HOST_DEVICE constexpr T ceil_div(T a, T b) {
    return (a + b - 1) / b;
}

template <typename T>
DG_HOST_DEVICE constexpr T min_of(T a, T b) {
    return a < b ? a : b;
}

template <typename T>
DG_HOST_DEVICE constexpr T max_of(T a, T b) {
    return a < b ? b : a;
}

} // namespace dg
