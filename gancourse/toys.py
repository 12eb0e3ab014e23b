"""The toy benchmark of "The remedies, measured": one method trained on many 2-D mixtures at once, and scored.

A method (``ToyMethod``) is an objective, a number of critic steps, the discriminator's options and the two
optimisers. ``train_toys`` trains it on a list of mixtures (model m learns ``mixtures[m]``) as one set of stacked
weights (``gancourse.stacked``) with the package's ``discriminator_step`` and ``generator_step``, the two halves
of Algorithm 1; ``score`` counts each model's modes and high-quality samples by VEEGAN's rules. The chapter and
``benchmarks/remedies_toys.py`` (which tunes each method's learning rate on a seed it never reports) share them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from tqdm.auto import trange

from gancourse.data import GaussianMixture2D
from gancourse.metrics import mode_coverage
from gancourse.objectives import Hinge, NonSaturating, Objective, Wasserstein, WassersteinGP
from gancourse.runtime import seed_everything
from gancourse.stacked import StackedDiscriminator, StackedGenerator
from gancourse.train import discriminator_step, generator_step, linear_decay

__all__ = ["TOY_METHODS", "ToyMethod", "real_batch", "score", "toy_samples", "train_toys"]

LATENT, HIDDEN, BATCH = 2, (64, 64, 64), 64


@dataclass(frozen=True)
class ToyMethod:
    """How to train one row of the toy table: ``k`` critic steps per generator step, ``discriminator`` the options
    of ``StackedDiscriminator`` (spectral, pack, minibatch kernels), and the optimiser ("adam" with ``betas``, or
    "rmsprop") with G's and D's learning rates."""

    objective: Objective = field(default_factory=NonSaturating)
    k: int = 1
    discriminator: dict = field(default_factory=dict)
    optimiser: str = "adam"
    lr_g: float = 1e-3
    lr_d: float = 4e-3
    betas: tuple[float, float] = (0.5, 0.999)

    def __post_init__(self) -> None:
        if self.optimiser not in ("adam", "rmsprop"):
            raise ValueError(f"optimiser must be 'adam' or 'rmsprop', got {self.optimiser!r}")
        if self.k < 1 or self.lr_g <= 0 or self.lr_d <= 0:
            raise ValueError(f"k must be >= 1 and the learning rates > 0, got k={self.k}, lr_g={self.lr_g}, "
                             f"lr_d={self.lr_d}")

    def with_lr_g(self, lr_g: float) -> ToyMethod:
        """The same method with G's learning rate ``lr_g`` and D's scaled to keep their ratio."""
        return replace(self, lr_g=lr_g, lr_d=self.lr_d * lr_g / self.lr_g)

    def optimisers(self, G: torch.nn.Module, D: torch.nn.Module) -> tuple[torch.optim.Optimizer, ...]:
        if self.optimiser == "rmsprop":
            return torch.optim.RMSprop(G.parameters(), lr=self.lr_g), torch.optim.RMSprop(D.parameters(), lr=self.lr_d)
        return (torch.optim.Adam(G.parameters(), lr=self.lr_g, betas=self.betas),
                torch.optim.Adam(D.parameters(), lr=self.lr_d, betas=self.betas))


# The rows of the chapter's toy table. The objectives, critic steps and D's options are the papers' (WGAN-GP's
# penalty weight the authors' toy script's, 0.1, which beat the paper's 10 on the tuning seed); G's learning rate
# is each method's best of benchmarks/remedies_toys.py --tune (seed 100, never reported; the grid and its
# results are in benchmarks/results/remedies_toys-tuning.json), and D's keeps the method's ratio to it (4x for
# the TTUR rows, 1x for the WGANs, as in their papers).
TOY_METHODS: dict[str, ToyMethod] = {
    "vanilla": ToyMethod(lr_g=1e-3, lr_d=4e-3),
    "WGAN (clip)": ToyMethod(Wasserstein(clip=0.01), k=5, optimiser="rmsprop", lr_g=3e-4, lr_d=3e-4),
    "WGAN-GP": ToyMethod(WassersteinGP(gp_weight=0.1), k=5, lr_g=3e-3, lr_d=3e-3, betas=(0.5, 0.9)),
    "SN + hinge": ToyMethod(Hinge(), discriminator={"spectral": True}, lr_g=1e-3, lr_d=4e-3),
    "R1": ToyMethod(NonSaturating(r1_gamma=0.1), lr_g=1e-3, lr_d=4e-3),
    "minibatch discr.": ToyMethod(discriminator={"minibatch_kernels": 5, "kernel_dim": 3}, lr_g=1e-3, lr_d=4e-3),
    "PacGAN2": ToyMethod(discriminator={"pack": 2}, lr_g=3e-3, lr_d=1.2e-2),
}


def real_batch(mixtures: Sequence[GaussianMixture2D], n_per_model: int,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Fresh samples, ``n_per_model`` from each model's own mixture, drawn from ``generator`` (None: the global
    one): (len(mixtures) * n_per_model, 2), model m's rows together."""
    return torch.cat([mixture.sample(n_per_model, generator) for mixture in mixtures])


def train_toys(method: ToyMethod, mixtures: Sequence[GaussianMixture2D], steps: int, seed: int = 0,
               every: int = 0, probe: Callable[[StackedGenerator, StackedDiscriminator], None] | None = None,
               desc: str | None = None) -> tuple[StackedGenerator, StackedDiscriminator]:
    """Train ``method`` for ``steps`` generator steps on every mixture at once (model m on ``mixtures[m]``), batches
    of 64 per model, both learning rates decaying linearly to 0 over the second half (``linear_decay``);
    ``probe(G, D)`` runs every ``every`` steps. Returns the stacked G and D."""
    if steps < 1 or not mixtures:
        raise ValueError(f"need steps >= 1 and at least one mixture, got steps={steps}, {len(mixtures)} mixtures")
    seed_everything(seed)
    n_models = len(mixtures)
    G = StackedGenerator(n_models, LATENT, hidden=HIDDEN)
    D = StackedDiscriminator(n_models, hidden=HIDDEN, **method.discriminator)
    opt_g, opt_d = method.optimisers(G, D)
    decay = linear_decay(steps)  # 1 over the first half, then linearly to 0
    schedules = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in (opt_g, opt_d)]
    n = n_models * BATCH
    for step in trange(steps, desc=desc, mininterval=2, disable=desc is None):
        for _ in range(method.k):
            with torch.no_grad():
                fake = G(torch.randn(n, LATENT))
            discriminator_step(D, opt_d, method.objective, real_batch(mixtures, BATCH), fake)
        generator_step(D, opt_g, method.objective, G(torch.randn(n, LATENT)))
        for schedule in schedules:
            schedule.step()
        if every and (step + 1) % every == 0:
            probe(G, D)
    return G, D


def toy_samples(G: StackedGenerator, n: int = 2500) -> torch.Tensor:
    """``n`` samples from each model for one fixed noise draw: (models, n, 2)."""
    fixed = torch.Generator().manual_seed(1)
    z = torch.randn(G.n_models * n, LATENT, generator=fixed)
    with torch.no_grad():
        return G(z).view(G.n_models, n, 2)


def score(samples: torch.Tensor, mixtures: Sequence[GaussianMixture2D]) -> np.ndarray:
    """(modes captured, high-quality share in [0, 1]) of each model's ``samples`` (models, n, 2) by VEEGAN's rules
    (a sample within 3 sigma of its nearest mode is high quality; a mode with one is captured): (models, 2)."""
    if len(samples) != len(mixtures):
        raise ValueError(f"{len(samples)} models' samples but {len(mixtures)} mixtures")
    results = [mode_coverage(x, mixture, min_count=1) for x, mixture in zip(samples, mixtures, strict=True)]
    return np.array([(r.modes_covered, r.high_quality) for r in results])
