"""The reusable GAN training loop: Algorithm 1 of Goodfellow et al. (2014) with the bookkeeping a course needs.

Per iteration: ``k`` discriminator steps (each on a fresh real batch and a fresh, detached fake batch), then one
generator step. During the generator step the discriminator's parameters are frozen: the gradient still flows
through D to G, but D's own weight gradients (which the next D step would discard) are never computed. Losses and
the mean D(x), D(G(z)) are kept on the device and copied to the host once every ``log_every`` steps (one
synchronisation, not one per step); that is also when the NaN/inf guard looks at them. ``autocast=torch.bfloat16``
runs both networks' forward passes in bfloat16 (weights, optimiser state and losses stay float32).
Checkpoints hold both networks, both optimisers, the step, the history and the RNG states, are written
atomically and are read back with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from tqdm.auto import tqdm

from gancourse.losses import discriminator_loss, generator_loss_nonsaturating
from gancourse.models import generate

RealSource = torch.Tensor | Callable[[int], torch.Tensor]
_COLUMNS = ("d_loss", "g_loss", "d_real", "d_fake")


@dataclass
class TrainConfig:
    """Settings of the loop. ``k`` discriminator steps per generator step (k in Algorithm 1)."""

    batch_size: int = 64
    k: int = 1
    g_loss: Callable[[torch.Tensor], torch.Tensor] = generator_loss_nonsaturating
    real_label: float = 1.0  # < 1: one-sided label smoothing
    log_every: int = 25
    snapshot_at: Sequence[int] = ()
    n_fixed: int = 64  # size of the fixed-noise batch used for snapshots
    fixed_noise_seed: int = 1234
    progress: bool = True
    value_range: tuple[float, float] | None = (-1.0, 1.0)  # checked on a data tensor; None skips the check
    lr_factor: Callable[[int], float] | None = None  # step -> multiplier of both optimisers' initial lr
    # True: the G step reuses the last D step's fakes instead of fresh noise (one G forward pass fewer per
    # iteration, as pytorch/examples' DCGAN does). False follows Algorithm 1 to the letter.
    reuse_fakes: bool = False
    # torch.bfloat16: forward passes under torch.autocast (faster on GPUs and on CPUs with bf16 instructions);
    # None: float32 throughout. float16 is refused: it needs loss scaling, which this loop does not do.
    autocast: torch.dtype | None = None

    def __post_init__(self) -> None:
        if self.autocast not in (None, torch.bfloat16):
            raise ValueError(
                f"autocast must be None or torch.bfloat16, got {self.autocast}: float16 needs a GradScaler "
                "(its gradients underflow without loss scaling); bfloat16 has float32's range and does not"
            )
        if self.k < 1:
            raise ValueError(f"k (discriminator steps per generator step) must be >= 1, got {self.k}")
        if self.batch_size < 1 or self.log_every < 1:
            raise ValueError("batch_size and log_every must be >= 1")


@dataclass
class History:
    """Per-step records: losses, mean D(x) and D(G(z)), wall time; and fixed-noise samples at chosen steps."""

    step: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)

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
    """Trains ``generator`` against ``discriminator`` (which returns logits).

    ``real`` is either a tensor of samples (N, ...) already on the device, indexed at random each step, or a
    callable ``n -> (n, ...)`` that draws fresh samples (toy distributions). ``latent_dim`` gives z ~ N(0, I).
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
    ) -> None:
        self.G, self.D, self.opt_g, self.opt_d = generator, discriminator, opt_g, opt_d
        self.config = config or TrainConfig()
        self.device = torch.device(device)
        self.latent_dim = latent_dim
        self.real = real
        if isinstance(real, torch.Tensor):
            self._check_data_tensor(real)
        self.step = 0
        self.history = History()
        fixed = torch.Generator().manual_seed(self.config.fixed_noise_seed)
        self.fixed_z = torch.randn(self.config.n_fixed, latent_dim, generator=fixed).to(self.device)
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

    def _check_shapes(self) -> None:
        fake = generate(self.G, self.fixed_z[:2])
        real = self.sample_real(2)
        if fake.shape[1:] != real.shape[1:]:
            raise ValueError(
                f"generator output has shape {tuple(fake.shape[1:])} per sample but the data have "
                f"{tuple(real.shape[1:])}: the discriminator cannot take both"
            )

    # ------------------------------------------------------------------ sampling

    def sample_real(self, n: int) -> torch.Tensor:
        if isinstance(self.real, torch.Tensor):
            index = torch.randint(len(self.real), (n,), device=self.real.device)
            return self.real[index]
        return self.real(n).to(self.device)

    def sample_latent(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device)

    # ------------------------------------------------------------------ one iteration of Algorithm 1

    def _iteration(self) -> torch.Tensor:
        """k D-steps then one G-step; returns (4,) detached: d_loss, g_loss, mean D(x), mean D(G(z))."""
        cfg = self.config
        if cfg.lr_factor is not None:
            self._set_learning_rates(cfg.lr_factor(self.step))
        for i in range(cfg.k):
            real = self.sample_real(cfg.batch_size)
            keep_graph = cfg.reuse_fakes and i == cfg.k - 1  # the G step will backpropagate through this batch
            with torch.set_grad_enabled(keep_graph), self._autocast():
                generated = self.G(self.sample_latent(cfg.batch_size))
            fake = generated.detach()  # D's step must not reach G
            with self._autocast():
                real_logits, fake_logits = self.D(real).float(), self.D(fake).float()
            d_loss = discriminator_loss(real_logits, fake_logits, real_label=cfg.real_label)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        with self._autocast():
            if not cfg.reuse_fakes:
                generated = self.G(self.sample_latent(cfg.batch_size))
            with frozen(self.D):  # the graph records no weight gradients for D; backward runs after the block
                generated_logits = self.D(generated).float()
        g_loss = cfg.g_loss(generated_logits)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return torch.stack(
            [d_loss, g_loss, torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()]
        ).detach()

    def _autocast(self) -> torch.autocast:
        dtype = self.config.autocast
        return torch.autocast(self.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)

    def _set_learning_rates(self, factor: float) -> None:
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])  # saved with the optimiser's state: resume-safe
                group["lr"] = group["initial_lr"] * factor

    def snapshot(self) -> torch.Tensor:
        """G(fixed noise) in eval mode, on the CPU: (n_fixed, ...)."""
        return generate(self.G, self.fixed_z).cpu()

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
        if torch.cuda.is_available():
            state["rng_cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["generator"])
        self.D.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        self.history = History.from_state(dict(state["history"]))
        torch.set_rng_state(state["rng_cpu"])
        if "rng_cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])

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
    generator: nn.Module, discriminator: nn.Module, sample_shape: Sequence[int], config: TrainConfig | None = None
) -> int:
    """Floating-point operations of one training iteration (k D-steps and one G-step, forward and backward).

    Counted by ``torch.utils.flop_counter`` on copies of the networks, so the originals, their optimisers and the
    random number generators are left as they were. Exact and machine-independent, unlike a timing.
    """
    config = config or TrainConfig()
    G, D = copy.deepcopy(generator).cpu(), copy.deepcopy(discriminator).cpu()
    data = torch.zeros(config.batch_size, *sample_shape)
    counting = dataclasses.replace(config, progress=False, snapshot_at=())
    with torch.random.fork_rng(devices=[]):
        trainer = GANTrainer(G, D, torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters()), data,
                             G.latent_dim, counting)
        with FlopCounterMode(display=False) as counter:
            trainer.train(1)
    return counter.get_total_flops()


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated or not a checkpoint."""


def save_atomic(obj: dict, path: str | Path) -> Path:
    """``torch.save`` to ``path`` so that a crash mid-write never leaves a partial file under that name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the permissions open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, map_location: torch.device | str = "cpu") -> dict:
    """``torch.load(weights_only=True)`` with one clear error for a missing or corrupt file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(error).__name__}: {error})") from error
