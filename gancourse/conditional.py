"""Conditional GANs on digits: G(z, y) and D(x, y) for a condition y (Mirza & Osindero 2014).

A condition is a float vector (B, C): a one-hot digit (10 numbers) optionally followed by continuous attributes
(the chapter adds thickness and slant ranks, C = 12). Integer class labels (B,) are accepted and one-hot encoded.

- ``ConditionalGenerator``: the lean DCGAN generator whose first linear layer reads z concatenated with y. For a
  one-hot y the layer's columns for y are a learned class embedding added to the projection of z, so a separate
  ``nn.Embedding`` before it would be a second linear map in a row and add nothing.
- ``ConcatDiscriminator``: y enters as C constant feature maps stacked onto the image, before the first
  convolution, so every layer can combine it with the pixels (concatenating y at the last linear layer instead
  would only add an x-independent bias, which cannot tell a good 7 from a good 3).
- ``ProjectionDiscriminator`` (Miyato & Koyama 2018): logit = psi(phi(x)) + <V y, phi(x)>, phi the lean
  discriminator's features. For a one-hot y, V y is the class's embedding; the inner product is the log-ratio
  term of the optimal discriminator when p(y|x) is a log-linear model in phi(x).
- ``discriminator_step`` / ``generator_step`` / ``ConditionalTrainer``: the training loop with conditions. Real
  batches travel with their conditions; fake conditions are the conditions of other, randomly drawn training
  digits, so G is asked for the (digit, thickness, slant) combinations the data contain. ``matching_aware``
  (Reed et al. 2016) adds a third kind of fake for D: real images with the condition of another digit.
"""

from __future__ import annotations

import time

import torch
from torch import nn
from tqdm.auto import tqdm

from gancourse.losses import generator_loss_nonsaturating
from gancourse.train import History, frozen

N_CLASSES = 10


def as_condition(y: torch.Tensor, condition_dim: int) -> torch.Tensor:
    """Labels (B,) int64 in [0, 10) -> one-hot float (B, 10); float (B, condition_dim) passes through."""
    if not y.is_floating_point():
        if y.ndim != 1 or condition_dim != N_CLASSES:
            raise ValueError(f"integer labels must be (B,) for a {N_CLASSES}-class condition, got "
                             f"{tuple(y.shape)} for condition_dim {condition_dim}")
        if y.numel() and (y.min() < 0 or y.max() >= N_CLASSES):
            raise ValueError(f"labels must lie in [0, {N_CLASSES}), got [{y.min().item()}, {y.max().item()}]")
        return nn.functional.one_hot(y, N_CLASSES).float()
    if y.ndim != 2 or y.shape[1] != condition_dim:
        raise ValueError(f"a float condition must have shape (B, {condition_dim}), got {tuple(y.shape)}")
    return y


class ConditionalGenerator(nn.Module):
    """(z (B, latent_dim), y) -> (B, 1, 28, 28) in [-1, 1]: the lean DCGAN generator fed cat(z, y).

    The layers are ``LeanDCGANGenerator``'s, built in the same order (a subclass would first build and then
    discard a projection of z alone, which draws random numbers and changes every seed's initialisation).
    """

    def __init__(self, latent_dim: int = 64, condition_dim: int = N_CLASSES, width: int = 64) -> None:
        super().__init__()
        self.latent_dim, self.condition_dim, self.width = latent_dim, condition_dim, width
        self.project = nn.Linear(latent_dim + condition_dim, 2 * width * 7 * 7, bias=False)
        self.net = nn.Sequential(
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # (B, w, 14, 14)
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        zy = torch.cat([z, as_condition(y, self.condition_dim).to(z.dtype)], dim=1)
        return self.net(self.project(zy).view(-1, 2 * self.width, 7, 7))


def _features(in_channels: int, width: int) -> nn.Sequential:
    """The lean discriminator's body: (B, in_channels, 28, 28) -> phi (B, 2 width 7 7)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # (B, w, 14, 14)
        nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False),  # (B, 2w, 7, 7)
        nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
        nn.Flatten(),
    )


class ConcatDiscriminator(nn.Module):
    """(x (B, 1, 28, 28), y) -> logits (B,): y stacked onto x as ``condition_dim`` constant 28x28 maps."""

    def __init__(self, condition_dim: int = N_CLASSES, width: int = 32) -> None:
        super().__init__()
        self.condition_dim = condition_dim
        self.phi = _features(1 + condition_dim, width)
        self.psi = nn.Linear(2 * width * 7 * 7, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = as_condition(y, self.condition_dim).to(x.dtype)
        maps = y[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, C, 28, 28), no copy
        return self.psi(self.phi(torch.cat([x, maps], dim=1))).squeeze(1)


class ProjectionDiscriminator(nn.Module):
    """(x (B, 1, 28, 28), y) -> logits (B,) = psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018)."""

    def __init__(self, condition_dim: int = N_CLASSES, width: int = 32) -> None:
        super().__init__()
        self.condition_dim = condition_dim
        self.phi = _features(1, width)
        self.psi = nn.Linear(2 * width * 7 * 7, 1)
        self.embed = nn.Linear(condition_dim, 2 * width * 7 * 7, bias=False)  # one row of V per class

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        features = self.phi(x)  # (B, F)
        y = as_condition(y, self.condition_dim).to(features.dtype)
        return self.psi(features).squeeze(1) + (self.embed(y) * features).sum(dim=1)


# ------------------------------------------------------------------------------------------------ training


def discriminator_step(
    G: nn.Module, D: nn.Module, opt_d: torch.optim.Optimizer, real: torch.Tensor, y_real: torch.Tensor,
    z: torch.Tensor, y_fake: torch.Tensor, y_mismatch: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One update of D on -[log D(x, y) + log(1 - D(G(z, y'), y'))]; returns (loss, real logits, fake logits).

    ``y_mismatch`` (Reed et al. 2016's matching-aware D): conditions that do not belong to ``real``; then the
    fake term becomes the mean of log(1 - D(G(z, y'), y')) and log(1 - D(x, y_mismatch)).
    """
    with torch.no_grad():
        fake = G(z, y_fake)
    real_logits, fake_logits = D(real, y_real), D(fake, y_fake)
    bce = nn.functional.binary_cross_entropy_with_logits
    fake_term = bce(fake_logits, torch.zeros_like(fake_logits))
    if y_mismatch is not None:
        mismatch_logits = D(real, y_mismatch)
        fake_term = (fake_term + bce(mismatch_logits, torch.zeros_like(mismatch_logits))) / 2
    loss = bce(real_logits, torch.ones_like(real_logits)) + fake_term
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return loss.detach(), real_logits.detach(), fake_logits.detach()


def generator_step(
    G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, z: torch.Tensor, y_fake: torch.Tensor
) -> torch.Tensor:
    """One update of G on the non-saturating loss -log D(G(z, y), y); D's weights get no gradient."""
    with frozen(D):
        loss = generator_loss_nonsaturating(D(G(z, y_fake), y_fake))
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    return loss.detach()


class ConditionalTrainer:
    """Algorithm 1 with conditions (k = 1): real images travel with ``conditions`` (aligned with ``real``);
    fake conditions are those of randomly drawn training digits.

    ``real``: (N, 1, 28, 28) in [-1, 1] on ``device``; ``conditions``: (N,) int64 labels or (N, C) float.
    """

    def __init__(self, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                 real: torch.Tensor, conditions: torch.Tensor, batch_size: int = 32,
                 matching_aware: bool = False, device: torch.device | str = "cpu") -> None:
        if len(real) != len(conditions):
            raise ValueError(f"real ({len(real)}) and conditions ({len(conditions)}) must be aligned")
        if real.device != torch.device(device) or conditions.device != torch.device(device):
            raise ValueError(f"real and conditions must be on {device}: move them once, up front")
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        self.real, self.conditions, self.batch_size = real, conditions, batch_size
        self.matching_aware, self.device = matching_aware, torch.device(device)
        self.step, self.history = 0, History()  # the unconditional loop's record

    def _draw(self) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(len(self.real), (self.batch_size,), device=self.device)
        return self.real[index], self.conditions[index]

    def _draw_conditions(self) -> torch.Tensor:
        return self.conditions[torch.randint(len(self.real), (self.batch_size,), device=self.device)]

    def _mismatch(self, y: torch.Tensor) -> torch.Tensor:
        """Conditions of another digit: each label shifted by 1-9 classes (attributes kept)."""
        shift = torch.randint(1, N_CLASSES, (len(y),), device=y.device)
        if not y.is_floating_point():
            return (y + shift) % N_CLASSES
        labels = (y[:, :N_CLASSES].argmax(1) + shift) % N_CLASSES
        return torch.cat([nn.functional.one_hot(labels, N_CLASSES).to(y.dtype), y[:, N_CLASSES:]], dim=1)

    def iteration(self) -> torch.Tensor:
        """One D step and one G step; returns (4,) detached: d_loss, g_loss, mean D(x, y), mean D(G(z, y'), y')."""
        real, y_real = self._draw()
        z, y_fake = torch.randn(self.batch_size, self.G.latent_dim, device=self.device), self._draw_conditions()
        mismatch = self._mismatch(y_real) if self.matching_aware else None
        d_loss, real_logits, fake_logits = discriminator_step(self.G, self.D, self.opt_d, real, y_real, z, y_fake,
                                                              mismatch)
        z, y_fake = torch.randn(self.batch_size, self.G.latent_dim, device=self.device), self._draw_conditions()
        g_loss = generator_step(self.G, self.D, self.opt_g, z, y_fake)
        return torch.stack([d_loss, g_loss, torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()])

    def train(self, steps: int, desc: str = "conditional GAN", progress: bool = True) -> History:
        """Run ``steps`` more iterations; raises ``FloatingPointError`` if a loss stops being finite."""
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        self.G.train()
        self.D.train()
        started = time.perf_counter() - (self.history.wall_time[-1] if self.history.wall_time else 0.0)
        rows = []
        for _ in tqdm(range(steps), desc=desc, disable=not progress):
            rows.append(self.iteration())
            self.step += 1
        if rows:
            values = torch.stack(rows).cpu()  # one host synchronisation per call
            if not torch.isfinite(values).all():
                raise FloatingPointError(f"a loss became NaN or inf between steps {self.step - steps} and "
                                         f"{self.step}: lower the learning rates or check the data range")
            now = time.perf_counter() - started
            for name, column in zip(("d_loss", "g_loss", "d_real", "d_fake"), values.T.tolist(), strict=True):
                getattr(self.history, name).extend(column)
            self.history.wall_time.extend([now] * len(rows))
            self.history.step.extend(range(self.step - len(rows) + 1, self.step + 1))
        return self.history


@torch.no_grad()
def generate_conditional(G: nn.Module, z: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """G(z, y) in eval mode (batch norm's running statistics), without gradients; G's mode is restored."""
    was_training = G.training
    G.eval()
    try:
        return torch.cat([G(z[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(z), batch_size)])
    finally:
        G.train(was_training)


# ------------------------------------------------------------------------------------------------ measuring


def conditions_per_class(conditions: torch.Tensor, labels: torch.Tensor, per_class: int = 100,
                         seed: int = 7) -> torch.Tensor:
    """``per_class`` conditions of each digit, drawn without replacement from training digits of that class.

    ``conditions`` (N, C) or (N,) aligned with ``labels`` (N,); returns (10 per_class, ...) ordered by class.
    """
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for digit in range(N_CLASSES):
        members = (labels.cpu() == digit).nonzero().squeeze(1)
        if len(members) < per_class:
            raise ValueError(f"digit {digit} has {len(members)} training digits, fewer than {per_class}")
        rows.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return conditions[torch.cat(rows).to(conditions.device)]


def recognised(probabilities: torch.Tensor, asked: torch.Tensor) -> torch.Tensor:
    """Per digit, the share of samples asked for that digit that the classifier reads as it: (10,) in [0, 1].

    ``probabilities`` (N, 10) of the frozen classifier, ``asked`` (N,) int64 digits.
    """
    probabilities, asked = torch.as_tensor(probabilities), torch.as_tensor(asked).cpu()
    hits = (probabilities.argmax(1) == asked).double()
    counts = torch.bincount(asked, minlength=N_CLASSES)
    if (counts == 0).any():
        raise ValueError(f"every digit must be asked for at least once; counts {counts.tolist()}")
    return torch.bincount(asked, weights=hits, minlength=N_CLASSES) / counts


def conditional_report(samples: torch.Tensor, conditions: torch.Tensor, reference: torch.Tensor,
                       reference_labels: torch.Tensor, training_attributes: torch.Tensor | None = None) -> dict:
    """How well samples follow their conditions, judged by the frozen classifier against held-out digits.

    ``samples`` (N, 1, 28, 28) in [-1, 1] made from ``conditions`` (N, 10 + A) (or labels (N,)); ``reference``
    (M, 1, 28, 28) real digits with ``reference_labels`` (M,). Keys: everything ``digit_report`` gives;
    "recognised" (10,) per asked-for digit and its "min recognised"; "class FD" (10,), each digit's samples
    against the reference digits of that class (at 100 per class this is biased upwards, so compare it only
    with values at the same size); with ``training_attributes`` (M', 2) and A = 2 also "thickness rho" and
    "slant rho", Spearman's correlation between requested ranks and the attributes measured on the samples.
    """
    from scipy.stats import spearmanr

    from gancourse.attributes import measure
    from gancourse.metrics import classifier_outputs, digit_report, frechet_distance

    asked = conditions[:, :N_CLASSES].argmax(1) if conditions.is_floating_point() else conditions
    asked = asked.cpu()
    report = digit_report(samples, reference)
    _, probabilities = classifier_outputs(samples)
    report["recognised"] = recognised(torch.from_numpy(probabilities), asked)
    report["min recognised"] = float(report["recognised"].min())
    ref_labels = reference_labels.cpu()
    report["class FD"] = torch.tensor([
        frechet_distance(samples[(asked == d).to(samples.device)], reference[(ref_labels == d).to(reference.device)])
        for d in range(N_CLASSES)
    ])
    if training_attributes is not None and conditions.is_floating_point() and conditions.shape[1] == N_CLASSES + 2:
        measured = measure(samples).cpu()
        requested = conditions[:, N_CLASSES:].cpu()
        for column, name in enumerate(("thickness", "slant")):
            report[f"{name} rho"] = float(spearmanr(requested[:, column], measured[:, column]).statistic)
    return report
