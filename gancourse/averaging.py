"""An average of the generator's weights over training, sampled instead of G itself.

G's weights circle around an equilibrium rather than settle (Chapter 6's Dirac-GAN); an average of the recent
iterates lies closer to it, and its samples are steadier and usually better (Yazıcı et al. 2019, "The unusual
effectiveness of averaging in GAN training"; Karras et al. 2018, 2020). ``GeneratorAverage`` is
``torch.optim.swa_utils.AveragedModel`` with two things the plain class leaves to its user:

- **A warm-up.** An exponential moving average (EMA) with a fixed beta starts from G's first weights and keeps a
  share beta^t of them after t updates: at beta = 0.999 still 37% after 1,000 steps, of weights that draw noise.
  The default is StyleGAN2-ADA's ramp-up (Karras et al. 2020, "Training GANs with limited data"): the
  half-life, in images, is min(``half_life_images``, ``rampup`` x images seen), so early on the average spans only
  the last 5% of training and forgets early weights at once: the first update copies G, and its weights keep a
  share 0.5^20 < 1e-6 after the next update. Yazıcı et al.'s alternative, a late start (the average copies G
  until ``start_images``, then averages), is an option; it needs a start chosen per run, the ramp-up does not.
- **Batch-norm statistics for the averaged weights.** ``AveragedModel`` copies G's buffers at each update: running
  means and variances of G's own activations, not of the averaged network's. ``recompute_batch_norm`` measures them
  again on the averaged network (``torch.optim.swa_utils.update_bn``), on batches of latent vectors.

The uniform (Polyak) average of all updates, ``AveragedModel``'s own, is ``half_life_images=None``.

Use: ``average = GeneratorAverage(G)``; after each G step ``average.update(G, images_seen)``, or once
``average.attach_to(optimiser_G, G, batch_size)``; before sampling, ``recompute_batch_norm(average.module,
latent_batches(G.latent_dim, 32, 256))``; then ``generate(average.module, z)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from numbers import Real

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.hooks import RemovableHandle

from gancourse.objectives import call_network

__all__ = ["HALF_LIFE_IMAGES", "RAMPUP", "GeneratorAverage", "ema_beta", "latent_batches", "recompute_batch_norm"]

HALF_LIFE_IMAGES = 10_000  # StyleGAN2's 10k images: about 150 steps of 64 images, 5% of a 3,000-step course run
RAMPUP = 0.05  # StyleGAN2-ADA's: the half-life is at most 5% of the images seen so far


def _check_positive(value: Real | None, name: str) -> None:
    if value is not None and (not isinstance(value, Real) or isinstance(value, bool) or not value > 0):
        raise ValueError(f"{name} must be a positive number or None, got {value!r}")


def ema_beta(batch_size: int, images_before: int, half_life_images: float = HALF_LIFE_IMAGES,
             rampup: float | None = RAMPUP) -> float:
    """The weight of the old average in one EMA update, average <- beta average + (1 - beta) G, in [0, 1).

    beta = 0.5 ** (``batch_size`` / h), so that the average halves the weight of what it held every h images. With
    ``rampup`` the half-life is h = min(``half_life_images``, ``rampup`` x ``images_before``), the images G had
    seen before this step's batch (StyleGAN2's ``cur_nimg``): the first update (0 images) has beta = 0, a copy.
    Without it h = ``half_life_images``.
    """
    _check_positive(half_life_images, "half_life_images")
    _check_positive(rampup, "rampup")
    if batch_size < 1 or images_before < 0:
        raise ValueError(f"need batch_size >= 1 and images_before >= 0, got {batch_size} and {images_before}")
    half_life = half_life_images if rampup is None else min(half_life_images, rampup * images_before)
    return 0.5 ** (batch_size / max(half_life, 1e-8))


class GeneratorAverage(AveragedModel):
    """An ``AveragedModel`` of a generator: exponential with StyleGAN2-ADA's warm-up by default, uniform with
    ``half_life_images=None``; ``self.module`` is the averaged generator.

    ``half_life_images`` and ``rampup``: see ``ema_beta`` (``rampup=None``: a fixed beta from the first update).
    ``start_images``: until G has seen that many images the average is a copy of G (Yazıcı et al.'s late start);
    the averaging begins from G's weights at that point. The buffer ``images_seen`` (int64) counts the images
    of the updates so far; it is in ``state_dict`` with ``n_averaged`` and the averaged weights, so a checkpoint
    resumes the schedule exactly. The settings are not: construct the average with the same ones before
    ``load_state_dict``.
    """

    images_seen: torch.Tensor

    def __init__(self, generator: nn.Module, *, half_life_images: float | None = HALF_LIFE_IMAGES,
                 rampup: float | None = RAMPUP, start_images: int = 0) -> None:
        if not isinstance(generator, nn.Module):
            raise TypeError(f"generator must be an nn.Module, got {type(generator).__name__}")
        _check_positive(half_life_images, "half_life_images")
        _check_positive(rampup, "rampup")
        if start_images < 0:
            raise ValueError(f"start_images must be >= 0, got {start_images}")
        exponential = half_life_images is not None
        super().__init__(generator, multi_avg_fn=self._exponential_step if exponential else None)
        self.half_life_images, self.rampup, self.start_images = half_life_images, rampup, start_images
        self.register_buffer("images_seen", torch.zeros((), dtype=torch.long, device=self.n_averaged.device))
        self._beta = 0.0  # the beta of the update in progress, read by _exponential_step

    def _exponential_step(self, averaged: Sequence[torch.Tensor], current: Sequence[torch.Tensor],
                          n_averaged: torch.Tensor) -> None:
        """``AveragedModel``'s ``multi_avg_fn``: torch's own EMA step, with this update's beta."""
        get_ema_multi_avg_fn(self._beta)(averaged, current, n_averaged)

    def update(self, generator: nn.Module, images_seen: int) -> None:
        """Fold ``generator``'s current weights into the average; call once after each G step.

        ``images_seen``: the images G's training has consumed, this step's batch included (it must grow with each
        call; the difference from the last call is the batch the beta is computed for).
        """
        images_before = int(self.images_seen)
        if images_seen <= images_before:
            raise ValueError(f"images_seen must grow with each update: got {images_seen} after {images_before}")
        if self.half_life_images is not None:
            self._beta = ema_beta(images_seen - images_before, images_before, self.half_life_images, self.rampup)
        if images_seen <= self.start_images:
            self.n_averaged.zero_()  # AveragedModel copies G when it has averaged nothing yet
        self.update_parameters(generator)
        self.images_seen.fill_(images_seen)

    def attach_to(self, optimiser: torch.optim.Optimizer, generator: nn.Module, batch_size: int) -> RemovableHandle:
        """After every ``optimiser.step()`` call ``update(generator, images_seen + batch_size)``, so a training
        loop needs no other change; ``handle.remove()`` detaches it. A step skipped (a ``GradScaler``'s, on an
        overflow) is no update. ``optimiser`` must step ``generator``'s weights."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        stepped = {id(p) for group in optimiser.param_groups for p in group["params"]}
        if not any(id(p) in stepped for p in generator.parameters()):
            raise ValueError("this optimiser steps none of the generator's weights (the discriminator's optimiser?)")

        def after_step(_optimiser: torch.optim.Optimizer, _args: tuple, _kwargs: dict) -> None:
            self.update(generator, int(self.images_seen) + batch_size)

        return optimiser.register_step_post_hook(after_step)


def latent_batches(latent_dim: int, count: int, batch_size: int, *, generator: torch.Generator | None = None,
                   device: torch.device | str | None = None, dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    """``count`` batches of latent vectors z ~ N(0, I), each (``batch_size``, ``latent_dim``) of ``dtype`` on
    ``device``, drawn by ``generator`` (on its own device) for reproducible statistics."""
    if min(latent_dim, count, batch_size) < 1:
        raise ValueError(f"latent_dim, count and batch_size must be >= 1, got {latent_dim}, {count}, {batch_size}")
    draw_on = generator.device if generator is not None else device
    return [torch.randn(batch_size, latent_dim, generator=generator, device=draw_on, dtype=dtype).to(device)
            for _ in range(count)]


class _WithConditions(nn.Module):
    """G(z, condition_sampler(len(z))): a conditional generator called with z alone, as ``update_bn`` calls it."""

    def __init__(self, generator: nn.Module, condition_sampler: Callable[[int], torch.Tensor]) -> None:
        super().__init__()
        self.generator, self.condition_sampler = generator, condition_sampler

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return call_network(self.generator, z, self.condition_sampler(len(z)).to(z.device))


def recompute_batch_norm(generator: nn.Module, latents: Iterable[torch.Tensor],
                         condition_sampler: Callable[[int], torch.Tensor] | None = None) -> None:
    """Set every batch norm's running mean and variance in ``generator`` (the averaged one, ``average.module``) to
    its activations' statistics over ``latents`` (batches (B, latent_dim)), each batch weighted equally
    (``torch.optim.swa_utils.update_bn``: momentum None). A conditional G takes ``condition_sampler(B)``, its
    conditions for a batch of B (digits (B,) or float (B, C)), drawn in the proportions G will be asked for.

    Only running statistics change (no weights, no gradients); G's mode is restored. Nothing happens to a G without
    batch norm. Latents are moved to G's device.
    """
    network = generator
    if condition_sampler is not None:  # in G's mode, which update_bn restores
        network = _WithConditions(generator, condition_sampler).train(generator.training)
    device = next((p.device for p in generator.parameters()), None)
    update_bn(latents, network, device=device)
