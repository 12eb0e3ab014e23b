"""Images as the course holds them: float tensors (N, C, H, W), pixels in [-1, 1] (background -1, ink +1).

``check_images`` is the one check every function that takes images runs: the shape it needs, how many images,
and, where the values matter, that they are finite and in range. Each failure is one clear error naming the
argument.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["check_images"]

RANGE_TOLERANCE = 1e-5  # float rounding of a tanh output or of the [0, 255] -> [-1, 1] map


def check_images(
    images: torch.Tensor,
    name: str = "images",
    *,
    channels: int | None = None,
    size: Sequence[int] | None = None,
    min_count: int = 0,
    in_range: bool = False,
) -> None:
    """Raise one clear error unless ``images`` is a floating-point tensor (N, C, H, W).

    ``channels`` and ``size`` (H, W) pin C and (H, W) when given; ``min_count`` is the least N; ``in_range`` also
    requires finite pixels within [-1, 1]. A wrong type is a ``TypeError``, anything else a ``ValueError``.
    """
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        got = images.dtype if isinstance(images, torch.Tensor) else type(images).__name__
        raise TypeError(f"{name} must be a floating-point tensor, got {got}")
    height, width = ("H", "W") if size is None else size
    expected = f"(N, {'C' if channels is None else channels}, {height}, {width})"
    if (images.ndim != 4 or (channels is not None and images.shape[1] != channels)
            or (size is not None and tuple(images.shape[2:]) != tuple(size))):
        raise ValueError(f"{name} must have shape {expected}, got {tuple(images.shape)}")
    if images.shape[0] < min_count:
        raise ValueError(f"{name} has {images.shape[0]} images; at least {min_count} are needed here")
    if in_range and images.numel():
        if not torch.isfinite(images).all():
            raise ValueError(f"{name} contain NaN or inf")
        low, high = images.min().item(), images.max().item()
        if low < -1 - RANGE_TOLERANCE or high > 1 + RANGE_TOLERANCE:
            raise ValueError(f"{name} span [{low:.3g}, {high:.3g}]; expected [-1, 1] (background -1, ink +1, "
                             "a tanh generator's range)")
