"""The training loop on several processes with PyTorch's DistributedDataParallel (DDP), launched by ``torchrun``.

Each process (rank) holds a full copy of G and D. Every step all ranks draw the same random numbers for the
*global* batch (B = per-rank batch x world size) and each keeps its own slice, so the ranks see disjoint shards and
the run follows the same random stream as one process training on the whole global batch. DDP averages the
gradients across ranks during ``backward``; since every loss is a mean over equal shards, the averaged gradient
is the gradient of the global batch's loss, and all ranks apply the same update. ``tests/test_distributed.py``
checks both claims (identical ranks; equal to one process on the global batch) with two CPU processes.

The GAN-specific traps, and what this module does about each:

- **Two networks, two reducers.** G and D are wrapped separately, each with its own optimiser.
- **D frozen during G's step.** G's loss is backpropagated through D. Through a DDP-wrapped D that is not frozen,
  D's reducer would all-reduce D's gradients in G's step too: communication for gradients the next D step throws
  away. Freezing only *some* of a DDP module's parameters is worse: DDP then waits for gradients that never come
  and fails at the next call ("Expected to have finished reduction in the prior iteration"), which
  ``find_unused_parameters=True`` would paper over with a graph traversal every step. Here G's step calls the
  *plain* D (the same parameters, no reducer), frozen as in the single-process loop: the gradient flows through D
  into G and no reduction is expected for D. Every parameter of each network gets a gradient in its own step, so
  ``find_unused_parameters`` stays False. Penalties (R1, gradient penalty) also run on the plain D inside D's step,
  so D's reducer sees one backward per step with the penalty's gradient in it. ``tests/test_distributed.py``
  counts the all-reduces: one per D step for D, one per iteration for G.
- **Batch-norm buffers.** With ``broadcast_buffers=True`` (DDP's default) every forward of a wrapped network first
  copies rank 0's running statistics to all ranks, so evaluation (rank 0) and checkpoints agree. In training mode
  batch norm still normalises with each rank's *shard*, which differs from a single process on the global batch;
  on CUDA ``sync_batch_norm`` converts the layers to ``nn.SyncBatchNorm``, which normalises with the statistics of
  the global batch (PyTorch implements it for CUDA, not for the CPU).
- **Logging and the NaN guard.** The statistics are averaged over ranks once per log interval (one all-reduce), so
  every rank's history equals the global batch's and all ranks stop together on a non-finite loss.
- **Checkpoints and resume.** All ranks keep the same RNG state (same seed, same draws), so the checkpoint rank 0
  writes restores every rank.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gancourse.fast import FastConfig, FastGANTrainer, PenaltyOn
from gancourse.runtime import pick_device
from gancourse.train import RealSource


@dataclass(frozen=True)
class Context:
    """Where this process stands: its rank among ``world_size`` processes and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that prints and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    """True inside a process started by ``torchrun`` (it sets RANK, WORLD_SIZE and LOCAL_RANK)."""
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


def init(device: str | None = None) -> Context:
    """Join the process group when launched by torchrun (NCCL on CUDA, gloo on the CPU); otherwise one process.

    ``device`` as in ``gancourse.runtime.pick_device``; on CUDA each rank takes GPU number LOCAL_RANK.
    """
    chosen = pick_device(device)
    if not launched_by_torchrun():
        return Context(device=chosen)
    rank, world, local = (int(os.environ[name]) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    if chosen.type == "cuda":
        if local >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK {local} but only {torch.cuda.device_count()} GPUs: lower --nproc_per_node")
        chosen = torch.device("cuda", local)
        torch.cuda.set_device(chosen)
    elif chosen.type != "cpu":
        raise RuntimeError(f"distributed training runs on CUDA (NCCL) or the CPU (gloo), not on {chosen.type}")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo")
    return Context(rank, world, local, chosen)


def shutdown() -> None:
    """Leave the process group (a no-op for a single process)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def sync_batch_norm(module: nn.Module, device: torch.device) -> nn.Module:
    """On CUDA, batch norm layers become ``nn.SyncBatchNorm`` (statistics of the global batch), keeping their
    parameters and buffers; elsewhere ``module`` unchanged. Call before building the optimisers."""
    if device.type != "cuda" or not dist.is_initialized():
        return module
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


class DistributedGANTrainer(FastGANTrainer):
    """``GANTrainer`` (with ``gancourse.fast``'s options, all off by default) on this rank's shard; see the module
    docstring. ``config.batch_size`` is the batch of **one rank**; the global batch is that times the world size.
    Needs an initialised process group (``init``).
    """

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer, real: RealSource, latent_dim: int, config: FastConfig | None = None,
        device: torch.device | str = "cpu", labels: torch.Tensor | None = None,
    ) -> None:
        if not dist.is_initialized():
            raise RuntimeError("no process group: launch with torchrun and call gancourse.distributed.init() first")
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        self._shards = 1  # the input checks while constructing draw as a single process does
        super().__init__(generator, discriminator, opt_g, opt_d, real, latent_dim, config, device, labels)
        self._shards = self.world_size
        self.config.progress = self.config.progress and self.rank == 0
        device_ids = [self.device] if self.device.type == "cuda" else None
        # DDP broadcasts rank 0's parameters and buffers here, so all ranks start equal
        self._g = DistributedDataParallel(self._g, device_ids=device_ids)
        self._d = DistributedDataParallel(self._d, device_ids=device_ids)
        # G's step goes through D without DDP (``_d_frozen`` stays the plain network); penalties on plain D too
        self._objective = PenaltyOn(self.config.objective, self.D)

    # ------------------------------------------------------------------ every rank draws the global batch
    def _shard(self, batch: torch.Tensor) -> torch.Tensor:
        n = len(batch) // self._shards
        index = self.rank if self._shards > 1 else 0
        return batch[index * n : (index + 1) * n]

    def sample_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        real, labels = super().sample_batch(n * self._shards)
        return self._shard(real), None if labels is None else self._shard(labels)

    def sample_conditions(self, n: int) -> torch.Tensor | None:
        conditions = super().sample_conditions(n * self._shards)
        return None if conditions is None else self._shard(conditions)

    def sample_latent(self, n: int) -> torch.Tensor:
        return self._shard(super().sample_latent(n * self._shards))

    # ------------------------------------------------------------------ history: the mean over ranks
    def _flush(self, buffer: list[torch.Tensor], first_step: int, started: float) -> None:
        values = torch.stack(buffer)
        dist.all_reduce(values)  # one collective per log interval
        buffer[:] = list(values / self.world_size)
        super()._flush(buffer, first_step, started)
