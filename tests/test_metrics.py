import math

import pytest
import torch

from gancourse.data import ring_of_gaussians
from gancourse.metrics import mode_coverage


def test_real_samples_cover_every_mode():
    ring = ring_of_gaussians(std=0.05)
    torch.manual_seed(0)
    result = mode_coverage(ring.sample(2500), ring)
    assert result.modes_covered == 8
    assert result.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.01)  # P(r <= 3 sigma) in 2-D
    assert result.counts.sum() == round(result.high_quality * 2500)
    assert "8/8 modes covered" in str(result)


def test_collapsed_and_off_target_samples():
    ring = ring_of_gaussians(std=0.05)
    torch.manual_seed(0)
    on_two_modes = ring.centres[torch.randint(2, (2500,))] + 0.01 * torch.randn(2500, 2)
    result = mode_coverage(on_two_modes, ring)
    assert result.modes_covered == 2 and result.high_quality == 1.0
    assert mode_coverage(torch.zeros(2500, 2), ring).high_quality == 0.0  # the centre of the ring is no mode
    few = torch.cat([ring.centres[:1].repeat(19, 1), ring.centres[1:2].repeat(2481, 1)])
    assert mode_coverage(few, ring).modes_covered == 1  # 19 samples are below the 20 needed


def test_bad_samples():
    ring = ring_of_gaussians()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        mode_coverage(torch.zeros(10, 3), ring)
    with pytest.raises(ValueError, match="NaN"):
        mode_coverage(torch.full((10, 2), float("nan")), ring)


# ----------------------------------------------------------------------------------------- digits

import numpy as np  # noqa: E402
from scipy.linalg import sqrtm  # noqa: E402

from gancourse.classifier import (  # noqa: E402
    WEIGHTS_SHA256,
    accuracy,
    load_classifier,
    offline_split,
    sha256,
    weights_path,
)
from gancourse.metrics import (  # noqa: E402
    DCGAN_MNIST_BAR,
    QualityBar,
    class_coverage,
    classifier_score,
    confidence,
    digit_report,
    frechet_distance,
    gaussian_frechet_distance,
)


@pytest.fixture(scope="module")
def split():
    return offline_split()


def test_shipped_weights_match_recorded_hash():
    assert sha256(weights_path()) == WEIGHTS_SHA256


def test_held_out_accuracy_at_least_97_percent(split):
    assert len(split.held_out_labels) == 1000 and len(split.train_labels) == 4000
    assert accuracy(load_classifier(), split.held_out_images, split.held_out_labels) >= 0.97


def test_gaussian_frechet_closed_form_and_scipy_reference():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    closed = 3.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)  # diagonal covariances, mean gap sqrt(3)
    assert gaussian_frechet_distance(np.zeros(3), np.diag(a), np.ones(3), np.diag(b)) == pytest.approx(closed)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    c1, c2 = x @ x.T + 0.1 * np.eye(5), y @ y.T
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    reference = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * sqrtm(c1 @ c2).real)
    assert gaussian_frechet_distance(mu1, c1, mu2, c2) == pytest.approx(reference, rel=1e-6)
    assert gaussian_frechet_distance(mu1, c1, mu1, c1) == pytest.approx(0.0, abs=1e-9)


def test_baselines_are_ordered(split):
    real = frechet_distance(split.train_images, split.held_out_images)
    torch.manual_seed(0)
    noise = frechet_distance(torch.rand(1000, 1, 28, 28) * 2 - 1, split.held_out_images)
    assert real < 5 and noise > 100 * real


def test_coverage_confidence_and_score(split):
    held = class_coverage(split.held_out_images)
    assert held.classes_present == 10 and held.kl_to_uniform < 0.01 and held.max_min_ratio < 1.3
    ones = split.train_images[split.train_labels == 1]
    collapsed = class_coverage(ones)
    assert collapsed.histogram[1] > 0.9 and collapsed.kl_to_uniform > 1.5
    assert confidence(ones) > 0.9  # a collapsed generator of perfect 1s looks confident...
    assert classifier_score(ones) < 2 < 8 < classifier_score(split.held_out_images)  # ...but scores low


def test_bad_digit_input(split):
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        confidence(torch.zeros(10, 28, 28))
    with pytest.raises(ValueError, match=r"expected \[-1, 1\]"):
        confidence(torch.full((10, 1, 28, 28), 255.0))
    with pytest.raises(ValueError, match="at least 65"):
        frechet_distance(split.held_out_images[:64], split.held_out_images)
    with pytest.raises(TypeError, match="floating-point"):
        confidence(torch.zeros(10, 1, 28, 28, dtype=torch.uint8))


def test_nearest_neighbours_finds_copies_and_their_index():
    from gancourse.metrics import nearest_neighbours

    data = torch.rand(50, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    queries = data[[3, 17, 41]]
    distance, index = nearest_neighbours(queries, data, batch_size=2)
    assert index.tolist() == [3, 17, 41]
    assert distance.max() < 1e-2  # cdist's matrix-product formula is not exact at 0
    shifted, _ = nearest_neighbours(queries.clamp(-1, 0.9), data)
    assert (shifted > distance).all()
    with pytest.raises(ValueError, match="shape"):
        nearest_neighbours(torch.zeros(2, 784), data)


def test_digit_report_agrees_with_each_measure_and_the_bar_reads_it(split):
    ones = split.train_images[split.train_labels == 1][:200]
    report = digit_report(ones, split.held_out_images)
    coverage = class_coverage(ones)
    assert report["FD"] == frechet_distance(ones, split.held_out_images)
    assert report["confidence"] == confidence(ones) and report["score"] == classifier_score(ones)
    assert (report["classes"], report["max/min"]) == (coverage.classes_present, coverage.max_min_ratio)
    assert report["KL to uniform"] == coverage.kl_to_uniform
    # a collapsed set of confident 1s: passes on confidence, fails on FD, classes and balance, each named
    failures = DCGAN_MNIST_BAR.failures(report)
    assert not DCGAN_MNIST_BAR.met(report) and len(failures) == 3
    assert [f.split()[0] for f in failures] == ["FD", str(report["classes"]), "max/min"]
    order = torch.randperm(len(split.train_images), generator=torch.Generator().manual_seed(0))
    real = digit_report(split.train_images[order[:1000]], split.held_out_images)
    assert DCGAN_MNIST_BAR.met(real) and QualityBar(fd=2, confidence=0.97, max_min=1.6).met(real)
    assert str(DCGAN_MNIST_BAR) == "FD < 40, confidence >= 0.8, 10 classes, max/min <= 8"
