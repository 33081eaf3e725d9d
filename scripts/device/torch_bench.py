#!/usr/bin/env python3
"""PyTorch peers of `deepgemm jit bench`, on the same operands and with the same timing method.

usage: torch_bench.py BENCH.jsonl OUT.jsonl [--device cuda|cpu] [--allow-fake]

Reads the bench records (one JSON object per line), writes one peer record per case:
- dense ops: torch.matmul on the *same* BF16 tensors, rebuilt on the device from the records' seeds
  with the counter hash of GEMMCaseInputs.hashedBits (checked against the records' checksums:
  "same_data"); next to it torch._scaled_mm in FP8 (e4m3) on those values with the finest scaling
  this torch accepts (blockwise 1x128/128x128, else rowwise, else tensorwise; "fp8_recipe" says which);
- m-grouped contiguous: one torch.matmul over all valid rows (B of group 0);
- m-grouped masked: torch.bmm over every group's mean number of valid rows.
Timing: 3 warm-up calls, then the mean of 20 between CUDA events (wall clock on the CPU).
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
    """(name, make_scales) pairs this torch's _scaled_mm accepts on this device, finest first."""
    if device != "cuda" or not hasattr(torch, "_scaled_mm") or not hasattr(torch, "float8_e4m3fn"):
        return []
    one = lambda *shape: torch.ones(*shape, device=device, dtype=torch.float32)
    candidates = [
        ("blockwise 1x128 / 128x128", lambda m, n, k: (one(k // 128, m).t(), one(k // 128, n // 128))),
        ("rowwise", lambda m, n, k: (one(m, 1), one(1, n))),
        ("tensorwise", lambda m, n, k: (one(()), one(()))),
    ]
    accepted = []
    a = torch.ones(256, 256, device=device).to(torch.float8_e4m3fn)
    b = torch.ones(256, 256, device=device).to(torch.float8_e4m3fn)
    for name, scales in candidates:
        try:
            scale_a, scale_b = scales(256, 256, 256)
            torch._scaled_mm(a, b.t(), scale_a=scale_a, scale_b=scale_b, out_dtype=torch.bfloat16)
            torch.cuda.synchronize()
            accepted.append((name, scales))
        except Exception:  # noqa: BLE001 - any rejection means "not offered here"
            continue
    return accepted


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
    if recipes and k % 128 == 0 and n % 128 == 0 and m % 16 == 0:
        name, scales = recipes[0]
        a8, b8 = a_mk.contiguous().to(torch.float8_e4m3fn), b_nk.contiguous().to(torch.float8_e4m3fn)
        scale_a, scale_b = scales(m, n, k)
        seconds = timed(torch, lambda: torch._scaled_mm(a8, b8.t(), scale_a=scale_a, scale_b=scale_b, out_dtype=torch.bfloat16), device)
        out.update({"fp8_recipe": name, "fp8_seconds": seconds, "fp8_tflops": 2 * m * n * k / seconds / 1e12})
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
        print(f"torch {torch.__version__} on {device}; FP8 peer: " + (recipes[0][0] if recipes else "none offered here"), flush=True)
    for entry in entries:
        if torch is None:
            result = {"peer": "fake (no torch)", "same_data": False, "seconds": entry["seconds"], "tflops": entry["tflops"]}
        elif entry["op"].startswith(("per_", "get_", "pack_ue8m0")):
            result = layout_peer(torch, entry, device)
        elif entry["op"].startswith("m_grouped"):
            result = grouped_peer(torch, entry, device)
        else:
            result = dense_peer(torch, entry, device, recipes)
        result = {"stage": "torch", "case": entry["case"], **result}
        results.append(result)
        fp8 = f", FP8 {result['fp8_tflops']:.1f} TFLOPS ({result['fp8_recipe']})" if "fp8_tflops" in result else ""
        print(f"{entry['case']}: {result['peer']} {result['seconds'] * 1e6:.1f} us, {result['tflops']:.1f} TFLOPS, "
              f"same data: {result['same_data']}{fp8}", flush=True)
    with open(destination, "w") as output:
        for result in results:
            output.write(json.dumps(result) + "\n")
    if any(not r["same_data"] and r["peer"] == "torch.matmul" for r in results):
        print("error: a dense peer's operands differ from swift-deepgemm's (checksum mismatch)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
