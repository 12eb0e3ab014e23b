"""Training throughput, side by side: the reference DCGAN loop against gancourse's trainer.

    python benchmarks/dcgan_throughput.py                       # CPU (or CUDA if present), both models
    python benchmarks/dcgan_throughput.py --device cuda --batch-size 128 --compile

Three loops (``benchmarks/loops.py`` describes each) train the same networks, from the same initial weights, with
the same batch size and Adam settings, on the same 60,000 8-bit images (MNIST's training-set size, so an epoch is
as long as the reference's; random pixels, since throughput does not depend on what the digits look like):
**baseline** (pytorch/examples' DCGAN loop), **gancourse** (``GANTrainer`` as the chapters use it) and
**gancourse fast** (the trainer with its speed options; ``--compile`` adds ``torch.compile``).

Throughput is real images consumed per second (batch size x iterations / seconds). Each loop is warmed up (this is
also when ``torch.compile`` compiles), then the loops take turns: ``--repeats`` rounds of ``--steps`` iterations
each, so a slow patch of a shared machine hits all of them alike; the median round counts. The table and a JSON
file record the machine and the options. Not part of the tests (``tests/test_benchmarks.py`` only smoke-tests it).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from loops import LOOP_NAMES, ROOT, add_loop_arguments, chosen_device, make_loop, synchronize, write_results
from torch import nn

from gancourse.models import (
    KerasDCGANDiscriminator,
    KerasDCGANGenerator,
    LeanDCGANDiscriminator,
    LeanDCGANGenerator,
    dcgan_init_,
)

MODELS: dict[str, Callable[[], tuple[nn.Module, nn.Module]]] = {
    "keras": lambda: (KerasDCGANGenerator(latent_dim=100), KerasDCGANDiscriminator()),  # the source's DCGAN
    "lean": lambda: (LeanDCGANGenerator(latent_dim=64), LeanDCGANDiscriminator()),  # Chapter 4's default
}


def images_per_second(loops: dict, steps: int, warmup: int, repeats: int, batch_size: int,
                      device: torch.device) -> dict[str, float]:
    """Median over ``repeats`` rounds (the loops taking turns) of ``steps`` iterations, after ``warmup`` each."""
    for loop in loops.values():
        loop.train(warmup)
    synchronize(device)
    rates = {name: [] for name in loops}
    for _ in range(repeats):
        for name, loop in loops.items():
            started = time.perf_counter()
            loop.train(steps)
            synchronize(device)
            rates[name].append(steps * batch_size / (time.perf_counter() - started))
    return {name: statistics.median(r) for name, r in rates.items()}


def run(models: list[str], batch_size: int, steps: int, warmup: int, repeats: int, device: torch.device,
        workers: int = 2, compile: str | None = None, bfloat16: bool = True, n_images: int = 60_000) -> list[dict]:
    pixels = torch.randint(0, 256, (n_images, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    rows = []
    for model in models:
        torch.manual_seed(0)
        G0, D0 = (dcgan_init_(m) for m in MODELS[model]())
        loops = {name: make_loop(name, copy.deepcopy(G0), copy.deepcopy(D0), pixels, batch_size, device, workers,
                                 compile, bfloat16) for name in LOOP_NAMES}
        rates = images_per_second(loops, steps, warmup, repeats, batch_size, device)
        row = {"model": model, "batch_size": batch_size} | {name: round(rate, 1) for name, rate in rates.items()}
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
    add_loop_arguments(parser)
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/throughput-<device>-b<batch>.json")
    args = parser.parse_args(argv)
    device = chosen_device(parser, args)
    if min(args.batch_size, args.steps, args.repeats) < 1 or args.warmup < 0:
        parser.error("batch size, steps and repeats must be >= 1, warm-up >= 0")
    rows = run(args.models, args.batch_size, args.steps, args.warmup, args.repeats, device, args.workers,
               args.compile, args.bfloat16)
    out = args.json or ROOT / "benchmarks" / "results" / f"throughput-{device.type}-b{args.batch_size}.json"
    write_results(rows, table(rows), args, device, out)
    return rows


if __name__ == "__main__":
    main()
