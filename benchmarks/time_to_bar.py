"""Seconds of training to Chapter 4's quality bar: the reference loop against gancourse's trainer, on real digits.

    python benchmarks/time_to_bar.py                    # CPU: batch 32, as Chapter 4's CPU setting
    python benchmarks/time_to_bar.py --device cuda      # batch 128, as Chapter 4's GPU setting

Each loop (``benchmarks/loops.py``) trains the lean DCGAN from the same initial weights on the digits Chapter 4 uses
(MNIST's 60,000 training digits when on disk or downloadable, else the offline sample's 4,000 training digits). Every
``--every`` iterations training pauses (the clock too) and 1,000 samples from fixed noise are scored against 1,000
reference digits no network trained on (``load_mnist(train=False)``); the first check
that meets the bar (``gancourse.metrics.DCGAN_MNIST_BAR``: Fréchet distance < 45, confidence >= 0.75, 10 classes,
max/min class ratio <= 12) gives the iterations and the training seconds to the bar. A loop that has not met it by
``--max-steps`` is reported as not reaching it. The table and a JSON file record the machine. Not part of the tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from loops import LOOP_NAMES, ROOT, add_loop_arguments, chosen_device, make_loop, synchronize, write_results

from gancourse.data import load_mnist
from gancourse.metrics import DCGAN_MNIST_BAR, digit_report
from gancourse.models import LeanDCGANDiscriminator, LeanDCGANGenerator, dcgan_init_, generate
from gancourse.runtime import seed_everything


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """Digits (N, 1, 28, 28) in [-1, 1] back to the 8-bit images (N, 28, 28) they were made from."""
    return ((images.squeeze(1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def time_to_bar(loop_name: str, pixels: torch.Tensor, reference: torch.Tensor, batch_size: int, every: int,
                max_steps: int, device: torch.device, workers: int = 2, compile: str | None = None,
                bfloat16: bool = True, seed: int = 0) -> dict:
    """Train one loop until its samples meet the bar; returns iterations, training seconds and the last report."""
    seed_everything(seed)
    G, D = dcgan_init_(LeanDCGANGenerator(latent_dim=64)), dcgan_init_(LeanDCGANDiscriminator())
    loop = make_loop(loop_name, G, D, pixels, batch_size, device, workers, compile, bfloat16)
    z = torch.randn(1000, 64, generator=torch.Generator().manual_seed(7)).to(device)
    steps, seconds, report = 0, 0.0, None
    while steps < max_steps:
        chunk = min(every, max_steps - steps)
        synchronize(device)
        started = time.perf_counter()
        loop.train(chunk)
        synchronize(device)
        seconds += time.perf_counter() - started
        steps += chunk
        report = digit_report(generate(G, z).float(), reference)
        print(f"{loop_name}: {steps} iterations, {seconds:.1f} s, FD {report['FD']:.1f}, "
              f"confidence {report['confidence']:.3f}, classes {report['classes']}, max/min {report['max/min']:.1f}",
              file=sys.stderr, flush=True)
        if DCGAN_MNIST_BAR.met(report):
            break
    reached = report is not None and DCGAN_MNIST_BAR.met(report)
    return {"loop": loop_name, "reached": reached, "iterations": steps, "seconds": round(seconds, 1),
            "report": report}


def table(rows: list[dict]) -> str:
    lines = ["| loop | reached the bar | iterations | training time (s) | FD | confidence | classes | max/min |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        q = r["report"]
        lines.append(f"| {r['loop']} | {'yes' if r['reached'] else 'no'} | {r['iterations']:,} | {r['seconds']:.1f} | "
                     f"{q['FD']:.1f} | {q['confidence']:.3f} | {q['classes']} | {q['max/min']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_loop_arguments(parser)
    parser.add_argument("--batch-size", type=int, help="default: 32 on CPU, 128 on CUDA (Chapter 4's settings)")
    parser.add_argument("--every", type=int, default=250, help="iterations between quality checks")
    parser.add_argument("--max-steps", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0, help="initial weights and training noise")
    parser.add_argument("--loops", nargs="+", choices=LOOP_NAMES, default=list(LOOP_NAMES))
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/time-to-bar-<device>-seed<seed>.json")
    args = parser.parse_args(argv)
    device = chosen_device(parser, args)
    batch_size = args.batch_size or (32 if device.type == "cpu" else 128)
    if min(batch_size, args.every, args.max_steps) < 1:
        parser.error("batch size, --every and --max-steps must be >= 1")
    digits = load_mnist()  # the training side; the reference digits are never trained on
    pixels = to_pixels(digits.images)
    reference = load_mnist(train=False, quiet=True).images[:1000].to(device)
    rows = [time_to_bar(name, pixels, reference, batch_size, args.every, args.max_steps, device, args.workers,
                        args.compile, args.bfloat16, args.seed) for name in args.loops]
    print(f"data: {len(pixels):,} digits from {digits.source}; batch {batch_size}; bar: {DCGAN_MNIST_BAR}")
    out = args.json or ROOT / "benchmarks" / "results" / f"time-to-bar-{device.type}-seed{args.seed}.json"
    write_results(rows, table(rows), args, device, out, batch_size=batch_size, data=digits.source,
                  n_images=len(pixels), bar=str(DCGAN_MNIST_BAR))
    return rows


if __name__ == "__main__":
    main()
