"""Training throughput, side by side: the reference DCGAN loop against gancourse's trainer.

    python benchmarks/dcgan_throughput.py                       # CPU (or CUDA if present), both models
    python benchmarks/dcgan_throughput.py --device cuda --batch-size 128

Three loops train the same networks (same initial weights, batch size and Adam settings) on the same data:

- **baseline**: the loop as pytorch/examples' ``dcgan/main.py`` runs it: a ``DataLoader`` over a dataset, a
  discriminator ending in a sigmoid with ``nn.BCELoss``, ``.item()`` on every loss and a progress line printed
  every iteration. Written here from that description; its lines go to a null stream so they cost what they cost
  without flooding the terminal.
- **gancourse**: ``GANTrainer`` as the chapters use it: data kept as one tensor on the device and indexed at
  random, logits with ``binary_cross_entropy_with_logits``, one host synchronisation per 25 iterations, fresh
  noise for the generator's step (Algorithm 1).
- **gancourse fast**: the same trainer with the generator's step reusing the discriminator's fake batch (one
  generator forward pass fewer, as the baseline does), channels-last memory layout and, on CUDA, fused Adam.

Throughput is real images consumed per second (batch size x iterations / seconds), the median of ``--repeats``
timed runs after a warm-up. The table and a JSON file record the machine. Not part of the tests.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gancourse.models import (
    KerasDCGANDiscriminator,
    KerasDCGANGenerator,
    LeanDCGANDiscriminator,
    LeanDCGANGenerator,
    dcgan_init_,
)
from gancourse.runtime import machine_info
from gancourse.train import GANTrainer, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
MODELS: dict[str, Callable[[], tuple[nn.Module, nn.Module]]] = {
    "keras": lambda: (KerasDCGANGenerator(latent_dim=100), KerasDCGANDiscriminator()),  # the source's DCGAN
    "lean": lambda: (LeanDCGANGenerator(latent_dim=64), LeanDCGANDiscriminator()),  # Chapter 4's default
}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def adam(model: nn.Module, fused: bool = False) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999), **({"fused": True} if fused else {}))


class BaselineLoop:
    """The reference loop: DataLoader batches, sigmoid + BCELoss, .item() and a printed line every iteration."""

    def __init__(self, G: nn.Module, D: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device):
        self.G, self.D = G.to(device), nn.Sequential(D, nn.Sigmoid()).to(device)
        self.opt_g, self.opt_d = adam(self.G), adam(self.D)
        self.loader = DataLoader(TensorDataset(images.cpu()), batch_size=batch_size, shuffle=True, drop_last=True)
        self.batches = iter(self.loader)
        self.criterion, self.device, self.log = nn.BCELoss(), device, io.StringIO()
        self.iteration = 0

    def _next_batch(self) -> torch.Tensor:
        try:
            (real,) = next(self.batches)
        except StopIteration:  # a new epoch
            self.batches = iter(self.loader)
            (real,) = next(self.batches)
        return real.to(self.device)

    def train(self, steps: int) -> None:
        G, D, criterion = self.G, self.D, self.criterion
        for _ in range(steps):
            real = self._next_batch()
            b = real.size(0)
            # discriminator: real batch labelled 1, fake batch labelled 0, one optimiser step
            D.zero_grad()
            label = torch.full((b,), 1.0, device=self.device)
            output = D(real).view(-1)
            loss_real = criterion(output, label)
            loss_real.backward()
            d_x = output.mean().item()
            fake = G(torch.randn(b, G.latent_dim, device=self.device))
            label.fill_(0.0)
            output = D(fake.detach()).view(-1)
            loss_fake = criterion(output, label)
            loss_fake.backward()
            d_g_z1 = output.mean().item()
            self.opt_d.step()
            # generator: the same fake batch labelled 1 (non-saturating loss)
            G.zero_grad()
            label.fill_(1.0)
            output = D(fake).view(-1)
            loss_g = criterion(output, label)
            loss_g.backward()
            d_g_z2 = output.mean().item()
            self.opt_g.step()
            self.iteration += 1
            print(f"[{self.iteration}] Loss_D: {(loss_real + loss_fake).item():.4f} Loss_G: {loss_g.item():.4f} "
                  f"D(x): {d_x:.4f} D(G(z)): {d_g_z1:.4f} / {d_g_z2:.4f}", file=self.log)
            self.log.seek(0)
            self.log.truncate()


class GancourseLoop:
    """``GANTrainer`` on the same networks; ``fast`` adds reused fakes, channels-last and (CUDA) fused Adam."""

    def __init__(self, G: nn.Module, D: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device,
                 fast: bool = False):
        data = images.to(device)
        if fast:
            G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
            data = data.contiguous(memory_format=torch.channels_last)
        G, D = G.to(device), D.to(device)
        fused = fast and device.type == "cuda"
        config = TrainConfig(batch_size=batch_size, progress=False, reuse_fakes=fast)
        self.trainer = GANTrainer(G, D, adam(G, fused), adam(D, fused), data, G.latent_dim, config, device)

    def train(self, steps: int) -> None:
        self.trainer.train(steps)


LOOPS = {
    "baseline": lambda G, D, x, b, dev: BaselineLoop(G, D, x, b, dev),
    "gancourse": lambda G, D, x, b, dev: GancourseLoop(G, D, x, b, dev),
    "gancourse fast": lambda G, D, x, b, dev: GancourseLoop(G, D, x, b, dev, fast=True),
}


def images_per_second(loop, steps: int, warmup: int, repeats: int, batch_size: int, device: torch.device) -> float:
    """Median over ``repeats`` timed runs of ``steps`` iterations, after ``warmup`` untimed ones."""
    loop.train(warmup)
    synchronize(device)
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        loop.train(steps)
        synchronize(device)
        rates.append(steps * batch_size / (time.perf_counter() - started))
    return statistics.median(rates)


def run(models: list[str], batch_size: int, steps: int, warmup: int, repeats: int, device: torch.device,
        n_images: int = 5000) -> list[dict]:
    images = torch.rand(n_images, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    rows = []
    for model in models:
        torch.manual_seed(0)
        G0, D0 = (dcgan_init_(m) for m in MODELS[model]())
        row = {"model": model, "batch_size": batch_size}
        for name, make in LOOPS.items():
            loop = make(copy.deepcopy(G0), copy.deepcopy(D0), images, batch_size, device)
            row[name] = round(images_per_second(loop, steps, warmup, repeats, batch_size, device), 1)
        row["ratio"] = round(row["gancourse"] / row["baseline"], 2)
        row["ratio fast"] = round(row["gancourse fast"] / row["baseline"], 2)
        rows.append(row)
        print(f"{model}: {row}", file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| model | batch | baseline (img/s) | gancourse (img/s) | gancourse fast (img/s) | ratio | ratio fast |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['batch_size']} | {r['baseline']:,.0f} | {r['gancourse']:,.0f} | "
              f"{r['gancourse fast']:,.0f} | {r['ratio']:.2f} | {r['ratio fast']:.2f} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["keras", "lean"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60, help="timed iterations per repeat")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/throughput-<device>.json")
    args = parser.parse_args(argv)
    if min(args.batch_size, args.steps, args.repeats) < 1 or args.warmup < 0:
        parser.error("batch size, steps and repeats must be >= 1, warm-up >= 0")
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda asked for, but torch sees no CUDA device")
    rows = run(args.models, args.batch_size, args.steps, args.warmup, args.repeats, device)
    info = machine_info(device)
    print(f"machine: {info}")
    print(table(rows))
    out = args.json or ROOT / "benchmarks" / "results" / f"throughput-{device.type}-b{args.batch_size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    settings = vars(args) | {"json": os.path.relpath(out, ROOT)}
    out.write_text(json.dumps({"machine": info, "settings": settings, "rows": rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
