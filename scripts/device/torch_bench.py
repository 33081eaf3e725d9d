#!/usr/bin/env python3
"""PyTorch peers of `deepgemm jit bench`, with the same timing method.

usage: torch_bench.py BENCH.jsonl OUT.jsonl [--device cuda|cpu] [--allow-fake]

Reads the bench records (one JSON object per line), writes one peer record per case:
- BF16 dense ops: torch.matmul on the *same* BF16 tensors, rebuilt on the device from the records' seeds
  with the counter hash of GEMMCaseInputs.hashedBits (checked against the records' checksums:
  "same_data"); next to it torch._scaled_mm in FP8 (e4m3) on those values with the finest scaling
  this torch accepts for the shape (blockwise 1x128/128x128, else rowwise, else tensorwise; "fp8_recipe");
- BF16 m-grouped contiguous: one torch.matmul over all valid rows (B of group 0);
- BF16 m-grouped masked: torch.bmm over every group's mean number of valid rows;
- FP8 GEMMs (fp8_gemm_nt, m_grouped_fp8_*): torch._scaled_mm with the finest scaling offered, on random
  FP8 operands of the same shape (grouped: one call over all valid rows, B of group 0; masked: one call per
  group of its valid rows); "peer" names the recipe;
- fp8_mqa_logits / fp8_paged_mqa_logits: the logits as two float32 einsums (relu(q . kv * sf) . w) over
  the whole rectangle (prefill in chunks of 256 queries; paged: the pages gathered first), then the -inf mask;
- per_token_cast_to_fp8: the cast in eager torch (amax per group, scale, convert).
Timing: 3 warm-up calls, then the mean of 20 between CUDA events (5 for the logits; wall clock on the CPU).
--allow-fake: without torch, writes peer records that say "fake" (the dry run checks plumbing only).
"""
import json
import sys
import time

M32 = 0xFFFFFFFF


def hashed_bf16(torch, shape, seed_mix, device):
    """GEMMCaseInputs.hashedBits: lowbias32((index ^ seed_mix) mod 2^32), bits = h >> 16, exponent 124..127."""
    count = 1
    for size in shape:
        count *= size

    def mul32(x, constant):
        low, high = constant & 0xFFFF, constant >> 16
        return (x * low + (((x * high) & 0xFFFF) << 16)) & M32

    x = (torch.arange(count, dtype=torch.int64, device=device) & M32) ^ seed_mix
    x ^= x >> 16
    x = mul32(x, 0x7FEB352D)
    x ^= x >> 15
    x = mul32(x, 0x846CA68B)
    x ^= x >> 16
    bits = x >> 16
    words = (bits & 0x8000) | ((124 + ((bits >> 7) % 4)) << 7) | (bits & 0x7F)
    checksum = int(words.sum().item()) & M32
    signed = torch.where(words >= 0x8000, words - 0x10000, words).to(torch.int16)
    return signed.view(torch.bfloat16).reshape(shape), checksum


def timed(torch, fn, device, warmup=3, iterations=20):
    for _ in range(warmup):
        fn()
    if device != "cuda":
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        return (time.perf_counter() - start) / iterations
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000 / iterations


def fp8_recipes(torch, device):
    """(name, make_scales) pairs of _scaled_mm scalings, finest first: each is tried on the actual shape
    (scaled_mm_seconds), since which scalings a torch accepts depends on its version and the shape."""
    if device != "cuda" or not hasattr(torch, "_scaled_mm") or not hasattr(torch, "float8_e4m3fn"):
        return []
    one = lambda *shape: torch.ones(*shape, device=device, dtype=torch.float32)
    return [
        ("blockwise 1x128 / 128x128", lambda m, n, k: (one(k // 128, m).t(), one(k // 128, n // 128))),
        ("blockwise 1x128 / 128x128", lambda m, n, k: (one(k // 128, m).t(), one(n // 128, k // 128))),
        ("rowwise", lambda m, n, k: (one(m, 1), one(1, n))),
        ("tensorwise", lambda m, n, k: (one(()), one(()))),
    ]


def scaled_mm_seconds(torch, a8, b8, recipes, device):
    """(recipe name, seconds) of torch._scaled_mm(a8 [M, K], b8 [N, K]^T) with the first recipe this torch
    accepts for the shape, or None."""
    m, k, n = a8.shape[0], a8.shape[1], b8.shape[0]
    for name, scales in recipes:
        if name.startswith("blockwise") and (k % 128 or n % 128):
            continue
        try:
            scale_a, scale_b = scales(m, n, k)
            call = lambda: torch._scaled_mm(a8, b8.t(), scale_a=scale_a, scale_b=scale_b, out_dtype=torch.bfloat16)
            call()
            torch.cuda.synchronize()
        except Exception:  # noqa: BLE001 - any rejection means "not offered for this shape"
            continue
        return name, timed(torch, call, device)
    return None


def dense_peer(torch, entry, device, recipes):
    (a_shape, b_shape, layout) = ([int(s) for s in entry["a_shape"]], [int(s) for s in entry["b_shape"]], entry["layout"])
    a, a_sum = hashed_bf16(torch, a_shape, int(entry["a_seed"]), device)
    b, b_sum = hashed_bf16(torch, b_shape, int(entry["b_seed"]), device)
    same = a_sum == int(entry["a_checksum"]) and b_sum == int(entry["b_checksum"])
    a_mk = a.t() if layout in ("tn", "tt") else a  # [M, K]
    b_nk = b.t() if layout in ("nn", "tn") else b  # [N, K]
    m, n, k = a_mk.shape[0], b_nk.shape[0], a_mk.shape[1]
    out = {"peer": "torch.matmul", "same_data": same}
    out["seconds"] = timed(torch, lambda: torch.matmul(a_mk, b_nk.t()), device)
    out["tflops"] = 2 * m * n * k / out["seconds"] / 1e12
    if recipes and m % 16 == 0:
        fp8 = scaled_mm_seconds(torch, a_mk.contiguous().to(torch.float8_e4m3fn), b_nk.contiguous().to(torch.float8_e4m3fn), recipes, device)
        if fp8:
            out.update({"fp8_recipe": fp8[0], "fp8_seconds": fp8[1], "fp8_tflops": 2 * m * n * k / fp8[1] / 1e12})
    return out


def grouped_peer(torch, entry, device):
    n, k, rows = int(entry["n"]), int(entry["k"]), sum(int(r) for r in entry["valid_rows"])
    seed_b = int(entry["b_seed"])
    if entry["op"].endswith("_masked"):
        groups = int(entry["groups"])
        mean = max(1, rows // groups)
        a, _ = hashed_bf16(torch, [groups, mean, k], int(entry["a_seed"]), device)
        b, _ = hashed_bf16(torch, [groups, n, k], seed_b, device)
        seconds = timed(torch, lambda: torch.bmm(a, b.transpose(1, 2)), device)
        return {"peer": "torch.bmm", "same_data": False, "seconds": seconds, "tflops": 2 * groups * mean * n * k / seconds / 1e12}
    a, _ = hashed_bf16(torch, [rows, k], int(entry["a_seed"]), device)
    b, _ = hashed_bf16(torch, [n, k], seed_b, device)
    seconds = timed(torch, lambda: torch.matmul(a, b.t()), device)
    return {"peer": "torch.matmul (all valid rows)", "same_data": False, "seconds": seconds, "tflops": 2 * rows * n * k / seconds / 1e12}


def layout_peer(torch, entry, device):
    """Casts and scale-factor layouts: torch's own pass over an input of the case's shape (group amax
    plus the FP8 conversion for casts, a transposing copy for layouts); different data, same bytes."""
    m, n = int(entry["m"]), int(entry["n"])
    if entry["op"].startswith("per_"):
        x = torch.randn(m, n, dtype=torch.bfloat16, device=device)
        fn, peer = (lambda: (x.float().abs().amax(dim=1), x.to(torch.float8_e4m3fn))), "torch amax + to(float8_e4m3fn)"
    else:
        x = torch.randn(m, n, dtype=torch.float32, device=device)
        fn, peer = (lambda: x.t().contiguous()), "torch transposing copy"
    return {"peer": peer, "same_data": False, "seconds": timed(torch, fn, device), "tflops": 0.0}


def fp8_gemm_peer(torch, entry, device, recipes):
    """torch._scaled_mm on random FP8 operands of the record's shape (all valid rows in one call; masked: per group)."""
    n, k, rows = int(entry["n"]), int(entry["k"]), [int(r) for r in entry["valid_rows"]]
    masked = entry["op"].endswith("_masked")
    calls = [r for r in rows if r > 0] if masked else [sum(rows)]
    b8 = torch.randn(n, k, device=device).to(torch.float8_e4m3fn)
    total, name = 0.0, None
    for m in calls:
        a8 = torch.randn(m, k, device=device).to(torch.float8_e4m3fn)
        result = scaled_mm_seconds(torch, a8, b8, recipes, device) if recipes else None
        if result is None:
            return {"peer": "none (torch._scaled_mm offers no FP8 scaling here)", "same_data": False, "seconds": None, "tflops": None}
        name, seconds = result
        total += seconds
    return {"peer": f"torch._scaled_mm {name}" + (f" x{len(calls)} groups" if masked else ""), "same_data": False,
            "seconds": total, "tflops": 2 * sum(calls) * n * k / total / 1e12}


def mqa_prefill_call(torch, dev, s, skv, h, d):
    """The prefill logits with non-CP windows (ks = 0, ke = i + SKV - S) as float32 einsums; its flops."""
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


def mqa_paged_call(torch, dev, b, next_n, h, d, ctx):
    """The paged logits as float32 einsums over each request's gathered pages (kept dequantized); its flops."""
    pages = (ctx + 63) // 64
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


def mqa_peer(torch, entry, device):
    if entry["op"] == "fp8_mqa_logits":
        call, flops = mqa_prefill_call(torch, device, int(entry["s"]), int(entry["skv"]), int(entry["h"]), int(entry["d"]))
    else:
        call, flops = mqa_paged_call(torch, device, int(entry["b"]), int(entry["next_n"]), int(entry["h"]), int(entry["d"]), int(entry["ctx"]))
    seconds = timed(torch, call, device, warmup=2, iterations=5)
    return {"peer": "torch einsum (float32)", "same_data": False, "seconds": seconds, "tflops": flops / seconds / 1e12}


def cast_peer(torch, entry, device):
    m, n, gran = int(entry["m"]), int(entry["n"]), int(entry["gran_k"])
    dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[entry["dtype"]]
    x = torch.randn(m, n, device=device).to(dtype)
    padded = (n + gran - 1) // gran * gran

    def call():
        groups = torch.nn.functional.pad(x.float(), (0, padded - n)).view(m, -1, gran)
        sf = groups.abs().amax(-1).clamp(min=1e-4) / 448.0
        return (groups / sf[..., None]).view(m, padded)[:, :n].to(torch.float8_e4m3fn), sf

    seconds = timed(torch, call, device)
    return {"peer": "torch eager cast", "same_data": False, "seconds": seconds, "tflops": None,
            "gbps": (x.numel() * x.element_size() + m * n + m * (padded // gran) * 4) / seconds / 1e9}


def peer(torch, entry, device, recipes):
    op = entry["op"]
    if op.startswith("m_grouped_fp8") or op.startswith("fp8_gemm"):
        return fp8_gemm_peer(torch, entry, device, recipes)
    if op in ("fp8_mqa_logits", "fp8_paged_mqa_logits"):
        return mqa_peer(torch, entry, device)
    if op == "per_token_cast_to_fp8" and "gran_k" in entry:
        return cast_peer(torch, entry, device)
    if op.startswith(("per_", "get_", "pack_ue8m0")):
        return layout_peer(torch, entry, device)
    if op.startswith("m_grouped"):
        return grouped_peer(torch, entry, device)
    return dense_peer(torch, entry, device, recipes)


def figure(value, unit):
    return f"{value:.1f} {unit}" if value else f"- {unit}"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cuda"
    args = [a for a in args if a != device]
    source, destination = args[0], args[1]
    with open(source) as lines:
        entries = [json.loads(line) for line in lines if line.strip()]
    entries = [e for e in entries if e.get("passed") and "seconds" in e]
    try:
        import torch  # noqa: PLC0415 - optional on the dry-run machine
    except ImportError:
        if "--allow-fake" not in sys.argv:
            raise
        torch = None
    results = []
    recipes = fp8_recipes(torch, device) if torch is not None else []
    if torch is not None:
        print(f"torch {torch.__version__} on {device}; FP8 scalings tried per shape: "
              + (", ".join(dict.fromkeys(name for name, _ in recipes)) if recipes else "none offered here"), flush=True)
    for entry in entries:
        if torch is None:
            result = {"peer": "fake (no torch)", "same_data": False, "seconds": entry["seconds"], "tflops": entry["tflops"]}
        else:
            try:
                result = peer(torch, entry, device, recipes)
            except Exception as error:  # noqa: BLE001 - one peer failing must not hide the others
                result = {"peer": f"error: {error}"[:200], "same_data": False, "seconds": None, "tflops": None}
        result = {"stage": "torch", "case": entry["case"], **result}
        results.append(result)
        fp8 = f", FP8 {result['fp8_tflops']:.1f} TFLOPS ({result['fp8_recipe']})" if "fp8_tflops" in result else ""
        seconds = f"{result['seconds'] * 1e6:.1f} us" if result.get("seconds") else "- us"
        print(f"{entry['case']}: {result['peer']} {seconds}, {figure(result.get('tflops'), 'TFLOPS')}, "
              f"same data: {result['same_data']}{fp8}", flush=True)
    with open(destination, "w") as output:
        for result in results:
            output.write(json.dumps(result) + "\n")
    if any(not r["same_data"] and r["peer"] == "torch.matmul" for r in results):
        print("error: a dense peer's operands differ from swift-deepgemm's (checksum mismatch)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
