"""pytest setup: the `cuda` marker (skipped without torch.cuda), the device parameter, and a reset of
DeepGEMM's global settings after every test."""

import random

import pytest
import torch

import swift_deepgemm as deep_gemm

HAS_CUDA = torch.cuda.is_available()

#: Parametrize a test over where its tensors live: "cpu" always, "cuda" on the GPU machine.
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="needs torch.cuda")
    for item in items:
        if "cuda" in item.keywords and not HAS_CUDA:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fresh_settings():
    """Seeds the generators and restores the library's settings after each test."""
    random.seed(0)
    torch.manual_seed(0)
    saved = (deep_gemm.get_num_sms(), deep_gemm.get_tc_util(), deep_gemm.get_pdl())
    yield
    deep_gemm.set_arch(None)
    deep_gemm.set_mk_alignment_for_contiguous_layout(128)
    deep_gemm.set_num_sms(saved[0])
    deep_gemm.set_tc_util(saved[1])
    deep_gemm.set_pdl(saved[2])
