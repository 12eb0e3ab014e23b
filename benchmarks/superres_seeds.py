"""Chapter 9's setting over several seeds: the spread its asserted bars are chosen from.

    python benchmarks/superres_seeds.py                  # seeds 0-4, the chapter's CPU setting
    python benchmarks/superres_seeds.py --seeds 0 1 --threads 1

For each seed: nearest and bicubic upsampling, the pixel-loss network (``train_pixel``), one SRGAN fine-tune per
adversarial weight of the sweep (``finetune_srgan``), and the two exercises that train (the pixel network at 2x;
the fine-tune with the content loss on pixels). Every row is ``sr_report`` on the 1,000 held-out digits: PSNR,
SSIM, Frechet distance, the classifier's accuracy and the share of confident misreadings. Prints one Markdown
table per measure (rows: method, columns: seeds, then min and max) and writes all of it to JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from machine import machine_info

from gancourse.data import load_mnist
from gancourse.runtime import seed_everything
from gancourse.superres import (
    SRSetting,
    downsample,
    finetune_srgan,
    sr_report,
    super_resolve,
    train_pixel,
    upsample,
)

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ("PSNR", "SSIM", "FD", "accuracy", "misread, sure", "confidence when misread")


def run_seed(seed: int, setting: SRSetting, train: torch.Tensor, hr: torch.Tensor, labels: torch.Tensor) -> dict:
    """Every method of the chapter (and its training exercises) from ``seed``: {method: sr_report}, seconds."""
    seed_everything(seed)
    started = time.perf_counter()
    low = downsample(hr, setting.factor)
    rows = {mode: sr_report(upsample(low, setting.factor, mode), hr, labels) for mode in ("nearest", "bicubic")}
    pixel = train_pixel(train, setting, seed)
    rows["pixel loss"] = sr_report(super_resolve(pixel, low), hr, labels)
    for weight in setting.adv_weights:
        net = finetune_srgan(pixel, train, weight, setting, seed)
        rows[f"SRGAN w={weight:g}"] = sr_report(super_resolve(net, low), hr, labels)
    # exercise: content loss on pixels, at the chapter's adversarial weight
    pixels_only = dataclasses.replace(setting, content_layers=0)
    net = finetune_srgan(pixel, train, setting.gan_weight, pixels_only, seed)
    rows[f"SRGAN pixel content w={setting.gan_weight:g}"] = sr_report(super_resolve(net, low), hr, labels)
    # exercise: 2x instead of 4x, with the exercise's shorter budget
    twice = dataclasses.replace(setting, factor=2, pixel_steps=setting.pixel_steps * 3 // 10)
    low2 = downsample(hr, 2)
    rows["2x bicubic"] = sr_report(upsample(low2, 2, "bicubic"), hr, labels)
    rows["2x pixel loss"] = sr_report(super_resolve(train_pixel(train, twice, seed), low2), hr, labels)
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 1)}


def run_seed_alone(seed: int, setting: SRSetting, device: str, threads: int | None) -> dict:
    """``run_seed`` in a worker process: its own thread count and its own copy of the data."""
    if threads:
        torch.set_num_threads(threads)
    train = load_mnist(train=True).images.to(device)
    held_out = load_mnist(train=False)
    return run_seed(seed, setting, train, held_out.images.to(device), held_out.labels.to(device))


def table(results: dict[int, dict], measure: str) -> str:
    seeds = list(results)
    lines = [f"| {measure} | " + " | ".join(f"seed {s}" for s in seeds) + " | min | max |",
             "|---|" + "---|" * (len(seeds) + 2)]
    for method in results[seeds[0]]["rows"]:
        values = [results[s]["rows"][method][measure] for s in seeds]
        lines.append(f"| {method} | " + " | ".join(f"{v:.3f}" for v in values)
                     + f" | {min(values):.3f} | {max(values):.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once in worker processes (CPU only)")
    parser.add_argument("--pixel-steps", type=int, default=SRSetting.pixel_steps)
    parser.add_argument("--finetune-steps", type=int, default=SRSetting.finetune_steps)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "superres-seeds.json")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    setting = SRSetting(pixel_steps=args.pixel_steps, finetune_steps=args.finetune_steps)
    if args.jobs > 1 and device.type == "cpu":
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {seed: pool.submit(run_seed_alone, seed, setting, args.device, args.threads)
                       for seed in args.seeds}
            results = {seed: future.result() for seed, future in futures.items()}
    else:
        results = {seed: run_seed_alone(seed, setting, args.device, args.threads) for seed in args.seeds}
    for seed, result in results.items():
        print(f"seed {seed}: {result['seconds']} s")
    print(f"machine: {machine_info(device)}")
    for measure in MEASURES:
        print(table(results, measure) + "\n")
    record = {"machine": machine_info(device), "threads": args.threads, "jobs": args.jobs,
              "setting": dataclasses.asdict(setting),
              "results": {str(seed): result for seed, result in results.items()}}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2) + "\n")
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
