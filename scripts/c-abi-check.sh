#!/usr/bin/env bash
# Checks the C ABI as a C user sees it: builds libdeepgemm.so (scripts/build-c-abi.sh), asserts
# that it needs no Swift or Foundation library (only libc, libstdc++, libm, libgcc_s and the
# loader), compiles deepgemm.h as C11 and as C++, and runs tests/c/abi_test.c linked to the library.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

library="$(scripts/build-c-abi.sh "$work/dist")"
echo "== ldd $library"
ldd "$library" | tee "$work/ldd.txt"
if grep -Eq 'not found|libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' "$work/ldd.txt"; then
    echo "FAIL: libdeepgemm.so needs a Swift runtime library (or one is missing)" >&2
    exit 1
fi
unexpected="$(awk '{print $1}' "$work/ldd.txt" | grep -Ev '^(linux-vdso\.so\.1|libc\.so\.6|libstdc\+\+\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|/lib64/ld-linux-x86-64\.so\.2|/lib/ld-linux-aarch64\.so\.1)$' || true)"
if [ -n "$unexpected" ]; then
    echo "FAIL: unexpected dependencies: $unexpected" >&2
    exit 1
fi

echo "== header compiles as C11 and C++17"
cc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c "$work/dist/include/deepgemm.h"
c++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -x c++ "$work/dist/include/deepgemm.h"

echo "== tests/c/abi_test.c against libdeepgemm.so"
cc -std=c11 -Wall -Wextra -Werror -I "$work/dist/include" tests/c/abi_test.c -L "$work/dist/lib" -ldeepgemm \
    -Wl,-rpath,"$work/dist/lib" -lm -o "$work/abi_test"
"$work/abi_test"
