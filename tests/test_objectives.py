"""The objectives' mathematics against closed forms: linear critics, hand-written hinge and Wasserstein losses."""

import pytest
import torch
from torch import nn

from gancourse.losses import discriminator_loss, generator_loss_nonsaturating, generator_loss_saturating
from gancourse.objectives import (
    FeatureMatching,
    Hinge,
    LeastSquares,
    Minimax,
    NonSaturating,
    PenaltyOn,
    RelativisticPairing,
    Wasserstein,
    WassersteinGP,
    _squared_input_gradient,
    gradient_penalty,
)

OBJECTIVES = [NonSaturating(), NonSaturating(real_label=0.9, r1_gamma=1.0), Minimax(), Hinge(), Hinge(r1_gamma=2.0),
              Wasserstein(), WassersteinGP(), LeastSquares(), FeatureMatching()]


class Linear(nn.Module):
    """D(x) = <w, x> + b for x of any shape (B, *w.shape): its input gradient is w for every x."""

    def __init__(self, shape, seed=0):
        super().__init__()
        self.w = nn.Parameter(torch.randn(shape, generator=torch.Generator().manual_seed(seed)))
        self.b = nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1) + self.b


class HalfSquare(nn.Module):
    """D(x) = ||x||^2 / 2 per sample, so grad_x D = x: the penalty sees the interpolates themselves."""

    def forward(self, x):
        return 0.5 * x.flatten(1).pow(2).sum(1)


@pytest.fixture
def scores():
    g = torch.Generator().manual_seed(0)
    return torch.randn(64, generator=g) * 3, torch.randn(64, generator=g) * 3


@pytest.mark.parametrize("shape", [(5,), (1, 28, 28), (3, 4, 4)])
def test_gradient_penalty_on_a_linear_critic_is_exactly_norm_minus_one_squared(shape):
    critic = Linear(shape)
    real, fake = torch.randn(16, *shape), torch.randn(16, *shape)
    expected = (critic.w.norm() - 1) ** 2  # grad_x <w, x> = w everywhere, whatever x̂ is
    # a norm over dim=1 of a (B, 1, 28, 28) gradient would give |w| pixel by pixel instead
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(expected.item(), rel=1e-5)


def test_gradient_penalty_draws_one_eps_per_sample_on_the_segment():
    real, fake = torch.ones(8, 1, 28, 28), torch.zeros(8, 1, 28, 28)
    seen = []
    critic = HalfSquare()
    critic.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].detach()))
    torch.manual_seed(0)
    penalty = gradient_penalty(critic, real, fake)
    mixed = seen[0].flatten(1)  # x̂ = eps 1 + (1 - eps) 0 = eps, pixel by pixel
    assert torch.equal(mixed.amin(1), mixed.amax(1))  # one eps per sample, not one per pixel
    eps = mixed[:, 0]
    assert len(eps.unique()) == 8 and eps.min() >= 0 and eps.max() <= 1  # and different samples differ
    # grad = x̂, so ||grad|| = eps sqrt(784)
    assert penalty.item() == pytest.approx(((eps * 28 - 1) ** 2).mean().item(), rel=1e-5)


def test_gradient_penalty_is_differentiable_in_the_critics_weights():
    critic = Linear((3,))
    gradient_penalty(critic, torch.randn(4, 3), torch.randn(4, 3)).backward()  # needs create_graph=True
    norm = critic.w.norm()
    expected = 2 * (norm - 1) * critic.w / norm  # d/dw (||w|| - 1)^2
    assert torch.allclose(critic.w.grad, expected.detach(), atol=1e-6)


def test_gradient_penalty_refuses_batch_norm_and_mismatched_shapes():
    critic = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="batch norm"):
        gradient_penalty(critic, torch.randn(4, 3), torch.randn(4, 3))
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(Linear((3,)), torch.randn(4, 3), torch.randn(5, 3))


def test_r1_on_a_linear_discriminator_is_the_squared_norm_of_w():
    D = Linear((1, 28, 28))
    r1 = _squared_input_gradient(D, torch.randn(10, 1, 28, 28))
    assert r1.item() == pytest.approx(D.w.pow(2).sum().item(), rel=1e-5)
    D.zero_grad()
    _squared_input_gradient(D, torch.randn(3, 1, 28, 28)).backward()
    assert torch.allclose(D.w.grad, 2 * D.w.detach())


class Conditional(nn.Module):
    """D(x, y) = y <w, x> with w = (3, 4): its input gradient is y w, of norm 5 |y|."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([3.0, 4.0]))

    def forward(self, x, y):
        return y * (x * self.w).sum(1)


def test_conditional_penalties_pass_the_condition():
    D, y = Conditional(), torch.tensor([1.0, 2.0])
    x = torch.randn(2, 2)
    assert _squared_input_gradient(D, x, y).item() == pytest.approx((25 * (1 + 4)) / 2)
    assert gradient_penalty(D, x, x.flip(0), y).item() == pytest.approx(((5 - 1) ** 2 + (10 - 1) ** 2) / 2)


def test_bce_objectives_are_the_losses_module(scores):
    real, fake = scores
    for objective in (NonSaturating(), Minimax()):
        assert torch.equal(objective.d_loss(real, fake), discriminator_loss(real, fake))
    assert torch.equal(NonSaturating(real_label=0.9).d_loss(real, fake), discriminator_loss(real, fake, 0.9))
    assert torch.equal(NonSaturating().g_loss(fake), generator_loss_nonsaturating(fake))
    assert torch.equal(Minimax().g_loss(fake), generator_loss_saturating(fake))


def test_hinge_and_wasserstein_against_hand_formulas(scores):
    real, fake = scores
    hinge_d = sum(max(0.0, 1 - r) for r in real.tolist()) / 64 + sum(max(0.0, 1 + f) for f in fake.tolist()) / 64
    assert Hinge().d_loss(real, fake).item() == pytest.approx(hinge_d, rel=1e-5)
    assert Hinge().g_loss(fake).item() == pytest.approx(-sum(fake.tolist()) / 64, rel=1e-5)
    for critic in (Wasserstein(), WassersteinGP()):
        # the critic maximises E f(x) - E f(G(z)): its loss is the negative of that estimate
        assert critic.d_loss(real, fake).item() == pytest.approx((fake.mean() - real.mean()).item(), rel=1e-5)
        assert critic.g_loss(fake).item() == pytest.approx(-fake.mean().item(), rel=1e-5)


def test_penalties_are_weighted_and_on_real_data_only():
    D, real, fake = Linear((6,)), torch.randn(8, 6), torch.randn(8, 6) * 100
    w2 = D.w.pow(2).sum()
    assert NonSaturating().penalty(D, real, fake) is None and Hinge().penalty(D, real, fake) is None
    assert Wasserstein().penalty(D, real, fake) is None and Minimax().penalty(D, real, fake) is None
    assert NonSaturating(r1_gamma=4.0).penalty(D, real, fake).item() == pytest.approx(2 * w2.item(), rel=1e-5)
    assert Hinge(r1_gamma=1.0).penalty(D, real, fake).item() == pytest.approx(0.5 * w2.item(), rel=1e-5)
    gp = (D.w.norm() - 1) ** 2
    assert WassersteinGP(gp_weight=3.0).penalty(D, real, fake).item() == pytest.approx(3 * gp.item(), rel=1e-5)


def test_weight_clipping_leaves_every_weight_in_the_interval():
    D = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    with torch.no_grad():
        for p in D.parameters():
            p.mul_(10)
    inside = [p.detach().clone() for p in D.parameters()]
    Wasserstein(clip=0.05).after_d_step(D)
    for before, p in zip(inside, D.parameters(), strict=True):
        assert p.abs().max() <= 0.05 and p.requires_grad
        small = before.abs() <= 0.05
        assert torch.equal(p[small], before[small])  # weights already inside are untouched
        assert torch.equal(p[~small], 0.05 * before[~small].sign())  # the others sit on the boundary


def test_objectives_without_a_step_after_d_leave_it_alone():
    D = Linear((3,))
    before = [p.detach().clone() for p in D.parameters()]
    for objective in (NonSaturating(), Minimax(), Hinge(), WassersteinGP()):
        objective.after_d_step(D)
    assert all(torch.equal(a, b) for a, b in zip(before, D.parameters(), strict=True))


@pytest.mark.parametrize("bad", [lambda: NonSaturating(real_label=0.4), lambda: NonSaturating(r1_gamma=-1),
                                 lambda: Hinge(r1_gamma=-0.1), lambda: Wasserstein(clip=0),
                                 lambda: RelativisticPairing(r2_gamma=-1),
                                 lambda: WassersteinGP(gp_weight=-10)])
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError, match="must"):
        bad()


@pytest.mark.parametrize("objective", OBJECTIVES, ids=repr)
def test_losses_are_scalars_with_gradients(objective, scores):
    real, fake = (s.clone().requires_grad_(True) for s in scores)
    for loss in (objective.d_loss(real, fake), objective.g_loss(fake)):
        assert loss.shape == () and torch.isfinite(loss)
        loss.backward()
    assert real.grad is not None and fake.grad is not None


def test_r2_penalises_the_fake_batch_and_adds_to_r1():
    """For a linear D the input gradient is w everywhere: R1 + R2 = (gamma_1 + gamma_2) / 2 ||w||^2, and R2 alone
    sees the fake batch's condition (``Conditional``: a scale y of D's output)."""
    D, real, fake = Linear((6,)), torch.randn(8, 6), torch.randn(8, 6) * 100
    w2 = D.w.pow(2).sum().item()
    assert NonSaturating(r2_gamma=2.0).penalty(D, real, fake).item() == pytest.approx(w2, rel=1e-5)
    assert RelativisticPairing(r1_gamma=1.0, r2_gamma=3.0).penalty(D, real, fake).item() == pytest.approx(2 * w2,
                                                                                                           rel=1e-5)

    real_y, fake_y = torch.ones(2), torch.full((2,), 2.0)
    r2 = Hinge(r2_gamma=2.0).penalty(Conditional(), torch.randn(2, 2), torch.randn(2, 2), real_y, fake_y)
    assert r2.item() == pytest.approx(4 * 25)  # gamma / 2 * E (y ||w||)^2 with y = 2, ||w|| = 5


def test_least_squares_against_hand_formulas_and_its_optimal_discriminator(scores):
    real, fake = scores
    lsgan = LeastSquares()
    expected_d = 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean()
    assert lsgan.d_loss(real, fake).item() == pytest.approx(expected_d.item(), rel=1e-6)
    assert lsgan.g_loss(fake).item() == pytest.approx(0.5 * ((fake - 1) ** 2).mean().item(), rel=1e-6)
    # pointwise, b p_d (s - b)^2 + p_g (s - a)^2 is least at s* = (b p_d + a p_g) / (p_d + p_g) (Mao et al. 2017)
    coded = LeastSquares(fake_target=-1.0, real_target=1.0, generator_target=0.0)
    p_data, p_g = 0.3, 0.7
    s = torch.linspace(-1, 1, 20001, dtype=torch.float64)
    pointwise = p_data * (s - coded.real_target) ** 2 + p_g * (s - coded.fake_target) ** 2
    best = s[pointwise.argmin()].item()
    assert best == pytest.approx((p_data * 1.0 + p_g * -1.0) / (p_data + p_g), abs=1e-4)


def test_relativistic_pairing_compares_each_real_with_its_fake():
    real, fake = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([0.0, 1.0, 0.5])
    rp = RelativisticPairing()
    # D: -E log sigmoid(s(x) - s(G(z))); G: -E log sigmoid(s(G(z)) - s(x))
    assert rp.d_loss(real, fake).item() == pytest.approx(-torch.log(torch.sigmoid(real - fake)).mean().item())
    assert rp.g_loss(fake, real).item() == pytest.approx(-torch.log(torch.sigmoid(fake - real)).mean().item())
    # the pairing matters: shuffling the fakes changes the loss, unlike any loss of separate means
    assert rp.d_loss(real, fake.flip(0)).item() != pytest.approx(rp.d_loss(real, fake).item())
    with pytest.raises(ValueError, match="one shape"):
        rp.d_loss(real, fake[:2])
    with pytest.raises(ValueError, match="real batch"):
        rp.g_loss(fake)
    D = Linear((2,))
    x, g = torch.randn(3, 2), torch.randn(3, 2, requires_grad=True)
    loss = rp.generator_loss(D, g, real=x)
    assert loss.item() == pytest.approx(rp.g_loss(D(g), D(x)).item())
    loss.backward()  # through D's score on the fake batch into G's output
    assert g.grad is not None and rp.needs_real_in_g_step and not NonSaturating.needs_real_in_g_step
    with pytest.raises(ValueError, match="real batch"):
        rp.generator_loss(D, g)


class WithFeatures(nn.Module):
    """D(x) = <v, f(x)> with features f(x) = W x: feature matching's gradient is known."""

    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.randn(4, 3, generator=torch.Generator().manual_seed(1)))
        self.v = nn.Parameter(torch.randn(4, generator=torch.Generator().manual_seed(2)))

    def features(self, x):
        return x @ self.W.T

    def forward(self, x):
        return self.features(x) @ self.v


def test_feature_matching_matches_the_mean_features_of_the_batch():
    D, real = WithFeatures(), torch.randn(16, 3)
    fake = torch.randn(16, 3, requires_grad=True)
    loss = FeatureMatching().generator_loss(D, fake, real=real)
    gap = (real.mean(0) - fake.mean(0)) @ D.W.T
    assert loss.item() == pytest.approx(gap.square().sum().item(), rel=1e-5)
    loss.backward()
    # d/dg_i || W (mean x - mean g) ||^2 = -2 / B W^T W (mean x - mean g), the same for every fake sample
    expected = -2 / 16 * (D.W.T @ (D.W @ (real.mean(0) - fake.mean(0)))).detach()
    assert torch.allclose(fake.grad, expected.expand(16, 3), atol=1e-6)
    # D trains as in NonSaturating; the wrappers pass G's loss through
    assert FeatureMatching().d_loss(D(real), D(fake)).item() == pytest.approx(
        NonSaturating().d_loss(D(real), D(fake)).item())
    wrapped = PenaltyOn(FeatureMatching(), D)
    assert wrapped.needs_real_in_g_step and wrapped.generator_loss(D, fake, real=real).item() == pytest.approx(
        loss.item())
    with pytest.raises(TypeError, match="features"):
        FeatureMatching().generator_loss(Linear((3,)), fake, real=real)
