"""Super-resolution of digits (Chapter 9): the low-resolution input, the baselines, the networks, the losses and
the measures.

Images are float tensors (N, 1, H, W) in [-1, 1], as everywhere in the course.
    ``downsample``      area (box-filter) averaging: each low-resolution pixel is the mean of a factor x factor
                        block; the box filter reduces aliasing (far less than picking every 4th pixel) but does
                        not remove it. Not the degradation of SR benchmarks (MATLAB's bicubic ``imresize``);
    ``upsample``        nearest or bicubic interpolation, clamped to [-1, 1] (bicubic overshoots at edges;
                        PyTorch's is Keys' cubic convolution with a = -0.75, MATLAB's uses a = -0.5);
    ``SRNet``           bicubic plus a learned correction by a small convolutional network with sub-pixel
                        convolutions (``nn.PixelShuffle``, Shi et al. 2016), as SRGAN's generator does (Ledig
                        et al. 2017);
    ``FeatureContent``  the "perceptual" content loss on the frozen digit classifier's feature maps;
    ``pixel_step``, ``srgan_step``  one iteration (one batch) of each training (the chapter writes them out first);
    ``psnr``, ``ssim``  per-image PSNR (``data_range=2``, the span of [-1, 1]) and SSIM (on the images mapped
                        to [0, 1], ``data_range=1``) from torchmetrics.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure
from tqdm.auto import tqdm

from gancourse.classifier import load_classifier
from gancourse.images import check_images
from gancourse.losses import discriminator_loss, generator_loss_nonsaturating
from gancourse.metrics import classifier_outputs, frechet_distance
from gancourse.models import LeanDCGANDiscriminator, generate
from gancourse.runtime import seed_offset
from gancourse.train import frozen

__all__ = [
    "FeatureContent", "SRNet", "SRSetting", "downsample", "finetune_srgan", "pixel_step", "psnr", "sr_report",
    "srgan_step", "ssim", "super_resolve", "train_pixel", "upsample",
]

DATA_RANGE = 2.0  # images live in [-1, 1]: max - min = 2, the range PSNR and SSIM must be told


def downsample(images: torch.Tensor, factor: int = 4) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, H / factor, W / factor) by area averaging (``F.interpolate(mode="area")``).

    H and W must be multiples of ``factor``; the values stay in the input's range (means of pixels).
    """
    check_images(images)
    if factor < 1 or images.shape[-1] % factor or images.shape[-2] % factor:
        raise ValueError(f"image size {tuple(images.shape[-2:])} is not a multiple of factor {factor}")
    return F.interpolate(images, scale_factor=1 / factor, mode="area")


def upsample(images: torch.Tensor, factor: int = 4, mode: str = "bicubic") -> torch.Tensor:
    """(N, C, h, w) -> (N, C, h * factor, w * factor) by ``mode`` ("nearest" or "bicubic"), clamped to [-1, 1].

    Bicubic weights are negative at distance 1-2 pixels, so at a sharp edge it overshoots the input's range;
    the clamp keeps outputs valid images (it can only bring them closer to any target in [-1, 1]).
    """
    check_images(images)
    if mode not in ("nearest", "bicubic"):
        raise ValueError(f"mode must be 'nearest' or 'bicubic', got {mode!r}")
    kwargs = {"align_corners": False} if mode == "bicubic" else {}
    return F.interpolate(images, scale_factor=factor, mode=mode, **kwargs).clamp(-1, 1)


class _ResidualBlock(nn.Module):
    """x + conv(prelu(conv(x))): two 3x3 convolutions and a PReLU (a ReLU with a learned slope for negative
    inputs) at constant shape (B, C, h, w)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1), nn.PReLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRNet(nn.Module):
    """Low resolution (B, 1, h, w) in [-1, 1] -> (B, 1, factor h, factor w): bicubic upsampling plus a learned
    correction (global residual learning: the network learns only what bicubic gets wrong, as in VDSR, Kim et al.
    2016).

    The correction: a 3x3 convolution to ``channels`` maps, ``blocks`` residual blocks at the low resolution
    (where convolutions are cheap), then one sub-pixel stage per factor of 2: a convolution to 4x the channels
    and ``nn.PixelShuffle(2)``, which rearranges (B, 4C, h, w) into (B, C, 2h, 2w); a last 3x3 convolution to
    one channel. No tanh: with a tanh output (an earlier version) the pixel loss drove 4 of 5 seeds of
    ``benchmarks/superres_seeds.py`` to the all-background answer, where the saturated tanh passes almost no
    gradient (see the pitfalls page). In eval mode the output is clamped to
    [-1, 1], like ``upsample``'s; in training it is not, so pixels outside the range still get gradients.
    """

    def __init__(self, factor: int = 4, channels: int = 32, blocks: int = 2) -> None:
        super().__init__()
        if factor not in (2, 4):
            raise ValueError(f"factor must be 2 or 4, got {factor}")
        self.factor = factor
        stages = []
        for _ in range(factor.bit_length() - 1):  # log2(factor) stages of x2
            stages += [nn.Conv2d(channels, 4 * channels, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.net = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.PReLU(),  # (B, C, h, w)
            *[_ResidualBlock(channels) for _ in range(blocks)],  # (B, C, h, w)
            *stages,  # (B, C, factor h, factor w)
            nn.Conv2d(channels, 1, 3, padding=1),  # (B, 1, factor h, factor w): the correction
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bicubic = F.interpolate(x, scale_factor=self.factor, mode="bicubic", align_corners=False)
        out = bicubic + self.net(x)
        return out if self.training else out.clamp(-1, 1)


class FeatureContent(nn.Module):
    """Content loss mean((phi(sr) - phi(hr))^2) on the frozen digit classifier's feature maps phi.

    ``layers`` is how many modules of the classifier's ``body`` phi runs: 5 stops after the second convolution's
    ReLU, (B, 64, 14, 14) maps, before pooling (as SRGAN's VGG54 stops before a pooling layer). The classifier's
    weights stay frozen; gradients flow through it to ``sr``.
    """

    def __init__(self, layers: int = 5, device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.phi = load_classifier(device).body[:layers]

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = self.phi(hr)
        return F.mse_loss(self.phi(sr), target)


def pixel_step(net: SRNet, optimiser: torch.optim.Optimizer, hr: torch.Tensor) -> float:
    """One iteration of the pixel loss mean((G(down(hr)) - hr)^2): one update of ``net`` on a batch ``hr``
    (B, 1, H, W); returns the loss."""
    sr = net(downsample(hr, net.factor))
    loss = F.mse_loss(sr, hr)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.item()


def srgan_step(
    generator: SRNet,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    hr: torch.Tensor,
    content: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    adv_weight: float,
) -> dict[str, float]:
    """One SRGAN iteration on a batch ``hr``: a discriminator update, then a generator update on
    content(sr, hr) + adv_weight * (-log D(sr)). Returns the three losses as floats."""
    sr = generator(downsample(hr, generator.factor))
    d_loss = discriminator_loss(discriminator(hr), discriminator(sr.detach()))
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    with frozen(discriminator):
        adversarial = generator_loss_nonsaturating(discriminator(sr))
    content_loss = content(sr, hr)
    g_loss = content_loss + adv_weight * adversarial
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    return {"D": d_loss.item(), "content": content_loss.item(), "adversarial": adversarial.item()}


def super_resolve(net: SRNet, low: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """net(low) in batches, each by ``generate``: in eval mode, without gradients, the network's mode restored."""
    return torch.cat([generate(net, low[i : i + batch_size]) for i in range(0, len(low), batch_size)])


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    check_images(pred, "pred")
    check_images(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB, (N,): 10 log10(2^2 / mean((pred - target)^2)); inf for identical images.

    torchmetrics' ``peak_signal_noise_ratio`` with ``data_range=2`` (our [-1, 1] images; its default assumes
    nothing and must be given) and ``dim=(1, 2, 3)`` so each image gets its own value, as SR papers average.
    """
    _check_pair(pred, target)
    return peak_signal_noise_ratio(pred, target, data_range=DATA_RANGE, dim=(1, 2, 3), reduction="none")


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM (Wang et al. 2004), (N,), 1 for identical images, on the images mapped to [0, 1].

    SSIM's luminance term (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) assumes intensities >= 0: on [-1, 1]
    images it collapses where a window's mean is near 0 and turns negative where the means differ in sign. So
    we shift to (x + 1) / 2 and pass ``data_range=1`` (without it torchmetrics guesses the range from each
    batch, which changes C1 = (k1 L)^2 and C2 = (k2 L)^2 from batch to batch). Otherwise torchmetrics'
    ``structural_similarity_index_measure`` with its defaults (Gaussian window 11, sigma 1.5, k1 0.01, k2 0.03).
    torchmetrics pads each image by reflection (5 pixels) and averages the SSIM map over all 28x28 positions;
    the reference implementation and scikit-image average over the 18x18 positions whose window fits inside,
    so their values differ a little.
    """
    _check_pair(pred, target)
    return structural_similarity_index_measure(
        (pred + 1) / 2, (target + 1) / 2, data_range=1.0, reduction="none"
    )


# --------------------------------------------------------------------------------------------- the chapter's runs


@dataclass(frozen=True)
class SRSetting:
    """Chapter 9's training budget: the pixel-loss network, then one short SRGAN fine-tune per adversarial weight.

    ``content_layers`` is ``FeatureContent``'s depth; 0 means the content loss is the pixel MSE instead.
    """

    factor: int = 4
    batch_size: int = 64
    pixel_steps: int = 1000
    pixel_lr: float = 1e-3
    finetune_steps: int = 150
    g_lr: float = 1e-4
    d_lr: float = 2e-4
    content_layers: int = 5
    adv_weights: tuple[float, ...] = (0.0, 1e-3, 1e-2, 1e-1)
    gan_weight: float = 1e-2  # the sweep's point the chapter calls "the GAN"


def _random_batches(images: torch.Tensor, count: int, batch_size: int, seed: int) -> Iterator[torch.Tensor]:
    """``count`` batches of ``batch_size`` images drawn uniformly with replacement, from their own generator."""
    generator = torch.Generator().manual_seed(seed)
    for _ in range(count):
        yield images[torch.randint(len(images), (batch_size,), generator=generator).to(images.device)]


def train_pixel(images: torch.Tensor, setting: SRSetting, seed: int, desc: str = "pixel loss") -> SRNet:
    """A fresh ``SRNet`` trained from ``seed`` with ``pixel_step`` for ``setting.pixel_steps`` batches.

    The seed is shifted by ``runtime.seed_offset()``, like every training seed (``benchmarks/chapter_seeds.py``).
    """
    seed += seed_offset()
    torch.manual_seed(seed)
    net = SRNet(setting.factor).to(images.device)
    optimiser = torch.optim.Adam(net.parameters(), lr=setting.pixel_lr)
    batches = _random_batches(images, setting.pixel_steps, setting.batch_size, seed)
    for hr in tqdm(batches, total=setting.pixel_steps, desc=desc, leave=False):
        pixel_step(net, optimiser, hr)
    return net


def _content_loss(setting: SRSetting, device: torch.device | str = "cpu") -> Callable:
    """``FeatureContent(setting.content_layers)``, or the pixel MSE when ``content_layers`` is 0."""
    return FeatureContent(setting.content_layers, device) if setting.content_layers else F.mse_loss


def finetune_srgan(
    start: SRNet, images: torch.Tensor, adv_weight: float, setting: SRSetting, seed: int, desc: str = "SRGAN"
) -> SRNet:
    """A copy of ``start`` fine-tuned with ``srgan_step`` against a fresh ``LeanDCGANDiscriminator``."""
    seed += seed_offset()  # as in train_pixel
    torch.manual_seed(seed)
    generator = copy.deepcopy(start)
    discriminator = LeanDCGANDiscriminator().to(images.device)
    opt_g = torch.optim.Adam(generator.parameters(), lr=setting.g_lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=setting.d_lr, betas=(0.5, 0.999))
    content = _content_loss(setting, images.device)
    batches = _random_batches(images, setting.finetune_steps, setting.batch_size, seed + 1)
    for hr in tqdm(batches, total=setting.finetune_steps, desc=desc, leave=False):
        srgan_step(generator, discriminator, opt_g, opt_d, hr, content, adv_weight)
    return generator


def sr_report(sr: torch.Tensor, hr: torch.Tensor, labels: torch.Tensor, sure: float = 0.9) -> dict[str, float]:
    """Every Chapter 9 measure of outputs ``sr`` against the true digits ``hr`` (N, 1, 28, 28) and labels (N,):
    mean PSNR (dB) and SSIM, Frechet distance to ``hr`` (N > 64), the frozen classifier's accuracy on ``sr``,
    "misread, sure": the share read as another digit than ``labels`` with probability >= ``sure``, and
    "confidence when misread": the classifier's mean top probability on the misread outputs (nan if none).
    """
    _check_pair(sr, hr)
    probs = classifier_outputs(sr)[1]
    top = probs.max(1)
    wrong = probs.argmax(1) != labels.cpu().numpy()
    return {
        "PSNR": psnr(sr, hr).mean().item(),
        "SSIM": ssim(sr, hr).mean().item(),
        "FD": frechet_distance(sr, hr),
        "accuracy": float(1 - wrong.mean()),
        "misread, sure": float((wrong & (top >= sure)).mean()),
        "confidence when misread": float(top[wrong].mean()) if wrong.any() else float("nan"),
    }
