"""Networks for the chapters. Discriminators always return logits (apply ``torch.sigmoid`` for D(x))."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from gancourse.objectives import call_network

__all__ = [
    "N_CLASSES", "KerasDCGANDiscriminator", "KerasDCGANGenerator", "LeanDCGANCritic", "LeanDCGANDiscriminator",
    "LeanDCGANGenerator", "MLPDiscriminator", "MLPGenerator", "PackedDiscriminator", "as_condition", "dcgan_init_",
    "generate", "keras_init_", "mlp", "one_hot_digits", "pack_samples",
]


def mlp(
    in_dim: int, hidden: Sequence[int], out_dim: int, out_activation: nn.Module | None = None,
    linear: Callable[[int, int], nn.Module] = nn.Linear,
) -> nn.Sequential:
    """Linear -> LeakyReLU(0.2) per hidden width, then a final Linear (and ``out_activation`` if given).

    ``linear(in, out)`` builds each linear layer, in order: ``nn.Linear``, or M models' stacked layers
    (``gancourse.stacked``). Without ``out_activation`` the last layer is ``[-1]`` and the body before it ``[:-1]``.
    """
    if in_dim < 1 or out_dim < 1 or any(h < 1 for h in hidden):
        raise ValueError(f"layer widths must be positive, got in={in_dim}, hidden={list(hidden)}, out={out_dim}")
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [linear(width, h), nn.LeakyReLU(0.2)]
        width = h
    layers.append(linear(width, out_dim))
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


def _check_samples(x: torch.Tensor, in_shape: tuple[int, ...]) -> None:
    if tuple(x.shape[1:]) != in_shape:
        raise ValueError(f"expected x of shape (B, {', '.join(map(str, in_shape))}), got {tuple(x.shape)}")


class MLPDiscriminator(nn.Module):
    """x (B, *in_shape) -> logits (B,)."""

    def __init__(self, in_shape: Sequence[int], hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.net = mlp(int(torch.Size(self.in_shape).numel()), hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_samples(x, self.in_shape)
        return self.net(x.flatten(1)).squeeze(1)


def pack_samples(x: torch.Tensor, pack: int) -> torch.Tensor:
    """PacGAN's input (Lin et al. 2018): samples (..., B, d) -> (..., B / pack, pack d), each row ``pack``
    consecutive samples side by side."""
    if x.shape[-2] % pack:
        raise ValueError(f"batch size {x.shape[-2]} is not a multiple of pack = {pack}")
    return x.reshape(*x.shape[:-2], x.shape[-2] // pack, pack * x.shape[-1])


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
        _check_samples(x, self.in_shape)
        return self.net(pack_samples(x.flatten(1), self.pack)).squeeze(1)


# --------------------------------------------------------------------------------------------- DCGAN

KERAS_BN_MOMENTUM = 0.8  # Keras: running = 0.8 * running + 0.2 * batch
TORCH_BN_MOMENTUM = round(1 - KERAS_BN_MOMENTUM, 6)  # PyTorch: running = (1 - m) * running + m * batch, so m = 0.2
KERAS_BN_EPS = 1e-3  # Keras' default epsilon; PyTorch's is 1e-5


def _keras_bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=KERAS_BN_EPS, momentum=TORCH_BN_MOMENTUM)


def _keras_same_stride2(c_in: int, c_out: int) -> list[nn.Module]:
    """Keras' ``Conv2D(kernel_size=3, strides=2, padding="same")`` on an even-sized input, exactly.

    TensorFlow's "same" pads ``max((out - 1) * stride + k - in, 0)`` zeros with the odd one at the bottom and right;
    for k = 3, stride 2 and an even input that is one row and one column, after the image only. PyTorch's
    ``padding=1`` would pad both sides and shift the sampling grid by a pixel.
    """
    return [nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(c_in, c_out, 3, stride=2, padding=0)]


def keras_init_(module: nn.Module) -> nn.Module:
    """Keras' defaults: Glorot-uniform kernels, zero biases, batch norm scale 1 and shift 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_parameters()
    return module


class KerasDCGANGenerator(nn.Module):
    """The source material's Keras generator, layer for layer. z (B, latent_dim) -> images (B, 1, 28, 28) in [-1, 1].

    Dense(128*7*7, relu) -> reshape -> UpSampling2D -> Conv 128 3x3 -> BN -> ReLU -> UpSampling2D -> Conv 64 3x3
    -> BN -> ReLU -> Conv 1 3x3 -> tanh ('same' padding with stride 1: one pixel on every side, as in PyTorch).
    Initialised as Keras does (``keras_init_``). The layout is that of the Keras-GAN project's ``dcgan.py``.
    """

    def __init__(self, latent_dim: int = 100) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.project = nn.Sequential(nn.Linear(latent_dim, 128 * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),  # (B, 128, 14, 14)
            nn.Conv2d(128, 128, 3, padding=1), _keras_bn(128), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),  # (B, 128, 28, 28)
            nn.Conv2d(128, 64, 3, padding=1), _keras_bn(64), nn.ReLU(),
            nn.Conv2d(64, 1, 3, padding=1), nn.Tanh(),  # (B, 1, 28, 28)
        )
        keras_init_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(-1, 128, 7, 7))


class KerasDCGANDiscriminator(nn.Module):
    """The source material's Keras discriminator, returning a logit (Keras ends in a sigmoid; see the pitfalls).

    Conv 32 s2 -> LeakyReLU(0.2) -> Dropout(0.25) -> Conv 64 s2 -> ZeroPadding((0,1),(0,1)) -> BN -> LeakyReLU ->
    Dropout -> Conv 128 s2 -> BN -> LeakyReLU -> Dropout -> Conv 256 s1 -> BN -> LeakyReLU -> Dropout -> Flatten
    -> Dense 1. All kernels 3x3 with Keras' "same" padding reproduced exactly (``_keras_same_stride2``).
    images (B, 1, 28, 28) -> logits (B,). Initialised as Keras does (``keras_init_``).
    """

    def __init__(self) -> None:
        super().__init__()

        def block(c_in: int, c_out: int, stride: int, bn: bool, pad_after: bool = False) -> list[nn.Module]:
            if stride == 2:
                layers = _keras_same_stride2(c_in, c_out)
            else:
                layers = [nn.Conv2d(c_in, c_out, 3, padding=1)]
            if pad_after:
                layers.append(nn.ZeroPad2d((0, 1, 0, 1)))  # the source's ZeroPadding2D: 7x7 -> 8x8
            if bn:
                layers.append(_keras_bn(c_out))
            return [*layers, nn.LeakyReLU(0.2), nn.Dropout(0.25)]

        self.net = nn.Sequential(
            *block(1, 32, 2, bn=False),  # (B, 32, 14, 14)
            *block(32, 64, 2, bn=True, pad_after=True),  # (B, 64, 8, 8)
            *block(64, 128, 2, bn=True),  # (B, 128, 4, 4)
            *block(128, 256, 1, bn=True),  # (B, 256, 4, 4)
            nn.Flatten(),
            nn.Linear(256 * 4 * 4, 1),
        )
        keras_init_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


N_CLASSES = 10  # digits


def one_hot_digits(digits: torch.Tensor) -> torch.Tensor:
    """Digits int64 in [0, 10), any shape S -> one-hot float (*S, 10): the class part of every condition."""
    if digits.numel() and (digits.min() < 0 or digits.max() >= N_CLASSES):
        raise ValueError(f"digits must lie in [0, {N_CLASSES}), got [{digits.min().item()}, {digits.max().item()}]")
    return nn.functional.one_hot(digits, N_CLASSES).float()


def as_condition(y: torch.Tensor, condition_dim: int) -> torch.Tensor:
    """A network's condition input: digits (B,) int64 in [0, 10) -> one-hot float (B, 10); a float
    (B, condition_dim) condition (a one-hot digit, then any attributes) passes through."""
    if not y.is_floating_point():
        if y.ndim != 1 or condition_dim != N_CLASSES:
            raise ValueError(f"integer conditions (digits) must be (B,) for a {N_CLASSES}-class condition, got "
                             f"{tuple(y.shape)} for condition_dim {condition_dim}")
        return one_hot_digits(y)
    if y.ndim != 2 or y.shape[1] != condition_dim:
        raise ValueError(f"a float condition must have shape (B, {condition_dim}), got {tuple(y.shape)}")
    return y


class LeanDCGANGenerator(nn.Module):
    """A smaller DCGAN generator (Radford et al. 2015 style): z (B, latent_dim) -> (B, 1, 28, 28) in [-1, 1].

    Linear -> (B, 2w, 7, 7) -> BN, ReLU -> ConvTranspose 4x4 s2 -> (B, w, 14, 14) -> BN, ReLU
    -> ConvTranspose 4x4 s2 -> (B, 1, 28, 28) -> tanh. About a tenth of the Keras model's compute per iteration.

    With ``condition_dim`` C > 0 it is conditional (Mirza & Osindero 2014), called ``G(z, y)``: the first layer
    reads cat(z, y) for y (B, C) float or (B,) digits (see ``as_condition``). For a one-hot y that layer's
    columns for y are a learned class embedding added to the projection of z, so a separate ``nn.Embedding``
    before it would be a second linear map in a row and add nothing.
    """

    def __init__(self, latent_dim: int = 64, width: int = 64, condition_dim: int = 0) -> None:
        super().__init__()
        self.latent_dim, self.width, self.condition_dim = latent_dim, width, condition_dim
        self.project = nn.Linear(latent_dim + condition_dim, 2 * width * 7 * 7, bias=False)
        self.net = nn.Sequential(
            nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # (B, w, 14, 14)
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if (y is None) != (self.condition_dim == 0):
            raise ValueError(f"this generator takes {'a' if self.condition_dim else 'no'} condition "
                             f"(condition_dim={self.condition_dim})")
        if y is not None:
            z = torch.cat([z, as_condition(y, self.condition_dim).to(z.dtype)], dim=1)
        return self.net(self.project(z).view(-1, 2 * self.width, 7, 7))


class LeanDCGANDiscriminator(nn.Module):
    """Strided convolutions, LeakyReLU(0.2), batch norm after the first layer: (B, in_channels, 28, 28) ->
    logits (B,). ``features`` is the body phi(x) (B, 2w 7 7) before the last linear layer ``net[-1]``."""

    def __init__(self, width: int = 32, in_channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False),  # (B, 2w, 7, 7)
            nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, 1),
        )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[:-1](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


@torch.no_grad()
def generate(generator: nn.Module, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
    """G(z) (or G(z, condition) for a conditional G) in eval mode (batch norm uses its running statistics),
    without gradients; G's mode is restored. The course's one way to run a network for its outputs."""
    was_training = generator.training
    generator.eval()
    try:
        return call_network(generator, z, condition)
    finally:
        generator.train(was_training)


def dcgan_init_(module: nn.Module) -> nn.Module:
    """DCGAN initialisation (Radford et al. 2015): conv and linear weights ~ N(0, 0.02^2) (standard deviation
    0.02); batch norm scale ~ N(1, 0.02^2), shift 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


class LeanDCGANCritic(nn.Module):
    """``LeanDCGANDiscriminator`` without batch norm, for the objectives whose penalties or normalisation need
    per-sample scores (WGAN-GP, R1, spectral norm): (B, 1, 28, 28) -> scores (B,).

    ``spectral=True`` wraps every convolution and the linear layer in
    ``torch.nn.utils.parametrizations.spectral_norm`` (Miyato et al. 2018): each weight, reshaped to
    (out, rest), is divided by its largest singular value (one power-iteration step per training forward pass).
    """

    def __init__(self, width: int = 32, spectral: bool = False) -> None:
        super().__init__()

        def norm(layer: nn.Module) -> nn.Module:
            return nn.utils.parametrizations.spectral_norm(layer) if spectral else layer

        self.net = nn.Sequential(
            norm(nn.Conv2d(1, width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # (B, w, 14, 14)
            norm(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # (B, 2w, 7, 7)
            nn.Flatten(),
            norm(nn.Linear(2 * width * 7 * 7, 1)),
        )

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The body phi(x) (B, 2w 7 7) before the last linear layer, as ``LeanDCGANDiscriminator.features``."""
        return self.net[:-1](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
