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

Unregularised, the Jacobian at the equilibrium is J = [[0, -f'(0)], [f'(0), 0]] (a rotation's generator), so
the gradient field circles the equilibrium. ``simulate`` runs the optimisers the course compares on it
(``METHODS``): simultaneous and alternating gradient steps, heavy-ball momentum (negative momentum: Gidel et al.,
AISTATS 2019), extragradient (Korpelevich 1976; Gidel et al., ICLR 2019) and optimistic gradient (Daskalakis et
al. 2018). ``update_matrix`` is each one's linear map near the equilibrium, whose spectral radius says whether
it spirals out (> 1), circles (= 1) or converges (< 1). ``polyak_average`` and ``ema_average`` average a
trajectory's iterates (Yazici et al. 2019), which converges even where the last iterate circles.

Expectations over Gaussian instance noise use Gauss-Hermite quadrature (exact for polynomials of degree < 2n).
Every function takes tensors of any (equal) shape, so a whole grid of points or many trajectories run at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["METHODS", "DiracGAN", "ema_average", "polyak_average", "simulate", "update_matrix"]

_QUADRATURE_POINTS = 20
METHODS = ("gradient", "momentum", "extragradient", "optimistic")  # the optimisers ``simulate`` runs


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


def simulate(game: DiracGAN, theta: torch.Tensor, psi: torch.Tensor, lr: float, steps: int,
             alternating: bool = False, method: str = "gradient", beta: float = 0.0) -> torch.Tensor:
    """``steps`` updates of step size ``lr > 0`` by ``method`` from starting points ``theta``, ``psi`` (tensors of
    one shape S). With x = (theta, psi) and v the game's field:

    "gradient"       x_{t+1} = x_t + lr v(x_t)
    "momentum"       x_{t+1} = x_t + lr v(x_t) + beta (x_t - x_{t-1}), x_{-1} = x_0 (heavy ball, beta in (-1, 1);
                     beta < 0 is Gidel et al.'s negative momentum, which cures the rotation when alternating,
                     for small enough lr, and never when simultaneous)
    "extragradient"  x_{t+1} = x_t + lr v(x_t + lr v(x_t))  (a look-ahead step, then the step with its field)
    "optimistic"     x_{t+1} = x_t + lr (2 v(x_t) - v(x_{t-1})), v(x_{-1}) = v(x_0)

    ``alternating`` (gradient and momentum only; Algorithm 1 of Mescheder et al.): D moves first, then G with
    its field at the new psi, each player with its own momentum. Clipping, when the game has it, follows each D
    update (the look-ahead's too: it projects onto the feasible psi).
    Returns the trajectory, float64 of shape (steps + 1, 2, *S): [:, 0] is theta, [:, 1] is psi.
    """
    _check_method(lr, method, alternating, beta)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    theta, psi = torch.as_tensor(theta).double(), torch.as_tensor(psi).double()
    if theta.shape != psi.shape:
        raise ValueError(f"theta {tuple(theta.shape)} and psi {tuple(psi.shape)} must have one shape")
    if method in ("gradient", "momentum"):
        step = partial(_heavy_ball_step, beta=beta, alternating=alternating)
    else:
        step = _extragradient_step if method == "extragradient" else _optimistic_step
    point, memory = torch.stack([theta, psi]), None
    path = [point]
    for _ in range(steps):
        point, memory = step(game, point, memory, lr)
        path.append(point)
    return torch.stack(path)


def _check_method(lr: float, method: str, alternating: bool, beta: float) -> None:
    """ValueError unless lr > 0, ``method`` is one of METHODS, alternation is one it has, and beta fits it."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if lr <= 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if alternating and method not in ("gradient", "momentum"):
        raise ValueError(f"alternating applies to 'gradient' and 'momentum', not {method!r}")
    if method == "momentum" and not -1 < beta < 1:
        raise ValueError(f"beta must be in (-1, 1), got {beta}")
    if method != "momentum" and beta != 0:
        raise ValueError(f"beta is momentum's coefficient: use method='momentum', not {method!r}")


def _field(game: DiracGAN, point: torch.Tensor) -> torch.Tensor:
    """v at a point (2, *S), stacked like it."""
    return torch.stack(game.vector_field(point[0], point[1]))


def _clip_psi(game: DiracGAN, psi: torch.Tensor) -> torch.Tensor:
    return psi if game.clip is None else psi.clamp(-game.clip, game.clip)


def _clip(game: DiracGAN, point: torch.Tensor) -> torch.Tensor:
    return point if game.clip is None else torch.stack([point[0], _clip_psi(game, point[1])])


def _heavy_ball_step(game: DiracGAN, point: torch.Tensor, previous: torch.Tensor | None, lr: float, beta: float,
                     alternating: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """One gradient step plus beta (x_t - x_{t-1}); returns (x_{t+1}, x_t). D's half first, so that alternating
    G can see D's new psi."""
    previous = point if previous is None else previous
    d_theta, d_psi = game.vector_field(point[0], point[1])
    psi = _clip_psi(game, _push(point[1] + lr * d_psi, point[1], previous[1], beta))
    if alternating:
        d_theta, _ = game.vector_field(point[0], psi)
    theta = _push(point[0] + lr * d_theta, point[0], previous[0], beta)
    return torch.stack([theta, psi]), point


def _push(moved: torch.Tensor, current: torch.Tensor, previous: torch.Tensor, beta: float) -> torch.Tensor:
    """The heavy ball's push beta (x_t - x_{t-1}) added to a gradient step; none at beta = 0, so that plain
    gradient steps stay bit-for-bit what they were (0 * inf would be nan on a diverged trajectory)."""
    return moved + beta * (current - previous) if beta else moved


def _extragradient_step(game: DiracGAN, point: torch.Tensor, memory: None, lr: float) -> tuple[torch.Tensor, None]:
    """Look ahead with the field here, step from here with the field there."""
    ahead = _clip(game, point + lr * _field(game, point))
    return _clip(game, point + lr * _field(game, ahead)), None


def _optimistic_step(game: DiracGAN, point: torch.Tensor, previous_field: torch.Tensor | None,
                     lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Step along 2 v(x_t) - v(x_{t-1}), the field extrapolated forward; returns (x_{t+1}, v(x_t))."""
    field = _field(game, point)
    previous_field = field if previous_field is None else previous_field
    return _clip(game, point + lr * (2 * field - previous_field)), field


def update_matrix(jacobian: torch.Tensor, lr: float, method: str = "gradient", alternating: bool = False,
                  beta: float = 0.0) -> torch.Tensor:
    """The linear map that ``simulate(..., lr, method=..., alternating=..., beta=...)`` applies near a point where
    the field is v(x) ~ J x (``jacobian``, 2 x 2; e.g. ``game.jacobian()`` at the equilibrium), clipping ignored.

    2 x 2 on x_t for "gradient" (I + lr J) and "extragradient" (I + lr J + lr^2 J^2); 4 x 4 on (x_t, x_{t-1}) for
    the methods with memory, "momentum" ([[(1 + beta) I + lr J, -beta I], [I, 0]]) and "optimistic"
    ([[I + 2 lr J, -lr J], [I, 0]]). Alternating: G's row sees psi_{t+1}, so it gains lr J[0, 1] times (D's row
    minus the identity's). Exact for a linear field (the WGAN without regulariser); its spectral radius (largest
    |eigenvalue|) is the factor by which the distance to the point grows (> 1), stays (= 1) or shrinks (< 1) per
    step. Float64.
    """
    _check_method(lr, method, alternating, beta)
    J = torch.as_tensor(jacobian, dtype=torch.float64)
    if J.shape != (2, 2):
        raise ValueError(f"jacobian must be 2 x 2, got {tuple(J.shape)}")
    identity = torch.eye(2, dtype=torch.float64)
    if method == "extragradient":
        return identity + lr * J + lr**2 * J @ J
    if method == "optimistic":
        step, memory = identity + 2 * lr * J, -lr * J
    else:
        step, memory = (1 + beta) * identity + lr * J, -beta * identity
    if alternating:
        # theta_{t+1} uses psi_{t+1} = step[1] . x_t + memory[1] . x_{t-1} in place of psi_t
        step[0] += lr * J[0, 1] * (step[1] - identity[1])
        memory[0] += lr * J[0, 1] * memory[1]
    if method == "gradient":
        return step
    return torch.cat([torch.cat([step, memory], 1), torch.cat([identity, torch.zeros_like(identity)], 1)])


def polyak_average(path: torch.Tensor) -> torch.Tensor:
    """The uniform (Polyak) running mean of a trajectory: [n] = (path[0] + ... + path[n]) / (n + 1).

    ``path``: (T, ...), e.g. ``simulate``'s (steps + 1, 2, *S); returns float64 of the same shape.

    Why it cures the rotation: where the iterates circle, x_t = Re(z e^{i t phi}) for a linear map with
    eigenvalues e^{+-i phi}, an orbit on an ellipse whose largest radius is r. Then |sum_u w_u x_u| <=
    r |sum_u w_u e^{i u phi}|, and the geometric sum over u = 0..n has modulus |sin((n + 1) phi / 2)| /
    sin(phi / 2) <= 1 / sin(phi / 2): the mean is within r / ((n + 1) sin(phi / 2)) of the centre at every n.
    Alternating gradient steps near the unregularised game's equilibrium (exactly, for the WGAN) have
    cos phi = 1 - (lr f'(0))^2 / 2, so sin(phi / 2) = lr f'(0) / 2: within 2 r / ((n + 1) lr f'(0)). Their last
    iterate does not settle: with c = lr f'(0) < 2 they conserve theta^2 + psi^2 + c theta psi, an ellipse whose
    radii lie between r sqrt((2 - c) / (2 + c)) and r.
    """
    path = _as_path(path)
    counts = torch.arange(1, len(path) + 1, dtype=torch.float64).reshape(-1, *[1] * (path.dim() - 1))
    return path.cumsum(0) / counts


def ema_average(path: torch.Tensor, beta: float = 0.999, warmup: bool = True) -> torch.Tensor:
    """The exponential moving average of a trajectory: [0] = path[0], [t] = b_t [t - 1] + (1 - b_t) path[t].

    ``path``: (T, ...); returns float64 of the same shape. ``beta`` in [0, 1). With ``warmup`` the decay is
    b_t = min(beta, (1 + t) / (10 + t)), the ramp of TensorFlow's ExponentialMovingAverage (num_updates = t),
    else b_t = beta. The ramp because without it the start keeps weight beta^t, e.g. 37% after 1 / (1 - beta)
    steps, and the average sits near x_0 that long; with it the average spans the last ~t / 9 steps until
    1 - beta takes over, and no iterate weighs less than an earlier one (the bound below needs that). StyleGAN2's
    ramp, a half-life of a fixed share of the images seen so far, would serve as well but is counted in images.

    The bound, for iterates circling as in ``polyak_average``: the average is sum_u w_u x_u with weights
    w_0 <= ... <= w_t = 1 - b_t. Summing by parts against P_u = e^{i (u + 1) phi} / (e^{i phi} - 1), whose steps
    P_u - P_{u-1} are e^{i u phi} and whose modulus is 1 / (2 sin(phi / 2)), gives |sum_u w_u e^{i u phi}| <=
    (w_t + (w_t - w_0) + w_0) / (2 sin(phi / 2)) = (1 - b_t) / sin(phi / 2). So the average is within
    r (1 - b_t) / sin(phi / 2) = 2 r (1 - b_t) / (lr f'(0)) of the centre at every t >= 1 (alternating steps):
    about r (1 - beta) / (angle per step) once warmed up, the limit cycle that shrinks as beta -> 1.
    """
    if not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    path = _as_path(path)
    average = [path[0]]
    for t in range(1, len(path)):
        decay = min(beta, (1 + t) / (10 + t)) if warmup else beta
        average.append(decay * average[-1] + (1 - decay) * path[t])
    return torch.stack(average)


def _as_path(path: torch.Tensor) -> torch.Tensor:
    """A trajectory as float64, checked to have a time axis with at least one point."""
    path = torch.as_tensor(path).double()
    if path.dim() == 0 or len(path) == 0:
        raise ValueError(f"path must have a time axis with at least one point, got shape {tuple(path.shape)}")
    return path
