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
# Colab only: install the course package. Everywhere else `make` has installed it
# already.
import subprocess
import sys

REPOSITORY = "https://github.com/gancourse/gancourse"
if "google.colab" in sys.modules:
    package = f"gancourse @ git+{REPOSITORY}@main"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)

# %% [markdown]
# # 8. Asking for a digit
#
# **Question: can we tell a {term}`GAN <generative adversarial network, GAN (生成对抗网络)>` which digit to draw, and in which style, and check that it listens?** Chapter 4's
# {term}`generator <generator (生成器)>` drew whatever digit its noise led to, some classes several times as often as others. Here the
# generator and the {term}`discriminator <discriminator (判别器)>` both receive a *condition*: the digit we want, and two style attributes that
# we measure from every training digit's pixels, {term}`stroke thickness <stroke thickness (笔画粗细)>` and {term}`slant <slant (倾斜度)>`. A few words of English or Chinese
# are then enough to ask for "a bold, slanted seven" (一个粗的、倾斜的七): text to image, in miniature.
#
# ```{admonition} In this chapter
# :class: tip
# You will measure two styles from pixels; give the digit and the style to both players; compare two ways for the discriminator to read the condition; check how well the generator listens; and turn short English or Chinese prompts into conditions.
#
# Running time: the {doc}`../book/performance` page lists what each chapter takes on a 2-core CPU; on a
# GPU it has not been measured yet.
# ```

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from gancourse.attributes import measure, shear, slant, thickness
from gancourse.claims import Claims
from gancourse.conditional import (
    ConcatDiscriminator,
    ProjectionDiscriminator,
    conditional_report,
    style_conditions,
)
from gancourse.data import load_mnist
from gancourse.latent import slerp
from gancourse.metrics import DCGAN_MNIST_FD_RANGE, classifier_outputs
from gancourse.models import (
    LeanDCGANDiscriminator,
    LeanDCGANGenerator,
    dcgan_init_,
    generate,
)
from gancourse.prompt import VOCABULARY, PromptError, condition, parse_prompt, tokenize
from gancourse.runtime import seed_everything, setup
from gancourse.train import GANTrainer, TrainConfig
from gancourse.viz import BLUE, ORANGE, VERMILLION, image_grid, show_grid

device = setup(seed=0)
STEPS, BATCH = (2_500, 32) if device.type == "cpu" else (10_000, 128)  # GPU: fuller
COMPARE_STEPS = STEPS * 2 // 5  # the budget on which the two Ds are compared
# the text's numbers after training were measured at this setting, on both data sets:
claims = Claims(measured={"device": "cpu", "STEPS": 2_500, "BATCH": 32},
                now={"device": device.type, "STEPS": STEPS, "BATCH": BATCH})

# %% [markdown]
# ## Two attributes every digit has
#
# Which styles can we ask for without labelling anything by hand? Two that can be *measured* from the pixels.
# Write $a(u, v) \in [0, 1]$ for the ink at column $u$ and height $v$ (the image mapped from $[-1, 1]$; $v$
# counts rows from the bottom, so it points up).
#
# **Stroke thickness.** A straight stroke of width $w$ and length $L$ holds $wL$ ink, and its outline is
# $2L + 2w$ long, so twice the ink over the outline length is $2wL / (2L + 2w) = wL / (L + w)$, close to $w$
# for a long stroke:
#
# ```{math}
# :label: eq-thickness
# \text{thickness} = \frac{2 \sum_{u,v} a(u, v)}{\sum_{u,v} \lVert \nabla a(u, v) \rVert} \approx w .
# ```
#
# The denominator is the image's *total variation*: the length of the ink's gradient summed over the pixels.
# For an image with sharp black-and-white edges it is the outline's length, and grey, anti-aliased edges need
# no threshold either. (Optional detail: for grey edges both sums average over grey levels. The ink is the area
# inked at level $t$ averaged over $t \in [0, 1]$, the layer-cake formula, and in the continuum the total
# variation is the outline's length averaged the same way, the coarea formula; on a pixel grid that holds
# approximately.) We prefer it to "ink per skeleton length", the other common measure: a digit's skeleton, the
# one-pixel-wide centre line left when its strokes are thinned away, grows spurs on a 28×28 image that jump when
# one pixel changes.
#
# **Slant.** Shearing an image by $u \to u + s\,v$ adds exactly $s$ to the ratio of the ink's central second
# moments,
#
# ```{math}
# :label: eq-slant
# \text{slant} = \frac{\mu_{11}}{\mu_{02}}, \qquad \mu_{pq} = \sum_{u,v} a(u,v)\,(u - \bar u)^p (v - \bar v)^q ,
# ```
#
# where $(\bar u, \bar v)$ is the ink's centre, its ink-weighted mean column and height (the shear moves each
# point by $s(v - \bar v)$ relative to it, which adds $s\,\mu_{02}$ to $\mu_{11}$ and leaves $\mu_{02}$
# alone), so the measure is zero for an upright bar and positive when the top leans right. **We check both on
# synthetic strokes with known answers: an upright bar has slant 0, the same bar sheared by 0.4 has slant 0.4
# (to within the resampling of the shear, 0.02), and bars 2, 3 and 4 pixels wide have thicknesses within 5% of
# $wL/(L+w)$.**


# %%
def bar(width: int) -> torch.Tensor:
    """An upright white bar, 20 pixels long, on a black 28x28 image.

    Returns (1, 1, 28, 28) in [-1, 1]."""
    image = -torch.ones(1, 1, 28, 28)
    image[..., 4:24, 12 : 12 + width] = 1
    return image


upright, sheared = slant(bar(3)).item(), slant(shear(bar(3), 0.4)).item()
print(f"upright bar: slant {upright:+.3f}; sheared by 0.4: {sheared:+.3f}")
assert abs(upright) < 1e-9 and abs(sheared - 0.4) < 0.02
for width in (2, 3, 4):
    expected = width * 20 / (20 + width)
    measured_width = thickness(bar(width)).item()
    print(
        f"bar {width} px wide: thickness {measured_width:.2f} (expected {expected:.2f})"
    )
    assert abs(measured_width - expected) < 0.05 * expected

# %% [markdown]
# Now every training digit (the 4,000 of the offline sample; 60,000 when torchvision's MNIST is available).
# The figure sorts them by each attribute and shows ten, evenly spaced from the lowest to the highest: what to
# look at is whether the order agrees with your eye.

# %%
train, held_out = load_mnist(train=True), load_mnist(train=False)
images, labels = train.images.to(device), train.labels.to(device)
# 1,000 held-out digits (offline, all of them; online, MNIST's first 1,000 test digits),
# taken alternately into two halves of 500: the reference the generator is scored
# against, and the digits whose conditions it is asked for
reference = held_out.images[:1000:2].to(device)
reference_labels = held_out.labels[:1000:2].to(device)
attributes = measure(train.images).float()  # (N, 2): thickness in pixels, slant
quantiles = np.percentile(attributes.numpy(), [10, 50, 90], axis=0)
print(
    "thickness: 10%, 50%, 90% at",
    ", ".join(f"{q:.2f}" for q in quantiles[:, 0]),
    "pixels",
)
print("slant:     10%, 50%, 90% at", ", ".join(f"{q:+.2f}" for q in quantiles[:, 1]))

fig, axes = plt.subplots(2, 1, figsize=(9, 2.4), layout="constrained")
for ax, column, name in zip(axes, (0, 1), ("thickness", "slant"), strict=True):
    order = attributes[:, column].argsort()
    shown = order[torch.linspace(0, len(order) - 1, 10).long()]
    show_grid(
        train.images[shown], nrow=10, ax=ax, title=f"sorted by {name}, lowest left"
    )
plt.show()

# %% [markdown]
# ## Conditions
#
# A condition is a vector $y$ of 12 numbers: the digit *one-hot* (10 numbers, a 1 at the digit's position and 0
# elsewhere), then the digit's thickness and slant given as *ranks* among the training digits, in $[0, 1]$ (0.9 is
# bolder than 90% of them). Ranks have no units and no outliers, and "bold" can simply mean rank 0.9. The data need
# no new labels: each training digit's condition is computed from its label and its pixels. Ranks are global, not
# per digit: a typical 0 is bolder than a typical 1, so "bold" asks more of some digits than of others.
#
# To measure the generator later we ask it for the conditions of *held-out* digits (their attributes ranked
# among the training digits'), which no network trained on: a generator that only looked up its training
# conditions would not be rewarded. And we score what it draws against the *other* half of the held-out digits:
# asking for the very digits it is scored against would hand it part of the answer, their exact mix of digits,
# thicknesses and slants.

# %%
conditions = style_conditions(train.labels, attributes, attributes).to(device)
held_out_conditions = style_conditions(
    held_out.labels, measure(held_out.images).float(), attributes
)
print(
    f"conditions: {tuple(conditions.shape)}; the first training digit's (a "
    f"{train.labels[0].item()}):",
    conditions[0].cpu().numpy().round(2),
)
assert conditions.shape == (len(train), 12)
assert conditions[:, 10:].min() >= 0 and conditions[:, 10:].max() <= 1
# Chapter 4's unconditional lean DCGAN on this data set: its best run's FD
UNCONDITIONAL_FD = DCGAN_MNIST_FD_RANGE[train.dataset][0]

# %% [markdown]
# ## A conditional GAN
#
# Mirza and Osindero {cite}`mirza2014conditional` give both players the condition, which makes a
# {term}`conditional GAN <conditional GAN (条件生成对抗网络)>`. Writing $s(x, y)$ for the discriminator's
# {term}`logit <logit (对数几率)>` and $D = \sigma(s)$ for its probability, the game of Chapter 2 becomes
#
# ```{math}
# :label: eq-cgan
# \min_G \max_D \; \mathbb E_{(x, y) \sim p_\text{data}} \log D(x, y)
#   + \mathbb E_{z \sim p_z,\, y \sim p_\text{data}(y)} \log\bigl(1 - D(G(z, y), y)\bigr) .
# ```
#
# Real images come with their own conditions; the generator is asked for conditions drawn from the data's (rows of
# the training conditions, drawn uniformly with replacement), so it learns the combinations of digit, thickness and
# slant that occur. For the population distributions, the
# {term}`optimal discriminator <optimal discriminator (最优判别器)>` $D^*$ then compares $p_\text{data}(x \mid y)$ with
# $p_g(x \mid y)$ for every $y$ (Chapter 2's argument, for each $y$): a generator that draws a perfect 3 when asked
# for a 7 loses. (With 4,000 training digits, each of whose ranks is nearly unique, the *empirical*
# $p_\text{data}(x \mid y)$ is one image per condition; this is why we measure on the held-out digits' conditions.)
#
# The generator is Chapter 4's lean {term}`DCGAN <DCGAN (深度卷积生成对抗网络)>` whose first linear layer reads $z$ and $y$ side by side:
# `LeanDCGANGenerator(condition_dim=12)`. Training is Chapter 3's loop, `GANTrainer`, given the conditions as
# `conditions=`: any per-image tensor aligned with the data travels with its real batch, and fake batches get rows
# of it drawn at random. For the discriminator there are two common ways in. Let $\phi(x)$ be the lean
# discriminator's features before its last linear layer $\psi$: $2 \times 32 \times 7 \times 7 = 3{,}136$
# numbers.
#
# - **concatenation**: $y$ enters as 12 constant 28×28 maps stacked onto the image. Constant maps carry no
#   pattern, so away from the zero-padded border the first convolution turns them into a bias that depends on
#   $y$; later layers mix it with the image through their nonlinearities.
# - **projection** {cite}`miyato2018cgans`, the
#   {term}`projection discriminator <projection discriminator (投影判别器)>`: the unconditional logit plus an
#   inner product between an embedding of $y$ and the image's features,
#
# ```{math}
# :label: eq-projection
# s(x, y) = \psi(\phi(x)) + \langle V y, \phi(x) \rangle .
# ```
#
# Here $V$ is a learned matrix with one column per entry of $y$ (3,136 × 12), so the embedding $Vy$ has the size of
# $\phi(x)$. Miyato and Koyama derive this form for a categorical $y$. The optimal logit is the logit of
# $D^* = p_\text{data} / (p_\text{data} + p_g)$, that is
# $\log\bigl(D^* / (1 - D^*)\bigr) = \log p_\text{data}(x, y) / p_g(x, y)$. If $p(y \mid x)$ is a softmax over
# linear functions of $\phi(x)$ for both data and model, this logit splits into a term that ignores $y$ and the
# inner product of {eq}`eq-projection`. That covers the one-hot digit; for the two ranks the same form follows if,
# for data and model alike, they are Gaussian given $x$ with a mean linear in $\phi(x)$ and the *same* covariance,
# and if digit and style do not interact in the log-ratio. Those are assumptions, not facts about digits.
# (Concatenating $y$ at the *last* layer instead would add a bias that does not depend on $x$ at all.)
#
# Our projection discriminator keeps the form of {eq}`eq-projection` but not the rest of Miyato and Koyama's
# recipe. Their $\phi(x)$ is a vector of channels summed over all positions at the end of a residual network (one
# built from blocks that add their input to their output) with
# {term}`spectral normalisation <spectral normalisation (谱归一化)>`, trained with the
# {term}`hinge loss <hinge loss (合页损失)>`. Ours is Chapter 4's lean discriminator: $\phi(x)$ is its whole feature
# map flattened (each embedding $Vy$ is then a spatial map too, so "where" can depend on the condition), it keeps
# {term}`batch norm <batch normalization (批归一化)>`, and it trains with the
# {term}`non-saturating loss <non-saturating loss (非饱和损失)>`. These choices keep the comparison with Chapter 4 to
# one change (how $y$ enters); they are not the paper's setting. The picture shows the conditional generator and
# the projection discriminator:

# %% tags=["remove-input"]
from gancourse.diagrams import conditional_networks

conditional_networks()
plt.show()

# %% [markdown]
# The two differ in where the parameters go and what they cost. Concatenation widens only the first
# convolution: 12 more input maps, $12 \times 32 \times 4 \times 4 = 6{,}144$ weights, but every position of
# that convolution now reads 13 channels instead of 1. Projection adds the embedding $V$, one column of 3,136
# numbers per entry of $y$: $12 \times 3{,}136 = 37{,}632$ weights, but almost no computation (one inner
# product per image). **We check the shapes and both counts against Chapter 4's unconditional lean
# discriminator, and that concatenation costs at least 1.5 times projection's floating-point operations per
# image (counted by PyTorch's `FlopCounterMode`).**


# %%
def adam(model: nn.Module) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))


def conditional_gan(kind: str, seed: int = 0) -> GANTrainer:
    """A conditional lean DCGAN, ready to train, with a ``kind`` discriminator ("concat"
    or "projection"): Chapter 3's loop, given the training digits' conditions."""
    seed_everything(seed)
    G = dcgan_init_(LeanDCGANGenerator(latent_dim=64, condition_dim=12)).to(device)
    D_class = ConcatDiscriminator if kind == "concat" else ProjectionDiscriminator
    D = dcgan_init_(D_class(condition_dim=12)).to(device)
    config = TrainConfig(batch_size=BATCH)
    return GANTrainer(
        G, D, adam(G), adam(D), images, 64, config, device=device, conditions=conditions
    )


def forward_flops(D: nn.Module, *inputs: torch.Tensor) -> int:
    """Floating-point operations of one forward pass, as PyTorch counts them."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        D(*inputs)
    return counter.get_total_flops()


runs = {kind: conditional_gan(kind) for kind in ("concat", "projection")}
count = {kind: sum(p.numel() for p in run.D.parameters()) for kind, run in runs.items()}
unconditional_D = LeanDCGANDiscriminator().to(device)
count["unconditional"] = sum(p.numel() for p in unconditional_D.parameters())
x = torch.zeros(1, 1, 28, 28, device=device)
flops = {kind: forward_flops(run.D, x, conditions[:1]) for kind, run in runs.items()}
flops["unconditional"] = forward_flops(unconditional_D, x)
for kind in ("unconditional", "concat", "projection"):
    print(
        f"{kind:14s} D: {count[kind]:7,} parameters, {flops[kind]:10,} FLOPs per image"
    )
with torch.no_grad():
    fake = runs["projection"].G(torch.randn(3, 64, device=device), conditions[:3])
    assert fake.shape == (3, 1, 28, 28)
    assert all(run.D(fake, conditions[:3]).shape == (3,) for run in runs.values())

# %% tags=["hide-input"]
assert count["concat"] - count["unconditional"] == 12 * 32 * 4 * 4
assert count["projection"] - count["unconditional"] == 12 * (2 * 32 * 7 * 7)
assert flops["concat"] >= 1.5 * flops["projection"]

# %% [markdown]
# ## Concatenation or projection?
#
# Both train for the same number of iterations of `BATCH` images (on a CPU, 1,000 of 32: two fifths of the
# chapter's budget, to stay within its running time) with Adam($2\times10^{-4}$, $\beta_1 = 0.5$) and the
# {term}`non-saturating loss <non-saturating loss (非饱和损失)>`. Each then draws 1,000 digits from the same
# noise. They are asked for with the conditions of the 500 held-out digits that are not the reference, so each
# condition is asked for twice to make 1,000 (about 100 per digit). The frozen classifier of Chapter 5 reads
# them, and we report:
#
# - **recognised**: per asked-for digit, the share the classifier reads as that digit; *min recognised* is the
#   worst digit's share;
# - **confidence**: the classifier's mean top probability (Chapter 5);
# - the {term}`Fréchet distance <Fréchet distance (Fréchet 距离)>` to the other 500 held-out digits, the reference;
# - $\rho$, **Spearman's rank correlation** between the requested rank of an attribute and the attribute
#   measured on what came out: 1 when the order of the requests is the order of the results, 0 when they are
#   unrelated. We give it pooled over all 1,000 digits and *within digit* (the mean over digits of $\rho$
#   among the samples asked for that digit): the pooled one is also raised by digits that differ in their typical
#   style, even for a generator that ignores the style it is asked for; the within-digit one (columns "in
#   digit") is not.
#
# The comparison's outcome, like every result this chapter states after training, was measured at one setting:
# a CPU, `STEPS` = 2,500 and `BATCH` = 32 (the comparison trains for two fifths of `STEPS`). The checks of such results read `assert claims.hold(outcome, claim)`:
# at that setting this asserts the outcome; at any other (a GPU, or a `STEPS` you changed) it prints whether the
# claim held in your run instead of stopping.

# %%
z_eval = torch.randn(1000, 64, generator=torch.Generator().manual_seed(7)).to(device)
# (1000, 12): the conditions of the held-out half that is not the reference, each twice
asked = held_out_conditions[1:1000:2].repeat(2, 1).to(device)


def evaluate(run: GANTrainer) -> dict:
    samples = generate(run.G, z_eval, asked)
    report = conditional_report(samples, asked, reference, reference_labels)
    return report | {"samples": samples}


def print_reports(reports: dict[str, dict]) -> None:
    """One row per model: FD, confidence, min recognised, rho pooled and in digit."""
    columns = {
        "FD": "FD",
        "confidence": "confidence",
        "min recognised": "min recog.",
        "thickness rho": "thick. rho",
        "slant rho": "slant rho",
        "thickness rho within digit": "in digit",
        "slant rho within digit": "in digit",
    }
    print(f"{'':11s}" + "".join(f"{label:>11s}" for label in columns.values()))
    for name, r in reports.items():
        print(f"{name:11s}" + "".join(f"{r[key]:11.3f}" for key in columns))


compared = {}
for kind in ("concat", "projection"):
    # rebuilt from seed 0: the same weights and random stream as above
    runs[kind] = conditional_gan(kind, seed=0)
    runs[kind].train(COMPARE_STEPS, desc=kind)
    compared[kind] = evaluate(runs[kind])
print(f"after {COMPARE_STEPS:,} iterations:")
print_reports(compared)
projection, concat = compared["projection"], compared["concat"]
comparison = {
    "projection: lower FD": projection["FD"] < concat["FD"],
    "projection: higher min recognised": projection["min recognised"]
    > concat["min recognised"],
    "concat: higher slant rho": concat["slant rho"] > projection["slant rho"],
}
print(comparison)

# %% tags=["hide-input"]
assert claims.hold(all(comparison.values()),
                   "projection wins on FD and the worst digit, concatenation on slant")

# %% [markdown]
# After 1,000 iterations on a CPU, projection draws digits closer to the real ones and gets even its worst digit
# right more often, while concatenation follows the requested slant more closely. It is a measurement on this
# budget, not a law; the derivation above suggests one possible reason, that projection's inner product is right
# for the style ranks only under assumptions that need not hold.

# %% [markdown]
# ## How well does it listen?
#
# We carry on training the projection model to the chapter's full budget (`STEPS`; on a CPU 2,500 iterations of
# 32, Chapter 4's) and measure again, against four goals for a generator that listens:
#
# - **every asked-for digit recognised in at least 95% of its samples;**
# - **mean confidence at least 0.90;**
# - **a Fréchet distance below the unconditional lean DCGAN's** on the same CPU budget and data (Chapter 4's
#   model at its best, `UNCONDITIONAL_FD`). Part of the advantage is given: the conditional model is asked for
#   the digit proportions of a half drawn like the reference, which Chapter 4's model had to find by itself.
#   Part goes the other way: our reference has 500 digits, Chapter 4's 1,000, and the Fréchet distance's upward
#   bias grows as a set shrinks (Chapter 5), so on average the comparison is tilted against our model: a win
#   still counts;
# - **thickness and slant each following the request with $\rho \ge 0.8$** (pooled; the within-digit value is
#   printed beside it).

# %%
model = runs["projection"]
model.train(STEPS - COMPARE_STEPS, desc="projection")
result = evaluate(model)
samples = result["samples"]
print(
    f"after {STEPS:,} iterations (unconditional DCGAN's best FD: {UNCONDITIONAL_FD}):"
)
print_reports({"projection": result})
print(
    "recognised per digit:",
    ", ".join(f"{d}: {v:.0%}" for d, v in enumerate(result["recognised"])),
)

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3), layout="constrained")
left.bar(range(10), 100 * result["recognised"], color=BLUE)
for digit, share in enumerate(result["recognised"]):
    left.text(digit, 100 * share + 0.3, f"{100 * share:.0f}", ha="center", fontsize=8)
left.axhline(95, color=VERMILLION, ls="--")
left.set(
    xlabel="asked-for digit",
    ylabel="read as that digit (%)",
    xticks=range(10),
    ylim=(50, 102),
    title="dashed: the 95% target",
)
right.bar(range(10), result["class KID"], color=ORANGE)
right.set(xlabel="digit", ylabel="KID to that digit's reference", xticks=range(10))
plt.show()

# %% [markdown]
# The left panel is the question this chapter asks; the right one says, per digit, how close the digits drawn
# when asked for that digit are to the real reference digits of that class. With only about 50 of those per
# digit it uses the {term}`KID <kernel inception distance, KID (核 Inception 距离)>` of Chapter 5, whose
# *expected* value does not depend on the sample size (a Fréchet distance from 50 digits in 64 features is
# degenerate: their covariance has rank at most 49); at these sizes its spread is wide and values near 0 can be negative, so compare the digits
# only roughly.
#
# **We check which goals this run meets:** confidence and the Fréchet distance with room; recognition and slant
# fall short on this budget (a challenge for the exercises). Thickness's $\rho$ comes out too close to its goal
# of 0.8 to call met or missed, so for it we check only that $\rho$ lies between 0.7 and 0.85.

# %%
targets = {
    "every digit recognised >= 95%": result["min recognised"] >= 0.95,
    "confidence >= 0.90": result["confidence"] >= 0.90,
    "FD below the unconditional DCGAN's": result["FD"] < UNCONDITIONAL_FD,
    "slant rho >= 0.8": result["slant rho"] >= 0.8,
}
for name, met in targets.items():
    print(f"{name:36s} {'met' if met else 'NOT met'}")
print(f"{'thickness rho >= 0.8':36s} rho = {result['thickness rho']:.3f}, on the edge")
EXPECTED = {
    "every digit recognised >= 95%": False,
    "confidence >= 0.90": True,
    "FD below the unconditional DCGAN's": True,
    "slant rho >= 0.8": False,
}

# %% tags=["hide-input"]
assert claims.hold(targets == EXPECTED, "the targets met and missed as above")
assert claims.hold(0.7 < result["thickness rho"] < 0.85,
                   "thickness rho between 0.7 and 0.85")

# %% [markdown]
# ## Style and content, separated
#
# If the condition carries the digit, what is left for $z$? Everything else: the style the two attributes do not
# describe. Below, each row asks for one digit and each column uses one noise vector, with thickness and slant
# fixed at the median (rank 0.5). **We check that the classifier reads at least 85% of the 80 cells as their
# row's digit** (the 95% goal is not met on this budget, so we do not expect it of a small grid either).

# %%
n_styles = 8
z_styles = torch.randn(n_styles, 64, generator=torch.Generator().manual_seed(11))
z_styles = z_styles.to(device)


def ask(digits: torch.Tensor, thickness_rank: float, slant_rank: float) -> torch.Tensor:
    """Conditions (len(digits), 12): the digits at fixed thickness and slant ranks."""
    one_hot = nn.functional.one_hot(digits, 10).float()
    style = torch.tensor([thickness_rank, slant_rank]).expand(len(digits), 2)
    return torch.cat([one_hot, style], dim=1).to(device)


digits = torch.arange(10).repeat_interleave(n_styles)
grid = generate(model.G, z_styles.repeat(10, 1), ask(digits, 0.5, 0.5))
show_grid(grid, nrow=n_styles, title="one row per asked-for digit, one column per z")
plt.show()
read_as = torch.as_tensor(classifier_outputs(grid)[1].argmax(1))
print(f"read as the row's digit: {(read_as == digits).float().mean():.1%}")

# %% tags=["hide-input"]
assert claims.hold((read_as == digits).float().mean() >= 0.85,
                   "at least 85% of the grid")

# %% [markdown]
# Walking in $z$ with the condition fixed changes the handwriting, and rarely the digit. Below, three 10-step
# spherical paths (Chapter 4) between the same two noise vectors, asking for a 2, a 5 and an 8. **We check,
# on the same path asked for each of the ten digits (100 frames), that at least 80% of the frames are read as
# the digit asked for** (as for the grid, the 95% goal is not met on this budget).

# %%
ends = torch.randn(2, 64, generator=torch.Generator().manual_seed(12)).to(device)
path = slerp(ends[0], ends[1], 10)  # (10, 64)
walk_digits = torch.arange(10).repeat_interleave(
    len(path)
)  # every digit, 10 frames each
walks = generate(model.G, path.repeat(10, 1), ask(walk_digits, 0.5, 0.5))
shown = walks.view(10, len(path), 1, 28, 28)[[2, 5, 8]].flatten(0, 1)
show_grid(
    shown, nrow=len(path), title="z walks left to right; the condition stays 2, 5, 8"
)
plt.show()
walk_read = torch.as_tensor(classifier_outputs(walks)[1].argmax(1))
print(f"frames read as the asked-for digit: {(walk_read == walk_digits).sum()} of 100")

# %% tags=["hide-input"]
assert claims.hold((walk_read == walk_digits).float().mean() >= 0.80,
                   "at least 80 of the 100 frames")

# %% [markdown]
# ## Does the style follow the request?
#
# The scatter plots compare, for the 1,000 digits measured above, the requested rank with the measured attribute;
# the black curve is where a generator that followed perfectly would put its digits (the training digits'
# attribute at each rank). The correlations are the ones in the table above.
#
# A cleaner test holds everything else fixed: one digit, 20 noise vectors, and only the thickness rank changing
# (from 0.1 to 0.9, slant at 0.5), then only the slant rank. **We check, for digits 1, 4 and 7, that the mean
# measured thickness follows the requested thickness in order (a rank correlation of at least 0.9 over the five
# levels: at most one pair of neighbours swapped) and ends higher than it starts, and the same for slant.**

# %%
measured = measure(samples).cpu()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
ranks = np.linspace(0, 1, 101)
for column, (ax, name) in enumerate(zip(axes, ("thickness", "slant"), strict=True)):
    ax.scatter(
        asked[:, 10 + column].cpu(), measured[:, column], s=4, color=BLUE, alpha=0.5
    )
    ax.plot(ranks, np.quantile(attributes[:, column].numpy(), ranks), color="black")
    ax.set(
        xlabel=f"requested {name} rank",
        ylabel=f"measured {name}",
        title=f"pooled rho = {result[name + ' rho']:.2f}",
    )
plt.show()

levels = [0.1, 0.3, 0.5, 0.7, 0.9]
z_sweep = torch.randn(20, 64, generator=torch.Generator().manual_seed(16)).to(device)
sweeps = {}
for digit in (1, 4, 7):
    for column, name in enumerate(("thickness", "slant")):
        means = []
        for level in levels:
            style = [0.5, 0.5]
            style[column] = level
            batch = generate(model.G, z_sweep, ask(torch.full((20,), digit), *style))
            means.append(measure(batch)[:, column].mean().item())
        sweeps[digit, name] = means
        print(
            f"digit {digit}, {name:9s} at ranks {levels}:",
            " ".join(f"{m:+.2f}" for m in means),
        )
for means in sweeps.values():
    rises = spearmanr(levels, means).statistic >= 0.9 and means[-1] > means[0]
    assert claims.hold(rises, "each sweep rises with the requested rank")

# %% [markdown]
# One digit, thickness across and slant down: the grid below asks for a 4 at ranks 0.1 to 0.9 of each, all from
# one $z$.

# %%
tt, ss = torch.meshgrid(torch.tensor(levels), torch.tensor(levels), indexing="xy")
four = torch.cat(
    [
        nn.functional.one_hot(torch.full((25,), 4), 10).float(),
        torch.stack([tt.flatten(), ss.flatten()], dim=1),
    ],
    dim=1,
).to(device)
sweep = generate(model.G, z_styles[:1].expand(25, 64), four)
fig, ax = plt.subplots(figsize=(4.2, 4.2))
ax.imshow(image_grid(sweep, nrow=5), cmap="gray")
centres = 2 + 15 * np.arange(5)  # image_grid: 28-pixel tiles, 2-pixel padding
ax.set_xticks(centres, [f"{v:.1f}" for v in levels])
ax.set_yticks(centres, [f"{v:.1f}" for v in levels])
ax.set(xlabel="thickness rank", ylabel="slant rank")
plt.show()

# %% [markdown]
# ## Text to image, in miniature
#
# Now the {term}`prompt <prompt (提示词)>`. `gancourse.prompt` knows 101 words in English and Chinese: digits as
# words, numerals and Chinese numerals; "thin"/"细的" and "bold"/"粗的" (thickness ranks 0.1 and 0.9), with
# synonyms such as "thick"; "upright"/"正的" and "slanted"/"倾斜的", with synonyms such as "leaning"; and filler
# words a learner types around a request ("draw", "please", "a", "画", "一个"), which ask for nothing
# themselves. "Right" is a filler too, since slanted already means leaning right: "draw a thick seven leaning
# right" asks for a bold, slanted 7. "Slanted" is slant rank 0.9; "upright" is a measurement, zero shear,
# converted to a rank with the training digits' slants (it is not 0.5: most digits lean right a little).
# A word not given means rank 0.5. Chinese is written without spaces, so the parser cuts it by longest match:
# "一个" ("a") before "一" (one). **We check the vocabulary's size, the ranks, the longest match, that the
# English and Chinese prompts give identical conditions (and so identical digits), and that an unknown word is
# refused with the vocabulary in the message.**

# %%
prompts = {
    "a bold, slanted seven": "一个粗的、倾斜的七",
    "a thin, upright seven": "一个细的、正的七",
    "thin upright 2": "细的、正的二",
}
asked_by_prompt = {}
for english, chinese in prompts.items():
    y = condition(parse_prompt(english), attributes)
    assert torch.equal(y, condition(parse_prompt(chinese), attributes))
    asked_by_prompt[english] = y.to(device)
    print(
        f"{english:22s} = {chinese:10s} -> thickness rank {y[10]:.2f}, "
        f"slant rank {y[11]:.2f}"
    )
upright_rank = asked_by_prompt["thin upright 2"][11].item()
assert len(VOCABULARY) == 101 and tokenize("一个七") == ["一个", "七"]
bold_style = asked_by_prompt["a bold, slanted seven"][10:].cpu()
assert torch.allclose(bold_style, torch.tensor([0.9, 0.9]))
assert abs(asked_by_prompt["thin upright 2"][10].item() - 0.1) < 1e-6
assert 0.1 < upright_rank < 0.5
try:
    parse_prompt("a fat seven")
except PromptError as error:
    print(str(error).splitlines()[0])
    assert "fat" in str(error) and "粗的" in str(error)
else:
    raise AssertionError("'fat' should be an unknown word")

# %% [markdown]
# Each prompt asks for 100 digits from the same noise. **We check that the bold, slanted sevens come out thicker
# and more slanted than the thin, upright sevens (same digit, so only the style words differ), and that every
# prompt's digits are read as the digit asked for at least 75% of the time** (the 95% goal is not met on this budget).

# %%
z_prompt = torch.randn(100, 64, generator=torch.Generator().manual_seed(13)).to(device)
drawn = {
    text: generate(model.G, z_prompt, y.expand(100, 12))
    for text, y in asked_by_prompt.items()
}
fig, axes = plt.subplots(3, 1, figsize=(8, 2.9), layout="constrained")
for ax, (text, batch) in zip(axes, drawn.items(), strict=True):
    show_grid(batch[:10], nrow=10, ax=ax, title=text)
plt.show()

stats = {}
for text, batch in drawn.items():
    t, s = measure(batch).mean(0).tolist()
    digit = parse_prompt(text).digit
    share = float((classifier_outputs(batch)[1].argmax(1) == digit).mean())
    stats[text] = (t, s, share)
    print(f"{text:22s} thickness {t:.2f}, slant {s:+.2f}, read as {digit}: {share:.0%}")
bold, thin = stats["a bold, slanted seven"], stats["a thin, upright seven"]

# %% tags=["hide-input"]
assert claims.hold(bold[0] > thin[0] and bold[1] > thin[1],
                   "bold slanted sevens are bolder and more slanted")
assert claims.hold(all(share >= 0.75 for _, _, share in stats.values()),
                   "every prompt read as its digit at least 75% of the time")

# %% [markdown]
# ## How real systems scale this
#
# Our lookup table from words to a 12-number condition is the smallest possible text encoder. Reed et al.
# {cite}`reed2016generative` used a pre-trained encoder of whole sentences ("this bird is red with a short beak")
# and fed its embedding to both players, as we fed $y$ (in their discriminator, replicated over a small feature
# map and stacked onto it, much like our concatenation). They added a second idea, the *matching-aware*
# discriminator (GAN-CLS): besides real pairs and generated pairs, D also sees real images with the *wrong* text
# and must call them fake. That gives D a signal about the match that does not depend on how realistic G's
# images are yet, and it changes what the optimal D compares. This course does not implement it; it is one
# candidate for the recognition goal that this chapter's budget falls short of.
#
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: cond-ex-1
# Ask the trained generator for a condition halfway between two digits: 0.5 on the 1 and 0.5 on the 7 (style
# ranks 0.5). The generator never saw such a condition. Predict what the classifier reads on 200 samples: 1s,
# 7s, something else, and in what proportion?
# ```
#
# ```{solution-start} cond-ex-1
# :class: dropdown
# ```
#
# The first layer adds half of each digit's embedding, and what the rest of the network makes of that is an
# empirical question. Here at least 80% of the samples are read as a 1 or a 7 (checked); the split between them
# and the number of samples the classifier hesitates on (both probabilities above 0.2) are printed.

# %%
halfway = torch.zeros(200, 12, device=device)
halfway[:, [1, 7]] = 0.5
halfway[:, 10:] = 0.5
z_blend = torch.randn(200, 64, generator=torch.Generator().manual_seed(14)).to(device)
blend_probs = classifier_outputs(generate(model.G, z_blend, halfway))[1]
read = np.bincount(blend_probs.argmax(1), minlength=10) / 200
hesitant = int(((blend_probs[:, 1] > 0.2) & (blend_probs[:, 7] > 0.2)).sum())
print("read as:", {d: f"{p:.0%}" for d, p in enumerate(read) if p > 0})
print(f"samples with both p(1) and p(7) above 0.2: {hesitant}")

# %% tags=["hide-input"]
assert claims.hold(read[1] + read[7] >= 0.8, "at least 80% read as a 1 or a 7")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: cond-ex-2
# A style the model never saw: ask for a 4 with thickness rank 1.5, beyond the boldest training digit.
# Predict whether the measured thickness keeps growing past that of rank 1.0, and whether the 4 survives.
# ```
#
# ```{solution-start} cond-ex-2
# :class: dropdown
# ```
#
# Nothing forces it: the linear first layer is followed by batch norm, ReLUs and a tanh, which may saturate.
# Here the strokes do get thicker still, while the 4 survives less and less: the share read as a 4 falls at
# each step (both checked). Asking beyond the data buys style at the cost of the digit.

# %%
z_four = torch.randn(200, 64, generator=torch.Generator().manual_seed(15)).to(device)
thick = {}
for rank in (0.5, 1.0, 1.5):
    batch = generate(model.G, z_four, ask(torch.full((200,), 4), rank, 0.5))
    read_as_four = float((classifier_outputs(batch)[1].argmax(1) == 4).mean())
    thick[rank] = (thickness(batch).mean().item(), read_as_four)
print(
    {rank: f"thickness {t:.2f}, read as 4: {p:.0%}" for rank, (t, p) in thick.items()}
)

# %% tags=["hide-input"]
assert claims.hold(thick[0.5][0] < thick[1.0][0] < thick[1.5][0],
                   "thicker at each step")
assert claims.hold(thick[0.5][1] > thick[1.0][1] > thick[1.5][1],
                   "fewer read as a 4 at each step")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: cond-ex-3
# A *linear probe*: train a linear classifier of the digit on the projection discriminator's frozen features
# $\phi(x)$ (Adam, learning rate $10^{-3}$, 300 steps of 64 training digits), and the same on the features of
# a freshly initialised, untrained discriminator. Predict both accuracies on the held-out digits. (AC-GAN
# {cite}`odena2017conditional` puts such a head on D and trains it jointly, on real and generated digits, with
# G rewarded when the head recognises its digits; here we only probe.)
# ```
#
# ```{solution-start} cond-ex-3
# :class: dropdown
# ```
#
# Random convolutional features are already good inputs for a linear classifier of digits, so the untrained
# discriminator's probe is far from chance. The trained discriminator's features do better still (checked): the
# game taught $\phi$ something about digits, though nothing in the projection form requires $\phi$ to separate
# the classes.


# %%
def probe_accuracy(D: ProjectionDiscriminator) -> float:
    """Held-out accuracy of a linear digit classifier on D's frozen features."""
    D.eval()
    with torch.no_grad():
        train_features, test_features = D.phi(images), D.phi(reference)
    seed_everything(1)
    head = nn.Linear(train_features.shape[1], 10).to(device)
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    for _ in range(300):
        index = torch.randint(len(images), (64,), device=device)
        loss = nn.functional.cross_entropy(head(train_features[index]), labels[index])
        opt.zero_grad()
        loss.backward()
        opt.step()
    D.train()
    return (head(test_features).argmax(1) == reference_labels).float().mean().item()


seed_everything(2)
fresh = dcgan_init_(ProjectionDiscriminator(condition_dim=12)).to(device)
trained_probe, fresh_probe = probe_accuracy(model.D), probe_accuracy(fresh)
print(
    f"linear probe on D's features: trained {trained_probe:.1%}, "
    f"untrained {fresh_probe:.1%}"
)

# %% tags=["hide-input"]
assert claims.hold(fresh_probe > 0.5 and trained_probe > fresh_probe + 0.02,
                   "the trained D's features beat the untrained D's")

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: cond-ex-4
# Teach the parser one more word: "fat" and "胖的" for bold. Then check that "a fat 3" and "一个胖的三" give
# the condition of "a bold 3". Predict first: if you add only "胖" (without 的), does "一个胖的三" still parse?
# ```
#
# ```{solution-start} cond-ex-4
# :class: dropdown
# ```
#
# Add the words to the thickness table and the vocabulary (the parser reads both), and restore them after.
# With only "胖", longest match cuts "一个 / 胖 / 的 / 三", and "的" is a filler, so it parses too (checked).

# %%
from gancourse import prompt as prompt_module  # noqa: E402


def with_words(added: dict[str, str], text: str) -> torch.Tensor:
    """The condition of ``text`` while the ``added`` thickness words are known."""
    prompt_module.THICKNESS.update(added)
    prompt_module.VOCABULARY.update(dict.fromkeys(added, "thickness"))
    try:
        return condition(parse_prompt(text), attributes)
    finally:
        for word in added:
            del prompt_module.THICKNESS[word], prompt_module.VOCABULARY[word]


bold_three = condition(parse_prompt("a bold 3"), attributes)

# %% tags=["hide-input"]
assert torch.equal(with_words({"fat": "bold", "胖的": "bold"}, "a fat 3"), bold_three)
assert torch.equal(
    with_words({"fat": "bold", "胖的": "bold"}, "一个胖的三"), bold_three
)
assert torch.equal(with_words({"胖": "bold"}, "一个胖的三"), bold_three)
assert "fat" not in prompt_module.VOCABULARY  # restored

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - A condition given to both players turns "draw a digit" into "draw this digit": the {term}`optimal discriminator <optimal discriminator (最优判别器)>`
#   compares $p_\text{data}(x \mid y)$ with $p_g(x \mid y)$, so drawing the wrong digit is penalised.
# - The projection discriminator puts the condition where the optimal logit needs it, an inner product with the
#   image's features, under assumptions that hold for a categorical digit and only approximately for a style.
#   On this budget it beat concatenation on realism and on the worst digit, and lost to it on slant.
# - Attributes measured from pixels are free labels: thickness and slant made a 12-number condition, and a
#   dictionary from words to that condition is a (very) small text encoder.
# - Control is measured, not assumed, on conditions no network trained on: the classifier reads the digit, the
#   attribute measures read the style, and the goals this budget does not reach, recognition and slant, remain
#   challenges.
