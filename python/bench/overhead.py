"""Per-call overhead of the Python layer and op throughput next to torch on the CPU, in one run.

Overhead: a tiny bf16_gemm_nt through the generated function, minus the same dg_call made directly
through ctypes with the descriptors already written (medians of several batches).
Throughput: FP8 (fp8_gemm_nt) and BF16 (bf16_gemm_nt) GEMMs next to torch's FP32 matmul and, where
this torch build supports it on the CPU, torch._scaled_mm with row-wise FP8 scales.

    python python/bench/overhead.py [--m 2048 --n 2048 --k 2048] [--runs 7]
"""

import argparse
import statistics
import time

import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm import _abi


def median_seconds(fn, runs, calls, clock=time.perf_counter):
    """Median over ``runs`` batches of the mean time of one call in a batch of ``calls``."""
    fn()
    samples = []
    for _ in range(runs):
        start = clock()
        for _ in range(calls):
            fn()
        samples.append((clock() - start) / calls)
    return statistics.median(samples)


def overhead(runs):
    a = torch.randn(1, 64, dtype=torch.bfloat16)
    b = torch.randn(8, 64, dtype=torch.bfloat16)
    d = torch.empty(1, 8, dtype=torch.bfloat16)
    fn = deep_gemm.bf16_gemm_nt
    fn(a, b, d)  # writes the descriptors into this thread's scratch
    plan = fn.plan
    _, base = plan.scratch()
    call = _abi.lib.dg_call
    # Wall clock, and this process's CPU time (steadier on a shared machine: time spent descheduled is left out).
    for clock_name, clock in (("wall", time.perf_counter), ("cpu", time.process_time)):
        direct = median_seconds(lambda: call(plan.op, base, plan.nargs, None), runs, 2000, clock)
        python = median_seconds(lambda: fn(a, b, d), runs, 2000, clock)
        print(f"tiny bf16_gemm_nt (1x8x64), {clock_name} time: python {python * 1e6:.1f} us, direct ctypes dg_call "
              f"{direct * 1e6:.1f} us, overhead {(python - direct) * 1e6:.1f} us per call")
    q = torch.randn(1, 128, dtype=torch.bfloat16)
    cast = median_seconds(lambda: deep_gemm.per_token_cast_to_fp8(q, use_ue8m0=True), runs, 1000)
    print(f"tiny per_token_cast_to_fp8 (1x128, two returned tensors via DLPack): {cast * 1e6:.1f} us per call")


def scaled_mm_fp8(a, b):
    """torch._scaled_mm with row-wise FP8 scales, or None when this torch build lacks it on the CPU."""
    try:
        qa, sa = deep_gemm.per_token_cast_to_fp8(a, use_ue8m0=False, gran_k=a.size(1))
        qb, sb = deep_gemm.per_token_cast_to_fp8(b, use_ue8m0=False, gran_k=b.size(1))
        fn = lambda: torch._scaled_mm(qa, qb.T, scale_a=sa, scale_b=sb.T, out_dtype=torch.bfloat16)
        fn()
        return fn
    except Exception as e:  # not supported by this build
        print(f"torch._scaled_mm row-wise FP8 on the CPU: not available ({type(e).__name__}: {str(e)[:80]})")
        return None


def throughput(m, n, k, runs):
    a = torch.randn(m, k, dtype=torch.bfloat16)
    b = torch.randn(n, k, dtype=torch.bfloat16)
    d = torch.empty(m, n, dtype=torch.bfloat16)
    qa = deep_gemm.per_token_cast_to_fp8(a, use_ue8m0=True)
    qb = deep_gemm.per_block_cast_to_fp8(b, use_ue8m0=True)
    af, bf = a.float(), b.float()
    flops = 2 * m * n * k
    cases = [("swift_deepgemm fp8_gemm_nt", lambda: deep_gemm.fp8_gemm_nt(qa, qb, d)),
             ("swift_deepgemm bf16_gemm_nt", lambda: deep_gemm.bf16_gemm_nt(a, b, d)),
             ("torch FP32 matmul", lambda: af @ bf.T),
             ("torch BF16 matmul", lambda: a @ b.T)]
    scaled = scaled_mm_fp8(a, b)
    if scaled is not None:
        cases.append(("torch._scaled_mm FP8 row-wise", scaled))
    print(f"GEMM {m}x{n}x{k}, torch threads {torch.get_num_threads()}, "
          f"CPU kernel level {deep_gemm.info().get('cpu_kernel_level')}:")
    for name, fn in cases:
        seconds = median_seconds(fn, runs, 1)
        print(f"  {name:32s} {seconds * 1e3:8.2f} ms  {flops / seconds / 1e9:7.1f} GFLOPS")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=2048)
    parser.add_argument("--n", type=int, default=2048)
    parser.add_argument("--k", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    overhead(args.runs)
    throughput(args.m, args.n, args.k, args.runs)


if __name__ == "__main__":
    main()
