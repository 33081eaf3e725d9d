"""Mega MoE on CPU ranks: 2 processes (torch.multiprocessing spawn + gloo) share the symmetric
buffer from get_symm_buffer_for_mega_moe and run bf16_mega_moe / fp8_fp4_mega_moe against a
reference of DeepGEMM's test_mega_moe.py baseline (dispatch, L1, SwiGLU with the routing weight,
L2, combine), computed per token in torch. Cut shapes: 4 experts, hidden 512, intermediate 512 (the least FP8 dispatch allows: 16 B of scales per row),
top-2, 24 tokens per rank (DeepGEMM: DeepSeek-sized layers over 8 GPUs). A rank that dies makes
the other fail with DGRankError naming it."""

import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD, EXPERTS, HIDDEN, INTER, TOPK, TOKENS, MAX_TOKENS = 2, 4, 512, 512, 2, 24, 32


def rank_inputs(rank):
    """Rank ``rank``'s tokens, routing and experts (the same on every process)."""
    g = torch.Generator().manual_seed(100 + rank)
    x = torch.randn(TOKENS, HIDDEN, generator=g).bfloat16()
    scores = torch.randn(TOKENS, EXPERTS, generator=g)
    topk_weights, topk_idx = torch.topk(scores, TOPK, dim=-1)
    topk_idx[3, 1] = -1  # a masked slot
    topk_weights[3, 1] = 0
    local = EXPERTS // WORLD
    l1 = (torch.randn(local, 2 * INTER, HIDDEN, generator=g) / 16).bfloat16()
    l2 = (torch.randn(local, HIDDEN, INTER, generator=g) / 16).bfloat16()
    return x, topk_idx, topk_weights, l1, l2


def dequantized(x, l1, l2):
    """The values the FP8 x FP4 layer computes with: x through FP8 (per-32 UE8M0 scales), the
    experts through FP4 (per-32 UE8M0 scales)."""
    import swift_deepgemm as deep_gemm
    q, sf = deep_gemm.per_token_cast_to_fp8(x, use_ue8m0=True, gran_k=32)
    x = (q.float() * sf.repeat_interleave(32, dim=1)).bfloat16()

    def fp4(w):
        return torch.stack([deep_gemm.cast_back_from_fp4(*deep_gemm.per_token_cast_to_fp4(e, use_ue8m0=True, gran_k=32),
                                                         gran_k=32) for e in w]).bfloat16()
    return x, fp4(l1), fp4(l2)


def reference(rank, fp8=False):
    """y of rank ``rank``: Σ_j w_tj · L2_e(silu(gate_e(x_t)) · up_e(x_t)), in f32 (on the FP8/FP4
    values of the inputs with ``fp8``)."""
    x, topk_idx, topk_weights, _, _ = rank_inputs(rank)
    experts = [rank_inputs(r)[3:] for r in range(WORLD)]
    if fp8:
        x = dequantized(x, experts[0][0][:1], experts[0][1][:1])[0]
        experts = [dequantized(x, l1, l2)[1:] for l1, l2 in experts]
    local = EXPERTS // WORLD
    y = torch.zeros(TOKENS, HIDDEN)
    for t in range(TOKENS):
        for j in range(TOPK):
            e = int(topk_idx[t, j])
            if e < 0:
                continue
            l1, l2 = experts[e // local][0][e % local].float(), experts[e // local][1][e % local].float()
            h = l1 @ x[t].float()
            act = torch.nn.functional.silu(h[:INTER]) * h[INTER:] * topk_weights[t, j]
            y[t] += l2 @ act.bfloat16().float()
    return y


def worker(rank, init_file, mode):
    import swift_deepgemm as deep_gemm
    from swift_deepgemm.testing import calc_diff

    if mode == "dies":
        os.environ["DG_MEGA_MOE_TIMEOUT"] = "5"  # how long the survivor waits for its peer
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    group = dist.group.WORLD
    mma = "fp8xfp4" if mode == "fp8" else "bf16xbf16"
    buffer = deep_gemm.get_symm_buffer_for_mega_moe(group, EXPERTS, MAX_TOKENS, TOPK, HIDDEN, INTER, mma_type=mma)
    assert buffer.topk_idx.dtype == torch.int64 and buffer.topk_weights.dtype == torch.float32
    assert buffer.x.shape[1] == HIDDEN and buffer.x.shape[0] >= MAX_TOKENS
    x, topk_idx, topk_weights, l1, l2 = rank_inputs(rank)
    if mode == "dies" and rank == 1:
        os._exit(0)  # dies after the collective creation, before the layer
    y = torch.empty(TOKENS, HIDDEN, dtype=torch.bfloat16)
    buffer.topk_idx[:TOKENS].copy_(topk_idx)
    buffer.topk_weights[:TOKENS].copy_(topk_weights)
    if mode == "fp8":
        assert buffer.x.dtype == torch.float8_e4m3fn and buffer.x_sf.dtype == torch.int32
        qx, qsf = deep_gemm.per_token_cast_to_fp8(x, use_ue8m0=True, gran_k=32, use_packed_ue8m0=True)
        buffer.x[:TOKENS].copy_(qx)
        buffer.x_sf[:TOKENS].copy_(qsf)

        def fp4(w):
            parts = [deep_gemm.per_token_cast_to_fp4(w[i], use_ue8m0=True, gran_k=32) for i in range(w.size(0))]
            data, sf = torch.stack([p[0] for p in parts]), torch.stack([p[1] for p in parts])
            return data, deep_gemm.transform_sf_into_required_layout(sf, w.size(1), w.size(2), (1, 32), w.size(0))

        w1, w2 = deep_gemm.transform_weights_for_mega_moe(fp4(l1), fp4(l2))
        stats = torch.zeros(EXPERTS // WORLD, dtype=torch.int32)
        deep_gemm.fp8_fp4_mega_moe(y, w1, w2, buffer, cumulative_local_expert_recv_stats=stats)
        assert int(stats.sum()) > 0
        threshold = 2e-3  # the FP8 requantization of the activations between L1 and L2
    else:
        assert buffer.x.dtype == torch.bfloat16 and buffer.x_sf is None
        buffer.x[:TOKENS].copy_(x)
        w1, w2 = deep_gemm.transform_weights_for_mega_moe(l1, l2)
        if mode == "dies":
            try:
                deep_gemm.bf16_mega_moe(y, w1, w2, buffer)
            except deep_gemm.DGRankError as e:
                assert e.rank == 1, e
                return
            raise AssertionError("rank 0 did not notice that rank 1 died")
        deep_gemm.bf16_mega_moe(y, w1, w2, buffer)
        threshold = 1e-4
    diff = calc_diff(y, reference(rank, fp8=mode == "fp8"))
    assert diff < threshold, f"rank {rank}: calc_diff {diff}"
    dist.barrier()
    buffer.destroy()
    dist.destroy_process_group()


@pytest.mark.parametrize("mode", ["bf16", "fp8", "dies"])
def test_mega_moe_two_processes(mode):
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(worker, args=(os.path.join(tmp, "init"), mode), nprocs=WORLD, join=True)
