"""Networks for the chapters. Discriminators always return logits (apply ``torch.sigmoid`` for D(x))."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def mlp(
    in_dim: int, hidden: Sequence[int], out_dim: int, slope: float = 0.2, out_activation: nn.Module | None = None
) -> nn.Sequential:
    """Linear -> LeakyReLU(slope) per hidden width, then a final Linear (and ``out_activation`` if given)."""
    if in_dim < 1 or out_dim < 1 or any(h < 1 for h in hidden):
        raise ValueError(f"layer widths must be positive, got in={in_dim}, hidden={list(hidden)}, out={out_dim}")
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(slope)]
        width = h
    layers.append(nn.Linear(width, out_dim))
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (B, latent_dim) -> x (B, *out_shape). ``tanh=True`` bounds the output to [-1, 1] (images)."""

    def __init__(self, latent_dim: int, out_shape: Sequence[int], hidden: Sequence[int] = (256, 256),
                 tanh: bool = False) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.out_shape = tuple(out_shape)
        out_dim = int(torch.Size(self.out_shape).numel())
        self.net = mlp(latent_dim, hidden, out_dim, out_activation=nn.Tanh() if tanh else None)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected z of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        return self.net(z).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """x (B, *in_shape) -> logits (B,)."""

    def __init__(self, in_shape: Sequence[int], hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.net = mlp(int(torch.Size(self.in_shape).numel()), hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(f"expected x of shape (B, {', '.join(map(str, self.in_shape))}), got {tuple(x.shape)}")
        return self.net(x.flatten(1)).squeeze(1)


class PackedDiscriminator(nn.Module):
    """PacGAN (Lin et al. 2018): judge ``pack`` samples at once, concatenated, so D can see a lack of variety.

    x (B, *in_shape) with B divisible by ``pack`` -> logits (B // pack,).
    """

    def __init__(self, in_shape: Sequence[int], pack: int = 2, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        if pack < 1:
            raise ValueError(f"pack must be >= 1, got {pack}")
        self.in_shape, self.pack = tuple(in_shape), pack
        self.net = mlp(pack * int(torch.Size(self.in_shape).numel()), hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(f"expected x of shape (B, {', '.join(map(str, self.in_shape))}), got {tuple(x.shape)}")
        if x.shape[0] % self.pack:
            raise ValueError(f"batch size {x.shape[0]} is not a multiple of pack = {self.pack}")
        return self.net(x.reshape(x.shape[0] // self.pack, -1)).squeeze(1)
