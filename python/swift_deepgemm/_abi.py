"""Loads libdeepgemm.so and declares the C ABI of deepgemm.h for ctypes.

The library is ``$DG_LIBRARY_PATH`` when set, else the copy packaged next to this file.
ctypes.CDLL releases the GIL for the duration of every call.
"""

import ctypes
import os

from ._errors import STATUS_ERRORS, DGError

ABI_VERSION = 1

_c = ctypes
_vp = _c.c_void_p
_i32 = _c.c_int32
_i64 = _c.c_int64


class DGTensor(_c.Structure):
    """``dg_tensor`` (DLPack's DLTensor layout): 48 bytes."""

    _fields_ = [
        ("data", _vp),
        ("device_type", _i32),
        ("device_id", _i32),
        ("ndim", _i32),
        ("code", _c.c_uint8),
        ("bits", _c.c_uint8),
        ("lanes", _c.c_uint16),
        ("shape", _c.POINTER(_i64)),
        ("strides", _c.POINTER(_i64)),
        ("byte_offset", _c.c_uint64),
    ]


class DGMegaMoEBufferOptions(_c.Structure):
    """``dg_mega_moe_buffer_options``."""

    _fields_ = [
        ("rank", _i32),
        ("num_ranks", _i32),
        ("group_id", _c.c_char_p),
        ("num_experts", _i64),
        ("num_max_tokens_per_rank", _i64),
        ("num_topk", _i64),
        ("hidden", _i64),
        ("intermediate_hidden", _i64),
        ("use_fp8_dispatch", _i32),
        ("mma_type", _c.c_char_p),
        ("activation", _c.c_char_p),
        ("timeout_seconds", _c.c_double),
        ("threads_per_rank", _i32),
    ]


# name -> (restype, argtypes)
_PROTOTYPES = {
    "dg_last_error_message": (_c.c_char_p, []),
    "dg_last_error_argument": (_c.c_char_p, []),
    "dg_last_error_rank": (_i32, []),
    "dg_call": (_c.c_int, [_c.c_char_p, _vp, _i64, _vp]),
    "dg_results_count": (_i64, [_vp]),
    "dg_results_name": (_c.c_char_p, [_vp, _i64]),
    "dg_results_tensor": (_vp, [_vp, _i64]),
    "dg_results_int": (_c.c_int, [_vp, _i64, _c.POINTER(_i64)]),
    "dg_results_export_dlpack": (_vp, [_vp, _i64]),
    "dg_results_free": (None, [_vp]),
    "dg_op_table_json": (_c.c_char_p, []),
    "dg_abi_version": (_i32, []),
    "dg_version": (_c.c_char_p, []),
    "dg_info_json": (_c.c_char_p, []),
    "dg_set_num_sms": (_c.c_int, [_i64]),
    "dg_get_num_sms": (_i64, []),
    "dg_set_mk_alignment_for_contiguous_layout": (_c.c_int, [_i64]),
    "dg_get_mk_alignment_for_contiguous_layout": (_i64, []),
    "dg_get_theoretical_mk_alignment_for_contiguous_layout": (_i64, [_i64]),
    "dg_set_tc_util": (_c.c_int, [_i64]),
    "dg_get_tc_util": (_i64, []),
    "dg_set_pdl": (_c.c_int, [_i32]),
    "dg_get_pdl": (_i32, []),
    "dg_set_ignore_compile_dims": (_c.c_int, [_i32]),
    "dg_set_block_size_multiple_of": (_c.c_int, [_i64, _i64]),
    "dg_set_arch": (_c.c_int, [_c.c_char_p]),
    "dg_get_arch": (_c.c_char_p, []),
    "dg_set_num_threads": (_c.c_int, [_i64]),
    "dg_cuda_set_current_stream": (_c.c_int, [_i32, _vp]),
    "dg_mega_moe_buffer_create": (_c.c_int, [_c.POINTER(DGMegaMoEBufferOptions), _c.POINTER(_vp)]),
    "dg_mega_moe_buffer_tensor": (_c.c_int, [_vp, _c.c_char_p, _c.POINTER(DGTensor)]),
    "dg_mega_moe_buffer_destroy": (None, [_vp]),
}


def library_path():
    """Path of the libdeepgemm.so this package loads (``$DG_LIBRARY_PATH`` first)."""
    return os.environ.get("DG_LIBRARY_PATH") or os.path.join(os.path.dirname(__file__), "libdeepgemm.so")


def _load():
    path = library_path()
    if not os.path.exists(path):
        raise ImportError(
            f"swift_deepgemm: libdeepgemm.so not found at {path}; install the package with "
            "`pip install ./python` (builds it with Swift) or set DG_LIBRARY_PATH to a prebuilt one")
    lib = _c.CDLL(path)
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    version = lib.dg_abi_version()
    if version != ABI_VERSION:
        raise ImportError(f"swift_deepgemm: {path} has ABI version {version}, this package needs {ABI_VERSION}")
    return lib


lib = _load()


def raise_last_error(status):
    """Raises the exception for a non-zero dg_status from the calling thread's error state."""
    message = (lib.dg_last_error_message() or b"").decode("utf-8", "replace")
    argument = (lib.dg_last_error_argument() or b"").decode("utf-8", "replace")
    cls = STATUS_ERRORS.get(status, DGError)
    rank = lib.dg_last_error_rank() if status == 6 else None
    raise cls(message or f"deepgemm call failed with status {status}", argument=argument, rank=rank)


def check(status):
    """Raises for a non-zero dg_status; returns None otherwise."""
    if status:
        raise_last_error(status)
