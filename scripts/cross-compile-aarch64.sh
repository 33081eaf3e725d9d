#!/usr/bin/env bash
# Cross-compiles every C file of the CPU kernels (Sources/CDeepGEMMCPU) for aarch64 Linux with
# -Wall -Werror, so that x86-only code stays behind `#if defined(__x86_64__)`. Uses the clang next
# to `swift` (or any clang on PATH) and Debian's aarch64 libc headers (libc6-dev-arm64-cross),
# which it installs with apt-get when missing (needs root, as on a fresh CI machine).
set -euo pipefail
cd "$(dirname "$0")/.."

sysroot=/usr/aarch64-linux-gnu
if [ ! -f "$sysroot/include/stdio.h" ]; then
    echo "installing aarch64 libc headers (libc6-dev-arm64-cross)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libc6-dev-arm64-cross >/dev/null
fi

clang=$(dirname "$(command -v swift)")/clang
[ -x "$clang" ] || clang=$(command -v clang)
echo "clang: $clang ($("$clang" --version | head -1))"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for source in Sources/CDeepGEMMCPU/*.c; do
    if "$clang" --target=aarch64-linux-gnu -isystem "$sysroot/include" -O2 -Wall -Werror \
        -ISources/CDeepGEMMCPU/include -c "$source" -o "$out/$(basename "$source").o"; then
        echo "ok    $source"
    else
        echo "FAIL  $source"
        status=1
    fi
done
exit $status
