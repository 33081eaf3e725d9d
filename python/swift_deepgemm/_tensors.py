"""Tensors across the C ABI: torch tensors and NumPy arrays to dg_tensor descriptors (zero copy,
any strides) and library results back to torch tensors or NumPy arrays (zero copy, DLPack).

A descriptor is written with one ``struct.pack_into`` into a caller-provided slot: the 48-byte
dg_tensor followed by its shape and strides (at most MAX_NDIM each).
"""

import ctypes
import struct

import numpy as np

from ._abi import DGTensor, lib, raise_last_error
from ._errors import DGArgumentError, DGTypeError, DGUnsupportedError

try:
    import torch
except ImportError:  # torch is optional: NumPy arrays work without it
    torch = None

try:
    import ml_dtypes
except ImportError:
    ml_dtypes = None

MAX_NDIM = 8
#: Bytes of one tensor slot: the dg_tensor plus room for shape and strides.
SLOT_BYTES = 48 + 16 * MAX_NDIM
_DEVICE_CPU, _DEVICE_CUDA = 1, 2

# DLPack (code, bits, lanes) by dtype name; int8 doubles as DeepGEMM's packed FP4.
_CODES = {
    "int8": (0, 8, 1), "int16": (0, 16, 1), "int32": (0, 32, 1), "int64": (0, 64, 1),
    "uint8": (1, 8, 1),
    "float16": (2, 16, 1), "float32": (2, 32, 1), "float64": (2, 64, 1),
    "bfloat16": (4, 16, 1),
    "bool": (6, 8, 1),
    "float8_e4m3fn": (10, 8, 1), "float8_e5m2": (12, 8, 1), "float8_e8m0fnu": (14, 8, 1),
    "float4_e2m1fn_x2": (17, 4, 2),
}
_NAMES = {code: name for name, code in _CODES.items()}
# Unsigned stand-ins of the same width, for frameworks whose DLPack import lacks a dtype.
_UINT_OF_BITS = {8: (1, 8, 1), 16: (1, 16, 1)}


def _torch_maps():
    if torch is None:
        return {}, {}
    forward, backward = {}, {}
    for name, code in _CODES.items():
        dtype = getattr(torch, name, None)
        if dtype is not None:
            forward[dtype] = code
            backward[code] = dtype
    return forward, backward


def _numpy_maps():
    forward, backward = {}, {}
    for name, code in _CODES.items():
        if hasattr(np, name):
            dtype = np.dtype(name)
        elif ml_dtypes is not None and hasattr(ml_dtypes, name):
            dtype = np.dtype(getattr(ml_dtypes, name))
        else:
            continue
        forward[dtype] = code
        backward[code] = dtype
    return forward, backward


TORCH_DTYPES, TORCH_BY_CODE = _torch_maps()
NUMPY_DTYPES, NUMPY_BY_CODE = _numpy_maps()
_TENSOR_TYPE = torch.Tensor if torch is not None else ()

# One Struct per ndim: the dg_tensor header, then shape[ndim], then strides[ndim].
LAYOUTS = [struct.Struct("<QiiiBBHQQQ" + "q" * (2 * n)) for n in range(MAX_NDIM + 1)]

FRAMEWORK_TORCH, FRAMEWORK_NUMPY = 1, 2


def dtype_name(dtype):
    """DeepGEMM dtype argument (torch/NumPy dtype or name) -> the library's name, e.g. "bfloat16"."""
    if isinstance(dtype, str):
        return dtype
    if torch is not None and isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise DGTypeError(f"expected a dtype, got {type(dtype).__name__}") from None


def pack_tensor(obj, name, buf, offset, address):
    """Writes the descriptor of ``obj`` into ``buf[offset:]`` (``address`` is that slot's address).

    Returns (framework, cuda_device or -1, data_ptr). Raises DGTypeError / DGArgumentError /
    DGUnsupportedError naming ``name``.
    """
    if isinstance(obj, _TENSOR_TYPE):
        code = TORCH_DTYPES.get(obj.dtype)
        if code is None:
            raise DGTypeError(f"{name}: dtype {obj.dtype} is not supported", argument=name)
        shape = obj.shape
        ndim = len(shape)
        if ndim > MAX_NDIM:
            raise DGArgumentError(f"{name}: {ndim} dimensions, at most {MAX_NDIM}", argument=name)
        if obj.is_cuda:
            device_type, device_id = _DEVICE_CUDA, obj.get_device()
        elif obj.is_cpu:
            device_type, device_id = _DEVICE_CPU, 0
        else:
            raise DGUnsupportedError(f"{name}: tensors on device '{obj.device}' are not supported", argument=name)
        ptr = obj.data_ptr()
        if ptr == 0 and obj.numel() != 0:
            raise DGArgumentError(f"{name}: the tensor has no storage (freed or resized to 0)", argument=name)
        LAYOUTS[ndim].pack_into(buf, offset, ptr, device_type, device_id, ndim, code[0], code[1], code[2],
                                 address + 48, address + 48 + 8 * ndim, 0, *shape, *obj.stride())
        return FRAMEWORK_TORCH, (device_id if device_type == _DEVICE_CUDA else -1), ptr
    if isinstance(obj, np.ndarray):
        code = NUMPY_DTYPES.get(obj.dtype)
        if code is None:
            raise DGTypeError(f"{name}: dtype {obj.dtype} is not supported", argument=name)
        shape = obj.shape
        ndim = len(shape)
        if ndim > MAX_NDIM:
            raise DGArgumentError(f"{name}: {ndim} dimensions, at most {MAX_NDIM}", argument=name)
        itemsize = obj.itemsize
        strides = []
        for s in obj.strides:
            q, r = divmod(s, itemsize)
            if r:
                raise DGArgumentError(f"{name}: byte stride {s} is not a multiple of the element size {itemsize}",
                                      argument=name)
            strides.append(q)
        ptr = obj.__array_interface__["data"][0]
        LAYOUTS[ndim].pack_into(buf, offset, ptr, _DEVICE_CPU, 0, ndim, code[0], code[1], code[2],
                                 address + 48, address + 48 + 8 * ndim, 0, *shape, *strides)
        return FRAMEWORK_NUMPY, -1, ptr
    raise DGTypeError(f"{name}: expected a torch.Tensor or numpy.ndarray, got {type(obj).__name__}", argument=name)


def read_view(pointer):
    """(data, shape, strides, (code, bits, lanes)) of the dg_tensor at ``pointer``."""
    t = DGTensor.from_address(pointer)
    ndim = t.ndim
    shape = tuple(t.shape[i] for i in range(ndim))
    if t.strides:
        strides = tuple(t.strides[i] for i in range(ndim))
    else:
        strides, step = [], 1
        for size in reversed(shape):
            strides.append(step)
            step *= max(size, 1)
        strides = tuple(reversed(strides))
    return (t.data or 0) + t.byte_offset, shape, strides, (t.code, t.bits, t.lanes)


# ---- results -> framework tensors (zero copy) -------------------------------------------------

_pythonapi = ctypes.pythonapi
_pythonapi.PyCapsule_New.restype = ctypes.py_object
_pythonapi.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_DLTENSOR = b"dltensor"


class _Capsule:
    """Hands a DLPack capsule to ``np.from_dlpack`` (which wants an object with ``__dlpack__``)."""

    __slots__ = ("capsule",)

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, *args, **kwargs):
        capsule, self.capsule = self.capsule, None
        return capsule

    def __dlpack_device__(self):
        return (_DEVICE_CPU, 0)


def _set_dlpack_dtype(managed, code):
    # DLManagedTensor starts with a DLTensor whose dtype sits at byte 20, as in dg_tensor.
    struct.pack_into("<BBH", (ctypes.c_char * 24).from_address(managed), 20, *code)


def export_result(results, index, framework, code):
    """Result ``index`` of ``results`` as a torch tensor or NumPy array sharing its memory."""
    managed = lib.dg_results_export_dlpack(results, index)
    if not managed:
        raise_last_error(8)
    if framework == FRAMEWORK_TORCH:
        dtype = TORCH_BY_CODE.get(code)
        # FP8/UE8M0 come across as uint8 (deepgemm.h); reinterpret by the reported dtype.
        capsule = _pythonapi.PyCapsule_New(managed, _DLTENSOR, None)
        out = torch.utils.dlpack.from_dlpack(capsule)
        return out if dtype is None or out.dtype == dtype else out.view(dtype)
    dtype = NUMPY_BY_CODE.get(code)
    if code[0] not in (0, 1, 2, 6):  # NumPy's DLPack import knows only int/uint/float/bool
        _set_dlpack_dtype(managed, _UINT_OF_BITS.get(code[1], code))
    out = np.from_dlpack(_Capsule(_pythonapi.PyCapsule_New(managed, _DLTENSOR, None)))
    return out if dtype is None or out.dtype == dtype else out.view(dtype)


class _Memory:
    """Exposes library-owned host memory to NumPy; keeps its ``owner`` alive as the array's base."""

    def __init__(self, data, shape, strides, itemsize, owner):
        self.owner = owner
        self.__array_interface__ = {
            "data": (data, False), "shape": shape, "typestr": f"|u{itemsize}" if itemsize == 1 else f"<u{itemsize}",
            "strides": tuple(s * itemsize for s in strides), "version": 3,
        }


def wrap_view(view, owner, framework):
    """A library-owned host dg_tensor view as a torch tensor / NumPy array kept alive by ``owner``."""
    data, shape, strides, code = view
    itemsize = max(code[1] * code[2] // 8, 1)
    array = np.asarray(_Memory(data, shape, strides, itemsize, owner))
    if framework == FRAMEWORK_TORCH:
        out = torch.from_numpy(array)
        return out.view(TORCH_BY_CODE.get(code, out.dtype))
    return array.view(NUMPY_BY_CODE.get(code, array.dtype))
