#!/usr/bin/env bash
# Builds the C ABI as a self-contained libdeepgemm.so (the Swift runtime and Foundation linked in
# statically) and installs it with its header:
#   OUTDIR/lib/libdeepgemm.so, OUTDIR/include/deepgemm.h      (default OUTDIR: .build-cabi/dist)
# It builds in its own scratch path (.build-cabi), since the static runtime changes every object.
# SwiftPM names the product libDeepGEMMC.so (the name deepgemm is the CLI's); the library has no
# SONAME, so the copy links and loads as libdeepgemm.so.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build-cabi/dist}"
swift build -c release --scratch-path .build-cabi --static-swift-stdlib -Xswiftc -static-stdlib --product DeepGEMMC >&2
mkdir -p "$out/lib" "$out/include"
cp "$(swift build -c release --scratch-path .build-cabi --show-bin-path)/libDeepGEMMC.so" "$out/lib/libdeepgemm.so"
cp Sources/CDeepGEMMABI/include/deepgemm.h "$out/include/deepgemm.h"
echo "$out/lib/libdeepgemm.so"
