"""Measuring generated samples, offline and in seconds on a CPU.

Digits (N, 1, 28, 28) in [-1, 1] are judged by the frozen ``gancourse.classifier``: ``classifier_outputs(images)``
gives its 64-d penultimate features and its class probabilities, and each measure is one function of those:
  on features (samples vs reference):
    ``feature_frechet_distance``  Frechet distance between Gaussians fitted to the features (the idea of FID,
                                  Heusel et al. 2017, with a domain classifier instead of Inception: not comparable
                                  to published FID numbers); ``frechet_distance`` does the same from images;
    ``kid``                       unbiased MMD^2 with a cubic kernel, over subsets (KID, Binkowski et al. 2018);
    ``precision_recall``          k-NN manifold precision (fidelity) and recall (coverage) (Kynkaanniemi et al.
                                  2019);
  on class probabilities (or the images themselves):
    ``class_coverage``            predicted-class histogram: classes present, KL to uniform, max/min class ratio;
    ``confidence``                mean max-probability;
    ``classifier_score``          exp(E KL(p(y|x) || p(y))) (the Inception Score's formula, Salimans et al. 2016).
``digit_report`` computes the Frechet distance and the class measures from images in one classifier pass.
Toy 2-D mixtures: ``mode_coverage`` (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): a sample is
*high-quality* within ``n_std`` standard deviations of its nearest mode centre; a mode is *covered* when at least
``min_count`` high-quality samples land on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gancourse.classifier import evaluator as evaluator_spec
from gancourse.classifier import load_classifier
from gancourse.data import FULL_MNIST, OFFLINE_SAMPLE, GaussianMixture2D
from gancourse.images import check_images

__all__ = [
    "DCGAN_MNIST_BAR", "DCGAN_MNIST_FD_RANGE", "DCGAN_MNIST_TARGET", "KID", "ClassCoverage", "ModeCoverage",
    "PrecisionRecall", "QualityBar", "class_coverage", "classifier_outputs", "classifier_score", "confidence",
    "digit_report", "feature_frechet_distance", "frechet_distance", "kid", "mode_coverage", "nearest_neighbours",
    "polynomial_mmd2", "precision_recall",
]


@dataclass(frozen=True)
class ModeCoverage:
    """Result of ``mode_coverage``: modes covered, fraction of high-quality samples, counts per mode (K,)."""

    modes_covered: int
    high_quality: float
    counts: torch.Tensor

    def __str__(self) -> str:
        k = len(self.counts)
        return f"{self.modes_covered}/{k} modes covered, {self.high_quality:.1%} high-quality samples"


def mode_coverage(
    samples: torch.Tensor, mixture: GaussianMixture2D, n_std: float = 3.0, min_count: int = 20
) -> ModeCoverage:
    """Count high-quality samples (within ``n_std`` * std of the nearest centre) per mode of ``mixture``.

    ``samples``: (N, 2), finite. Use N well above ``min_count`` x number of modes (2,500 for the ring of 8).
    """
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(f"samples must have shape (N, 2), got {tuple(samples.shape)}")
    if not torch.isfinite(samples).all():
        raise ValueError("samples contain NaN or inf")
    distance = torch.cdist(samples.detach().float().cpu(), mixture.centres)  # (N, K)
    nearest_distance, nearest = distance.min(dim=1)
    good = nearest_distance <= n_std * mixture.std
    counts = torch.bincount(nearest[good], minlength=len(mixture.centres))
    return ModeCoverage(int((counts >= min_count).sum()), float(good.float().mean()), counts)


# --------------------------------------------------------------------------------------------- digits


# digits as the frozen classifier reads them; ``min_count`` where a measure needs more
_check_digits = functools.partial(check_images, channels=1, size=(28, 28), min_count=1, in_range=True)


@functools.lru_cache(maxsize=4)
def _classifier(device: str, name: str) -> nn.Module:
    return load_classifier(device, name)


@torch.no_grad()
def classifier_outputs(images: torch.Tensor, batch_size: int = 1000,
                       evaluator: str = "digit") -> tuple[np.ndarray, np.ndarray]:
    """Features (N, 64; 84 for the "second" evaluator) and class probabilities (N, 10) of a frozen classifier
    (``gancourse.classifier.EVALUATORS``), as float64 arrays."""
    _check_digits(images)
    model = _classifier(str(images.device), evaluator)
    features, probs = [], []
    for start in range(0, len(images), batch_size):
        f = model.features(images[start : start + batch_size].float())
        features.append(f.double().cpu())
        probs.append(torch.softmax(model.head(f).double(), dim=1).cpu())
    return torch.cat(features).numpy(), torch.cat(probs).numpy()


@torch.no_grad()
def nearest_neighbours(
    samples: torch.Tensor, data: torch.Tensor, batch_size: int = 500
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each of N samples, the Euclidean pixel distance to its nearest image in ``data`` (M, 1, 28, 28), and
    that image's index: two (N,) tensors.
    """
    _check_digits(samples, "samples")
    _check_digits(data, "data")
    flat_data = data.flatten(1).float()
    distances, indices = [], []
    for start in range(0, len(samples), batch_size):
        d = torch.cdist(samples[start : start + batch_size].flatten(1).float(), flat_data)
        best = d.min(dim=1)
        distances.append(best.values)
        indices.append(best.indices)
    return torch.cat(distances), torch.cat(indices)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def _gaussian_frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(cov1 + cov2 - 2 (cov1 cov2)^(1/2)), the squared Frechet (W2) distance of Gaussians.

    tr (cov1 cov2)^(1/2) is computed as tr (S cov2 S)^(1/2) with S = cov1^(1/2): a symmetric PSD matrix, so its
    square root comes from an eigendecomposition, with no complex parts to discard as a general ``sqrtm`` has.
    """
    root1 = _sqrt_psd(np.asarray(cov1, dtype=np.float64))
    middle = _sqrt_psd(root1 @ np.asarray(cov2, dtype=np.float64) @ root1)
    diff = np.asarray(mu1, dtype=np.float64) - np.asarray(mu2, dtype=np.float64)
    return float(max(0.0, diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(middle)))


def feature_frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N1, D) and (N2, D), each N > D.

    Biased upwards at small N (Chapter 5 measures how much): compare values only at equal N.
    """
    f1, f2 = _features(f1, "f1"), _features(f2, "f2")
    for name, f in (("f1", f1), ("f2", f2)):
        if len(f) <= f.shape[1]:
            raise ValueError(f"{name} has {len(f)} rows; at least {f.shape[1] + 1} (features + 1) are needed here")
    return _gaussian_frechet_distance(f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False))


def frechet_distance(samples: torch.Tensor, reference: torch.Tensor, evaluator: str = "digit") -> float:
    """Frechet distance between ``samples`` and ``reference`` digits in a frozen classifier's feature space (the
    course's "digit" evaluator unless named).

    Both need more images than the feature dimension (64, or 84); use 1,000 or more for numbers worth comparing
    (the estimate is biased upwards at small N: Chapter 5 plots how much).
    """
    dim = evaluator_spec(evaluator).feature_dim
    _check_digits(samples, "samples", min_count=dim + 1)
    _check_digits(reference, "reference", min_count=dim + 1)
    return feature_frechet_distance(classifier_outputs(samples, evaluator=evaluator)[0],
                                    classifier_outputs(reference, evaluator=evaluator)[0])


def _features(features: np.ndarray, name: str, min_count: int = 2) -> np.ndarray:
    """``features`` as a finite float64 array (N >= min_count, D), or one clear error."""
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (N, D), got {array.shape}")
    if len(array) < min_count:
        raise ValueError(f"{name} has {len(array)} rows; at least {min_count} are needed here")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contain NaN or inf")
    return array


def polynomial_mmd2(f1: np.ndarray, f2: np.ndarray) -> float:
    """Unbiased estimate of MMD^2 between the distributions behind f1 (M, D) and f2 (N, D), M, N >= 2, with the
    cubic kernel k(x, y) = (x.y / D + 1)^3 of KID (Binkowski et al. 2018):

        sum_{i != j} k(x_i, x_j) / (M (M-1)) + sum_{i != j} k(y_i, y_j) / (N (N-1)) - 2 sum_{i,j} k(x_i, y_j) / (M N)

    Its expectation is the true MMD^2 at every sample size, so it is near 0 (possibly negative) for two samples
    of one distribution.
    """
    x, y = _features(f1, "f1"), _features(f2, "f2")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"f1 and f2 have {x.shape[1]} and {y.shape[1]} features")
    m, n, d = len(x), len(y), x.shape[1]
    k_xx, k_yy, k_xy = (a @ b.T / d + 1 for a, b in ((x, x), (y, y), (x, y)))
    k_xx, k_yy, k_xy = k_xx * k_xx * k_xx, k_yy * k_yy * k_yy, k_xy * k_xy * k_xy  # cubes, faster than ** 3
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))  # i != j: a sample's kernel with itself is bias
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * k_xy.mean())


@dataclass(frozen=True)
class KID:
    """Kernel distance of ``kid``: mean and standard deviation of ``polynomial_mmd2`` over random subsets."""

    mean: float
    std: float

    def __str__(self) -> str:
        return f"KID {self.mean:.3g} +- {self.std:.2g}"


def kid(f1: np.ndarray, f2: np.ndarray, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> KID:
    """Kernel Inception Distance on features: ``polynomial_mmd2`` of ``subsets`` pairs of random subsets of
    ``subset_size`` rows (drawn without replacement; the whole set when it is smaller), mean and std.

    Unlike the Frechet distance its mean does not depend on the sample size, only its spread does. When both sets
    have at most ``subset_size`` rows every subset is the whole set: one estimate, std 0 (no spread measured).
    """
    x, y = _features(f1, "f1"), _features(f2, "f2")
    size = min(subset_size, len(x), len(y))
    if size == len(x) == len(y):
        return KID(polynomial_mmd2(x, y), 0.0)
    rng = np.random.default_rng(seed)
    values = [
        polynomial_mmd2(x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)])
        for _ in range(subsets)
    ]
    return KID(float(np.mean(values)), float(np.std(values)))


@dataclass(frozen=True)
class PrecisionRecall:
    """Improved precision and recall (Kynkaanniemi et al. 2019), each a fraction in [0, 1]."""

    precision: float  # share of generated samples inside the real manifold: fidelity
    recall: float  # share of real samples inside the generated manifold: coverage

    def __str__(self) -> str:
        return f"precision {self.precision:.3f}, recall {self.recall:.3f}"


def _inside_manifold(points: torch.Tensor, support: torch.Tensor, k: int, batch_size: int = 1000) -> float:
    """Share of ``points`` (N, D) within the k-NN radius of some row of ``support`` (M, D): the manifold estimate
    is the union of balls around each support row, reaching to its k-th nearest other support row."""
    exact = "donot_use_mm_for_euclid_dist"  # the matrix-product shortcut is inexact at small distances
    radii = torch.cat([
        torch.cdist(support[start : start + batch_size], support, compute_mode=exact).kthvalue(k + 1, dim=1).values
        for start in range(0, len(support), batch_size)  # k + 1: each row's nearest is itself, at distance 0
    ])
    inside = torch.cat([
        (torch.cdist(points[start : start + batch_size], support, compute_mode=exact) <= radii).any(dim=1)
        for start in range(0, len(points), batch_size)
    ])
    return float(inside.double().mean())


def precision_recall(real: np.ndarray, generated: np.ndarray, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall of ``generated`` features (N, D) against ``real`` features (M, D).

    Each set's manifold is the union of balls around its points with radius the distance to the k-th nearest
    neighbour in the same set; precision is the share of generated points inside the real manifold, recall the
    share of real points inside the generated one. Both sets need more than ``k`` rows.
    """
    x, y = _features(real, "real", k + 1), _features(generated, "generated", k + 1)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"real and generated have {x.shape[1]} and {y.shape[1]} features")
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    return PrecisionRecall(_inside_manifold(y, x, k), _inside_manifold(x, y, k))


@dataclass(frozen=True)
class ClassCoverage:
    """Predicted-class histogram of N digits and three summaries of how evenly it covers the 10 classes."""

    histogram: np.ndarray  # (10,) fraction of samples predicted as each class
    classes_present: int  # classes with at least ``min_fraction`` of the samples
    kl_to_uniform: float  # KL(histogram || uniform) in nats; 0 is perfectly even, log 10 is one class
    max_min_ratio: float  # most frequent / least frequent class; inf when a class is missing


def _probabilities(probs: np.ndarray | torch.Tensor) -> np.ndarray:
    """Class probabilities (N, 10) as float64; digit images (N, 1, 28, 28) are passed through the classifier."""
    if isinstance(probs, torch.Tensor) and probs.ndim == 4:
        return classifier_outputs(probs)[1]
    array = np.asarray(probs, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 10 or len(array) == 0:
        raise ValueError(f"expected class probabilities (N, 10) or digit images (N, 1, 28, 28), got {array.shape}")
    if not np.allclose(array.sum(1), 1, atol=1e-4) or array.min() < 0:
        raise ValueError("class probabilities must be non-negative rows that sum to 1 (a softmax's output)")
    return array


def class_coverage(probs: np.ndarray | torch.Tensor, min_fraction: float = 0.01) -> ClassCoverage:
    """How evenly the predicted classes (argmax of ``probs`` (N, 10), or of the classifier on N digit images)
    cover the 10 classes."""
    probs = _probabilities(probs)
    histogram = np.bincount(probs.argmax(1), minlength=10) / len(probs)
    nonzero = histogram > 0
    kl = float(np.sum(histogram[nonzero] * np.log(histogram[nonzero] * 10)))
    ratio = float(histogram.max() / histogram.min()) if histogram.min() > 0 else float("inf")
    return ClassCoverage(histogram, int((histogram >= min_fraction).sum()), kl, ratio)


def confidence(probs: np.ndarray | torch.Tensor) -> float:
    """Mean over samples of the largest class probability, in [0.1, 1]; ``probs`` (N, 10) or digit images."""
    return float(_probabilities(probs).max(1).mean())


def classifier_score(probs: np.ndarray | torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) || p(y))), in [1, 10]: high when each sample is confidently one class and the classes
    are varied. ``probs`` (N, 10) or digit images. It never looks at real data."""
    probs = _probabilities(probs)
    marginal = probs.mean(0, keepdims=True)
    kl = np.sum(probs * (np.log(probs + 1e-12) - np.log(marginal + 1e-12)), axis=1)
    return float(np.exp(kl.mean()))


def digit_report(samples: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    """Every digit measure at once: FD to ``reference``, classes present, KL to uniform, max/min class ratio,
    confidence and classifier score (keys "FD", "classes", "KL to uniform", "max/min", "confidence", "score").
    """
    dim = evaluator_spec("digit").feature_dim
    _check_digits(samples, "samples", min_count=dim + 1)
    _check_digits(reference, "reference", min_count=dim + 1)
    features, probs = classifier_outputs(samples)  # one classifier pass over the samples serves every measure
    coverage = class_coverage(probs)
    return {
        "FD": feature_frechet_distance(features, classifier_outputs(reference)[0]),
        "classes": coverage.classes_present,
        "KL to uniform": coverage.kl_to_uniform,
        "max/min": coverage.max_min_ratio,
        "confidence": confidence(probs),
        "score": classifier_score(probs),
    }


@dataclass(frozen=True)
class QualityBar:
    """Thresholds a ``digit_report`` must meet: FD below ``fd``, confidence at least ``confidence``, at least
    ``classes`` classes present, and no class more than ``max_min`` times as frequent as the rarest."""

    fd: float
    confidence: float
    classes: int = 10
    max_min: float = float("inf")

    def failures(self, report: dict[str, float]) -> list[str]:
        """What ``report`` misses, in words; empty when the bar is met."""
        checks = [
            (report["FD"] < self.fd, f"FD {report['FD']:.1f} >= {self.fd}"),
            (report["confidence"] >= self.confidence, f"confidence {report['confidence']:.3f} < {self.confidence}"),
            (report["classes"] >= self.classes, f"{report['classes']} classes < {self.classes}"),
            (report["max/min"] <= self.max_min, f"max/min {report['max/min']:.1f} > {self.max_min}"),
        ]
        return [message for ok, message in checks if not ok]

    def met(self, report: dict[str, float]) -> bool:
        return not self.failures(report)

    def __str__(self) -> str:
        return (f"FD < {self.fd}, confidence >= {self.confidence}, {self.classes} classes, "
                f"max/min <= {self.max_min}")


# The bar Chapter 4 asserts for its CPU setting (2,500 iterations of 32), chosen outside the spread of five seeds
# (book/performance.md: FD 33-41, confidence 0.815-0.842, max/min 3-12); benchmarks/time_to_bar.py times it.
DCGAN_MNIST_BAR = QualityBar(fd=48, confidence=0.78, classes=10, max_min=16)
# The engineering target for Chapter 4's budget (the performance page tracks it; Chapter 7's challenge exercise).
DCGAN_MNIST_TARGET = QualityBar(fd=20, confidence=0.90, classes=10, max_min=2)
# Chapter 4's lean DCGAN and loop on its CPU setting: the lowest and the highest Fréchet distance over its five-seed
# runs on each data set (benchmarks/results/chapter_seeds-04_*.json and conditional-seeds-cpu-unconditional.json;
# offline on two hosts), keyed by ``Digits.dataset``. Chapter 8 compares its models with it.
DCGAN_MNIST_FD_RANGE = {OFFLINE_SAMPLE: (32.1, 41.2), FULL_MNIST: (25.0, 32.2)}
