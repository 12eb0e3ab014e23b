"""The training loops the benchmarks compare. Each trains given networks on given 8-bit digits, ``steps`` at a time.

- ``BaselineLoop``: the loop as pytorch/examples' ``dcgan/main.py`` runs it, written for this course from that
  script's description: a ``DataLoader`` (two worker processes by default, as there) over a dataset that turns each
  8-bit image into a PIL image, then a tensor, then normalises it to [-1, 1], as torchvision's ``MNIST`` does; a
  discriminator ending in a sigmoid with ``nn.BCELoss``; ``.item()`` on every loss and a progress line printed every
  iteration (to a null stream here, so the terminal is not flooded); the generator's step reusing the
  discriminator's fake batch; every 100 iterations a grid of real and of generated images saved as PNG (generated
  in training mode, as there); the generator and discriminator saved at the end of every epoch.
- ``GancourseLoop``: ``gancourse.train.GANTrainer`` as the chapters use it. ``fast=True`` switches on its speed
  options and more: the generator's step reuses the fake batch (``reuse_fakes``, as the baseline does), channels-last
  tensors, bfloat16 autocast where the device computes it natively, fused Adam on
  CUDA; and ``compile="default"`` wraps both networks in ``torch.compile`` (``"reduce-overhead"``: CUDA graphs).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
from pathlib import Path

import torch
from machine import fast_bfloat16, machine_info
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms
from torchvision.utils import save_image

from gancourse.train import GANTrainer, TrainConfig


def adam(model: nn.Module, fused: bool = False) -> torch.optim.Adam:
    """DCGAN's optimiser: Adam(2e-4, betas (0.5, 0.999)); ``fused`` (CUDA) updates all parameters in one kernel."""
    return torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999), **({"fused": True} if fused else {}))


def to_unit_range(pixels: torch.Tensor) -> torch.Tensor:
    """8-bit images (N, 28, 28) -> float (N, 1, 28, 28) in [-1, 1], the same values the baseline's transform gives."""
    return (pixels.float().unsqueeze(1) / 255 - 0.5) / 0.5


class EightBitDigits(Dataset):
    """Per-item decoding as torchvision's ``MNIST`` does it: uint8 array -> PIL image -> transform."""

    def __init__(self, pixels: torch.Tensor):
        self.pixels = pixels
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.pixels[index].numpy(), mode="L")), 0


class BaselineLoop:
    """The reference loop (see the module docstring). ``G`` is the generator, ``D`` the logit discriminator."""

    def __init__(self, G: nn.Module, D: nn.Module, pixels: torch.Tensor, batch_size: int, device: torch.device,
                 workers: int = 2):
        self.G, self.D = G.to(device), nn.Sequential(D, nn.Sigmoid()).to(device)
        self.opt_g, self.opt_d = adam(self.G), adam(self.D)
        self.loader = DataLoader(EightBitDigits(pixels), batch_size=batch_size, shuffle=True, num_workers=workers,
                                 drop_last=True)  # drop_last: every iteration sees batch_size images
        self.batches = iter(self.loader)
        self.fixed_noise = torch.randn(64, G.latent_dim, device=device)
        self.criterion, self.device, self.log = nn.BCELoss(), device, io.StringIO()
        self.outputs = tempfile.TemporaryDirectory(prefix="dcgan-baseline-")
        self.iteration = self.epoch = 0

    def _next_batch(self) -> torch.Tensor:
        try:
            real, _ = next(self.batches)
        except StopIteration:  # end of an epoch: the reference saves both networks, then starts the next
            out = Path(self.outputs.name)
            torch.save(self.G.state_dict(), out / f"netG_epoch_{self.epoch}.pth")
            torch.save(self.D.state_dict(), out / f"netD_epoch_{self.epoch}.pth")
            self.epoch += 1
            self.batches = iter(self.loader)
            real, _ = next(self.batches)
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
            print(f"[{self.epoch}][{self.iteration}] Loss_D: {(loss_real + loss_fake).item():.4f} "
                  f"Loss_G: {loss_g.item():.4f} D(x): {d_x:.4f} D(G(z)): {d_g_z1:.4f} / {d_g_z2:.4f}", file=self.log)
            self.log.seek(0)
            self.log.truncate()
            if self.iteration % 100 == 0:
                out = Path(self.outputs.name)
                save_image(real, out / "real_samples.png", normalize=True)
                save_image(G(self.fixed_noise).detach(), out / f"fake_samples_epoch_{self.epoch:03d}.png",
                           normalize=True)
            self.iteration += 1


def fast_options(device: torch.device, bfloat16: bool = True) -> dict[str, bool]:
    """What ``GancourseLoop(fast=True)`` switches on for ``device``; ``bfloat16=False`` keeps it off everywhere."""
    return {"reuse_fakes": True, "channels_last": True, "bfloat16": bfloat16 and fast_bfloat16(device),
            "fused_adam": device.type == "cuda"}


class GancourseLoop:
    """``GANTrainer`` on the same networks, data kept as one float tensor on the device (see the module docstring)."""

    def __init__(self, G: nn.Module, D: nn.Module, pixels: torch.Tensor, batch_size: int, device: torch.device,
                 fast: bool = False, compile: str | None = None, bfloat16: bool = True):
        data = to_unit_range(pixels).to(device)
        G, D = G.to(device), D.to(device)
        options = fast_options(device, bfloat16) if fast else dict.fromkeys(fast_options(device), False)
        if options["channels_last"]:
            G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
            data = data.contiguous(memory_format=torch.channels_last)
        opt_g, opt_d = adam(G, options["fused_adam"]), adam(D, options["fused_adam"])
        self.G = G  # uncompiled: what evaluation samples from
        if compile:
            G, D = torch.compile(G, mode=compile), torch.compile(D, mode=compile)
        config = TrainConfig(batch_size=batch_size, progress=False, reuse_fakes=options["reuse_fakes"],
                             autocast=torch.bfloat16 if options["bfloat16"] else None)
        self.trainer = GANTrainer(G, D, opt_g, opt_d, data, self.G.latent_dim, config, device)

    def train(self, steps: int) -> None:
        self.trainer.train(steps)


LOOP_NAMES = ("baseline", "gancourse", "gancourse fast")


def make_loop(name: str, G: nn.Module, D: nn.Module, pixels: torch.Tensor, batch_size: int, device: torch.device,
              workers: int = 2, compile: str | None = None, bfloat16: bool = True) -> BaselineLoop | GancourseLoop:
    """One of ``LOOP_NAMES`` on these networks and 8-bit images (N, 28, 28); ``workers`` is the baseline's."""
    if name == "baseline":
        return BaselineLoop(G, D, pixels, batch_size, device, workers)
    if name == "gancourse":
        return GancourseLoop(G, D, pixels, batch_size, device)
    if name == "gancourse fast":
        return GancourseLoop(G, D, pixels, batch_size, device, fast=True, compile=compile, bfloat16=bfloat16)
    raise ValueError(f"unknown loop {name!r}: expected one of {LOOP_NAMES}")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------------- what both benchmark scripts share

ROOT = Path(__file__).resolve().parents[1]


def add_loop_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of both scripts: the device, the baseline's workers, the fast loop's bfloat16 and compilation."""
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--workers", type=int, default=2, help="the baseline's DataLoader workers (its default: 2)")
    parser.add_argument("--no-bfloat16", dest="bfloat16", action="store_false",
                        help="keep the fast loop in float32 (what a CPU without bfloat16 instructions runs)")
    parser.add_argument("--compile", nargs="?", const="default", metavar="MODE",
                        help="torch.compile the fast loop's networks (MODE: default, reduce-overhead = CUDA graphs)")


def chosen_device(parser: argparse.ArgumentParser, args: argparse.Namespace) -> torch.device:
    """The device ``args`` asks for; a parser error if it is absent or the worker count is negative."""
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda asked for, but torch sees no CUDA device")
    if args.workers < 0:
        parser.error("workers must be >= 0")
    return device


def write_results(rows: list[dict], table: str, args: argparse.Namespace, device: torch.device, out: Path,
                  **settings) -> None:
    """Print the machine, the fast loop's options and ``table``; write all of it with ``rows`` to ``out`` (JSON)."""
    info = machine_info(device)
    fast = fast_options(device, args.bfloat16) | {"compile": bool(args.compile)}
    print(f"machine: {info}")
    print(f"gancourse fast: {', '.join(name for name, on in fast.items() if on)}")
    print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    settings = vars(args) | settings | {"json": os.path.relpath(out, ROOT), "fast_options": fast}
    out.write_text(json.dumps({"machine": info, "settings": settings, "rows": rows}, indent=2) + "\n")
