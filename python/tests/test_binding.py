"""The binding itself: generated signatures, marshalling (strides, dtypes, NumPy), results,
errors naming the argument, threads, settings."""

import gc
import inspect
import threading

import ml_dtypes
import numpy as np
import pytest
import torch

import swift_deepgemm as deep_gemm
from swift_deepgemm.testing import calc_diff

from conftest import DEVICES


def params(fn):
    return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]


E = inspect.Parameter.empty


def test_signatures_are_deepgemms():
    assert params(deep_gemm.fp8_fp4_gemm_nt) == [
        ("a", E), ("b", E), ("d", E), ("c", None), ("recipe", None), ("recipe_a", None), ("recipe_b", None),
        ("compiled_dims", "nk"), ("disable_ue8m0_cast", False)]
    assert dict(params(deep_gemm.fp8_fp4_gemm_tn))["compiled_dims"] == "mn"
    assert params(deep_gemm.bf16_gemm_nt) == [("a", E), ("b", E), ("d", E), ("c", None), ("compiled_dims", "nk")]
    assert params(deep_gemm.per_token_cast_to_fp8) == [
        ("x", E), ("use_ue8m0", E), ("gran_k", 128), ("use_packed_ue8m0", False)]
    assert params(deep_gemm.get_symm_buffer_for_mega_moe)[6:] == [
        ("use_fp8_dispatch", None), ("mma_type", "fp8xfp4"), ("activation", "swiglu")]
    assert dict(params(deep_gemm.fp8_fp4_mqa_logits))["logits_dtype"] == torch.float32
    assert deep_gemm.fp8_gemm_nt is not None and deep_gemm.fp8_m_grouped_gemm_nt_masked is not None


def test_every_op_of_the_table_is_a_documented_function():
    for entry in deep_gemm.op_table["ops"]:
        fn = getattr(deep_gemm, entry["name"])
        assert callable(fn) and fn.__doc__.strip()
        assert len(inspect.signature(fn).parameters) == len(entry["params"])


def test_strided_views_are_passed_without_copies():
    a = torch.randn(64, 256, dtype=torch.bfloat16)
    b_storage = torch.randn(256, 96, dtype=torch.bfloat16)
    b = b_storage.T  # MN-major [96, 256]
    d = torch.zeros(64 + 8, 96, dtype=torch.float32)[4:68]  # a row slice: data pointer past the storage start
    deep_gemm.bf16_gemm_nt(a, b, d)
    assert calc_diff(d, a.float() @ b.float().T) < 1e-5


def test_numpy_arrays_in_and_out():
    bf16 = ml_dtypes.bfloat16
    a = np.random.randn(32, 128).astype(bf16)
    b = np.random.randn(128, 64).astype(bf16).T  # MN-major: strides (1, 64) elements
    d = np.zeros((32, 64), np.float32)
    deep_gemm.bf16_gemm_nt(a, b, d)
    assert calc_diff(d, a.astype(np.float32) @ b.astype(np.float32).T) < 1e-5
    x = np.random.randn(16, 256).astype(bf16)
    q, sf = deep_gemm.per_token_cast_to_fp8(x, use_ue8m0=True)
    assert isinstance(q, np.ndarray) and q.dtype == np.dtype(ml_dtypes.float8_e4m3fn) and q.shape == (16, 256)
    assert sf.dtype == np.float32 and sf.shape == (16, 2)
    back = q.astype(np.float32) * np.repeat(sf, 128, axis=1)
    assert calc_diff(back, x.astype(np.float32)) < 1e-3


def test_results_are_framework_tensors_that_own_their_memory():
    x = torch.randn(8, 256, dtype=torch.bfloat16)
    q, sf = deep_gemm.per_token_cast_to_fp8(x, use_ue8m0=False)
    assert q.dtype == torch.float8_e4m3fn and sf.dtype == torch.float32
    copy = q.float().clone()
    gc.collect()
    for _ in range(3):  # other results reuse freed memory if q's were released early
        deep_gemm.per_token_cast_to_fp8(torch.randn(8, 256, dtype=torch.bfloat16), use_ue8m0=False)
    assert torch.equal(q.float(), copy)
    packed = deep_gemm.per_token_cast_to_fp8(x, use_ue8m0=True, gran_k=64, use_packed_ue8m0=True)[1]
    assert packed.dtype == torch.int32 and packed.shape == (8, 1)


def test_an_input_returned_as_is_is_the_same_object():
    sf = torch.randn(8, 4).T.contiguous().T  # already MN-major and TMA-aligned ([8, 4], strides (1, 8))
    assert deep_gemm.get_mn_major_tma_aligned_tensor(sf) is sf


def test_integer_results():
    assert deep_gemm.get_tma_aligned_size(5, 4) == 8
    assert deep_gemm.get_tma_aligned_size(17, 1) == 32


def test_errors_name_the_argument_and_write_nothing():
    a = torch.randn(16, 128, dtype=torch.bfloat16)
    b = torch.randn(32, 128, dtype=torch.bfloat16)
    d = torch.full((16, 32), 7.0)

    def expect(cls, argument, *args, **kwargs):
        with pytest.raises(cls) as info:
            deep_gemm.bf16_gemm_nt(*args, **kwargs)
        assert info.value.argument == argument, str(info.value)
        assert isinstance(info.value, RuntimeError)
        assert torch.equal(d, torch.full((16, 32), 7.0))

    expect(deep_gemm.DGTypeError, "a", [[1.0]], b, d)                          # not a tensor
    expect(deep_gemm.DGError, "a", a.to(torch.complex64), b, d)                # unsupported dtype
    expect(deep_gemm.DGError, "a", a.float(), b, d)                            # wrong dtype for a BF16 GEMM
    expect(deep_gemm.DGArgumentError, "b", a, b[:, :64], d)                    # K mismatch
    expect(deep_gemm.DGArgumentError, "d", a, b, d.T.contiguous().T)           # D must be row-major
    expect(deep_gemm.DGUnsupportedError, "a", a.to("meta"), b, d)              # a device the library has no backend for
    freed = a.clone()
    freed.untyped_storage().resize_(0)                                         # storage released (as FSDP does)
    expect(deep_gemm.DGArgumentError, "a", freed, b, d)
    expect(deep_gemm.DGTypeError, "compiled_dims", a, b, d, compiled_dims=3)
    with pytest.raises(deep_gemm.DGTypeError) as info:
        deep_gemm.fp8_fp4_gemm_nt((a, None, None), b, d)                       # a pair parameter given three items
    assert info.value.argument == "a"
    with pytest.raises(deep_gemm.DGArgumentError):
        deep_gemm.set_tc_util(101)
    with pytest.raises(TypeError):
        deep_gemm.bf16_gemm_nt(a, b, d, no_such_argument=1)


def test_concurrent_calls_from_threads():
    jobs = [(torch.randn(64, 256, dtype=torch.bfloat16), torch.randn(48, 256, dtype=torch.bfloat16)) for _ in range(4)]
    outputs = [torch.empty(64, 48) for _ in jobs]
    errors = []

    def work(i):
        try:
            for _ in range(20):
                deep_gemm.bf16_gemm_nt(jobs[i][0], jobs[i][1], outputs[i])
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for (a, b), d in zip(jobs, outputs):
        assert calc_diff(d, a.float() @ b.float().T) < 1e-5


def test_settings_round_trip():
    deep_gemm.set_mk_alignment_for_contiguous_layout(224)
    assert deep_gemm.get_mk_alignment_for_contiguous_layout() == 224
    assert deep_gemm.get_m_alignment_for_contiguous_layout() == deep_gemm.get_k_alignment_for_contiguous_layout() == 224
    assert deep_gemm.utils.get_mk_alignment_for_contiguous_layout() == 224
    deep_gemm.set_tc_util(50)
    assert deep_gemm.get_tc_util() == 50
    deep_gemm.set_tc_util(0)                                                    # DeepGEMM: 0 reads back as 100
    assert deep_gemm.get_tc_util() == 100
    deep_gemm.set_arch("sm90")
    assert deep_gemm.get_arch() == "sm90"
    assert deep_gemm.testing.get_arch_major() == 9
    deep_gemm.set_arch(None)
    assert deep_gemm.get_arch() == "sm100" and deep_gemm.testing.get_arch_major() == 10
    deep_gemm.set_pdl(True)
    assert deep_gemm.get_pdl() is True
    default_sms = deep_gemm.get_num_sms()
    deep_gemm.set_num_sms(4)
    assert deep_gemm.get_num_sms() == 4
    deep_gemm.set_num_sms(0)                                                    # DeepGEMM: 0 resets to the device's count
    assert deep_gemm.get_num_sms() == default_sms
    deep_gemm.set_ignore_compile_dims(True)
    deep_gemm.set_ignore_compile_dims(False)
    deep_gemm.set_block_size_multiple_of(16)
    deep_gemm.set_block_size_multiple_of((16, 32))
    deep_gemm.set_block_size_multiple_of(1)
    deep_gemm.set_arch("sm90")
    assert deep_gemm.get_theoretical_mk_alignment_for_contiguous_layout() == 128
    deep_gemm.set_arch("sm100")
    assert deep_gemm.get_theoretical_mk_alignment_for_contiguous_layout() == 224
    assert deep_gemm.get_theoretical_mk_alignment_for_contiguous_layout(100) == 128
    info = deep_gemm.info()
    assert info["version"] == deep_gemm.__version__ and "cpu_kernel_level" in info


@pytest.mark.parametrize("device", DEVICES)
def test_bf16_gemm_on_each_device(device):
    a = torch.randn(128, 512, dtype=torch.bfloat16, device=device)
    b = torch.randn(256, 512, dtype=torch.bfloat16, device=device)
    d = torch.empty(128, 256, dtype=torch.bfloat16, device=device)
    deep_gemm.bf16_gemm_nt(a, b, d)
    assert calc_diff(d, a.float() @ b.float().T) < 1e-5


@pytest.mark.cuda
def test_cuda_ops_without_a_kernel_or_mixed_devices_raise():
    a = torch.randn(128, 512, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(256, 512, dtype=torch.bfloat16)
    d = torch.empty(128, 256, dtype=torch.bfloat16, device="cuda")
    with pytest.raises(deep_gemm.DGError):
        deep_gemm.bf16_gemm_nt(a, b, d)  # b on the host
    x = torch.randn(64, 256, dtype=torch.bfloat16, device="cuda")
    try:
        q, sf = deep_gemm.per_token_cast_to_fp8(x, use_ue8m0=True)
    except deep_gemm.DGUnsupportedError as e:  # no CUDA kernel: a clear error, not a crash
        assert "per_token_cast_to_fp8" in str(e) or e.argument
    else:
        assert q.is_cuda and q.dtype == torch.float8_e4m3fn
