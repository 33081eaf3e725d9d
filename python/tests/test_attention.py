"""Port of DeepGEMM's tests/test_attention.py (lightning-indexer MQA logits) on the CPU. Cut shapes:
S = 64 queries, Skv ∈ {256, 512} (DeepGEMM: S ∈ {2048, 8192}, Skv up to 65536), H ∈ {32, 64}, D = 128;
paged: B = 3 requests of ~200 tokens, next_n ∈ {1, 2} (DeepGEMM: B up to 4096, L up to 65536).
Thresholds are DeepGEMM's: calc_diff < 1e-3 (FP8), masks equal, 20 reruns bitwise equal (here 3)."""

import random

import pytest
import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm.testing import calc_diff
from swift_deepgemm.utils import align, ceil_div


def reference_logits(q, kv, weights, ks, ke):
    score = torch.einsum('shd,td->sht', q.float(), kv.float()).relu()
    logits = (score * weights.float().unsqueeze(-1)).sum(1)
    cols = torch.arange(kv.size(0)).unsqueeze(0)
    mask = (cols >= ks.unsqueeze(1)) & (cols < ke.unsqueeze(1))
    return logits.masked_fill(~mask, float('-inf'))


@pytest.mark.parametrize("heads", [32, 64])
@pytest.mark.parametrize("seq_kv", [256, 512])
@pytest.mark.parametrize("compressed", [False, True])
def test_fp8_mqa_logits(heads, seq_kv, compressed):
    seq, dim = 64, 128
    q = torch.randn(seq, heads, dim, dtype=torch.bfloat16)
    kv = torch.randn(seq_kv, dim, dtype=torch.bfloat16)
    weights = torch.randn(seq, heads)
    ks = torch.zeros(seq, dtype=torch.int32)
    ke = torch.arange(seq, dtype=torch.int32) + (seq_kv - seq)
    ref = reference_logits(q, kv, weights, ks, ke)
    q_fp8 = q.to(torch.float8_e4m3fn)
    kv_fp8 = deep_gemm.per_custom_dims_cast_to_fp8(kv, (0,), False)
    if compressed:
        max_k = int((ke - ks).max())
        logits = deep_gemm.fp8_fp4_mqa_logits((q_fp8, None), kv_fp8, weights, ks, ke, clean_logits=False,
                                              max_seqlen_k=max_k)
        expanded = torch.full_like(ref, float('-inf'))
        for i in range(seq):
            n = int(ke[i] - ks[i])
            expanded[i, ks[i]:ke[i]] = logits[i, :n]
        logits = expanded
    else:
        logits = deep_gemm.fp8_fp4_mqa_logits((q_fp8, None), kv_fp8, weights, ks, ke)
        assert logits.stride(0) == align(seq_kv + 256, 256)
        for _ in range(3):
            again = deep_gemm.fp8_mqa_logits(q_fp8, kv_fp8, weights, ks, ke)
            assert torch.equal(again, logits)
    finite = ref != float('-inf')
    assert torch.equal(finite, logits != float('-inf'))
    assert calc_diff(logits[finite], ref[finite]) < 1e-3


@pytest.mark.parametrize("next_n", [1, 2])
def test_fp8_paged_mqa_logits(next_n):
    batch, heads, dim, block_kv = 3, 32, 128, 64
    deep_gemm.set_num_sms(8)
    ctx = [int(200 * random.uniform(0.7, 1.3)) for _ in range(batch)]
    max_ctx = max(ctx)
    blocks_per_seq = ceil_div(max_ctx, block_kv)
    context_lens = torch.tensor([[c] * next_n for c in ctx], dtype=torch.int32)
    q = torch.randn(batch, next_n, heads, dim, dtype=torch.bfloat16)
    weights = torch.randn(batch * next_n, heads)
    kv = torch.randn(batch, blocks_per_seq * block_kv, dim, dtype=torch.bfloat16)
    # Pages in shuffled order; each page is [block_kv·D FP8 values][block_kv f32 scales].
    num_blocks = batch * blocks_per_seq
    order = torch.randperm(num_blocks, dtype=torch.int32)
    block_table = order.view(batch, blocks_per_seq)
    cache = torch.zeros(num_blocks, block_kv * (dim + 4), dtype=torch.uint8)
    for b in range(batch):
        for j in range(blocks_per_seq):
            tokens = kv[b, j * block_kv:(j + 1) * block_kv]
            data, sf = deep_gemm.per_custom_dims_cast_to_fp8(tokens, (0,), False)
            page = cache[block_table[b, j]]
            page[:block_kv * dim] = data.view(torch.uint8).flatten()
            page[block_kv * dim:] = sf.view(torch.uint8)
    kv_cache = cache.view(num_blocks, block_kv, 1, dim + 4)
    meta = deep_gemm.get_paged_mqa_logits_metadata(context_lens, block_kv, deep_gemm.get_num_sms())
    logits = deep_gemm.fp8_paged_mqa_logits(q.to(torch.float8_e4m3fn), kv_cache, weights, context_lens, block_table,
                                            meta, max_ctx)
    assert logits.shape == (batch * next_n, max_ctx)
    for b in range(batch):
        for t in range(next_n):
            row = b * next_n + t
            n = ctx[b]
            ref = reference_logits(q[b, t:t + 1], kv[b, :n], weights[row:row + 1], torch.zeros(1, dtype=torch.int32),
                                   torch.tensor([n], dtype=torch.int32))
            assert calc_diff(logits[row, :n], ref[0]) < 1e-3
