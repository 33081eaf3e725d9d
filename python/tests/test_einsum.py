"""Port of DeepGEMM's tests/test_einsum.py on the CPU. Cut shapes: S ∈ {3, 17} (DeepGEMM: 129..8192)
for bmk,bnk->mn; b ∈ {4, 32} with (h, r, d) = (8, 256, 128) (DeepGEMM: up to 8192 and (8, 4096, 1024))
for the bh* expressions. Thresholds are DeepGEMM's: 1e-5, 1e-10 (BF16 einsum), 1e-3 (FP8)."""

import pytest
import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm.testing import calc_diff

import generators as gen


@pytest.mark.parametrize("s", [3, 17])
@pytest.mark.parametrize("m,n,k", [(128, 192, 128), (64, 64, 256)])
def test_bmk_bnk_mn(s, m, n, k):
    a = torch.randn(s, m, k, dtype=torch.bfloat16)
    b = torch.randn(s, n, k, dtype=torch.bfloat16)
    ref = torch.einsum('bmk,bnk->mn', a.float(), b.float())
    c = torch.randn(m, n)
    d = c.clone()
    deep_gemm.einsum('bmk,bnk->mn', a, b, d, c=d)  # f32 D accumulates (c is d)
    assert calc_diff(d, ref + c) < 1e-5
    d = torch.empty(m, n, dtype=torch.bfloat16)
    deep_gemm.einsum('bmk,bnk->mn', a, b, d)
    assert calc_diff(d, ref) < 1e-5


@pytest.mark.parametrize("b", [4, 32])
def test_bhr_hdr_bhd_and_bhd_hdr_bhr(b):
    h, r, dd = 8, 256, 128
    x = torch.randn(b, h, r, dtype=torch.bfloat16)
    y = torch.randn(h, dd, r + 128, dtype=torch.bfloat16)[:, :, :r]  # a slice, as DeepGEMM's test
    out = torch.empty(b, h, dd, dtype=torch.bfloat16)
    deep_gemm.einsum('bhr,hdr->bhd', x, y, out)
    assert calc_diff(out, torch.einsum('bhr,hdr->bhd', x, y)) < 1e-10
    z = torch.randn(b, h, dd, dtype=torch.bfloat16)
    w = torch.randn(h, dd, r + 128, dtype=torch.bfloat16)[:, :, :r]
    out = torch.empty(b, h, r, dtype=torch.bfloat16)
    deep_gemm.einsum('bhd,hdr->bhr', z, w, out)
    assert calc_diff(out, torch.einsum('bhd,hdr->bhr', z, w)) < 1e-10
    with pytest.raises(deep_gemm.DGError):
        deep_gemm.einsum('ij,jk->ik', x[0], y[0], out[0])


def test_fp8_einsum_bhr_hdr_bhd():
    b, h, r, dd = 16, 4, 256, 128
    x = torch.randn(b, h, r, dtype=torch.bfloat16)
    y = torch.randn(h, dd, r, dtype=torch.bfloat16)
    qx = gen.cast(x.view(b * h, r), 128)
    qx = (qx[0].view(b, h, r), qx[1].view(b, h, -1))
    qy = gen.grouped_cast(y, 128, per_block=True)
    d = torch.empty(b, h, dd, dtype=torch.bfloat16)
    deep_gemm.fp8_einsum('bhr,hdr->bhd', qx, qy, d)
    assert calc_diff(d, torch.einsum('bhr,hdr->bhd', x.float(), y.float())) < 1e-3
