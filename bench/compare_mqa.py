#!/usr/bin/env python3
"""Compares `deepgemm bench` indexer logits with NumPy's FP32 matmul of the same score GEMM.

For each op, runs `deepgemm bench OP --s S --skv SKV --h H --d D --batch B --next-n N --context C --json`
(GFLOPS counted as 2*H*D per (query, key) pair in the windows; prefill ops use causal windows, paged
ops B requests of N tokens of context C) and times, in this process, NumPy's float32 matmul of
[S*H, D] x [D, SKV] (one warm-up, then the median of several runs) two ways: into one preallocated
[S*H, SKV] output (`numpy`), and in row blocks of 4096 into a reused [4096, SKV] output
(`numpy_blocked`). Ratios are against the faster of the two. Paged ops also get their ratio to the
prefill op of the same format when both ran (`x prefill`; the target is at least 0.8).

    python3 bench/compare.py mqa [--binary .build/release/deepgemm] [--threads N] [--ops ...]
                                 [--s 2048 --skv 8192 --h 64 --d 128 --batch 256 --next-n 1 --context 8192]

`--threads` sets DG_NUM_THREADS for deepgemm and the BLAS thread count of NumPy (before NumPy
loads). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the environment of both.
"""
import argparse
import json

from common import adopt_environment, clean_environment, deepgemm_bench, median_seconds

DEFAULT_OPS = ["fp8_mqa_logits", "fp8_fp4_mqa_logits", "fp8_paged_mqa_logits", "fp8_fp4_paged_mqa_logits"]
TARGETS = {"fp8_mqa_logits": 1.2, "fp8_fp4_mqa_logits": 1.5}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/deepgemm", help="path to the deepgemm binary")
    parser.add_argument("--ops", nargs="+", default=DEFAULT_OPS, help="indexer ops to time")
    parser.add_argument("--s", type=int, default=2048, help="query tokens of the prefill ops")
    parser.add_argument("--skv", type=int, default=8192, help="key tokens of the prefill ops")
    parser.add_argument("--h", type=int, default=64, help="heads")
    parser.add_argument("--d", type=int, default=128, help="head dimension")
    parser.add_argument("--batch", type=int, default=256, help="requests of the paged ops")
    parser.add_argument("--next-n", type=int, default=1, help="tokens per request of the paged ops")
    parser.add_argument("--context", type=int, default=8192, help="context length of the paged ops")
    parser.add_argument("--threads", type=int, help="threads for deepgemm and NumPy (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="timed NumPy runs (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per row instead of a table")
    return parser.parse_args()


def numpy_gflops(np, s, skv, h, d, runs):
    """GFLOPS of float32 [S*H, D] x [D, SKV]: whole (preallocated output) and in 4096-row blocks."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((s * h, d), dtype=np.float32)
    b = rng.standard_normal((d, skv), dtype=np.float32)
    flops = 2.0 * s * h * d * skv
    whole_out = np.empty((s * h, skv), dtype=np.float32)
    whole = flops / median_seconds(lambda: np.matmul(a, b, out=whole_out), runs) / 1e9
    del whole_out
    rows = min(4096, s * h)
    block_out = np.empty((rows, skv), dtype=np.float32)

    def blocked():
        for start in range(0, s * h, rows):
            np.matmul(a[start:start + rows], b, out=block_out[: min(rows, s * h - start)])

    return whole, flops / median_seconds(blocked, runs) / 1e9


def deepgemm_result(binary, op, args, env):
    """The JSON object `deepgemm bench` prints for an indexer op."""
    return deepgemm_bench(binary, op, ["--s", args.s, "--skv", args.skv, "--h", args.h, "--d", args.d, "--batch", args.batch,
                                       "--next-n", args.next_n, "--context", args.context], env)


def main():
    args = parse_arguments()
    env = clean_environment(args.threads)
    adopt_environment(env)
    import numpy as np

    numpy_whole, numpy_blocked = numpy_gflops(np, args.s, args.skv, args.h, args.d, args.runs)
    peer = max(numpy_whole, numpy_blocked)
    rows = []
    for op in args.ops:
        result = deepgemm_result(args.binary, op, args, env)
        rows.append({"op": op, "shape": result["shape"], "threads": result["threads"], "kernel": result["kernel"],
                     "deepgemm_gflops": result["gflops"], "numpy_gflops": numpy_whole, "numpy_blocked_gflops": numpy_blocked,
                     "ratio": result["gflops"] / peer, "target": TARGETS.get(op)})
    prefill = {row["op"]: row["deepgemm_gflops"] for row in rows if "paged" not in row["op"]}
    for row in rows:
        peer = prefill.get(row["op"].replace("_paged", ""))
        row["ratio_to_prefill"] = row["deepgemm_gflops"] / peer if "paged" in row["op"] and peer else None
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"NumPy float32 [S*H, D] x [D, SKV] with S={args.s} SKV={args.skv} H={args.h} D={args.d}: "
          f"{numpy_whole:.1f} GFLOPS whole, {numpy_blocked:.1f} GFLOPS in 4096-row blocks")
    print(f"{'op':<26} {'shape':<52} {'GFLOPS':>8} {'x NumPy':>8} {'target':>7} {'x prefill':>9}")
    for row in rows:
        target = f"{row['target']:.1f}x" if row["target"] else "-"
        to_prefill = f"{row['ratio_to_prefill']:.2f}" if row["ratio_to_prefill"] else "-"
        print(f"{row['op']:<26} {row['shape']:<52} {row['deepgemm_gflops']:>8.1f} {row['ratio']:>8.2f} {target:>7} {to_prefill:>9}")


if __name__ == "__main__":
    main()
