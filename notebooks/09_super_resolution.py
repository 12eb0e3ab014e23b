# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["remove-cell"]
# Colab only: install the course package (elsewhere `make` has installed it).
import subprocess
import sys

REPOSITORY = "https://github.com/gancourse/gancourse"
if "google.colab" in sys.modules:
    package = f"gancourse @ git+{REPOSITORY}@main"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)

# %% [markdown]
# # 9. An application: super-resolution
#
# **Question: given a 7×7 thumbnail of a digit, can a network draw the 28×28 digit, and how would we know
# whether it drew the right one?** Super-resolution was one of the first places where
# {term}`GANs <generative adversarial network, GAN (生成对抗网络)>` beat everything else to the eye
# {cite}`ledig2017photo`. It is also where the field learned that "looks sharp" and "is right" are different
# claims, measured by different numbers, and that no method can reach the best of both at once
# {cite}`blau2018perception`. This chapter builds four answers to the same task, measures them the way
# the literature does, and then measures what the usual numbers miss.
#
# ```{admonition} In this chapter
# :class: tip
# You will build four 4× super-resolution answers, from nearest to an SRGAN-style network (defined below);
# measure them with {term}`PSNR <PSNR (峰值信噪比)>`, {term}`SSIM <SSIM (结构相似性)>`,
# {term}`Fréchet distance <Fréchet distance (Fréchet 距离)>` and a classifier; and see the perception–distortion
# trade-off and measure hallucination (also defined below).
#
# Running time: the {doc}`../book/performance` page lists what each chapter takes on a 2-core CPU; on a
# GPU it has not been measured yet.
# ```

# %%
import copy
import dataclasses
import itertools

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from gancourse.data import load_mnist
from gancourse.losses import discriminator_loss, generator_loss_nonsaturating
from gancourse.metrics import classifier_outputs, frechet_distance
from gancourse.models import LeanDCGANDiscriminator
from gancourse.runtime import setup
from gancourse.superres import (
    FeatureContent,
    SRNet,
    SRSetting,
    downsample,
    finetune_srgan,
    pixel_step,
    psnr,
    sr_report,
    srgan_step,
    ssim,
    super_resolve,
    train_pixel,
    upsample,
)
from gancourse.train import frozen
from gancourse.viz import BLACK, BLUE, GREEN, ORANGE, VERMILLION, show_grid

device = setup(seed=0, device="cpu")  # on every machine: where the checks were measured
# 1,000 pixel-loss steps, then a fine-tune of 150 steps per adversarial weight (the
# fields of SRSetting).
SETTING = SRSetting()
GAN = f"SRGAN (λ = {SETTING.gan_weight:g})"  # the row and panel of "the GAN"

# %% [markdown]
# ## The task
#
# Every network in this chapter trains on the training digits (4,000 offline; 60,000 with MNIST's files), in
# batches of 64 drawn at random with replacement. Every number is measured on 1,000 held-out digits that no
# network (nor the classifier behind our measures) has seen: offline the whole held-out sample, with MNIST's
# files the first 1,000 of its 10,000 test digits. The low-resolution input is made by **area averaging**:
# each of the 7×7 pixels is the mean of a 4×4 block of the original,
#
# $$
# x^{LR}_{ij} = \frac{1}{16}\sum_{a=0}^{3}\sum_{b=0}^{3} x^{HR}_{4i+a,\,4j+b},
# $$ (eq-area)
#
# which is `F.interpolate(x, scale_factor=1/4, mode="area")`. It is a **box filter** (an equal-weight average over
# a block) before subsampling. Subsampling causes **aliasing**: detail finer than the new pixels can hold comes out
# as false, coarser patterns. The finest detail a grid can hold, one cycle per two pixels, is its **Nyquist
# limit**. The box filter weakens the detail above the new Nyquist limit but lets part of it through, so it reduces
# aliasing without removing it; and it aliases far less than picking every fourth pixel, where a thin stroke
# appears or vanishes depending on where it falls. **We check one symptom:** when the digits move one pixel to the
# right, the thumbnails change less than half as much (relative to their own variance) with area averaging as with
# every fourth pixel. Super-resolution benchmarks make their inputs differently, with MATLAB's bicubic `imresize`;
# ours is another degradation, so our numbers do not compare with published ones. Super-resolution inverts
# {eq}`eq-area`, and the inversion is not unique: 16 numbers become one, so many 28×28 images share each thumbnail.

# %%
train = load_mnist(train=True).images.to(device)  # (4000 or 60000, 1, 28, 28), [-1, 1]
held_out = load_mnist(train=False)
hr = held_out.images[:1000].to(device)  # (1000, 1, 28, 28): the truth we measure by
labels = held_out.labels[:1000].to(device)  # (1000,)
low = downsample(hr, SETTING.factor)  # (1000, 1, 7, 7), eq-area
blocks = hr.view(-1, 1, 7, 4, 7, 4).mean(dim=(3, 5))
print(
    f"{tuple(hr.shape)} -> {tuple(low.shape)}; largest gap to the block means: "
    f"{(low - blocks).abs().max().item():.1e}"
)
assert torch.allclose(low, blocks, atol=1e-6)

moved_right = torch.roll(hr, shifts=1, dims=3)
change = {}  # thumbnail change under a one-pixel move / the thumbnails' variance
for name, thumbnail in (
    ("area", lambda x: downsample(x, 4)),
    ("every 4th pixel", lambda x: x[..., ::4, ::4]),
):
    before, after = thumbnail(hr), thumbnail(moved_right)
    change[name] = ((after - before).pow(2).mean() / before.var()).item()
print(", ".join(f"{name}: {value:.3f}" for name, value in change.items()))

# %% tags=["hide-input"]
assert change["area"] < change["every 4th pixel"] / 2  # deterministic; 3x offline

# %% [markdown]
# ## Two answers without learning
#
# **Nearest neighbour** repeats each low-resolution pixel 4×4 times. **Bicubic** interpolation
# (`F.interpolate(mode="bicubic")`) weights the 4×4 nearest input pixels with a separable cubic-convolution
# kernel {cite}`keys1981cubic` (applied to rows, then columns), with $t$ the distance in input pixels:
#
# $$
# W_a(t) = \begin{cases} (a+2)|t|^3 - (a+3)|t|^2 + 1 & |t| \le 1,\\
#   a|t|^3 - 5a|t|^2 + 8a|t| - 4a & 1 < |t| < 2,\\ 0 & \text{otherwise.}\end{cases}
# $$ (eq-keys)
#
# PyTorch (like OpenCV) uses $a = -0.75$; MATLAB's `imresize`, which made the published bicubic baselines,
# uses $a = -0.5$, the value Keys showed to be the most accurate on smooth signals. So, besides the different
# degradation, our bicubic numbers are not comparable with published bicubic baselines. With $a < 0$ the
# kernel is negative between one and two pixels away, so next to a sharp edge bicubic overshoots: outputs
# leave $[-1, 1]$. `gancourse.superres.upsample` clamps them back (a clamp can only move a pixel closer to any
# image in $[-1, 1]$). **We check that PyTorch's bicubic is {eq}`eq-keys` with $a = -0.75$, not $-0.5$, and
# that unclamped bicubic leaves the range for some of these digits.**


# %%
def keys_kernel(t: torch.Tensor, a: float) -> torch.Tensor:  # eq-keys
    t = t.abs()
    inner = (a + 2) * t**3 - (a + 3) * t**2 + 1
    outer = a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a
    return torch.where(t <= 1, inner, torch.where(t < 2, outer, torch.zeros_like(t)))


line = torch.zeros(1, 1, 4, 16)
line[..., 8] = 1  # one bright column: each output row is the kernel centred on it
up = F.interpolate(line, scale_factor=4, mode="bicubic", align_corners=False)[0, 0, 0]
offset = (torch.arange(64) + 0.5) / 4 - 0.5 - 8  # output centres - column 8, input px
assert torch.allclose(up, keys_kernel(offset, -0.75), atol=1e-6)
assert not torch.allclose(up, keys_kernel(offset, -0.5), atol=1e-2)

nearest = upsample(low, SETTING.factor, "nearest")
raw_bicubic = F.interpolate(
    low, scale_factor=SETTING.factor, mode="bicubic", align_corners=False
)
bicubic = upsample(low, SETTING.factor, "bicubic")  # raw_bicubic.clamp(-1, 1)
outside = (raw_bicubic.abs() > 1).float().mean().item()
print(
    f"bicubic: {outside:.1%} of pixels outside [-1, 1] before the clamp, "
    f"range [{raw_bicubic.min().item():.2f}, {raw_bicubic.max().item():.2f}]"
)

# %% tags=["hide-input"]
assert outside > 0 and torch.equal(bicubic, raw_bicubic.clamp(-1, 1))

# %% [markdown]
# ## How the field measures it
#
# **Distortion** measures compare each output $\hat x$ with its own truth $x$. The **peak signal-to-noise
# ratio** is the mean squared error on a log scale,
#
# $$
# \mathrm{PSNR}(\hat x, x) = 10 \log_{10} \frac{L^2}{\frac{1}{n}\sum_{k=1}^{n} (\hat x_k - x_k)^2}\ \text{dB},
# $$ (eq-psnr)
#
# where $k$ runs over the $n = 784$ pixels of an image and $L$ is the **data range**: 2 for our images in
# $[-1, 1]$ (1 for images in $[0, 1]$, 255 for 8-bit). Super-resolution papers average the per-image values,
# and so do we; that mean is never below the PSNR of the pooled error,
# $10\log_{10}(L^2/\overline{\mathrm{MSE}})$ (Jensen's inequality: the log is concave). The **structural
# similarity** {cite}`wang2004image` compares local means $\mu$, variances $\sigma^2$ and the covariance
# $\sigma_{\hat x x}$ in a Gaussian window (11×11, standard deviation 1.5 pixels),
#
# $$
# \begin{gathered}
# \mathrm{SSIM}(\hat x, x) = \frac{(2\mu_{\hat x}\mu_x + C_1)(2\sigma_{\hat x x} + C_2)}
# {(\mu_{\hat x}^2 + \mu_x^2 + C_1)(\sigma_{\hat x}^2 + \sigma_x^2 + C_2)}, \\
# C_1 = (0.01 L)^2,\quad C_2 = (0.03 L)^2,
# \end{gathered}
# $$ (eq-ssim)
#
# and averages it over window positions; it is 1 for identical images. Its first factor, the luminance term,
# assumes intensities $\ge 0$: on $[-1, 1]$ images the window means at a stroke's edge are near 0, where it
# compares ratios of tiny numbers: two means only a little apart score near 0 (0.1 and 0, say, about 0.04), and means of
# opposite sign below 0.
# So `gancourse.superres.ssim` maps both images to $[0, 1]$, $(x + 1)/2$, and uses $L = 1$. torchmetrics
# reflects each image 5 pixels beyond its border and averages over all 28×28 window positions; the reference
# implementation and scikit-image average over the 18×18 positions whose window fits inside the image, so their
# values differ a little from ours. Both measures come from **torchmetrics**, and both need $L$: torchmetrics'
# SSIM otherwise guesses it from each batch's values, so the same two images would score differently in
# different company. (The course's tests check both against {eq}`eq-psnr` and {eq}`eq-ssim` on simple images.)
#
# **Perceptual** measures ignore which truth an output belongs to and ask whether the outputs, as a set, look
# like real digits: the **{term}`Fréchet distance <Fréchet distance (Fréchet 距离)>`** {eq}`eq-fd` of Chapter 5 in the frozen classifier's features,
# against the 1,000 held-out digits. For scale, the code prints a real-vs-real value, the Fréchet distance of
# 1,000 training digits drawn at random to the held-out ones; outputs made from the held-out digits themselves
# are not an independent sample, so they can score below it (exercise 3 shows one). And one question specific to digits: **does the output still read
# as the true digit?** The frozen classifier's accuracy on the outputs answers it, and the table's last column,
# **misread, sure**, counts the outputs it reads as a *different* digit than the label with probability at
# least 0.9: confident misreadings, outputs that look like a clean wrong digit. The first row, the truth
# itself, gives each measure's best value and the classifier's own floor: at least 96% accuracy and fewer than
# 2% confident misreadings (checked). The same classifier appears in a training loss later in the chapter; we
# say there what that does to these numbers.
#
# **We check** that the library's PSNR is {eq}`eq-psnr` with $L = 2$ image by image and that its mean is not
# below the pooled one, and, **on the two interpolations,** that bicubic has the higher PSNR and an SSIM within
# 0.01 of nearest neighbour's, yet nearest neighbour is closer to real digits in Fréchet distance and better read
# by the classifier.
# Blocky edges keep more of a digit's shape than a uniform blur: the two kinds of measure already disagree.


# %%
def print_table(rows: dict[str, dict[str, float]]) -> None:
    print(
        f"{'':26s} {'PSNR dB':>8s} {'SSIM':>6s} {'FD':>7s} {'accuracy':>9s} "
        f"{'misread, sure':>14s}"
    )
    for name, r in rows.items():
        print(
            f"{name:26s} {r['PSNR']:8.2f} {r['SSIM']:6.3f} {r['FD']:7.1f} "
            f"{r['accuracy']:9.1%} "
            f"{r['misread, sure']:14.1%}"
        )


mse = (bicubic - hr).pow(2).mean(dim=(1, 2, 3))  # (1000,): one error per image
# eq-psnr, L = 2; the mean of per-image PSNRs is at least the PSNR of the pooled error
assert torch.allclose(psnr(bicubic, hr), 10 * torch.log10(2**2 / mse), atol=1e-3)
assert psnr(bicubic, hr).mean() >= 10 * torch.log10(2**2 / mse.mean())
assert torch.allclose(ssim(hr, hr), torch.ones(len(hr)))
shuffled = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
real_vs_real = frechet_distance(train[shuffled[:1000].to(device)], hr)
print(f"Fréchet distance, 1,000 training vs the held-out digits: {real_vs_real:.2f}")
rows = {
    "truth": sr_report(hr, hr, labels),
    "nearest": sr_report(nearest, hr, labels),
    "bicubic": sr_report(bicubic, hr, labels),
}
print_table(rows)

# %% tags=["hide-input"]
assert rows["truth"]["accuracy"] >= 0.96 and rows["truth"]["misread, sure"] < 0.02
assert rows["bicubic"]["PSNR"] > rows["nearest"]["PSNR"] + 0.5
assert abs(rows["bicubic"]["SSIM"] - rows["nearest"]["SSIM"]) < 0.01
assert rows["nearest"]["FD"] < rows["bicubic"]["FD"] / 1.5
assert rows["nearest"]["accuracy"] > rows["bicubic"]["accuracy"] + 0.05

# %% [markdown]
# The rest of the chapter builds the network in the middle of this picture and trains it with the three losses at
# the bottom: first the pixel loss alone, then the content and adversarial losses of SRGAN (both defined below),
# and the content loss alone for comparison.

# %% tags=["remove-input"]
from gancourse.diagrams import superres_pipeline

superres_pipeline()
plt.show()

# %% [markdown]
# ## A network trained on pixels
#
# The network, `gancourse.superres.SRNet`, is bicubic upsampling **plus a learned correction** $f_\theta$:
#
# $$
# G(x^{LR}) = \mathrm{bicubic}(x^{LR}) + f_\theta(x^{LR}),
# $$ (eq-residual)
#
# so it only has to learn what bicubic gets wrong. This is **global residual learning**, as in VDSR
# {cite}`kim2016accurate`, which also adds its output to the bicubic image (EDSR {cite}`lim2017enhanced` has a long
# skip connection of the same kind inside the network, on features: a path that adds earlier features to later
# ones, skipping the layers between). The correction works at 7×7, where convolutions are cheap: a 3×3 convolution
# to 32 feature maps, two **residual blocks**, each computing $x + \mathrm{conv}(\mathrm{PReLU}(\mathrm{conv}(x)))$
# with 3×3 convolutions, where **PReLU** is a ReLU with a learned slope for negative inputs (SRGAN's activation);
# then two **sub-pixel convolutions** {cite}`shi2016real`, as in SRGAN's {term}`generator <generator (生成器)>`, and a
# final 3×3 convolution to one channel. Each sub-pixel convolution is an ordinary convolution to $4C$ channels
# followed by `nn.PixelShuffle(2)`, which rearranges them into $C$ channels at twice the height and width:
#
# $$
# \mathrm{PS}(T)_{c,\,2i+a,\,2j+b} = T_{4c + 2a + b,\,i,\,j},\qquad a, b \in \{0, 1\}.
# $$ (eq-pixel-shuffle)
#
# With $r = 2$, the upscale factor of one shuffle, each of the $r^2 = 4$ sub-pixel positions $(a, b)$ gets its own
# filter (channel $4c + 2a + b$), with no fixed interpolation in front. Unlike a strided transposed convolution, no
# output pixel receives more overlapping contributions than its neighbours; but the four filters start from
# independent random values, so an untrained network can still draw a checkerboard pattern, which training must
# remove {cite}`aitken2017checkerboard`. **We check** {eq}`eq-pixel-shuffle` on a tensor of known entries, and the
# pattern: on a flat input the correction of an untrained `SRNet` is not flat but repeats every 4 pixels (two
# shuffles of 2).
#
# Why no tanh at the end, as the course's GAN generators have? The same network ending with one was tried, and
# training usually fell into the all-background answer, with a PSNR of 9.70 dB and a classifier accuracy
# of 10%. That is what a blank image scores (checked below to within 0.5 dB: that run used the offline digits,
# and MNIST's test digits differ a little). There
# the tanh is saturated at $-1$ and passes almost no gradient back, so the network cannot leave. Without the
# tanh, and starting from bicubic, the output is a usable image from the first step; in eval mode it is
# clamped to $[-1, 1]$, as `upsample` clamps bicubic, while in training it is not, so pixels outside the range
# still get gradients.
#
# The **pixel loss** is the mean squared error,
#
# $$
# \ell_{\text{pixel}} = \frac{1}{n}\sum_{k=1}^{n} \big(G(x^{LR})_k - x^{HR}_k\big)^2 .
# $$ (eq-pixel-loss)
#
# Minimising it over the data maximises the PSNR of the pooled error; the mean of per-image PSNRs that we
# report weighs each image's error through a log, so it is not exactly the quantity trained for. The step,
# written out; **we check that it moves a network exactly as the package's `pixel_step` does**, which then
# trains the network for 1,000 batches of 64.

# %%
T = torch.arange(2 * 4 * 3 * 3.0).view(1, 8, 3, 3)  # (1, 4C, h, w) with C = 2
PS = torch.nn.PixelShuffle(2)(T)  # (1, C, 2h, 2w)
positions = itertools.product(range(2), range(3), range(3), range(2), range(2))
assert all(
    PS[0, c, 2 * i + a, 2 * j + b] == T[0, 4 * c + 2 * a + b, i, j]  # eq-pixel-shuffle
    for c, i, j, a, b in positions
)

torch.manual_seed(0)
flat = torch.zeros(1, 1, 32, 32)  # large: its centre is far from the zero padding
with torch.no_grad():
    correction = SRNet().train()(flat)[0, 0, 40:88, 40:88]  # bicubic of 0 is 0
print(f"untrained correction of a flat input: std {correction.std():.4f}")
assert correction.std() > 0
assert torch.allclose(correction, correction.roll(4, 0), atol=1e-6)
assert torch.allclose(correction, correction.roll(4, 1), atol=1e-6)

blank = sr_report(torch.full_like(hr, -1.0), hr, labels)
print(f"a blank image: PSNR {blank['PSNR']:.2f} dB, accuracy {blank['accuracy']:.0%}")
assert abs(blank["PSNR"] - 9.70) < 0.5 and blank["accuracy"] < 0.15


def chapter_pixel_step(
    net: SRNet, optimiser: torch.optim.Optimizer, hr: torch.Tensor
) -> float:
    low = F.interpolate(hr, scale_factor=1 / 4, mode="area")  # (B, 1, 7, 7), eq-area
    sr = net(low)  # (B, 1, 28, 28), eq-residual
    loss = F.mse_loss(sr, hr)  # eq-pixel-loss
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.item()


torch.manual_seed(0)
net_a = SRNet().to(device)
net_b = copy.deepcopy(net_a)
batch = train[:64]
lr = SETTING.pixel_lr
loss_a = chapter_pixel_step(net_a, torch.optim.Adam(net_a.parameters(), lr=lr), batch)
loss_b = pixel_step(net_b, torch.optim.Adam(net_b.parameters(), lr=lr), batch)
assert loss_a == loss_b
assert all(
    torch.equal(p, q)
    for p, q in zip(net_a.parameters(), net_b.parameters(), strict=True)
)
print(
    f"{sum(p.numel() for p in net_a.parameters()):,} parameters; "
    f"first-step loss {loss_a:.4f} in both"
)

pixel_net = train_pixel(train, SETTING, seed=0)
rows["pixel loss"] = sr_report(super_resolve(pixel_net, low), hr, labels)

# %% [markdown]
# ## SRGAN: the same network, told what digits look like
#
# The pixel loss has a known flaw. When several sharp digits fit a thumbnail, the output that minimises the
# *expected* squared error is their average, a blur. SRGAN {cite}`ledig2017photo` changes the loss in two
# ways. The **content loss** compares images in the feature maps $\phi$ of a frozen classifier rather than in
# pixels (the paper uses those of VGG, a large ImageNet classifier; we use our digit classifier's, the maps
# after its second convolution, 64 maps of 14×14 before pooling, so nothing is downloaded). And an
# **adversarial loss**, weighted by a number $\lambda$, from a {term}`discriminator <discriminator (判别器)>` $D$
# that is trained, as in every chapter so far, to tell real digits from the generator's outputs:
#
# $$
# \ell_G = \underbrace{\frac{1}{m}\big\|\phi(G(x^{LR})) - \phi(x^{HR})\big\|^2}_{\text{content}}
#   \;+\; \lambda \underbrace{\big(-\log D(G(x^{LR}))\big)}_{\text{adversarial}} ,
# $$ (eq-srgan)
#
# where $m = 64 \times 14 \times 14 = 12{,}544$ is the number of feature values per image (the code also
# averages over the batch); the adversarial term is the generator's
# {term}`non-saturating loss <non-saturating loss (非饱和损失)>`. In the generator's step, `frozen(D)` switches
# off `requires_grad` on $D$'s weights: they get no gradient (the next discriminator step would throw it away),
# while gradients still flow *through* $D$ to `sr` and on to $G$; the classifier behind $\phi$ is frozen for
# good.
#
# As in the paper, the {term}`GAN <generative adversarial network, GAN (生成对抗网络)>` starts from the
# pixel-loss network; here each $\lambda$ below is a short fine-tune of 150 steps, with a fresh discriminator
# (Chapter 4's lean one), where the paper trains $10^6$ steps on the pixel loss and then $2 \times 10^5$ with
# its GAN loss. The paper's $\lambda = 10^{-3}$ was set for its own content loss's scale (VGG features divided
# by 12.75); ours is on another scale, so we sweep $\lambda \in \{0, 10^{-3}, 10^{-2}, 10^{-1}\}$ and call
# $\lambda = 10^{-2}$ "the GAN". The step, written out; **we check it against the package's `srgan_step` on
# one batch.**

# %%
# phi: classifier.body[:5], frozen
content = FeatureContent(SETTING.content_layers, device)


def chapter_srgan_step(G, D, opt_g, opt_d, hr, adv_weight):
    sr = G(F.interpolate(hr, scale_factor=1 / 4, mode="area"))  # (B, 1, 28, 28)
    # (1) discriminator: maximise log D(x_HR) + log(1 - D(G(x_LR)))
    d_loss = discriminator_loss(D(hr), D(sr.detach()))
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    # (2) generator: eq-srgan; no gradient for D's weights, but through D to sr
    with frozen(D):
        adversarial = generator_loss_nonsaturating(D(sr))  # -log D(G(x_LR))
    with torch.no_grad():
        target = content.phi(hr)  # (B, 64, 14, 14)
    g_loss = F.mse_loss(content.phi(sr), target) + adv_weight * adversarial
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()


def networks_and_optimisers():
    torch.manual_seed(1)
    G, D = copy.deepcopy(pixel_net), LeanDCGANDiscriminator().to(device)
    return (
        G,
        D,
        torch.optim.Adam(G.parameters(), SETTING.g_lr, betas=(0.5, 0.999)),
        torch.optim.Adam(D.parameters(), SETTING.d_lr, betas=(0.5, 0.999)),
    )


mine, theirs = networks_and_optimisers(), networks_and_optimisers()
chapter_srgan_step(*mine, train[:64], SETTING.gan_weight)
srgan_step(*theirs, train[:64], content, SETTING.gan_weight)
for a, b in zip(mine[:2], theirs[:2], strict=True):
    assert all(
        torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )

sweep = {}
for weight in SETTING.adv_weights:
    net = finetune_srgan(
        pixel_net, train, weight, SETTING, seed=0, desc=f"SRGAN lambda={weight:g}"
    )
    sweep[weight] = (net, sr_report(super_resolve(net, low), hr, labels))
gan_net, rows[GAN] = sweep[SETTING.gan_weight]

# %% [markdown]
# ## Four answers, side by side
#
# **Look at** the strokes (ink is $+1$, drawn white): the pixel-loss network's digits are right but soft, with
# grey halos where it hedges between stroke positions; the GAN's strokes are a little sharper, with a little
# less grey around them. **We check one number for it:** the share of mid-grey pixels ($|x| < 0.5$) is larger in
# the pixel-loss outputs than in the GAN's and than in the truth (printed below, about 8% against 7% and 5%; only
# the order is checked: a small difference). **And the orderings**: in PSNR the pixel-loss network beats bicubic by more than 4 dB, and bicubic beats nearest neighbour; the
# GAN's outputs are closer to real digits in Fréchet distance than the pixel-loss network's (by more than a
# third), and its SSIM is lower by more than 0.05. Its PSNR, though, stays within 0.5 dB of the pixel-loss
# network's, and may come out above it: SRGAN's paper reports a clear drop in PSNR, and on our short fine-tune it
# is small or absent.
#
# **Read the Fréchet distances of the trained networks with care.** The content loss matches each output's
# classifier feature maps $\phi$ to those of its own truth, and those maps determine both the 64 features the
# Fréchet distance uses and the class probabilities. A Fréchet distance between two paired sets is at most the mean
# squared distance between paired features (up to the factor $n/(n-1)$ of the sample covariances; checked below).
# This is the **Gelbrich bound**: the Fréchet distance, computed from two distributions' means and covariances, is
# at most their squared Wasserstein-2 distance, and any pairing of the samples bounds that from above. The mean
# squared paired distance is in turn at most the content loss times a constant set by the frozen layers after
# $\phi$ ($m$ times the square of their {term}`Lipschitz constant <Lipschitz continuity (利普希茨连续)>`). So the content
# loss directly pushes down an upper bound on this Fréchet distance, and it also pulls each output's reading
# towards the truth's. A lower Fréchet distance here can mean more realistic digits, or only features closer to the
# truth's; this reader cannot tell the two apart. A second, independent reader can, and the end of the chapter asks
# one.

# %%
outputs = {
    "7×7 input": nearest,
    "bicubic": bicubic,
    "pixel loss": super_resolve(pixel_net, low),
    GAN: super_resolve(gan_net, low),
    "truth": hr,
}
picks = torch.stack([(labels == d).nonzero()[0, 0] for d in range(10)])  # one per class
fig, axes = plt.subplots(len(outputs), 1, figsize=(8, 5.6), layout="constrained")
for ax, (name, images) in zip(axes, outputs.items(), strict=True):
    show_grid(images[picks], nrow=10, ax=ax)
    ax.set_title(name, fontsize=10, loc="left")
plt.show()
print_table(rows)
pixel, gan = rows["pixel loss"], rows[GAN]
assert pixel["PSNR"] > rows["bicubic"]["PSNR"] + 4 > rows["nearest"]["PSNR"] + 4.5
assert gan["FD"] < pixel["FD"] / 1.5 and gan["SSIM"] < pixel["SSIM"] - 0.05
assert abs(gan["PSNR"] - pixel["PSNR"]) < 0.5

mid_grey = {name: (outputs[name].abs() < 0.5).float().mean().item() for name in outputs}
print("share of mid-grey pixels, |x| < 0.5:")
print(", ".join(f"{name} {share:.1%}" for name, share in mid_grey.items()))
assert mid_grey["pixel loss"] > mid_grey[GAN]
assert mid_grey["pixel loss"] > mid_grey["truth"]

n = len(hr)
features_truth = classifier_outputs(hr)[0]  # (1000, 64)
for name in ("pixel loss", GAN):
    features = classifier_outputs(outputs[name])[0]  # (1000, 64)
    paired = ((features - features_truth) ** 2).sum(1).mean()
    print(
        f"{name}: FD {rows[name]['FD']:.2f} <= {paired * n / (n - 1):.2f}, the mean "
        "squared feature distance to its own truth (x n / (n - 1))"
    )
    assert rows[name]["FD"] <= paired * n / (n - 1) + 1e-6  # the Gelbrich bound

# %% [markdown]
# ## The perception–distortion trade-off
#
# Blau and Michaeli {cite}`blau2018perception` define, for a restoration problem, the perception–distortion
# function $P(\Delta)$ (they write $P(D)$, with $D$ for distortion, not the discriminator): the best perceptual
# quality (the smallest divergence between the distribution of the outputs and that of real images) that *any*
# estimator can reach with a mean distortion of at most $\Delta$. They prove that $P(\Delta)$ is non-increasing:
# allowing less distortion can never improve the best reachable perceptual quality. Where the degradation is not
# invertible, as here (16 pixels become one), the trade-off is strict near the lowest distortion: the estimator
# with the least squared error, the average of the plausible digits, does not look like a digit, so no method can
# reach both optima at once. $P(\Delta)$ is a bound over all estimators, and trained models lie on or above it; our
# Fréchet distance in classifier features is only a stand-in for their divergence. So the sweep does not trace the
# curve: it shows how our models move relative to it as $\lambda$ changes. We plot distortion as SSIM here, because
# on this budget PSNR hardly moves.
#
# **Look at** the first step, from the pixel-loss network to the content loss alone ($\lambda = 0$, dotted): the
# Fréchet distance falls by about half (by more than a third, checked; but that step is driven by the
# classifier's maps alone, so the caveat above applies to it in full). Then the adversarial term: at
# $\lambda = 0.01$ SSIM falls by more than 0.05 while the Fréchet distance stays about where the content loss
# left it, and the larger weight $0.1$ buys little more (its Fréchet distance is at most a fifth lower, and can
# be higher). **We check both.** On 150 fine-tuning steps (SRGAN's paper trains for $2 \times 10^5$) the
# adversarial term costs structure without buying much realism that this measure can see.

# %%
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
sweep_rows = [report for _, report in sweep.values()]
ax.plot(
    [r["SSIM"] for r in sweep_rows],
    [r["FD"] for r in sweep_rows],
    "o-",
    color=VERMILLION,
    lw=2,
    label=r"SRGAN fine-tunes, $\lambda$ marked",
)
for weight, (_, report) in sweep.items():
    ax.annotate(
        f"{weight:g}" + (": the GAN" if weight == SETTING.gan_weight else ""),
        (report["SSIM"], report["FD"]),
        textcoords="offset points",
        xytext=(6, 4),
    )
start = sweep[SETTING.adv_weights[0]][1]  # lambda = 0: the content loss alone
ax.plot(
    [pixel["SSIM"], start["SSIM"]],
    [pixel["FD"], start["FD"]],
    ":",
    color=BLUE,
    label="fine-tune from the pixel-loss network",
)
for name, colour, marker in (
    ("pixel loss", BLUE, "s"),
    ("bicubic", ORANGE, "^"),
    ("nearest", GREEN, "v"),
):
    ax.plot(
        rows[name]["SSIM"], rows[name]["FD"], marker, color=colour, ms=9, label=name
    )
ax.set(
    xlabel="SSIM: higher is less distortion",
    ylabel="Fréchet distance to real digits: lower is more realistic",
    yscale="log",
)
ax.legend(frameon=False, loc="upper left")
plt.show()
the_gan, largest = sweep[SETTING.gan_weight][1], sweep[SETTING.adv_weights[-1]][1]
for name, report in (
    ("pixel loss", pixel),
    ("lambda 0", start),
    (GAN, the_gan),
    (f"lambda {SETTING.adv_weights[-1]:g}", largest),
):
    print(
        f"{name:18s} SSIM {report['SSIM']:.3f}, PSNR {report['PSNR']:.2f} dB, "
        f"FD {report['FD']:.1f}"
    )

# %% tags=["hide-input"]
assert start["FD"] < pixel["FD"] / 1.5
assert the_gan["SSIM"] < start["SSIM"] - 0.05
assert largest["FD"] > 0.8 * the_gan["FD"]  # a larger weight buys little more realism

# %% [markdown]
# ## Sharp is not the same as right
#
# A 7×7 thumbnail of a 4 can also be the thumbnail of a 9. The pixel-loss network, hedging, draws something
# in between; a GAN is trained *not* to hedge, so it commits to one digit, and the digit it commits to need
# not be the true one. This is **hallucination**, and for medical or forensic use it is the number that
# matters. We count it as the table's "misread, sure" column does, confident misreadings, with one
# correction: the classifier also misreads a few true digits (the truth row), so here an output's misreading
# counts only where the classifier reads that digit's truth correctly; its own errors are not charged to the
# networks. The printout gives the rates with and without that filter (and, unfiltered, for each weight of
# the sweep), and the classifier's mean confidence on the outputs it misreads.
#
# Read these rates as likely underestimates. The content loss matched each output's classifier maps to its
# own truth's, and the same classifier reads the outputs, so the GAN is steered towards outputs that *this*
# reader reads correctly: an output can look like a wrong digit to a person and still be read right here. A
# second, independent reader makes the count less biased; the last section asks one.
#
# **What we check:** on this setting the GAN does not commit to wrong digits more often than the pixel-loss
# network. Both misread confidently fewer than 3% of all digits, within one percentage point of each other.
# That is what the shared classifier predicts; it is not evidence that SRGAN-style training cannot
# hallucinate.


# %%
def readings(images: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    probs = classifier_outputs(images)[1]
    return probs.argmax(1), probs.max(1)  # digit read, its probability: (N,), (N,)


def mean_or_nan(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


truth = labels.cpu().numpy()
read_truth, sure_truth = readings(hr)
read_pixel, sure_pixel = readings(outputs["pixel loss"])
read_gan, sure_gan = readings(outputs[GAN])
truth_read_right = read_truth == truth
wrong_pixel = (read_pixel != truth) & truth_read_right  # the networks' own misreadings
wrong_gan = (read_gan != truth) & truth_read_right
# shares of the 1,000 digits read as another digit with probability >= 0.9
truth_misread_sure = float(((read_truth != truth) & (sure_truth >= 0.9)).mean())
pixel_misread_sure = float((wrong_pixel & (sure_pixel >= 0.9)).mean())
gan_misread_sure = float((wrong_gan & (sure_gan >= 0.9)).mean())
# the classifier's mean top probability on the outputs it misreads
pixel_confidence_misread = mean_or_nan(sure_pixel[wrong_pixel])
gan_confidence_misread = mean_or_nan(sure_gan[wrong_gan])
print(
    f"truth misread with p >= 0.9: {truth_misread_sure:.1%}; the classifier reads "
    f"{truth_read_right.mean():.1%} of the true digits right"
)
print(
    f"misread with p >= 0.9, all digits: pixel loss {pixel['misread, sure']:.1%}, "
    f"GAN {gan['misread, sure']:.1%}; only where the truth is read right: "
    f"pixel loss {pixel_misread_sure:.1%}, GAN {gan_misread_sure:.1%}"
)
print(
    f"mean confidence when misread (truth read right): pixel loss "
    f"{pixel_confidence_misread:.2f}, GAN {gan_confidence_misread:.2f}"
)
for weight, (_, report) in sweep.items():
    print(
        f"lambda {weight:g}: accuracy {report['accuracy']:.1%}, "
        f"misread with p >= 0.9 {report['misread, sure']:.1%} (all digits)"
    )

# %% tags=["hide-input"]
assert pixel["misread, sure"] < 0.03 and gan["misread, sure"] < 0.03
assert abs(gan["misread, sure"] - pixel["misread, sure"]) < 0.01
assert gan_misread_sure <= gan["misread, sure"] and truth_misread_sure < 0.02

# %% [markdown]
# **Look at** what the misreadings look like: the thumbnail, the pixel-loss network's hedge, the GAN's
# committed digit and the truth. Each title is the digit the classifier reads, in red where that is not the
# digit's label. The columns are the GAN's confident misreadings of digits whose truth the classifier reads
# right; if there are none, its other misreadings.

# %%
shown = np.flatnonzero(wrong_gan & (sure_gan >= 0.9))[:6]
if len(shown) == 0:  # no confident misreading: show the GAN's other misreadings
    shown = np.flatnonzero(read_gan != truth)[:6]
if len(shown) == 0:
    print("The classifier reads every GAN output as its label: no misreading to show.")
else:
    fig, axes = plt.subplots(
        4,
        len(shown),
        figsize=(1.6 * len(shown) + 0.4, 6.8),
        layout="constrained",
        squeeze=False,
    )
    panels = (
        ("7×7", nearest, None),
        ("pixel", outputs["pixel loss"], read_pixel),
        ("SRGAN", outputs[GAN], read_gan),
        ("truth", hr, read_truth),
    )
    for column, index in enumerate(shown):
        for row, (name, images, read) in enumerate(panels):
            ax = axes[row, column]
            ax.imshow(images[index, 0].cpu(), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            wrong = read is not None and read[index] != truth[index]
            title = name if read is None else f"{name}: reads {read[index]}"
            ax.set_title(title, fontsize=9, color=VERMILLION if wrong else BLACK)
    fig.suptitle("the digit the classifier reads; red: not the label", fontsize=10)
    plt.show()

# %% [markdown]
# ## A second opinion
#
# Twice above, the measures came with a caveat: the classifier that computes the Fréchet distance and reads the
# digits also supplied the content loss, so the networks trained with it were steered towards what *it* likes.
# An evaluator that no loss has seen can test that. The course ships a second classifier for this, unlike the
# first in architecture (LeNet-5's shape {cite}`lecun1998gradient`: 5×5 convolutions, tanh, average pooling, 84
# features) and trained from another seed on the same 4,000 training digits; it reads at least 97% of the
# held-out digits correctly (**checked**). No network in this chapter was trained on it.
#
# Below, each output set is judged by both: the Fréchet distance to the true digits in each classifier's
# features (the two scales differ, so compare within a column), and the share of digits each reads confidently
# (probability at least 0.9) as another digit, counted, as before, only where that reader reads the truth right.
# For the second reader's scale, the code also prints its distance between 1,000 training digits and the
# held-out ones.

# %%
SECOND_TRUTH_RIGHT = classifier_outputs(hr, evaluator="second")[1].argmax(1) == truth


def second_reading(images: torch.Tensor) -> dict[str, float]:
    """The second classifier's view of 1,000 outputs: FD to the truth in its features,
    and the share it reads as another digit with p >= 0.9 (where it reads the truth
    right)."""
    probs = classifier_outputs(images, evaluator="second")[1]
    misread = (probs.argmax(1) != truth) & SECOND_TRUTH_RIGHT & (probs.max(1) >= 0.9)
    return {
        "FD": frechet_distance(images, hr, evaluator="second"),
        "misread, sure": float(misread.mean()),
    }


judged = {
    name: (rows[name], outputs[name]) for name in ("bicubic", "pixel loss")
} | {
    f"lambda {weight:g}": (report, super_resolve(net, low))
    for weight, (net, report) in sweep.items()
}
second = {name: second_reading(images) for name, (_, images) in judged.items()}
GAN_KEY = f"lambda {SETTING.gan_weight:g}"  # the GAN's row
pixel_second, gan_second = second["pixel loss"], second[GAN_KEY]
real_sample = train[shuffled[:1000].to(device)]  # the real-vs-real sample above
second_real = frechet_distance(real_sample, hr, evaluator="second")
print(f"second reader, 1,000 training vs the held-out digits: FD {second_real:.3f}")
print(f"{'':12s} {'FD, first':>10s} {'FD, second':>11s} {'misread, sure':>14s}")
for name, (report, _) in judged.items():
    print(
        f"{name:12s} {report['FD']:10.1f} {second[name]['FD']:11.3f} "
        f"{second[name]['misread, sure']:14.1%}"
    )

# %% [markdown]
# **Read the two Fréchet columns.** The second reader sees gross blur: it puts bicubic more than ten times as far
# from the truth as the pixel-loss network (**checked**). But it does not see the step the first reader saw, from
# the pixel loss to the content loss alone ($\lambda = 0$): to it the content-only outputs are no closer than the
# pixel-loss network's (**checked: its Fréchet distance is not below two thirds of the pixel-loss network's**), and
# the GAN's rows differ little from either. It also puts every trained network nearer the truth than an independent
# sample of real digits is (**checked**), because each output is compared with its own truth; at that closeness it
# cannot rank them. So this check cannot say whether the first reader's gain was the content loss matching that
# reader's own features or a detail the second reader is blind to; either way, it is not a gain every reader sees.
# On misreadings the two agree: confident misreadings stay rare for the pixel-loss network and the GAN (**checked:
# under 3% for the second reader too, and within one percentage point of each other**; the printout has the other
# weights).
#
# The lesson generalises: judge a model with a network it was not trained against, and first check that this
# network can separate what you compare.

# %% tags=["hide-input"]
assert SECOND_TRUTH_RIGHT.mean() >= 0.97
assert second["bicubic"]["FD"] > 10 * pixel_second["FD"]
assert max(r["FD"] for name, r in second.items() if name != "bicubic") < second_real
assert second["lambda 0"]["FD"] > pixel_second["FD"] / 1.5
assert pixel_second["misread, sure"] < 0.03 and gan_second["misread, sure"] < 0.03
assert abs(gan_second["misread, sure"] - pixel_second["misread, sure"]) < 0.01

# %% [markdown]
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: sr-ex-1
# **Twice, not four times.** Train the pixel-loss network for 2× (14×14 → 28×28) for only 300 steps
# (`dataclasses.replace(SETTING, factor=2, pixel_steps=300)`). Going from 4× to 2× raises bicubic's PSNR.
# Predict: does the network's PSNR rise by more or by less than bicubic's, from the 4× network to the 2× one?
# And does the 2× network still beat 2× bicubic?
# ```
#
# ```{solution-start} sr-ex-1
# :class: dropdown
# ```
#
# Each 2× input pixel averages 4 true pixels instead of 16, so far less is lost. Bicubic gains between 4 and
# 8 dB from 4× to 2×, as its blur now spans 2 pixels instead of 4. The network gains more than that (by more
# than 1 dB), with 30%
# of the budget: one reading is that at 4× much of what is missing is truly ambiguous (many digits share a
# thumbnail) and no network can recover it, while at 2× less is ambiguous and more of what bicubic blurs can be
# learned back. The 2× network also beats 2× bicubic, and beats the 4× network by more than 2 dB (all checked).

# %%
twice = dataclasses.replace(SETTING, factor=2, pixel_steps=300)
low2 = downsample(hr, 2)
pixel2 = sr_report(
    super_resolve(train_pixel(train, twice, seed=0, desc="2x pixel loss"), low2),
    hr,
    labels,
)
bicubic2 = sr_report(upsample(low2, 2, "bicubic"), hr, labels)
print_table(
    {
        "2x bicubic": bicubic2,
        "2x pixel loss": pixel2,
        "4x bicubic": rows["bicubic"],
        "4x pixel loss": pixel,
    }
)
network_gain = pixel2["PSNR"] - pixel["PSNR"]
bicubic_gain = bicubic2["PSNR"] - rows["bicubic"]["PSNR"]
print(
    f"from 4x to 2x: the network gains {network_gain:.2f} dB, "
    f"bicubic {bicubic_gain:.2f} dB"
)

# %% tags=["hide-input"]
assert network_gain > bicubic_gain + 1
assert pixel2["PSNR"] > bicubic2["PSNR"] and pixel2["PSNR"] > pixel["PSNR"] + 2
assert 4 < bicubic_gain < 8  # "between 4 and 8 dB"

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: sr-ex-2
# **Content on pixels.** Fine-tune with the same $\lambda = 10^{-2}$, but with the pixel MSE
# {eq}`eq-pixel-loss` as the content loss instead of the classifier's features
# (`dataclasses.replace(SETTING, content_layers=0)`; SRGAN's "SRGAN-MSE" variant). Predict its PSNR and
# Fréchet distance relative to the pixel-loss network and to the GAN above. First, though: the same $\lambda$
# does not mean the same thing with both content losses, since they are on different scales. The code prints
# both on the pixel-loss network's outputs, where both fine-tunes start.
# ```
#
# ```{solution-start} sr-ex-2
# :class: dropdown
# ```
#
# The two content losses start at different values, so at the same $\lambda$ the adversarial term weighs
# differently against each: equal $\lambda$ is not equal adversarial pressure. Even so, with the MSE pulling
# towards the blurry optimum, the adversarial term at $10^{-2}$ does real work in 150 steps: the Fréchet
# distance falls by more than a third from the pixel network's, while the PSNR stays within 0.5 dB of the
# feature-content GAN's (both checked). Whether the feature-content GAN's Fréchet distance is lower still varies
# with the seed, so it is not checked. Here, unlike in the chapter's sweep, the discriminator is the only part of
# the loss that knows what digits look like, and it lowers the Fréchet distance on its own.

# %%
start_outputs = outputs["pixel loss"]
with torch.no_grad():
    print(
        "content losses at the start: pixel MSE "
        f"{F.mse_loss(start_outputs, hr).item():.4f}, "
        f"features {content(start_outputs, hr).item():.4f}"
    )
pixels_only = dataclasses.replace(SETTING, content_layers=0)
net = finetune_srgan(
    pixel_net, train, SETTING.gan_weight, pixels_only, seed=0, desc="SRGAN-MSE"
)
mse_gan = sr_report(super_resolve(net, low), hr, labels)
mse_name = f"SRGAN-MSE (λ = {SETTING.gan_weight:g})"
print_table({"pixel loss": pixel, mse_name: mse_gan, GAN: gan})

# %% tags=["hide-input"]
assert mse_gan["FD"] < pixel["FD"] / 1.5 and abs(mse_gan["PSNR"] - gan["PSNR"]) < 0.5

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: sr-ex-3
# **A perfect digit, one pixel off.** Shift every true digit one pixel to the right (`torch.roll`); it is
# exactly as sharp as the truth. Predict its PSNR against the truth, relative to bicubic's, its Fréchet
# distance, and the classifier's accuracy on it.
# ```
#
# ```{solution-start} sr-ex-3
# :class: dropdown
# ```
#
# PSNR compares pixel by pixel, so a one-pixel shift of a thin stroke turns both of its edges into errors of up
# to 2: the shifted truth scores no better than the bicubic blur in PSNR (a little below it, by less than
# 0.5 dB). Its Fréchet distance is far below bicubic's, below even the real-vs-real value printed earlier
# (these are the very digits it is compared with, moved), and the classifier still reads more than 95% of
# them right (all checked). PSNR rewards hedging about where a stroke is.

# %%
shifted = torch.roll(hr, shifts=1, dims=3)
moved = sr_report(shifted, hr, labels)
print_table({"truth shifted 1 px": moved, "bicubic": rows["bicubic"]})

# %% tags=["hide-input"]
assert moved["PSNR"] < rows["bicubic"]["PSNR"]
assert rows["bicubic"]["PSNR"] - moved["PSNR"] < 0.5  # deterministic; 0.08 dB offline
assert moved["FD"] < rows["bicubic"]["FD"] / 10 and moved["accuracy"] > 0.95
assert moved["FD"] < real_vs_real  # deterministic; 0.17 against 1.5 offline

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - Measure restoration two ways: distortion against each image's own truth (PSNR, SSIM, with the data range
#   stated and SSIM on non-negative intensities) and realism against the real distribution (a Fréchet
#   distance). They disagree even for nearest versus bicubic, and no method can reach both optima at once
#   {cite}`blau2018perception`.
# - A pixel loss buys PSNR with blur; a feature content loss lowers the Fréchet distance *in the features it
#   matches*; on our short fine-tune the adversarial term cost SSIM without a reliable gain in realism. Report
#   where your models stand in the plane, not one number, and over several seeds.
# - Our content loss and our first evaluator share a network (the frozen digit classifier): the content loss
#   pushes down an upper bound on that Fréchet distance and pulls readings towards the truth's. A second
#   classifier that no loss has seen did not confirm the content loss's drop in Fréchet distance (though it
#   cannot rank these outputs at all); judge with a network the model was not trained against, and check that
#   it can separate what you compare.
# - Sharp is not the same as right: count how often outputs read as a different digit than the truth, leaving
#   out the reader's own errors on the truth.
