"""Conditional GANs on digits: G(z, y) and D(x, y) for a condition y (Mirza & Osindero 2014).

A condition is a float vector (B, C): a one-hot digit (10 numbers) optionally followed by continuous attributes
(Chapter 8 adds thickness and slant ranks, C = 12). Integer digits (B,) are accepted as conditions and one-hot
encoded (``gancourse.models.as_condition``).

- The generator is ``LeanDCGANGenerator(condition_dim=C)``, and training is ``GANTrainer(..., conditions=...)``:
  real batches travel with their conditions, fake conditions are those of other, randomly drawn training digits.
- ``ConcatDiscriminator``: y enters as C constant feature maps stacked onto the image, before the first
  convolution, so every layer can combine it with the pixels (concatenating y at the last linear layer instead
  would only add an x-independent bias, which cannot tell a good 7 from a good 3).
- ``ProjectionDiscriminator`` (Miyato & Koyama 2018): logit = psi(phi(x)) + <V y, phi(x)>, phi the lean
  discriminator's features. For a one-hot y, V y is the class's embedding; the inner product is the log-ratio
  term of the optimal discriminator when p(y|x) is a log-linear model in phi(x).
- ``conditional_report`` and its helpers: is the asked-for digit drawn, and does the style follow the request?
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from gancourse.attributes import attribute_ranks, measure
from gancourse.metrics import classifier_outputs, digit_report, kid
from gancourse.models import N_CLASSES, LeanDCGANDiscriminator, as_condition, one_hot_digits

__all__ = [
    "ConcatDiscriminator", "ProjectionDiscriminator", "conditional_report", "style_conditions",
]


class ConcatDiscriminator(nn.Module):
    """(x (B, 1, 28, 28), y) -> logits (B,): y stacked onto x as ``condition_dim`` constant 28x28 maps, then
    the lean discriminator with 1 + ``condition_dim`` input channels."""

    def __init__(self, condition_dim: int = N_CLASSES, width: int = 32) -> None:
        super().__init__()
        self.condition_dim = condition_dim
        self.body = LeanDCGANDiscriminator(width, in_channels=1 + condition_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = as_condition(y, self.condition_dim).to(x.dtype)
        maps = y[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, C, 28, 28), no copy
        return self.body(torch.cat([x, maps], dim=1))


class ProjectionDiscriminator(nn.Module):
    """(x (B, 1, 28, 28), y) -> logits (B,) = psi(phi(x)) + <V y, phi(x)> (Miyato & Koyama 2018); phi and psi
    are the lean discriminator's body and last layer, V (``embed``) one row of 2w 7 7 numbers per entry of y."""

    def __init__(self, condition_dim: int = N_CLASSES, width: int = 32) -> None:
        super().__init__()
        self.condition_dim = condition_dim
        self.body = LeanDCGANDiscriminator(width)
        self.embed = nn.Linear(condition_dim, 2 * width * 7 * 7, bias=False)

    def phi(self, x: torch.Tensor) -> torch.Tensor:
        """The image's features (B, 2w 7 7)."""
        return self.body.features(x)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        features = self.phi(x)
        y = as_condition(y, self.condition_dim).to(features.dtype)
        return self.body.net[-1](features).squeeze(1) + (self.embed(y) * features).sum(dim=1)


def style_conditions(labels: torch.Tensor, attributes: torch.Tensor,
                     training_attributes: torch.Tensor) -> torch.Tensor:
    """Chapter 8's conditions: the digit one-hot, then each attribute's rank among the training digits'.

    ``labels`` (N,) int64 digits; ``attributes`` (N, A) measured on those digits (``attributes.measure``);
    ``training_attributes`` (M, A) the training digits' own. Returns (N, 10 + A) float in [0, 1].
    """
    ranks = attribute_ranks(attributes.cpu(), training_attributes.cpu()).float()
    return torch.cat([one_hot_digits(labels.cpu()), ranks], dim=1)


# ------------------------------------------------------------------------------------------------ measuring


def _recognised(probabilities: torch.Tensor, asked: torch.Tensor) -> torch.Tensor:
    """Per digit, the share of samples asked for that digit that the classifier reads as it: (10,) in [0, 1].

    ``probabilities`` (N, 10) of the frozen classifier, ``asked`` (N,) int64 digits.
    """
    probabilities, asked = torch.as_tensor(probabilities), torch.as_tensor(asked).cpu()
    hits = (probabilities.argmax(1) == asked).double()
    counts = torch.bincount(asked, minlength=N_CLASSES)
    if (counts == 0).any():
        raise ValueError(f"every digit must be asked for at least once; counts {counts.tolist()}")
    return torch.bincount(asked, weights=hits, minlength=N_CLASSES) / counts


def conditional_report(samples: torch.Tensor, conditions: torch.Tensor, reference: torch.Tensor,
                       reference_labels: torch.Tensor) -> dict:
    """How well samples follow their conditions, judged by the frozen classifier against held-out digits.

    ``samples`` (N, 1, 28, 28) in [-1, 1] made from ``conditions`` (N, 10 + A) (or digits (N,)); ``reference``
    (M, 1, 28, 28) real digits with ``reference_labels`` (M,). Keys: everything ``digit_report`` gives;
    "recognised" (10,) per asked-for digit and its "min recognised"; "class KID" (10,), each digit's samples
    against the reference digits of that class (KID, unbiased at these small sizes, unlike the Fréchet distance;
    its spread is not, so compare digits roughly). With A = 2 (thickness and slant ranks) also, per attribute,
    Spearman's correlation between requested ranks and the attributes measured on the samples: "thickness rho"
    pooled over all samples, and "thickness rho within digit", the mean over digits of the correlation among
    the samples asked for that digit (the pooled one is also raised by digits differing in typical style; the
    within-digit one is not); the same for slant.
    """
    asked = conditions[:, :N_CLASSES].argmax(1) if conditions.is_floating_point() else conditions
    asked = asked.cpu()
    report = digit_report(samples, reference)
    features, probabilities = classifier_outputs(samples)
    report["recognised"] = _recognised(torch.from_numpy(probabilities), asked)
    report["min recognised"] = float(report["recognised"].min())
    ref_labels, ref_features = reference_labels.cpu(), classifier_outputs(reference)[0]
    # KID, not FD: it is unbiased at the few dozen digits per class a reference of 500 holds (FD needs 65 or more)
    report["class KID"] = torch.tensor([
        kid(features[(asked == d).numpy()], ref_features[(ref_labels == d).numpy()]).mean for d in range(N_CLASSES)
    ])
    if conditions.is_floating_point() and conditions.shape[1] == N_CLASSES + 2:
        measured = measure(samples).cpu()
        requested = conditions[:, N_CLASSES:].cpu()
        for column, name in enumerate(("thickness", "slant")):
            report[f"{name} rho"] = float(spearmanr(requested[:, column], measured[:, column]).statistic)
            report[f"{name} rho within digit"] = float(np.mean([
                spearmanr(requested[asked == d, column], measured[asked == d, column]).statistic
                for d in range(N_CLASSES)
            ]))
    return report
