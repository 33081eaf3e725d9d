"""DeepGEMM's op functions, generated once at import from the library's op table.

Each op gets a plan (its argument slots, their names and kinds, where its results come from)
and a Python function with DeepGEMM's exact signature and defaults whose body is generated for
the op: it writes every dg_arg and dg_tensor descriptor straight into the plan's per-thread
scratch buffer with ``struct.pack_into`` (offsets and name pointers are constants in the code)
and calls dg_call once. Host torch tensors take an inlined path; everything else, and every
error, goes through the helpers below.
"""

import ctypes
import json
import keyword
import operator
import struct
import threading

from . import _tensors
from ._abi import lib, raise_last_error
from ._errors import DGTypeError

_TORCH_TENSOR = _tensors.torch.Tensor if _tensors.torch is not None else None
_TORCH_FAST = _tensors.TORCH_DTYPES
_LAYOUTS = _tensors.LAYOUTS
_ARG_BYTES = 32
_INTS_CAPACITY = 16
# dg_arg: name pointer, kind, reserved, then the 16-byte value union, by value kind.
_ARG_PTR = struct.Struct("<QiiQQ")
_ARG_INT = struct.Struct("<Qiiqq")
_ARG_FLOAT = struct.Struct("<Qiidq")
_ARG_BOOL = struct.Struct("<Qiiiiq")
_POINTER = struct.Struct("<Q")
_INTS = [struct.Struct("<%dq" % n) for n in range(_INTS_CAPACITY + 1)]
# dg_arg_kind values.
_TENSOR, _INT, _FLOAT, _BOOL, _STRING, _INTS_KIND, _BUFFER = range(1, 8)  # 0 is DG_ARG_NONE
# Table kinds -> how _call marshals them (pair expands into two tensor slots).
_KINDS = {"tensor": _TENSOR, "pair": _TENSOR, "int": _INT, "float": _FLOAT, "bool": _BOOL, "str": _STRING,
          "dtype": _STRING, "ints": _INTS_KIND, "buffer": _BUFFER}

_strings = {}


def c_string(text):
    """Address of a NUL-terminated UTF-8 copy of ``text`` that lives as long as the process."""
    entry = _strings.get(text)
    if entry is None:
        data = text.encode("utf-8")
        entry = _strings[text] = (data, ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value)
    return entry[1]


class _Param:
    """One Python parameter: its table entry and the argument/tensor/ints slots it fills."""

    __slots__ = ("name", "table_kind", "kind", "arg", "names", "labels", "tensor", "ints")

    def __init__(self, entry, arg, tensor, ints):
        self.name = entry["name"]
        self.table_kind = entry["kind"]
        self.kind = _KINDS.get(self.table_kind)
        if self.kind is None:
            raise ImportError(f"swift_deepgemm: parameter {self.name} has unknown kind {self.table_kind!r}")
        self.arg = arg
        slot_names = [self.name, self.name + "_sf"] if self.table_kind == "pair" else [self.name]
        self.names = [c_string(n) for n in slot_names]
        self.labels = slot_names
        self.tensor = tensor
        self.ints = ints


class Plan:
    """Everything an op's function needs, computed once: slots, offsets, results to return."""

    def __init__(self, entry):
        self.name = entry["name"]
        self.op = entry["name"].encode()
        self.params = []
        arg = tensor = ints = 0
        for p in entry["params"]:
            param = _Param(p, arg, tensor, ints)
            self.params.append(param)
            arg += len(param.names)
            if param.kind == _TENSOR:
                tensor += len(param.names)
            elif param.kind == _INTS_KIND:
                ints += 1
        self.nargs = arg
        self.tensor_base = arg * _ARG_BYTES
        self.ints_base = self.tensor_base + tensor * _tensors.SLOT_BYTES
        self.results_offset = self.ints_base + ints * 8 * _INTS_CAPACITY
        self.size = self.results_offset + 8
        outputs = entry.get("outputs", [])
        self.return_names = entry.get("returns", [])
        self.returns = [outputs.index(r) for r in self.return_names]
        self.tls = threading.local()

    def scratch(self):
        """This thread's (buffer, address) for the plan's descriptors."""
        s = getattr(self.tls, "s", None)
        if s is None:
            buf = ctypes.create_string_buffer(self.size)
            s = self.tls.s = (buf, ctypes.addressof(buf))
        return s


def _set_cuda_stream(device):
    import torch
    status = lib.dg_cuda_set_current_stream(device, torch.cuda.current_stream(device).cuda_stream)
    if status:
        raise_last_error(status)


# ---- helpers the generated functions call off their fast paths ---------------------------------

def _pair(value, name):
    """(data, sf) of a pair argument; a bare tensor is (data, None), as DeepGEMM's BF16 Mega MoE weights."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise DGTypeError(f"{name}: expected a (data, sf) tuple, got {len(value)} items", argument=name)
        return value
    return value, None


def _int(value, name):
    try:
        return operator.index(value)
    except TypeError:
        raise DGTypeError(f"{name}: expected an int, got {type(value).__name__}", argument=name) from None


def _float(value, name):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DGTypeError(f"{name}: expected a float, got {type(value).__name__}", argument=name) from None


def _str(value, name):
    if not isinstance(value, str):
        raise DGTypeError(f"{name}: expected a str, got {type(value).__name__}", argument=name)
    return c_string(value)


def _dtype(value, name):
    return c_string(_tensors.dtype_name(value))


def _ints(value, name, buf, offset, address):
    """Writes a tuple of ints into the plan's ints area (or a ctypes array when it is too long).
    Returns (address, count, the array to keep alive or None)."""
    try:
        items = [operator.index(v) for v in value]
    except TypeError:
        raise DGTypeError(f"{name}: expected a tuple of ints, got {value!r}", argument=name) from None
    count = len(items)
    if count <= _INTS_CAPACITY:
        _INTS[count].pack_into(buf, offset, *items)
        return address, count, None
    array = (ctypes.c_int64 * count)(*items)
    return ctypes.addressof(array), count, array


def _handle(value, name):
    handle = getattr(value, "_handle", None)
    if not handle:
        raise DGTypeError(f"{name}: expected a SymmBuffer from get_symm_buffer_for_mega_moe, got "
                          f"{type(value).__name__}", argument=name)
    return handle


def _results(plan, buf, framework, inputs):
    results = _POINTER.unpack_from(buf, plan.results_offset)[0]
    try:
        count = lib.dg_results_count(results)
        if count == len(plan.returns):  # the common case: results in the table's order
            out = tuple(_result(results, i, framework, inputs) for i in plan.returns)
        else:  # an op that produced a subset of its outputs (e.g. BF16 weights without scales)
            produced = {lib.dg_results_name(results, i).decode(): i for i in range(count)}
            out = tuple(_result(results, produced[name], framework, inputs)
                        for name in plan.return_names if name in produced)
    finally:
        lib.dg_results_free(results)
    shape = _RESULT_SHAPES.get(plan.name)
    if shape is not None:
        return shape(out)
    return out[0] if len(out) == 1 else out


# Ops whose Python results are nested tuples: (l1, l1_sf, l2, l2_sf) -> ((l1, l1_sf), (l2, l2_sf)).
_RESULT_SHAPES = {
    "transform_weights_for_mega_moe": lambda out: ((out[0], out[1]), (out[2], out[3])) if len(out) == 4 else out,
}


def _result(results, index, framework, inputs):
    pointer = lib.dg_results_tensor(results, index)
    if not pointer:
        raise_last_error(8)
    data, shape, strides, code = _tensors.read_view(pointer)
    if not shape and code[0] in (0, 1):  # a 0-dim integer result is a Python int (e.g. get_tma_aligned_size)
        value = ctypes.c_int64()
        status = lib.dg_results_int(results, index, ctypes.byref(value))
        if status:
            raise_last_error(status)
        return value.value
    for ptr, obj in inputs:  # an input returned as is (DeepGEMM returns the same object)
        if ptr == data and tuple(obj.shape) == shape and _strides(obj) == strides:
            return obj
    if framework == 0:
        framework = _tensors.FRAMEWORK_TORCH if _tensors.torch is not None else _tensors.FRAMEWORK_NUMPY
    return _tensors.export_result(results, index, framework, code)


def _strides(obj):
    if isinstance(obj, _tensors.np.ndarray):
        return tuple(s // obj.itemsize for s in obj.strides)
    return tuple(obj.stride())


def _python_default(param):
    value = param["default"]
    if isinstance(value, list):
        return tuple(value)
    if param["kind"] == "dtype" and isinstance(value, str) and _tensors.torch is not None:
        return getattr(_tensors.torch, value, value)
    return value


def _docstring(entry):
    lines = [entry.get("summary", "").strip() or entry["name"], "", "Args:"]
    for p in entry["params"]:
        default = f", default {_python_default(p)!r}" if "default" in p else ""
        lines.append(f"    {p['name']} ({p['kind']}{default}): {p.get('doc', '')}")
    returns = entry.get("returns", [])
    lines += ["", "Returns: " + (", ".join(returns) if returns else "None")]
    if entry.get("inplace"):
        lines.append("Writes in place: " + ", ".join(entry["inplace"]))
    return "\n".join(lines)


def _tensor_code(var, label, arg_offset, name_ptr, slot, track):
    """Source that writes tensor argument ``var``: an inlined path for host torch tensors of a known
    dtype, _tensors.pack_tensor for the rest (NumPy, CUDA, subclasses) and for every error."""
    keep = f"\n        _in.append((_p, {var}))" if track else ""
    return f"""
    if {var} is None:
        _PTR(_buf, {arg_offset}, {name_ptr}, 0, 0, 0, 0)
    else:
        if type({var}) is _T and not {var}.is_cuda and (_k := _F.get({var}.dtype)) is not None:
            _sh = {var}.shape
            _nd = len(_sh)
            _p = {var}.data_ptr()
            if _p == 0 or _nd > {_tensors.MAX_NDIM} or not {var}.is_cpu:
                _pack({var}, {label!r}, _buf, {slot}, _base + {slot})  # raises the error that applies
            _L[_nd].pack_into(_buf, {slot}, _p, 1, 0, _nd, _k[0], _k[1], _k[2], _base + {slot + 48},
                              _base + {slot + 48} + 8 * _nd, 0, *_sh, *{var}.stride())
            _fw = _fw or 1
        else:
            _f, _dev, _p = _pack({var}, {label!r}, _buf, {slot}, _base + {slot})
            _fw = _fw or _f
            if _dev >= 0:
                _cuda = _dev{keep}
        _PTR(_buf, {arg_offset}, {name_ptr}, 1, 0, _base + {slot}, 0)"""


def _param_code(plan, param):
    """Source that writes one parameter's dg_arg(s) into the scratch buffer ``_buf`` at ``_base``."""
    v = param.name
    off = param.arg * _ARG_BYTES
    name = param.names[0]
    track = bool(plan.returns)
    if param.kind == _TENSOR:
        slot = plan.tensor_base + param.tensor * _tensors.SLOT_BYTES
        if param.table_kind != "pair":
            return _tensor_code(v, v, off, name, slot, track)
        data, sf = _tensor_code("_x0", v, off, name, slot, track), \
            _tensor_code("_x1", v + "_sf", off + _ARG_BYTES, param.names[1], slot + _tensors.SLOT_BYTES, track)
        indent = lambda code: code.replace("\n    ", "\n        ")
        return f"""
    if {v} is None:
        _PTR(_buf, {off}, {name}, 0, 0, 0, 0)
        _PTR(_buf, {off + _ARG_BYTES}, {param.names[1]}, 0, 0, 0, 0)
    else:
        _x0, _x1 = _pair({v}, {v!r}){indent(data)}{indent(sf)}"""
    none = f"""
    if {v} is None:
        _PTR(_buf, {off}, {name}, 0, 0, 0, 0)
    else:"""
    if param.kind == _INT:
        return none + f"""
        _INT(_buf, {off}, {name}, {_INT}, 0, {v} if type({v}) is int else _int({v}, {v!r}), 0)"""
    if param.kind == _FLOAT:
        return none + f"""
        _FLT(_buf, {off}, {name}, {_FLOAT}, 0, {v} if type({v}) is float else _float({v}, {v!r}), 0)"""
    if param.kind == _BOOL:
        return none + f"""
        _BOOL(_buf, {off}, {name}, {_BOOL}, 0, 1 if {v} else 0, 0, 0)"""
    if param.kind == _STRING:
        convert = "_dtype" if param.table_kind == "dtype" else "_str"
        return none + f"""
        _PTR(_buf, {off}, {name}, {_STRING}, 0, _S[{v}][1] if type({v}) is str and {v} in _S else {convert}({v}, {v!r}), 0)"""
    if param.kind == _INTS_KIND:
        area = plan.ints_base + param.ints * 8 * _INTS_CAPACITY
        return none + f"""
        _a, _n, _keep_{v} = _ints({v}, {v!r}, _buf, {area}, _base + {area})
        _INT(_buf, {off}, {name}, {_INTS_KIND}, 0, _a, _n)"""
    return none + f"""
        _PTR(_buf, {off}, {name}, {_BUFFER}, 0, _handle({v}, {v!r}), 0)"""


_NAMESPACE = {
    "_T": _TORCH_TENSOR, "_F": _TORCH_FAST, "_L": _LAYOUTS, "_S": _strings, "_pack": _tensors.pack_tensor,
    "_PTR": _ARG_PTR.pack_into, "_INT": _ARG_INT.pack_into, "_FLT": _ARG_FLOAT.pack_into,
    "_BOOL": _ARG_BOOL.pack_into, "_pair": _pair, "_int": _int, "_float": _float, "_str": _str, "_dtype": _dtype,
    "_ints": _ints, "_handle": _handle, "_results": _results, "_stream": _set_cuda_stream,
    "_dg_call": lib.dg_call, "_raise": raise_last_error,
}


def make_function(entry):
    """The Python function for one op-table entry: DeepGEMM's signature and defaults, and a body
    generated for the op that writes its dg_args and calls dg_call."""
    plan = Plan(entry)
    parts, defaults = [], []
    for p in entry["params"]:
        name = p["name"]
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ImportError(f"swift_deepgemm: op {entry['name']} has parameter name {name!r}")
        if "default" in p:
            parts.append(f"{name}=_d[{len(defaults)}]")
            defaults.append(_python_default(p))
        elif defaults:  # a required parameter after a defaulted one: None reaches the library's check
            parts.append(f"{name}=None")
        else:
            parts.append(name)
    results = f"_base + {plan.results_offset}" if plan.returns else "None"
    body = "".join(_param_code(plan, param) for param in plan.params)
    source = f"""def {entry['name']}({', '.join(parts)}):
    _s = _tls.__dict__.get("s") or _plan.scratch()
    _buf, _base = _s
    _fw, _cuda, _in = 0, -1, []{body}
    if _cuda >= 0:
        _stream(_cuda)
    _status = _dg_call(_op, _base, {plan.nargs}, {results})
    if _status:
        _raise(_status)
    return {"_results(_plan, _buf, _fw, _in)" if plan.returns else "None"}
"""
    namespace = dict(_NAMESPACE, _plan=plan, _tls=plan.tls, _op=plan.op, _d=tuple(defaults))
    exec(compile(source, f"<swift_deepgemm op {entry['name']}>", "exec"), namespace)
    function = namespace[entry["name"]]
    function.__doc__ = _docstring(entry)
    function.__module__ = "swift_deepgemm"
    function.plan = plan
    function.source = source
    return function


def load_op_table():
    """The parsed op table of the loaded library."""
    return json.loads(lib.dg_op_table_json().decode("utf-8"))


OP_TABLE = load_op_table()
#: name -> generated function, for every op of the library's table.
FUNCTIONS = {entry["name"]: make_function(entry) for entry in OP_TABLE["ops"]}
