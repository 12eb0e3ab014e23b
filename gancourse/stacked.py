"""Many small GANs trained as one: M independent MLPs held as stacked weights, run with batched matmuls.

A 2-D toy GAN costs microseconds of arithmetic per iteration and about a millisecond of Python; M runs (seeds,
datasets) as M separate models would pay the Python M times. Here layer l of model m has its own weight
W[m] (in, out) and bias b[m], and one ``torch.baddbmm`` computes the layer for all M models.

Samples travel *flattened*, (M * B, d), rows [m * B, (m + 1) * B) belonging to model m, and are reshaped to
(M, B, d) inside. Every objective of ``gancourse.objectives`` and the training loop therefore see an ordinary
batch of M * B samples. Models never mix samples, so a per-sample input gradient (R1, the gradient penalty) is
each model's own, and a batch mean over M * B is the mean of the M models' means: model m's gradient arrives
scaled by 1 / M, to which Adam and RMSprop are invariant (up to their epsilon), so each model trains as it
would alone.

Also here, because the toy benchmarks need them per model:
    ``StackedDiscriminator(spectral=True)``  spectral normalisation (Miyato et al. 2018) with one power
                                             iteration per training forward pass, the scheme of
                                             ``torch.nn.utils.parametrizations.spectral_norm``, for each model's
                                             matrix separately;
    ``MinibatchDiscrimination``              Salimans et al. (2016): kernels of L1 distances between samples of a
                                             batch.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.models import mlp, pack_samples

__all__ = ["MinibatchDiscrimination", "StackedDiscriminator", "StackedGenerator", "minibatch_similarity"]


def minibatch_similarity(m: torch.Tensor) -> torch.Tensor:
    """o[..., i, k] = sum over j != i of exp(-||m[..., i, k, :] - m[..., j, k, :]||_1) (Salimans et al. 2016, Sec. 3.2).

    ``m``: (..., B, K, C), each sample's K kernels of C numbers. Returns (..., B, K). A batch of B identical
    samples gives B - 1 everywhere; samples far from all others give about 0.
    """
    kernels = m.movedim(-2, -3)  # (..., K, B, C)
    distance = torch.cdist(kernels, kernels, p=1)  # (..., K, B, B): L1 distance per kernel, per pair
    return (torch.exp(-distance).sum(-1) - 1.0).movedim(-2, -1)  # drop j = i: distance 0, term exactly 1


class MinibatchDiscrimination(nn.Module):
    """Append to each sample's features how close it is to the other samples of its batch, per kernel.

    features (M, B, A) -> (M, B, A + K), one tensor T per model: T[m] (A, K * C) projects model m's features to
    K kernels of C numbers, initialised N(0, 0.05^2) as in the authors' code.
    """

    def __init__(self, n_models: int, in_features: int, n_kernels: int = 5, kernel_dim: int = 3):
        super().__init__()
        self.n_kernels, self.kernel_dim = n_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(n_models, in_features, n_kernels * kernel_dim) * 0.05)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if features.ndim != 3:
            raise ValueError(f"expected features (M, B, A), got {tuple(features.shape)}")
        m = (features @ self.T).unflatten(-1, (self.n_kernels, self.kernel_dim))  # (M, B, K, C)
        return torch.cat([features, minibatch_similarity(m)], dim=-1)


class _StackedLinear(nn.Module):
    """M independent linear layers: x (M, B, in) -> (M, B, out), initialised as ``nn.Linear`` is.

    ``spectral=True`` divides each model's weight by its largest singular value, estimated by one step of power
    iteration per training forward pass (vectors u (M, out), v (M, in) kept as buffers and refined over time).
    """

    def __init__(self, n_models: int, in_features: int, out_features: int, spectral: bool = False) -> None:
        super().__init__()
        bound = 1 / math.sqrt(in_features)  # nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
        self.weight = nn.Parameter(torch.empty(n_models, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_models, 1, out_features).uniform_(-bound, bound))
        self.spectral = spectral
        if spectral:
            self.register_buffer("u", F.normalize(torch.randn(n_models, out_features), dim=1))
            self.register_buffer("v", F.normalize(torch.randn(n_models, in_features), dim=1))
            for _ in range(15):  # as PyTorch's spectral_norm does at creation: start from a good estimate
                self._power_iteration()

    @torch.no_grad()
    def _power_iteration(self) -> None:
        # each model's matrix is A = W^T (out, in): v <- A^T u / |.|, u <- A v / |.|
        self.v = F.normalize(torch.bmm(self.weight, self.u.unsqueeze(2)).squeeze(2), dim=1, eps=1e-12)
        self.u = F.normalize(torch.bmm(self.v.unsqueeze(1), self.weight).squeeze(1), dim=1, eps=1e-12)

    def sigma(self) -> torch.Tensor:
        """Each model's estimated largest singular value u^T A v, (M,), differentiable in the weight."""
        return torch.einsum("mi,mio,mo->m", self.v, self.weight, self.u)

    def effective_weight(self) -> torch.Tensor:
        """The weight the layer applies, (M, in, out): divided by ``sigma`` when spectral."""
        if not self.spectral:
            return self.weight
        if self.training:
            self._power_iteration()
        return self.weight / self.sigma().view(-1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.effective_weight())


def _unstack(x: torch.Tensor, n_models: int, dim: int) -> torch.Tensor:
    """(M * B, dim) -> (M, B, dim), with one clear error for a batch that does not split into M models."""
    if x.ndim != 2 or x.shape[1] != dim or x.shape[0] % n_models:
        raise ValueError(f"expected (M * B, {dim}) with M = {n_models}, got {tuple(x.shape)}")
    return x.view(n_models, -1, dim)


class StackedGenerator(nn.Module):
    """M generators: z (M * B, latent_dim) -> x (M * B, out_dim); rows of model m are [m * B, (m + 1) * B)."""

    def __init__(self, n_models: int, latent_dim: int, out_dim: int = 2, hidden: Sequence[int] = (128, 128)):
        super().__init__()
        self.n_models, self.latent_dim, self.out_dim = n_models, latent_dim, out_dim
        self.net = mlp(latent_dim, hidden, out_dim, linear=functools.partial(_StackedLinear, n_models))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(_unstack(z, self.n_models, self.latent_dim)).reshape(-1, self.out_dim)


class StackedDiscriminator(nn.Module):
    """M discriminators (or critics): x (M * B, in_dim) -> scores (M * B // pack,).

    ``pack`` > 1: PacGAN (Lin et al. 2018), each model judges ``pack`` consecutive samples of its own at once.
    ``spectral``: spectral normalisation of every layer. ``minibatch_kernels`` > 0: minibatch discrimination
    (``MinibatchDiscrimination``) before the output layer. The penalties (R1, gradient penalty) need scores that
    depend on one sample only, so do not combine them with packing or minibatch discrimination.
    """

    def __init__(self, n_models: int, in_dim: int = 2, hidden: Sequence[int] = (128, 128), pack: int = 1,
                 spectral: bool = False, minibatch_kernels: int = 0, kernel_dim: int = 3) -> None:
        super().__init__()
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        self.n_models, self.in_dim, self.pack = n_models, in_dim, pack
        linear = functools.partial(_StackedLinear, n_models, spectral=spectral)
        self.net = mlp(pack * in_dim, hidden, 1, linear=linear)
        self.minibatch = None
        if minibatch_kernels:
            self.minibatch = MinibatchDiscrimination(n_models, hidden[-1], minibatch_kernels, kernel_dim)
            self.net[-1] = linear(hidden[-1] + minibatch_kernels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = pack_samples(_unstack(x, self.n_models, self.in_dim), self.pack)  # (M, B / pack, pack d)
        *body, out = self.net  # not self.net[:-1], which builds a new nn.Sequential on every call
        for layer in body:
            h = layer(h)  # (M, B / pack, H) after the last hidden layer
        if self.minibatch is not None:
            h = self.minibatch(h)
        return out(h).reshape(-1)
