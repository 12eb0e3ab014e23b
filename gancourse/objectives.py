"""What the two players minimise: one small object per GAN objective, so a new objective is an argument to the
training loop, not a new loop.

Every objective takes the discriminator's raw outputs s = D(x) (logits for the BCE objectives, critic values for
the Wasserstein ones; any shape, averaged over the batch) and gives

- ``d_loss(real_scores, fake_scores)``: what D minimises (a scalar);
- ``g_loss(fake_scores)``: what G minimises;
- ``penalty(discriminator, real, fake, condition=None, fake_condition=None)``: a regulariser added to D's loss,
  already weighted (``None`` when the objective has none);
- ``after_d_step(discriminator)``: what happens to D's weights after each of its updates (weight clipping).

G's step calls ``generator_loss(discriminator, fake, ...)``, which by default is ``g_loss`` of D's scores on the fake
batch. An objective whose G loss needs more overrides it: the relativistic loss compares with D's scores on a real
batch (``needs_real_in_g_step``), feature matching compares D's features.

A network is called ``net(x)``, or ``net(x, condition)`` when a condition (class labels, attributes) is given.
The BCE formulas live in ``gancourse.losses``; the objectives here call them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from gancourse.losses import discriminator_loss, generator_loss_nonsaturating, generator_loss_saturating

__all__ = ["FeatureMatching", "Hinge", "LeastSquares", "Minimax", "NonSaturating", "Objective", "PenaltyOn",
           "RelativisticPairing", "Wasserstein", "WassersteinGP", "call_network", "gradient_penalty"]


def call_network(network: nn.Module, inputs: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
    """``network(inputs)``, or ``network(inputs, condition)`` for a conditional network (G or D)."""
    return network(inputs) if condition is None else network(inputs, condition)


def _input_gradient(discriminator: nn.Module, x: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
    """grad_x sum_i D(x_i), one row per sample (B, numel per sample), kept in the graph (``create_graph=True``)
    so that D's loss can be differentiated through it. Row i is grad_{x_i} D(x_i) when samples do not interact."""
    x = x.detach().requires_grad_(True)
    scores = call_network(discriminator, x, condition)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.flatten(1)  # per sample: the norm is taken over all of a sample's pixels, not over dim=1


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, condition: torch.Tensor | None = None
) -> torch.Tensor:
    """E_x̂ (||grad_x̂ D(x̂)||_2 - 1)^2 with x̂ = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample.

    Gulrajani et al. (2017), Algorithm 1: one eps per sample, of shape (B, 1, ..., 1), so x̂ lies on the segment
    between a real and a fake sample; the gradient of each sample is flattened before its norm. Returns the batch
    mean **without** the weight lambda. ``real``, ``fake``: (B, ...) of the same shape. ``condition`` (B, ...)
    is passed to a conditional critic. A critic with batch norm in training mode is refused: each score would
    depend on the whole batch, and the per-sample gradient the penalty constrains would not exist.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same shape")
    if any(isinstance(m, _BatchNorm) and m.training for m in critic.modules()):
        raise ValueError("the critic has batch norm in training mode: the gradient penalty needs per-sample "
                         "scores; use layer norm or no normalisation in the critic (Gulrajani et al. 2017)")
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device, dtype=real.dtype)
    mixed = eps * real.detach() + (1 - eps) * fake.detach()
    norms = _input_gradient(critic, mixed, condition).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()


def _squared_input_gradient(
    discriminator: nn.Module, real: torch.Tensor, condition: torch.Tensor | None = None
) -> torch.Tensor:
    """E_x ||grad_x D(x)||^2 over the batch ``real`` (B, ...), without the gamma / 2 weight: R1 on real data
    (Mescheder et al. 2018), R2 when given fake data."""
    return _input_gradient(discriminator, real, condition).pow(2).sum(1).mean()


@dataclass(frozen=True)
class Objective:
    """The interface (see the module docstring); no penalty and nothing after D's update by default."""

    # True when G's loss also needs D on a real batch: the training loop then draws one for G's step
    needs_real_in_g_step: ClassVar[bool] = False

    def d_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def g_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def generator_loss(
        self, discriminator: nn.Module, fake: torch.Tensor, fake_condition: torch.Tensor | None = None,
        real: torch.Tensor | None = None, real_condition: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """What G minimises for its fake batch (B, ...), D frozen by the caller; ``real`` only when
        ``needs_real_in_g_step``."""
        return self.g_loss(call_network(discriminator, fake, fake_condition).float())

    def penalty(
        self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor, condition: torch.Tensor | None = None,
        fake_condition: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        return None

    def after_d_step(self, discriminator: nn.Module) -> None:
        return None


class _R1:
    """Mixin: the zero-centred gradient penalties. R1 adds (gamma_1 / 2) E_x ||grad_x D(x)||^2 on real data
    (Mescheder et al. 2018), R2 (gamma_2 / 2) E_z ||grad D(G(z))||^2 on fake data (G's output taken as a fixed
    input), when ``self.r1_gamma`` / ``self.r2_gamma`` > 0."""

    r1_gamma: float
    r2_gamma: float

    def __post_init__(self) -> None:
        if self.r1_gamma < 0 or self.r2_gamma < 0:
            raise ValueError(f"r1_gamma and r2_gamma must be >= 0, got {self.r1_gamma} and {self.r2_gamma}")

    def penalty(self, discriminator, real, fake, condition=None, fake_condition=None):
        terms = [gamma / 2 * _squared_input_gradient(discriminator, x, y)
                 for gamma, x, y in ((self.r1_gamma, real, condition), (self.r2_gamma, fake, fake_condition)) if gamma]
        return sum(terms[1:], terms[0]) if terms else None


@dataclass(frozen=True)
class NonSaturating(_R1, Objective):
    """Goodfellow et al. (2014) with the generator loss they use in practice, on logits s:

    L_D = -E log sigmoid(s(x)) - E log(1 - sigmoid(s(G(z))))  [real target ``real_label``; < 1 is one-sided
    label smoothing, Salimans et al. 2016],   L_G = -E log sigmoid(s(G(z))),   optional R1 / R2 (``r1_gamma``,
    ``r2_gamma``).
    """

    real_label: float = 1.0
    r1_gamma: float = 0.0
    r2_gamma: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.5 < self.real_label <= 1.0:
            raise ValueError(f"real_label must lie in (0.5, 1], got {self.real_label}")

    def d_loss(self, real_scores, fake_scores):
        return discriminator_loss(real_scores, fake_scores, real_label=self.real_label)

    def g_loss(self, fake_scores):
        return generator_loss_nonsaturating(fake_scores)


@dataclass(frozen=True)
class Minimax(Objective):
    """The original game: L_D as in ``NonSaturating``, L_G = E log(1 - sigmoid(s(G(z)))) (saturates when D wins)."""

    def d_loss(self, real_scores, fake_scores):
        return discriminator_loss(real_scores, fake_scores)

    def g_loss(self, fake_scores):
        return generator_loss_saturating(fake_scores)


@dataclass(frozen=True)
class Hinge(_R1, Objective):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018), on raw scores s:

    L_D = E max(0, 1 - s(x)) + E max(0, 1 + s(G(z))),   L_G = -E s(G(z)),   optional R1 / R2.
    """

    r1_gamma: float = 0.0
    r2_gamma: float = 0.0

    def d_loss(self, real_scores, fake_scores):
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()

    def g_loss(self, fake_scores):
        return -fake_scores.mean()


@dataclass(frozen=True)
class _Critic(Objective):
    """Wasserstein losses on critic values f (no sigmoid): the critic maximises E f(x) - E f(G(z)), the estimate
    of W(p_data, p_g) when f is 1-Lipschitz (Arjovsky et al. 2017); so L_D = E f(G(z)) - E f(x), L_G = -E f(G(z))."""

    def d_loss(self, real_scores, fake_scores):
        return fake_scores.mean() - real_scores.mean()

    def g_loss(self, fake_scores):
        return -fake_scores.mean()


@dataclass(frozen=True)
class Wasserstein(_Critic):
    """WGAN (Arjovsky et al. 2017): the critic's losses of ``_Critic``; after every critic update each weight is
    clipped to [-clip, clip], a crude way to keep f Lipschitz (the paper: c = 0.01, RMSprop 5e-5, 5 critic updates
    per generator update)."""

    clip: float = 0.01

    def __post_init__(self) -> None:
        if self.clip <= 0:
            raise ValueError(f"clip must be > 0, got {self.clip}")

    @torch.no_grad()
    def after_d_step(self, discriminator):
        for p in discriminator.parameters():
            p.clamp_(-self.clip, self.clip)


@dataclass(frozen=True)
class WassersteinGP(_Critic):
    """WGAN-GP (Gulrajani et al. 2017): L_D = E f(G(z)) - E f(x) + lambda E (||grad f(x̂)||_2 - 1)^2
    (``gradient_penalty``; lambda = ``gp_weight``, 10 in the paper), L_G = -E f(G(z))."""

    gp_weight: float = 10.0

    def __post_init__(self) -> None:
        if self.gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {self.gp_weight}")

    def penalty(self, discriminator, real, fake, condition=None, fake_condition=None):
        return self.gp_weight * gradient_penalty(discriminator, real, fake, condition)


@dataclass(frozen=True)
class LeastSquares(Objective):
    """LSGAN (Mao et al. 2017), on raw scores s: L_D = 1/2 E (s(x) - b)^2 + 1/2 E (s(G(z)) - a)^2 and
    L_G = 1/2 E (s(G(z)) - c)^2, with the paper's 0-1 coding a = 0, b = c = 1 by default. With b - c = 1 and
    b - a = 2 (e.g. a = -1, b = 1, c = 0) minimising L_G minimises the Pearson chi^2 divergence between
    p_data + p_g and 2 p_g."""

    fake_target: float = 0.0  # a
    real_target: float = 1.0  # b
    generator_target: float = 1.0  # c

    def d_loss(self, real_scores, fake_scores):
        return 0.5 * (F.mse_loss(real_scores, torch.full_like(real_scores, self.real_target))
                      + F.mse_loss(fake_scores, torch.full_like(fake_scores, self.fake_target)))

    def g_loss(self, fake_scores):
        return 0.5 * F.mse_loss(fake_scores, torch.full_like(fake_scores, self.generator_target))


@dataclass(frozen=True)
class RelativisticPairing(_R1, Objective):
    """The relativistic pairing loss (RpGAN; Jolicoeur-Martineau 2019, with R1 + R2 in Huang et al. 2024, R3GAN),
    on raw scores s of a real batch and a fake batch paired sample by sample (equal sizes):

    L_D = E softplus(s(G(z)) - s(x)) = -E log sigmoid(s(x) - s(G(z))),   L_G = E softplus(s(x) - s(G(z))),

    D asks "is the real sample more real than its fake partner?", so G's loss needs D's scores on a real batch too.
    R3GAN pairs it with both zero-centred penalties (``r1_gamma`` = ``r2_gamma``)."""

    needs_real_in_g_step: ClassVar[bool] = True
    r1_gamma: float = 0.0
    r2_gamma: float = 0.0

    @staticmethod
    def _paired(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        if first.shape != second.shape:
            raise ValueError(f"the relativistic loss pairs a real and a fake batch of one shape, got "
                             f"{tuple(first.shape)} and {tuple(second.shape)}")
        return F.softplus(first - second).mean()

    def d_loss(self, real_scores, fake_scores):
        return self._paired(fake_scores, real_scores)

    def g_loss(self, fake_scores, real_scores=None):
        if real_scores is None:
            raise ValueError("the relativistic generator loss needs D's scores on a real batch as well")
        return self._paired(real_scores, fake_scores)

    def generator_loss(self, discriminator, fake, fake_condition=None, real=None, real_condition=None):
        if real is None:
            raise ValueError("the relativistic generator loss needs a real batch (needs_real_in_g_step)")
        return self.g_loss(call_network(discriminator, fake, fake_condition).float(),
                           call_network(discriminator, real, real_condition).float())


@dataclass(frozen=True)
class FeatureMatching(NonSaturating):
    """Feature matching (Salimans et al. 2016): D trains as in ``NonSaturating``; G instead matches the mean of D's
    intermediate features f (``discriminator.features``, e.g. the lean DCGAN's body) on a real and a fake batch:

    L_G = || E_x f(x) - E_z f(G(z)) ||_2^2   (means over the batch, squared norm over the features).

    The real batch's features are a target (no gradient reaches D, which is frozen anyway)."""

    needs_real_in_g_step: ClassVar[bool] = True

    def generator_loss(self, discriminator, fake, fake_condition=None, real=None, real_condition=None):
        network = getattr(discriminator, "module", discriminator)  # the network inside an autocast wrapper
        if not hasattr(network, "features"):
            raise TypeError(f"feature matching needs a discriminator with a features(x) method, got "
                            f"{type(network).__name__}")
        if real is None:
            raise ValueError("feature matching needs a real batch (needs_real_in_g_step)")
        with torch.no_grad():
            target = call_network(network.features, real, real_condition).float().flatten(1).mean(0)
        matched = call_network(network.features, fake, fake_condition).float().flatten(1).mean(0)
        return (target - matched).square().sum()


@dataclass(frozen=True, eq=False)
class PenaltyOn(Objective):
    """``objective`` with its penalty computed on ``network`` (the plain float32 discriminator) instead of the module
    the loop calls (an autocast or DistributedDataParallel wrapper): a gradient penalty differentiates a gradient
    norm, where bfloat16's 8-bit mantissa loses too much, and DDP's reducer expects one forward per backward."""

    objective: Objective
    network: nn.Module

    def d_loss(self, real_scores, fake_scores):
        return self.objective.d_loss(real_scores, fake_scores)

    @property
    def needs_real_in_g_step(self) -> bool:
        return self.objective.needs_real_in_g_step

    def g_loss(self, fake_scores, *real_scores):
        return self.objective.g_loss(fake_scores, *real_scores)

    def generator_loss(self, discriminator, fake, fake_condition=None, real=None, real_condition=None):
        return self.objective.generator_loss(discriminator, fake, fake_condition, real, real_condition)

    def penalty(self, discriminator, real, fake, condition=None, fake_condition=None):
        return self.objective.penalty(self.network, real.float(), fake.float(), condition, fake_condition)

    def after_d_step(self, discriminator):
        self.objective.after_d_step(discriminator)
