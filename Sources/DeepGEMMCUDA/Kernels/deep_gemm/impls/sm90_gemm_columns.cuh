// Where the SM90 GEMM epilogues store output columns: as they are, or spread over heads with an
// unwritten gap (`fp8_gemm_nt_skip_head_mid`). Pure arithmetic, also compiled for the host tests.
#pragma once

#include <deep_gemm/common/types.cuh>

namespace dg {

/// Output columns as they are: D's column n holds product column n.
struct DenseColumns {
    DG_HOST_DEVICE static constexpr bool whole_atoms(u32) { return true; }
    DG_HOST_DEVICE static constexpr u32 map(u32 column) { return column; }
};

/// The D column of product column `column` when heads of `left + right` product columns leave
/// `mid` columns after their left part.
DG_HOST_DEVICE constexpr u32 head_mid_column(u32 column, u32 left, u32 mid, u32 right) {
    return column + (column + right) / (left + right) * mid;
}

/// `fp8_gemm_nt_skip_head_mid`'s columns: product columns come in heads of kLeft + kRight, and D
/// leaves kMid unwritten columns after the left part of every head. Every part must be a whole
/// number of store atoms, so each atom moves as one piece.
template <u32 kLeft, u32 kMid, u32 kRight>
struct HeadMidColumns {
    static_assert(kLeft + kRight > 0, "a head has columns");
    DG_HOST_DEVICE static constexpr bool whole_atoms(u32 atom) { return kLeft % atom == 0 and kMid % atom == 0 and kRight % atom == 0; }
    DG_HOST_DEVICE static constexpr u32 map(u32 column) { return head_mid_column(column, kLeft, kMid, kRight); }
};

} // namespace dg
