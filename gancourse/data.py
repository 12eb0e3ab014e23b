"""Data for the chapters: toy distributions with exact densities, and MNIST as tensors in [-1, 1].

Toy distributions
    ``GaussianMixture1D``  1-D mixture with ``pdf`` (exact) and ``sample`` -> (N, 1).
    ``GaussianMixture2D``  2-D isotropic mixture; ``ring_of_gaussians`` (8 modes) and ``grid_of_gaussians``
                           (5 x 5 modes) build the benchmarks of the mode-collapse literature.
MNIST
    ``load_mnist`` returns float images in [-1, 1] of shape (N, 1, 28, 28) and int64 labels (N,): torchvision's
    full set when its files are present or can be downloaded, otherwise the 5,000 real MNIST digits shipped in
    ``gancourse/assets/`` (``SAMPLE_NAME``, its SHA-256 checked at load), announced in one printed line. Either
    way ``train=False`` gives digits that share no image with ``train=True``: MNIST's 10,000 test digits online;
    offline, the last ``HELD_OUT_PER_CLASS`` digits of each class of the sample (1,000), which no network of the
    course trains on.
"""

from __future__ import annotations

import gzip
import math
import os
import socket
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
from torchvision.datasets import MNIST

from gancourse.shipped import asset_path, checked, sha256

__all__ = ["FULL_MNIST", "HELD_OUT_PER_CLASS", "OFFLINE_SAMPLE", "Digits", "GaussianMixture1D", "GaussianMixture2D",
           "MNISTFileError", "check_idx_file", "default_data_root", "grid_of_gaussians", "install_mnist", "load_mnist",
           "load_mnist_sample", "mnist_files_present", "network_reachable", "ring_of_gaussians"]

# --------------------------------------------------------------------------------------------- toy 1-D


@dataclass(frozen=True)
class GaussianMixture1D:
    """A mixture of 1-D Gaussians: p(x) = sum_k w_k N(x; mu_k, sigma_k^2)."""

    means: tuple[float, ...]
    stds: tuple[float, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        k = len(self.means)
        weights = self.weights if self.weights is not None else (1.0 / k,) * k
        if k == 0 or len(self.stds) != k or len(weights) != k:
            raise ValueError("means, stds and weights must be non-empty and of equal length")
        if any(s <= 0 for s in self.stds):
            raise ValueError(f"standard deviations must be positive, got {self.stds}")
        if any(w < 0 for w in weights) or not math.isclose(sum(weights), 1.0, rel_tol=1e-9):
            raise ValueError(f"weights must be non-negative and sum to 1, got {weights}")
        object.__setattr__(self, "weights", tuple(float(w) for w in weights))

    @property
    def mean(self) -> float:
        """Exact mean of the mixture."""
        return float(sum(w * m for w, m in zip(self.weights, self.means, strict=True)))

    @property
    def std(self) -> float:
        """Exact standard deviation of the mixture (law of total variance)."""
        second = sum(w * (s**2 + m**2) for w, m, s in zip(self.weights, self.means, self.stds, strict=True))
        return float(math.sqrt(second - self.mean**2))

    def pdf(self, x: np.ndarray | torch.Tensor | float) -> np.ndarray:
        """Exact density at ``x`` (any shape); returns a float64 array of the same shape."""
        x = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)
        total = np.zeros_like(x)
        for w, m, s in zip(self.weights, self.means, self.stds, strict=True):
            total += w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        return total

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples as a float32 tensor of shape (n, 1)."""
        component = torch.multinomial(torch.tensor(self.weights), n, replacement=True, generator=generator)
        means = torch.tensor(self.means, dtype=torch.float32)[component]
        stds = torch.tensor(self.stds, dtype=torch.float32)[component]
        return (means + stds * torch.randn(n, generator=generator)).unsqueeze(1)


# --------------------------------------------------------------------------------------------- toy 2-D


@dataclass(frozen=True)
class GaussianMixture2D:
    """An equal-weight mixture of isotropic 2-D Gaussians with centres (K, 2) and a shared ``std``."""

    centres: torch.Tensor
    std: float

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` points as a float32 tensor of shape (n, 2)."""
        k = self.centres.shape[0]
        mode = torch.randint(k, (n,), generator=generator)
        return self.centres[mode] + self.std * torch.randn(n, 2, generator=generator)

    def pdf(self, points: torch.Tensor | np.ndarray) -> np.ndarray:
        """Exact density at ``points`` of shape (N, 2); returns a float64 array (N,)."""
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(f"points must have shape (N, 2), got {pts.shape}")
        sq = ((pts[:, None, :] - self.centres.double().numpy()[None]) ** 2).sum(-1)  # (N, K)
        norm = 2 * math.pi * self.std**2
        return np.exp(-0.5 * sq / self.std**2).mean(axis=1) / norm


def ring_of_gaussians(n_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture2D:
    """Modes evenly spaced on a circle (the 'ring of 8' of Metz et al. 2016 and VEEGAN)."""
    angles = torch.arange(n_modes, dtype=torch.float32) * (2 * math.pi / n_modes)
    return GaussianMixture2D(radius * torch.stack([angles.cos(), angles.sin()], dim=1), std)


def grid_of_gaussians(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture2D:
    """``side`` x ``side`` modes on a square grid centred at the origin (the '5 x 5 grid')."""
    ticks = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(ticks, ticks, indexing="ij")
    return GaussianMixture2D(torch.stack([gx.flatten(), gy.flatten()], dim=1), std)


# --------------------------------------------------------------------------------------------- MNIST


FULL_MNIST, OFFLINE_SAMPLE = "full MNIST", "offline sample"


class MNISTFileError(RuntimeError):
    """An MNIST file on disk is corrupt or truncated."""


@dataclass(frozen=True)
class Digits:
    """Images (N, 1, 28, 28) float32 in [-1, 1], labels (N,) int64, and where they came from."""

    images: torch.Tensor
    labels: torch.Tensor
    source: str

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def dataset(self) -> str:
        """``FULL_MNIST`` for torchvision's files, ``OFFLINE_SAMPLE`` for the shipped sample: the two data sets the
        chapters' claims were measured on, and the key of any per-data-set figure a chapter uses."""
        return FULL_MNIST if self.source.startswith("torchvision") else OFFLINE_SAMPLE


_IDX_DTYPES = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}  # type code -> bytes per item
_MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


# SHA-256 of each decompressed file, as torchvision's download leaves it (the files' own README in CI's copy agrees).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def default_data_root() -> Path:
    """Where datasets live: ``$GANCOURSE_DATA`` or ``~/.cache/gancourse``."""
    return Path(os.environ.get("GANCOURSE_DATA", Path.home() / ".cache" / "gancourse"))


def check_idx_file(path: Path) -> tuple[int, ...]:
    """Check an IDX file's header against its size; return its shape or raise ``MNISTFileError`` naming it."""
    data = path.read_bytes()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise MNISTFileError(f"{path}: not an IDX file (bad magic number); delete it and download again")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MNISTFileError(f"{path}: truncated IDX header; delete it and download again")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + math.prod(shape) * _IDX_DTYPES[data[2]]
    if len(data) != expected:
        raise MNISTFileError(
            f"{path}: {len(data)} bytes but its header promises {expected} (shape {shape}); "
            "the file is corrupt or partly downloaded: delete it and download again"
        )
    return shape


def mnist_files_present(root: Path | None = None) -> bool:
    """True when torchvision's four MNIST files are under ``root`` (default: ``default_data_root()``)."""
    root = Path(root) if root is not None else default_data_root()
    raw = root / "MNIST" / "raw"
    return all((raw / name).exists() for pair in _MNIST_FILES.values() for name in pair)


def network_reachable(url: str, timeout: float = 3.0) -> bool:
    """True when a TCP connection to ``url``'s host opens within ``timeout`` seconds (DNS included)."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((parsed.hostname, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    # A thread bounds the DNS lookup too, which create_connection's timeout does not cover.
    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(result and result[0])


def _to_unit_range(pixels: torch.Tensor) -> torch.Tensor:
    """uint8-valued pixels (N, 28, 28) or (N, 784) in [0, 255] -> float32 (N, 1, 28, 28) in [-1, 1]."""
    return (pixels.reshape(-1, 1, 28, 28).float() / 127.5 - 1.0).clamp_(-1.0, 1.0)


def _load_torchvision(root: Path, train: bool, download: bool) -> Digits:
    raw = root / "MNIST" / "raw"
    if not download or mnist_files_present(root):
        for name in _MNIST_FILES[train]:
            check_idx_file(raw / name)
    dataset = MNIST(str(root), train=train, download=download)
    return Digits(_to_unit_range(dataset.data), dataset.targets.long(), f"torchvision MNIST ({root})")


# The offline sample: the first 500 digits of each class of MNIST's training set, sorted by class, as uint8 images
# (5000, 28, 28) and labels (5000,); tools/export_mnist_sample.py wrote it and gancourse/assets/README.md describes it.
SAMPLE_NAME = "mnist_sample.npz"
SAMPLE_SHA256 = "a726012be374a1b1dfa0280e806b75e5e07d3ec17e08273236c3730ab36dbd13"


def _sample_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped sample as images (5000, 1, 28, 28) in [-1, 1] and labels (5000,) int64, once its SHA-256 matches
    ``SAMPLE_SHA256`` (a missing or altered file raises one error naming it)."""
    path = checked(asset_path(SAMPLE_NAME), SAMPLE_SHA256)
    with np.load(path, allow_pickle=False) as sample:
        images, labels = sample["images"], sample["labels"]
    return _to_unit_range(torch.from_numpy(images)), torch.from_numpy(labels).long()


HELD_OUT_PER_CLASS = 100  # offline: the last 100 digits of each class are the reference, never trained on


def load_mnist_sample(train: bool | None = None) -> Digits:
    """The 5,000 real MNIST digits shipped with gancourse (500 per class, sorted by class): no download, ever.

    ``train=True``: the 4,000 digits the course trains on (the classifier and every GAN); ``train=False``: the
    1,000 held out (the last ``HELD_OUT_PER_CLASS`` of each class), the reference every measurement uses;
    ``None``: all 5,000.
    """
    images, labels = _sample_digits()
    if train is None:
        return Digits(images, labels, "the 5,000-digit MNIST sample shipped with gancourse")
    held = torch.zeros(len(labels), dtype=torch.bool)
    for digit in range(10):
        held[(labels == digit).nonzero().squeeze(1)[-HELD_OUT_PER_CLASS:]] = True
    keep = ~held if train else held
    part = "4,000 training digits" if train else "1,000 held-out reference digits"
    return Digits(images[keep], labels[keep], f"the MNIST sample shipped with gancourse ({part})")


def install_mnist(source: str | Path | None = None, root: str | Path | None = None) -> Path:
    """Put MNIST's four files where ``load_mnist`` finds them (``root/MNIST/raw``) and check their SHA-256.

    ``source``: a folder holding the four IDX files, plain or gzipped (``train-images-idx3-ubyte[.gz]``, ...), as
    torchvision downloads them; each is decompressed into place atomically. ``None``: download them with
    torchvision. ``root`` defaults to ``default_data_root()``. Returns the folder of the files. A file missing from
    ``source`` raises ``FileNotFoundError``; one whose contents differ from MNIST's raises ``MNISTFileError``.
    """
    root = Path(root) if root is not None else default_data_root()
    raw = root / "MNIST" / "raw"
    if source is None:
        for train in (True, False):
            MNIST(str(root), train=train, download=True)
    else:
        source = Path(source)
        raw.mkdir(parents=True, exist_ok=True)
        for name in MNIST_SHA256:
            plain, packed = source / name, source / f"{name}.gz"
            if not plain.is_file() and not packed.is_file():
                raise FileNotFoundError(f"{source} holds neither {name} nor {name}.gz")
            data = plain.read_bytes() if plain.is_file() else gzip.decompress(packed.read_bytes())
            partial = raw / f"{name}.partial"
            partial.write_bytes(data)
            partial.replace(raw / name)
    for name, digest in MNIST_SHA256.items():
        if sha256(raw / name) != digest:
            raise MNISTFileError(f"{raw / name}: its SHA-256 is not MNIST's; delete it and install the files again")
    return raw


def load_mnist(
    root: str | Path | None = None, train: bool = True, download: bool = True, quiet: bool = False
) -> Digits:
    """Load MNIST digits as ``Digits`` (images (N, 1, 28, 28) float32 in [-1, 1], labels (N,) int64).

    Order of preference: torchvision's files under ``root`` (60,000 train / 10,000 test); a download when the
    mirror answers within seconds (no probe when ``$GANCOURSE_OFFLINE`` is set); otherwise the shipped sample:
    4,000 for ``train=True``, the other 1,000 (100 per class) for ``train=False``. The two sides never share a
    digit, so ``train=False`` is the reference set that measurements compare samples with.
    Which one was used is printed in one line unless ``quiet``.
    A corrupt or truncated file raises ``MNISTFileError`` naming the file.
    """
    root = Path(root) if root is not None else default_data_root()
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"data root {root} exists and is not a directory")
    digits = None
    if mnist_files_present(root):
        digits = _load_torchvision(root, train, download=False)
    elif download and not os.environ.get("GANCOURSE_OFFLINE"):
        if network_reachable(MNIST.mirrors[0]):
            digits = _load_torchvision(root, train, download=True)
    if digits is None:
        digits = load_mnist_sample(train)
    if not quiet:
        print(f"MNIST: {len(digits):,} digits from {digits.source}")
    return digits
