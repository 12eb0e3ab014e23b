"""Divergences between 1-D densities on a grid, the optimal discriminator and the GAN value function.

All functions take densities sampled on the same uniform grid ``x`` (1-D, increasing) and integrate with the
trapezoidal rule. They check their input: a density must be finite, non-negative, and integrate to 1 within
``DENSITY_TOL`` on the grid (so a grid that cuts off part of the mass is caught, not silently wrong).
Conventions: 0 log 0 = 0; natural logarithms (nats), so JSD lies in [0, log 2].
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import cumulative_trapezoid, trapezoid
from scipy.special import xlogy
from scipy.stats import gaussian_kde

__all__ = [
    "density_from_samples", "js_divergence", "kl_divergence", "mixture_mean_abs_gap", "optimal_discriminator",
    "value_function", "wasserstein1",
]

DENSITY_TOL = 1e-3
NEGLIGIBLE = 1e-12  # density values below this fraction of the density's peak are left out of V (see value_function)


def _check_grid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size < 3:
        raise ValueError(f"x must be a 1-D grid of at least 3 points, got shape {x.shape}")
    if not np.all(np.diff(x) > 0):
        raise ValueError("x must be strictly increasing")
    return x


def _check_density(p: np.ndarray, x: np.ndarray, name: str = "density") -> np.ndarray:
    """Return ``p`` as float64 after checking it is a density on grid ``x``; raise ``ValueError`` otherwise."""
    x = _check_grid(x)
    p = np.asarray(p, dtype=np.float64)
    if p.shape != x.shape:
        raise ValueError(f"{name} has shape {p.shape} but the grid x has shape {x.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} has non-finite values")
    if np.any(p < 0):
        raise ValueError(f"{name} has negative values (min {p.min():.3g})")
    mass = trapezoid(p, x)
    if abs(mass - 1.0) > DENSITY_TOL:
        raise ValueError(
            f"{name} integrates to {mass:.6f} on the grid, not 1 (tolerance {DENSITY_TOL}): widen or refine the grid"
        )
    return p


def kl_divergence(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """KL(p || q) = integral p log(p / q) dx; ``inf`` when q = 0 somewhere p > 0."""
    p, q = _check_density(p, x, "p"), _check_density(q, x, "q")
    if np.any((q == 0) & (p > 0)):
        return float("inf")
    ratio = np.divide(p, q, out=np.ones_like(p), where=p > 0)
    return float(trapezoid(xlogy(p, ratio), x))


def js_divergence(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m) with the mixture m = (p + q) / 2; in [0, log 2]."""
    p, q = _check_density(p, x, "p"), _check_density(q, x, "q")
    m = 0.5 * (p + q)
    return 0.5 * kl_divergence(p, m, x) + 0.5 * kl_divergence(q, m, x)


def wasserstein1(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """Earth mover's distance in 1-D: W1(p, q) = integral |F_p(x) - F_q(x)| dx with F the CDFs."""
    p, q = _check_density(p, x, "p"), _check_density(q, x, "q")
    cdf_gap = cumulative_trapezoid(p - q, x, initial=0.0)
    return float(trapezoid(np.abs(cdf_gap), x))


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); 1/2 where both densities vanish (any value is optimal there)."""
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    if p_data.shape != p_g.shape:
        raise ValueError(f"p_data {p_data.shape} and p_g {p_g.shape} must have the same shape")
    if np.any(p_data < 0) or np.any(p_g < 0):
        raise ValueError("densities must be non-negative")
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def value_function(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """V(D, G) = integral [p_data log D + p_g log(1 - D)] dx for a discriminator D given on the grid, in (0, 1)."""
    p_data, p_g = _check_density(p_data, x, "p_data"), _check_density(p_g, x, "p_g")
    d = np.asarray(d, dtype=np.float64)
    if d.shape != p_data.shape:
        raise ValueError(f"D has shape {d.shape} but the densities have shape {p_data.shape}")
    if np.any(d < 0) or np.any(d > 1):
        raise ValueError("D must take values in [0, 1]")
    # Where a density is below NEGLIGIBLE x its peak, its term contributes < 1e-9 of the peak even at
    # |log| ~ 700, but 1 - D can round to exactly 0 there (D* = 1 - 1e-200 is stored as 1.0) and give -inf.
    real = np.where(p_data > NEGLIGIBLE * p_data.max(), xlogy(p_data, d), 0.0)
    fake = np.where(p_g > NEGLIGIBLE * p_g.max(), xlogy(p_g, 1.0 - d), 0.0)
    return float(trapezoid(real + fake, x))


def density_from_samples(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gaussian kernel density estimate (Scott's bandwidth) of 1-D ``samples`` on grid ``x``, renormalised to 1.

    Raises ``ValueError`` when the estimate cannot be a density on ``x``: fewer than 2 distinct finite samples,
    more than 1% of its mass off the grid (widen the grid), or a grid spacing wider than the bandwidth (refine
    the grid: coarser grids can still integrate to 1 while missing the estimate's peaks between points).
    """
    samples = np.asarray(samples, dtype=np.float64).ravel()
    if samples.size < 2 or not np.all(np.isfinite(samples)):
        raise ValueError("need at least 2 finite samples for a density estimate")
    if np.ptp(samples) == 0:
        raise ValueError(f"all samples equal {samples[0]}: a point mass has no density")
    x = _check_grid(x)
    kde = gaussian_kde(samples)
    bandwidth, spacing = float(np.sqrt(kde.covariance[0, 0])), float(np.diff(x).max())
    if spacing > bandwidth:
        raise ValueError(
            f"the grid's spacing ({spacing:.3g}) is wider than the estimate's bandwidth ({bandwidth:.3g}): "
            "refine the grid"
        )
    on_grid = kde.integrate_box_1d(x[0], x[-1])  # exact mass of the estimate on [x[0], x[-1]]
    if on_grid < 0.99:
        raise ValueError(f"only {on_grid:.1%} of the samples' mass lies on the grid [{x[0]}, {x[-1]}]: widen it")
    p = kde(x)
    return p / trapezoid(p, x)


def mixture_mean_abs_gap(f: np.ndarray, g: np.ndarray, p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """E_{x ~ m} |f(x) - g(x)| with m = (p + q) / 2: a gap between two functions where the samples actually are."""
    p, q = _check_density(p, x, "p"), _check_density(q, x, "q")
    return float(trapezoid(0.5 * (p + q) * np.abs(np.asarray(f) - np.asarray(g)), x))
