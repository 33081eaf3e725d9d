// Persistent tile scheduler for SM90 GEMMs. CTA `cta` takes tiles cta, cta + kNumSMs,
// cta + 2*kNumSMs, ... of a swizzled tile order: tiles are walked in bands of `band_width` blocks
// along one dimension so that concurrently running CTAs share operand panels in L2. With a cluster
// of two, the two CTAs of a cluster (consecutive CTA indices) get neighbouring tiles that share the
// multicast operand: the same M block (multicast of A) or the same N block (multicast of B).
//
// The scheduler reads its parameters from a `Shape`: kernels pass `SM90TileShape<...>`, whose
// members are compile-time constants, and the host tests of `swift test` pass a struct of runtime
// values, so the arithmetic they check is this code, not a copy of it.
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg::sched {

/// Compile-time scheduler parameters of one kernel instantiation.
template <GemmKind kKind, u32 kBlockM, u32 kBlockN, u32 kNumGroups, u32 kClusterSize, bool kMulticastOnA,
          u32 kBandWidth, u32 kNumSMs>
struct SM90TileShape {
    static_assert(kClusterSize == 1 or kClusterSize == 2, "clusters of one or two CTAs");
    static_assert(kBandWidth % 2 == 0, "bands pair tiles");

    static constexpr GemmKind kind = kKind;
    static constexpr u32 block_m = kBlockM;
    static constexpr u32 block_n = kBlockN;
    static constexpr u32 num_groups = kNumGroups;
    static constexpr u32 cluster_size = kClusterSize;
    static constexpr bool multicast_on_a = kMulticastOnA;
    static constexpr u32 band_width = kBandWidth;
    static constexpr u32 num_sms = kNumSMs;
};

template <typename Shape>
struct SM90TileScheduler {
    const Shape shape;
    const int* grouped_layout;
    u32 cta;
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

    DG_HOST_DEVICE SM90TileScheduler(const Shape& params, u32 cta_index, u32 rows, u32 shape_n, const int* layout)
        : shape(params), grouped_layout(layout), cta(cta_index), shape_m(rows) {
        num_m_blocks = ceil_div(shape_m, shape.block_m);
        num_n_blocks = ceil_div(shape_n, shape.block_n);
        num_blocks = num_m_blocks * num_n_blocks;
    }

    /// Maps a tile index inside one [num_m_blocks, num_n_blocks] grid to block coordinates.
    DG_HOST_DEVICE void locate(u32 tile, u32& m_block, u32& n_block) {
        const u32 primary = shape.multicast_on_a ? num_n_blocks : num_m_blocks;
        const u32 secondary = shape.multicast_on_a ? num_m_blocks : num_n_blocks;
        const u32 band_tiles = secondary * shape.band_width;
        u32 first = (tile / band_tiles) * shape.band_width;
        u32 in_band = tile % band_tiles;
        band_width = min_of(shape.band_width, primary - first);

        // An odd band keeps its tiles paired by splitting off its last line as a band of width one
        if (shape.cluster_size > 1 and band_width % 2 == 1) {
            const u32 paired = band_width - 1;
            if (in_band < paired * secondary) {
                band_width = paired;
            } else {
                in_band -= paired * secondary;
                first += paired;
                band_width = 1;
            }
        }

        if (shape.multicast_on_a) {
            m_block = in_band / band_width;
            n_block = first + in_band % band_width;
        } else {
            m_block = first + in_band % band_width;
            n_block = in_band / band_width;
        }
    }

    /// Advances to this CTA's next tile; false when there is none.
    DG_HOST_DEVICE bool next(u32& m_block, u32& n_block) {
        const u32 tile = static_cast<u32>(++iteration) * shape.num_sms + cta;
        if (shape.kind == GemmKind::MGroupedMasked) {
            while (true) {
                if (group == shape.num_groups)
                    return false;
                num_m_blocks = ceil_div(static_cast<u32>(grouped_layout[group]), shape.block_m);
                const u32 group_tiles = num_m_blocks * num_n_blocks;
                if (tile < group_first_tile + group_tiles)
                    break;
                group_first_tile += group_tiles;
                ++group;
            }
            locate(tile - group_first_tile, m_block, n_block);
        } else if (shape.kind == GemmKind::MGroupedContiguousPsum) {
            while (true) {
                if (group == shape.num_groups)
                    return false;
                group_end = static_cast<u32>(grouped_layout[group]);
                num_m_blocks = ceil_div(group_end - group_start, shape.block_m);
                const u32 group_tiles = num_m_blocks * num_n_blocks;
                if (tile < group_first_tile + group_tiles)
                    break;
                group_first_tile += group_tiles;
                group_start = ceil_div(group_end, shape.block_m) * shape.block_m;
                ++group;
            }
            locate(tile - group_first_tile, m_block, n_block);
            m_block += group_start / shape.block_m;
        } else {
            if (tile >= num_blocks)
                return false;
            peer_alive = (tile ^ 1) < num_blocks;
            locate(tile, m_block, n_block);
            if (shape.kind == GemmKind::MGroupedContiguous)
                group = static_cast<u32>(max_of(grouped_layout[m_block * shape.block_m], 0));
        }
        return true;
    }

    /// Whether the cluster may multicast the shared operand of the current tile pair.
    DG_HOST_DEVICE bool multicast_valid(u32 m_block) const {
        if (shape.cluster_size == 1 or band_width == 1 or not peer_alive)
            return false;
        if (shape.kind == GemmKind::MGroupedContiguous and not shape.multicast_on_a) {
            // Neighbouring M blocks share B only inside one group
            return grouped_layout[m_block * shape.block_m] == grouped_layout[(m_block ^ 1) * shape.block_m];
        }
        return true;
    }

    /// Whether rows starting at `row` of the tile hold real work (padding rows of a contiguous layout,
    /// and whole sub-blocks past a psum group's end, do not).
    DG_HOST_DEVICE bool rows_valid(u32 m_block, u32 row) const {
        if (shape.kind == GemmKind::MGroupedContiguous) {
            const u32 first_row = m_block * shape.block_m + row;
            return first_row < shape_m and grouped_layout[first_row] >= 0;
        }
        if (shape.kind == GemmKind::MGroupedContiguousPsum)
            return m_block * shape.block_m + row < group_end;
        return true;
    }
};

} // namespace dg::sched
