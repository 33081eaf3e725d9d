// Pipeline pieces shared by the SM90 GEMM kernels: how a kernel starts (tensor-map prefetch,
// barrier set-up, PDL wait), how the producer loads one operand tile with TMA (locally or multicast
// to the 2-CTA cluster) and how a math warp releases a stage to the producers of every CTA that
// wrote into it.
#pragma once

#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>

namespace dg {

/// How a CTA takes part in loading one operand tile.
enum class TileLoad : u32 {
    /// The other CTA of the cluster multicasts it here.
    Skip = 0,
    /// This CTA loads its own copy.
    Local = 1,
    /// This CTA loads it for every CTA of the cluster.
    Multicast = 2,
};

/// Issues the TMA copies of one [BLOCK_MN, BLOCK_K] operand tile of `kElementBytes`-byte elements
/// at (mn, k) of group `group`. K-major tiles are one box; MN-major tiles are one box per swizzle
/// atom along MN.
template <Major kMajor, u32 BLOCK_MN, u32 BLOCK_K, u32 kSwizzleBytes, u32 kElementBytes = 2>
DG_DEVICE void load_operand_tile(const TensorMap* map, ptx::Barrier* barrier, unsigned char* tile,
                                 u32 mn, u32 k, u32 group, TileLoad mode) {
    if (mode == TileLoad::Skip)
        return;
    constexpr u32 kAtom = kSwizzleBytes / kElementBytes;
    constexpr u32 kNumBoxes = kMajor == Major::K ? 1 : BLOCK_MN / kAtom;
    #pragma unroll
    for (u32 i = 0; i < kNumBoxes; ++ i) {
        const u32 c0 = kMajor == Major::K ? k : mn + i * kAtom;
        const u32 c1 = kMajor == Major::K ? mn : k;
        unsigned char* destination = tile + i * BLOCK_K * kAtom * kElementBytes;
        if (mode == TileLoad::Multicast)
            ptx::tma_load_multicast(map, barrier, destination, c0, c1, group, 0x3);
        else
            ptx::tma_load(map, barrier, destination, c0, c1, group);
    }
}

/// The start every SM90 GEMM kernel shares. The producer's first warp (`kNumMathWarps`) prefetches
/// the tensor maps; the next initialises each stage's full barrier (one arrival: the producer's
/// transaction) and empty barrier (one arrival per math warp of every CTA of the cluster). The
/// cluster (or CTA) then syncs, so no barrier is used before it exists, and every thread waits for
/// the previous grid's writes (programmatic dependent launch).
template <u32 kNumMathWarps, u32 kNumStages, u32 kClusterSize, typename... Maps>
DG_DEVICE void sm90_gemm_start(u32 warp, ptx::Barrier* full_barriers, ptx::Barrier* empty_barriers, const Maps*... maps) {
    if (warp == kNumMathWarps and ptx::elect_one())
        (ptx::prefetch_tensor_map(maps), ...);
    if (warp == kNumMathWarps + 1 and ptx::elect_one()) {
        #pragma unroll
        for (u32 i = 0; i < kNumStages; ++ i) {
            full_barriers[i].init(1);
            empty_barriers[i].init(kClusterSize * kNumMathWarps);
        }
        ptx::fence_barrier_init();
    }
    if constexpr (kClusterSize > 1)
        ptx::cluster_sync();
    else
        __syncthreads();
    ptx::wait_for_previous_grid();
}

/// One arrival per math warp on the empty barrier of a consumed stage, in every CTA whose producer
/// may have written into it (both CTAs of a cluster while the peer has a tile, else only this one).
template <u32 kClusterSize>
DG_DEVICE void release_stage(ptx::Barrier* empty_barrier, u32 lane, bool peer_alive) {
    if constexpr (kClusterSize == 1) {
        if (lane == 0)
            empty_barrier->arrive();
    } else {
        if (lane < kClusterSize)
            empty_barrier->arrive_in_cta(peer_alive ? lane : ptx::cluster_cta_rank());
    }
}

} // namespace dg
