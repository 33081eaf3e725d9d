#!/usr/bin/env bash
# Device check of the CUDA backend, in two halves.
#
#   scripts/device-check.sh build            here (Swift, no GPU): builds the static release binary and stores it
#                                            gzipped in device-bin/ (git-ignored, <= 60 MiB) for the device tool to carry.
#   scripts/device-check.sh run              there (GPU, CUDA 13, PyTorch, no Swift): the stages below, < 8 minutes
#                                            by construction, at most 7 files under $OUT, the summary printed last.
#   scripts/device-check.sh run --part A|B   the same for one part of the families only (A: BF16 GEMMs and cuBLASLt;
#                                            B: FP8 GEMMs, the indexer, casts and layouts), for a rerun of what a
#                                            stage's limit cut off.
#   scripts/device-check.sh run --dry-run    here: the same stages on the CPU (`--fake-device`), NVRTC compile when
#                                            found, a faked torch peer without torch. [--bin PATH] picks the binary
#                                            (default .build/release/deepgemm). CI runs this.
#
# Stages (each under `timeout`; a stage that fails makes the run fail; a HANG or a timeout stops the run):
#   0 info        nvidia-smi -L and `deepgemm info` (driver search with every candidate's verdict); no CUDA -> stop
#   1 precompile  `deepgemm jit precompile`: every kernel the later stages launch, in parallel, into DG_JIT_CACHE_DIR
#                 (153 kernels today; `deepgemm jit precompile --fake-device --gpu-cases --plan-only` counts them here)
#   2 smoke       `deepgemm jit smoke`: one small case per device-check family, each under a cuStreamQuery watchdog
#   3 verify      `deepgemm jit verify`: every CUDA op against the CPU backend (bitwise or DeepGEMM's calc_diff
#                 bound, per op), each case under the watchdog
#   4 bench       `deepgemm jit bench`, then scripts/device/torch_bench.py (PyTorch peers: same operands for the
#                 dense BF16 GEMMs, same shapes for the rest)
#   report        scripts/device/report.py: report.md, results.jsonl, the summary
#
# Injected faults (dry run only): DG_DEVICE_CHECK_FAKE_HANG=<case text>, DG_DEVICE_CHECK_FAKE_FAIL=<case text>;
# DG_DEVICE_CHECK_CASE_DEADLINE=<s> shortens every watchdog (tests).
#
# From a session with a device (15 minutes of device time in all, machine start included: one whole run):
#   run(command="scripts/device-check.sh run", carry=["device-bin"], timeout_s=540)
# Only when a stage of it ended TIMEOUT and device time is left, the part it did not reach:
#   run(command="scripts/device-check.sh run --part B", carry=["device-bin"], timeout_s=540)
set -uo pipefail
cd "$(dirname "$0")/.."

BIN_DIR=device-bin
PACKED="$BIN_DIR/deepgemm.gz"
# name:limit seconds. The limits plus KILL_GRACE per stage plus STARTUP stay under TOTAL_LIMIT (checked below).
STAGE_LIMITS="info:15 precompile:40 smoke:25 verify:160 bench:120 torch:55 report:10"
KILL_GRACE=5
STARTUP=15
TOTAL_LIMIT=480
# Watchdog seconds per case in the case stages.
SMOKE_DEADLINE=10
VERIFY_DEADLINE=15
BENCH_DEADLINE=30

build() {
    set -e
    swift build -c release --static-swift-stdlib --scratch-path .build-device --product deepgemm
    local built
    built="$(swift build -c release --static-swift-stdlib --scratch-path .build-device --show-bin-path)/deepgemm"
    mkdir -p "$BIN_DIR"
    rm -f "$BIN_DIR"/deepgemm*
    local staged="$BIN_DIR/deepgemm.tmp"
    cp "$built" "$staged"
    if command -v strip > /dev/null; then strip "$staged"; fi
    gzip -6 -c "$staged" > "$PACKED"
    rm -f "$staged"
    local size
    size=$(stat -c %s "$PACKED")
    echo "built $PACKED ($((size / 1024 / 1024)) MiB); carry \"$BIN_DIR\" to the device"
    if [ "$size" -gt $((60 * 1024 * 1024)) ]; then
        echo "error: $PACKED is over the 60 MiB the device tool can carry" >&2
        exit 1
    fi
}

limit_of() {
    local entry
    for entry in $STAGE_LIMITS; do
        if [ "${entry%%:*}" = "$1" ]; then echo "${entry#*:}"; return; fi
    done
    echo "error: no limit for stage $1" >&2
    exit 2
}

check_budget() {
    local total=$STARTUP entry
    for entry in $STAGE_LIMITS; do total=$((total + ${entry#*:} + KILL_GRACE)); done
    if [ "$total" -ge "$TOTAL_LIMIT" ]; then
        echo "error: stage limits add up to $total s, not under $TOTAL_LIMIT s" >&2
        exit 2
    fi
    echo "stage limits: $STAGE_LIMITS (+${KILL_GRACE} s kill grace each, ${STARTUP} s startup) = $total s < $TOTAL_LIMIT s"
}

STOPPED=""
FAILED=0

# stage NAME COMMAND...: runs one stage under its limit, its output appended to $OUT/log.txt and shown;
# records "name status seconds limit" in $OUT/stages.txt. Status: ok, FAIL(rc), HANG, TIMEOUT, skipped.
stage() {
    local name=$1 limit
    limit=$(limit_of "$name")
    shift
    if [ -n "$STOPPED" ]; then
        echo "$name skipped 0 $limit" >> "$OUT/stages.txt"
        echo "== $name: skipped ($STOPPED)" | tee -a "$OUT/log.txt"
        return 0
    fi
    echo "== stage $name (limit $limit s)" | tee -a "$OUT/log.txt"
    local start=$SECONDS
    timeout -k "$KILL_GRACE" "$limit" "$@" 2>&1 | tee -a "$OUT/log.txt"
    local rc=${PIPESTATUS[0]} status=ok
    case $rc in
        0) status=ok ;;
        3) status=HANG; STOPPED="a kernel hung in $name" ;;
        124 | 137) status=TIMEOUT; STOPPED="$name ran past its $limit s limit" ;;
        *) status="FAIL($rc)" ;;
    esac
    [ "$rc" -eq 0 ] || FAILED=1
    echo "$name $status $((SECONDS - start)) $limit" >> "$OUT/stages.txt"
    echo "== $name: $status after $((SECONDS - start)) s" | tee -a "$OUT/log.txt"
    return 0
}

# info_stage BIN [dry]: nvidia-smi and the binary's info; fails unless CUDA is available (not required on the
# fake device). Run as `device-check.sh info-stage ...` so `timeout` can run it.
info_stage() {
    local bin=$1 dry=${2:-} text
    if command -v nvidia-smi > /dev/null; then timeout 10 nvidia-smi -L; else echo "nvidia-smi: not installed"; fi
    text=$("$bin" info) || { echo "$text"; echo "error: deepgemm info failed"; exit 1; }
    echo "$text"
    if [ -n "$dry" ]; then
        echo "note: fake device: CUDA availability is not required"
    elif ! grep -q '^  cuda  available' <<< "$text"; then
        echo "error: the CUDA backend is unavailable here (reason and driver search above); no later stage can run"
        exit 1
    fi
}

run() {
    local dry="" bin="" part=()
    while [ $# -gt 0 ]; do
        case $1 in
            --dry-run) dry=1 ;;
            --bin) bin=$2; shift ;;
            --part) part=(--part "$2"); shift ;;
            *) echo "usage: scripts/device-check.sh run [--dry-run] [--part A|B] [--bin PATH]" >&2; exit 2 ;;
        esac
        shift
    done
    check_budget
    if [ -n "$dry" ]; then
        OUT="${OUT:-$(mktemp -d)}"
    else
        : "${OUT:?set OUT to the report folder}"
    fi
    mkdir -p "$OUT"
    rm -f "$OUT/stages.txt" "$OUT/log.txt" "$OUT/report.md" "$OUT/results.jsonl"
    : > "$OUT/stages.txt"
    WORK="$(mktemp -d)"
    local fake=()
    if [ -n "$dry" ]; then
        fake=(--fake-device)
        bin="${bin:-.build/release/deepgemm}"
        [ -x "$bin" ] || { echo "error: $bin is missing; run 'swift build -c release --product deepgemm' first" >&2; exit 1; }
    elif [ -z "$bin" ]; then
        [ -f "$PACKED" ] || { echo "error: $PACKED is missing; run 'scripts/device-check.sh build' first and carry $BIN_DIR" >&2; exit 1; }
        bin="$WORK/deepgemm"
        gunzip -c "$PACKED" > "$bin"
        chmod +x "$bin"
        export DG_JIT_CACHE_DIR="${DG_JIT_CACHE_DIR:-/tmp/deepgemm-jit-cache}"
    fi
    if ! "$bin" --version > /dev/null 2>&1; then
        echo "error: the binary $bin does not start here:" >&2
        ldd "$bin" >&2 || true
        exit 1
    fi
    echo "device check: $([ -n "$dry" ] && echo "DRY RUN (fake device)" || echo "GPU")${part[1]:+, part ${part[1]}} with $bin, results in $OUT"
    local deadline="${DG_DEVICE_CHECK_CASE_DEADLINE:-}"
    stage info "$PWD/scripts/device-check.sh" info-stage "$bin" "$dry"
    [ "$FAILED" -eq 0 ] || STOPPED="stage 0 failed"
    stage precompile "$bin" jit precompile "${fake[@]}" "${part[@]}" --json "$WORK/precompile.jsonl"
    stage smoke "$bin" jit smoke "${fake[@]}" "${part[@]}" --case-deadline "${deadline:-$SMOKE_DEADLINE}" --json "$WORK/smoke.jsonl"
    stage verify "$bin" jit verify "${fake[@]}" "${part[@]}" --case-deadline "${deadline:-$VERIFY_DEADLINE}" --json "$WORK/verify.jsonl"
    stage bench "$bin" jit bench "${fake[@]}" "${part[@]}" --case-deadline "${deadline:-$BENCH_DEADLINE}" --json "$WORK/bench.jsonl"
    if [ -n "$dry" ]; then
        stage torch python3 scripts/device/torch_bench.py "$WORK/bench.jsonl" "$WORK/torch.jsonl" --device cpu --allow-fake
    else
        stage torch python3 scripts/device/torch_bench.py "$WORK/bench.jsonl" "$WORK/torch.jsonl" --device cuda
    fi
    # report.md and results.jsonl, then the summary: the last thing printed
    timeout "$(limit_of report)" python3 scripts/device/report.py "$WORK" "$OUT" || FAILED=1
    rm -rf "$WORK"
    local files
    files=$(find "$OUT" -type f | wc -l)
    if [ "$files" -gt 7 ]; then
        echo "error: $files files under $OUT; the device tool returns at most 7" >&2
        FAILED=1
    fi
    exit "$FAILED"
}

case "${1:-}" in
    build) build ;;
    run) shift; run "$@" ;;
    info-stage) shift; info_stage "$@" ;;
    *)
        echo "usage: scripts/device-check.sh build | run [--dry-run] [--part A|B] [--bin PATH]" >&2
        exit 2
        ;;
esac
