"""Mega MoE's symmetric buffer over the library's CPU ranks: ``get_symm_buffer_for_mega_moe``.

The buffer is a collective over a torch.distributed group: rank 0 makes a unique group id, every
rank gets it through ``broadcast_object_list`` and creates its side of the buffer in the library
(POSIX shared memory between the group's processes). The returned SymmBuffer is passed to
``fp8_fp4_mega_moe`` / ``bf16_mega_moe`` as ``sym_buffer``.
"""

import ctypes
import os
import uuid
import warnings

from . import _tensors
from ._abi import DGMegaMoEBufferOptions, DGTensor, check, lib
from ._errors import DGArgumentError

__all__ = ["SymmBuffer", "get_symm_buffer_for_mega_moe"]

_INPUT_VIEWS = ("x", "x_sf", "topk_idx", "topk_weights")


class SymmBuffer:
    """One rank's side of a Mega MoE symmetric buffer.

    ``x``, ``x_sf`` (None for BF16 dispatch), ``topk_idx`` and ``topk_weights`` are tensors over
    the buffer's input region: copy this rank's tokens into their first rows before each call.
    """

    def __init__(self, handle, group, num_experts, num_max_tokens_per_rank, num_topk, hidden,
                 intermediate_hidden, mma_type, activation, framework):
        self._handle = handle
        self.group = group
        self.num_experts = num_experts
        self.num_max_tokens_per_rank = num_max_tokens_per_rank
        self.num_topk = num_topk
        self.hidden = hidden
        self.intermediate_hidden = intermediate_hidden
        self.mma_type = mma_type
        self.activation = activation
        for name in _INPUT_VIEWS:
            setattr(self, name, self._view(name, framework))

    def _view(self, name, framework):
        view = DGTensor()
        status = lib.dg_mega_moe_buffer_tensor(self._handle, name.encode(), ctypes.byref(view))
        if status:
            if name == "x_sf":  # BF16 dispatch has no scales
                return None
            check(status)
        return _tensors.wrap_view(_tensors.read_view(ctypes.addressof(view)), self, framework)

    def destroy(self):
        """Releases this rank's side of the buffer; its tensors must not be used afterwards."""
        handle, self._handle = self._handle, None
        for name in _INPUT_VIEWS:
            setattr(self, name, None)
        if handle:
            lib.dg_mega_moe_buffer_destroy(handle)

    def __del__(self):
        if getattr(self, "_handle", None):
            lib.dg_mega_moe_buffer_destroy(self._handle)
            self._handle = None


def get_symm_buffer_for_mega_moe(group, num_experts, num_max_tokens_per_rank, num_topk, hidden,
                                 intermediate_hidden, use_fp8_dispatch=None, mma_type='fp8xfp4',
                                 activation='swiglu'):
    """Creates the Mega MoE symmetric buffer on every rank of ``group`` (a collective call).

    ``group`` is a torch.distributed process group (gloo works: the ranks are CPU processes on
    one machine). ``use_fp8_dispatch`` is DeepGEMM's deprecated spelling of ``mma_type``.
    Set ``DG_MEGA_MOE_TIMEOUT`` (seconds) to change how long a rank waits for its peers.
    """
    import torch.distributed as dist

    if use_fp8_dispatch is not None:
        if bool(use_fp8_dispatch) != (mma_type.split('x')[0] == 'fp8'):
            raise DGArgumentError("use_fp8_dispatch: disagrees with mma_type", argument="use_fp8_dispatch")
        warnings.warn("`use_fp8_dispatch` will be deprecated in the future, please use `mma_type`",
                      DeprecationWarning, stacklevel=2)
    rank, size = dist.get_rank(group), dist.get_world_size(group)
    box = [uuid.uuid4().hex if rank == 0 else None]
    source = 0 if group is None else dist.get_global_rank(group, 0)
    dist.broadcast_object_list(box, src=source, group=group)
    options = DGMegaMoEBufferOptions(
        rank=rank, num_ranks=size, group_id=f"dg-{box[0]}".encode(),
        num_experts=num_experts, num_max_tokens_per_rank=num_max_tokens_per_rank, num_topk=num_topk,
        hidden=hidden, intermediate_hidden=intermediate_hidden,
        use_fp8_dispatch=-1 if use_fp8_dispatch is None else int(bool(use_fp8_dispatch)),
        mma_type=mma_type.encode(), activation=activation.encode(),
        timeout_seconds=float(os.environ.get("DG_MEGA_MOE_TIMEOUT", "0")), threads_per_rank=0)
    handle = ctypes.c_void_p()
    check(lib.dg_mega_moe_buffer_create(ctypes.byref(options), ctypes.byref(handle)))
    framework = _tensors.FRAMEWORK_TORCH
    return SymmBuffer(handle.value, group, num_experts, num_max_tokens_per_rank, num_topk, hidden,
                      intermediate_hidden, mma_type, activation, framework)
