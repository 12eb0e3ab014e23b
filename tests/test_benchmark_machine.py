"""benchmarks/machine.py: what a timing was measured on."""

import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # as `python benchmarks/x.py` finds it
from machine import cpu_model, fast_bfloat16, machine_info  # noqa: E402


def test_machine_info_names_the_software_and_device():
    info = machine_info("cpu")
    assert info["device"] == "cpu" and info["torch"] == torch.__version__
    assert info["python"] == platform.python_version() and info["torch_threads"] == torch.get_num_threads()


def test_fast_bfloat16_answers_for_each_device_type():
    assert isinstance(fast_bfloat16("cpu"), bool)
    assert fast_bfloat16("meta") is False
    if not torch.cuda.is_available():
        assert fast_bfloat16("cuda") is False
    assert cpu_model()
