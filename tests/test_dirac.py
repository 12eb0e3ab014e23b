"""The Dirac-GAN against its closed forms (Mescheder et al. 2018, Section 2 and Theorems 4.1, 4.2)."""

import math

import pytest
import torch

from gancourse.dirac import DiracGAN, _gan_f, simulate

F1, F2 = 0.5, -0.25  # f'(0) and f''(0) for the GAN's f(t) = -log(1 + e^-t)


def eigenvalues(game: DiracGAN) -> torch.Tensor:
    values = sorted(torch.linalg.eigvals(game.jacobian()).tolist(), key=lambda z: (round(z.imag, 9), z.real))
    return torch.tensor(values, dtype=torch.complex128)


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
    expected = sorted([(-gamma - root) / 2, (-gamma + root) / 2], key=lambda z: (round(z.imag, 9), z.real))
    values = eigenvalues(DiracGAN(r1_gamma=(1 - share) * gamma, r2_gamma=share * gamma))
    assert torch.allclose(values, torch.tensor(expected, dtype=torch.complex128), atol=1e-10)
    assert (values.real < 0).all()


@pytest.mark.parametrize("sigma", [0.2, 0.7, 1.5])
def test_instance_noise_eigenvalues(sigma):
    # trace 2 f''(0) sigma^2, determinant f'(0)^2: eigenvalues f''(0) sigma^2 +- sqrt(f''(0)^2 sigma^4 - f'(0)^2)
    root = complex(F2**2 * sigma**4 - F1**2) ** 0.5
    expected = sorted([F2 * sigma**2 - root, F2 * sigma**2 + root], key=lambda z: (round(z.imag, 9), z.real))
    values = eigenvalues(DiracGAN(noise_std=sigma))
    assert torch.allclose(values, torch.tensor(expected, dtype=torch.complex128), atol=1e-8)


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


def test_clipping_bounds_psi_and_shapes():
    path = simulate(DiracGAN("wgan", clip=0.1), torch.zeros(3, 4) + 1, torch.zeros(3, 4), lr=0.5, steps=20)
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


def test_r2_is_taken_at_the_fake_point():
    # dD/dx = psi at every point, so R2 = gamma_2 / 2 psi^2 wherever G stands, with or without instance noise
    theta, psi = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64), torch.tensor([0.5, -1.0, 2.0],
                                                                                   dtype=torch.float64)
    for noise in (0.0, 0.6):
        assert torch.allclose(DiracGAN(r2_gamma=0.8, noise_std=noise).regulariser(theta, psi), 0.4 * psi**2)
