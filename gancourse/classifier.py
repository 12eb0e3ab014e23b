"""Two small frozen MNIST classifiers: the offline evaluators behind ``gancourse.metrics``.

``DigitClassifier`` ("digit") is the course's evaluator: its features give the Fréchet distance, its probabilities
the confidence and the class counts. ``SecondClassifier`` ("second") is a second opinion, different in architecture
and seed: Chapter 9 trains a network on the first one's feature maps, and judges it with both.

Both are trained by this module (``python -m gancourse.classifier train [--name second]``) on the 5,000 real MNIST
digits shipped with gancourse (``gancourse.data.load_mnist_sample``), holding out 100 digits per class they never
see, so CI, laptops and Colab all get the same evaluators without a download. The weights ship inside the package
with their SHA-256 recorded below; ``load_classifier`` refuses a file whose hash differs.
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

__all__ = ["EVALUATORS", "FEATURE_DIM", "DigitClassifier", "SecondClassifier", "accuracy", "load_classifier", "main"]

WEIGHTS_NAME = "digit_classifier.pt"
WEIGHTS_SHA256 = "79af290fc961c4a3c1cafce79e34fb4c56135585a2578b93d380ec2846916f51"
FEATURE_DIM = 64
TRAIN_SEED = 0
SECOND_WEIGHTS_NAME = "second_classifier.pt"
SECOND_WEIGHTS_SHA256 = "66f8e8546b3522836fd42cfb6778566a1cf227bf008375e839c6a36d7c8d62ac"
SECOND_FEATURE_DIM = 84
SECOND_TRAIN_SEED = 1


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


class SecondClassifier(nn.Module):
    """(B, 1, 28, 28) in [-1, 1] -> logits (B, 10); ``features`` gives the 84-d layer before the head.

    LeNet-5's shape (LeCun et al. 1998): 5x5 convolutions, tanh and average pooling, where ``DigitClassifier`` has
    3x3 convolutions, ReLU and max pooling; trained from another seed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),  # (B, 6, 14, 14)
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),  # (B, 16, 5, 5)
            nn.Flatten(),  # (B, 400)
            nn.Linear(400, 120), nn.Tanh(),
            nn.Linear(120, SECOND_FEATURE_DIM), nn.Tanh(),  # (B, 84): the features
        )
        self.head = nn.Linear(SECOND_FEATURE_DIM, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


@dataclass(frozen=True)
class Evaluator:
    """A shipped classifier: its class, weights file, their SHA-256, training seed and feature width."""

    model: type[nn.Module]
    weights_name: str
    weights_sha256: str
    seed: int
    feature_dim: int


EVALUATORS = {
    "digit": Evaluator(DigitClassifier, WEIGHTS_NAME, WEIGHTS_SHA256, TRAIN_SEED, FEATURE_DIM),
    "second": Evaluator(SecondClassifier, SECOND_WEIGHTS_NAME, SECOND_WEIGHTS_SHA256, SECOND_TRAIN_SEED,
                        SECOND_FEATURE_DIM),
}


def evaluator(name: str) -> Evaluator:
    """``EVALUATORS[name]``, or one error listing the names."""
    if name not in EVALUATORS:
        raise ValueError(f"unknown evaluator {name!r}; choose one of {sorted(EVALUATORS)}")
    return EVALUATORS[name]


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


def train_classifier(epochs: int = 30, batch_size: int = 64, name: str = "digit") -> tuple[nn.Module, float]:
    """Train evaluator ``name`` from its seed on the 4,000 training digits; return it and its held-out accuracy."""
    spec = evaluator(name)
    torch.manual_seed(spec.seed)
    generator = torch.Generator().manual_seed(spec.seed)
    split = offline_split()
    model = spec.model()
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
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    return float((model(images).argmax(1) == labels).float().mean())


def weights_path(name: str = "digit") -> Path:
    return asset_path(evaluator(name).weights_name)


def load_classifier(device: torch.device | str = "cpu", name: str = "digit") -> nn.Module:
    """The shipped, frozen classifier ``name`` in eval mode (weights checked against the recorded SHA-256)."""
    spec = evaluator(name)
    remedy = f"reinstall gancourse or run `python -m gancourse.classifier train --name {name}`"
    path = checked(weights_path(name), spec.weights_sha256, remedy)
    model = spec.model()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval().to(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["train"])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--name", choices=sorted(EVALUATORS), default="digit")
    args = parser.parse_args()
    started = time.perf_counter()
    model, held_out = train_classifier(epochs=args.epochs, name=args.name)
    path = save_atomic(model.state_dict(), weights_path(args.name))
    record = {
        "sha256": sha256(path),
        "held_out_accuracy": held_out,
        "architecture": type(model).__name__,
        "epochs": args.epochs,
        "seed": evaluator(args.name).seed,
        "torch": torch.__version__,
        "seconds": round(time.perf_counter() - started, 1),
    }
    path.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    constant = "WEIGHTS_SHA256" if args.name == "digit" else f"{args.name.upper()}_WEIGHTS_SHA256"
    print(f"Now set {constant} = {record['sha256']!r} in gancourse/classifier.py")


if __name__ == "__main__":
    main()
