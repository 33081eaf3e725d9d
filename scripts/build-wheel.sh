#!/usr/bin/env bash
# Builds the swift-deepgemm wheel (py3-none-linux_x86_64, libdeepgemm.so inside) into dist/.
# The wheel installs with no network and no build tools: `pip install --no-deps dist/swift_deepgemm-*.whl`.
# DG_LIBRARY_PATH=/path/libdeepgemm.so packages a prebuilt library instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
rm -rf python/build
"$PYTHON" -m pip wheel --no-deps --disable-pip-version-check -w dist ./python
ls -l dist/swift_deepgemm-*.whl
