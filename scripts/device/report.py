#!/usr/bin/env python3
"""Writes the device check's Markdown report from the files `scripts/device-check.sh run` left in
the folder given as the only argument."""
import json
import os
import sys


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def tail(path, count):
    if not os.path.exists(path):
        return "(missing)"
    with open(path, errors="replace") as text:
        return "".join(text.readlines()[-count:]).rstrip()


def main():
    folder = sys.argv[1]
    print("# swift-deepgemm device check\n")
    print("## Steps\n\n```\n" + tail(os.path.join(folder, "steps.txt"), 20) + "\n```\n")
    print("## Device and backend\n\n```\n" + tail(os.path.join(folder, "info.txt"), 20) + "\n```\n")
    print("## Compile check (sm_90a)\n\n```\n" + tail(os.path.join(folder, "compile.txt"), 3) + "\n```\n")

    verify = read_lines(os.path.join(folder, "verify.jsonl"))
    failed = [v for v in verify if not v.get("passed")]
    print(f"## Verification against the CPU backend: {len(verify) - len(failed)}/{len(verify)} passed\n")
    if not verify:
        print("```\n" + tail(os.path.join(folder, "verify.txt"), 30) + "\n```\n")
    else:
        print("| case | calc_diff | result |\n|---|---|---|")
        for v in verify:
            diff = "n/a" if v.get("diff") is None else f"{v['diff']:.2e}"
            result = "PASS" if v.get("passed") else "FAIL " + (v.get("error") or "")
            print(f"| {v['case']} | {diff} | {result} |")
        print()

    bench = read_lines(os.path.join(folder, "bench.jsonl"))
    torch = {t["case"]: t for t in read_lines(os.path.join(folder, "torch.jsonl"))}
    print("## Performance (TFLOPS = 2·M·N·K / t, mean of 20 calls after 3 warm-ups)\n")
    if not bench:
        print("```\n" + tail(os.path.join(folder, "bench.txt"), 30) + "\n```\n")
    else:
        print("| case | swift-deepgemm µs | TFLOPS | GB/s | peer | peer TFLOPS | ratio |\n|---|---|---|---|---|---|---|")
        for b in bench:
            if "error" in b:
                print(f"| {b['case']} | error: {b['error']} | | | | | |")
                continue
            peer = torch.get(b["case"])
            peer_cells = f"{peer['peer']} | {peer['tflops']:.1f} | {b['tflops'] / peer['tflops']:.2f}" if peer else "- | - | -"
            print(f"| {b['case']} | {b['seconds'] * 1e6:.1f} | {b['tflops']:.1f} | {b['gbps']:.0f} | {peer_cells} |")
        print()


if __name__ == "__main__":
    main()
