"""Measuring generated samples. For now: mode coverage on the 2-D toy mixtures (ring of 8, 5 x 5 grid).

Convention (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): a sample is *high-quality* when it lies
within ``n_std`` standard deviations of its nearest mode centre; a mode is *covered* when at least ``min_count``
high-quality samples land on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gancourse.data import GaussianMixture2D


@dataclass(frozen=True)
class ModeCoverage:
    """Result of ``mode_coverage``: modes covered, fraction of high-quality samples, counts per mode (K,)."""

    modes_covered: int
    high_quality: float
    counts: torch.Tensor

    def __str__(self) -> str:
        k = len(self.counts)
        return f"{self.modes_covered}/{k} modes covered, {self.high_quality:.1%} high-quality samples"


def mode_coverage(
    samples: torch.Tensor, mixture: GaussianMixture2D, n_std: float = 3.0, min_count: int = 20
) -> ModeCoverage:
    """Count high-quality samples (within ``n_std`` * std of the nearest centre) per mode of ``mixture``.

    ``samples``: (N, 2), finite. Use N well above ``min_count`` x number of modes (2,500 for the ring of 8).
    """
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(f"samples must have shape (N, 2), got {tuple(samples.shape)}")
    if not torch.isfinite(samples).all():
        raise ValueError("samples contain NaN or inf")
    distance = torch.cdist(samples.detach().float().cpu(), mixture.centres)  # (N, K)
    nearest_distance, nearest = distance.min(dim=1)
    good = nearest_distance <= n_std * mixture.std
    counts = torch.bincount(nearest[good], minlength=len(mixture.centres))
    return ModeCoverage(int((counts >= min_count).sum()), float(good.float().mean()), counts)
