"""``python -m gancourse train``: train one of the course's GANs from the command line, on one process or under
``torchrun`` (DistributedDataParallel; ``gancourse.distributed``). ``python -m gancourse data``: put MNIST's four
files where the chapters find them, checked (``gancourse.data.install_mnist``).

``train`` writes into ``--out``: ``checkpoint.pt`` (atomically, every ``--checkpoint-every`` iterations and at the end;
``torch.load(weights_only=True)`` reads it), ``metrics.json`` (the frozen evaluator's ``digit_report`` of
``--eval-samples`` samples against the held-out reference digits, with the settings) and ``samples.png`` (an 8x8
grid of samples). ``--resume`` continues the checkpoint in ``--out`` up to ``--iterations`` iterations in all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torchvision.utils import save_image

from gancourse import distributed, models, objectives
from gancourse.augment import DiffAugment
from gancourse.averaging import GeneratorAverage, latent_batches, recompute_batch_norm
from gancourse.checkpoint import CheckpointError, load_checkpoint, save_atomic
from gancourse.data import MNISTFileError, check_idx_file, install_mnist, load_mnist, load_mnist_sample
from gancourse.metrics import digit_report
from gancourse.models import generate
from gancourse.runtime import make_deterministic, seed_everything
from gancourse.train import GANTrainer, TrainConfig

__all__ = ["build_parser", "main"]

MODELS = ("lean", "lean-critic", "keras", "mlp")
OBJECTIVES = ("nonsaturating", "minimax", "hinge", "wgan", "wgan-gp", "lsgan", "rpgan", "feature-matching")
CRITICS = ("wgan", "wgan-gp")
PENALISED = ("nonsaturating", "hinge", "rpgan", "feature-matching")  # the objectives that take R1 and R2
# what must not change when a run is resumed (the number of processes may: the global batch is what counts)
RUN_SETTINGS = ("model", "objective", "data", "batch_size", "k", "lr", "r1_gamma", "r2_gamma", "real_label", "bf16",
                "penalty_every", "max_grad_norm", "augment", "ema")
CHECKPOINT, METRICS, GRID = "checkpoint.pt", "metrics.json", "samples.png"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gancourse",
        description="Train a GAN of the course. Under torchrun (e.g. torchrun --standalone --nproc_per_node=2 -m "
                    "gancourse train ...) it runs DistributedDataParallel: gloo on the CPU, NCCL on CUDA.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser(
        "train", help="train a GAN and write a checkpoint, metrics.json and samples.png into --out",
        description="Writes into --out: checkpoint.pt (atomically, every --checkpoint-every iterations and at the "
                    "end; torch.load(weights_only=True) reads it), metrics.json (the frozen evaluator's numbers for "
                    "--eval-samples samples against the held-out reference digits) and samples.png (8x8 samples). "
                    "--resume continues the checkpoint in --out up to --iterations iterations in all.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--iterations", type=int, required=True,
                       help="iterations in all (k discriminator steps and one generator step each); with --resume "
                            "the run continues until it has done this many")
    train.add_argument("--out", type=Path, required=True, help="folder for checkpoint.pt, metrics.json, samples.png")
    train.add_argument("--model", choices=MODELS, default="lean",
                       help="lean: Chapter 4's lean DCGAN; lean-critic: its generator against the same discriminator "
                            "without batch norm (for the penalties); keras: the source's Keras DCGAN; mlp: Chapter "
                            "3's MLPs")
    train.add_argument("--objective", choices=OBJECTIVES, default="nonsaturating",
                       help="the loss (gancourse.objectives): nonsaturating BCE, minimax BCE, hinge, wgan (weight "
                            "clipping at 0.01), wgan-gp (gradient penalty, lambda 10; needs a critic without batch "
                            "norm: --model lean-critic or mlp), lsgan (least squares), rpgan (relativistic pairing), "
                            "feature-matching (G matches the mean of D's features; --model lean or lean-critic)")
    train.add_argument("--data", choices=("mnist", "sample"), default="mnist",
                       help="mnist: torchvision's 60,000 digits when present or downloadable, else the offline "
                            "sample; sample: always the offline 4,000 training digits (metrics use their 1,000 "
                            "held-out digits)")
    train.add_argument("--batch-size", type=int, default=64,
                       help="the global batch: split evenly over the torchrun processes")
    train.add_argument("--k", type=int, default=None,
                       help="discriminator steps per generator step (default: 5 for wgan and wgan-gp, else 1)")
    train.add_argument("--lr", type=float, default=None,
                       help="learning rate of both networks (default: Adam 2e-4, betas (0.5, 0.999); wgan: RMSprop "
                            "5e-5; wgan-gp: Adam 1e-4, betas (0.5, 0.9), as in the papers)")
    train.add_argument("--r1-gamma", type=float, default=0.0,
                       help="R1 penalty weight gamma on real data (nonsaturating, hinge, rpgan, feature-matching)")
    train.add_argument("--r2-gamma", type=float, default=0.0,
                       help="R2 penalty weight gamma on fake data (the same objectives as --r1-gamma)")
    train.add_argument("--max-grad-norm", type=float, default=None,
                       help="clip each network's gradient to this L2 norm (torch.nn.utils.clip_grad_norm_); the norms "
                            "before clipping are in the checkpoint's history either way")
    train.add_argument("--augment", action="store_true",
                       help="DiffAugment (translation and cutout) on every image D sees, in both players' steps")
    train.add_argument("--ema", action="store_true",
                       help="also keep a moving average of G's weights (StyleGAN2-ADA's ramp-up; batch-norm statistics "
                            "recomputed at the end) and score its samples as well")
    train.add_argument("--penalty-every", type=int, default=1,
                       help="lazy regularisation (StyleGAN2 uses 16): the R1 or gradient penalty on every N-th "
                            "discriminator step only, multiplied by N")
    train.add_argument("--real-label", type=float, default=1.0,
                       help="real target below 1: one-sided label smoothing (nonsaturating only)")
    train.add_argument("--seed", type=int, default=0, help="seed of the networks' initialisation and of training")
    train.add_argument("--device", choices=("cpu", "cuda", "mps"), default=None,
                       help="default: CUDA if present, then MPS, else the CPU (torchrun: CUDA or CPU)")
    train.add_argument("--bf16", action="store_true",
                       help="forward passes in bfloat16 (torch.autocast); fast on recent GPUs and on CPUs with "
                            "bfloat16 instructions, slower elsewhere")
    train.add_argument("--deterministic", action="store_true",
                       help="CUDA runs repeat number for number (torch.use_deterministic_algorithms, a fixed cuBLAS "
                            "workspace; slower); CPU runs do anyway")
    train.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    train.add_argument("--checkpoint-every", type=int, default=500, help="iterations between checkpoints")
    train.add_argument("--log-every", type=int, default=25, help="iterations between copies of the losses to the host")
    train.add_argument("--eval-samples", type=int, default=1000,
                       help="samples scored at the end against the held-out reference digits (at least 65)")
    train.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    data = commands.add_parser(
        "data", help="put MNIST's four files where the chapters find them ($GANCOURSE_DATA or ~/.cache/gancourse)",
        description="Installs MNIST's 60,000 training and 10,000 test digits into the data root, from a folder "
                    "holding torchvision's four IDX files (plain or .gz) or by torchvision's download, and checks "
                    "each file's SHA-256. The chapters then use them instead of the offline 5,000-digit sample.")
    data.add_argument("--from", dest="source", type=Path,
                      help="a folder with the four files (train-images-idx3-ubyte[.gz], ...); default: download")
    data.add_argument("--root", type=Path, help="the data root (default: $GANCOURSE_DATA or ~/.cache/gancourse)")
    return parser


def check(parser: argparse.ArgumentParser, args: argparse.Namespace, world_size: int) -> None:
    """One clear error per bad combination (printed by rank 0 only under torchrun)."""
    problems = [
        (args.iterations < 1, f"--iterations must be >= 1, got {args.iterations}"),
        (args.batch_size < 1 or args.batch_size % world_size,
         f"--batch-size {args.batch_size} must be a positive multiple of the {world_size} processes"),
        (args.k is not None and args.k < 1, f"--k must be >= 1, got {args.k}"),
        (args.lr is not None and args.lr <= 0, f"--lr must be > 0, got {args.lr}"),
        (args.objective == "wgan-gp" and args.model not in ("lean-critic", "mlp"),
         f"--objective wgan-gp needs a critic without batch norm; --model {args.model}'s discriminator has it: use "
         "--model lean-critic or mlp"),
        (args.objective == "feature-matching" and args.model not in ("lean", "lean-critic"),
         "--objective feature-matching needs a discriminator with features: --model lean or lean-critic"),
        ((args.r1_gamma or args.r2_gamma) and args.objective not in PENALISED,
         f"--r1-gamma and --r2-gamma apply to --objective {', '.join(PENALISED)}"),
        (args.r1_gamma < 0 or args.r2_gamma < 0, "--r1-gamma and --r2-gamma must be >= 0"),
        (args.max_grad_norm is not None and not args.max_grad_norm > 0,
         f"--max-grad-norm must be > 0, got {args.max_grad_norm}"),
        (args.penalty_every < 1, f"--penalty-every must be >= 1, got {args.penalty_every}"),
        (args.penalty_every > 1 and not (args.r1_gamma or args.r2_gamma) and args.objective != "wgan-gp",
         "--penalty-every applies to a penalty: --r1-gamma or --r2-gamma above 0, or --objective wgan-gp"),
        (args.real_label != 1.0 and args.objective not in ("nonsaturating", "feature-matching"),
         "--real-label applies to nonsaturating and feature-matching"),
        (not 0.5 < args.real_label <= 1.0, f"--real-label must lie in (0.5, 1], got {args.real_label}"),
        (args.checkpoint_every < 1 or args.log_every < 1, "--checkpoint-every and --log-every must be >= 1"),
        (args.eval_samples < 65, f"--eval-samples must be >= 65 (the Frechet distance needs more samples than "
                                 f"its 64 features), got {args.eval_samples}"),
        (args.resume and not (args.out / CHECKPOINT).is_file(), f"--resume: no {CHECKPOINT} in {args.out}"),
        (not args.resume and (args.out / CHECKPOINT).exists(),
         f"{args.out} already holds {CHECKPOINT}: pass --resume to continue it, or choose another --out"),
    ]
    for bad, message in problems:
        if bad:
            fail(parser, message)


def fail(parser: argparse.ArgumentParser, message: str) -> None:
    if os.environ.get("RANK", "0") == "0":
        parser.error(message)
    sys.exit(2)  # the other ranks exit quietly: one message, not one per process


def settings(args: argparse.Namespace) -> dict:
    """The run's settings as plain values (they go into the checkpoint and metrics.json)."""
    k = args.k if args.k is not None else (5 if args.objective in CRITICS else 1)
    lr = args.lr if args.lr is not None else {"wgan": 5e-5, "wgan-gp": 1e-4}.get(args.objective, 2e-4)
    return {"model": args.model, "objective": args.objective, "data": args.data, "batch_size": args.batch_size,
            "k": k, "lr": lr, "r1_gamma": args.r1_gamma, "r2_gamma": args.r2_gamma, "real_label": args.real_label,
            "bf16": args.bf16, "penalty_every": args.penalty_every, "max_grad_norm": args.max_grad_norm,
            "augment": args.augment, "ema": args.ema, "seed": args.seed, "iterations": args.iterations}


def make_objective(run: dict) -> objectives.Objective:
    return {
        "nonsaturating": lambda: objectives.NonSaturating(run["real_label"], run["r1_gamma"], run["r2_gamma"]),
        "minimax": objectives.Minimax,
        "hinge": lambda: objectives.Hinge(run["r1_gamma"], run["r2_gamma"]),
        "wgan": objectives.Wasserstein,
        "wgan-gp": objectives.WassersteinGP,
        "lsgan": objectives.LeastSquares,
        "rpgan": lambda: objectives.RelativisticPairing(run["r1_gamma"], run["r2_gamma"]),
        "feature-matching": lambda: objectives.FeatureMatching(run["real_label"], run["r1_gamma"], run["r2_gamma"]),
    }[run["objective"]]()


def make_models(name: str) -> tuple[nn.Module, nn.Module]:
    if name in ("lean", "lean-critic"):
        critic = models.LeanDCGANDiscriminator() if name == "lean" else models.LeanDCGANCritic()
        return models.dcgan_init_(models.LeanDCGANGenerator()), models.dcgan_init_(critic)
    if name == "keras":
        return models.KerasDCGANGenerator(), models.KerasDCGANDiscriminator()
    return (models.MLPGenerator(100, (1, 28, 28), hidden=(256, 256), tanh=True),
            models.MLPDiscriminator((1, 28, 28), hidden=(256, 256)))


def make_optimiser(run: dict, module: nn.Module) -> torch.optim.Optimizer:
    if run["objective"] == "wgan":
        return torch.optim.RMSprop(module.parameters(), lr=run["lr"])
    betas = (0.5, 0.9) if run["objective"] == "wgan-gp" else (0.5, 0.999)
    return torch.optim.Adam(module.parameters(), lr=run["lr"], betas=betas)


def load_digits(data: str, train: bool, context) -> torch.Tensor:
    """Images (N, 1, 28, 28) in [-1, 1]; under torchrun rank 0 loads (and perhaps downloads) first."""
    def load():
        if data == "sample":
            return load_mnist_sample(train=train)
        return load_mnist(train=train, quiet=not context.is_main)

    if not context.distributed:
        return load().images
    if context.is_main:
        images = load().images
    dist.barrier()
    if not context.is_main:
        images = load().images
    return images


def train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict | None:
    world = int(os.environ.get("WORLD_SIZE", "1")) if distributed.launched_by_torchrun() else 1
    check(parser, args, world)
    run = settings(args)
    path = args.out / CHECKPOINT
    state = None
    if args.resume:
        try:
            state = load_checkpoint(path)
        except CheckpointError as error:
            fail(parser, str(error))
        saved = state.get("settings", {})
        lacking = [name for name in RUN_SETTINGS if name not in saved]
        if lacking:
            fail(parser, f"--resume: {path} lacks the settings {', '.join(lacking)}: it was not written by this "
                         "version of python -m gancourse train; start a new run in another --out")
        changed = [f"{name} {saved.get(name)!r} -> {run[name]!r}" for name in RUN_SETTINGS
                   if saved.get(name) != run[name]]
        if changed:
            fail(parser, f"--resume with other settings than the checkpoint's: {', '.join(changed)}")
    if args.deterministic:
        make_deterministic()
    try:
        context = distributed.init(args.device)
    except RuntimeError as error:
        fail(parser, str(error))
    try:
        seed_everything(args.seed)
        device = context.device
        G, D = make_models(run["model"])
        G, D = distributed.sync_batch_norm(G, device).to(device), distributed.sync_batch_norm(D, device).to(device)
        images = load_digits(run["data"], True, context).to(device)
        config = TrainConfig(objective=make_objective(run), batch_size=run["batch_size"] // context.world_size,
                             k=run["k"], log_every=args.log_every, progress=args.progress,
                             penalty_every=run["penalty_every"], autocast=torch.bfloat16 if run["bf16"] else None,
                             max_grad_norm=run["max_grad_norm"], augment=DiffAugment() if run["augment"] else None)
        trainer_class = distributed.DistributedGANTrainer if context.distributed else GANTrainer
        opt_g = make_optimiser(run, G)
        trainer = trainer_class(G, D, opt_g, make_optimiser(run, D), images, G.latent_dim, config, device)
        average = GeneratorAverage(G) if run["ema"] else None
        if average is not None:
            average.attach_to(opt_g, G, run["batch_size"])
        if state is not None:
            trainer.load_state_dict(state)
            if average is not None:
                average.load_state_dict(state["average"])
        started = time.perf_counter()
        while trainer.iterations < args.iterations:
            chunk = min(args.checkpoint_every, args.iterations - trainer.iterations)
            trainer.train(chunk, desc=f"{run['model']} {run['objective']}, iterations {trainer.iterations + 1}-"
                                      f"{trainer.iterations + chunk} of {args.iterations}")
            if context.is_main:
                extra = {} if average is None else {"average": average.state_dict()}
                save_atomic(trainer.state_dict() | {"settings": run} | extra, path)
        if not context.is_main:
            return None
        z = torch.randn(args.eval_samples, G.latent_dim, generator=torch.Generator().manual_seed(args.seed))
        samples = generate(G, z.to(device)).float()
        reference = load_digits(run["data"], False, distributed.Context()).to(device)
        save_image(samples[:64], args.out / GRID, nrow=8, normalize=True, value_range=(-1, 1))
        h = trainer.history
        if average is not None:  # the average's own batch-norm statistics, then the same noise
            noise = torch.Generator().manual_seed(args.seed + 1)
            recompute_batch_norm(average.module, latent_batches(G.latent_dim, 32, 256, generator=noise, device=device))
            averaged_report = digit_report(generate(average.module, z.to(device)).float(), reference)
        metrics = {"iterations": trainer.iterations, "report": digit_report(samples, reference),
                   "reference_digits": len(reference), "processes": context.world_size,
                   "device": str(device), "seconds_this_run": round(time.perf_counter() - started, 2),
                   "last_losses": {"d_loss": h.d_loss[-1], "g_loss": h.g_loss[-1]} if h.d_loss else None,
                   "settings": run}
        if average is not None:
            metrics["report of the average"] = averaged_report
        for name in ("report", "report of the average"):  # strict JSON: an infinite max/min is the string "inf"
            if name in metrics:
                metrics[name] = {k: "inf" if v == float("inf") else v for k, v in metrics[name].items()}
        (args.out / METRICS).write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n")
        for name, whose in (("report", ""), ("report of the average", ", the average of G")):
            if name in metrics:
                line = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                 for k, v in metrics[name].items())
                print(f"iteration {trainer.iterations}{whose}: {line}")
        print(f"wrote {path}, {args.out / METRICS}, {args.out / GRID}")
        return metrics
    finally:
        distributed.shutdown(wait=sys.exc_info()[0] is None)  # after an error, do not wait for the other ranks


def main(argv: list[str] | None = None) -> dict | None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "data":
        return install_data(args, parser)
    return train(args, parser)


def install_data(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """``python -m gancourse data``: MNIST's files into the data root, checked; one line says where."""
    if args.source is not None and not args.source.is_dir():
        parser.error(f"--from {args.source}: not a folder")
    try:
        raw = install_mnist(args.source, args.root)
    except (FileNotFoundError, MNISTFileError) as error:
        parser.error(str(error))
    counts = [check_idx_file(raw / f"{side}-labels-idx1-ubyte")[0] for side in ("train", "t10k")]
    print(f"MNIST installed in {raw} (SHA-256 checked): {counts[0]:,} training and {counts[1]:,} test digits")
