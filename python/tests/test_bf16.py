"""Port of DeepGEMM's tests/test_bf16.py on the CPU. Cut shapes: m ∈ {1, 128, 257} with
(n, k) ∈ {(256, 512), (576, 1024)} and FP32-output (256, 768) instead of DeepGEMM's DeepSeek shapes
(up to 129280 × 7168); grouped ops with 2-4 groups of ~64-96 rows. Threshold: calc_diff < 1e-5."""

import random

import pytest
import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm.testing import calc_diff

import generators as gen
from conftest import DEVICES

CASES = [(m, n, k, torch.bfloat16) for m in (1, 128, 257) for n, k in ((256, 512), (576, 1024))] + \
        [(128, 256, 768, torch.float32)]


def operands(a, b, layout):
    """a, b as the given layout's function expects them (t: A as [K, M]; n: B as [K, N])."""
    return (a.T.contiguous() if layout[0] == "t" else a), (b.T.contiguous() if layout[1] == "n" else b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("m,n,k,out_dtype", CASES)
def test_gemm(m, n, k, out_dtype, device):
    for accumulate in (False, True):
        a, b, c, d, ref = gen.normal(m, n, k, accumulate, out_dtype, device)
        for layout in ("nt", "nn", "tn", "tt"):
            fa, fb = operands(a, b, layout)
            out = torch.empty_like(d)
            getattr(deep_gemm, f"bf16_gemm_{layout}")(fa, fb, out, c=c)
            assert calc_diff(out, ref) < 1e-5, (layout, accumulate)
            getattr(deep_gemm, f"cublaslt_gemm_{layout}")(fa, fb, out, c=c)
            assert calc_diff(out, ref) < 1e-5, ("cublaslt", layout, accumulate)


@pytest.mark.parametrize("psum", [False, True])
@pytest.mark.parametrize("b_mn_major", [False, True])
def test_m_grouped_contiguous(psum, b_mn_major):
    for num_groups, expected_m, n, k in ((2, 96, 256, 512), (4, 64, 192, 256)):
        m, a, b, layout, d, ref, actual, aligned = gen.m_grouped_contiguous(num_groups, expected_m, n, k, psum)
        bb = b.mT.contiguous().mT if b_mn_major else b
        deep_gemm.m_grouped_bf16_gemm_nt_contiguous(a, bb, d, layout, use_psum_layout=psum)
        if psum:
            start = 0
            for am, al in zip(actual, aligned):
                assert calc_diff(d[start:start + am], ref[start:start + am]) < 1e-5
                start += al
        else:
            valid = layout >= 0
            assert calc_diff(d[valid], ref[valid]) < 1e-5
        deep_gemm.m_grouped_bf16_gemm_nn_contiguous(a, b.mT.contiguous(), d, layout, use_psum_layout=psum)
        if not psum:
            assert calc_diff(d[layout >= 0], ref[layout >= 0]) < 1e-5


def test_m_grouped_masked():
    a, b, masked_m, d, ref = gen.m_grouped_masked(3, 128, 48, 256, 512)
    deep_gemm.m_grouped_bf16_gemm_nt_masked(a, b, d, masked_m, 58)
    for g in range(3):
        rows = masked_m[g].item()
        assert calc_diff(d[g, :rows], ref[g, :rows]) < 1e-5
    deep_gemm.bf16_m_grouped_gemm_nt_masked(a, b, d, masked_m, 58)  # the legacy alias


def test_k_grouped_tn_contiguous():
    num_groups, m, n = 3, 128, 192
    ks = [gen.align(max(1, int(256 * random.uniform(0.7, 1.3))), 128) for _ in range(num_groups)]
    ks[0] = 0
    a = torch.randn(sum(ks), m, dtype=torch.bfloat16)
    b = torch.randn(sum(ks), n, dtype=torch.bfloat16)
    c = torch.randn(num_groups, m, n) * 32
    ref, start = c.clone(), 0
    for g, k in enumerate(ks):
        ref[g] += a[start:start + k].float().T @ b[start:start + k].float()
        start += k
    d = c.clone()
    deep_gemm.k_grouped_bf16_gemm_tn_contiguous(a, b, d, ks, torch.tensor(ks, dtype=torch.int32), c=d)
    assert calc_diff(d, ref) < 1e-5
