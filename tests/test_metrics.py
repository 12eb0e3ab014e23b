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
    _gaussian_frechet_distance,
    class_coverage,
    classifier_outputs,
    classifier_score,
    confidence,
    digit_report,
    feature_frechet_distance,
    frechet_distance,
    kid,
    nearest_neighbours,
    polynomial_mmd2,
    precision_recall,
)


@pytest.fixture(scope="module")
def split():
    return offline_split()


def test_shipped_weights_match_recorded_hash():
    assert sha256(weights_path()) == WEIGHTS_SHA256


def test_held_out_accuracy_at_least_97_percent(split):
    assert len(split.held_out_labels) == 1000 and len(split.train_labels) == 4000
    assert accuracy(load_classifier(), split.held_out_images, split.held_out_labels) >= 0.97


def test_the_second_evaluator_differs_and_reads_digits_as_well(split):
    second = load_classifier(name="second")
    assert type(second) is not type(load_classifier())
    assert accuracy(second, split.held_out_images, split.held_out_labels) >= 0.97
    features, probs = classifier_outputs(split.held_out_images, evaluator="second")
    assert features.shape == (1000, 84) and np.allclose(probs.sum(1), 1)
    # its own Frechet distances: a set against itself is 0, training digits against held-out ones are close
    assert frechet_distance(split.held_out_images, split.held_out_images, evaluator="second") == pytest.approx(
        0.0, abs=1e-6)
    real = frechet_distance(split.train_images[::4], split.held_out_images, evaluator="second")  # every class
    noise = frechet_distance(torch.rand(1000, 1, 28, 28) * 2 - 1, split.held_out_images, evaluator="second")
    assert real < noise / 10


def test_an_unknown_evaluator_is_one_clear_error(split):
    with pytest.raises(ValueError, match="unknown evaluator 'third'; choose one of \\['digit', 'second'\\]"):
        frechet_distance(split.held_out_images, split.held_out_images, evaluator="third")


def test_gaussian_frechet_closed_form_and_scipy_reference():
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    closed = 3.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)  # diagonal covariances, mean gap sqrt(3)
    assert _gaussian_frechet_distance(np.zeros(3), np.diag(a), np.ones(3), np.diag(b)) == pytest.approx(closed)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    c1, c2 = x @ x.T + 0.1 * np.eye(5), y @ y.T
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    reference = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * sqrtm(c1 @ c2).real)
    assert _gaussian_frechet_distance(mu1, c1, mu2, c2) == pytest.approx(reference, rel=1e-6)
    assert _gaussian_frechet_distance(mu1, c1, mu1, c1) == pytest.approx(0.0, abs=1e-9)


def test_baselines_are_ordered(split):
    real = frechet_distance(split.train_images, split.held_out_images)
    torch.manual_seed(0)
    noise = frechet_distance(torch.rand(1000, 1, 28, 28) * 2 - 1, split.held_out_images)
    assert real < 5 and noise > 100 * real


def test_coverage_confidence_and_score(split):
    _, held_probs = classifier_outputs(split.held_out_images)
    held = class_coverage(held_probs)
    assert held.classes_present == 10 and held.kl_to_uniform < 0.01 and held.max_min_ratio < 1.3
    ones = split.train_images[split.train_labels == 1]
    _, ones_probs = classifier_outputs(ones)
    collapsed = class_coverage(ones_probs)
    assert collapsed.histogram[1] > 0.9 and collapsed.kl_to_uniform > 1.5
    assert confidence(ones_probs) > 0.9  # a collapsed generator of perfect 1s looks confident...
    assert classifier_score(ones_probs) < 2 < 8 < classifier_score(held_probs)  # ...but scores low
    # images are accepted too and classified first: the same numbers
    assert class_coverage(ones).kl_to_uniform == collapsed.kl_to_uniform
    assert confidence(ones) == confidence(ones_probs) and classifier_score(ones) == classifier_score(ones_probs)


def test_class_measures_closed_forms():
    one_hot = np.eye(10)[[1, 7] * 50]  # two classes, half each, every sample certain
    coverage = class_coverage(one_hot)
    assert coverage.classes_present == 2 and coverage.max_min_ratio == float("inf")
    assert coverage.kl_to_uniform == pytest.approx(np.log(5))  # sum 0.5 log(0.5 * 10)
    assert confidence(one_hot) == 1.0 and classifier_score(one_hot) == pytest.approx(2.0)
    assert classifier_score(np.eye(10)) == pytest.approx(10.0)  # the maximum: certain and uniform over classes
    assert classifier_score(np.full((5, 10), 0.1)) == pytest.approx(1.0) and confidence(np.full((5, 10), 0.1)) == 0.1
    with pytest.raises(ValueError, match="sum to 1"):
        confidence(np.ones((4, 10)))
    with pytest.raises(ValueError, match=r"\(N, 10\)"):
        class_coverage(np.full((4, 9), 1 / 9))


def test_bad_digit_input(split):
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        confidence(torch.zeros(10, 28, 28))
    with pytest.raises(ValueError, match=r"expected \[-1, 1\]"):
        confidence(torch.full((10, 1, 28, 28), 255.0))
    with pytest.raises(ValueError, match="at least 65"):
        frechet_distance(split.held_out_images[:64], split.held_out_images)
    with pytest.raises(ValueError, match="at least 65"):
        feature_frechet_distance(np.zeros((64, 64)), np.zeros((100, 64)))
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        kid(np.zeros(10), np.zeros((10, 1)))
    with pytest.raises(ValueError, match="NaN"):
        precision_recall(np.full((10, 2), np.nan), np.zeros((10, 2)))
    with pytest.raises(ValueError, match="3 and 2 features"):
        polynomial_mmd2(np.zeros((5, 3)), np.zeros((5, 2)))
    with pytest.raises(TypeError, match="floating-point"):
        confidence(torch.zeros(10, 1, 28, 28, dtype=torch.uint8))


def test_nearest_neighbours_finds_copies_and_their_index():
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
    features, probs = classifier_outputs(ones)
    coverage = class_coverage(probs)
    assert report["FD"] == frechet_distance(ones, split.held_out_images)
    assert report["FD"] == feature_frechet_distance(features, classifier_outputs(split.held_out_images)[0])
    assert report["confidence"] == confidence(probs) and report["score"] == classifier_score(probs)
    assert (report["classes"], report["max/min"]) == (coverage.classes_present, coverage.max_min_ratio)
    assert report["KL to uniform"] == coverage.kl_to_uniform
    # a collapsed set of confident 1s: passes on confidence, fails on FD, classes and balance, each named
    failures = DCGAN_MNIST_BAR.failures(report)
    assert not DCGAN_MNIST_BAR.met(report) and len(failures) == 3
    assert [f.split()[0] for f in failures] == ["FD", str(report["classes"]), "max/min"]
    order = torch.randperm(len(split.train_images), generator=torch.Generator().manual_seed(0))
    real = digit_report(split.train_images[order[:1000]], split.held_out_images)
    assert DCGAN_MNIST_BAR.met(real) and QualityBar(fd=2, confidence=0.97, max_min=1.6).met(real)
    assert str(DCGAN_MNIST_BAR) == "FD < 48, confidence >= 0.78, 10 classes, max/min <= 16"


# ----------------------------------------------------------------------------------------- KID


def mmd2_by_loops(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased MMD^2 estimator of Binkowski et al. (2018), eq. (2), written term by term."""
    d = x.shape[1]

    def k(a, b):
        return (float(a @ b) / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_polynomial_mmd2_matches_the_formula_term_by_term():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 5)), rng.normal(0.5, 1.0, size=(9, 5))  # unequal sizes
    assert polynomial_mmd2(x, y) == pytest.approx(mmd2_by_loops(x, y), rel=1e-10)
    assert polynomial_mmd2(x, y) == pytest.approx(polynomial_mmd2(y, x), rel=1e-12)  # symmetric


def test_polynomial_mmd2_matches_torchmetrics():
    kid_module = pytest.importorskip("torchmetrics.image.kid")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 64)), rng.normal(0.2, 1.1, size=(50, 64))
    theirs = kid_module.poly_mmd(torch.from_numpy(x), torch.from_numpy(y)).item()  # gamma 1/d, coef 1, degree 3
    assert polynomial_mmd2(x, y) == pytest.approx(theirs, rel=1e-10)


def test_polynomial_mmd2_known_answers():
    # two point masses u and v: every kernel term is known, so the estimate is exact
    u, v = np.full((6, 4), 0.5), np.full((8, 4), -1.0)
    exact = (0.25 + 1) ** 3 + (1.0 + 1) ** 3 - 2 * (-0.5 + 1) ** 3  # k(u,u) + k(v,v) - 2 k(u,v), u.v/d = -0.5
    assert polynomial_mmd2(u, v) == pytest.approx(exact)
    # identical sets: the estimate is -2 / (m - 1) (mean of k(x_i, x_i) - mean of all k(x_i, x_j)), slightly < 0
    x = np.random.default_rng(6).normal(size=(200, 8))
    k_xx = (x @ x.T / 8 + 1) ** 3
    assert polynomial_mmd2(x, x) == pytest.approx(-2 / 199 * (np.diag(k_xx).mean() - k_xx.mean()))
    assert -0.02 * np.diag(k_xx).mean() < polynomial_mmd2(x, x) < 0
    # unbiased: over many small draws from one distribution the mean is 0 within its standard error, where the
    # biased (V-statistic) estimate, which keeps the i = j terms, sits well above 0
    rng = np.random.default_rng(2)
    unbiased, biased = [], []
    for _ in range(400):
        x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
        unbiased.append(polynomial_mmd2(x, y))
        k = lambda a, b: (a @ b.T / 3 + 1) ** 3  # noqa: E731
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    standard_error = np.std(unbiased) / np.sqrt(len(unbiased))
    assert abs(np.mean(unbiased)) < 3 * standard_error
    assert np.mean(biased) > 10 * standard_error
    assert min(unbiased) < 0  # an unbiased estimate of 0 must sometimes be negative


def test_kid_subsets():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 8)), rng.normal(size=(200, 8))
    result = kid(x, y, subsets=20, subset_size=50, seed=0)
    assert abs(result.mean) < 2 * result.std  # same distribution: mean near 0 relative to its spread
    assert result == kid(x, y, subsets=20, subset_size=50, seed=0)  # the seed fixes the subsets
    whole = kid(x, x[::-1], subset_size=1000)  # both sets smaller than a subset: one estimate on the whole sets
    assert whole.std == 0.0 and whole.mean == pytest.approx(polynomial_mmd2(x, x))
    assert kid(x[:200], y).std == 0.0 and kid(x[:200], y).mean == pytest.approx(polynomial_mmd2(x[:200], y))
    far = kid(x, y + 10, subsets=20, subset_size=50)
    assert far.mean > 100 * max(abs(result.mean), result.std)  # far sets: a large distance
    assert "KID" in str(far)


# ------------------------------------------------------------------------------------ precision / recall


def precision_recall_by_loops(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """Kynkaanniemi et al. (2019), eq. (1)-(2): a point is in a set's manifold if it lies within the distance
    from some member to that member's k-th nearest neighbour in the set (the member itself not counted)."""

    def radii(points):
        return [sorted(np.linalg.norm(p - q) for j, q in enumerate(points) if j != i)[k - 1]
                for i, p in enumerate(points)]

    def share_inside(queries, points):
        r = radii(points)
        return np.mean([any(np.linalg.norm(q - p) <= r[i] for i, p in enumerate(points)) for q in queries])

    return share_inside(fake, real), share_inside(real, fake)


def test_precision_recall_matches_the_definition_point_by_point():
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(40, 3)), rng.normal(0.7, 0.6, size=(30, 3))
    for k in (1, 3, 5):
        result = precision_recall(real, fake, k=k)
        assert (result.precision, result.recall) == pytest.approx(precision_recall_by_loops(real, fake, k))
        assert 0 < result.precision < 1 and 0 < result.recall < 1  # a case that tells both apart from trivial


def test_precision_recall_known_answers():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(500, 4))
    same = precision_recall(real, real)
    assert (same.precision, same.recall) == (1.0, 1.0)  # identical sets: every point is the centre of a ball
    far = precision_recall(real, real + 100)
    assert (far.precision, far.recall) == (0.0, 0.0)  # disjoint sets
    # collapsed: ten well-separated clusters are real; the generator covers one of them
    centres = np.stack([20 * np.arange(10), np.zeros(10)], axis=1)  # (10, 2): a row of clusters
    clusters = centres[rng.integers(10, size=2000)] + rng.normal(size=(2000, 2))
    collapsed = centres[0] + rng.normal(size=(500, 2))
    result = precision_recall(clusters, collapsed)
    assert result.precision > 0.9 and result.recall < 0.15  # faithful samples, a tenth of the data covered
    assert "precision" in str(result)
    with pytest.raises(ValueError, match="at least 4"):
        precision_recall(real[:3], real)


def test_kid_and_precision_recall_on_digits(split):
    reference, _ = classifier_outputs(split.held_out_images)
    train, _ = classifier_outputs(split.train_images)
    ones, _ = classifier_outputs(split.train_images[split.train_labels == 1])
    order = np.random.default_rng(0).permutation(len(train))
    real = precision_recall(reference, train[order[:1000]])
    collapsed = precision_recall(reference, ones)
    assert real.precision > 0.85 and real.recall > 0.85
    assert collapsed.precision > 0.85 and collapsed.recall < 0.3  # faithful 1s, most of the data missed
    real_kid, ones_kid = kid(train[order[:1000]], reference), kid(ones, reference, subsets=20)
    assert abs(real_kid.mean) < 5 and ones_kid.mean > 500  # real-vs-real near 0 (either sign), collapse far
