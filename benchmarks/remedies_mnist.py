"""Chapter 6's remedies on MNIST, several seeds each, on Chapter 4's budget (lean DCGAN, 2,500 D steps of 32).

    python benchmarks/remedies_mnist.py                          # every remedy, seeds 0-4
    python benchmarks/remedies_mnist.py --remedies "SN + hinge" --seeds 0 1 2
    python benchmarks/remedies_mnist.py --device cuda --steps 10000 --batch-size 128

Each run trains Chapter 4's lean generator against the discriminator its remedy needs (Chapter 4's lean
discriminator, or ``LeanDCGANCritic``, the same without batch norm, for the penalties and spectral norm) with
``GANTrainer`` and the remedy's objective, then scores 1,000 samples from fixed noise against the 1,000 held-out
digits with ``gancourse.metrics.digit_report``, twice: samples of G itself, and of an exponential moving average
of G's weights ("+ EMA": ``torch.optim.swa_utils.AveragedModel``, decay 0.999, which changes nothing in training).
Prints a Markdown table of mean and spread per remedy and writes every run to JSON. Not part of the tests (a
smoke test runs it for a few steps).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from machine import machine_info
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gancourse.data import load_mnist
from gancourse.metrics import DCGAN_MNIST_BAR, QualityBar, digit_report
from gancourse.models import LeanDCGANCritic, LeanDCGANDiscriminator, LeanDCGANGenerator, dcgan_init_, generate
from gancourse.objectives import Hinge, NonSaturating, WassersteinGP
from gancourse.runtime import pick_device, seed_everything
from gancourse.train import GANTrainer, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
TARGET = QualityBar(fd=20, confidence=0.90, classes=10, max_min=2)  # issue 14's target, the bar Chapter 4 missed
LATENT = 64


def adam(lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)):
    return lambda model: torch.optim.Adam(model.parameters(), lr=lr, betas=betas)


# name: (objective, critic steps k, discriminator factory, G's optimiser, D's optimiser, penalty_every)
REMEDIES: dict[str, tuple] = {
    "vanilla (Chapter 4)": (NonSaturating(), 1, LeanDCGANDiscriminator, adam(), adam(), 1),
    "SN + hinge": (Hinge(), 1, lambda: LeanDCGANCritic(spectral=True), adam(), adam(), 1),
    "R1 (γ = 1)": (NonSaturating(r1_gamma=1.0), 1, LeanDCGANCritic, adam(), adam(), 1),
    # lazy regularisation (Karras et al. 2020): R1 on every 16th D step, weighted 16; what Chapter 6 trains
    "R1 (γ = 1, lazy 16)": (NonSaturating(r1_gamma=1.0), 1, LeanDCGANCritic, adam(), adam(), 16),
    "WGAN-GP": (WassersteinGP(10.0), 5, LeanDCGANCritic, adam(1e-4, (0.5, 0.9)), adam(1e-4, (0.5, 0.9)), 1),
}


def ema_of(generator: nn.Module, opt_g: torch.optim.Optimizer, decay: float = 0.999) -> AveragedModel:
    """An exponential moving average of G's weights and batch-norm statistics, updated after every G step."""
    ema = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    opt_g.register_step_post_hook(lambda *_: ema.update_parameters(generator))
    return ema


def train_remedy(name: str, seed: int, images: torch.Tensor, steps: int, batch_size: int,
                 device: torch.device, progress: bool = False) -> tuple[nn.Module, nn.Module, float]:
    """Train one remedy from ``seed``; returns G, the moving average of G, and the training seconds."""
    objective, k, make_d, make_opt_g, make_opt_d, penalty_every = REMEDIES[name]
    seed_everything(seed)
    G = dcgan_init_(LeanDCGANGenerator(latent_dim=LATENT)).to(device)
    D = dcgan_init_(make_d()).to(device)  # (spectrally normalised weights keep PyTorch's default init)
    opt_g, opt_d = make_opt_g(G), make_opt_d(D)
    ema = ema_of(G, opt_g)
    config = TrainConfig(objective=objective, k=k, batch_size=batch_size, progress=progress,
                         penalty_every=penalty_every)
    trainer = GANTrainer(G, D, opt_g, opt_d, real=images, latent_dim=LATENT, config=config, device=device)
    started = time.perf_counter()
    trainer.train(steps // k, desc=name)  # the same number of D steps for every remedy: steps // k iterations
    return G, ema.module, time.perf_counter() - started


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--remedies", nargs="+", default=list(REMEDIES), choices=list(REMEDIES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=2500,
                        help="discriminator steps (Chapter 4's CPU setting: 2,500 iterations of k = 1); "
                        "a remedy with k critic steps per generator step gets steps // k iterations")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads on the CPU")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "remedies_mnist.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    images = load_mnist().images.to(device)
    reference = load_mnist(train=False, quiet=True).images.to(device)
    z = torch.randn(1000, LATENT, generator=torch.Generator().manual_seed(7)).to(device)
    rows = []
    for name in args.remedies:
        for seed in args.seeds:
            G, ema, seconds = train_remedy(name, seed, images, args.steps, args.batch_size, device)
            for label, generator in ((name, G), (f"{name} + EMA", ema)):
                report = digit_report(generate(generator, z).float(), reference)
                rows.append({"remedy": label, "seed": seed, "seconds": round(seconds, 1),
                             "chapter 4 bar": DCGAN_MNIST_BAR.met(report), "target": TARGET.met(report)}
                            | {key: float(value) for key, value in report.items()})
                print(f"{label}, seed {seed}: {seconds:.0f} s, FD {report['FD']:.1f}, confidence "
                      f"{report['confidence']:.3f}, classes {report['classes']}, max/min {report['max/min']:.1f}",
                      file=sys.stderr, flush=True)
    lines = [f"{args.steps} discriminator steps of {args.batch_size}, seeds {args.seeds}; mean ± standard deviation",
             "", "| remedy | FD | confidence | classes | max/min | Chapter 4's bar met | target met | seconds |",
             "|---|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(row["remedy"] for row in rows):
        runs = [row for row in rows if row["remedy"] == name]

        def stat(key: str, digits: int, runs: list[dict] = runs) -> str:
            values = np.array([row[key] for row in runs])
            return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"

        lines.append(f"| {name} | {stat('FD', 1)} | {stat('confidence', 3)} | {stat('classes', 1)} | "
                     f"{stat('max/min', 1)} | {sum(r['chapter 4 bar'] for r in runs)}/{len(runs)} | "
                     f"{sum(r['target'] for r in runs)}/{len(runs)} | {stat('seconds', 0)} |")
    table = "\n".join(lines)
    print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    settings = {key: str(value) for key, value in vars(args).items()}
    args.json.write_text(json.dumps({"machine": machine_info(device), "settings": settings, "target": str(TARGET),
                                     "rows": rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
