"""DeepGEMM's ``deep_gemm.utils``: quantization casts and scale-factor layout helpers.

Helpers the library implements (the casts, FP4 packing, UE8M0 packing, TMA-aligned layouts) are
its ops, called through the C ABI; ``ceil_div`` and ``align`` are plain Python.
"""

from ._ops import FUNCTIONS as _FUNCTIONS
from ._settings import (get_k_alignment_for_contiguous_layout, get_m_alignment_for_contiguous_layout,
                        get_mk_alignment_for_contiguous_layout,
                        get_theoretical_mk_alignment_for_contiguous_layout,
                        set_mk_alignment_for_contiguous_layout)

_LIBRARY_HELPERS = (
    "ceil_to_ue8m0", "pack_ue8m0_to_int", "unpack_ue8m0_from_int",
    "per_token_cast_to_fp8", "per_channel_cast_to_fp8", "per_block_cast_to_fp8", "per_custom_dims_cast_to_fp8",
    "per_token_cast_to_fp4", "transpose_packed_fp4", "cast_back_from_fp4",
    "get_tma_aligned_size", "get_mn_major_tma_aligned_tensor", "get_mn_major_tma_aligned_packed_ue8m0_tensor",
    "get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor",
)


def ceil_div(x: int, y: int) -> int:
    """``ceil(x / y)`` for integers."""
    return (x + y - 1) // y


def align(x: int, y: int) -> int:
    """``x`` rounded up to a multiple of ``y``."""
    return ceil_div(x, y) * y


globals().update({name: _FUNCTIONS[name] for name in _LIBRARY_HELPERS if name in _FUNCTIONS})

__all__ = ["ceil_div", "align", "set_mk_alignment_for_contiguous_layout", "get_mk_alignment_for_contiguous_layout",
           "get_m_alignment_for_contiguous_layout", "get_k_alignment_for_contiguous_layout",
           "get_theoretical_mk_alignment_for_contiguous_layout"] + [n for n in _LIBRARY_HELPERS if n in _FUNCTIONS]
