"""Chapter 8's bars across seeds: conditional lean DCGANs against the unconditional one, on one budget.

Each model trains on the training digits in iterations of ``--batch`` images (Chapter 4's CPU budget: 2,500 of 32).
After each count in ``--eval-at`` it makes 1,000 digits and is measured with the frozen classifier as Chapter 8
measures it: the first 1,000 held-out digits are split alternately into two halves of 500; a conditional model is
asked for the (digit, thickness, slant) of each digit of one half, twice, and every model is scored against the
other half, so the scored digits' own styles are never asked for.
Prints one row per (model, seed) and a summary (min / mean / max over seeds), and writes JSON.

    PYTHONPATH=$PWD GANCOURSE_OFFLINE=1 python benchmarks/conditional_seeds.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from machine import machine_info

from gancourse.attributes import measure
from gancourse.conditional import (
    ConcatDiscriminator,
    ProjectionDiscriminator,
    conditional_report,
    style_conditions,
)
from gancourse.data import load_mnist
from gancourse.metrics import classifier_outputs, digit_report
from gancourse.models import LeanDCGANDiscriminator, LeanDCGANGenerator, dcgan_init_, generate
from gancourse.runtime import seed_everything
from gancourse.train import GANTrainer, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("unconditional", "concat", "projection")


def adam(model: torch.nn.Module) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))


def evaluate(model: str, G: torch.nn.Module, data: dict) -> dict:
    """The measures of one trained generator (see the module docstring)."""
    z = torch.randn(1000, 64, generator=torch.Generator().manual_seed(7))
    if model == "unconditional":
        report = digit_report(generate(G, z), data["reference"])
        return {"FD": report["FD"], "confidence": report["confidence"], "classes": report["classes"]}
    asked = data["asked"]
    report = conditional_report(generate(G, z, asked), asked, data["reference"], data["reference_labels"])
    return {"FD": report["FD"], "confidence": report["confidence"], "classes": report["classes"],
            "min recognised": report["min recognised"], "recognised": report["recognised"].tolist(),
            "max class KID": float(report["class KID"].max()), "class KID": report["class KID"].tolist()} | {
                key: report[key] for key in report if key.endswith(" rho") or key.endswith(" rho within digit")}


def run(model: str, seed: int, eval_at: list[int], batch: int, data: dict) -> list[dict]:
    """Train one model from ``seed``, measuring it after each number of iterations in ``eval_at``."""
    seed_everything(seed)
    config = TrainConfig(batch_size=batch, progress=False)
    if model == "unconditional":
        G, D = dcgan_init_(LeanDCGANGenerator(64)), dcgan_init_(LeanDCGANDiscriminator())
        trainer = GANTrainer(G, D, adam(G), adam(D), data["images"], 64, config)
    else:
        G = dcgan_init_(LeanDCGANGenerator(64, condition_dim=12))
        D = dcgan_init_((ConcatDiscriminator if model == "concat" else ProjectionDiscriminator)(condition_dim=12))
        trainer = GANTrainer(G, D, adam(G), adam(D), data["images"], 64, config, conditions=data["conditions"])
    rows, seconds, done = [], 0.0, 0
    for steps in sorted(eval_at):
        started = time.perf_counter()
        trainer.train(steps - done)
        seconds, done = seconds + time.perf_counter() - started, steps
        rows.append({"model": model, "seed": seed, "steps": steps, "seconds": seconds} | evaluate(model, G, data))
    return rows


KEYS = ("FD", "confidence", "min recognised", "max class KID", "thickness rho", "slant rho",
        "thickness rho within digit", "slant rho within digit", "seconds")


def summarise(rows: list[dict]) -> dict:
    """Print min / mean / max over seeds per (model, steps); return them."""
    print(f"\n{'model':28s} {'steps':>5s} " + " ".join(f"{k:>22s}" for k in KEYS) + "   (min mean max, seeds)")
    summary = {}
    for model, steps in dict.fromkeys((r["model"], r["steps"]) for r in rows):
        chosen = [r for r in rows if r["model"] == model and r["steps"] == steps]
        cells, entry = [], {"seeds": sorted(r["seed"] for r in chosen)}
        for key in KEYS:
            values = [r[key] for r in chosen if key in r]
            if values:
                entry[key] = {"min": min(values), "mean": float(np.mean(values)), "max": max(values)}
                cells.append(f"{min(values):6.3f} {np.mean(values):6.3f} {max(values):7.3f}")
            else:
                cells.append(f"{'-':>22s}")
        summary[f"{model} @ {steps}"] = entry
        print(f"{model:28s} {steps:5d} " + " ".join(f"{c:>22s}" for c in cells) + f"   {entry['seeds']}")
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--eval-at", type=int, nargs="+", default=[1000, 2500],
                        help="iterations after which each run is measured; the last is the training budget")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: PyTorch's)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/conditional-seeds-cpu.json")
    parser.add_argument("--merge", type=Path, nargs="+", default=None,
                        help="no training: merge these JSON files' runs into --json and print the table")
    args = parser.parse_args(argv)
    if args.merge:
        files = [json.loads(path.read_text()) for path in args.merge]
        rows = [row for f in files for row in f["runs"]]
        write(args.json, files[0]["machine"], args.batch, rows)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    train, held_out = load_mnist(train=True), load_mnist(train=False)
    attributes = measure(train.images).float()
    conditions = style_conditions(train.labels, attributes, attributes)
    held_out_conditions = style_conditions(held_out.labels, measure(held_out.images).float(), attributes)
    data = {"images": train.images, "conditions": conditions,  # Chapter 8's halves of the held-out digits
            "asked": held_out_conditions[1:1000:2].repeat(2, 1), "reference": held_out.images[:1000:2],
            "reference_labels": held_out.labels[:1000:2]}
    # Building the frozen classifier draws its initial weights from the global RNG; build it before any run, so
    # that no run's training depends on whether an earlier run in this process already built it.
    classifier_outputs(held_out.images[:1])
    rows = []
    for model in args.models:
        for seed in args.seeds:
            for row in run(model, seed, args.eval_at, args.batch, data):
                rows.append(row)
                print(f"{model:28s} seed {seed} @ {row['steps']}: " + ", ".join(
                    f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float)), flush=True)
            write(args.json, machine_info("cpu"), args.batch, rows, quiet=True)  # a killed run keeps its rows
    write(args.json, machine_info("cpu"), args.batch, rows)


def write(path: Path, machine: dict, batch: int, rows: list[dict], quiet: bool = False) -> None:
    if quiet:
        summary = {}
    else:
        summary = summarise(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine, "batch": batch, "runs": rows, "summary": summary},
                               indent=2) + "\n")
    if not quiet:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
