"""The toy table of "The remedies, measured", made fair: each method's learning rate tuned, then five seeds.

    python benchmarks/remedies_toys.py --tune      # every learning rate of the grid on TUNING_SEED
    python benchmarks/remedies_toys.py             # every method at gancourse.toys.TOY_METHODS' rates, seeds 0-4

Each seed trains, per method, five models on the 25-Gaussian grid and five on the 8-Gaussian ring as one stacked
network (the chapter's run is seed 0). The methods differ in their objective, critic steps and discriminator,
which are their papers'; the learning rate is the one setting that does not carry over from a paper's budget to
this one (1,000 generator steps), so each method gets the best G learning rate of ``LEARNING_RATES`` on
``TUNING_SEED`` (D's keeps the method's ratio to it), judged by the share of modes captured times the share of
high-quality samples, averaged over its ten models (either share alone rewards a failure: collapsing onto the
grid's central mode gives most samples high quality, points spread evenly capture most modes). WGAN-GP also
tries both penalty weights, the paper's 10 and the authors' toy script's 0.1. The chosen rates are written into
``TOY_METHODS``; a reported run never includes ``TUNING_SEED``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from machine import machine_info

from gancourse.data import grid_of_gaussians, ring_of_gaussians
from gancourse.objectives import WassersteinGP
from gancourse.toys import TOY_METHODS, ToyMethod, score, toy_samples, train_toys

ROOT = Path(__file__).resolve().parents[1]
TUNING_SEED = 100  # chooses the learning rates; never in a reported table
STEPS, MODELS_PER_DATASET = 1_000, 5
DATASETS = {"grid": grid_of_gaussians(), "ring": ring_of_gaussians()}  # five models on each
LEARNING_RATES = (3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)  # G's; D's keeps each method's ratio


def grid_of_settings() -> dict[str, ToyMethod]:
    """Every method at every G learning rate (and WGAN-GP at both penalty weights), named "method, lr_g ...". """
    settings = {}
    for name, method in TOY_METHODS.items():
        variants = {name: method}
        if isinstance(method.objective, WassersteinGP):
            other = 10.0 if method.objective.gp_weight != 10.0 else 0.1  # the paper's and the authors' toy script's
            variants[f"{name} (λ = {other:g})"] = replace(method, objective=WassersteinGP(gp_weight=other))
        for label, variant in variants.items():
            for lr in LEARNING_RATES:
                settings[f"{label}, lr_g {lr:g}"] = variant.with_lr_g(lr)
    return settings


def criterion(result: np.ndarray, mixtures: list) -> float:
    """The tuning criterion in [0, 1]: per model (share of its mixture's modes captured) x (high-quality share),
    averaged over the models; ``result`` is ``score``'s (models, 2)."""
    modes = np.array([len(mixture.centres) for mixture in mixtures])
    return float((result[:, 0] / modes * result[:, 1]).mean())


def run(settings: dict[str, ToyMethod], seeds: list[int]) -> list[dict]:
    mixtures = [mixture for mixture in DATASETS.values() for _ in range(MODELS_PER_DATASET)]
    rows = []
    for name, method in settings.items():
        for seed in seeds:
            started = time.perf_counter()
            G, _ = train_toys(method, mixtures, STEPS, seed=seed)
            seconds = time.perf_counter() - started
            result = score(toy_samples(G), mixtures)
            for i, dataset in enumerate(DATASETS):
                part = result[i * MODELS_PER_DATASET : (i + 1) * MODELS_PER_DATASET]
                rows.append({"method": name, "seed": seed, "dataset": dataset, "seconds": round(seconds, 1),
                             "modes": part[:, 0].tolist(), "high quality": part[:, 1].tolist()})
            print(f"{name}, seed {seed}: {seconds:.0f} s, modes x high quality {criterion(result, mixtures):.3f}",
                  file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    """Per method and dataset: the mean over each seed's five models, then mean ± std and range over the seeds."""
    lines = ["| method | data | modes | high quality | high quality, range over seeds | modes x high quality |",
             "|---|---|---|---|---|---|"]
    for name, dataset in dict.fromkeys((row["method"], row["dataset"]) for row in rows):
        runs = [row for row in rows if row["method"] == name and row["dataset"] == dataset]
        modes = np.array([np.mean(row["modes"]) for row in runs])
        quality = np.array([np.mean(row["high quality"]) for row in runs])
        modes_in_data = len(DATASETS[dataset].centres)
        both = np.mean([np.array(row["modes"]) / modes_in_data * np.array(row["high quality"]) for row in runs])
        lines.append(f"| {name} | {dataset} | {modes.mean():.1f} ± {modes.std():.1f} | {quality.mean():.1%} ± "
                     f"{quality.std():.1%} | {quality.min():.1%}–{quality.max():.1%} | {both:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tune", action="store_true", help=f"every grid setting on seed {TUNING_SEED} only")
    parser.add_argument("--methods", nargs="+", default=None, help="restrict to these methods (names as printed)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "remedies_toys.json")
    args = parser.parse_args(argv)
    if TUNING_SEED in args.seeds and not args.tune:
        parser.error(f"seed {TUNING_SEED} chooses the learning rates: it is not reported")
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = grid_of_settings() if args.tune else dict(TOY_METHODS)
    if args.methods:
        settings = {name: method for name, method in settings.items()
                    if any(name == m or name.startswith(f"{m},") or name.startswith(f"{m} (") for m in args.methods)}
    rows = run(settings, [TUNING_SEED] if args.tune else args.seeds)
    print(table(rows))
    record = {"machine": machine_info(torch.device("cpu")), "steps": STEPS,
              "settings": {key: str(value) for key, value in vars(args).items()}, "rows": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
