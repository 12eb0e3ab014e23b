"""Run by tests/test_distributed.py as ``torchrun --nproc_per_node=2 tests/ddp_worker.py OUT``; each rank writes
OUT/rank<r>.pt with what the test compares. ``build`` is shared with the test's single-process reference runs.

Three experiments on a tiny MLP GAN without batch norm, on the CPU (gloo):
- ``straight``: STEPS iterations with a per-rank batch of GLOBAL_BATCH / world size;
- ``resumed``: STEPS / 2 iterations, a checkpoint written by rank 0, a fresh trainer on every rank loading it, then
  the other half;
- ``reductions``: DDP communication hooks count the gradient all-reduces of each network's reducer: D's must
  run once per D step and never in G's step (where D is frozen and called without DDP), G's once per iteration;
  a generator step written the naive way, through the DDP-wrapped D without freezing it, all-reduces D's gradients
  too (wasted communication, and gradients the next D step throws away).
"""


import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

from gancourse import distributed
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.objectives import Hinge, NonSaturating, WassersteinGP
from gancourse.train import GANTrainer, TrainConfig

LATENT, GLOBAL_BATCH, STEPS = 3, 16, 6
OBJECTIVES = {"nonsaturating": NonSaturating(), "hinge": Hinge(), "wgan-gp": WassersteinGP()}


def build(trainer_class, per_rank_batch: int, objective: str = "nonsaturating", **options) -> GANTrainer:
    """The same tiny GAN, data and optimisers in every process (seeded)."""
    torch.manual_seed(0)
    G = MLPGenerator(LATENT, (2,), hidden=(8,), tanh=True)
    D = MLPDiscriminator((2,), hidden=(8,))
    data = torch.rand(200, 2, generator=torch.Generator().manual_seed(1)) * 2 - 1
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-2, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.999))
    config = TrainConfig(objective=OBJECTIVES[objective], batch_size=per_rank_batch, k=2, log_every=2,
                         progress=False, **options)
    return trainer_class(G, D, opt_g, opt_d, data, LATENT, config)


def counting_allreduce(calls: list, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
    """DDP's default all-reduce, counted. (DDP checks these annotations, so this file has no
    "from __future__ import annotations".)"""
    calls.append(bucket.index())
    return allreduce_hook(None, bucket)


def parameters(trainer: GANTrainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in [*trainer.G.parameters(), *trainer.D.parameters()]]


def main(out: Path) -> None:
    context = distributed.init("cpu")
    per_rank = GLOBAL_BATCH // context.world_size
    results = {}
    for objective in OBJECTIVES:
        straight = build(distributed.DistributedGANTrainer, per_rank, objective)
        torch.manual_seed(5)
        straight.train(STEPS)
        results[objective] = {"parameters": parameters(straight), "d_loss": straight.history.d_loss}

    reusing = build(distributed.DistributedGANTrainer, per_rank, reuse_fakes=True)
    torch.manual_seed(5)
    reusing.train(STEPS)
    results["reuse fakes"] = {"parameters": parameters(reusing), "d_loss": reusing.history.d_loss}

    first = build(distributed.DistributedGANTrainer, per_rank)
    torch.manual_seed(5)
    first.train(STEPS // 2)
    if context.is_main:
        first.save(out / "checkpoint.pt")
    dist.barrier()
    torch.manual_seed(1234)  # whatever the state before loading, the checkpoint restores it
    second = build(distributed.DistributedGANTrainer, per_rank)
    second.load(out / "checkpoint.pt")
    second.train(STEPS - STEPS // 2)
    results["resumed"] = {"parameters": parameters(second), "d_loss": second.history.d_loss}

    for run, options in (("reductions", {}), ("reductions reusing fakes", {"reuse_fakes": True})):
        counted = build(distributed.DistributedGANTrainer, per_rank, **options)
        counts = {"G": [], "D": []}
        for name, module in (("G", counted.called.generator), ("D", counted.called.discriminator)):
            module.register_comm_hook(counts[name], counting_allreduce)
        counted.train(STEPS)
        results[run] = {name: len(calls) for name, calls in counts.items()}
    # G's loss through DDP(D), not frozen
    naive = counted.called.discriminator(counted.called.generator(counted.sample_latent(per_rank))).mean()
    naive.backward()
    results["reductions naive G step"] = {name: len(calls) for name, calls in counts.items()}
    torch.save(results, out / f"rank{context.rank}.pt")
    distributed.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
