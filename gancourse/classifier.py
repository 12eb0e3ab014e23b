"""A small frozen MNIST classifier: the offline evaluator behind ``gancourse.metrics``.

It is trained by this module (``python -m gancourse.classifier train``) on the 5,000 real MNIST digits shipped
with gancourse (``gancourse.data.load_mnist_sample``), holding out 100 digits per class it never sees, so CI,
laptops and Colab all get the same evaluator without a download. The weights ship inside the package with their
SHA-256 recorded below; ``load_classifier`` refuses a file whose hash differs.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checkpoint import save_atomic
from gancourse.data import load_mnist_sample
from gancourse.shipped import asset_path, checked, sha256

__all__ = ["FEATURE_DIM", "DigitClassifier", "accuracy", "load_classifier", "main"]

WEIGHTS_NAME = "digit_classifier.pt"
WEIGHTS_SHA256 = "79af290fc961c4a3c1cafce79e34fb4c56135585a2578b93d380ec2846916f51"
FEATURE_DIM = 64
TRAIN_SEED = 0


class DigitClassifier(nn.Module):
    """(B, 1, 28, 28) in [-1, 1] -> logits (B, 10); ``features`` gives the 64-d penultimate layer."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, 7, 7)
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),  # (B, 128, 1, 1)
            nn.Flatten(),  # (B, 128)
            nn.Dropout(0.2),
            nn.Linear(128, FEATURE_DIM), nn.ReLU(),  # (B, 64): the features the Frechet distance uses
        )
        self.head = nn.Linear(FEATURE_DIM, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass(frozen=True)
class Split:
    """The fixed split of the 5,000 shipped digits: 4,000 to train on, 1,000 held out (100 per class)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    held_out_images: torch.Tensor
    held_out_labels: torch.Tensor


def offline_split() -> Split:
    """The split ``load_mnist`` uses offline: the last ``HELD_OUT_PER_CLASS`` digits of each class held out."""
    train, held = load_mnist_sample(train=True), load_mnist_sample(train=False)
    return Split(train.images, train.labels, held.images, held.labels)


def _augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-digit random rotation (+-12 deg), scale (0.9-1.1) and shift (+-2 px): 4,000 digits are few, and a
    slightly turned, resized or moved digit is still the same digit."""
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * (12 * torch.pi / 180)
    scale = 0.9 + 0.2 * torch.rand(n, generator=generator)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 / 14)  # 2 px in [-1, 1] coordinates
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # shift to [0, 2] so that zero padding is background (-1 after shifting back)
    return F.grid_sample(images + 1, grid, align_corners=False, padding_mode="zeros") - 1


def train_classifier(epochs: int = 30, batch_size: int = 64, seed: int = TRAIN_SEED) -> tuple[DigitClassifier, float]:
    """Train from ``seed`` on the 4,000 training digits; return the model and its held-out accuracy."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    split = offline_split()
    model = DigitClassifier()
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=3e-3, total_steps=epochs * ((len(split.train_labels) + batch_size - 1) // batch_size)
    )
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(split.train_labels), generator=generator)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            loss = F.cross_entropy(model(_augment(split.train_images[batch], generator)), split.train_labels[batch])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
    return model.eval(), accuracy(model, split.held_out_images, split.held_out_labels)


@torch.no_grad()
def accuracy(model: DigitClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    return float((model(images).argmax(1) == labels).float().mean())


def weights_path() -> Path:
    return asset_path(WEIGHTS_NAME)


def load_classifier(device: torch.device | str = "cpu") -> DigitClassifier:
    """The shipped, frozen classifier in eval mode (weights checked against the recorded SHA-256)."""
    path = checked(weights_path(), WEIGHTS_SHA256, "reinstall gancourse or run `python -m gancourse.classifier train`")
    model = DigitClassifier()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval().to(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["train"])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    started = time.perf_counter()
    model, held_out = train_classifier(epochs=args.epochs)
    path = save_atomic(model.state_dict(), weights_path())
    record = {
        "sha256": sha256(path),
        "held_out_accuracy": held_out,
        "epochs": args.epochs,
        "seed": TRAIN_SEED,
        "torch": torch.__version__,
        "seconds": round(time.perf_counter() - started, 1),
    }
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    print(f"Now set WEIGHTS_SHA256 = {record['sha256']!r} in gancourse/classifier.py")


if __name__ == "__main__":
    main()
