// Persistent tile scheduler for SM90 GEMMs. CTA `blockIdx.x` takes tiles blockIdx.x, +kNumSMs,
// +2*kNumSMs, ... of a swizzled tile order: tiles are walked in bands of `kBandWidth` blocks along
// one dimension so that concurrently running CTAs share operand panels in L2. With a cluster of two,
// the two CTAs of a cluster (consecutive blockIdx.x) get neighbouring tiles that share the
// multicast operand: the same M block (multicast of A) or the same N block (multicast of B).
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg::sched {

template <GemmKind kKind, u32 BLOCK_M, u32 BLOCK_N, u32 kNumGroups, u32 kClusterSize, bool kMulticastOnA,
          u32 kBandWidth, u32 kNumSMs>
struct SM90TileScheduler {
    static_assert(kClusterSize == 1 or kClusterSize == 2, "clusters of one or two CTAs");
    static_assert(kBandWidth % 2 == 0, "bands pair tiles");

    const int* grouped_layout;
    u32 shape_m;
    u32 num_m_blocks;
    u32 num_n_blocks;
    u32 num_blocks;
    int iteration = -1;

    /// The group of the current tile (masked and contiguous kinds).
    u32 group = 0;
    /// Masked and psum kinds: tiles of the groups before `group`.
    u32 group_first_tile = 0;
    /// Psum kind: the first row of `group` (the previous end aligned to BLOCK_M) and one past its last row.
    u32 group_start = 0;
    u32 group_end = 0;
    /// Width of the band the current tile lies in (1 for an unpaired tail).
    u32 band_width = 0;
    /// Whether the other CTA of the cluster has a tile in this round.
    bool peer_alive = true;

    DG_DEVICE SM90TileScheduler(u32 rows, u32 shape_n, const int* layout) : grouped_layout(layout), shape_m(rows) {
        num_m_blocks = ceil_div(shape_m, BLOCK_M);
        num_n_blocks = ceil_div(shape_n, BLOCK_N);
        num_blocks = num_m_blocks * num_n_blocks;
    }

    /// Maps a tile index inside one [num_m_blocks, num_n_blocks] grid to block coordinates.
    DG_DEVICE void locate(u32 tile, u32& m_block, u32& n_block) {
        const u32 primary = kMulticastOnA ? num_n_blocks : num_m_blocks;
        const u32 secondary = kMulticastOnA ? num_m_blocks : num_n_blocks;
        const u32 band_tiles = secondary * kBandWidth;
        u32 first = (tile / band_tiles) * kBandWidth;
        u32 in_band = tile % band_tiles;
        band_width = min_of(kBandWidth, primary - first);

        // An odd band keeps its tiles paired by splitting off its last line as a band of width one
        if (kClusterSize > 1 and band_width % 2 == 1) {
            const u32 paired = band_width - 1;
            if (in_band < paired * secondary) {
                band_width = paired;
            } else {
                in_band -= paired * secondary;
                first += paired;
                band_width = 1;
            }
        }

        if (kMulticastOnA) {
            m_block = in_band / band_width;
            n_block = first + in_band % band_width;
        } else {
            m_block = first + in_band % band_width;
            n_block = in_band / band_width;
        }
    }

    /// Advances to this CTA's next tile; false when there is none.
    DG_DEVICE bool next(u32& m_block, u32& n_block) {
        const u32 tile = static_cast<u32>(++iteration) * kNumSMs + blockIdx.x;
        if constexpr (kKind == GemmKind::MGroupedMasked) {
            while (true) {
                if (group == kNumGroups)
                    return false;
                num_m_blocks = ceil_div(static_cast<u32>(grouped_layout[group]), BLOCK_M);
                const u32 group_tiles = num_m_blocks * num_n_blocks;
                if (tile < group_first_tile + group_tiles)
                    break;
                group_first_tile += group_tiles;
                ++group;
            }
            locate(tile - group_first_tile, m_block, n_block);
        } else if constexpr (kKind == GemmKind::MGroupedContiguousPsum) {
            while (true) {
                if (group == kNumGroups)
                    return false;
                group_end = static_cast<u32>(grouped_layout[group]);
                num_m_blocks = ceil_div(group_end - group_start, BLOCK_M);
                const u32 group_tiles = num_m_blocks * num_n_blocks;
                if (tile < group_first_tile + group_tiles)
                    break;
                group_first_tile += group_tiles;
                group_start = ceil_div(group_end, BLOCK_M) * BLOCK_M;
                ++group;
            }
            locate(tile - group_first_tile, m_block, n_block);
            m_block += group_start / BLOCK_M;
        } else {
            if (tile >= num_blocks)
                return false;
            peer_alive = (tile ^ 1) < num_blocks;
            locate(tile, m_block, n_block);
            if constexpr (kKind == GemmKind::MGroupedContiguous)
                group = static_cast<u32>(max(grouped_layout[m_block * BLOCK_M], 0));
        }
        return true;
    }

    /// Whether the cluster may multicast the shared operand of the current tile pair.
    DG_DEVICE bool multicast_valid(u32 m_block) const {
        if (kClusterSize == 1 or band_width == 1 or not peer_alive)
            return false;
        if constexpr (kKind == GemmKind::MGroupedContiguous and not kMulticastOnA) {
            // Neighbouring M blocks share B only inside one group
            return grouped_layout[m_block * BLOCK_M] == grouped_layout[(m_block ^ 1) * BLOCK_M];
        }
        return true;
    }

    /// Whether rows starting at `row` of the tile hold real work (padding rows of a contiguous layout,
    /// and whole sub-blocks past a psum group's end, do not).
    DG_DEVICE bool rows_valid(u32 m_block, u32 row) const {
        if constexpr (kKind == GemmKind::MGroupedContiguous) {
            const u32 first_row = m_block * BLOCK_M + row;
            return first_row < shape_m and grouped_layout[first_row] >= 0;
        }
        if constexpr (kKind == GemmKind::MGroupedContiguousPsum)
            return m_block * BLOCK_M + row < group_end;
        return true;
    }
};

} // namespace dg::sched
