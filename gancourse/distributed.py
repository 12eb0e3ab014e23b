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

import dataclasses
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gancourse.objectives import PenaltyOn
from gancourse.runtime import pick_device
from gancourse.train import GANTrainer

__all__ = ["Context", "DistributedGANTrainer", "init", "launched_by_torchrun", "shutdown", "sync_batch_norm"]


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


def shutdown(wait: bool = True) -> None:
    """Leave the process group (a no-op for a single process). ``wait``: first wait until every rank has got here,
    so that no rank tears the group down while another still uses it (with gloo, a rank left alone in
    ``destroy_process_group`` can wait for ever); a rank leaving on an error passes False."""
    if dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def sync_batch_norm(module: nn.Module, device: torch.device) -> nn.Module:
    """On CUDA, batch norm layers become ``nn.SyncBatchNorm`` (statistics of the global batch), keeping their
    parameters and buffers; elsewhere ``module`` unchanged. Call before building the optimisers."""
    if device.type != "cuda" or not dist.is_initialized():
        return module
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


class DistributedGANTrainer(GANTrainer):
    """``GANTrainer`` (the same iteration, options and checkpoints) on this rank's shard; see the module docstring.
    Takes ``GANTrainer``'s arguments; ``config.batch_size`` is the batch of **one rank**, and the global batch is
    that times the world size. Needs an initialised process group (``init``).
    """

    def __init__(self, *args, **kwargs) -> None:
        if not dist.is_initialized():
            raise RuntimeError("no process group: launch with torchrun and call gancourse.distributed.init() first")
        super().__init__(*args, **kwargs)  # its input checks draw as one process does
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        device_ids = [self.device] if self.device.type == "cuda" else None
        # DDP broadcasts rank 0's parameters and buffers here, so all ranks start equal. G's step calls D without
        # DDP (``frozen_discriminator`` stays as it was); penalties run on the plain D too.
        self.called = dataclasses.replace(
            self.called, generator=DistributedDataParallel(self.called.generator, device_ids=device_ids),
            discriminator=DistributedDataParallel(self.called.discriminator, device_ids=device_ids),
            objective=PenaltyOn(self.config.objective, self.D))

    def _show_progress(self) -> bool:
        return self.config.progress and self.rank == 0  # one progress bar

    # ------------------------------------------------------------------ every rank draws the global batch
    def _shard(self, batch: torch.Tensor) -> torch.Tensor:
        n = len(batch) // self.world_size
        return batch[self.rank * n : (self.rank + 1) * n]

    def sample_batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        real, conditions = super().sample_batch(n * self.world_size)
        return self._shard(real), None if conditions is None else self._shard(conditions)

    def sample_conditions(self, n: int) -> torch.Tensor | None:
        conditions = super().sample_conditions(n * self.world_size)
        return None if conditions is None else self._shard(conditions)

    def sample_latent(self, n: int) -> torch.Tensor:
        return self._shard(super().sample_latent(n * self.world_size))

    # ------------------------------------------------------------------ history: the mean over ranks
    def _mean_over_processes(self, values: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(values)  # one collective per log interval
        return values / self.world_size
