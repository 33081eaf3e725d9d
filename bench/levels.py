#!/usr/bin/env python3
"""Runs every CPU comparison on each kernel level and writes the per-level table (BENCHMARKS.md).

    python3 bench/compare.py levels [--binary .build/release/deepgemm] [--levels avx2 avx512f avx512 amx]
                                    [--sections gemm mqa casts moe] [--repeat 5] [--out BENCHMARKS.md]

For each level (DG_CPU_KERNEL=level; default: every level `deepgemm info` lists as supported, above
`portable`), in this order:
- gemm:  `compare.py --json` run --repeat times (NumPy FP32 matmul of the same shape in the same run;
         on `avx2` NumPy is also pinned to OpenBLAS's Haswell kernels, the peer an AVX2-only machine has);
         the table gives the median of the repeats for both sides;
- mqa:   `compare.py mqa --json --repeat R` (NumPy FP32 [S*H, D] x [D, SKV], default and Haswell kernels;
         paged ops also against their prefill op);
- casts: `deepgemm bench OP --m 8192 --k 7168 --json` run R times (BF16 input), median ratio to the
         2-thread memory copy of the same bytes that each run times itself (wall clock; the ratio of
         process CPU times is printed beside it: on a loaded machine only the latter is meaningful);
- moe:   once, on the default level: `deepgemm moe --ranks 2 --tokens 1,64,1024 --json` (fused against
         unfused, and the fused GFLOPS against dense `fp8_fp4_gemm_nt` on the same expert shapes).

The report starts with the machine (CPU model, ISA features from `deepgemm info`, load average before
and after) and the command, and marks each figure against issue 13's goals: on `avx2` GEMMs >= 0.95x
(`fp8_fp4_gemm_nt` >= 0.9x) NumPy Haswell, `fp8_mqa_logits` >= 0.9x, `fp8_fp4_mqa_logits` >= 2x, paged
>= 0.85x of prefill; casts >= 0.5x of the copy on every level; Mega MoE fused/dense >= 0.9 at 1024 tokens
and >= 3x the unfused pipeline at 1 and 64.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

from common import clean_environment

HERE = os.path.dirname(os.path.abspath(__file__))
SECTIONS = ["gemm", "mqa", "casts", "moe"]
CASTS = ["per_token_cast_to_fp8", "per_token_cast_to_fp4", "per_block_cast_to_fp8", "per_channel_cast_to_fp8"]
GEMM_GOALS = {"fp8_gemm_nt": 0.95, "bf16_gemm_nt": 0.95, "fp8_fp4_gemm_nt": 0.9}
MQA_GOALS = {"fp8_mqa_logits": 0.9, "fp8_fp4_mqa_logits": 2.0}
PAGED_GOAL = 0.85
CAST_GOAL = 0.5
MOE_DENSE_GOAL = 0.9
MOE_SPEEDUP_GOAL = 3.0


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/deepgemm", help="path to the deepgemm binary")
    parser.add_argument("--levels", nargs="+", help="DG_CPU_KERNEL levels (default: every supported one above portable)")
    parser.add_argument("--sections", nargs="+", default=SECTIONS, choices=SECTIONS, help="what to measure")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the report gives medians")
    parser.add_argument("--cast-shape", default="8192x7168", help="casts: MxK")
    parser.add_argument("--moe-tokens", default="1,64,1024", help="Mega MoE tokens per rank, a comma list")
    parser.add_argument("--gemm-shapes", nargs="+", help="GEMM shapes as MxNxK (default: compare.py's)")
    parser.add_argument("--mqa-options", default="", help="extra options for compare.py mqa, one string")
    parser.add_argument("--moe-options", default="", help="extra options for deepgemm moe, one string")
    parser.add_argument("--out", default="BENCHMARKS.md", help="where the report goes ('-' prints it)")
    return parser.parse_args(argv)


def run_json_lines(command, env):
    """The JSON objects a command prints, one per line (other lines are skipped)."""
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: `{' '.join(command)}` exited {done.returncode}: {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def info_lines(binary):
    """`deepgemm info` as a dict of its `key: value` lines."""
    output = subprocess.run([binary, "info"], check=True, capture_output=True, text=True).stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in output.splitlines()) if value}


def supported_levels(info):
    """The levels `deepgemm info` lists as supported, above `portable`."""
    listed = info["cpu kernels"].split("supported:")[1].split(";")[0]
    return [level.strip() for level in listed.split(",") if level.strip() not in ("reference", "portable")]


def cpu_model():
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def load_average():
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def gemm_rows(args, level, env):
    """Median over --repeat runs of compare.py, per (op, shape)."""
    command = [sys.executable, os.path.join(HERE, "compare.py"), "--binary", args.binary, "--json"]
    if level == "avx2":
        command += ["--numpy-coretype", "Haswell"]
    if args.gemm_shapes:
        command += ["--shapes", *args.gemm_shapes]
    samples = {}
    for _ in range(args.repeat):
        for row in run_json_lines(command, env):
            samples.setdefault((row["op"], row["m"], row["n"], row["k"]), []).append(row)
    rows = []
    for (op, m, n, k), runs in samples.items():
        ours = statistics.median(run["gflops"] for run in runs)
        peer = statistics.median(run["numpy_fp32_gflops"] for run in runs)
        rows.append({"op": op, "shape": f"{m}x{n}x{k}", "kernel": runs[0]["kernel"], "gflops": ours, "peer": peer,
                     "ratio": ours / peer, "goal": GEMM_GOALS.get(op) if level == "avx2" else None, "blas": runs[0]["numpy_blas"]})
    return rows


def mqa_rows(args, env):
    command = [sys.executable, os.path.join(HERE, "compare.py"), "mqa", "--binary", args.binary, "--json",
               "--repeat", str(args.repeat), *args.mqa_options.split()]
    return run_json_lines(command, env)


def cast_rows(args, env):
    m, k = (int(x) for x in args.cast_shape.lower().split("x"))
    rows = []
    for op in CASTS:
        runs = [run_json_lines([args.binary, "bench", op, "--m", str(m), "--k", str(k), "--json"], env)[-1] for _ in range(args.repeat)]
        rows.append({"op": op, "kernel": runs[0]["kernel"], "gb_per_s": statistics.median(run["gb_per_s"] for run in runs),
                     "copy_gb_per_s": statistics.median(run["copy_gb_per_s"] for run in runs),
                     "ratio": statistics.median(run["ratio_to_copy"] for run in runs),
                     "cpu_ratio": statistics.median(run["cpu_ratio_to_copy"] for run in runs),
                     "ratios": [run["ratio_to_copy"] for run in runs]})
    return rows


def moe_rows(args, env):
    return run_json_lines([args.binary, "moe", "--ranks", "2", "--tokens", args.moe_tokens, "--json", *args.moe_options.split()], env)


def mark(value, goal):
    if goal is None:
        return ""
    return " ✓" if value >= goal else f" ✗ (goal {goal:g})"


def render(args, info, levels, results, started, loads):
    command = "python3 bench/compare.py levels " + " ".join(sys.argv[2:] if sys.argv[1:2] == ["levels"] else sys.argv[1:])
    lines = [
        "# CPU benchmarks per kernel level",
        "",
        f"Generated by `{command.strip()}` on {started} UTC ({args.repeat} runs per figure, medians).",
        "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores",
        f"- ISA features: {info.get('cpu features', '?')}",
        f"- Default levels: kernels {info.get('cpu kernels', '?').split(' ')[0]}, GEMM {info.get('cpu gemm', '?').split(':')[0]}",
        f"- Load average (1/5/15 min) before: {loads[0]}, after: {loads[1]}",
        "",
    ]
    for level in levels:
        section = results[level]
        lines += [f"## `DG_CPU_KERNEL={level}`", ""]
        if "gemm" in section:
            blas = section["gemm"][0]["blas"] if section["gemm"] else "?"
            lines += [f"GEMMs against NumPy FP32 `a @ b.T` ({blas}):", "",
                      "| op | m x n x k | kernel | GFLOPS | NumPy GFLOPS | ratio |", "|---|---|---|---|---|---|"]
            lines += [f"| `{row['op']}` | {row['shape']} | {row['kernel']} | {row['gflops']:.1f} | {row['peer']:.1f} | "
                      f"{row['ratio']:.2f}{mark(row['ratio'], row['goal'])} |" for row in section["gemm"]]
            lines.append("")
        if "mqa" in section:
            rows = section["mqa"]
            coretypes = list(rows[0]["numpy_gflops"]) if rows else []
            peers = ", ".join(f"{rows[0]['numpy_gflops'][c]:.1f} GFLOPS ({c})" for c in coretypes) if rows else "?"
            lines += [f"Indexer logits against NumPy FP32 [S·H, D] x [D, SKV] ({peers}):", "",
                      "| op | kernel | GFLOPS | " + " | ".join(f"x NumPy {c}" for c in coretypes) + " | x prefill |",
                      "|---|---|---|" + "---|" * len(coretypes) + "---|"]
            for row in rows:
                goal = MQA_GOALS.get(row["op"]) if level == "avx2" else None
                ratios = " | ".join(f"{row['ratio'][c]:.2f}" + (mark(row["ratio"][c], goal) if c != "default" or level != "avx2" else "")
                                    for c in coretypes)
                prefill = row.get("ratio_to_prefill")
                prefill_text = f"{prefill:.2f}{mark(prefill, PAGED_GOAL)}" if prefill else "-"
                lines.append(f"| `{row['op']}` | {row['kernel']} | {row['deepgemm_gflops']:.1f} | {ratios} | {prefill_text} |")
            lines.append("")
        if "casts" in section:
            lines += [f"Casts ({args.cast_shape}, BF16 input) against a memory copy of the same bytes:", "",
                      "| op | kernel | GB/s | copy GB/s | ratio (median) | ratios of the runs | CPU-time ratio |", "|---|---|---|---|---|---|---|"]
            lines += [f"| `{row['op']}` | {row['kernel']} | {row['gb_per_s']:.1f} | {row['copy_gb_per_s']:.1f} | "
                      f"{row['ratio']:.2f}{mark(row['ratio'], CAST_GOAL)} | {', '.join(f'{r:.2f}' for r in row['ratios'])} | {row['cpu_ratio']:.2f} |"
                      for row in section["casts"]]
            lines.append("")
    if "moe" in results:
        lines += ["## Mega MoE (default levels, `deepgemm moe --ranks 2`)", "",
                  "| tokens/rank | unfused ms | fused ms | speedup | fused GFLOPS | dense GFLOPS | fused/dense | bitwise |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in results["moe"]:
            tokens = row["tokens_per_rank"]
            speedup_goal = MOE_SPEEDUP_GOAL if tokens <= 64 else None
            dense_goal = MOE_DENSE_GOAL if tokens >= 1024 else None
            lines.append(f"| {tokens} | {row['unfused_seconds'] * 1e3:.1f} | {row['fused_seconds'] * 1e3:.1f} | "
                         f"{row['speedup']:.2f}{mark(row['speedup'], speedup_goal)} | {row['fused_gflops']:.1f} | "
                         f"{row['dense_gflops']:.1f} | {row['fused_over_dense']:.2f}{mark(row['fused_over_dense'], dense_goal)} | "
                         f"{row['bitwise_equal']} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    args = parse_arguments(argv)
    info = info_lines(args.binary)
    levels = args.levels or supported_levels(info)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    before = load_average()
    results = {}
    for level in levels:
        env = dict(clean_environment(None), DG_CPU_KERNEL=level)
        section = {}
        for name, measure in (("gemm", lambda: gemm_rows(args, level, env)), ("mqa", lambda: mqa_rows(args, env)),
                              ("casts", lambda: cast_rows(args, env))):
            if name in args.sections:
                print(f"[{level}] {name} ...", file=sys.stderr, flush=True)
                section[name] = measure()
        results[level] = section
    if "moe" in args.sections:
        print("[default] moe ...", file=sys.stderr, flush=True)
        results["moe"] = moe_rows(args, clean_environment(None))
    report = render(args, info, levels, results, started, (before, load_average()))
    if args.out == "-":
        print(report)
    else:
        with open(args.out, "w") as out:
            out.write(report + "\n")
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
