"""Seeding and device choice: the one call at the top of every chapter."""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

__all__ = ["SEED_OFFSET_VARIABLE", "make_deterministic", "pick_device", "seed_everything", "seed_offset", "setup"]


def pick_device(prefer: str | None = None) -> torch.device:
    """Return the best available device: CUDA, then Apple's MPS, then the CPU.

    ``prefer`` ("cpu", "cuda", "mps") forces a choice; asking for one that is absent raises ``RuntimeError``.
    """
    if prefer is not None:
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }
        if prefer not in available:
            raise ValueError(f"unknown device {prefer!r}: expected one of {sorted(available)}")
        if not available[prefer]:
            raise RuntimeError(f"device {prefer!r} was asked for but is not available on this machine")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


SEED_OFFSET_VARIABLE = "GANCOURSE_SEED_OFFSET"


def seed_offset() -> int:
    """The offset ``$GANCOURSE_SEED_OFFSET`` adds to every seed (0 when unset).

    ``benchmarks/chapter_seeds.py`` sets it to rerun a whole chapter with other training seeds: each
    ``seed_everything(s)`` then seeds with ``s + offset``. Fixed evaluation noise (explicit ``torch.Generator``
    seeds) is left as it is, so the same measurement is taken of a differently trained network.
    """
    value = os.environ.get(SEED_OFFSET_VARIABLE, "0")
    if not value.isdigit():
        raise ValueError(f"${SEED_OFFSET_VARIABLE} must be a non-negative integer, got {value!r}")
    return int(value)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so a CPU run repeats number for number.

    The seed used is ``seed`` plus ``seed_offset()`` (0 unless a benchmark sets ``$GANCOURSE_SEED_OFFSET``).
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    seed += seed_offset()
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- seeds the legacy global RNG that learners' own code may use
    torch.manual_seed(seed)  # also seeds every CUDA device


def setup(seed: int = 0, device: str | None = None, quiet: bool = False, deterministic: bool = False) -> torch.device:
    """Seed everything and choose the device; prints one line saying what was chosen.

    CPU runs repeat number for number from the seed alone. ``deterministic=True`` asks the same of CUDA runs (see
    ``make_deterministic``); call it before anything touches the GPU.

    >>> device = setup(seed=0)          # doctest: +SKIP
    """
    if deterministic:
        make_deterministic()
    seed_everything(seed)
    chosen = pick_device(device)
    if not quiet:
        offset = f" (+{seed_offset()} from ${SEED_OFFSET_VARIABLE})" if seed_offset() else ""
        mode = ", deterministic algorithms" if deterministic else ""
        print(f"gancourse: seed {seed}{offset}, device {chosen.type}{mode}, torch {torch.__version__}")
    return chosen


# cuBLAS reuses workspace buffers between streams in an order that varies from run to run unless each kernel gets a
# fixed workspace; ":4096:8" (8 buffers of 4 MiB) is what PyTorch's reproducibility notes give.
CUBLAS_WORKSPACE = ":4096:8"


def make_deterministic(enabled: bool = True) -> None:
    """Make CUDA runs repeat number for number (at some cost in speed), or undo it with ``enabled=False``.

    Sets ``CUBLAS_WORKSPACE_CONFIG`` (read when cuBLAS starts, so before the first matrix product on the GPU),
    ``torch.use_deterministic_algorithms`` (an operation that has only a nondeterministic CUDA kernel then raises
    instead of silently varying) and cuDNN's deterministic mode without autotuning. On the CPU the course's runs
    are deterministic already.
    """
    if enabled:
        if torch.cuda.is_available() and torch.cuda.is_initialized() and "CUBLAS_WORKSPACE_CONFIG" not in os.environ:
            warnings.warn("CUDA is already in use, so CUBLAS_WORKSPACE_CONFIG set now may come too late: call "
                          "make_deterministic (or setup(deterministic=True)) first thing", stacklevel=2)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(enabled)
    torch.backends.cudnn.deterministic = enabled
    torch.backends.cudnn.benchmark = False
