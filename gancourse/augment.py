"""Differentiable augmentation for a GAN trained on few images, and the measures that say when it is needed.

DiffAugment (Zhao et al. 2020, "Differentiable augmentation for data-efficient GAN training"): the same random
transformations T are applied to real and to generated images, in the discriminator's step and in the generator's,
so D only ever judges T(x) and T(G(z)). D then cannot memorise the few training images pixel for pixel, and since T
is differentiable, G's gradient flows back through T(G(z)) to G. Augmenting only the reals would teach G to produce
augmented-looking images; augmenting only D's step would let D and G play different games.

A transformation moves or erases pixels; what fills the emptied pixels is the **background**, -1 for the course's
images (``gancourse.images``: background -1, ink +1). The paper's implementation fills with 0, the empty value of
its data's normalisation; for [-1, 1] digits 0 is mid-grey, a value no digit's background has, so a shifted digit
would get a grey band and an erased square would be a grey patch: a new kind of image. Filled with -1, a shifted
digit is exactly the image of a digit drawn further off-centre, and an erased square is missing ink. ``fill``
restores the paper's 0 where wanted.

When is augmentation needed? D overfits its training images: its scores on them drift away from its scores on
images it has not trained on. ``score_gap`` measures that directly on held-out digits; ``overfitting_heuristic``
is the sign-based estimate of Karras et al. (2020, "Training generative adversarial networks with limited data")
that needs no held-out set. Both live here, beside the remedy they monitor.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real

import torch
from torch import nn

from gancourse.images import check_images
from gancourse.models import generate

__all__ = [
    "AUGMENTATIONS", "BACKGROUND", "DiffAugment", "cutout", "erase_patches", "mean_score", "overfitting_heuristic",
    "score_gap", "shift_images", "translation",
]

BACKGROUND = -1.0  # the course's empty canvas (see the module docstring)


def _check_ratio(ratio: float, name: str = "ratio") -> None:
    if not isinstance(ratio, Real) or isinstance(ratio, bool):
        raise TypeError(f"{name} must be a real number in [0, 1), got {type(ratio).__name__}")
    if not 0 <= ratio < 1:
        raise ValueError(f"{name} must lie in [0, 1), got {ratio}")


def _pixels(size: int, ratio: float) -> int:
    """``ratio`` of ``size`` pixels, rounded half up as in the paper (0.125 of 28 is 4 pixels, 0.5 of 28 is 14)."""
    return int(size * ratio + 0.5)


def _random_integers(low: int, high: int, count: int, generator: torch.Generator | None,
                     device: torch.device) -> torch.Tensor:
    """(count,) int64 uniform in [low, high] (both ends included), drawn by ``generator`` on its own device (the
    default generator of ``device`` when None) and returned on ``device``."""
    draw_on = device if generator is None else generator.device
    return torch.randint(low, high + 1, (count,), generator=generator, device=draw_on).to(device)


def _check_offsets(images: torch.Tensor, offsets: torch.Tensor, name: str) -> None:
    if not isinstance(offsets, torch.Tensor) or offsets.dtype != torch.long:
        got = offsets.dtype if isinstance(offsets, torch.Tensor) else type(offsets).__name__
        raise TypeError(f"{name} must be an int64 tensor, got {got}")
    if offsets.shape != (images.shape[0], 2):
        raise ValueError(f"{name} must have shape ({images.shape[0]}, 2) (rows, columns), got "
                         f"{tuple(offsets.shape)}")


def _axis_ranges(start: torch.Tensor, length: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image, the positions 0..size-1 of one axis minus ``start`` (N, size), and which of them lie in
    [0, length): for a shift, ``start`` is the shift and ``length`` the image's size; for a patch, ``start`` its
    first pixel and ``length`` its side."""
    positions = torch.arange(size, device=start.device) - start[:, None]
    return positions, (positions >= 0) & (positions < length)


def shift_images(images: torch.Tensor, shifts: torch.Tensor, fill: float = BACKGROUND) -> torch.Tensor:
    """Image i moved down by ``shifts[i, 0]`` and right by ``shifts[i, 1]`` pixels (negative: up, left).

    ``images`` (N, C, H, W) float; ``shifts`` (N, 2) int64, any values. Pixels shifted in from outside the image
    are ``fill``; pixels shifted out are lost. Differentiable in ``images``: the gradient is the upstream gradient
    shifted back by -``shifts``, zero where it would come from outside (the transpose of this linear map).
    """
    check_images(images)
    _check_offsets(images, shifts, "shifts")
    n, c, h, w = images.shape
    shifts = shifts.to(images.device)
    source_rows, rows_inside = _axis_ranges(shifts[:, 0], h, h)  # output row r reads row r - dy
    source_cols, cols_inside = _axis_ranges(shifts[:, 1], w, w)
    # gather needs in-range indices: the clamped ones read an edge pixel, then are overwritten with fill below,
    # which also zeroes their gradient
    moved = images.gather(2, source_rows.clamp(0, h - 1)[:, None, :, None].expand(n, c, h, w))
    moved = moved.gather(3, source_cols.clamp(0, w - 1)[:, None, None, :].expand(n, c, h, w))
    inside = rows_inside[:, None, :, None] & cols_inside[:, None, None, :]
    return moved.masked_fill(~inside, fill)


def translation(images: torch.Tensor, ratio: float = 0.125, fill: float = BACKGROUND,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image shifted by its own random whole number of pixels, uniform in [-s, s] per axis, s = ``ratio`` of
    that axis's size rounded half up (0.125 of 28: up to 4 pixels); emptied pixels are ``fill``.

    ``images`` (N, C, H, W) float -> the same shape and dtype. ``ratio`` in [0, 1); 0 is the identity.
    ``generator`` draws the shifts (on its own device) for reproducible augmentation. An MNIST digit fits a 20 x 20
    box in the middle of its 28 x 28 image, so the default shifts move out mostly background, seldom ink.
    """
    check_images(images)
    _check_ratio(ratio)
    shifts = [_random_integers(-_pixels(size, ratio), _pixels(size, ratio), images.shape[0], generator,
                               images.device) for size in images.shape[2:]]
    return shift_images(images, torch.stack(shifts, dim=1), fill)


def erase_patches(images: torch.Tensor, corners: torch.Tensor, side: tuple[int, int],
                  fill: float = BACKGROUND) -> torch.Tensor:
    """Image i with the ``side`` = (rows, columns) patch whose top-left pixel is ``corners[i]`` set to ``fill``,
    in every channel; the part of a patch outside the image is ignored.

    ``images`` (N, C, H, W) float; ``corners`` (N, 2) int64, any values. Differentiable in ``images``: the
    gradient is the upstream gradient with the patch zeroed.
    """
    check_images(images)
    _check_offsets(images, corners, "corners")
    if len(side) != 2 or min(side) < 0:
        raise ValueError(f"side must be (rows, columns) >= 0, got {side}")
    corners = corners.to(images.device)
    _, rows_in_patch = _axis_ranges(corners[:, 0], side[0], images.shape[2])
    _, cols_in_patch = _axis_ranges(corners[:, 1], side[1], images.shape[3])
    return images.masked_fill(rows_in_patch[:, None, :, None] & cols_in_patch[:, None, None, :], fill)


def cutout(images: torch.Tensor, ratio: float = 0.5, fill: float = BACKGROUND,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image with a patch of ``ratio`` of its size per axis (rounded half up: 0.5 of 28 is a 14 x 14 square)
    set to ``fill``, at its own random position (DeVries & Taylor 2017, as DiffAugment uses it).

    As in the paper the patch's centre is uniform over the image, so a patch near an edge is partly outside and
    erases fewer pixels (at least half its side per axis); a patch kept inside would always cut into a centred
    digit's middle. ``images`` (N, C, H, W) float -> the same shape and dtype. ``ratio`` in [0, 1); 0 is the
    identity. ``generator`` draws the positions (on its own device).
    """
    check_images(images)
    _check_ratio(ratio)
    side = tuple(_pixels(size, ratio) for size in images.shape[2:])
    # centre in [0, size - side % 2], first pixel centre - side // 2: symmetric about the image's middle
    corners = [_random_integers(0, size - length % 2, images.shape[0], generator, images.device) - length // 2
               for size, length in zip(images.shape[2:], side, strict=True)]
    return erase_patches(images, torch.stack(corners, dim=1), side, fill)


AUGMENTATIONS: dict[str, Callable[..., torch.Tensor]] = {"translation": translation, "cutout": cutout}


class DiffAugment:
    """``augment(images) -> images``: the transformations of ``policy`` (comma-separated names of
    ``AUGMENTATIONS``, applied in that order) with fresh random parameters per image and per call.

    Call it on the reals and on the fakes of both players' steps, and never on one side only (the module docstring
    says why). ``ratios`` overrides a transformation's default ``ratio`` by name (translation 0.125, cutout 0.5,
    the paper's). ``fill`` is the value of emptied pixels (the background, -1). ``generator`` makes the
    augmentation reproducible: the same seed gives the same transformations for the same sequence of calls.
    Differentiable with respect to ``images``; the empty policy ``""`` is the identity.
    """

    def __init__(self, policy: str = "translation,cutout", *, ratios: dict[str, float] | None = None,
                 fill: float = BACKGROUND, generator: torch.Generator | None = None) -> None:
        names = [name.strip() for name in policy.split(",") if name.strip()]
        unknown = sorted({*names, *(ratios or {})} - AUGMENTATIONS.keys())
        if unknown:
            raise ValueError(f"unknown augmentation(s) {unknown}; known: {sorted(AUGMENTATIONS)}")
        for name, ratio in (ratios or {}).items():
            _check_ratio(ratio, f"ratios[{name!r}]")
        self.policy = names
        self.ratios = dict(ratios or {})
        self.fill = fill
        self.generator = generator

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        check_images(images)
        for name in self.policy:
            extra = {"ratio": self.ratios[name]} if name in self.ratios else {}
            images = AUGMENTATIONS[name](images, fill=self.fill, generator=self.generator, **extra)
        return images

    def __repr__(self) -> str:
        return f"DiffAugment(policy={','.join(self.policy)!r}, ratios={self.ratios}, fill={self.fill})"


def overfitting_heuristic(real_scores: torch.Tensor) -> float:
    """r_t = E[sign(D(x))] over D's raw scores (logits) on **training** reals, in [-1, 1] (Karras et al. 2020).

    Sign 0 is D's undecided score (logit 0, D = 1/2). Near 0, D's scores on its training reals straddle 0 as they
    would on reals it has never seen; towards 1, D calls every training image real: it has memorised them. ADA
    adjusts its augmentation probability to hold r_t at 0.6. ``real_scores``: any non-empty float tensor (usually
    (B,), pooled over a few batches).
    """
    if not isinstance(real_scores, torch.Tensor) or not real_scores.is_floating_point():
        got = real_scores.dtype if isinstance(real_scores, torch.Tensor) else type(real_scores).__name__
        raise TypeError(f"real_scores must be a floating-point tensor of D's raw scores, got {got}")
    if real_scores.numel() == 0:
        raise ValueError("real_scores is empty")
    return torch.sign(real_scores.detach()).mean(dtype=torch.float64).item()


def mean_score(discriminator: nn.Module, images: torch.Tensor, conditions: torch.Tensor | None = None,
               batch_size: int = 256) -> float:
    """D's mean raw score over ``images`` (N, C, H, W) (and ``conditions`` (N, ...) for a conditional D), in eval
    mode (batch norm uses its running statistics; D's mode is restored), without gradients, ``batch_size`` images
    at a time, summed in float64. Images are moved to D's device batch by batch."""
    check_images(images, min_count=1)
    if conditions is not None and len(conditions) != len(images):
        raise ValueError(f"{len(images)} images but {len(conditions)} conditions")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    parameter = next(discriminator.parameters(), None)
    device = images.device if parameter is None else parameter.device
    total = torch.zeros((), dtype=torch.float64, device=device)
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device)
        condition = None if conditions is None else conditions[start : start + batch_size].to(device)
        total += generate(discriminator, batch, condition).sum(dtype=torch.float64)  # eval mode, no gradients
    return total.item() / len(images)


def score_gap(discriminator: nn.Module, train_images: torch.Tensor, held_out_images: torch.Tensor, *,
              train_conditions: torch.Tensor | None = None, held_out_conditions: torch.Tensor | None = None,
              batch_size: int = 256) -> float:
    """E[D(x_train)] - E[D(x_held_out)] over raw scores (see ``mean_score``): about 0 while D generalises, growing
    as D memorises its training images (the numerator of Karras et al. 2020's validation heuristic r_v)."""
    return (mean_score(discriminator, train_images, train_conditions, batch_size)
            - mean_score(discriminator, held_out_images, held_out_conditions, batch_size))
