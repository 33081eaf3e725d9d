#!/usr/bin/env python3
"""Compares `deepgemm bench` indexer logits with NumPy's FP32 matmul of the same score GEMM.

For each op, runs `deepgemm bench OP --s S --skv SKV --h H --d D --batch B --next-n N --context C --json`
(GFLOPS counted as 2*H*D per (query, key) pair in the windows; prefill ops use causal windows, paged
ops B requests of N tokens of context C) and times NumPy's float32 matmul of [S*H, D] x [D, SKV]
(one warm-up, then the median of --runs runs) two ways: into one preallocated [S*H, SKV] output
(`numpy`), and in row blocks of 4096 into a reused [4096, SKV] output (`numpy_blocked`). Ratios are
against the faster of the two. NumPy runs in a child process once per --coretypes entry: `default`
lets OpenBLAS detect the CPU, any other name is set as OPENBLAS_CORETYPE (`Haswell`: the AVX2
kernels an AVX2-only machine runs). Paged ops also get their ratio to the prefill op of the same
format when both ran (`x prefill`).

    python3 bench/compare.py mqa [--binary .build/release/deepgemm] [--threads N] [--ops ...] [--repeat R]
                                 [--coretypes default Haswell]
                                 [--s 2048 --skv 8192 --h 64 --d 128 --batch 256 --next-n 1 --context 8192]

With `--repeat R` every figure is measured R times, NumPy and deepgemm alternating, and the median
of each is reported (each deepgemm figure is itself the median of at least 3 timed calls). The
1-minute load average is read after every measurement and printed with each figure (median and
range over its samples): on a shared machine it tells how far a figure can be trusted.
`--threads` sets DG_NUM_THREADS for deepgemm and the BLAS thread count of NumPy (before NumPy
loads). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the environment of both, except
for the coretype a NumPy child is asked to run with.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

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
    parser.add_argument("--runs", type=int, default=5, help="timed NumPy runs (median)")
    parser.add_argument("--repeat", type=int, default=1, help="measure every figure this many times, report the medians")
    parser.add_argument("--coretypes", nargs="+", default=["default", "Haswell"],
                        help="OpenBLAS core types NumPy runs with (`default`: its own detection)")
    parser.add_argument("--numpy-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print one JSON object per row instead of a table")
    return parser.parse_args()


def load_text(samples):
    """The median and range of 1-minute load averages, as text."""
    return f"{statistics.median(samples):.1f} ({min(samples):.1f}-{max(samples):.1f})"


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


def numpy_child(args, env, coretype):
    """(whole, blocked) NumPy GFLOPS measured in a child process running with `coretype`."""
    child_env = dict(env)
    if coretype != "default":
        child_env["OPENBLAS_CORETYPE"] = coretype
    command = [sys.executable, __file__, "--numpy-only", "--runs", str(args.runs),
               "--s", str(args.s), "--skv", str(args.skv), "--h", str(args.h), "--d", str(args.d)]
    output = subprocess.run(command, env=child_env, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return result["numpy_gflops"], result["numpy_blocked_gflops"]


def deepgemm_result(binary, op, args, env):
    """The JSON object `deepgemm bench` prints for an indexer op."""
    return deepgemm_bench(binary, op, ["--s", args.s, "--skv", args.skv, "--h", args.h, "--d", args.d, "--batch", args.batch,
                                       "--next-n", args.next_n, "--context", args.context], env)


def main():
    args = parse_arguments()
    env = clean_environment(args.threads)
    if args.numpy_only:
        coretype = os.environ.get("OPENBLAS_CORETYPE")
        adopt_environment({**env, "OPENBLAS_CORETYPE": coretype} if coretype else env)
        import numpy as np
        whole, blocked = numpy_gflops(np, args.s, args.skv, args.h, args.d, args.runs)
        print(json.dumps({"numpy_gflops": whole, "numpy_blocked_gflops": blocked}))
        return

    numpy_samples = {coretype: [] for coretype in args.coretypes}
    op_samples = {op: [] for op in args.ops}
    loads = {name: [] for name in [*args.coretypes, *args.ops]}
    results = {}
    for _ in range(args.repeat):
        for coretype in args.coretypes:
            numpy_samples[coretype].append(max(numpy_child(args, env, coretype)))
            loads[coretype].append(os.getloadavg()[0])
        for op in args.ops:
            results[op] = deepgemm_result(args.binary, op, args, env)
            op_samples[op].append(results[op]["gflops"])
            loads[op].append(os.getloadavg()[0])
    peers = {coretype: statistics.median(samples) for coretype, samples in numpy_samples.items()}
    rows = []
    for op in args.ops:
        gflops = statistics.median(op_samples[op])
        rows.append({"op": op, "shape": results[op]["shape"], "threads": results[op]["threads"], "kernel": results[op]["kernel"],
                     "deepgemm_gflops": gflops, "numpy_gflops": peers,
                     "ratio": {coretype: gflops / peer for coretype, peer in peers.items()}, "target": TARGETS.get(op),
                     "load_1min": loads[op], "numpy_load_1min": {coretype: loads[coretype] for coretype in args.coretypes}})
    prefill = {row["op"]: row["deepgemm_gflops"] for row in rows if "paged" not in row["op"]}
    for row in rows:
        peer = prefill.get(row["op"].replace("_paged", ""))
        row["ratio_to_prefill"] = row["deepgemm_gflops"] / peer if "paged" in row["op"] and peer else None
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"NumPy float32 [S*H, D] x [D, SKV] with S={args.s} SKV={args.skv} H={args.h} D={args.d}, best of whole and "
          f"4096-row blocks, median of {args.repeat}: " + ", ".join(f"{peer:.1f} GFLOPS ({coretype}, load {load_text(loads[coretype])})"
                                                                  for coretype, peer in peers.items()))
    ratio_columns = "".join(f" {'x ' + coretype:>12}" for coretype in args.coretypes)
    print(f"{'op':<26} {'kernel':<8} {'GFLOPS':>8}{ratio_columns} {'target':>7} {'x prefill':>9}  load (1 min)")
    for row in rows:
        target = f"{row['target']:.1f}x" if row["target"] else "-"
        to_prefill = f"{row['ratio_to_prefill']:.2f}" if row["ratio_to_prefill"] else "-"
        ratios = "".join(f" {row['ratio'][coretype]:>12.2f}" for coretype in args.coretypes)
        print(f"{row['op']:<26} {row['kernel']:<8} {row['deepgemm_gflops']:>8.1f}{ratios} {target:>7} {to_prefill:>9}  "
              f"{load_text(row['load_1min'])}")


if __name__ == "__main__":
    main()
