"""DeepGEMM's runtime settings (``set_num_sms``, ``set_mk_alignment_for_contiguous_layout``, ...)
over the library's process-wide settings, plus version and build information."""

import json
import operator

from ._abi import check, lib

__all__ = [
    "set_num_sms", "get_num_sms", "set_tc_util", "get_tc_util", "set_pdl", "get_pdl",
    "set_ignore_compile_dims", "set_block_size_multiple_of",
    "set_mk_alignment_for_contiguous_layout", "get_mk_alignment_for_contiguous_layout",
    "get_m_alignment_for_contiguous_layout", "get_k_alignment_for_contiguous_layout",
    "get_theoretical_mk_alignment_for_contiguous_layout",
    "set_arch", "get_arch", "set_num_threads", "version", "info",
]


def set_num_sms(new_num_sms):
    """Number of SMs GEMM heuristics and MQA metadata plan for (0: the device's count)."""
    check(lib.dg_set_num_sms(operator.index(new_num_sms)))


def get_num_sms():
    """The SM count set with set_num_sms, else the device's."""
    return lib.dg_get_num_sms()


def set_tc_util(new_tc_util):
    """Approximate tensor-core utilization target in percent (0..100; 0 means 100)."""
    check(lib.dg_set_tc_util(operator.index(new_tc_util)))


def get_tc_util():
    """The tensor-core utilization target in percent."""
    return lib.dg_get_tc_util()


def set_pdl(new_enable_pdl):
    """Enables Programmatic Dependent Launch for CUDA kernels."""
    check(lib.dg_set_pdl(1 if new_enable_pdl else 0))


def get_pdl():
    """Whether Programmatic Dependent Launch is enabled."""
    return bool(lib.dg_get_pdl())


def set_ignore_compile_dims(new_value):
    """When true, no shape is baked into JIT kernels (overrides each call's compiled_dims)."""
    check(lib.dg_set_ignore_compile_dims(1 if new_value else 0))


def set_block_size_multiple_of(new_value):
    """Constrains the heuristics' BLOCK_M/BLOCK_N: one int for both, or an (m, n) tuple."""
    if isinstance(new_value, (tuple, list)):
        m, n = new_value
    else:
        m = n = new_value
    check(lib.dg_set_block_size_multiple_of(operator.index(m), operator.index(n)))


def set_mk_alignment_for_contiguous_layout(new_value):
    """The M/K alignment of contiguous grouped layouts (BLOCK_M of m-grouped GEMMs; default 128)."""
    check(lib.dg_set_mk_alignment_for_contiguous_layout(operator.index(new_value)))


def get_mk_alignment_for_contiguous_layout():
    """The M/K alignment of contiguous grouped layouts."""
    return lib.dg_get_mk_alignment_for_contiguous_layout()


get_m_alignment_for_contiguous_layout = get_mk_alignment_for_contiguous_layout
get_k_alignment_for_contiguous_layout = get_mk_alignment_for_contiguous_layout


def get_theoretical_mk_alignment_for_contiguous_layout(expected_m=None):
    """The alignment the architecture personality would pick for ``expected_m`` rows per group."""
    return lib.dg_get_theoretical_mk_alignment_for_contiguous_layout(
        -1 if expected_m is None else operator.index(expected_m))


def set_arch(arch):
    """Architecture personality whose rules CPU calls follow: "sm90", "sm100", or None to reset."""
    check(lib.dg_set_arch((arch or "").encode()))


def get_arch():
    """The architecture personality in effect: "sm90" or "sm100"."""
    return lib.dg_get_arch().decode()


def set_num_threads(threads):
    """CPU threads ops use (0: all); returns the previous count."""
    return lib.dg_set_num_threads(operator.index(threads))


def version():
    """The library's version string, e.g. "0.4.0"."""
    return lib.dg_version().decode()


def info():
    """The library's build and machine information (CPU kernel level, threads, CUDA probe) as a dict."""
    return json.loads(lib.dg_info_json().decode())
