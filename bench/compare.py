#!/usr/bin/env python3
"""Compares `deepgemm bench` GEMMs with NumPy's FP32 matmul of the same shapes.

For each op and shape, runs `deepgemm bench OP --m M --n N --k K --json` and times NumPy's
float32 `a @ b.T` (a [M, K], b [N, K]) in this process (one warm-up, then the median of several
runs), and prints GFLOPS (2*M*N*K / t) of both and their ratio. With `--repeat R` every figure is
measured R times, alternating between the two, and the best of each is kept (other processes on
the machine only ever make a run slower).

    python3 bench/compare.py [--binary .build/release/deepgemm] [--threads N] [--repeat R] [--ops ...] [--shapes MxNxK ...]
    python3 bench/compare.py mqa [options of compare_mqa.py]   # the indexer logits (see compare_mqa.py)
    python3 bench/compare.py levels [options of levels.py]     # everything on each kernel level -> BENCHMARKS.md

Grouped GEMM ops (`m_grouped_*`) can be listed in --ops too: they run M as 4 equal groups, the same
total work as the dense op of that shape.

`--threads` sets DG_NUM_THREADS for deepgemm and the BLAS thread count of NumPy (it must be set
before NumPy loads, so this script sets it at start-up). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
removed from the environment of both, so the BLAS uses its own detection; `--numpy-coretype NAME`
then sets OPENBLAS_CORETYPE for NumPy alone (e.g. `Haswell`: OpenBLAS's AVX2 kernels, the peer of
`DG_CPU_KERNEL=avx2`). The BLAS and the kernel it runs are printed (threadpoolctl, when installed).
"""
import argparse
import json
import sys

from common import adopt_environment, clean_environment, deepgemm_bench, median_seconds

DEFAULT_OPS = ["fp8_gemm_nt", "bf16_gemm_nt", "fp8_fp4_gemm_nt"]
DEFAULT_SHAPES = ["4096x4096x4096", "4096x7168x2048", "128x7168x2048"]


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/deepgemm", help="path to the deepgemm binary")
    parser.add_argument("--ops", nargs="+", default=DEFAULT_OPS, help="GEMM ops to time")
    parser.add_argument("--shapes", nargs="+", default=DEFAULT_SHAPES, help="shapes as MxNxK")
    parser.add_argument("--threads", type=int, help="threads for deepgemm and NumPy (default: all)")
    parser.add_argument("--runs", type=int, default=7, help="timed NumPy runs per shape (median)")
    parser.add_argument("--repeat", type=int, default=1, help="measure every figure this many times, keep the best")
    parser.add_argument("--numpy-coretype", help="OPENBLAS_CORETYPE for NumPy only (e.g. Haswell)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per row instead of a table")
    return parser.parse_args()


def numpy_gflops(np, m, n, k, runs):
    """GFLOPS of NumPy's float32 a @ b.T, median of `runs` after one warm-up."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((n, k), dtype=np.float32)
    return 2.0 * m * n * k / median_seconds(lambda: a @ b.T, runs) / 1e9


def blas_description():
    """NumPy's BLAS and the kernel it runs, from threadpoolctl ("unknown" without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl to see it)"
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return ", ".join(f"{pool.get('internal_api')} {pool.get('version')} kernel {pool.get('architecture', '?')}"
                     f" threads {pool.get('num_threads')}" for pool in pools) or "none found"


def main():
    args = parse_arguments()
    env = clean_environment(args.threads)
    adopt_environment(dict(env, OPENBLAS_CORETYPE=args.numpy_coretype) if args.numpy_coretype else env)
    import numpy as np
    blas = blas_description()

    best = {}
    for _ in range(max(args.repeat, 1)):
        for shape in args.shapes:
            m, n, k = (int(x) for x in shape.lower().split("x"))
            reference = numpy_gflops(np, m, n, k, args.runs)
            best[(m, n, k)] = max(best.get((m, n, k), 0.0), reference)
            for op in args.ops:
                result = deepgemm_bench(args.binary, op, ["--m", m, "--n", n, "--k", k], env)
                if result["gflops"] > best.get((op, m, n, k), {"gflops": 0.0})["gflops"]:
                    best[(op, m, n, k)] = result
    rows = []
    for shape in args.shapes:
        m, n, k = (int(x) for x in shape.lower().split("x"))
        for op in args.ops:
            result, reference = best[(op, m, n, k)], best[(m, n, k)]
            rows.append({"op": op, "m": m, "n": n, "k": k, "threads": result["threads"], "kernel": result["kernel"],
                         "gflops": result["gflops"], "numpy_fp32_gflops": reference,
                         "ratio": result["gflops"] / reference, "numpy_blas": blas})
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"NumPy {np.__version__}, BLAS: {blas}")
    header = f"{'op':<16} {'m':>6} {'n':>6} {'k':>6} {'threads':>7} {'kernel':<18} {'GFLOPS':>8} {'NumPy f32':>9} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['op']:<16} {row['m']:>6} {row['n']:>6} {row['k']:>6} {row['threads']:>7} {row['kernel']:<18} "
              f"{row['gflops']:>8.1f} {row['numpy_fp32_gflops']:>9.1f} {row['ratio']:>6.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "mqa":
        import compare_mqa
        sys.argv.pop(1)
        compare_mqa.main()
    elif len(sys.argv) > 1 and sys.argv[1] == "levels":
        import levels
        levels.main(sys.argv[2:])
    else:
        sys.exit(main())
