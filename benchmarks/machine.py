"""What a benchmark's timing was measured on, and whether a device computes bfloat16 natively.

Shared by the benchmark scripts (``from machine import machine_info``, as ``python benchmarks/x.py`` finds its
neighbours); the chapters do not need it.
"""

from __future__ import annotations

import os
import platform

import torch

__all__ = ["cpu_model", "fast_bfloat16", "machine_info"]


def machine_info(device: torch.device | str | None = None) -> dict:
    """What a timing was measured on: OS, CPU, thread count, Python, PyTorch and the device (CUDA name or "cpu").

    ``device`` None means CUDA when available, else the CPU.
    """
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return {
        "platform": platform.platform(),
        "processor": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    }


def cpu_model() -> str:
    """The CPU's model name where the OS says it (Linux), else what ``platform`` knows."""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fast_bfloat16(device: torch.device | str) -> bool:
    """Whether ``device`` computes in bfloat16 natively (and so faster than float32), not by emulation.

    CUDA: compute capability 8.0 or newer (A100, H100, RTX 30xx on). CPU: oneDNN's bfloat16 kernels, which need
    AVX512-BF16 or AMX (recent Xeon and EPYC); elsewhere autocast to bfloat16 still runs, but more slowly.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.get_device_capability(device) >= (8, 0)
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # no public API asks this yet
        except (AttributeError, RuntimeError):
            return False
    return False
