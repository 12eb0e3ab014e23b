"""GAN losses on logits, each a line or two on ``F.binary_cross_entropy_with_logits``.

Every function takes discriminator *logits* l (any shape; D(x) = sigmoid(l)) and returns a scalar mean.
Working on logits is exact where ``BCELoss(sigmoid(l))`` is not: for |l| > ~17 the sigmoid rounds to 0 or 1 in
float32 and the log then returns -inf (which ``BCELoss`` clamps to -100, silently killing the gradient).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["discriminator_loss", "generator_loss_nonsaturating", "generator_loss_saturating"]


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0
) -> torch.Tensor:
    """-[E log D(x) + E log(1 - D(G(z)))]: the negated value function V(D, G), estimated on a batch.

    ``real_label`` < 1 gives one-sided label smoothing (Salimans et al. 2016); fake labels stay 0.
    """
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """E log(1 - D(G(z))): the minimax generator loss of the original game (it saturates when D wins)."""
    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """-E log D(G(z)): the 'non-saturating' generator loss that Goodfellow et al. (2014) use in practice."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
