#!/usr/bin/env python3
"""Times torch.matmul on the shapes `deepgemm jit bench` measured (one JSON object per line in,
one per line out), with the same CUDA-event method: 3 warm-up calls, then the mean of 20.

Peers: dense ops run torch.matmul with the same operand major-ness (BF16 output); m-grouped
contiguous runs one dense matmul over all valid rows; masked runs torch.bmm over every group's
mean number of valid rows."""
import json
import sys

import torch


def timed(fn, warmup=3, iterations=20):
    for _ in range(warmup):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000 / iterations


def operands(layout, m, n, k):
    rand = lambda *shape: torch.randn(*shape, device="cuda", dtype=torch.bfloat16)
    a = rand(k, m).t() if layout in ("tn", "tt") else rand(m, k)
    b = rand(k, n).t() if layout in ("nn", "tn") else rand(n, k)
    return a, b


def main():
    source, destination = sys.argv[1], sys.argv[2]
    results = []
    with open(source) as lines:
        for line in lines:
            entry = json.loads(line)
            if "error" in entry:
                continue
            n, k, rows = int(entry["n"]), int(entry["k"]), sum(int(r) for r in entry["valid_rows"])
            if entry["op"].endswith("_masked"):
                groups = int(entry["groups"])
                mean = max(1, rows // groups)
                a = torch.randn(groups, mean, k, device="cuda", dtype=torch.bfloat16)
                b = torch.randn(groups, n, k, device="cuda", dtype=torch.bfloat16)
                seconds = timed(lambda: torch.bmm(a, b.transpose(1, 2)))
                flops = 2 * groups * mean * n * k
                peer = "torch.bmm"
            else:
                a, b = operands(entry.get("layout", "nt"), rows, n, k)
                seconds = timed(lambda: torch.matmul(a, b.t()))
                flops = 2 * rows * n * k
                peer = "torch.matmul"
            results.append({"case": entry["case"], "peer": peer, "seconds": seconds, "tflops": flops / seconds / 1e12})
            print(f"{entry['case']}: {peer} {seconds * 1e6:.1f} us, {flops / seconds / 1e12:.1f} TFLOPS", flush=True)
    with open(destination, "w") as output:
        for result in results:
            output.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
