"""The reusable GAN training loop: Algorithm 1 of Goodfellow et al. (2014) with the bookkeeping a course needs.

Per iteration (``GANTrainer.iteration``, the one loop of the package): ``k`` discriminator steps (each on a fresh
real batch and a fresh, detached fake batch), then one generator step; ``discriminator_step`` and
``generator_step`` below are the two halves, and the objective (``gancourse.objectives``: non-saturating BCE, hinge,
Wasserstein with clipping or gradient penalty, R1) is an argument, not a fork of the loop. During the generator
step the discriminator's parameters are frozen: the gradient still flows through D to G, but D's own weight
gradients (which the next D step would discard) are never computed. With ``conditions`` the loop is conditional:
real batches travel with their conditions (classes or attributes), fake batches get conditions drawn from the
data's, and the networks are called ``G(z, y)``, ``D(x, y)``.

Two options are meant only for speed and are off by default (``TrainConfig``); both change the numbers, and the
first changes the algorithm: ``reuse_fakes`` (G's step backpropagates through the last D step's fake batch instead of
fresh noise, one G forward pass fewer, as pytorch/examples' DCGAN does) and ``autocast=torch.bfloat16`` (forward
passes under ``torch.autocast``; weights, optimiser state, losses and penalties stay float32). What the iteration
calls is held in ``GANTrainer.called`` (G, D in D's step, D in G's step, the objective), so autocast and
``gancourse.distributed``'s DistributedDataParallel wrap the networks there and the iteration stays the same.

Remedies are settings of the same loop: the objective (``gancourse.objectives``), gradient-norm clipping
(``max_grad_norm``, ``torch.nn.utils.clip_grad_norm_``; the norms before clipping are recorded either way) and a
differentiable augmentation of every image D sees, real and fake, in both players' steps (``augment``).

Losses and mean discriminator outputs are kept on the device and copied to the host once every ``log_every``
iterations (one synchronisation, not one per iteration); that is also when the NaN/inf guard looks at them.
Learning-rate schedules are ``torch.optim.lr_scheduler`` objects, stepped once per iteration. Checkpoints
(``gancourse.checkpoint``) hold both networks, both optimisers, the schedulers, the iteration count, the history
and the RNG states.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau
from torch.utils.flop_counter import FlopCounterMode
from tqdm.auto import tqdm

from gancourse.checkpoint import CheckpointError, load_checkpoint, save_atomic
from gancourse.models import generate
from gancourse.objectives import NonSaturating, Objective, PenaltyOn, call_network

__all__ = ["Autocast", "CalledModules", "GANTrainer", "History", "NonFiniteLossError", "TrainConfig",
           "discriminator_step", "frozen", "generator_step", "linear_decay", "training_flops"]

RealSource = torch.Tensor | Callable[[int], torch.Tensor]
# what each iteration records; "score" is D's raw output (a logit, or a critic value for the Wasserstein losses)
STATISTICS = ("d_loss", "g_loss", "d_real", "d_fake", "real_score", "fake_score", "penalty", "d_grad_norm",
              "g_grad_norm")
FIXED_NOISE_SEED = 1234  # the snapshots' noise: the same vectors in every run


# Discriminator step (the inner loop of Algorithm 1). For the non-saturating objective
#     minimise  L_D = -[E log D(x) + E log(1 - D(G(z)))] + R(D)
# where R is the objective's penalty (R1, gradient penalty; none by default); other objectives swap L_D.
# The fake batch arrives detached, so no gradient reaches G.
def discriminator_step(
    D: nn.Module, opt_d: torch.optim.Optimizer, objective: Objective, real: torch.Tensor, fake: torch.Tensor,
    real_condition: torch.Tensor | None = None, fake_condition: torch.Tensor | None = None,
    penalty_weight: float = 1.0, max_grad_norm: float | None = None,
) -> dict[str, torch.Tensor]:
    """One optimiser step of D on a real and a fake batch (B, ...). Returns detached scalars by name: ``d_loss``
    (what D minimised, penalty included), ``d_real`` and ``d_fake`` (mean sigmoid(s(x)) and sigmoid(s(G(z)))),
    ``real_score`` and ``fake_score`` (mean raw scores s(x), s(G(z))), ``penalty`` (weighted; 0 without one),
    ``d_grad_norm`` (the L2 norm of D's whole gradient before clipping). ``penalty_weight`` multiplies the
    objective's penalty; 0 skips computing it (lazy regularisation, see ``TrainConfig.penalty_every``).
    ``max_grad_norm``: rescale the gradient to at most this norm before the update (None: no clipping)."""
    real_scores = call_network(D, real, real_condition).float()
    fake_scores = call_network(D, fake, fake_condition).float()
    loss = objective.d_loss(real_scores, fake_scores)
    penalty = objective.penalty(D, real, fake, real_condition, fake_condition) if penalty_weight else None
    if penalty is not None:
        penalty = penalty_weight * penalty  # exact for weight 1: the eager loop's numbers do not change
        loss = loss + penalty
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = _clip_gradient(opt_d, max_grad_norm)
    opt_d.step()
    objective.after_d_step(D)  # e.g. WGAN's weight clipping
    return {"d_loss": loss.detach(), "d_real": torch.sigmoid(real_scores).mean().detach(),
            "d_fake": torch.sigmoid(fake_scores).mean().detach(), "real_score": real_scores.mean().detach(),
            "fake_score": fake_scores.mean().detach(),
            "penalty": loss.new_zeros(()) if penalty is None else penalty.detach(), "d_grad_norm": grad_norm}


# Generator step (the last line of Algorithm 1). For the non-saturating objective
#     minimise  L_G = -E log D(G(z))
# with D's weights frozen: the gradient flows through D into G but is not computed for D's parameters.
def generator_step(
    D: nn.Module, opt_g: torch.optim.Optimizer, objective: Objective, fake: torch.Tensor,
    fake_condition: torch.Tensor | None = None, real: torch.Tensor | None = None,
    real_condition: torch.Tensor | None = None, max_grad_norm: float | None = None,
) -> dict[str, torch.Tensor]:
    """One optimiser step of G on its fake batch ``fake`` = G(z) (B, ...), computed with gradients (its graph
    reaches G's parameters, which ``opt_g`` updates); ``real`` only for an objective that ``needs_real_in_g_step``.
    Returns detached scalars by name: ``g_loss`` and ``g_grad_norm`` (before clipping at ``max_grad_norm``)."""
    with frozen(D):
        loss = objective.generator_loss(D, fake, fake_condition, real, real_condition)
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = _clip_gradient(opt_g, max_grad_norm)
    opt_g.step()
    return {"g_loss": loss.detach(), "g_grad_norm": grad_norm}


def _clip_gradient(optimizer: torch.optim.Optimizer, max_norm: float | None) -> torch.Tensor:
    """The L2 norm of the gradient of everything ``optimizer`` updates, before clipping it to ``max_norm`` (None:
    no clipping, and the gradient is left as it is: scaled by exactly 1), detached, on the device."""
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    return torch.nn.utils.clip_grad_norm_(parameters, math.inf if max_norm is None else max_norm).detach()


class GANTrainer:
    """Trains ``generator`` against ``discriminator`` (which returns raw scores: logits or critic values).

    ``real`` is either a tensor of samples (N, ...) already on the device, indexed at random each iteration, or a
    callable ``n -> (n, ...)`` that draws fresh samples (toy distributions). ``latent_dim`` gives z ~ N(0, I).
    ``conditions`` (only with a tensor ``real``): int64 (N,) classes or float (N, C) attributes aligned with
    ``real``; then the networks are called ``G(z, y)`` and ``D(x, y)``, and snapshots use fixed conditions too.
    ``schedulers``: ``torch.optim.lr_scheduler`` objects on ``opt_g`` / ``opt_d``, stepped after every iteration
    (so iteration i runs at the rate the schedule gives for i) and saved in checkpoints.
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
        conditions: torch.Tensor | None = None,
        schedulers: Sequence[LRScheduler] = (),
    ) -> None:
        self.G, self.D, self.opt_g, self.opt_d = generator, discriminator, opt_g, opt_d
        self.config = config or TrainConfig()
        self.device = torch.device(device)
        self.latent_dim = latent_dim
        self.real, self.conditions = real, conditions
        self.schedulers = self._checked_schedulers(schedulers)
        if isinstance(real, torch.Tensor):
            self._check_data_tensor(real)
        if conditions is not None:
            self._check_conditions(conditions)
        self.iterations = 0  # done so far
        self.history = History()
        fixed = torch.Generator().manual_seed(FIXED_NOISE_SEED)
        self.fixed_z = torch.randn(self.config.n_fixed, latent_dim, generator=fixed).to(self.device)
        self.fixed_condition = None if conditions is None else self._fixed_conditions(self.config.n_fixed, fixed)
        self._check_shapes()
        self.called = CalledModules.of(self.G, self.D, self.config, self.device)

    # ------------------------------------------------------------------ one iteration of Algorithm 1

    def iteration(self) -> dict[str, torch.Tensor]:
        """k D-steps, then one G-step, then the schedulers' step; counts the iteration and returns the
        ``STATISTICS`` by name (detached scalars on the device; D's are its last step's)."""
        cfg, n, nets, seen = self.config, self.config.batch_size, self.called, self._as_d_sees
        for i in range(cfg.k):
            real, real_y = self.sample_batch(n)
            fake_y = self.sample_conditions(n)
            keep_graph = cfg.reuse_fakes and i == cfg.k - 1  # kept for G's step, which reuses this batch
            with torch.set_grad_enabled(keep_graph):
                fake = call_network(nets.generator, self.sample_latent(n), fake_y)
            stats = discriminator_step(nets.discriminator, self.opt_d, nets.objective, seen(real), seen(fake.detach()),
                                       real_y, fake_y, self.penalty_weight(i), cfg.max_grad_norm)
        if not cfg.reuse_fakes:  # Algorithm 1: G's step on fresh noise
            fake_y = self.sample_conditions(n)
            fake = call_network(nets.generator, self.sample_latent(n), fake_y)
        real, real_y = self.sample_batch(n) if nets.objective.needs_real_in_g_step else (None, None)
        stats |= generator_step(nets.frozen_discriminator, self.opt_g, nets.objective, seen(fake), fake_y,
                                None if real is None else seen(real), real_y, cfg.max_grad_norm)
        for scheduler in self.schedulers:
            scheduler.step()
        self.iterations += 1
        return stats

    def _as_d_sees(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` as D sees them: through ``TrainConfig.augment`` when it is set (a fresh draw each call)."""
        return images if self.config.augment is None else self.config.augment(images)

    def penalty_weight(self, i: int) -> float:
        """The penalty's weight in this iteration's D step ``i`` (0 <= i < k): ``penalty_every`` on every
        ``penalty_every``-th D step of the run, counted from the first, else 0 (see ``TrainConfig``)."""
        every = self.config.penalty_every
        return float(every) if (self.iterations * self.config.k + i) % every == 0 else 0.0

    # ------------------------------------------------------------------ sampling

    def sample_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n real samples and their conditions (None without conditions)."""
        if isinstance(self.real, torch.Tensor):
            index = torch.randint(len(self.real), (n,), device=self.real.device)
            return self.real[index], None if self.conditions is None else self.conditions[index]
        return self.real(n).to(self.device), None

    def sample_conditions(self, n: int) -> torch.Tensor | None:
        """Conditions for n fake samples, drawn from the data's (so in the data's proportions); None without
        conditions (and then no random number is drawn)."""
        if self.conditions is None:
            return None
        return self.conditions[torch.randint(len(self.conditions), (n,), device=self.conditions.device)]

    def sample_latent(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device)

    # ------------------------------------------------------------------ input checks

    def _checked_schedulers(self, schedulers: Sequence[LRScheduler]) -> list[LRScheduler]:
        if isinstance(schedulers, LRScheduler | ReduceLROnPlateau):
            schedulers = [schedulers]
        for scheduler in schedulers:
            if isinstance(scheduler, ReduceLROnPlateau) or not isinstance(scheduler, LRScheduler):
                raise TypeError(f"schedulers must be torch.optim.lr_scheduler schedules stepped once per iteration "
                                f"(not ReduceLROnPlateau, which needs a metric), got {type(scheduler).__name__}")
            if scheduler.optimizer not in (self.opt_g, self.opt_d):
                raise ValueError("each scheduler must schedule opt_g or opt_d, the optimisers given to this trainer")
        return list(schedulers)

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

    def _check_conditions(self, conditions: torch.Tensor) -> None:
        if not isinstance(self.real, torch.Tensor):
            raise TypeError("conditions need a data tensor to align with, not a sampling function")
        if len(conditions) != len(self.real) or conditions.device != self.real.device:
            raise ValueError(f"conditions must align with the data: {len(conditions)} conditions on "
                             f"{conditions.device} for {len(self.real)} samples on {self.real.device}")
        classes = conditions.dtype == torch.int64 and conditions.ndim == 1
        if not (classes or (conditions.is_floating_point() and conditions.ndim == 2)):
            raise TypeError(f"conditions must be int64 (N,) classes or float (N, C) attributes, got "
                            f"{conditions.dtype} {tuple(conditions.shape)}")

    def _fixed_conditions(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """Classes 0, 1, 2, ... in turn for classes; attributes drawn from the data's for float conditions."""
        if self.conditions.dtype == torch.int64:
            return (torch.arange(n) % (int(self.conditions.max()) + 1)).to(self.device)
        return self.conditions[torch.randint(len(self.conditions), (n,), generator=rng).to(self.conditions.device)]

    def _check_shapes(self) -> None:
        condition = None if self.fixed_condition is None else self.fixed_condition[:2]
        fake = generate(self.G, self.fixed_z[:2], condition)
        real = GANTrainer.sample_batch(self, 2)[0]  # the plain draw, also in a subclass that shards batches
        if fake.shape[1:] != real.shape[1:]:
            raise ValueError(
                f"generator output has shape {tuple(fake.shape[1:])} per sample but the data have "
                f"{tuple(real.shape[1:])}: the discriminator cannot take both"
            )

    # ------------------------------------------------------------------ the run

    def snapshot(self) -> torch.Tensor:
        """G(fixed noise) (with the fixed conditions, if any) in eval mode, on the CPU: (n_fixed, ...)."""
        return generate(self.G, self.fixed_z, self.fixed_condition).cpu()

    def _show_progress(self) -> bool:
        """Whether ``train`` draws a progress bar (``gancourse.distributed``: on one process only)."""
        return self.config.progress

    def _mean_over_processes(self, values: torch.Tensor) -> torch.Tensor:
        """The statistics of one log interval (iterations, len(STATISTICS)); ``gancourse.distributed`` averages
        them over its processes."""
        return values

    def _flush(self, buffer: list[dict[str, torch.Tensor]], first: int, started: float) -> None:
        values = torch.stack([torch.stack([stats[name] for name in STATISTICS]) for stats in buffer])
        values = self._mean_over_processes(values).cpu()  # one host synchronisation per log interval
        finite = torch.isfinite(values)
        if not finite.all():
            row, col = (~finite).nonzero()[0].tolist()
            raise NonFiniteLossError(
                f"{STATISTICS[col]} became {values[row, col].item()} at iteration {first + row + 1}: "
                "lower the learning rates, check the data range, or resume from the last checkpoint"
            )
        now = time.perf_counter() - started
        h = self.history
        for i, row in enumerate(values.tolist()):
            h.iteration.append(first + i + 1)
            for name, value in zip(STATISTICS, row, strict=True):
                getattr(h, name).append(value)
            h.wall_time.append(now)
        buffer.clear()

    def train(self, iterations: int, desc: str = "training") -> History:
        """Run ``iterations`` more iterations (continuing from ``self.iterations``); returns the (growing) history."""
        if iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {iterations}")
        self.G.train()
        self.D.train()
        cfg, buffer = self.config, []
        started = time.perf_counter() - (self.history.wall_time[-1] if self.history.wall_time else 0.0)
        first = self.iterations
        bar = tqdm(total=iterations, desc=desc, disable=not self._show_progress(), leave=True)
        for _ in range(iterations):
            buffer.append(self.iteration())
            if self.iterations in cfg.snapshot_at:
                self.history.snapshots[self.iterations] = self.snapshot()
            if len(buffer) == cfg.log_every:
                self._flush(buffer, first, started)
                first = self.iterations
                h = self.history
                bar.set_postfix(d_loss=f"{h.d_loss[-1]:.3f}", g_loss=f"{h.g_loss[-1]:.3f}", refresh=False)
                bar.update(cfg.log_every)
        if buffer:
            self._flush(buffer, first, started)
        bar.update(iterations - bar.n)
        bar.close()
        return self.history

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict:
        state = {
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "schedulers": [scheduler.state_dict() for scheduler in self.schedulers],
            "iterations": self.iterations,
            "history": self.history.to_state(),
            "rng_cpu": torch.get_rng_state(),
        }
        if self.device.type == "cuda":  # this process's GPU only: under torchrun each rank restores its own
            state["rng_cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict) -> None:
        required = ("generator", "discriminator", "opt_g", "opt_d", "schedulers", "iterations", "history", "rng_cpu")
        missing = [key for key in required if key not in state]
        if missing:
            raise CheckpointError(f"the checkpoint lacks {', '.join(missing)}: it was not written by this version of "
                                  "GANTrainer.save; start a new run")
        if len(state["schedulers"]) != len(self.schedulers):
            raise ValueError(f"the checkpoint has {len(state['schedulers'])} learning-rate schedulers, this trainer "
                             f"{len(self.schedulers)}: build the trainer as the run that wrote it was built")
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for scheduler, saved in zip(self.schedulers, state["schedulers"], strict=True):
            scheduler.load_state_dict(saved)
        self.iterations = int(state["iterations"])
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


@dataclass(frozen=True)
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

    ``reuse_fakes`` and ``autocast`` are meant only for speed (module docstring); both change the numbers. float16
    autocast is refused: it needs loss scaling (a ``GradScaler``), which this loop does not do; bfloat16 has
    float32's range. The settings are fixed once a trainer is built (the dataclass is frozen).

    ``max_grad_norm``: clip each player's gradient to this L2 norm before its update (``clip_grad_norm_``).
    ``augment``: a differentiable ``images -> images`` map (e.g. ``gancourse.augment.DiffAugment``) applied to
    every batch D sees, real and fake, in D's steps and in G's (Zhao et al. 2020): G's gradient flows through it.
    """

    objective: Objective = field(default_factory=NonSaturating)
    batch_size: int = 64
    k: int = 1
    log_every: int = 25
    snapshot_at: Sequence[int] = ()  # iterations after which G(fixed noise) is kept in the history
    n_fixed: int = 64  # size of the fixed-noise batch used for snapshots
    progress: bool = True
    value_range: tuple[float, float] | None = (-1.0, 1.0)  # checked on a data tensor; None skips the check
    penalty_every: int = 1  # lazy regularisation: the penalty on every n-th D step only, weighted n
    reuse_fakes: bool = False  # G's step on the last D step's fake batch (speed; Algorithm 1 draws fresh noise)
    autocast: torch.dtype | None = None  # torch.bfloat16: forward passes under torch.autocast (speed)
    max_grad_norm: float | None = None  # clip both players' gradients to this norm (None: record the norm only)
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None  # what D sees: augment(images)

    def __post_init__(self) -> None:
        if not isinstance(self.objective, Objective):
            raise TypeError(f"objective must be a gancourse.objectives.Objective, got {self.objective!r}")
        if self.k < 1:
            raise ValueError(f"k (discriminator steps per generator step) must be >= 1, got {self.k}")
        if self.batch_size < 1 or self.log_every < 1 or self.penalty_every < 1:
            raise ValueError("batch_size, log_every and penalty_every must be >= 1")
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be > 0 (or None), got {self.max_grad_norm}")
        if self.autocast not in (None, torch.bfloat16):
            raise ValueError(
                f"autocast must be None or torch.bfloat16, got {self.autocast}: float16 needs a GradScaler "
                "(its gradients underflow without loss scaling); bfloat16 has float32's range and does not"
            )


@dataclass
class History:
    """Per-iteration records (columns of ``STATISTICS``: losses, mean sigmoid(s) and mean raw score s of D on the
    real and the fake batch of the iteration's last D step, the weighted penalty, the norms of D's and G's gradients
    before clipping), wall time; fixed-noise samples after chosen iterations."""

    iteration: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    real_score: list[float] = field(default_factory=list)
    fake_score: list[float] = field(default_factory=list)
    penalty: list[float] = field(default_factory=list)
    d_grad_norm: list[float] = field(default_factory=list)
    g_grad_norm: list[float] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)

    @property
    def wasserstein_estimate(self) -> list[float]:
        """E s(x) - E s(G(z)) per iteration: a WGAN critic's estimate of the Wasserstein distance (Arjovsky et al.)."""
        return [r - f for r, f in zip(self.real_score, self.fake_score, strict=True)]

    def to_state(self) -> dict:
        """A copy: the state does not grow as training goes on."""
        return {name: list(getattr(self, name)) for name in ("iteration", *STATISTICS, "wall_time")} | {
            "snapshots": {str(k): v for k, v in self.snapshots.items()}
        }

    @classmethod
    def from_state(cls, state: dict) -> History:
        columns = {name: list(values) for name, values in state.items() if name != "snapshots"}
        return cls(**columns, snapshots={int(k): v for k, v in state["snapshots"].items()})


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite."""


class Autocast(nn.Module):
    """Runs ``module``'s forward pass under ``torch.autocast(device_type, dtype)``; holds no parameters of its own
    beyond ``module``'s, so freezing or clipping it acts on ``module``."""

    def __init__(self, module: nn.Module, device_type: str, dtype: torch.dtype) -> None:
        super().__init__()
        self.module, self.device_type, self.dtype = module, device_type, dtype

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device_type, dtype=self.dtype):
            return self.module(*inputs)


@dataclass
class CalledModules:
    """What ``GANTrainer.iteration`` calls: G, D in D's step, D in G's step (frozen there), and the objective.
    Plain, they are the trainer's own networks; ``autocast`` wraps both networks, and ``gancourse.distributed``
    wraps G and D's step in DistributedDataParallel. Checkpoints and snapshots always use the plain networks."""

    generator: nn.Module
    discriminator: nn.Module
    frozen_discriminator: nn.Module
    objective: Objective

    @classmethod
    def of(cls, G: nn.Module, D: nn.Module, config: TrainConfig, device: torch.device) -> CalledModules:
        if config.autocast is None:
            return cls(G, D, D, config.objective)
        G_fast, D_fast = (Autocast(network, device.type, config.autocast) for network in (G, D))
        return cls(G_fast, D_fast, D_fast, PenaltyOn(config.objective, D))  # penalties in float32


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


def linear_decay(total_iterations: int, start: float = 0.5, floor: float = 0.0) -> Callable[[int], float]:
    """A learning-rate factor for ``torch.optim.lr_scheduler.LambdaLR``: iteration i -> 1 until ``start`` x
    ``total_iterations``, then linearly down to ``floor`` at the end."""
    begin = int(start * total_iterations)

    def factor(iteration: int) -> float:
        if iteration < begin:
            return 1.0
        return max(floor, 1.0 - (1.0 - floor) * (iteration - begin) / max(1, total_iterations - begin))

    return factor


def training_flops(
    generator: nn.Module, discriminator: nn.Module, sample_shape: Sequence[int], config: TrainConfig | None = None,
) -> int:
    """Floating-point operations of one training iteration (k D-steps and one G-step, forward and backward) of
    ``GANTrainer`` with ``config``.

    Counted by ``torch.utils.flop_counter`` on copies of the networks, so the originals, their optimisers and the
    random number generators are left as they were. Exact and machine-independent, unlike a timing. The counted
    iteration is the first, which carries the penalty even when ``penalty_every`` > 1 (the eager cost).
    """
    config = config or TrainConfig()
    G, D = copy.deepcopy(generator).cpu(), copy.deepcopy(discriminator).cpu()
    data = torch.zeros(config.batch_size, *sample_shape)
    counting = dataclasses.replace(config, progress=False, snapshot_at=())
    with torch.random.fork_rng(devices=[]):
        trainer = GANTrainer(G, D, torch.optim.Adam(G.parameters()),
                             torch.optim.Adam(D.parameters()), data, G.latent_dim, counting)
        with FlopCounterMode(display=False) as counter:
            trainer.train(1)
    return counter.get_total_flops()
