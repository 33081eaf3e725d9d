"""The packaged library and the README example."""

import os
import re
import subprocess

import pytest

import swift_deepgemm as deep_gemm

ALLOWED = re.compile(r"^(linux-vdso|libc|libstdc\+\+|libm|libgcc_s|ld-linux-x86-64|libdl|libpthread|librt)\.so")


def test_library_needs_only_the_c_and_cxx_runtimes():
    path = deep_gemm.library_path()
    assert os.path.exists(path)
    out = subprocess.run(["ldd", path], check=True, capture_output=True, text=True).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert names, out
    extra = [n for n in names if not ALLOWED.match(os.path.basename(n))]
    assert not extra, f"{path} needs {extra}:\n{out}"


def test_readme_example():
    import torch
    import swift_deepgemm as deep_gemm
    from swift_deepgemm.utils import per_token_cast_to_fp8, per_block_cast_to_fp8
    # --- README: three lines ---
    a, b = torch.randn(256, 512, dtype=torch.bfloat16), torch.randn(384, 512, dtype=torch.bfloat16)
    d = torch.empty(256, 384, dtype=torch.bfloat16)
    deep_gemm.fp8_gemm_nt(per_token_cast_to_fp8(a, use_ue8m0=True), per_block_cast_to_fp8(b, use_ue8m0=True), d)
    # ---
    assert deep_gemm.testing.calc_diff(d, a.float() @ b.float().T) < 1e-3


@pytest.mark.skipif(not os.environ.get("DG_TEST_WHEEL"), reason="set DG_TEST_WHEEL=path/to.whl to check a wheel")
def test_wheel_is_tagged_for_every_python3():
    wheel = os.environ["DG_TEST_WHEEL"]
    assert os.path.basename(wheel).endswith("-py3-none-linux_x86_64.whl")
    import zipfile
    assert "swift_deepgemm/libdeepgemm.so" in zipfile.ZipFile(wheel).namelist()
