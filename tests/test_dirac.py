"""The Dirac-GAN against its closed forms (Mescheder et al. 2018, Section 2 and Theorems 4.1, 4.2)."""

import cmath
import math

import numpy as np
import pytest
import torch

from gancourse.dirac import DiracGAN, _gan_f, ema_average, polyak_average, simulate, update_matrix

F1, F2 = 0.5, -0.25  # f'(0) and f''(0) for the GAN's f(t) = -log(1 + e^-t)


def sorted_complex(values) -> torch.Tensor:
    """Complex numbers in one order (by imaginary part, to 9 digits, then real part), to compare spectra."""
    return torch.tensor(sorted(values, key=lambda z: (round(z.imag, 9), z.real)), dtype=torch.complex128)


def spectrum(matrix: torch.Tensor) -> torch.Tensor:
    return sorted_complex(torch.linalg.eigvals(matrix).tolist())


def eigenvalues(game: DiracGAN) -> torch.Tensor:
    return spectrum(game.jacobian())


def test_gan_f_derivatives_at_zero():
    t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    (first,) = torch.autograd.grad(_gan_f(t), t, create_graph=True)
    (second,) = torch.autograd.grad(first, t)
    assert first.item() == pytest.approx(F1) and second.item() == pytest.approx(F2)


def test_unregularised_jacobian_is_a_rotation():
    J = DiracGAN().jacobian()
    assert torch.allclose(J, torch.tensor([[0.0, -F1], [F1, 0.0]], dtype=torch.float64))
    values = eigenvalues(DiracGAN())
    assert torch.allclose(values, torch.tensor([-F1 * 1j, F1 * 1j], dtype=torch.complex128))
    wgan = eigenvalues(DiracGAN("wgan"))
    assert torch.allclose(wgan, torch.tensor([-1j, 1j], dtype=torch.complex128))


@pytest.mark.parametrize("share", [0.0, 0.4, 1.0], ids=["r1", "r1+r2", "r2"])
@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.5])
def test_r1_and_r2_eigenvalues(gamma, share):
    # R1 and R2 both penalise dD/dx = psi: J = [[0, -f'(0)], [f'(0), -gamma]] with gamma = gamma_1 + gamma_2,
    # eigenvalues (-gamma +- sqrt(gamma^2 - 4 f'(0)^2)) / 2
    root = complex(gamma**2 - 4 * F1**2) ** 0.5
    expected = sorted_complex([(-gamma - root) / 2, (-gamma + root) / 2])
    values = eigenvalues(DiracGAN(r1_gamma=(1 - share) * gamma, r2_gamma=share * gamma))
    assert torch.allclose(values, expected, atol=1e-10)
    assert (values.real < 0).all()


@pytest.mark.parametrize("sigma", [0.2, 0.7, 1.5])
def test_instance_noise_eigenvalues(sigma):
    # trace 2 f''(0) sigma^2, determinant f'(0)^2: eigenvalues f''(0) sigma^2 +- sqrt(f''(0)^2 sigma^4 - f'(0)^2)
    root = complex(F2**2 * sigma**4 - F1**2) ** 0.5
    expected = sorted_complex([F2 * sigma**2 - root, F2 * sigma**2 + root])
    assert torch.allclose(eigenvalues(DiracGAN(noise_std=sigma)), expected, atol=1e-8)


def test_simultaneous_steps_grow_by_the_closed_form_factor():
    # WGAN: v = (-psi, theta) is linear; one simultaneous step multiplies the norm by sqrt(1 + h^2)
    h, n = 0.1, 50
    path = simulate(DiracGAN("wgan"), torch.tensor([0.3, -1.0]), torch.tensor([0.4, 2.0]), lr=h, steps=n)
    ratio = path[-1].norm(dim=0) / path[0].norm(dim=0)
    assert torch.allclose(ratio, torch.full((2,), math.sqrt(1 + h**2) ** n, dtype=torch.float64))


def test_alternating_steps_stay_bounded_and_r1_converges():
    start = (torch.tensor([1.0]), torch.tensor([1.0]))
    circling = simulate(DiracGAN("wgan"), *start, lr=0.1, steps=5000, alternating=True).norm(dim=1)
    assert 0.8 < circling.min() and circling.max() < 1.3 * circling[0]
    settled = simulate(DiracGAN(r1_gamma=1.0), *start, lr=0.1, steps=500, alternating=True)
    assert settled[-1].abs().max() < 1e-6


@pytest.mark.parametrize("method, alternating, beta", [("gradient", False, 0.0), ("momentum", True, -0.5),
                                                       ("extragradient", False, 0.0), ("optimistic", False, 0.0)])
def test_clipping_bounds_psi_and_shapes(method, alternating, beta):
    path = simulate(DiracGAN("wgan", clip=0.1), torch.zeros(3, 4) + 1, torch.zeros(3, 4), lr=0.5, steps=20,
                    method=method, alternating=alternating, beta=beta)
    assert path.shape == (21, 2, 3, 4) and path[:, 1].abs().max() <= 0.1


def test_bad_input_raises():
    with pytest.raises(ValueError, match="loss"):
        DiracGAN("lsgan")
    with pytest.raises(ValueError, match=">= 0"):
        DiracGAN(r1_gamma=-1.0)
    with pytest.raises(ValueError, match=">= 0"):
        DiracGAN(r2_gamma=-1.0)
    with pytest.raises(ValueError, match="one shape"):
        simulate(DiracGAN(), torch.zeros(2), torch.zeros(3), lr=0.1, steps=1)
    bad = [(dict(method="adam"), "method"), (dict(lr=0.0), "lr"), (dict(lr=-0.1), "lr"),
           (dict(method="momentum", beta=1.0), r"\(-1, 1\)"), (dict(method="momentum", beta=-1.5), r"\(-1, 1\)"),
           (dict(beta=0.5), "momentum"), (dict(method="optimistic", alternating=True), "alternating")]
    for options, message in bad:
        options = {"lr": 0.1} | options
        with pytest.raises(ValueError, match=message):
            simulate(DiracGAN(), torch.zeros(2), torch.zeros(2), steps=1, **options)
        with pytest.raises(ValueError, match=message):
            update_matrix(DiracGAN().jacobian(), **options)
    with pytest.raises(ValueError, match="steps"):
        simulate(DiracGAN(), torch.zeros(2), torch.zeros(2), lr=0.1, steps=-1)
    with pytest.raises(ValueError, match="2 x 2"):
        update_matrix(torch.eye(3), lr=0.1)


GAMES = [DiracGAN(), DiracGAN(r1_gamma=0.7, noise_std=0.4), DiracGAN("wgan", gp_weight=2.0),
         DiracGAN("wgan", noise_std=1.0), DiracGAN(r2_gamma=0.8, noise_std=0.5), DiracGAN(r1_gamma=0.3, r2_gamma=1.1)]


@pytest.mark.parametrize("game", GAMES)
def test_closed_form_field_equals_autograd(game):
    torch.manual_seed(0)
    theta, psi = torch.randn(50, dtype=torch.float64) * 2, torch.randn(50, dtype=torch.float64) * 2
    for fast, reference in zip(game.vector_field(theta, psi), game.field_by_autograd(theta, psi), strict=True):
        assert torch.allclose(fast, reference, atol=1e-12)


@pytest.mark.parametrize("game", GAMES)
def test_closed_form_jacobian_equals_autograd(game):
    # the closed form's own derivative against the Jacobian of the loss L - R, away from the equilibrium too
    torch.manual_seed(1)
    for theta, psi in torch.randn(5, 2, dtype=torch.float64).tolist():
        closed = torch.autograd.functional.jacobian(lambda x: torch.stack(game.vector_field(x[0], x[1])),
                                                    torch.tensor([theta, psi], dtype=torch.float64))
        assert torch.allclose(closed, game.jacobian(theta, psi), atol=1e-10)


def test_r2_is_half_gamma_psi_squared_wherever_the_fake_point_is():
    # dD/dx = psi at every point, so R2 = gamma_2 / 2 psi^2 wherever G stands, with or without instance noise
    theta = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64)
    psi = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    for noise in (0.0, 0.6):
        assert torch.allclose(DiracGAN(r2_gamma=0.8, noise_std=noise).regulariser(theta, psi), 0.4 * psi**2)


# ---- optimisers near the equilibrium: with a = f'(0) and h = lr, J = a [[0, -1], [1, 0]] has J^2 = -a^2 I ----

CASES = [("gradient", False, 0.0), ("gradient", True, 0.0), ("momentum", False, 0.3), ("momentum", True, -0.5),
         ("extragradient", False, 0.0), ("optimistic", False, 0.0)]


def spectral_radius(matrix: torch.Tensor) -> float:
    return torch.linalg.eigvals(matrix).abs().max().item()


@pytest.mark.parametrize("method, alternating, beta", CASES)
def test_update_matrix_is_the_map_simulate_applies(method, alternating, beta):
    # the WGAN's field is J x exactly: the path is M^t (x_0, x_{-1} = x_0); the GAN's near (0, 0) to first order
    for game, scale, tolerance in ((DiracGAN("wgan"), 1.0, 1e-12), (DiracGAN(), 1e-4, 1e-6)):
        start = torch.tensor([0.3, -0.7], dtype=torch.float64) * scale
        path = simulate(game, start[0], start[1], lr=0.2, steps=60, method=method, alternating=alternating,
                        beta=beta)
        M = update_matrix(game.jacobian(), 0.2, method, alternating, beta)
        state = start if len(M) == 2 else torch.cat([start, start])
        linear = torch.stack([(torch.linalg.matrix_power(M, t) @ state)[:2] for t in range(61)])
        assert (path - linear).abs().max() <= tolerance * scale


@pytest.mark.parametrize("lr", [1e-4, 1e-2, 0.3, 1.0, 3.0, 10.0])
def test_simultaneous_gradient_spirals_out_for_every_lr(lr):
    # I + h J: eigenvalues 1 +- i h a, modulus sqrt(1 + h^2 a^2) > 1
    M = update_matrix(DiracGAN().jacobian(), lr)
    assert torch.allclose(spectrum(M), sorted_complex([1 - 1j * lr * F1, 1 + 1j * lr * F1]))
    assert spectral_radius(M) == pytest.approx(math.sqrt(1 + (lr * F1) ** 2), rel=1e-14) and spectral_radius(M) > 1


@pytest.mark.parametrize("lr", [1e-3, 0.1, 1.0, 3.0])
def test_alternating_gradient_circles(lr):
    # det 1, trace 2 - h^2 a^2: for h a < 2 the eigenvalues are e^{+-i phi} with cos phi = 1 - h^2 a^2 / 2
    phi = math.acos(1 - (lr * F1) ** 2 / 2)
    M = update_matrix(DiracGAN().jacobian(), lr, alternating=True)
    assert torch.allclose(spectrum(M), sorted_complex([cmath.exp(-1j * phi), cmath.exp(1j * phi)]))


@pytest.mark.parametrize("lr", [1e-3, 0.1, 0.5, 0.9])
def test_extragradient_and_optimistic_converge_for_small_lr(lr):
    ha = lr * F1  # h a < 1/2 here (at 1/2 optimistic's eigenvalues meet, and computing them loses half the digits)
    # extragradient: I + h J + h^2 J^2 has eigenvalues 1 - h^2 a^2 +- i h a, modulus^2 1 - h^2 a^2 + h^4 a^4 < 1
    extra = update_matrix(DiracGAN().jacobian(), lr, "extragradient")
    assert torch.allclose(spectrum(extra), sorted_complex([1 - ha**2 - 1j * ha, 1 - ha**2 + 1j * ha]))
    assert spectral_radius(extra) == pytest.approx(math.sqrt(1 - ha**2 + ha**4), rel=1e-12)
    assert spectral_radius(extra) < 1
    # optimistic: lambda^2 - (1 + 2 h mu) lambda + h mu = 0 for mu = +-i a: with s = sqrt(1 - 4 h^2 a^2) the
    # moduli^2 are (1 +- s) / 2, so the radius is sqrt((1 + s) / 2) < 1
    optimistic = update_matrix(DiracGAN().jacobian(), lr, "optimistic")
    roots = [complex(z) for mu in (1j * F1, -1j * F1) for z in np.roots([1, -(1 + 2 * lr * mu), lr * mu])]
    assert torch.allclose(spectrum(optimistic), sorted_complex(roots), atol=1e-12)
    radius = math.sqrt((1 + math.sqrt(1 - 4 * ha**2)) / 2)
    assert spectral_radius(optimistic) == pytest.approx(radius, rel=1e-12) and radius < 1


def test_extragradient_and_optimistic_need_small_lr():
    # extragradient's modulus^2 1 - h^2 a^2 + h^4 a^4 exceeds 1 once h a > 1. Optimistic, for h a > 1/2: the
    # moduli^2 are (1 + (2 h a +- w)^2) / 4 with w = sqrt(4 h^2 a^2 - 1), and the larger reaches 1 where
    # 2 h a + w = sqrt 3, at h a = 1 / sqrt 3
    J = DiracGAN().jacobian()
    for threshold, method in ((1.0, "extragradient"), (1 / math.sqrt(3), "optimistic")):
        assert spectral_radius(update_matrix(J, 0.99 * threshold / F1, method)) < 1
        assert spectral_radius(update_matrix(J, threshold / F1, method)) == pytest.approx(1, rel=1e-7)
        assert spectral_radius(update_matrix(J, 1.01 * threshold / F1, method)) > 1


def momentum_roots(lr: float, beta: float, alternating: bool) -> list[complex]:
    """Roots of the characteristic polynomial of heavy ball on v = J x, J = a [[0, -1], [1, 0]].

    With p(l) = l - (1 + beta) + beta / l, a mode x_t ~ l^t needs p(l) psi = h a theta and, simultaneous,
    p(l) theta = -h a psi, so p^2 = -h^2 a^2; alternating, G sees psi_{t+1} = l psi_t: p(l) theta = -h a l psi,
    so p^2 = -h^2 a^2 l. Times l^2: (l^2 - (1 + beta) l + beta)^2 + h^2 a^2 l^k = 0, k = 2 or 3."""
    quadratic = np.array([1, -(1 + beta), beta])
    coupling = np.zeros(5)
    coupling[1 if alternating else 2] = (lr * F1) ** 2
    return [complex(z) for z in np.roots(np.polymul(quadratic, quadratic) + coupling)]


@pytest.mark.parametrize("alternating", [False, True])
@pytest.mark.parametrize("beta", [-0.5, -0.2, 0.3])
def test_momentum_eigenvalues_and_their_small_lr_radius(alternating, beta):
    # to second order in c = h a (l = 1 + delta): radius 1 + c^2 (1 + beta) / (2 (1 - beta)^3) simultaneous,
    # > 1 for every beta in (-1, 1); 1 + c^2 beta / (1 - beta)^3 alternating, < 1 exactly when beta < 0
    J = DiracGAN().jacobian()
    M = update_matrix(J, 0.3, "momentum", alternating, beta)
    assert torch.allclose(spectrum(M), sorted_complex(momentum_roots(0.3, beta, alternating)), atol=1e-10)
    c = 0.02 * F1
    growth = beta / (1 - beta) ** 3 if alternating else (1 + beta) / (2 * (1 - beta) ** 3)
    radius = spectral_radius(update_matrix(J, 0.02, "momentum", alternating, beta))
    assert (radius - 1) / c**2 == pytest.approx(growth, rel=1e-3)


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.5, 1.0])
def test_negative_momentum_converges_only_when_alternating(lr):
    J = DiracGAN().jacobian()
    for beta in (-0.1, -0.3, -0.5):
        assert spectral_radius(update_matrix(J, lr, "momentum", True, beta)) < 1
        assert spectral_radius(update_matrix(J, lr, "momentum", False, beta)) > 1
    assert spectral_radius(update_matrix(J, lr, "momentum", True, 0.3)) > 1  # positive momentum: spirals out


def test_trajectories_grow_circle_or_shrink_as_the_radius_says():
    start, game = (torch.tensor(0.5), torch.tensor(0.5)), DiracGAN()
    r0 = math.sqrt(0.5)

    def distances(lr, **options):
        return simulate(game, *start, lr=lr, steps=3000, **options).norm(dim=1)

    # simultaneous: x . v = 0 for the unregularised game, so |x_{t+1}|^2 = |x_t|^2 + h^2 |v|^2 grows at every step
    assert (distances(0.3).diff() > 0).all()
    circling = distances(0.3, alternating=True)
    assert 0.95 * r0 < circling.min() and circling.max() < 1.15 * r0
    for lr, options in ((0.3, dict(method="extragradient")), (0.3, dict(method="optimistic")),
                        (0.5, dict(method="momentum", alternating=True, beta=-0.5))):
        assert distances(lr, **options)[-1] < 1e-6 * r0
    for options in (dict(method="momentum", beta=-0.5), dict(method="momentum", alternating=True, beta=0.5)):
        assert distances(0.5, **options)[-1] > 2 * r0


def test_each_method_against_two_steps_by_hand():
    game, h, beta = DiracGAN(r1_gamma=0.3, noise_std=0.5), 0.4, -0.3

    def v(theta, psi):
        return [c.item() for c in game.vector_field(torch.tensor(theta), torch.tensor(psi))]

    def plus(x, step, y):  # x + step * y
        return [p + step * q for p, q in zip(x, y, strict=True)]

    x0 = [0.8, -0.6]
    x1 = plus(x0, h, v(*x0))
    expected = {("gradient", False): [x0, x1, plus(x1, h, v(*x1))]}
    expected["optimistic", False] = [x0, x1, plus(x1, h, plus(v(*x1), 1, plus(v(*x1), -1, v(*x0))))]
    extra1 = plus(x0, h, v(*plus(x0, h, v(*x0))))
    expected["extragradient", False] = [x0, extra1, plus(extra1, h, v(*plus(extra1, h, v(*extra1))))]
    momentum2 = plus(plus(x1, h, v(*x1)), beta, plus(x1, -1, x0))
    expected["momentum", False] = [x0, x1, momentum2]
    psi1 = x0[1] + h * v(*x0)[1]
    alt1 = [x0[0] + h * v(x0[0], psi1)[0], psi1]
    psi2 = alt1[1] + h * v(*alt1)[1]
    expected["gradient", True] = [x0, alt1, [alt1[0] + h * v(alt1[0], psi2)[0], psi2]]
    psi2 = psi2 + beta * (alt1[1] - x0[1])
    expected["momentum", True] = [x0, alt1, [alt1[0] + h * v(alt1[0], psi2)[0] + beta * (alt1[0] - x0[0]), psi2]]
    for (method, alternating), points in expected.items():
        path = simulate(game, torch.tensor(x0[0]), torch.tensor(x0[1]), lr=h, steps=2, method=method,
                        alternating=alternating, beta=beta if method == "momentum" else 0.0)
        assert torch.allclose(path, torch.tensor(points, dtype=torch.float64), atol=1e-14), (method, alternating)


# ---- averaging the iterates of alternating gradient steps, which circle: x_t = p cos(t phi) + q sin(t phi) ----

CIRCLING = [(DiracGAN("wgan"), 1.0, 1.0, 1e-9), (DiracGAN(), F1, 1e-3, 1e-3)]  # game, f'(0), scale, tolerance


def circling(game: DiracGAN, a: float, scale: float, lr: float, steps: int = 0):
    """At least ``steps`` alternating steps and at least six cycles and a part (the bounds must hold between whole
    cycles too), the angle per step phi (cos phi = 1 - (lr a)^2 / 2), and the orbit's largest and smallest radius
    r, rho: the singular values of [p q], where p = x_0 and q = (x_1 - x_0 cos phi) / sin phi (a map with
    eigenvalues e^{+-i phi} satisfies x_{t+1} = 2 cos phi x_t - x_{t-1})."""
    phi = math.acos(1 - (lr * a) ** 2 / 2)
    steps = max(steps, int(6 * 2 * math.pi / phi) + 17)
    path = simulate(game, torch.tensor(0.3 * scale), torch.tensor(-0.7 * scale), lr=lr, steps=steps,
                    alternating=True)
    r, rho = torch.linalg.svdvals(torch.stack([path[0], (path[1] - path[0] * math.cos(phi)) / math.sin(phi)], 1))
    return path, phi, r.item(), rho.item()


def test_averages_by_definition():
    path = torch.tensor([[0.0, 2.0], [3.0, -1.0], [6.0, 5.0], [1.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(polyak_average(path)[2], torch.tensor([3.0, 2.0], dtype=torch.float64))
    assert torch.allclose(polyak_average(path)[-1], path.mean(0))
    ema = ema_average(path, beta=0.5)
    first = 2 / 11 * path[0] + 9 / 11 * path[1]  # b_1 = min(0.5, 2 / 11)
    second = 3 / 12 * first + 9 / 12 * path[2]  # b_2 = min(0.5, 3 / 12)
    assert torch.allclose(ema[:3], torch.stack([path[0], first, second]))
    assert torch.allclose(ema_average(path, beta=0.2, warmup=False)[1], 0.2 * path[0] + 0.8 * path[1])
    assert torch.equal(ema_average(path, beta=0.0), path)
    assert polyak_average(torch.zeros(5, 2, 3)).shape == ema_average(torch.zeros(5, 2, 3)).shape == (5, 2, 3)


@pytest.mark.parametrize("lr", [0.05, 0.3, 1.0])
@pytest.mark.parametrize("game, a, scale, tolerance", CIRCLING, ids=["wgan", "gan"])
def test_polyak_mean_converges_while_the_last_iterate_circles(game, a, scale, tolerance, lr):
    # |mean of x_0..x_n| <= r / ((n + 1) sin(phi / 2)) = 2 r / ((n + 1) h a) for every n (polyak_average's proof)
    path, phi, r, rho = circling(game, a, scale, lr)
    n = torch.arange(len(path), dtype=torch.float64)
    mean = polyak_average(path).norm(dim=1)
    assert (mean <= 2 * r / ((n + 1) * lr * a) * (1 + tolerance)).all()
    assert mean[-1] < 0.1 * r and (n * mean).max() > 0.5 * 2 * r / (lr * a)  # and the 1 / n is not faster
    distance = path.norm(dim=1)
    assert ((distance >= rho * (1 - tolerance)) & (distance <= r * (1 + tolerance))).all()
    # the steps conserve theta^2 + psi^2 + c theta psi (c = h a; A^T Q A = Q for Q = [[1, c/2], [c/2, 1]]): an
    # ellipse with axes along the diagonals and radii in the ratio sqrt((2 - c) / (2 + c)), so the last iterate
    # stays at distance ~r from the equilibrium for ever
    c = lr * a
    energy = path[:, 0] ** 2 + path[:, 1] ** 2 + c * path[:, 0] * path[:, 1]
    assert torch.allclose(energy, energy[0].expand_as(energy), rtol=tolerance)
    assert rho / r == pytest.approx(math.sqrt((2 - c) / (2 + c)), rel=tolerance)


@pytest.mark.parametrize("beta", [0.9, 0.99, 0.995])
@pytest.mark.parametrize("lr", [0.05, 0.3, 1.0])
@pytest.mark.parametrize("game, a, scale, tolerance", CIRCLING, ids=["wgan", "gan"])
def test_ema_stays_within_its_bound_at_every_step(game, a, scale, tolerance, lr, beta):
    # |EMA_t| <= r (1 - b_t) / sin(phi / 2) = 2 r (1 - b_t) / (h a), 1 - b_t = max(1 - beta, 9 / (10 + t)):
    # through the ramp, which ends where (1 + t) / (10 + t) reaches beta, and 2 / (1 - beta) steps past it
    ramp = math.ceil((10 * beta - 1) / (1 - beta))
    path, phi, r, _ = circling(game, a, scale, lr, steps=ramp + int(2 / (1 - beta)))
    t = torch.arange(1, len(path), dtype=torch.float64)
    ema = ema_average(path, beta).norm(dim=1)[1:]
    assert (ema <= 2 * r * torch.clamp(9 / (10 + t), min=1 - beta) / (lr * a) * (1 + tolerance)).all()


def test_warmup_forgets_the_start():
    # without the ramp x_0 keeps weight beta^t, and the rest is within 2 r (1 - beta) / (h a) of the centre
    # (the same sum by parts, its weights (1 - beta) beta^(t - u) increasing from u = 1), so at t:
    # |EMA_t| >= beta^t |x_0| - 2 r (1 - beta) / (h a); with the ramp |EMA_t| <= 2 r (9 / (10 + t)) / (h a)
    game, lr, beta, t = DiracGAN("wgan"), 0.1, 0.9999, 2000
    path, _, r, _ = circling(game, 1.0, 1.0, lr, steps=t)
    plain, warm = ema_average(path, beta, warmup=False)[t].norm(), ema_average(path, beta)[t].norm()
    assert plain >= beta**t * path[0].norm() - 2 * r * (1 - beta) / lr > 0.7 * r
    assert warm <= 2 * r * 9 / (10 + t) / lr < 0.1 * r


def test_averages_reject_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        ema_average(torch.zeros(3, 2), beta=1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        ema_average(torch.zeros(3, 2), beta=-0.1)
    for empty in (torch.zeros(()), torch.zeros(0, 2)):
        with pytest.raises(ValueError, match="time axis"):
            polyak_average(empty)
