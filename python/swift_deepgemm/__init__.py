"""swift_deepgemm: DeepGEMM's Python interface over swift-deepgemm's C library.

``import swift_deepgemm as deep_gemm`` runs DeepGEMM code: the op functions (generated from the
library's op table with DeepGEMM's names, signatures and defaults), the runtime settings,
Mega MoE's symmetric buffer, and the ``utils`` and ``testing`` modules. Ops take torch tensors
(CPU, or CUDA where the library has a kernel) or NumPy arrays, zero copy.
"""

from ._errors import (DGArgumentError, DGBackendUnavailableError, DGError, DGRankError, DGTypeError,
                      DGUnsupportedError)
from ._abi import library_path
from ._settings import *  # noqa: F401,F403  (DeepGEMM's set_*/get_* functions)
from ._settings import __all__ as _settings_all
from ._ops import FUNCTIONS as _FUNCTIONS, OP_TABLE as op_table
from ._mega_moe import SymmBuffer, get_symm_buffer_for_mega_moe

# Ops of the table; the settings above keep their direct C entry points.
globals().update({n: f for n, f in _FUNCTIONS.items() if n not in _settings_all})

# DeepGEMM's legacy aliases, where the table lacks them.
_ALIASES = {
    "fp8_m_grouped_gemm_nt_masked": "m_grouped_fp8_gemm_nt_masked",
    "bf16_m_grouped_gemm_nt_masked": "m_grouped_bf16_gemm_nt_masked",
}
for _alias, _target in _ALIASES.items():
    if _alias not in globals() and _target in globals():
        globals()[_alias] = globals()[_target]

from . import testing, utils  # noqa: E402
from .utils import *  # noqa: E402,F401,F403
from .utils import __all__ as _utils_all  # noqa: E402

__version__ = version()  # noqa: F405

__all__ = sorted(set(_FUNCTIONS) | {a for a in _ALIASES if a in globals()} | set(_settings_all) | set(_utils_all) | {
    "DGError", "DGArgumentError", "DGTypeError", "DGUnsupportedError", "DGBackendUnavailableError",
    "DGRankError", "SymmBuffer", "get_symm_buffer_for_mega_moe", "op_table", "library_path", "testing",
    "utils"})
