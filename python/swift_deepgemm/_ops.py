"""DeepGEMM's op functions, generated once at import from the library's op table.

Each op gets a plan (its argument slots, their names and kinds, where its results come from)
and a Python function with DeepGEMM's exact signature and defaults that hands its arguments to
``_call``. ``_call`` writes every dg_arg and dg_tensor descriptor into one per-thread scratch
buffer of the plan with ``struct.pack_into`` and calls dg_call once.
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
_NONE, _TENSOR, _INT, _FLOAT, _BOOL, _STRING, _INTS_KIND, _BUFFER = range(8)
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
    """Everything _call needs for one op, computed once: slots, offsets, results to return."""

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


def _call(plan, values):
    buf, base = plan.scratch()
    framework = 0
    cuda = -1
    inputs = []
    want = plan.returns
    keep = None
    for param, value in zip(plan.params, values):
        offset = param.arg * _ARG_BYTES
        kind = param.kind
        if value is None:
            for i, name in enumerate(param.names):
                _ARG_PTR.pack_into(buf, offset + i * _ARG_BYTES, name, _NONE, 0, 0, 0)
            continue
        if kind == _TENSOR:
            if param.table_kind == "pair":
                if isinstance(value, (tuple, list)):
                    if len(value) != 2:
                        raise DGTypeError(f"{param.name}: expected a (data, sf) tuple, got {len(value)} items",
                                          argument=param.name)
                    items = value
                else:  # a bare tensor is (data, None), as DeepGEMM's BF16 Mega MoE weights
                    items = (value, None)
            else:
                items = (value,)
            for i, item in enumerate(items):
                name = param.names[i]
                arg_offset = offset + i * _ARG_BYTES
                if item is None:
                    _ARG_PTR.pack_into(buf, arg_offset, name, _NONE, 0, 0, 0)
                    continue
                slot = plan.tensor_base + (param.tensor + i) * _tensors.SLOT_BYTES
                address = base + slot
                code = _TORCH_FAST.get(item.dtype) if type(item) is _TORCH_TENSOR else None
                if code is not None and not item.is_cuda:  # the common case, inlined: a host torch tensor
                    shape = item.shape
                    ndim = len(shape)
                    ptr = item.data_ptr()
                    if ndim > _tensors.MAX_NDIM or ptr == 0 or not item.is_cpu:
                        _tensors.pack_tensor(item, param.labels[i], buf, slot, address)  # raises the right error
                    _LAYOUTS[ndim].pack_into(buf, slot, ptr, 1, 0, ndim, code[0], code[1], code[2], address + 48,
                                             address + 48 + 8 * ndim, 0, *shape, *item.stride())
                    framework = framework or _tensors.FRAMEWORK_TORCH
                else:
                    fw, device, ptr = _tensors.pack_tensor(item, param.labels[i], buf, slot, address)
                    framework = framework or fw
                    if device >= 0:
                        cuda = device
                if want:
                    inputs.append((ptr, item))
                _ARG_PTR.pack_into(buf, arg_offset, name, _TENSOR, 0, address, 0)
        elif kind == _INT:
            try:
                number = operator.index(value)
            except TypeError:
                raise DGTypeError(f"{param.name}: expected an int, got {type(value).__name__}",
                                  argument=param.name) from None
            _ARG_INT.pack_into(buf, offset, param.names[0], _INT, 0, number, 0)
        elif kind == _FLOAT:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise DGTypeError(f"{param.name}: expected a float, got {type(value).__name__}",
                                  argument=param.name) from None
            _ARG_FLOAT.pack_into(buf, offset, param.names[0], _FLOAT, 0, number, 0)
        elif kind == _BOOL:
            _ARG_BOOL.pack_into(buf, offset, param.names[0], _BOOL, 0, 1 if value else 0, 0, 0)
        elif kind == _STRING:
            if param.table_kind == "dtype":
                value = _tensors.dtype_name(value)
            elif not isinstance(value, str):
                raise DGTypeError(f"{param.name}: expected a str, got {type(value).__name__}", argument=param.name)
            _ARG_PTR.pack_into(buf, offset, param.names[0], _STRING, 0, c_string(value), 0)
        elif kind == _INTS_KIND:
            try:
                items = [operator.index(v) for v in value]
            except TypeError:
                raise DGTypeError(f"{param.name}: expected a tuple of ints, got {value!r}",
                                  argument=param.name) from None
            count = len(items)
            if count <= _INTS_CAPACITY:
                address = plan.ints_base + param.ints * 8 * _INTS_CAPACITY
                _INTS[count].pack_into(buf, address, *items)
                address += base
            else:
                array = (ctypes.c_int64 * count)(*items)
                keep = (keep or []) + [array]
                address = ctypes.addressof(array)
            _ARG_INT.pack_into(buf, offset, param.names[0], _INTS_KIND, 0, address, count)
        else:  # _BUFFER
            handle = getattr(value, "_handle", None)
            if not handle:
                raise DGTypeError(f"{param.name}: expected a SymmBuffer from get_symm_buffer_for_mega_moe, got "
                                  f"{type(value).__name__}", argument=param.name)
            _ARG_PTR.pack_into(buf, offset, param.names[0], _BUFFER, 0, handle, 0)
    if cuda >= 0:
        _set_cuda_stream(cuda)
    if not plan.returns:
        status = lib.dg_call(plan.op, base, plan.nargs, None)
        if status:
            raise_last_error(status)
        return None
    status = lib.dg_call(plan.op, base, plan.nargs, base + plan.results_offset)
    if status:
        raise_last_error(status)
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
        value = ctypes.c_int64()
        status = lib.dg_results_int(results, index, ctypes.byref(value))
        if status:
            raise_last_error(status)
        return value.value
    data, shape, strides, code = _tensors.read_view(pointer)
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


def make_function(entry):
    """The Python function for one op-table entry, with DeepGEMM's signature and defaults."""
    plan = Plan(entry)
    names, parts, defaults = [], [], []
    for p in entry["params"]:
        name = p["name"]
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ImportError(f"swift_deepgemm: op {entry['name']} has parameter name {name!r}")
        names.append(name)
        if "default" in p:
            parts.append(f"{name}=_d[{len(defaults)}]")
            defaults.append(_python_default(p))
        elif defaults:  # a required parameter after a defaulted one: None reaches the library's check
            parts.append(f"{name}=None")
        else:
            parts.append(name)
    source = (f"def {entry['name']}({', '.join(parts)}):\n"
              f"    return _call(_plan, ({', '.join(names)}{',' if names else ''}))\n")
    namespace = {"_call": _call, "_plan": plan, "_d": tuple(defaults)}
    exec(compile(source, f"<swift_deepgemm op {entry['name']}>", "exec"), namespace)
    function = namespace[entry["name"]]
    function.__doc__ = _docstring(entry)
    function.__module__ = "swift_deepgemm"
    function.plan = plan
    return function


def load_op_table():
    """The parsed op table of the loaded library."""
    return json.loads(lib.dg_op_table_json().decode("utf-8"))


OP_TABLE = load_op_table()
#: name -> generated function, for every op of the library's table.
FUNCTIONS = {entry["name"]: make_function(entry) for entry in OP_TABLE["ops"]}
