"""Chapter 7's bars across seeds: conditional lean DCGANs against the unconditional one, on one budget.

Each model trains on the 4,000 training digits for ``--steps`` iterations of ``--batch`` (Chapter 4's CPU budget:
2,500 of 32), then makes 1,000 digits, 100 per class, each asked for with the (digit, thickness, slant) of a
training digit of that class, and is measured against the 1,000 held-out digits with the frozen classifier.
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

from gancourse.attributes import attribute_ranks, measure
from gancourse.conditional import (
    ConcatDiscriminator,
    ConditionalGenerator,
    ConditionalTrainer,
    ProjectionDiscriminator,
    conditional_report,
    conditions_per_class,
    generate_conditional,
)
from gancourse.data import load_mnist
from gancourse.metrics import digit_report
from gancourse.models import LeanDCGANDiscriminator, LeanDCGANGenerator, dcgan_init_, generate
from gancourse.runtime import machine_info, seed_everything
from gancourse.train import GANTrainer, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("unconditional", "concat", "projection", "projection + matching-aware")


def adam(model: torch.nn.Module) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))


def run(model: str, seed: int, steps: int, batch: int, data: dict) -> dict:
    seed_everything(seed)
    started = time.perf_counter()
    z = torch.randn(1000, 64, generator=torch.Generator().manual_seed(7))
    if model == "unconditional":
        G, D = dcgan_init_(LeanDCGANGenerator(64)), dcgan_init_(LeanDCGANDiscriminator())
        trainer = GANTrainer(G, D, adam(G), adam(D), data["images"], 64,
                             TrainConfig(batch_size=batch, progress=False))
        trainer.train(steps)
        seconds = time.perf_counter() - started
        report = digit_report(generate(G, z), data["reference"])
        return {"model": model, "seed": seed, "seconds": seconds, "FD": report["FD"],
                "confidence": report["confidence"], "classes": report["classes"]}
    G = dcgan_init_(ConditionalGenerator(64, condition_dim=12))
    D = dcgan_init_((ConcatDiscriminator if model == "concat" else ProjectionDiscriminator)(condition_dim=12))
    trainer = ConditionalTrainer(G, D, adam(G), adam(D), data["images"], data["conditions"], batch,
                                 matching_aware=model.endswith("matching-aware"))
    trainer.train(steps, progress=False)
    seconds = time.perf_counter() - started
    asked = data["asked"]
    report = conditional_report(generate_conditional(G, z, asked), asked, data["reference"],
                                data["reference_labels"], data["attributes"])
    return {"model": model, "seed": seed, "seconds": seconds, "FD": report["FD"],
            "confidence": report["confidence"], "classes": report["classes"],
            "min recognised": report["min recognised"], "recognised": report["recognised"].tolist(),
            "max class FD": float(report["class FD"].max()), "class FD": report["class FD"].tolist(),
            "thickness rho": report["thickness rho"], "slant rho": report["slant rho"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: PyTorch's)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/conditional-seeds-cpu.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    train, held_out = load_mnist(train=True), load_mnist(train=False)
    attributes = measure(train.images).float()
    conditions = torch.cat([torch.nn.functional.one_hot(train.labels, 10).float(),
                            attribute_ranks(attributes, attributes)], dim=1)
    data = {"images": train.images, "conditions": conditions, "attributes": attributes,
            "asked": conditions_per_class(conditions, train.labels), "reference": held_out.images,
            "reference_labels": held_out.labels}
    rows = []
    for model in args.models:
        for seed in args.seeds:
            row = run(model, seed, args.steps, args.batch, data)
            rows.append(row)
            print(f"{model:28s} seed {seed}: " + ", ".join(
                f"{k} {v:.3f}" for k, v in row.items() if isinstance(v, float)), flush=True)
    keys = ("FD", "confidence", "min recognised", "max class FD", "thickness rho", "slant rho", "seconds")
    print(f"\n{'model':28s} " + " ".join(f"{k:>22s}" for k in keys) + "   (min / mean / max over seeds)")
    summary = {}
    for model in args.models:
        cells, summary[model] = [], {}
        for key in keys:
            values = [r[key] for r in rows if r["model"] == model and key in r]
            if values:
                summary[model][key] = {"min": min(values), "mean": float(np.mean(values)), "max": max(values)}
                cells.append(f"{min(values):6.3f} {np.mean(values):6.3f} {max(values):7.3f}")
            else:
                cells.append(f"{'-':>22s}")
        print(f"{model:28s} " + " ".join(f"{c:>22s}" for c in cells))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": machine_info("cpu"), "steps": args.steps, "batch": args.batch,
                                     "seeds": args.seeds, "runs": rows, "summary": summary}, indent=2) + "\n")
    print(f"wrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")


if __name__ == "__main__":
    main()
