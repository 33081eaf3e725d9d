"""Port of DeepGEMM's tests/test_hyperconnection.py on the CPU. Cut shapes: m ∈ {13, 137}
(DeepGEMM: up to 8192), (n, k) ∈ {(24, 7168), (24, 1536)}; splits ∈ {None, 16}. Threshold 1e-8."""

import pytest
import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm.testing import calc_diff


@pytest.mark.parametrize("num_splits", [None, 16])
@pytest.mark.parametrize("m", [13, 137])
@pytest.mark.parametrize("n,k", [(24, 7168), (24, 1536)])
def test_tf32_hc_prenorm_gemm(m, n, k, num_splits):
    a = torch.randn(m, k, dtype=torch.bfloat16)
    b = torch.randn(n, k)
    shape = (num_splits,) if num_splits else ()
    d = torch.empty(*shape, m, n)
    sqr_sum = torch.empty(*shape, m)
    deep_gemm.tf32_hc_prenorm_gemm(a, b, d, sqr_sum, num_splits=num_splits)
    if num_splits:
        d, sqr_sum = d.sum(0), sqr_sum.sum(0)
    b_tf32 = (b.view(torch.int32) + 0x1000 & ~0x1FFF).view(torch.float32)  # round to TF32 (nearest)
    ref = a.double() @ b_tf32.double().T
    assert calc_diff(d, ref) < 1e-8
    assert calc_diff(sqr_sum, a.double().square().sum(-1)) < 1e-8
