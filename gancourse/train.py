"""The reusable GAN training loop: Algorithm 1 of Goodfellow et al. (2014) with the bookkeeping a course needs.

Per iteration: ``k`` discriminator steps (each on a fresh real batch and a fresh, detached fake batch), then one
generator step; ``discriminator_step`` and ``generator_step`` below are the two halves, and the objective
(``gancourse.objectives``: non-saturating BCE, hinge, Wasserstein with clipping or gradient penalty, R1) is an
argument, not a fork of the loop. During the generator step the discriminator's parameters are frozen: the
gradient still flows through D to G, but D's own weight gradients (which the next D step would discard) are never
computed. With ``labels`` the loop is conditional: real batches travel with their labels, fake batches get labels
drawn from the data's, and the networks are called ``G(z, y)``, ``D(x, y)``.

Losses and mean discriminator outputs are kept on the device and copied to the host once every ``log_every``
steps (one synchronisation, not one per step); that is also when the NaN/inf guard looks at them. Checkpoints
(``gancourse.checkpoint``) hold both networks, both optimisers, the step, the history and the RNG states.
Options that only buy speed live in ``gancourse.fast``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from tqdm.auto import tqdm

from gancourse.checkpoint import CheckpointError, load_checkpoint, save_atomic
from gancourse.models import generate
from gancourse.objectives import NonSaturating, Objective, judge

__all__ = ["CheckpointError", "GANTrainer", "History", "NonFiniteLossError", "TrainConfig", "discriminator_step",
           "frozen", "generator_step", "linear_decay", "load_checkpoint", "save_atomic", "training_flops"]

RealSource = torch.Tensor | Callable[[int], torch.Tensor]
# what each iteration records; "score" is D's raw output (a logit, or a critic value for the Wasserstein losses)
_COLUMNS = ("d_loss", "g_loss", "d_real", "d_fake", "real_score", "fake_score", "penalty")


# Discriminator step (the inner loop of Algorithm 1). For the non-saturating objective
#     minimise  L_D = -[E log D(x) + E log(1 - D(G(z)))] + R(D)
# where R is the objective's penalty (R1, gradient penalty; none by default); other objectives swap L_D.
# The fake batch arrives detached, so no gradient reaches G.
def discriminator_step(
    D: nn.Module, opt_d: torch.optim.Optimizer, objective: Objective, real: torch.Tensor, fake: torch.Tensor,
    real_condition: torch.Tensor | None = None, fake_condition: torch.Tensor | None = None,
    penalty_weight: float = 1.0,
) -> torch.Tensor:
    """One optimiser step of D on a real and a fake batch (B, ...). Returns (6,) detached: the loss D minimised
    (penalty included), mean sigmoid(s(x)), mean sigmoid(s(G(z))), mean s(x), mean s(G(z)), the penalty.
    In a conditional run the penalty is evaluated with the real batch's conditions. ``penalty_weight`` multiplies
    the objective's penalty; 0 skips computing it (lazy regularisation, see ``TrainConfig.penalty_every``)."""
    real_scores = judge(D, real, real_condition).float()
    fake_scores = judge(D, fake, fake_condition).float()
    loss = objective.d_loss(real_scores, fake_scores)
    penalty = objective.penalty(D, real, fake, real_condition) if penalty_weight else None
    if penalty is not None:
        penalty = penalty_weight * penalty  # exact for weight 1: the eager loop's numbers do not change
        loss = loss + penalty
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    objective.after_d_step(D)  # e.g. WGAN's weight clipping
    means = [s.mean() for s in (torch.sigmoid(real_scores), torch.sigmoid(fake_scores), real_scores, fake_scores)]
    return torch.stack([loss, *means, loss.new_zeros(()) if penalty is None else penalty]).detach()


# Generator step (the last line of Algorithm 1). For the non-saturating objective
#     minimise  L_G = -E log D(G(z))
# with D's weights frozen: the gradient flows through D into G but is not computed for D's parameters.
def generator_step(
    G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, objective: Objective, z: torch.Tensor,
    condition: torch.Tensor | None = None,
) -> torch.Tensor:
    """One optimiser step of G on noise z (B, latent_dim); returns its loss, detached."""
    fake = judge(G, z, condition)
    with frozen(D):
        scores = judge(D, fake, condition).float()
    loss = objective.g_loss(scores)
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    return loss.detach()


@dataclass
class TrainConfig:
    """Settings of the loop. ``k`` discriminator steps per generator step (k in Algorithm 1).

    ``penalty_every`` n > 1 is lazy regularisation (Karras et al. 2020, StyleGAN2): the objective's penalty (R1,
    gradient penalty) is computed on discriminator steps 0, n, 2n, ... of the run only, multiplied by n, so its
    weight per step is the same on average and its cost (a forward pass and double backpropagation) is paid 1/n as
    often. The penalty joins that step's loss, so the number of optimiser steps does not change (StyleGAN2 takes a
    separate optimiser step for it, which is why it rescales Adam's learning rate and betas; here nothing needs
    rescaling). Under Adam the n-fold term is not exactly equivalent to the eager one; StyleGAN2 found no harm
    by experiment. ``History`` records each iteration's last D step, so with k > 1 a penalty computed on an
    earlier D step of the iteration does not show in its ``penalty`` column (k = n = 5 never shows it).
    """

    objective: Objective = field(default_factory=NonSaturating)
    batch_size: int = 64
    k: int = 1
    log_every: int = 25
    snapshot_at: Sequence[int] = ()
    n_fixed: int = 64  # size of the fixed-noise batch used for snapshots
    fixed_noise_seed: int = 1234
    progress: bool = True
    value_range: tuple[float, float] | None = (-1.0, 1.0)  # checked on a data tensor; None skips the check
    lr_factor: Callable[[int], float] | None = None  # step -> multiplier of both optimisers' initial lr
    penalty_every: int = 1  # lazy regularisation: the penalty on every n-th D step only, weighted n

    def __post_init__(self) -> None:
        if not isinstance(self.objective, Objective):
            raise TypeError(f"objective must be a gancourse.objectives.Objective, got {self.objective!r}")
        if self.k < 1:
            raise ValueError(f"k (discriminator steps per generator step) must be >= 1, got {self.k}")
        if self.batch_size < 1 or self.log_every < 1 or self.penalty_every < 1:
            raise ValueError("batch_size, log_every and penalty_every must be >= 1")


@dataclass
class History:
    """Per-step records (columns of ``_COLUMNS``: losses, mean sigmoid(s) and mean raw score s of D on the real and
    the fake batch of the step's last D step, the weighted penalty), wall time; fixed-noise samples at chosen steps.
    """

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    real_score: list[float] = field(default_factory=list)
    fake_score: list[float] = field(default_factory=list)
    penalty: list[float] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)

    @property
    def wasserstein_estimate(self) -> list[float]:
        """E s(x) - E s(G(z)) per step: a WGAN critic's estimate of the Wasserstein distance (Arjovsky et al.)."""
        return [r - f for r, f in zip(self.real_score, self.fake_score, strict=True)]

    def to_state(self) -> dict:
        return {name: getattr(self, name) for name in ("step", *_COLUMNS, "wall_time")} | {
            "snapshots": {str(k): v for k, v in self.snapshots.items()}
        }

    @classmethod
    def from_state(cls, state: dict) -> History:
        snapshots = {int(k): v for k, v in state.pop("snapshots").items()}
        return cls(**state, snapshots=snapshots)


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite."""


class GANTrainer:
    """Trains ``generator`` against ``discriminator`` (which returns raw scores: logits or critic values).

    ``real`` is either a tensor of samples (N, ...) already on the device, indexed at random each step, or a
    callable ``n -> (n, ...)`` that draws fresh samples (toy distributions). ``latent_dim`` gives z ~ N(0, I).
    ``labels`` (only with a tensor ``real``): int64 (N,) classes or float (N, C) attributes aligned with ``real``;
    then the networks are called ``G(z, y)`` and ``D(x, y)``, and snapshots use fixed conditions too.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        real: RealSource,
        latent_dim: int,
        config: TrainConfig | None = None,
        device: torch.device | str = "cpu",
        labels: torch.Tensor | None = None,
    ) -> None:
        self.G, self.D, self.opt_g, self.opt_d = generator, discriminator, opt_g, opt_d
        self.config = config or TrainConfig()
        self.device = torch.device(device)
        self.latent_dim = latent_dim
        self.real, self.labels = real, labels
        if isinstance(real, torch.Tensor):
            self._check_data_tensor(real)
        if labels is not None:
            self._check_labels(labels)
        self.step = 0
        self.history = History()
        fixed = torch.Generator().manual_seed(self.config.fixed_noise_seed)
        self.fixed_z = torch.randn(self.config.n_fixed, latent_dim, generator=fixed).to(self.device)
        self.fixed_condition = None if labels is None else self._fixed_conditions(self.config.n_fixed, fixed)
        self._check_shapes()

    # ------------------------------------------------------------------ input checks

    def _check_data_tensor(self, data: torch.Tensor) -> None:
        if not data.is_floating_point():
            raise TypeError(f"data must be a floating-point tensor, got {data.dtype}")
        if data.device != self.device:
            raise ValueError(f"data is on {data.device} but training runs on {self.device}: move it once, up front")
        if self.config.value_range is not None:
            lo, hi = self.config.value_range
            low, high = data.min().item(), data.max().item()
            if low < lo or high > hi:
                raise ValueError(
                    f"data values span [{low:.3g}, {high:.3g}], outside [{lo}, {hi}]: scale images to [-1, 1] "
                    "to match a tanh generator (or set value_range=None for other data)"
                )

    def _check_labels(self, labels: torch.Tensor) -> None:
        if not isinstance(self.real, torch.Tensor):
            raise TypeError("labels need a data tensor to align with, not a sampling function")
        if len(labels) != len(self.real) or labels.device != self.real.device:
            raise ValueError(f"labels must align with the data: {len(labels)} labels on {labels.device} for "
                             f"{len(self.real)} samples on {self.real.device}")
        classes = labels.dtype == torch.int64 and labels.ndim == 1
        if not (classes or (labels.is_floating_point() and labels.ndim == 2)):
            raise TypeError(f"labels must be int64 (N,) classes or float (N, C) attributes, got {labels.dtype} "
                            f"{tuple(labels.shape)}")

    def _fixed_conditions(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """Classes 0, 1, 2, ... in turn for class labels; attributes drawn from the data's for float labels."""
        if self.labels.dtype == torch.int64:
            return (torch.arange(n) % (int(self.labels.max()) + 1)).to(self.device)
        return self.labels[torch.randint(len(self.labels), (n,), generator=rng).to(self.labels.device)]

    def _check_shapes(self) -> None:
        condition = None if self.fixed_condition is None else self.fixed_condition[:2]
        fake = generate(self.G, self.fixed_z[:2], condition)
        real = self.sample_real(2)
        if fake.shape[1:] != real.shape[1:]:
            raise ValueError(
                f"generator output has shape {tuple(fake.shape[1:])} per sample but the data have "
                f"{tuple(real.shape[1:])}: the discriminator cannot take both"
            )

    # ------------------------------------------------------------------ sampling

    def sample_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n real samples and their labels (None without labels)."""
        if isinstance(self.real, torch.Tensor):
            index = torch.randint(len(self.real), (n,), device=self.real.device)
            return self.real[index], None if self.labels is None else self.labels[index]
        return self.real(n).to(self.device), None

    def sample_real(self, n: int) -> torch.Tensor:
        return self.sample_batch(n)[0]

    def sample_conditions(self, n: int) -> torch.Tensor | None:
        """Conditions for n fake samples, drawn from the data's labels (so in the data's proportions); None
        without labels (and then no random number is drawn)."""
        if self.labels is None:
            return None
        return self.labels[torch.randint(len(self.labels), (n,), device=self.labels.device)]

    def sample_latent(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device)

    # ------------------------------------------------------------------ one iteration of Algorithm 1

    def _iteration(self) -> torch.Tensor:
        """k D-steps then one G-step; returns (len(_COLUMNS),) detached statistics."""
        cfg, n = self.config, self.config.batch_size
        self._schedule_learning_rates()
        for i in range(cfg.k):
            real, real_y = self.sample_batch(n)
            fake_y = self.sample_conditions(n)
            with torch.no_grad():  # D's step must not reach G
                fake = judge(self.G, self.sample_latent(n), fake_y)
            d_stats = discriminator_step(self.D, self.opt_d, cfg.objective, real, fake, real_y, fake_y,
                                         self.penalty_weight(i))
        y = self.sample_conditions(n)
        g_loss = generator_step(self.G, self.D, self.opt_g, cfg.objective, self.sample_latent(n), y)
        return torch.cat([d_stats[:1], g_loss[None], d_stats[1:]])

    def penalty_weight(self, i: int) -> float:
        """The penalty's weight in this iteration's D step ``i`` (0 <= i < k): ``penalty_every`` on every
        ``penalty_every``-th D step of the run, counted from the first, else 0 (see ``TrainConfig``)."""
        every = self.config.penalty_every
        return float(every) if (self.step * self.config.k + i) % every == 0 else 0.0

    def _schedule_learning_rates(self) -> None:
        if self.config.lr_factor is None:
            return
        factor = self.config.lr_factor(self.step)
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])  # saved with the optimiser's state: resume-safe
                group["lr"] = group["initial_lr"] * factor

    def snapshot(self) -> torch.Tensor:
        """G(fixed noise) (with the fixed conditions, if any) in eval mode, on the CPU: (n_fixed, ...)."""
        return generate(self.G, self.fixed_z, self.fixed_condition).cpu()

    def _flush(self, buffer: list[torch.Tensor], first_step: int, started: float) -> None:
        values = torch.stack(buffer).cpu()  # one host synchronisation per log interval
        finite = torch.isfinite(values)
        if not finite.all():
            row, col = (~finite).nonzero()[0].tolist()
            raise NonFiniteLossError(
                f"{_COLUMNS[col]} became {values[row, col].item()} at step {first_step + row + 1}: "
                "lower the learning rates, check the data range, or resume from the last checkpoint"
            )
        now = time.perf_counter() - started
        h = self.history
        for i, row in enumerate(values.tolist()):
            h.step.append(first_step + i + 1)
            for name, value in zip(_COLUMNS, row, strict=True):
                getattr(h, name).append(value)
            h.wall_time.append(now)
        buffer.clear()

    def train(self, steps: int, desc: str = "training") -> History:
        """Run ``steps`` more iterations (continuing from ``self.step``); returns the (growing) history."""
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        self.G.train()
        self.D.train()
        cfg, buffer = self.config, []
        started = time.perf_counter() - (self.history.wall_time[-1] if self.history.wall_time else 0.0)
        first = self.step
        bar = tqdm(total=steps, desc=desc, disable=not cfg.progress, leave=True)
        for _ in range(steps):
            buffer.append(self._iteration())
            self.step += 1
            if self.step in cfg.snapshot_at:
                self.history.snapshots[self.step] = self.snapshot()
            if len(buffer) == cfg.log_every:
                self._flush(buffer, first, started)
                first = self.step
                h = self.history
                bar.set_postfix(d_loss=f"{h.d_loss[-1]:.3f}", g_loss=f"{h.g_loss[-1]:.3f}", refresh=False)
                bar.update(cfg.log_every)
        if buffer:
            self._flush(buffer, first, started)
        bar.update(steps - bar.n)
        bar.close()
        return self.history

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict:
        state = {
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "step": self.step,
            "history": self.history.to_state(),
            "rng_cpu": torch.get_rng_state(),
        }
        if self.device.type == "cuda":  # this process's GPU only: under torchrun each rank restores its own
            state["rng_cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        self.history = History.from_state(dict(state["history"]))
        torch.set_rng_state(state["rng_cpu"].cpu())  # RNG states are CPU byte tensors, wherever map_location put them
        if "rng_cuda" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng_cuda"].cpu(), self.device)

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint atomically: a temporary file in the same folder, then an atomic rename."""
        return save_atomic(self.state_dict(), path)

    def load(self, path: str | Path) -> None:
        """Restore everything ``save`` wrote; raises ``CheckpointError`` naming the file if it is unreadable."""
        self.load_state_dict(load_checkpoint(path, map_location=self.device))


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """Inside the block, ``module``'s parameters do not require gradients; those that did are restored after.

    Graphs built inside still carry gradients *through* the module to its inputs, not to its weights.
    """
    unfrozen = [p for p in module.parameters() if p.requires_grad]
    for p in unfrozen:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p in unfrozen:
            p.requires_grad_(True)


def linear_decay(total_steps: int, start: float = 0.5, floor: float = 0.0) -> Callable[[int], float]:
    """Learning-rate factor: 1 until ``start`` x ``total_steps``, then linearly down to ``floor`` at the end."""
    begin = int(start * total_steps)

    def factor(step: int) -> float:
        if step < begin:
            return 1.0
        return max(floor, 1.0 - (1.0 - floor) * (step - begin) / max(1, total_steps - begin))

    return factor


def training_flops(
    generator: nn.Module, discriminator: nn.Module, sample_shape: Sequence[int], config: TrainConfig | None = None,
    trainer_class: type[GANTrainer] | None = None,
) -> int:
    """Floating-point operations of one training iteration (k D-steps and one G-step, forward and backward) of
    ``trainer_class`` (default ``GANTrainer``).

    Counted by ``torch.utils.flop_counter`` on copies of the networks, so the originals, their optimisers and the
    random number generators are left as they were. Exact and machine-independent, unlike a timing. The counted
    iteration is the first, which carries the penalty even when ``penalty_every`` > 1 (the eager cost).
    """
    config = config or TrainConfig()
    G, D = copy.deepcopy(generator).cpu(), copy.deepcopy(discriminator).cpu()
    data = torch.zeros(config.batch_size, *sample_shape)
    counting = dataclasses.replace(config, progress=False, snapshot_at=())
    with torch.random.fork_rng(devices=[]):
        trainer = (trainer_class or GANTrainer)(G, D, torch.optim.Adam(G.parameters()),
                                                torch.optim.Adam(D.parameters()), data, G.latent_dim, counting)
        with FlopCounterMode(display=False) as counter:
            trainer.train(1)
    return counter.get_total_flops()
