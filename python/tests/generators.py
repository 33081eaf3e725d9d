"""Inputs and references for the ported DeepGEMM tests (own code; DeepGEMM's generators are the model:
random BF16 operands, quantized per token / per block, and a reference from the unquantized BF16
product). Shapes are cut to what a 2-core CPU runs in seconds; each test module says how."""

import random

import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm.utils import align, ceil_div


def cast(x, gran_k, per_block=False, fp4=False, use_ue8m0=True, mn_major=False):
    """(data, sf) of a BF16 matrix: FP8 per token (or per block) or packed FP4 per token; with
    ``mn_major`` the data is an MN-major view (transposed, contiguous, transposed back)."""
    if fp4:
        data, sf = deep_gemm.per_token_cast_to_fp4(x, use_ue8m0=use_ue8m0, gran_k=gran_k)
        return (deep_gemm.transpose_packed_fp4(data).T, sf) if mn_major else (data, sf)
    if per_block:
        data, sf = deep_gemm.per_block_cast_to_fp8(x, use_ue8m0=use_ue8m0, gran_k=gran_k)
    else:
        data, sf = deep_gemm.per_token_cast_to_fp8(x, use_ue8m0=use_ue8m0, gran_k=gran_k)
    return (data.T.contiguous().T, sf) if mn_major else (data, sf)


def grouped_cast(x, gran_k, per_block=True, fp4=False, use_ue8m0=True):
    """Per-group casts of a [G, MN, K] BF16 tensor, stacked."""
    parts = [cast(x[g], gran_k, per_block=per_block, fp4=fp4, use_ue8m0=use_ue8m0) for g in range(x.size(0))]
    return torch.stack([p[0] for p in parts]), torch.stack([p[1] for p in parts])


def normal(m, n, k, accumulate, out_dtype, device="cpu"):
    """a, b (BF16), c, d and the reference (a·bᵀ + c in f32, rounded to out_dtype)."""
    a = torch.randn((m, k), dtype=torch.bfloat16, device=device)
    b = torch.randn((n, k), dtype=torch.bfloat16, device=device)
    d = (torch.randn((m, n), device=device) * 32).to(out_dtype) if accumulate else \
        torch.empty((m, n), dtype=out_dtype, device=device)
    c = d if accumulate else None
    ref = (a.float() @ b.float().T + (c.float() if accumulate else 0)).to(out_dtype)
    return a, b, c, d, ref


def m_grouped_contiguous(num_groups, expected_m, n, k, psum=False, device="cpu"):
    """Expert-sorted rows: a [M,K], b [G,N,K], the layout (row -> group, -1 padding; or psum ends),
    d and the reference with zero padding rows."""
    alignment = deep_gemm.get_mk_alignment_for_contiguous_layout()
    actual = [int(expected_m * random.uniform(0.7, 1.3)) for _ in range(num_groups)]
    aligned = [align(m, alignment) for m in actual]
    m = sum(aligned)
    a = torch.randn((m, k), dtype=torch.bfloat16, device=device)
    b = torch.randn((num_groups, n, k), dtype=torch.bfloat16, device=device)
    layout = torch.empty(num_groups if psum else m, dtype=torch.int32, device=device)
    ref = torch.empty((m, n), dtype=torch.bfloat16, device=device)
    start = 0
    for g, (am, al) in enumerate(zip(actual, aligned)):
        if psum:
            layout[g] = start + am
        else:
            layout[start:start + am] = g
            layout[start + am:start + al] = -1
        a[start + am:start + al] = 0
        ref[start:start + al] = (a[start:start + al].float() @ b[g].float().T).bfloat16()
        start += al
    d = torch.empty((m, n), dtype=torch.bfloat16, device=device)
    return m, a, b, layout, d, ref, actual, aligned


def m_grouped_masked(num_groups, max_m, expected_m, n, k, device="cpu"):
    """a [G,Mmax,K], b [G,N,K], masked_m, d and the einsum reference."""
    a = torch.randn((num_groups, max_m, k), dtype=torch.bfloat16, device=device)
    b = torch.randn((num_groups, n, k), dtype=torch.bfloat16, device=device)
    d = torch.empty((num_groups, max_m, n), dtype=torch.bfloat16, device=device)
    ref = torch.einsum('gmk,gnk->gmn', a.float(), b.float()).bfloat16()
    masked_m = torch.tensor([min(max_m, int(expected_m * random.uniform(0.7, 1.3))) for _ in range(num_groups)],
                            dtype=torch.int32, device=device)
    return a, b, masked_m, d, ref


__all__ = ["cast", "grouped_cast", "normal", "m_grouped_contiguous", "m_grouped_masked", "align", "ceil_div"]
