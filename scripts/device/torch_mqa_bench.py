#!/usr/bin/env python3
"""PyTorch peers of `deepgemm jit indexer`'s timed cases: the lightning-indexer logits as torch einsums.

usage: torch_mqa_bench.py INDEXER.jsonl [--device cuda|cpu]

For every bench record of `deepgemm jit indexer --json` (op fp8_mqa_logits or fp8_paged_mqa_logits),
builds random inputs of the same shape (FP8 e4m3 q and kv, float32 scales and weights) and times
    logits[s, t] = sum_h relu(q[s, h] . kv[t] * sf[t]) * w[s, h]
as two einsums in float32 over the whole [S, SKV] rectangle (chunks of 256 queries), then the -inf mask
of the windows (non-CP: ks = 0, ke = i + SKV - S); paged: the pages of each request gathered first.
Timing: 2 warm-up calls, then the mean of 5 between CUDA events. TFLOPS use the same flop count as
the Swift figures (2 * H * D per (query, key) pair inside the windows), printed next to them.
"""
import json
import sys


def prefill(torch, dev, s, skv, h, d):
    q = torch.randn(s, h, d, device=dev).to(torch.float8_e4m3fn)
    kv = torch.randn(skv, d, device=dev).to(torch.float8_e4m3fn)
    sf = torch.rand(skv, device=dev) + 0.5
    w = torch.randn(s, h, device=dev)
    ke = torch.arange(s, device=dev) + skv - s
    pairs = int(ke.clamp(min=0, max=skv).sum())

    def call():
        kvf = kv.float() * sf[:, None]
        out = torch.empty(s, skv, device=dev)
        for start in range(0, s, 256):
            score = torch.einsum("shd,td->sht", q[start:start + 256].float(), kvf).relu_()
            out[start:start + 256] = torch.einsum("sht,sh->st", score, w[start:start + 256])
        cols = torch.arange(skv, device=dev)
        return out.masked_fill_(cols[None, :] >= ke[:, None], float("-inf"))

    return call, 2.0 * pairs * h * d


def paged(torch, dev, b, next_n, h, d, ctx):
    pages = (ctx + 63) // 64
    # FP8 values, kept dequantized: torch gathers float tensors (the peer skips the FP8 decode of pages)
    cache = torch.randn(b * pages, 64, d, device=dev).to(torch.float8_e4m3fn).float()
    sf = torch.rand(b * pages, 64, device=dev) + 0.5
    table = torch.randperm(b * pages, device=dev).view(b, pages)
    q = torch.randn(b, next_n, h, d, device=dev).to(torch.float8_e4m3fn)
    w = torch.randn(b, next_n, h, device=dev)
    lens = torch.randint(1, ctx + 1, (b,), device=dev)
    lens[0] = ctx
    pairs = int(lens.sum()) * next_n

    def call():
        keys = (cache[table] * sf[table][..., None]).view(b, pages * 64, d)
        score = torch.einsum("bnhd,btd->bnht", q.float(), keys).relu_()
        out = torch.einsum("bnht,bnh->bnt", score, w)
        cols = torch.arange(pages * 64, device=dev)
        return out.masked_fill_(cols[None, None, :] >= lens[:, None, None], float("-inf"))

    return call, 2.0 * pairs * h * d


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    device = args[args.index("--device") + 1] if "--device" in args else "cuda"
    import torch

    records = [json.loads(line) for line in open(args[0]) if line.strip()]
    for record in records:
        if "tflops" not in record:
            continue
        if record["op"] == "fp8_mqa_logits":
            call, flops = prefill(torch, device, int(record["s"]), int(record["skv"]), int(record["h"]), int(record["d"]))
        else:
            call, flops = paged(torch, device, int(record["b"]), int(record["next_n"]), int(record["h"]), int(record["d"]), int(record["ctx"]))
        for _ in range(2):
            call()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(5):
            call()
        end.record()
        torch.cuda.synchronize()
        seconds = start.elapsed_time(end) / 1e3 / 5
        print(f"{record['case']}: swift-deepgemm {record['tflops']:.1f} TFLOPS ({record['seconds'] * 1e6:.0f} us), "
              f"torch einsum {flops / seconds / 1e12:.1f} TFLOPS ({seconds * 1e6:.0f} us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
