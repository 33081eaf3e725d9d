"""Port of DeepGEMM's tests/test_layout.py plus the quantization helpers, bit for bit against
pure-torch references. Shapes cut from mn ∈ {4096, 4097, 8192}, k up to 7296 to mn ∈ {64, 67, 256},
k ∈ {128, 896, 1152} (same tails: mn%4 != 0, k%512 != 0)."""

import pytest
import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm.utils import align, ceil_div

import reference as ref

SHAPES = [(64, 128), (67, 896), (256, 1152)]


@pytest.mark.parametrize("use_ue8m0", [False, True])
@pytest.mark.parametrize("gran_k", [32, 128])
@pytest.mark.parametrize("m,n", [(16, 256), (5, 200)])
def test_casts_match_the_torch_reference(m, n, gran_k, use_ue8m0):
    x = torch.randn(m, n, dtype=torch.bfloat16) * 3
    for ours, theirs in [(deep_gemm.per_token_cast_to_fp8, ref.per_token_cast_to_fp8),
                         (deep_gemm.per_block_cast_to_fp8, ref.per_block_cast_to_fp8)]:
        q, sf = ours(x, use_ue8m0=use_ue8m0, gran_k=gran_k)
        rq, rsf = theirs(x, use_ue8m0, gran_k)
        assert torch.equal(q.view(torch.uint8), rq.view(torch.uint8)), ours.__name__
        assert torch.equal(sf, rsf), ours.__name__
    if n % 2 == 0:
        q, sf = deep_gemm.per_token_cast_to_fp4(x, use_ue8m0=use_ue8m0, gran_k=gran_k)
        rq, rsf = ref.per_token_cast_to_fp4(x, use_ue8m0, gran_k)
        assert torch.equal(q, rq) and torch.equal(sf, rsf)
        back = deep_gemm.cast_back_from_fp4(q, sf, gran_k=gran_k)
        expected = ref.unpack_fp4(q) * sf.repeat_interleave(gran_k, dim=1)[:, :n]
        assert torch.equal(back, expected)


def test_packed_scales_and_fp4_transpose():
    x = torch.randn(8, 512, dtype=torch.bfloat16)
    q, packed = deep_gemm.per_token_cast_to_fp8(x, use_ue8m0=True, gran_k=128, use_packed_ue8m0=True)
    _, sf = ref.per_token_cast_to_fp8(x, True, 128)
    assert torch.equal(packed, ref.pack_ue8m0(sf))
    assert torch.equal(deep_gemm.unpack_ue8m0_from_int(packed), sf)
    assert torch.equal(deep_gemm.pack_ue8m0_to_int(sf), packed)
    assert torch.equal(deep_gemm.ceil_to_ue8m0(torch.tensor([3.0, 0.0, 0.25, 1e-40])),
                       ref.ceil_to_ue8m0(torch.tensor([3.0, 0.0, 0.25, 1e-40])))
    f4, _ = deep_gemm.per_token_cast_to_fp4(torch.randn(6, 64, dtype=torch.bfloat16), use_ue8m0=True, gran_k=32)
    t = deep_gemm.transpose_packed_fp4(f4)
    assert t.shape == (64, 3) and torch.equal(ref.unpack_fp4(t), ref.unpack_fp4(f4).T)


@pytest.mark.parametrize("num_groups", [1, 2])
@pytest.mark.parametrize("mn,k", SHAPES)
def test_mn_major_tma_aligned_tensor(mn, k, num_groups):
    sf = torch.randn(num_groups, mn, ceil_div(k, 128)) if num_groups > 1 else torch.randn(mn, ceil_div(k, 128))
    out = deep_gemm.get_mn_major_tma_aligned_tensor(sf)
    sk = sf.size(-1)
    aligned = align(mn, 4)
    assert torch.equal(out, sf)
    assert out.stride()[-2:] == (1, aligned)
    if num_groups > 1:
        assert out.stride(0) == aligned * sk


@pytest.mark.parametrize("with_transpose", [False, True])
@pytest.mark.parametrize("num_groups", [1, 2])
@pytest.mark.parametrize("mn,k", SHAPES)
def test_mn_major_tma_aligned_packed_ue8m0_tensor(mn, k, num_groups, with_transpose):
    x = torch.randn(num_groups * mn, k, dtype=torch.bfloat16)
    sf = ref.per_token_cast_to_fp8(x, True, 128)[1].view(num_groups, mn, -1)
    if num_groups == 1:
        sf = sf[0]
    if with_transpose:
        sf = sf.mT.contiguous().mT
    out = deep_gemm.get_mn_major_tma_aligned_packed_ue8m0_tensor(sf)
    expected = ref.mn_major_packed_ue8m0(sf)
    assert torch.equal(out, expected) and out.stride() == expected.stride()


@pytest.mark.parametrize("mn,k", SHAPES)
def test_transform_sf_into_required_layout(mn, k):
    x = torch.randn(mn, k, dtype=torch.bfloat16)
    sf = ref.per_token_cast_to_fp8(x, True, 128)[1]
    out = deep_gemm.transform_sf_into_required_layout(sf, mn, k, (1, 128, 128), is_sfa=True)
    assert torch.equal(out, ref.mn_major_packed_ue8m0(sf))                 # SM100: packed UE8M0
    deep_gemm.set_arch("sm90")
    out = deep_gemm.transform_sf_into_required_layout(sf, mn, k, (1, 128), is_sfa=None)
    assert torch.equal(out, sf) and out.stride() == (1, align(mn, 4))        # SM90: f32, MN-major
    with pytest.raises(deep_gemm.DGArgumentError):
        deep_gemm.transform_sf_into_required_layout(sf, mn + 1, k, (1, 128), is_sfa=None)


def test_k_grouped_packed_ue8m0_tensor():
    gran_k, mn = 128, 64
    ks = [256, 384, 128]
    sf = torch.cat([ref.ceil_to_ue8m0(torch.rand(ceil_div(k, gran_k), mn) + 0.1) for k in ks])
    layout = torch.tensor(ks, dtype=torch.int32)
    out = deep_gemm.get_k_grouped_mn_major_tma_aligned_packed_ue8m0_tensor(sf, layout, ks, gran_k, 128)
    rows, start = [], 0
    for k in ks:
        r = ceil_div(k, gran_k)
        rows.append(ref.pack_ue8m0(sf[start:start + r].T).T)
        start += r
    assert torch.equal(out, torch.cat(rows))
