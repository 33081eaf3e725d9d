"""DeepGEMM's ``deep_gemm.testing``: ``calc_diff``, ``count_bytes``, ``assert_bitwise_equal`` and
CPU timing helpers (``bench``, ``bench_kineto``) that stand in for DeepGEMM's CUDA-event timing."""

import time

import numpy as np

__all__ = ["calc_diff", "count_bytes", "assert_bitwise_equal", "bench", "bench_kineto", "get_arch_major"]


def _float64(x):
    if isinstance(x, np.ndarray):
        return x.astype(np.float64)
    return x.double()


def calc_diff(x, y):
    """DeepGEMM's global similarity: ``1 - 2·Σxy / Σ(x²+y²)`` in float64 (0 when both are zero)."""
    x, y = _float64(x), _float64(y)
    denominator = float((x * x + y * y).sum())
    if denominator == 0:
        return 0.0
    return 1 - 2 * float((x * y).sum()) / denominator


def get_arch_major():
    """DeepGEMM's tests branch on the GPU's major compute capability; here it is the major of the
    architecture personality whose rules the library follows (``set_arch``): 9 for sm90, 10 for sm100."""
    from ._settings import get_arch
    return 9 if get_arch() == "sm90" else 10


def count_bytes(*tensors):
    """Total bytes of the given tensors (None entries and nested tuples/lists are allowed)."""
    total = 0
    for t in tensors:
        if t is None:
            continue
        if isinstance(t, (tuple, list)):
            total += count_bytes(*t)
        elif isinstance(t, np.ndarray):
            total += t.nbytes
        else:
            total += t.numel() * t.element_size()
    return total


def assert_bitwise_equal(x, y, label=''):
    """Asserts that two tensors have the same shape and bytes."""
    assert tuple(x.shape) == tuple(y.shape), f'{label}: shapes {tuple(x.shape)} != {tuple(y.shape)}'
    assert _bytes(x) == _bytes(y), f'{label}: tensors differ'


def _bytes(t):
    if isinstance(t, np.ndarray):
        return np.ascontiguousarray(t).tobytes()
    return t.detach().cpu().contiguous().view(-1).view(_torch_uint8()).numpy().tobytes()


def _torch_uint8():
    import torch
    return torch.uint8


def bench(fn, num_warmups: int = 5, num_tests: int = 10, high_precision: bool = False):
    """Median seconds of one ``fn()`` call on the CPU clock (after ``num_warmups`` calls)."""
    for _ in range(num_warmups):
        fn()
    times = []
    for _ in range(num_tests):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def bench_kineto(fn, kernel_names, num_tests: int = 30, suppress_kineto_output: bool = False,
                 trace_path=None, flush_l2: bool = True, with_multiple_kernels: bool = False):
    """CPU stand-in for DeepGEMM's profiler-based timing: the median seconds of ``fn()``, once per
    name in ``kernel_names`` (a tuple gives a tuple, as DeepGEMM's does)."""
    seconds = bench(fn, num_warmups=1, num_tests=num_tests)
    if isinstance(kernel_names, (tuple, list)):
        return tuple(seconds for _ in kernel_names)
    return seconds
