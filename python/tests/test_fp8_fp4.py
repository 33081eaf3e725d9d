"""Port of DeepGEMM's tests/test_fp8_fp4.py on the CPU (SM100 personality unless a test says SM90).

Cut shapes: forward m ∈ {1, 128, 257} with (n, k) ∈ {(256, 512), (576, 1024)} instead of DeepGEMM's
m ∈ {1, 128, 4096} × seven DeepSeek (n, k) pairs up to 32768 × 16384; backward (dgrad, wgrad) at
m = 256; grouped ops with 2-4 groups of ~64-192 rows and n, k ≤ 512. Thresholds are DeepGEMM's:
calc_diff < 0.001 (FP8 × FP8), 0.01 (FP8 × FP4)."""

import random

import pytest
import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm.testing import calc_diff

import generators as gen
from conftest import DEVICES

FORWARD = [(m, n, k) for m in (1, 128, 257) for n, k in ((256, 512), (576, 1024))]
# (gran_k_a, gran_k_b, fp4_b, max_diff): DeepGEMM's legacy config and its FP8 x FP4 config.
QUANT = [(128, 128, False, 0.001), (128, 32, True, 0.01)]
LAYOUTS = ("nt", "nn", "tn", "tt")


def recipes(gran_k_a, gran_k_b, fp4_b, wgrad=False):
    if (gran_k_a, gran_k_b, fp4_b) == (128, 128, False):
        return dict(recipe=(1, 1, 128) if wgrad else None)
    return dict(recipe_a=(1, gran_k_a), recipe_b=(1, gran_k_b) if fp4_b or wgrad else (gran_k_b, gran_k_b))


def run_layouts(a, b, d, c, kwargs, ref, max_diff):
    """nt on the given operands, then the alias of each layout on transposed contiguous copies."""
    for layout in LAYOUTS:
        fa, fb = a, b
        if layout[0] == "t":  # A given as [K, M]: data and SF transposed
            fa = (a[0].T.contiguous(), a[1].T.contiguous())
        if layout[1] == "n":  # B given as [K, N]
            fb = (b[0].T.contiguous(), b[1].T.contiguous())
        if layout != "nt" and (a[0].dtype == torch.int8 or b[0].dtype == torch.int8):
            continue  # packed FP4 transposes are covered by the MN-major cases
        if c is not None:
            d.copy_(c)
        getattr(deep_gemm, f"fp8_fp4_gemm_{layout}")(fa, fb, d, c=c, **kwargs)
        diff = calc_diff(d, ref)
        assert diff < max_diff, f"{layout}: {diff}"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("quant", QUANT)
@pytest.mark.parametrize("m,n,k", FORWARD)
def test_gemm_forward(m, n, k, quant, device):
    gka, gkb, fp4_b, max_diff = quant
    for accumulate in (False, True):
        a, b, c, d, ref = gen.normal(m, n, k, accumulate, torch.bfloat16, device)
        qa = gen.cast(a, gka)
        qb = gen.cast(b, gkb, per_block=not fp4_b, fp4=fp4_b)
        run_layouts(qa, qb, d, c.clone() if accumulate else None, recipes(gka, gkb, fp4_b), ref, max_diff)


@pytest.mark.parametrize("quant", QUANT)
def test_gemm_backward(quant):
    gka, gkb, fp4_b, max_diff = quant
    m, n, k = 256, 384, 512
    # Dgrad: B MN-major.
    a, b, c, d, ref = gen.normal(m, k, n, False, torch.bfloat16)
    deep_gemm.fp8_fp4_gemm_nt(gen.cast(a, gka), gen.cast(b, gkb, per_block=not fp4_b, fp4=fp4_b, mn_major=True), d,
                              **recipes(gka, gkb, fp4_b))
    assert calc_diff(d, ref) < max_diff
    # Wgrad: both MN-major, per-token B; FP32 D with accumulation and BF16 D without.
    for accumulate, out_dtype in ((True, torch.float32), (False, torch.bfloat16)):
        a, b, c, d, ref = gen.normal(n, m, k, accumulate, out_dtype)
        deep_gemm.fp8_fp4_gemm_nt(gen.cast(a, gka, mn_major=True), gen.cast(b, gkb, fp4=fp4_b, mn_major=True), d,
                                  c=c, **recipes(gka, gkb, fp4_b, wgrad=True))
        assert calc_diff(d, ref) < max_diff, (accumulate, out_dtype)


def test_gemm_sm90_kernels():
    deep_gemm.set_arch("sm90")
    a, b, _, d, ref = gen.normal(128, 256, 512, False, torch.bfloat16)
    deep_gemm.fp8_gemm_nt(gen.cast(a, 128, use_ue8m0=False), gen.cast(b, 128, per_block=True, use_ue8m0=False), d)
    assert calc_diff(d, ref) < 0.001                                             # 1D2D: BF16 D, no C
    a, b, c, d, ref = gen.normal(128, 256, 512, True, torch.float32)
    deep_gemm.fp8_gemm_nt(gen.cast(a, 128, use_ue8m0=False), gen.cast(b, 128, use_ue8m0=False), d, c=c,
                          recipe=(1, 1, 128))
    assert calc_diff(d, ref) < 0.001                                             # 1D1D: FP32 D with C
    with pytest.raises(deep_gemm.DGError):
        deep_gemm.fp8_gemm_nt(gen.cast(a, 128, use_ue8m0=False), gen.cast(b, 128, per_block=True, use_ue8m0=False),
                              d.bfloat16(), c=c.bfloat16())                      # 1D2D takes no C


@pytest.mark.parametrize("psum", [False, True])
@pytest.mark.parametrize("quant", QUANT)
def test_m_grouped_contiguous(quant, psum):
    gka, gkb, fp4_b, max_diff = quant
    deep_gemm.set_mk_alignment_for_contiguous_layout(deep_gemm.get_theoretical_mk_alignment_for_contiguous_layout())
    for num_groups, expected_m, n, k in ((2, 96, 256, 512), (4, 64, 192, 256)):
        m, a, b, layout, d, ref, actual, aligned = gen.m_grouped_contiguous(num_groups, expected_m, n, k, psum)
        qa = gen.cast(a, gka)
        qb = gen.grouped_cast(b, gkb, per_block=not fp4_b, fp4=fp4_b)
        deep_gemm.m_grouped_fp8_fp4_gemm_nt_contiguous(qa, qb, d, layout, use_psum_layout=psum,
                                                       **recipes(gka, gkb, fp4_b))
        if psum:
            start = 0
            for am, al in zip(actual, aligned):
                assert calc_diff(d[start:start + am], ref[start:start + am]) < max_diff
                start += al
        else:
            valid = layout >= 0
            assert calc_diff(d[valid], ref[valid]) < max_diff
            assert torch.all(d[~valid] == 0)


@pytest.mark.parametrize("quant", QUANT)
def test_m_grouped_masked(quant):
    gka, gkb, fp4_b, max_diff = quant
    num_groups, max_m, expected_m, n, k = 3, 128, 48, 256, 512
    deep_gemm.set_mk_alignment_for_contiguous_layout(
        deep_gemm.get_theoretical_mk_alignment_for_contiguous_layout(int(expected_m * 1.2)))
    a, b, masked_m, d, ref = gen.m_grouped_masked(num_groups, max_m, expected_m, n, k)
    qa = gen.grouped_cast(a, gka, per_block=False)
    for g in range(num_groups):  # zero SFA rows past masked_m, as DeepGEMM's generator does
        qa[1][g, masked_m[g]:] = 0
    qb = gen.grouped_cast(b, gkb, per_block=not fp4_b, fp4=fp4_b)
    deep_gemm.m_grouped_fp8_fp4_gemm_nt_masked(qa, qb, d, masked_m, int(expected_m * 1.2), **recipes(gka, gkb, fp4_b))
    for g in range(num_groups):
        rows = masked_m[g].item()
        assert calc_diff(d[g, :rows], ref[g, :rows]) < max_diff


def test_k_grouped_tn_contiguous():
    num_groups, m, n, expected_k, gran_k = 3, 128, 192, 256, 128
    deep_gemm.set_mk_alignment_for_contiguous_layout(128)
    ks = [gen.align(max(1, int(expected_k * random.uniform(0.7, 1.3))), 128) for _ in range(num_groups)]
    ks[1] = 0  # an empty group
    total = sum(ks)
    a = torch.randn(total, m, dtype=torch.bfloat16)
    b = torch.randn(total, n, dtype=torch.bfloat16)
    c = torch.randn(num_groups, m, n) * 32
    d = c.clone()
    ref = c.clone()
    sfa, sfb, start = [], [], 0
    qa = torch.empty(total, m, dtype=torch.float8_e4m3fn)
    qb = torch.empty(total, n, dtype=torch.float8_e4m3fn)
    for g, k in enumerate(ks):
        if k:
            ref[g] += a[start:start + k].float().T @ b[start:start + k].float()
            # per-channel along K: one scale per gran_k rows of each column
            xa, sa = deep_gemm.per_channel_cast_to_fp8(a[start:start + k], use_ue8m0=True, gran_k=gran_k)
            xb, sb = deep_gemm.per_channel_cast_to_fp8(b[start:start + k], use_ue8m0=True, gran_k=gran_k)
            qa[start:start + k], qb[start:start + k] = xa, xb
            sfa.append(sa)
            sfb.append(sb)
        start += k
    layout = torch.tensor(ks, dtype=torch.int32)
    deep_gemm.k_grouped_fp8_gemm_tn_contiguous((qa, torch.cat(sfa)), (qb, torch.cat(sfb)), d, ks, layout, c=d)
    assert calc_diff(d, ref) < 0.001


def test_skip_head_mid():
    m, (left, mid, right), heads, k = 128, (128, 64, 128), 2, 512
    n = heads * (left + right)
    a, b, _, _, _ = gen.normal(m, n, k, False, torch.bfloat16)
    full = (a.float() @ b.float().T).view(m, heads, left + right)
    d = torch.zeros(m, heads * (left + mid + right), dtype=torch.bfloat16)
    deep_gemm.fp8_gemm_nt_skip_head_mid(gen.cast(a, 128), gen.cast(b, 128, per_block=True), d, (left, mid, right))
    got = d.view(m, heads, left + mid + right)
    assert calc_diff(torch.cat([got[..., :left], got[..., left + mid:]], -1), full) < 0.001
    assert torch.all(got[..., left:left + mid] == 0)
