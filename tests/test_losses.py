import pytest
import torch
from torch import nn

from gancourse.losses import discriminator_loss, generator_loss_nonsaturating, generator_loss_saturating


@pytest.fixture
def logits():
    torch.manual_seed(0)
    return torch.randn(64) * 3, torch.randn(64) * 3


def test_discriminator_loss_is_negated_value_function(logits):
    real, fake = logits
    value = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert discriminator_loss(real, fake).item() == pytest.approx(-value.item(), rel=1e-5)


def test_matches_bceloss_reference_for_moderate_logits(logits):
    real, fake = logits
    bce = nn.BCELoss()
    ref = bce(torch.sigmoid(real), torch.ones(64)) + bce(torch.sigmoid(fake), torch.zeros(64))
    assert discriminator_loss(real, fake).item() == pytest.approx(ref.item(), rel=1e-5)
    ref_g = bce(torch.sigmoid(fake), torch.ones(64))
    assert generator_loss_nonsaturating(fake).item() == pytest.approx(ref_g.item(), rel=1e-5)


def test_generator_losses(logits):
    _, fake = logits
    d = torch.sigmoid(fake)
    assert generator_loss_saturating(fake).item() == pytest.approx(torch.log(1 - d).mean().item(), rel=1e-5)
    assert generator_loss_nonsaturating(fake).item() == pytest.approx(-torch.log(d).mean().item(), rel=1e-5)


def test_label_smoothing_changes_only_real_term(logits):
    real, fake = logits
    smooth = discriminator_loss(real, fake, real_label=0.9)
    by_hand = -(0.9 * torch.log(torch.sigmoid(real)) + 0.1 * torch.log(1 - torch.sigmoid(real))).mean()
    by_hand = by_hand - torch.log(1 - torch.sigmoid(fake)).mean()
    assert smooth.item() == pytest.approx(by_hand.item(), rel=1e-5)


def test_stable_where_bceloss_breaks():
    fake = torch.tensor([40.0], requires_grad=True)  # sigmoid(40) rounds to exactly 1.0 in float32
    loss = discriminator_loss(torch.tensor([40.0]), fake)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() == pytest.approx(40.0, rel=1e-4)
    assert fake.grad.item() == pytest.approx(1.0, rel=1e-4)  # d/dl softplus(l) = sigmoid(l)


def test_canary_bceloss_clamps_log_zero_at_minus_100():
    """Canary for PyTorch's ``nn.BCELoss``: on a probability that rounds to exactly 1.0 it returns log(0) clamped
    at -100, a wrong value (the true loss is 40), which is why the losses take logits. Chapter 2 states and
    asserts it ("Why logits, not `BCELoss` after a sigmoid"): if this fails, PyTorch changed the clamp."""
    clamped = nn.BCELoss()(torch.sigmoid(torch.tensor([40.0])), torch.zeros(1))
    assert clamped.item() == pytest.approx(100.0)
