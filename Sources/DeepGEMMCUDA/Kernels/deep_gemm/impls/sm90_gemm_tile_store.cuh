// Epilogue of the SM90 GEMM kernels: the math warpgroups write their FP32 accumulator fragments
// into a shared output tile (BF16 through `stmatrix` into 128/64/32-byte swizzle atoms, FP32 as a
// plain tile) and a few threads store the tile, or reduce-add it, with TMA. Shared by every SM90
// kernel whose accumulators have wgmma's m64nN fragment layout.
#pragma once

#include <deep_gemm/impls/sm90_gemm_columns.cuh>
#include <deep_gemm/ptx/shared_store.cuh>
#include <deep_gemm/ptx/sync.cuh>
#include <deep_gemm/ptx/tma.cuh>

namespace dg {

/// The output tile of one CTA: `kNumWaves` waves of `WAVE_M` rows, each warp holding 16 rows of a
/// wave as `kNumAccum` floats per thread (wgmma's fragment order: for each 8-column chunk j,
/// values 4j..4j+1 at row lane/4 and 4j+2..4j+3 at row lane/4 + 8, columns 2*(lane%4)).
template <u32 BLOCK_M, u32 BLOCK_N, u32 kSwizzleD, u32 kNumMathThreads, u32 kNumWaves, u32 WAVE_M,
          u32 kNumAccum, typename OutT, bool kAccumulate, typename Columns = DenseColumns>
struct SM90TileStore {
    static constexpr bool kOutputBF16 = sizeof(OutT) == 2;
    /// Columns per TMA store: one swizzle atom (BF16) or the whole tile (FP32).
    static constexpr u32 kStoreAtomN = kOutputBF16 ? kSwizzleD / 2 : BLOCK_N;
    static constexpr u32 kStoreAtomBytes = BLOCK_M * kStoreAtomN * static_cast<u32>(sizeof(OutT));
    /// TMA stores per tile, each issued by its own thread.
    static constexpr u32 kNumStores = BLOCK_N / kStoreAtomN;

    static_assert(kOutputBF16 == (kSwizzleD != 0), "BF16 output goes through a swizzled tile, FP32 through a plain one");
    static_assert(BLOCK_N % kStoreAtomN == 0 and kNumStores <= 32, "too many TMA stores per tile");
    static_assert(kNumAccum == BLOCK_N / 2, "one m64nN fragment per wave");
    static_assert(Columns::whole_atoms(kStoreAtomN), "remapped column runs must be whole store atoms");

    /// Writes the fragments of every wave (`stores_rows`: whether this warp's rows exist in the
    /// tile) into `smem_d`, then stores the tile at (m_block, n_block) of `group` with TMA. Every
    /// math thread calls it; named barrier 1 orders the tile's reuse against the previous stores.
    DG_DEVICE static void store(const float* accum, bool stores_rows, u32 warp, u32 lane, unsigned char* smem_d,
                                const TensorMap* map_d, u32 m_block, u32 n_block, u32 group) {
        const u32 smem_d_address = ptx::shared_address(smem_d);

        // The previous tile's stores must have read the output tile before it is overwritten
        if (threadIdx.x < kNumStores)
            ptx::tma_wait_groups_read();
        ptx::named_barrier_sync(1, kNumMathThreads);

        if (stores_rows) {
            #pragma unroll
            for (u32 wave = 0; wave < kNumWaves; ++ wave) {
                const float* values = accum + wave * kNumAccum;
                const u32 warp_row = wave * WAVE_M + warp * 16;
                #pragma unroll
                for (u32 j = 0; j < BLOCK_N / 8; ++ j) {
                    if constexpr (kOutputBF16) {
                        // stmatrix: lanes 0-15 address rows warp_row + lane of the 8-column chunk j
                        const u32 column = j * 8;
                        const u32 atom = column / kStoreAtomN;
                        const u32 chunk = (column % kStoreAtomN) / 8;
                        const u32 in_atom = ptx::swizzled_offset<kSwizzleD>((warp_row + lane % 16) * kSwizzleD + chunk * 16);
                        ptx::stmatrix_x2(smem_d_address + atom * kStoreAtomBytes + in_atom,
                                         ptx::pack_bf16x2(values[j * 4 + 0], values[j * 4 + 1]),
                                         ptx::pack_bf16x2(values[j * 4 + 2], values[j * 4 + 3]));
                    } else {
                        const u32 row = warp_row + lane / 4;
                        const u32 column = j * 8 + (lane % 4) * 2;
                        ptx::store_shared(smem_d_address + (row * BLOCK_N + column) * 4, values[j * 4 + 0], values[j * 4 + 1]);
                        ptx::store_shared(smem_d_address + ((row + 8) * BLOCK_N + column) * 4, values[j * 4 + 2], values[j * 4 + 3]);
                    }
                }
            }
        }
        ptx::fence_async_shared();
        ptx::named_barrier_sync(1, kNumMathThreads);

        if (threadIdx.x < kNumStores) {
            const unsigned char* source = smem_d + threadIdx.x * kStoreAtomBytes;
            const u32 column = Columns::map(n_block * BLOCK_N + threadIdx.x * kStoreAtomN);
            const u32 row = m_block * BLOCK_M;
            if constexpr (kAccumulate)
                ptx::tma_reduce_add(map_d, source, column, row, group);
            else
                ptx::tma_store(map_d, source, column, row, group);
            ptx::tma_commit_group();
        }
    }

    /// Waits for this thread's last stores before the CTA exits.
    DG_DEVICE static void drain() {
        if (threadIdx.x < kNumStores)
            ptx::tma_wait_groups();
    }
};

} // namespace dg
