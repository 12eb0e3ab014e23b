import gzip
import math
import re
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import FULL_MNIST_ROOT
from scipy.integrate import trapezoid

from gancourse import data
from gancourse.data import (
    GaussianMixture1D,
    MNISTFileError,
    check_idx_file,
    grid_of_gaussians,
    install_mnist,
    load_mnist,
    network_reachable,
    ring_of_gaussians,
)
from gancourse.shipped import ShippedFileError, asset_path, sha256


def test_mixture_1d_density_and_moments():
    mix = GaussianMixture1D(means=(-1.0, 2.0), stds=(0.5, 1.0), weights=(0.3, 0.7))
    x = np.linspace(-8, 10, 20001)
    assert trapezoid(mix.pdf(x), x) == pytest.approx(1.0, abs=1e-6)
    assert trapezoid(x * mix.pdf(x), x) == pytest.approx(mix.mean, abs=1e-6)
    assert math.sqrt(trapezoid((x - mix.mean) ** 2 * mix.pdf(x), x)) == pytest.approx(mix.std, abs=1e-6)
    torch.manual_seed(0)
    samples = mix.sample(200_000)
    assert samples.shape == (200_000, 1) and samples.dtype == torch.float32
    assert samples.mean().item() == pytest.approx(mix.mean, abs=0.02)
    assert samples.std().item() == pytest.approx(mix.std, abs=0.02)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(means=(0.0,), stds=(0.0,)),
        dict(means=(0.0, 1.0), stds=(1.0,)),
        dict(means=(0.0,), stds=(1.0,), weights=(0.5,)),
    ],
)
def test_mixture_1d_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        GaussianMixture1D(**kwargs)


def test_ring_and_grid():
    ring = ring_of_gaussians()
    assert ring.centres.shape == (8, 2)
    assert torch.allclose(ring.centres.norm(dim=1), torch.full((8,), 2.0))
    grid = grid_of_gaussians()
    assert grid.centres.shape == (25, 2)
    assert set(grid.centres[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    torch.manual_seed(0)
    points = ring.sample(8000)
    nearest = torch.cdist(points, ring.centres).argmin(dim=1)
    assert torch.bincount(nearest, minlength=8).min() > 800  # every mode is sampled, roughly equally
    # the exact density integrates to 1 over a box holding all the mass
    ticks = np.linspace(-2.5, 2.5, 1001)
    xx, yy = np.meshgrid(ticks, ticks)
    density = ring.pdf(np.stack([xx.ravel(), yy.ravel()], 1)).reshape(xx.shape)
    assert trapezoid(trapezoid(density, ticks), ticks) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        ring.pdf(np.zeros((3, 3)))


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _fake_mnist(root: Path, n: int = 12) -> np.ndarray:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28))
    images[0] = 0
    images[1] = 255
    labels = np.arange(n) % 10
    for prefix in ("train", "t10k"):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return labels


def test_torchvision_path_on_small_idx_files(tmp_path, capsys):
    labels = _fake_mnist(tmp_path)
    digits = load_mnist(tmp_path, train=True)
    assert digits.images.shape == (12, 1, 28, 28) and digits.images.dtype == torch.float32
    assert digits.images.min().item() == -1.0 and digits.images.max().item() == 1.0
    assert torch.equal(digits.labels, torch.from_numpy(labels).long())
    assert torch.all(digits.images[0] == -1) and torch.all(digits.images[1] == 1)
    assert "torchvision" in digits.source and digits.dataset == data.FULL_MNIST
    assert capsys.readouterr().out.count("\n") == 1  # announced in one line
    assert len(load_mnist(tmp_path, train=False, quiet=True)) == 12


def test_corrupt_file_gives_one_clear_error(tmp_path):
    _fake_mnist(tmp_path)
    bad = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    bad.write_bytes(bad.read_bytes()[:-100])  # a partial download
    with pytest.raises(MNISTFileError, match="train-images-idx3-ubyte.*corrupt or partly downloaded"):
        load_mnist(tmp_path)
    bad.write_bytes(b"garbage")
    with pytest.raises(MNISTFileError, match="bad magic"):
        check_idx_file(bad)


def test_fallback_without_files_or_network(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GANCOURSE_OFFLINE", raising=False)
    monkeypatch.setattr(data, "network_reachable", lambda url, timeout=3.0: False)
    digits = load_mnist(tmp_path / "empty", download=True)
    assert digits.images.shape == (4000, 1, 28, 28)
    assert digits.images.min().item() >= -1 and digits.images.max().item() <= 1
    assert torch.equal(torch.bincount(digits.labels), torch.full((10,), 400))
    assert "MNIST sample shipped with gancourse" in capsys.readouterr().out
    assert digits.dataset == data.OFFLINE_SAMPLE
    reference = load_mnist(tmp_path / "empty", train=False, quiet=True)
    assert torch.equal(torch.bincount(reference.labels), torch.full((10,), 100))


def test_shipped_sample_is_500_uint8_digits_per_class():
    path = asset_path(data.SAMPLE_NAME)
    assert sha256(path) == data.SAMPLE_SHA256
    with np.load(path, allow_pickle=False) as sample:
        assert sorted(sample.files) == ["images", "labels"]
        images, labels = sample["images"], sample["labels"]
    assert images.dtype == np.uint8 and images.shape == (5000, 28, 28)
    assert (images.min(), images.max()) == (0, 255)
    assert labels.dtype == np.uint8 and np.array_equal(labels, np.repeat(np.arange(10), 500))  # sorted by class
    digits = data.load_mnist_sample()
    assert torch.equal(digits.labels, torch.from_numpy(labels).long())
    assert torch.equal(digits.images, torch.from_numpy(images).float().unsqueeze(1) / 127.5 - 1.0)


@pytest.mark.parametrize("damage", ["one byte changed", "truncated", "missing"])
def test_a_damaged_sample_file_gives_one_clear_error(tmp_path, monkeypatch, damage):
    copy = tmp_path / data.SAMPLE_NAME
    copy.write_bytes(asset_path(data.SAMPLE_NAME).read_bytes())
    monkeypatch.setattr(data, "asset_path", lambda name: tmp_path / name)
    assert len(load_mnist(tmp_path / "empty", quiet=True)) == 4000  # an intact copy loads
    if damage == "one byte changed":
        raw = bytearray(copy.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        copy.write_bytes(bytes(raw))
    elif damage == "truncated":
        copy.write_bytes(copy.read_bytes()[:-100])
    else:
        copy.unlink()
    error = FileNotFoundError if damage == "missing" else ShippedFileError
    message = "is missing" if damage == "missing" else f"SHA-256 [0-9a-f]{{64}}, expected {data.SAMPLE_SHA256}"
    with pytest.raises(error, match=f"^{re.escape(str(copy))} .*{message}.*reinstall gancourse"):
        load_mnist(tmp_path / "empty", quiet=True)


def _shared_images(a: torch.Tensor, b: torch.Tensor) -> int:
    """How many images of ``a`` equal some image of ``b`` pixel for pixel."""
    seen = {image.numpy().tobytes() for image in b}
    return sum(image.numpy().tobytes() in seen for image in a)


def test_offline_reference_digits_are_never_training_digits(tmp_path):
    train = load_mnist(tmp_path / "empty", train=True, quiet=True)
    reference = load_mnist(tmp_path / "empty", train=False, quiet=True)
    assert _shared_images(reference.images, train.images) == 0
    # the two sides together are the whole sample: nothing is dropped, nothing counted twice
    assert len(train) + len(reference) == len(data.load_mnist_sample())


@pytest.mark.skipif(not data.mnist_files_present(FULL_MNIST_ROOT),
                    reason="torchvision's MNIST files are not in $GANCOURSE_DATA or ~/.cache/gancourse")
def test_torchvision_reference_digits_are_never_training_digits():
    train = load_mnist(FULL_MNIST_ROOT, train=True, download=False, quiet=True)
    reference = load_mnist(FULL_MNIST_ROOT, train=False, download=False, quiet=True)
    assert (len(train), len(reference)) == (60_000, 10_000)
    assert _shared_images(reference.images, train.images) == 0


SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"  # CI's copy, beside the clone


def test_install_refuses_files_that_are_not_mnist(tmp_path):
    _fake_mnist(tmp_path / "source")
    source = tmp_path / "source" / "MNIST" / "raw"
    packed = source / "t10k-labels-idx1-ubyte"
    packed.with_suffix(".gz").write_bytes(gzip.compress(packed.read_bytes()))
    packed.unlink()  # one of the four gzipped, as torchvision's download leaves them
    with pytest.raises(MNISTFileError, match="train-images-idx3-ubyte: its SHA-256 is not MNIST's"):
        install_mnist(source, tmp_path / "root")
    assert not list((tmp_path / "root").rglob("*.partial"))  # each file was moved into place whole
    (source / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="neither train-labels-idx1-ubyte nor train-labels-idx1-ubyte.gz"):
        install_mnist(source, tmp_path / "root")


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="no copy of MNIST's files beside the clone (CI has one)")
def test_install_from_a_folder_of_gzipped_files_gives_the_full_set(tmp_path):
    raw = install_mnist(SHARED_MNIST, tmp_path)
    assert raw == tmp_path / "MNIST" / "raw"
    train = load_mnist(tmp_path, train=True, download=False, quiet=True)
    reference = load_mnist(tmp_path, train=False, download=False, quiet=True)
    assert (len(train), len(reference)) == (60_000, 10_000)
    assert torch.bincount(train.labels)[0] == 5_923 and torch.bincount(reference.labels)[0] == 980


def test_network_probe_is_bounded(monkeypatch):
    def hang(*args, **kwargs):  # a connection attempt that would outlast the probe's patience
        time.sleep(3)
        raise OSError("timed out")

    monkeypatch.setattr(data.socket, "create_connection", hang)
    start = time.perf_counter()
    assert network_reachable("https://example.invalid/mnist/", timeout=0.5) is False
    assert time.perf_counter() - start < 2.0


def test_bad_root(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with pytest.raises(NotADirectoryError):
        load_mnist(not_a_dir)
