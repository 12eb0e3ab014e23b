import math

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from gancourse.data import GaussianMixture1D
from gancourse.divergences import (
    _check_density,
    density_from_samples,
    js_divergence,
    kl_divergence,
    mixture_mean_abs_gap,
    optimal_discriminator,
    value_function,
    wasserstein1,
)

X = np.linspace(-15, 15, 30001)


def gauss(mean, std):
    return GaussianMixture1D(means=(mean,), stds=(std,)).pdf(X)


def test_kl_of_two_gaussians_matches_closed_form():
    m1, s1, m2, s2 = 0.3, 0.8, -0.5, 1.7
    closed = math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    assert kl_divergence(gauss(m1, s1), gauss(m2, s2), X) == pytest.approx(closed, abs=1e-6)
    assert kl_divergence(gauss(0, 1), gauss(0, 1), X) == pytest.approx(0.0, abs=1e-9)


def test_kl_infinite_where_q_vanishes():
    p = np.where(np.abs(X) < 1, 0.5, 0.0)
    q = np.where(np.abs(X - 0.5) < 1, 0.5, 0.0)
    assert kl_divergence(p, q, X) == math.inf


@pytest.mark.parametrize(
    "p, q",
    [
        (gauss(0, 1), gauss(0, 1)),
        (gauss(0, 1), gauss(1.5, 1)),
        (gauss(0, 1), gauss(0, 3)),
        (GaussianMixture1D(means=(-2, 2), stds=(0.5, 0.5)).pdf(X), gauss(0, 2)),
    ],
)
def test_value_at_optimal_d_is_2jsd_minus_log4(p, q):
    jsd = js_divergence(p, q, X)
    assert 0 <= jsd <= math.log(2)
    assert jsd == pytest.approx(js_divergence(q, p, X), abs=1e-12)  # symmetric
    assert value_function(optimal_discriminator(p, q), p, q, X) == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-4)


def test_jsd_of_disjoint_supports_is_log2():
    p = np.where((X > -3) & (X < -1), 0.5, 0.0)
    for gap in (0.5, 3.0, 8.0):
        q = np.where((X > -1 + gap) & (X < 1 + gap), 0.5, 0.0)
        assert js_divergence(p, q, X) == pytest.approx(math.log(2), abs=2e-3)


def test_wasserstein_against_scipy_and_closed_form():
    assert wasserstein1(gauss(0, 1), gauss(2.5, 1), X) == pytest.approx(2.5, abs=1e-4)
    p, q = gauss(0, 1), GaussianMixture1D(means=(-1, 3), stds=(0.5, 1)).pdf(X)
    assert wasserstein1(p, q, X) == pytest.approx(wasserstein_distance(X, X, p, q), abs=1e-3)


def test_bad_densities_are_rejected():
    with pytest.raises(ValueError, match="integrates to"):
        _check_density(2 * gauss(0, 1), X)
    with pytest.raises(ValueError, match="negative"):
        _check_density(gauss(0, 1) - 0.01, X)
    with pytest.raises(ValueError, match="shape"):
        js_divergence(gauss(0, 1)[:-1], gauss(0, 1), X)
    with pytest.raises(ValueError, match="increasing"):
        _check_density(gauss(0, 1), X[::-1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        value_function(np.full_like(X, 1.5), gauss(0, 1), gauss(0, 1), X)


def test_optimal_discriminator_and_gap():
    d = optimal_discriminator(np.array([1.0, 0.0, 0.0, 3.0]), np.array([1.0, 2.0, 0.0, 1.0]))
    assert d.tolist() == [0.5, 0.0, 0.5, 0.75]
    p, q = gauss(0, 1), gauss(1, 1)
    assert mixture_mean_abs_gap(np.ones_like(X), np.zeros_like(X), p, q, X) == pytest.approx(1.0, abs=1e-6)


def test_density_from_samples():
    rng = np.random.default_rng(0)
    coarse = X[::10]  # the KDE costs samples x grid points
    estimate = density_from_samples(rng.normal(1.0, 0.5, 20000), coarse)
    exact = GaussianMixture1D(means=(1.0,), stds=(0.5,)).pdf(coarse)
    assert js_divergence(estimate, exact, coarse) < 1e-3
    with pytest.raises(ValueError, match="widen"):
        density_from_samples(rng.normal(30.0, 0.5, 100), X)
    # a generator's narrow output (width 0.002) on a grid of spacing 0.01: the mass is on the grid, the grid too coarse
    with pytest.raises(ValueError, match="refine the grid"):
        density_from_samples(rng.normal(1.0, 0.002, 1000), np.linspace(-1.0, 5.0, 601))
    with pytest.raises(ValueError, match="point mass"):
        density_from_samples(np.full(10, 2.0), X)


def test_value_function_survives_underflow_of_optimal_d():
    # Far apart, D* = 1 - 1e-200 is stored as 1.0 where p_g still has (negligible) density: V must stay finite.
    p, q = gauss(-4, 0.5), gauss(5, 0.5)
    assert value_function(optimal_discriminator(p, q), p, q, X) == pytest.approx(0.0, abs=1e-9)
    # ...but a D that calls real mass impossible really is at -inf.
    assert value_function(np.zeros_like(X), p, q, X) == -math.inf
