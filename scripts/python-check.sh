#!/usr/bin/env bash
# The Python package's check: a fresh venv with the CPU build of torch, NumPy, ml_dtypes and pytest,
# `pip install ./python` from this checkout (builds libdeepgemm.so with SwiftPM), then pytest.
# Usage: scripts/python-check.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
"$PYTHON" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
# torch's CPU build: from the configured package index / local wheels, else from PyTorch's own index.
"${pip[@]}" torch==2.13.0+cpu || "${pip[@]}" --index-url https://download.pytorch.org/whl/cpu torch==2.13.0+cpu
"${pip[@]}" numpy ml_dtypes pytest
# The wheel the GPU machine installs, then the install from the checkout that README shows.
PYTHON="$venv/bin/python" scripts/build-wheel.sh
wheel="$(ls -t dist/swift_deepgemm-*-py3-none-linux_x86_64.whl | head -1)"
"${pip[@]}" ./python
rm -rf python/build
export DG_TEST_WHEEL="$PWD/$wheel"
# Run from the checkout root so the installed package (not python/swift_deepgemm) is imported.
"$venv/bin/python" -c "import swift_deepgemm as dg; print('swift_deepgemm', dg.__version__, dg.library_path())"
"$venv/bin/pytest" -q -p no:cacheprovider python/tests "$@"
