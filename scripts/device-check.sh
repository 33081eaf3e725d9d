#!/usr/bin/env bash
# Device check of the CUDA backend, in two halves.
#
#   scripts/device-check.sh build   here, on a machine with Swift (no GPU needed): builds the static
#                                   release binary (swift build -c release --static-swift-stdlib) and
#                                   stores it gzipped in device-bin/ (git-ignored) for the device tool
#                                   to carry (the carry limit is 64 MiB; the plain binary is ~57 MiB).
#   scripts/device-check.sh run     there, on the GPU machine (no Swift; CUDA, NVRTC, PyTorch): runs
#                                   device-bin/deepgemm to verify every CUDA op against the CPU backend
#                                   on the same random inputs (calc_diff < 1e-5, as DeepGEMM's BF16
#                                   tests), benchmarks TFLOPS next to torch.matmul on the same shapes,
#                                   and writes report.md plus the raw logs under $OUT. One call, < 8 min.
#
# From a session with a device:  run(command="scripts/device-check.sh run", carry=["device-bin"], timeout_s=500)
set -uo pipefail
cd "$(dirname "$0")/.."

BIN_DIR=device-bin
PACKED="$BIN_DIR/deepgemm.gz"

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

# step NAME SECONDS COMMAND...: runs one step under a time limit, logging to $OUT/NAME.txt.
step() {
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS
    timeout -k 5 "$limit" "$@" > "$OUT/$name.txt" 2>&1
    local status=$?
    echo "$name: exit $status after $((SECONDS - start)) s" | tee -a "$OUT/steps.txt"
}

run() {
    : "${OUT:?set OUT to the report folder}"
    if [ ! -f "$PACKED" ]; then
        echo "error: $PACKED is missing; run 'scripts/device-check.sh build' first and carry $BIN_DIR" >&2
        exit 1
    fi
    mkdir -p "$OUT"
    : > "$OUT/steps.txt"
    BIN="$(mktemp -d)/deepgemm"
    gunzip -c "$PACKED" > "$BIN"
    chmod +x "$BIN"
    if ! "$BIN" --version > /dev/null 2>&1; then
        echo "error: the carried binary does not start here:" >&2
        ldd "$BIN" >&2 || true
        exit 1
    fi
    export DG_JIT_CACHE_DIR="${DG_JIT_CACHE_DIR:-/tmp/deepgemm-jit-cache}"
    export DG_PRINT_CONFIGS=1
    # Time limits add up to 460 s, so the whole call stays under 8 minutes even when a step hangs
    step nvidia-smi 10 nvidia-smi
    step info 30 "$BIN" info
    step compile 60 "$BIN" jit compile --arch sm_90a
    step verify 180 "$BIN" jit verify --json "$OUT/verify.jsonl"
    step bench 120 "$BIN" jit bench --json "$OUT/bench.jsonl"
    step torch 60 python3 scripts/device/torch_bench.py "$OUT/bench.jsonl" "$OUT/torch.jsonl"
    python3 scripts/device/report.py "$OUT" > "$OUT/report.md"
    cat "$OUT/report.md"
}

case "${1:-}" in
    build) build ;;
    run) run ;;
    *)
        echo "usage: scripts/device-check.sh build|run" >&2
        exit 2
        ;;
esac
