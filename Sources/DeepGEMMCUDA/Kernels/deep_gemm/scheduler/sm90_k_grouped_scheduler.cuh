// Persistent tile scheduler of the SM90 k-grouped GEMM (`k_grouped_fp8_gemm_nt_contiguous`): the
// groups split K, every group writes its own [M, N] output, and a group with K == 0 has no tiles
// (its output keeps C). Non-empty groups are laid end to end, each one [M, N] grid of tiles walked
// in the swizzled band order of `SM90TileScheduler` (normal kind), and CTA `cta` takes tiles cta,
// cta + kNumSMs, ... of that sequence. Besides the tile, it tells the kernel the group, the group's
// K and the group's first K (elements, and 128-wide scale blocks).
//
// A cluster of two pairs tiles 2i and 2i + 1; both must lie in one group (same K, same operands),
// which holds when a group has an even number of tiles: the heuristics pick clusters only then.
// The host tests of `swift test` run this code with runtime parameters, as for the other scheduler.
#pragma once

#include <deep_gemm/scheduler/sm90_tile_scheduler.cuh>

namespace dg::sched {

template <typename Shape>
struct SM90KGroupedScheduler {
    /// Width of a scale block along K; every group's K is a multiple of it.
    static constexpr u32 kScaleBlockK = 128;

    /// The walker of one group's [M, N] grid (normal kind): band order and multicast rules.
    SM90TileScheduler<Shape> tiles;
    /// K of every group (`Shape::num_groups` entries).
    const u32* ks;
    u32 cta;
    int iteration = -1;
    /// Tiles of all non-empty groups.
    u32 total_tiles = 0;

    /// The group of the current tile.
    u32 group = 0;
    /// Non-empty groups before `group`.
    u32 groups_before = 0;
    /// The group's first K (sum of the K of the groups before it) and its K.
    u32 k_offset = 0;
    u32 shape_k = 0;
    /// Whether the other CTA of the cluster has a tile in this round.
    bool peer_alive = true;

    DG_HOST_DEVICE SM90KGroupedScheduler(const Shape& params, u32 cta_index, u32 shape_m, u32 shape_n, const u32* group_ks)
        : tiles(params, cta_index, shape_m, shape_n, nullptr), ks(group_ks), cta(cta_index) {
        u32 non_empty = 0;
        for (u32 g = 0; g < params.num_groups; ++ g)
            non_empty += ks[g] != 0 ? 1 : 0;
        total_tiles = non_empty * tiles.num_blocks;
        group = first_non_empty(0);
    }

    /// The first group at or after `g` with K > 0 (`num_groups` when there is none).
    DG_HOST_DEVICE u32 first_non_empty(u32 g) const {
        while (g < tiles.shape.num_groups and ks[g] == 0)
            ++ g;
        return g;
    }

    /// Advances to this CTA's next tile; false when there is none.
    DG_HOST_DEVICE bool next(u32& m_block, u32& n_block) {
        const u32 tile = static_cast<u32>(++ iteration) * tiles.shape.num_sms + cta;
        if (tile >= total_tiles)
            return false;
        while (tile >= (groups_before + 1) * tiles.num_blocks) {
            k_offset += ks[group];
            ++ groups_before;
            group = first_non_empty(group + 1);
        }
        shape_k = ks[group];
        peer_alive = (tile ^ 1) < total_tiles;
        tiles.peer_alive = peer_alive;
        tiles.locate(tile - groups_before * tiles.num_blocks, m_block, n_block);
        return true;
    }

    /// The current group's first scale block along K.
    DG_HOST_DEVICE u32 sf_k_offset() const { return k_offset / kScaleBlockK; }

    /// Whether the cluster may multicast the shared operand of the current tile pair.
    DG_HOST_DEVICE bool multicast_valid(u32 m_block) const { return tiles.multicast_valid(m_block); }
};

} // namespace dg::sched
