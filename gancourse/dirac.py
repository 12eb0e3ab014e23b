"""The Dirac-GAN of Mescheder, Geiger & Nowozin (2018): the smallest GAN that fails to converge, and its cures.

The data are a point mass at 0, the generator is that point's guess G = theta, the discriminator is linear,
D(x) = psi * x. With a function f (f(t) = -log(1 + e^-t) for the GAN, f(t) = t for the WGAN) the game is

    L(theta, psi) = E_eps f(psi (theta + eps)) + E_eps f(-psi eps)        (eps: instance noise, 0 without)

which D maximises over psi (minus its regulariser) and G minimises over theta. Its unique equilibrium is
(theta, psi) = (0, 0). ``DiracGAN.vector_field`` is the gradient field v = (-dL/dtheta, d(L - R)/dpsi) in
closed form; ``DiracGAN.jacobian`` differentiates the loss L - R itself with autograd (and the tests check the
field against autograd too), so the regularisers are written as losses, as a training loop writes them, on the
discriminator's input gradient dD/dx (= psi wherever it is taken, since D is linear):

    R1 (real data)          gamma_1 / 2 * E (dD/dx at the real point eps)^2          = gamma_1 / 2 * psi^2
    R2 (fake data)          gamma_2 / 2 * E (dD/dx at the fake point theta + eps)^2  = gamma_2 / 2 * psi^2
    WGAN-GP                 lambda * (|dD/dx| - 1)^2 = lambda * (|psi| - 1)^2
    WGAN weight clipping    psi <- clamp(psi, -c, c) after each D update

Expectations over Gaussian instance noise use Gauss-Hermite quadrature (exact for polynomials of degree < 2n).
Every function takes tensors of any (equal) shape, so a whole grid of points or many trajectories run at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["DiracGAN", "simulate"]

_QUADRATURE_POINTS = 20


def _gan_f(t: torch.Tensor) -> torch.Tensor:
    """f(t) = -log(1 + exp(-t)) = log sigmoid(t): the GAN's f, with f'(0) = 1/2 and f''(0) = -1/4."""
    return F.logsigmoid(t)


def _wgan_f(t: torch.Tensor) -> torch.Tensor:
    """f(t) = t: the Wasserstein GAN's f, with f'(0) = 1 and f''(0) = 0."""
    return t


def _input_gradient(psi: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """dD/dx of D(x) = psi x at the points x (shape (*S, n) for psi of shape S), kept in the autograd graph."""
    if not x.requires_grad:
        x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad((psi[..., None] * x).sum(), x, create_graph=True)
    return grad


@dataclass(frozen=True)
class DiracGAN:
    """One variant of the Dirac-GAN: which f, and which regulariser of the discriminator.

    ``loss``: "gan" or "wgan"; ``r1_gamma``: weight gamma_1 of R1; ``gp_weight``: weight lambda of WGAN-GP's
    penalty; ``noise_std``: standard deviation of instance noise added to real and fake samples; ``clip``: WGAN's
    weight clip c (None: no clipping); ``r2_gamma``: weight gamma_2 of R2 (last, so positional calls keep their
    meaning). All weights >= 0.
    """

    loss: str = "gan"
    r1_gamma: float = 0.0
    gp_weight: float = 0.0
    noise_std: float = 0.0
    clip: float | None = None
    r2_gamma: float = 0.0

    def __post_init__(self) -> None:
        if self.loss not in ("gan", "wgan"):
            raise ValueError(f"loss must be 'gan' or 'wgan', got {self.loss!r}")
        if min(self.r1_gamma, self.r2_gamma, self.gp_weight, self.noise_std) < 0 or (
                self.clip is not None and self.clip <= 0):
            raise ValueError("r1_gamma, r2_gamma, gp_weight and noise_std must be >= 0 and clip > 0 (or None)")

    @property
    def f(self):
        return _gan_f if self.loss == "gan" else _wgan_f

    def value(self, theta: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
        """L(theta, psi), elementwise; the expectation over instance noise by Gauss-Hermite quadrature."""
        eps, w = self._noise(theta.dtype)
        fake = self.f(psi[..., None] * (theta[..., None] + eps))  # (..., n): one column per quadrature node
        real = self.f(-psi[..., None] * eps)
        return ((fake + real) * w).sum(-1)

    def regulariser(self, theta: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
        """What D subtracts from L, elementwise: R1 at the real points, R2 at the fake ones, the gradient penalty.

        R1 and R2 take dD/dx by autograd where a training loop takes it (at eps, at theta + eps), so the reference
        field and the Jacobian see R2 through the fake point; the penalty uses dD/dx = psi, the same at any point.
        """
        eps, w = self._noise(theta.dtype)
        at_real = _input_gradient(psi, eps.expand(*theta.shape, -1))  # (..., n): one column per quadrature node
        at_fake = _input_gradient(psi, theta[..., None] + eps)
        r1 = 0.5 * self.r1_gamma * (at_real**2 * w).sum(-1)
        r2 = 0.5 * self.r2_gamma * (at_fake**2 * w).sum(-1)
        return r1 + r2 + self.gp_weight * (psi.abs() - 1) ** 2

    def vector_field(self, theta: torch.Tensor, psi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(-dL/dtheta, d(L - R)/dpsi) at each point, float64: the direction gradient steps move in.

        Closed form (fast: a trajectory calls it thousands of times; the tests check it against autograd):
        dL/dtheta = E psi f'(psi (theta + eps)), dL/dpsi = E (theta + eps) f'(psi (theta + eps)) - E eps f'(-psi eps),
        dR/dpsi = (gamma_1 + gamma_2) psi + 2 lambda (|psi| - 1) sign(psi).
        """
        theta, psi = torch.as_tensor(theta).double(), torch.as_tensor(psi).double()
        eps, w = self._noise(theta.dtype)
        fake = theta[..., None] + eps  # (..., n): one column per quadrature node
        slope_fake = self.f_prime(psi[..., None] * fake)
        d_theta = (psi[..., None] * slope_fake * w).sum(-1)
        d_psi = ((fake * slope_fake - eps * self.f_prime(-psi[..., None] * eps)) * w).sum(-1)
        d_reg = (self.r1_gamma + self.r2_gamma) * psi + 2 * self.gp_weight * (psi.abs() - 1) * psi.sign()
        return -d_theta, d_psi - d_reg

    def f_prime(self, t: torch.Tensor) -> torch.Tensor:
        """f'(t): sigmoid(-t) for the GAN, 1 for the WGAN."""
        return torch.sigmoid(-t) if self.loss == "gan" else torch.ones_like(t)

    def _noise(self, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """Quadrature nodes (values of eps) and weights for E over eps ~ N(0, noise_std^2); one node at 0 if none."""
        if self.noise_std == 0:
            return torch.zeros(1, dtype=dtype), torch.ones(1, dtype=dtype)
        nodes, weights = np.polynomial.hermite_e.hermegauss(_QUADRATURE_POINTS)  # for the weight exp(-x^2 / 2)
        return torch.as_tensor(nodes * self.noise_std, dtype=dtype), torch.as_tensor(weights / weights.sum(),
                                                                                     dtype=dtype)

    def jacobian(self, theta: float = 0.0, psi: float = 0.0) -> torch.Tensor:
        """The 2 x 2 Jacobian of the vector field at one point (float64); row 0 is theta's, row 1 psi's."""

        def field(point: torch.Tensor) -> torch.Tensor:
            return torch.stack(self.field_by_autograd(point[0], point[1], create_graph=True))

        return torch.autograd.functional.jacobian(field, torch.tensor([theta, psi], dtype=torch.float64))

    def field_by_autograd(self, theta: torch.Tensor, psi: torch.Tensor,
                          create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``vector_field`` computed by differentiating ``value`` and ``regulariser`` (the reference)."""
        if not theta.requires_grad:
            theta = theta.detach().double().requires_grad_(True)
        if not psi.requires_grad:
            psi = psi.detach().double().requires_grad_(True)
        (d_theta,) = torch.autograd.grad(self.value(theta, psi).sum(), theta, create_graph=create_graph)
        d_psi = torch.autograd.grad((self.value(theta, psi) - self.regulariser(theta, psi)).sum(), psi,
                                    create_graph=create_graph)[0]
        return -d_theta, d_psi


def simulate(
    game: DiracGAN, theta: torch.Tensor, psi: torch.Tensor, lr: float, steps: int, alternating: bool = False
) -> torch.Tensor:
    """``steps`` iterations of gradient updates of size ``lr`` from starting points ``theta``, ``psi`` (tensors
    of one shape S).

    Simultaneous: both players move from the same point. Alternating (Algorithm 1): D moves first, then G
    against the updated D. Clipping, when the game has it, follows each D update.
    Returns the trajectory, float64 of shape (steps + 1, 2, *S): [:, 0] is theta, [:, 1] is psi.
    """
    if steps < 0 or lr <= 0:
        raise ValueError(f"steps must be >= 0 and lr > 0, got steps={steps}, lr={lr}")
    theta, psi = torch.as_tensor(theta).double(), torch.as_tensor(psi).double()
    if theta.shape != psi.shape:
        raise ValueError(f"theta {tuple(theta.shape)} and psi {tuple(psi.shape)} must have one shape")
    path = [torch.stack([theta, psi])]
    for _ in range(steps):
        d_theta, d_psi = game.vector_field(theta, psi)
        psi = psi + lr * d_psi
        if game.clip is not None:
            psi = psi.clamp(-game.clip, game.clip)
        if alternating:
            d_theta, _ = game.vector_field(theta, psi)
        theta = theta + lr * d_theta
        path.append(torch.stack([theta, psi]))
    return torch.stack(path)
