"""Walking the latent space: linear and spherical interpolation between latent vectors."""

from __future__ import annotations

import torch

__all__ = ["lerp", "slerp"]


def _check_pair(z0: torch.Tensor, z1: torch.Tensor) -> None:
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(
            f"expected two latent vectors of the same shape (d,), got {tuple(z0.shape)} and {tuple(z1.shape)}"
        )


def lerp(z0: torch.Tensor, z1: torch.Tensor, points: int) -> torch.Tensor:
    """``points`` points on the straight line from z0 to z1 (both (d,)), ends included: (points, d)."""
    _check_pair(z0, z1)
    t = torch.linspace(0, 1, points, device=z0.device, dtype=z0.dtype)[:, None]
    return (1 - t) * z0 + t * z1


def slerp(z0: torch.Tensor, z1: torch.Tensor, points: int) -> torch.Tensor:
    """``points`` points on the great-circle arc from z0 to z1 (both (d,)), ends included: (points, d).

    Along the arc the norm moves smoothly between |z0| and |z1| instead of dipping towards the origin, where a
    Gaussian latent vector almost never lies (White 2016, "Sampling generative networks").
    """
    _check_pair(z0, z1)
    cos = torch.dot(z0, z1) / (z0.norm() * z1.norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-6:  # (nearly) parallel: the arc is the line
        return lerp(z0, z1, points)
    t = torch.linspace(0, 1, points, device=z0.device, dtype=z0.dtype)[:, None]
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
