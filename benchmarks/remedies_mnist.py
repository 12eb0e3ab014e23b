"""The remedies of "Making GANs train" on MNIST, compared fairly: Chapter 4's generator and budget for every one.

    python benchmarks/remedies_mnist.py --tune                         # the tuning seed: every grid point
    python benchmarks/remedies_mnist.py                                # every remedy at its tuned setting, seeds 0-4
    python benchmarks/remedies_mnist.py --remedies "R1" "RpGAN + R1 + R2" --seeds 0 1 2 --json out.json
    python benchmarks/remedies_mnist.py --merge a.json b.json --json all.json   # runs made by several processes

What is held equal, so that each row differs from its control in one thing:

- **the generator and the budget**: Chapter 4's lean generator, 2,500 *generator* updates of 32 images (a critic
  with k steps per generator step gets k x 2,500 discriminator updates, and is slower for it; the seconds column
  says how much);
- **the discriminator**: every remedy trains the lean discriminator *without* batch norm (``LeanDCGANCritic``),
  which the penalties need (each sample's score must depend on that sample alone). Chapter 4's discriminator has
  batch norm, so "vanilla, no batch norm" is the control every remedy is compared with, and Chapter 4's own loop
  is a row of its own;
- **the evaluation**: 1,000 samples from one fixed noise batch, scored by ``digit_report`` against the 1,000
  held-out reference digits (no network trained on them); for every run also the average of its generator
  (``gancourse.averaging.GeneratorAverage``: StyleGAN2's ramp-up, batch-norm statistics recomputed for the averaged
  weights), which changes nothing in training;
- **the discriminator's memorising**, measured after training on 1,000 training and 1,000 held-out digits:
  Karras et al. 2020's r_t = E sign(D(x)) on each, and D's mean score on training digits minus held-out ones
  (``overfitting``): what DiffAugment is meant to hold down on a small training set.

Hyperparameters a remedy introduces (the penalty weights, the clipping norm) are chosen on ``TUNING_SEED``, which is
never reported: ``--tune`` runs every value in ``GRID`` on it and prints the table the choice is made from, and
``REMEDIES`` holds the value with the lowest mean of the two Fréchet distances (of G and of its average). The
report runs seeds 0-4. Not part of the tests (a smoke test runs it for a few iterations).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from machine import machine_info
from torch import nn

from gancourse.augment import DiffAugment
from gancourse.averaging import GeneratorAverage, latent_batches, recompute_batch_norm
from gancourse.data import load_mnist
from gancourse.metrics import DCGAN_MNIST_BAR, DCGAN_MNIST_TARGET, digit_report
from gancourse.models import LeanDCGANCritic, LeanDCGANDiscriminator, LeanDCGANGenerator, dcgan_init_, generate
from gancourse.objectives import (
    FeatureMatching,
    Hinge,
    LeastSquares,
    NonSaturating,
    Objective,
    RelativisticPairing,
    WassersteinGP,
)
from gancourse.runtime import pick_device, seed_everything
from gancourse.train import GANTrainer, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
LATENT = 64
TUNING_SEED = 100  # chooses the hyperparameters; never in a reported table
# StyleGAN2-ADA's heuristic R1 weight, gamma = 0.0002 * resolution^2 / batch: 0.0049 for 28x28 digits in batches of 32
HEURISTIC_GAMMA = 0.0002 * 28**2 / 32


@dataclass(frozen=True)
class Remedy:
    """One row: the objective, the discriminator, both learning rates and Adam's betas, and the loop's settings."""

    objective: Objective = field(default_factory=NonSaturating)
    critic: Callable[[], nn.Module] = LeanDCGANCritic
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    k: int = 1
    max_grad_norm: float | None = None
    augment: bool = False


REMEDIES: dict[str, Remedy] = {
    "vanilla (Chapter 4: D with batch norm)": Remedy(critic=LeanDCGANDiscriminator),
    "vanilla, no batch norm (the control)": Remedy(),
    "one-sided label smoothing (0.9)": Remedy(objective=NonSaturating(real_label=0.9)),
    "TTUR (G 1e-4, D 4e-4)": Remedy(lr_g=1e-4, lr_d=4e-4),  # the common setting: both rates change
    "D at 4x G's rate (G 2e-4, D 8e-4)": Remedy(lr_d=8e-4),  # one change: D's rate
    "LSGAN": Remedy(objective=LeastSquares()),
    "feature matching": Remedy(objective=FeatureMatching()),
    "SN + hinge": Remedy(objective=Hinge(), critic=lambda: LeanDCGANCritic(spectral=True)),
    # chosen on TUNING_SEED (results/remedies_mnist-tuning-full-mnist.json): lowest mean FD of G and its average
    "R1": Remedy(objective=NonSaturating(r1_gamma=5.0)),
    "RpGAN + R1 + R2": Remedy(objective=RelativisticPairing(r1_gamma=0.5, r2_gamma=0.5)),
    "gradient clipping": Remedy(max_grad_norm=0.1),
    "DiffAugment (translation, cutout)": Remedy(augment=True),
    # the paper's penalty weight, one critic step per generator step as in ProGAN, the control's optimiser
    "WGAN-GP (k = 1)": Remedy(objective=WassersteinGP(10.0)),
    # the authors' setting: five critic steps (12,500 critic updates for 2,500 generator updates, about ten times
    # the control's time on a CPU) at their learning rate and betas
    "WGAN-GP (k = 5)": Remedy(objective=WassersteinGP(10.0), lr_g=1e-4, lr_d=1e-4, betas=(0.5, 0.9), k=5),
}

# the values --tune tries on TUNING_SEED for the remedies with a hyperparameter of their own; each chosen value lies
# inside its grid (R1's and clipping's grids were extended by one step when their best sat at an end)
GRID: dict[str, dict[str, Remedy]] = {
    "R1": {f"gamma {g:g}": replace(REMEDIES["R1"], objective=NonSaturating(r1_gamma=g))
           for g in (HEURISTIC_GAMMA, 0.05, 0.5, 5.0, 50.0)},
    "RpGAN + R1 + R2": {f"gamma {g:g}": replace(REMEDIES["RpGAN + R1 + R2"],
                                                 objective=RelativisticPairing(r1_gamma=g, r2_gamma=g))
                        for g in (HEURISTIC_GAMMA, 0.05, 0.5, 5.0)},
    "gradient clipping": {f"max norm {m:g}": replace(REMEDIES["gradient clipping"], max_grad_norm=m)
                          for m in (0.01, 0.1, 1.0, 10.0)},
}


def adam(model: nn.Module, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=lr, betas=betas)


def train(remedy: Remedy, seed: int, images: torch.Tensor, iterations: int, batch_size: int,
          device: torch.device) -> tuple[nn.Module, nn.Module, GeneratorAverage, float, list[float]]:
    """Train one remedy from ``seed``: G, D, the average of G, training seconds, D's gradient norms per
    iteration."""
    seed_everything(seed)
    G = dcgan_init_(LeanDCGANGenerator(latent_dim=LATENT)).to(device)
    D = dcgan_init_(remedy.critic()).to(device)  # (spectrally normalised weights keep PyTorch's default init)
    opt_g, opt_d = adam(G, remedy.lr_g, remedy.betas), adam(D, remedy.lr_d, remedy.betas)
    average = GeneratorAverage(G)
    average.attach_to(opt_g, G, batch_size)
    config = TrainConfig(objective=remedy.objective, k=remedy.k, batch_size=batch_size, progress=False,
                         max_grad_norm=remedy.max_grad_norm, augment=DiffAugment() if remedy.augment else None)
    trainer = GANTrainer(G, D, opt_g, opt_d, real=images, latent_dim=LATENT, config=config, device=device)
    started = time.perf_counter()
    trainer.train(iterations)
    return G, D, average, time.perf_counter() - started, trainer.history.d_grad_norm


@torch.no_grad()
def overfitting(D: nn.Module, training: torch.Tensor, held_out: torch.Tensor) -> dict[str, float]:
    """How far D has memorised its training digits, on 1,000 of each (D in eval mode, its raw scores s):
    Karras et al. 2020's r_t = E sign(s(x)) over training digits (0: undecided, 1: every one scored real), the
    same over held-out digits, and the mean score on training digits minus that on held-out ones."""
    was_training = D.training
    D.eval()
    try:
        pick = torch.randperm(len(training), generator=torch.Generator().manual_seed(11))[:1000]
        on_training, on_held_out = D(training[pick.to(training.device)]), D(held_out[:1000])
    finally:
        D.train(was_training)
    return {"D r_t, training digits": float(torch.sign(on_training).mean()),
            "D r_t, held-out digits": float(torch.sign(on_held_out).mean()),
            "D score gap, training minus held-out": float(on_training.mean() - on_held_out.mean())}


def evaluate(G: nn.Module, average: GeneratorAverage, z: torch.Tensor, reference: torch.Tensor) -> dict[str, dict]:
    """``digit_report`` of G's samples and of its average's (batch norm recomputed) for the noise ``z``."""
    recompute_batch_norm(average.module, latent_batches(LATENT, 32, 256, generator=torch.Generator().manual_seed(9),
                                                        device=z.device))
    return {"G": digit_report(generate(G, z).float(), reference),
            "average of G": digit_report(generate(average.module, z).float(), reference)}


def run(settings: dict[str, Remedy], seeds: list[int], iterations: int, batch_size: int, device: torch.device,
        images: torch.Tensor, reference: torch.Tensor) -> list[dict]:
    z = torch.randn(1000, LATENT, generator=torch.Generator().manual_seed(7)).to(device)
    rows = []
    for name, remedy in settings.items():
        for seed in seeds:
            G, D, average, seconds, grad_norms = train(remedy, seed, images, iterations, batch_size, device)
            memorised = overfitting(D, images, reference)
            for whose, report in evaluate(G, average, z, reference).items():
                rows.append({"remedy": name, "generator": whose, "seed": seed, "seconds": round(seconds, 1),
                             "D gradient norm, last 100 iterations": float(np.mean(grad_norms[-100:])),
                             "chapter 4 bar": DCGAN_MNIST_BAR.met(report), "target": DCGAN_MNIST_TARGET.met(report)}
                            | memorised
                            | {key: float(value) for key, value in report.items()})
                print(f"{name} ({whose}), seed {seed}: {seconds:.0f} s, FD {report['FD']:.1f}, confidence "
                      f"{report['confidence']:.3f}, classes {report['classes']}, max/min {report['max/min']:.1f}",
                      file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    """Mean ± standard deviation over the seeds per remedy and generator, with the per-seed range of FD."""
    lines = ["| remedy | generator | FD (range) | confidence | classes | max/min | Chapter 4's bar met | target met "
             "| seconds |", "|---|---|---|---|---|---|---|---|---|"]
    for name, whose in dict.fromkeys((row["remedy"], row["generator"]) for row in rows):
        runs = [row for row in rows if row["remedy"] == name and row["generator"] == whose]

        def stat(key: str, digits: int, runs: list[dict] = runs) -> str:
            values = np.array([row[key] for row in runs])
            return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"

        fds = [row["FD"] for row in runs]
        lines.append(f"| {name} | {whose} | {stat('FD', 1)} ({min(fds):.1f}–{max(fds):.1f}) | "
                     f"{stat('confidence', 3)} | {stat('classes', 1)} | {stat('max/min', 1)} | "
                     f"{sum(r['chapter 4 bar'] for r in runs)}/{len(runs)} | {sum(r['target'] for r in runs)}/"
                     f"{len(runs)} | {stat('seconds', 0)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--remedies", nargs="+", default=None, choices=list(REMEDIES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--tune", action="store_true", help=f"every GRID value on seed {TUNING_SEED} only")
    parser.add_argument("--values", nargs="+", default=None, help='with --tune: only these grid values ("gamma 50")')
    parser.add_argument("--iterations", type=int, default=2500, help="generator updates (Chapter 4's: 2,500)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads on the CPU")
    parser.add_argument("--merge", nargs="+", type=Path, help="JSON files of earlier runs to combine (no training)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "remedies_mnist.json")
    args = parser.parse_args(argv)
    if TUNING_SEED in args.seeds and not args.tune:
        parser.error(f"seed {TUNING_SEED} chooses the hyperparameters: it is not reported")
    if args.merge:
        records = [json.loads(path.read_text()) for path in args.merge]
        rows = [row for record in records for row in record["rows"]]
        record = records[0] | {"rows": rows, "merged from": [str(path) for path in args.merge]}
    else:
        if args.threads:
            torch.set_num_threads(args.threads)
        device = pick_device(args.device)
        images = load_mnist().images.to(device)
        reference = load_mnist(train=False, quiet=True).images.to(device)
        chosen = args.remedies or list(GRID if args.tune else REMEDIES)
        if args.tune and set(chosen) - set(GRID):
            parser.error(f"--tune: only {', '.join(GRID)} have a hyperparameter to tune")
        if args.tune:
            settings = {f"{name}, {value}": remedy for name in chosen for value, remedy in GRID[name].items()
                        if args.values is None or value in args.values}
        else:
            settings = {name: REMEDIES[name] for name in chosen}
        seeds = [TUNING_SEED] if args.tune else args.seeds
        rows = run(settings, seeds, args.iterations, args.batch_size, device, images, reference)
        record = {"machine": machine_info(device), "data": f"{len(images):,} training digits",
                  "settings": {key: str(value) for key, value in vars(args).items()}, "rows": rows}
    print(table(rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
