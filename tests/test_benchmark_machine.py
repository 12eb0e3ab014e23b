"""benchmarks/machine.py: what a timing was measured on."""

import platform

import pytest
import torch
from scripts import load_script


@pytest.fixture(scope="module")
def machine():
    return load_script("benchmarks/machine.py")


def test_machine_info_names_the_software_and_device(machine):
    info = machine.machine_info("cpu")
    assert info["device"] == "cpu" and info["torch"] == torch.__version__
    assert info["python"] == platform.python_version() and info["torch_threads"] == torch.get_num_threads()


def test_fast_bfloat16_answers_for_each_device_type(machine, monkeypatch):
    assert machine.fast_bfloat16("meta") is False
    if not torch.cuda.is_available():
        assert machine.fast_bfloat16("cuda") is False
    # the CPU's answer is oneDNN's, through a private op: its answer as a bool, and False where torch lacks the op
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: 1, raising=False)
    assert machine.fast_bfloat16("cpu") is True

    def no_such_op():
        raise RuntimeError("no such operator")

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", no_such_op, raising=False)
    assert machine.fast_bfloat16("cpu") is False
    assert machine.cpu_model()
