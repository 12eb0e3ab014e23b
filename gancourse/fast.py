"""Speed options for the training loop, kept out of the chapters' ``GANTrainer``; the benchmarks use them.

- ``reuse_fakes=True``: the generator's step reuses the last discriminator step's fake batch instead of fresh
  noise (one G forward pass fewer per iteration, as pytorch/examples' DCGAN does). Algorithm 1 draws fresh noise.
- ``autocast=torch.bfloat16``: both networks' forward passes run under ``torch.autocast`` (faster on GPUs and on
  CPUs with bfloat16 instructions); weights, optimiser state, losses and penalties stay float32. float16 is
  refused: it needs loss scaling (a ``GradScaler``), which this loop does not do; bfloat16 has float32's range.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gancourse.objectives import Objective, judge
from gancourse.train import GANTrainer, RealSource, TrainConfig, discriminator_step, frozen, generator_step


@dataclass
class FastConfig(TrainConfig):
    """``TrainConfig`` plus the speed options of the module docstring (off by default)."""

    reuse_fakes: bool = False
    autocast: torch.dtype | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.autocast not in (None, torch.bfloat16):
            raise ValueError(
                f"autocast must be None or torch.bfloat16, got {self.autocast}: float16 needs a GradScaler "
                "(its gradients underflow without loss scaling); bfloat16 has float32's range and does not"
            )


class Autocast(nn.Module):
    """Runs ``module``'s forward pass under ``torch.autocast(device_type, dtype)``; holds no parameters of its own
    beyond ``module``'s, so freezing or clipping it acts on ``module``."""

    def __init__(self, module: nn.Module, device_type: str, dtype: torch.dtype) -> None:
        super().__init__()
        self.module, self.device_type, self.dtype = module, device_type, dtype

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device_type, dtype=self.dtype):
            return self.module(*inputs)


class PenaltyOn(Objective):
    """``objective`` with its penalty computed on ``network`` (the plain float32 discriminator) instead of the module
    the loop calls (an autocast or DistributedDataParallel wrapper): a gradient penalty differentiates a gradient
    norm, where bfloat16's 8-bit mantissa loses too much, and DDP's reducer expects one forward per backward."""

    def __init__(self, objective: Objective, network: nn.Module) -> None:
        self.objective, self.network = objective, network

    def d_loss(self, real_scores, fake_scores):
        return self.objective.d_loss(real_scores, fake_scores)

    def g_loss(self, fake_scores):
        return self.objective.g_loss(fake_scores)

    def penalty(self, discriminator, real, fake, condition=None):
        return self.objective.penalty(self.network, real.float(), fake.float(), condition)

    def after_d_step(self, discriminator):
        self.objective.after_d_step(discriminator)


class FastGANTrainer(GANTrainer):
    """``GANTrainer`` with ``FastConfig``'s options; same checkpoints, history and snapshots (float32 sampling)."""

    config: FastConfig

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer, real: RealSource, latent_dim: int, config: FastConfig | None = None,
        device: torch.device | str = "cpu", labels: torch.Tensor | None = None,
    ) -> None:
        config = config or FastConfig()
        super().__init__(generator, discriminator, opt_g, opt_d, real, latent_dim, config, device, labels)
        if not isinstance(config, FastConfig):
            raise TypeError(f"FastGANTrainer needs a FastConfig, got {type(self.config).__name__}")
        dtype = self.config.autocast
        wrap = (lambda m: Autocast(m, self.device.type, dtype)) if dtype is not None else (lambda m: m)
        # what the iteration calls: G, D in D's step, D in G's step (frozen), the objective; subclasses wrap them
        self._g, self._d = wrap(self.G), wrap(self.D)
        self._d_frozen = self._d
        self._objective = PenaltyOn(config.objective, self.D) if dtype is not None else config.objective

    def _iteration(self) -> torch.Tensor:
        cfg, n, G, D, objective = self.config, self.config.batch_size, self._g, self._d, self._objective
        self._schedule_learning_rates()
        for i in range(cfg.k):
            real, real_y = self.sample_batch(n)
            fake_y = self.sample_conditions(n)
            keep_graph = cfg.reuse_fakes and i == cfg.k - 1  # the G step will backpropagate through this batch
            with torch.set_grad_enabled(keep_graph):
                generated = judge(G, self.sample_latent(n), fake_y)
            d_stats = discriminator_step(D, self.opt_d, objective, real, generated.detach(), real_y, fake_y,
                                         self.penalty_weight(i))
        if cfg.reuse_fakes:  # generator_step on the kept batch instead of a fresh one
            with frozen(self._d_frozen):
                g_loss = objective.g_loss(judge(self._d_frozen, generated, fake_y).float())
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
            g_loss = g_loss.detach()
        else:
            y = self.sample_conditions(n)
            g_loss = generator_step(G, self._d_frozen, self.opt_g, objective, self.sample_latent(n), y)
        return torch.cat([d_stats[:1], g_loss[None], d_stats[1:]])
