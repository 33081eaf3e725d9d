#!/usr/bin/env python3
"""Writes the device check's results from its work folder into the output folder and prints the summary.

usage: report.py WORK OUT

WORK holds the stages' JSON lines (precompile, smoke, verify, bench, torch .jsonl); OUT holds
stages.txt (one line per stage: name status seconds limit) and log.txt, written by
scripts/device-check.sh. Writes OUT/results.jsonl (every record, each with its "stage") and
OUT/report.md, and prints the summary (the last thing the device check prints). Exit status 0.
"""
import json
import math
import os
import sys

STAGE_FILES = ["precompile", "smoke", "verify", "bench", "torch"]


def read_records(folder, name):
    path = os.path.join(folder, name + ".jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def read_stages(out):
    path = os.path.join(out, "stages.txt")
    if not os.path.exists(path):
        return []
    with open(path) as lines:
        return [line.split() for line in lines if line.strip()]


def info_lines(out):
    path = os.path.join(out, "log.txt")
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as text:
        lines = text.read().splitlines()
    wanted = ("  cuda ", "        device:", "        driver:", "        nvrtc:", "GPU 0:")
    clip = lambda line: line if len(line) <= 200 else line[:197] + "..."
    return [clip(line.strip()) for line in lines if line.startswith(wanted)][:6]


def main():
    work, out = sys.argv[1], sys.argv[2]
    records = {name: read_records(work, name) for name in STAGE_FILES}
    with open(os.path.join(out, "results.jsonl"), "w") as results:
        for name in STAGE_FILES:
            for record in records[name]:
                results.write(json.dumps({"stage": name, **record}) + "\n")
    stages = read_stages(out)
    torch = {t["case"]: t for t in records["torch"]}

    report = ["# swift-deepgemm device check", ""]
    report += ["## Device", "", "```"] + info_lines(out) + ["```", ""]
    report += ["## Stages", "", "| stage | status | seconds | limit |", "|---|---|---|---|"]
    report += [f"| {s[0]} | {s[1]} | {s[2]} | {s[3]} |" for s in stages if len(s) >= 4] + [""]
    for name in ("precompile", "smoke", "verify"):
        rows = records[name]
        failed = [r for r in rows if not r.get("passed")]
        report += [f"## {name}: {len(rows) - len(failed)}/{len(rows)} passed" + ("" if rows else " (nothing ran; see log.txt)"), ""]
        if rows:
            report += ["| case | result | detail |", "|---|---|---|"]
            for r in rows:
                if name == "precompile":
                    detail = f"{r.get('kernel')} regs {r.get('registers')} spills {r.get('spill_stores')}/{r.get('spill_loads')}"
                else:
                    detail = "calc_diff n/a" if r.get("diff") is None else f"calc_diff {r['diff']:.2e}"
                error = r.get("error")
                report.append(f"| {r['case']} | {'PASS' if r.get('passed') else 'FAIL'} | {detail}{' — ' + error if error else ''} |")
            report.append("")
    bench = records["bench"]
    ratios = []
    report += ["## Performance next to PyTorch", "",
               "TFLOPS = the case's flops / t (GEMMs 2·M·N·K over the valid rows; logits 2·H·D per (query, key) pair in the windows); "
               "GB/s = bytes read and written / t. ratio = TFLOPS / peer TFLOPS, or peer time / time where there are no flops (casts). "
               "Dense BF16 peers use the same operands; the others the same shapes.", ""]
    if bench:
        report += ["| case | µs | TFLOPS | GB/s | peer | peer µs | peer TFLOPS | ratio | same data | torch FP8 TFLOPS (scaling) |",
                   "|---|---|---|---|---|---|---|---|---|---|"]
        for b in bench:
            if not b.get("passed"):
                report.append(f"| {b['case']} | FAIL {b.get('error', '')} | | | | | | | | |")
                continue
            peer = torch.get(b["case"])
            cells = "- | - | - | - | - | -"
            if peer and peer.get("seconds"):
                if b.get("tflops") and peer.get("tflops"):
                    ratio = b["tflops"] / peer["tflops"]
                else:
                    ratio = peer["seconds"] / b["seconds"]
                ratios.append(ratio)
                fp8 = f"{peer['fp8_tflops']:.1f} ({peer['fp8_recipe']})" if "fp8_tflops" in peer else "-"
                peer_tflops = f"{peer['tflops']:.1f}" if peer.get("tflops") else "-"
                cells = f"{peer['peer']} | {peer['seconds'] * 1e6:.1f} | {peer_tflops} | {ratio:.2f} | {peer.get('same_data')} | {fp8}"
            elif peer:
                cells = f"{peer['peer']} | - | - | - | - | -"
            tflops = f"{b['tflops']:.1f}" if b.get("tflops") else "-"
            report.append(f"| {b['case']} | {b['seconds'] * 1e6:.1f} | {tflops} | {b['gbps']:.0f} | {cells} |")
        report.append("")
    with open(os.path.join(out, "report.md"), "w") as text:
        text.write("\n".join(report) + "\n")

    failed_stages = [s[0] for s in stages if len(s) >= 2 and s[1] not in ("ok", "skipped")]
    summary = ["", "==== swift-deepgemm device check: summary ===="]
    summary += info_lines(out)[:3]
    summary += [f"{'stage':<11} {'status':<9} {'seconds':>7} {'limit':>6}"]
    summary += [f"{s[0]:<11} {s[1]:<9} {s[2]:>7} {s[3]:>6}" for s in stages if len(s) >= 4]
    for name in ("precompile", "smoke", "verify", "bench"):
        rows = records[name]
        if rows:
            failed = [r["case"] for r in rows if not r.get("passed")]
            summary.append(f"{name}: {len(rows) - len(failed)}/{len(rows)} passed" + (f"; failed: {'; '.join(failed[:5])}" if failed else ""))
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        summary.append(f"bench vs torch: geometric mean ratio {geo:.2f} over {len(ratios)} cases ({min(ratios):.2f}..{max(ratios):.2f})")
    summary.append("RESULT: " + ("PASS" if stages and not failed_stages else "FAIL (" + (", ".join(failed_stages) or "no stage ran") + ")"))
    summary.append(f"files: {', '.join(sorted(os.listdir(out)))}")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
