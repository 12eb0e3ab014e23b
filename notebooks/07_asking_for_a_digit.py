# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
# # 7. Asking for a digit
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

from gancourse.attributes import attribute_ranks, measure, shear, slant, thickness
from gancourse.conditional import (
    ConcatDiscriminator,
    ProjectionDiscriminator,
    conditional_report,
    conditions_per_class,
)
from gancourse.data import load_mnist
from gancourse.latent import slerp
from gancourse.metrics import classifier_outputs
from gancourse.models import (
    LeanDCGANDiscriminator,
    LeanDCGANGenerator,
    dcgan_init_,
    generate,
)
from gancourse.prompt import PromptError, condition, parse_prompt
from gancourse.runtime import seed_everything, setup
from gancourse.train import GANTrainer, TrainConfig
from gancourse.viz import BLUE, ORANGE, VERMILLION, image_grid, show_grid

device = setup(seed=0)
STEPS, BATCH = (2_500, 32) if device.type == "cpu" else (10_000, 128)  # GPU: fuller
COMPARE_STEPS = STEPS * 2 // 5  # the budget on which the two Ds are compared
# DRAFT: the unconditional lean DCGAN's FD at (2,500, 32) for seed 0 only
# (benchmarks/results/conditional-seeds-cpu-seed0.json); replace by the lowest over
# seeds 0-4.
UNCONDITIONAL_FD = 36.0

# %% [markdown]
# ## Two attributes every digit has
#
# Which styles can we ask for without labelling anything by hand? Two that can be *measured* from the pixels.
# Write $a(u, v) \in [0, 1]$ for the ink at column $u$ and row $v$ (the image mapped from $[-1, 1]$).
#
# **Stroke thickness.** A stroke of width $w$ and length $L$ holds about $wL$ ink and has an outline of about
# $2L$, so
#
# ```{math}
# :label: eq-thickness
# \text{thickness} = \frac{2 \sum_{u,v} a(u, v)}{\sum_{u,v} \lVert \nabla a(u, v) \rVert} \approx w .
# ```
#
# The denominator is the image's total variation. By the coarea formula it equals the outline length of the
# inked region averaged over all grey levels, just as the numerator is its area averaged over the levels, so
# anti-aliased grey edges need no threshold. We prefer it to "ink per skeleton length", the other common
# measure, because a skeleton of a 28×28 digit grows spurs that jump when one pixel changes.
#
# **Slant.** Shearing an image by $u \to u + s\,v$ (with $v$ pointing up) adds $s$ to the ratio of the ink's
# central second moments,
#
# ```{math}
# :label: eq-slant
# \text{slant} = \frac{\mu_{11}}{\mu_{02}}, \qquad \mu_{pq} = \sum_{u,v} a(u,v)\,(u - \bar u)^p (v - \bar v)^q ,
# ```
#
# which is zero for an upright stroke and positive when the top leans right. **We check both on synthetic
# strokes with known answers: an upright bar has slant 0, the same bar sheared by 0.4 has slant 0.4 (within
# 0.02), and bars 2, 3 and 4 pixels wide have thicknesses within 5% of the widths' $wL/(L+w)$ (the ends count in
# the outline).**


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
# Now every training digit. The figure sorts 4,000 digits by each attribute and shows every 400th: what to look
# at is whether the order agrees with your eye.

# %%
train, held_out = load_mnist(train=True), load_mnist(train=False)
images, labels = train.images.to(device), train.labels.to(device)
reference, reference_labels = held_out.images.to(device), held_out.labels.to(device)
attributes = measure(train.images).float()  # (4000, 2): thickness in pixels, slant
quantiles = np.percentile(attributes.numpy(), [10, 50, 90], axis=0)
print(
    "thickness: 10%, 50%, 90% at",
    ", ".join(f"{q:.2f}" for q in quantiles[:, 0]),
    "pixels",
)
print(f"slant:     10%, 50%, 90% at {', '.join(f'{q:+.2f}' for q in quantiles[:, 1])}")

fig, axes = plt.subplots(2, 1, figsize=(9, 2.4), layout="constrained")
for ax, column, name in zip(axes, (0, 1), ("thickness", "slant"), strict=True):
    ordered = attributes[:, column].argsort()[::400]
    show_grid(
        train.images[ordered], nrow=10, ax=ax, title=f"sorted by {name}, lowest left"
    )
plt.show()

# %% [markdown]
# ## Conditions
#
# A condition is a vector $y$ of 12 numbers: the digit one-hot (10 numbers), then the digit's thickness and
# slant given as *ranks* among the training digits, in $[0, 1]$ (0.9 is bolder than 90% of them). Ranks have no
# units and no outliers, and "bold" can simply mean rank 0.9. The data need no new labels: each training digit's
# condition is computed from its label and its pixels.

# %%
ranks = attribute_ranks(attributes, attributes)  # (4000, 2)
one_hot = nn.functional.one_hot(train.labels, 10).float()
conditions = torch.cat([one_hot, ranks], dim=1).to(device)  # (4000, 12)
print(
    f"conditions: {tuple(conditions.shape)}; digit 0's:",
    conditions[0].cpu().numpy().round(2),
)
assert conditions.shape == (4000, 12) and ranks.min() >= 0 and ranks.max() <= 1

# %% [markdown]
# ## A conditional GAN
#
# Mirza and Osindero {cite}`mirza2014conditional` give both players the condition. The game of Chapter 2 becomes
#
# ```{math}
# :label: eq-cgan
# \min_G \max_D \; \mathbb E_{(x, y) \sim p_\text{data}} \log D(x, y)
#   + \mathbb E_{z \sim p_z,\, y \sim p_\text{data}(y)} \log\bigl(1 - D(G(z, y), y)\bigr) .
# ```
#
# Real images come with their own conditions; the generator is asked for conditions drawn from the data (those
# of other, randomly chosen training digits), so it learns the combinations of digit, thickness and slant that
# occur. At the optimum $D$ now compares $p_\text{data}(x \mid y)$ with $p_g(x \mid y)$ for every $y$: a
# generator that draws a perfect 3 when asked for a 7 loses.
#
# The generator is Chapter 4's lean DCGAN whose first linear layer reads $z$ and $y$ side by side. For the
# discriminator there are two common ways in:
#
# - **concatenation**: $y$ enters as 12 constant 28×28 maps stacked onto the image, so every convolution can mix
#   it with the pixels;
# - **projection** {cite}`miyato2018cgans`: the unconditional {term}`logit <logit (对数几率)>` plus an inner product between an embedding
#   of $y$ and the image's features $\phi(x)$,
#
# ```{math}
# :label: eq-projection
# D(x, y) = \psi(\phi(x)) + \langle V y, \phi(x) \rangle .
# ```
#
# Miyato and Koyama derive this form: if $p(y \mid x)$ is a softmax over linear functions of $\phi(x)$ for both
# data and model, the optimal logit $\log p_\text{data}(x, y) / p_g(x, y)$ splits into a term that ignores $y$
# and the inner product of {eq}`eq-projection`. (Concatenating $y$ at the *last* layer instead would add a bias
# that does not depend on $x$ at all.) The two differ in where the parameters go. Concatenation widens only the
# first convolution: 12 more input maps, $12 \times 32 \times 4 \times 4 = 6{,}144$ weights. Projection adds
# the embedding $V$, one 3,136-number row per entry of $y$: $12 \times 3{,}136 = 37{,}632$ weights, but almost
# no computation (one inner product per image). **We check the shapes and both counts against Chapter 4's
# unconditional lean discriminator.**


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
    return GANTrainer(
        G,
        D,
        adam(G),
        adam(D),
        images,
        latent_dim=64,
        config=TrainConfig(batch_size=BATCH),
        device=device,
        labels=conditions,
    )


runs = {kind: conditional_gan(kind) for kind in ("concat", "projection")}
parameters = {
    kind: sum(p.numel() for p in run.D.parameters()) for kind, run in runs.items()
}
unconditional = sum(p.numel() for p in LeanDCGANDiscriminator().parameters())
print(
    f"D parameters: unconditional {unconditional:,}, concat {parameters['concat']:,}, "
    f"projection {parameters['projection']:,}"
)
with torch.no_grad():
    x = runs["projection"].G(torch.randn(3, 64, device=device), conditions[:3])
    assert x.shape == (3, 1, 28, 28) and all(
        r.D(x, conditions[:3]).shape == (3,) for r in runs.values()
    )
assert parameters["concat"] - unconditional == 12 * 32 * 4 * 4
assert parameters["projection"] - unconditional == 12 * 3136

# %% [markdown]
# ## Concatenation or projection?
#
# Both train for the same number of iterations of 32 images with Adam($2\times10^{-4}$, $\beta_1 = 0.5$) and the
# {term}`non-saturating loss <non-saturating loss (非饱和损失)>`. Each then draws 1,000 digits, 100 asked for per class, each with the thickness and slant
# of a training digit of that class, from the same noise. The frozen classifier of Chapter 5 reads them; "asked-
# for digit recognised" is the share it reads as the digit we asked for, and the {term}`Fréchet distance <Fréchet distance (Fréchet 距离)>` is measured
# against the 1,000 held-out digits.

# %%
z_eval = torch.randn(1000, 64, generator=torch.Generator().manual_seed(7)).to(device)
# (1000, 12): 100 per digit, in digit order
asked = conditions_per_class(conditions, labels)


def evaluate(run: GANTrainer) -> dict:
    samples = generate(run.G, z_eval, asked)
    report = conditional_report(samples, asked, reference, reference_labels, attributes)
    return report | {"samples": samples}


compared = {}
for kind in ("concat", "projection"):
    # each run starts from seed 0, whatever ran before it
    runs[kind] = conditional_gan(kind, seed=0)
    runs[kind].train(COMPARE_STEPS, desc=kind)
    compared[kind] = evaluate(runs[kind])
print(
    f"after {COMPARE_STEPS:,} iterations   {'FD':>6s} {'confid.':>8s} "
    f"{'min recognised':>15s} {'slant rho':>10s}"
)
for kind, r in compared.items():
    print(
        f"{kind:25s} {r['FD']:6.1f} {r['confidence']:8.3f} {r['min recognised']:15.1%} "
        f"{r['slant rho']:10.2f}"
    )
# DRAFT bars from seed 0 only (FD 24 vs 48, worst digit 65% vs 37%, slant rho 0.67 vs
# 0.89)
projection, concat = compared["projection"], compared["concat"]
assert (
    projection["FD"] < concat["FD"]
    and projection["min recognised"] > concat["min recognised"]
)
assert concat["slant rho"] > projection["slant rho"]

# %% [markdown]
# Projection draws digits closer to the real ones and gets the digit right more often. Concatenation follows the
# requested slant more closely: a slant is a pixel-level pattern, which the convolutions can compare with the 12
# condition maps directly, while projection can only add a term linear in the slant rank to the logit.

# %% [markdown]
# ## How well does it listen?
#
# We carry on training the projection model to Chapter 4's full budget (2,500 iterations of 32 on a CPU) and
# measure again. The targets for this chapter: **every asked-for digit recognised in at least 95% of its
# samples, mean confidence at least 0.90, and a Fréchet distance below the unconditional lean DCGAN's on the same
# budget** (its best over five seeds, measured by `benchmarks/conditional_seeds.py`, `UNCONDITIONAL_FD` at the
# top).

# %%
model = runs["projection"]
model.train(STEPS - COMPARE_STEPS, desc="projection")
result = evaluate(model)
samples = result["samples"]
print(
    f"FD {result['FD']:.1f} (unconditional, best of 5 seeds: {UNCONDITIONAL_FD:.1f}), "
    f"confidence {result['confidence']:.3f}"
)
print(
    "recognised per digit:",
    ", ".join(f"{d}: {v:.0%}" for d, v in enumerate(result["recognised"])),
)

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3), layout="constrained")
left.bar(range(10), 100 * result["recognised"], color=BLUE)
left.axhline(95, color=VERMILLION, ls="--", label="target 95%")
left.set(
    xlabel="asked-for digit",
    ylabel="read as that digit (%)",
    xticks=range(10),
    ylim=(0, 100),
)
left.legend(frameon=False, loc="lower right")
right.bar(range(10), result["class FD"], color=ORANGE)
right.set(xlabel="digit", ylabel="FD to that digit's held-out set", xticks=range(10))
plt.show()

# %% [markdown]
# The left panel is the question this chapter asks; the right one says, per digit, how close the drawn digits
# are to the real ones of that class (100 against 100, so every value is biased upwards by the small sample and
# only comparable across digits). **We check the targets: confidence and Fréchet distance are met; recognition
# is not, the hardest digit is read as asked in fewer than 95% of its samples.**

# %%
targets = {
    "every digit recognised >= 95%": result["min recognised"] >= 0.95,
    "confidence >= 0.90": result["confidence"] >= 0.90,
    "FD below the unconditional DCGAN's": result["FD"] < UNCONDITIONAL_FD,
}
for name, met in targets.items():
    print(f"{name:36s} {'met' if met else 'NOT met'}")
# DRAFT: seed 0
assert targets == {
    "every digit recognised >= 95%": False,
    "confidence >= 0.90": True,
    "FD below the unconditional DCGAN's": True,
}

# %% [markdown]
# ## Style and content, separated
#
# If the condition carries the digit, what is left for $z$? Everything else: the style the two attributes do not
# describe. Below, each row asks for one digit and each column uses one noise vector, with thickness and slant
# fixed at the median (rank 0.5). **We check that the classifier reads every row as its digit in at least 95% of
# the grid**, whatever the column.

# %%
n_styles = 8
z_styles = torch.randn(n_styles, 64, generator=torch.Generator().manual_seed(11)).to(
    device
)
digits = torch.arange(10, device=device).repeat_interleave(n_styles)
grid_conditions = torch.cat(
    [
        nn.functional.one_hot(digits, 10).float(),
        torch.full((len(digits), 2), 0.5, device=device),
    ],
    dim=1,
)
grid = generate(model.G, z_styles.repeat(10, 1), grid_conditions)
show_grid(grid, nrow=n_styles, title="one row per asked-for digit, one column per z")
plt.show()
read_as = torch.as_tensor(classifier_outputs(grid)[1].argmax(1), device=device)
print(f"read as the row's digit: {(read_as == digits).float().mean():.1%}")
assert (read_as == digits).float().mean() >= 0.95

# %% [markdown]
# Walking in $z$ with the condition fixed changes the handwriting, never the digit. **We check that every frame of
# a 10-step spherical path (Chapter 4) is read as the digit asked for, for three digits.**

# %%
ends = torch.randn(2, 64, generator=torch.Generator().manual_seed(12)).to(device)
path = slerp(ends[0], ends[1], 10)  # (10, 64)
walks = []
for digit in (2, 5, 8):
    fixed = grid_conditions[digit * n_styles].expand(len(path), 12)
    walks.append(generate(model.G, path, fixed))
walks = torch.cat(walks)
walk_digits = torch.tensor([2, 5, 8], device=device).repeat_interleave(len(path))
show_grid(
    walks,
    nrow=len(path),
    title="z walks from left to right; the condition stays 2, 5, 8",
)
plt.show()
walk_read = torch.as_tensor(classifier_outputs(walks)[1].argmax(1), device=device)
assert torch.equal(walk_read, walk_digits)

# %% [markdown]
# ## Does the style follow the request?
#
# On the 1,000 digits measured above, each was asked for with a thickness and slant rank. We measure the
# attributes of what came out and compare them with what was asked, by Spearman's rank correlation $\rho$ (1:
# the order of the requests is the order of the results). The target was $\rho \ge 0.8$ for each attribute.
# **We check that thickness reaches it and that slant does not**: with the {term}`projection discriminator <projection discriminator (投影判别器)>` the slant
# follows the request only loosely (the comparison above showed concatenation doing better on it).

# %%
measured = measure(samples).cpu()
rho = {
    name: spearmanr(asked[:, 10 + column].cpu(), measured[:, column]).statistic
    for column, name in enumerate(("thickness", "slant"))
}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
for ax, (column, name) in zip(axes, enumerate(rho), strict=True):
    ax.scatter(
        asked[:, 10 + column].cpu(), measured[:, column], s=4, color=BLUE, alpha=0.5
    )
    ax.set(
        xlabel=f"requested {name} rank",
        ylabel=f"measured {name}",
        title=f"Spearman rho = {rho[name]:.2f}",
    )
plt.show()
assert rho["thickness"] >= 0.8  # DRAFT: seed 0 gave 0.83
assert rho["slant"] < 0.8  # the slant target is missed (seed 0: 0.65)

# %% [markdown]
# One digit, thickness across and slant down: the grid below asks for a 4 at thickness ranks 0.05 to 0.95 (left
# to right) and slant ranks 0.05 to 0.95 (top to bottom), all from one $z$.

# %%
levels = torch.linspace(0.05, 0.95, 5)
# thickness varies along a row, slant down a column
tt, ss = torch.meshgrid(levels, levels, indexing="xy")
four = torch.cat(
    [
        nn.functional.one_hot(torch.full((25,), 4), 10).float(),
        torch.stack([tt.flatten(), ss.flatten()], dim=1),
    ],
    dim=1,
).to(device)
sweep = generate(model.G, z_styles[:1].expand(25, 64), four)
fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(image_grid(sweep, nrow=5), cmap="gray")
ax.set(
    xticks=[],
    yticks=[],
    xlabel="thickness rank 0.05 → 0.95",
    ylabel="slant rank 0.95 ← 0.05",
)
plt.show()

# %% [markdown]
# ## Text to image, in miniature
#
# Now the {term}`prompt <prompt (提示词)>`. `gancourse.prompt` knows a few dozen words in English and Chinese: digits as words, numerals
# and Chinese numerals; "thin"/"细的" and "bold"/"粗的" (thickness ranks 0.1 and 0.9); "upright"/"正的" (zero
# shear, converted to a rank with the data's slants) and "slanted"/"倾斜的" (slant rank 0.9). Chinese is written
# without spaces, so the parser cuts it by longest match: "一个" ("a") before "一" (one). **We check that the
# English and Chinese prompts give identical conditions, that an unknown word is refused with the vocabulary in
# the message, and, on 100 samples per prompt, that bold sevens come out thicker than thin twos and slanted ones
# more slanted than upright ones, each still read as the digit asked for at least 95% of the time.**

# %%
prompts = [
    "a bold, slanted seven",
    "一个粗的、倾斜的七",
    "thin upright 2",
    "细的、正的二",
]
asked_by_prompt = {
    text: condition(parse_prompt(text), attributes).to(device) for text in prompts
}
assert torch.equal(asked_by_prompt[prompts[0]], asked_by_prompt[prompts[1]])
assert torch.equal(asked_by_prompt[prompts[2]], asked_by_prompt[prompts[3]])
try:
    parse_prompt("a fat seven")
except PromptError as error:
    print(str(error).splitlines()[0])
    assert "fat" in str(error) and "粗的" in str(error)

z_prompt = torch.randn(100, 64, generator=torch.Generator().manual_seed(13)).to(device)
drawn = {
    text: generate(model.G, z_prompt, y.expand(100, 12))
    for text, y in asked_by_prompt.items()
}
fig, axes = plt.subplots(2, 2, figsize=(10, 2.6), layout="constrained")
for ax, (text, batch) in zip(axes.flat, drawn.items(), strict=True):
    show_grid(batch[:10], nrow=10, ax=ax, title=text)
plt.show()

stats = {}
for text, batch in drawn.items():
    t, s = measure(batch).mean(0).tolist()
    digit = parse_prompt(text).digit
    share = float((classifier_outputs(batch)[1].argmax(1) == digit).mean())
    stats[text] = (t, s, share)
    print(f"{text:24s} thickness {t:.2f}, slant {s:+.2f}, read as {digit}: {share:.0%}")
bold, thin = stats["a bold, slanted seven"], stats["thin upright 2"]
assert bold[0] > thin[0] and bold[1] > thin[1]
assert all(share >= 0.95 for _, _, share in stats.values())

# %% [markdown]
# ## How real systems scale this
#
# Our lookup table from words to a 12-number condition is the smallest possible text encoder. Reed et al.
# {cite}`reed2016generative` replaced it with a learned encoder of whole sentences ("this bird is red with a short
# beak") and fed its embedding to both players, as we fed $y$. They added a second idea, the *matching-aware*
# discriminator: besides real pairs and generated pairs, D also sees real images with the *wrong* text and must
# call them fake, so it has to check the match, not only realism. This course does not implement it: on digits,
# where the condition is a label the classifier can check, the measures above already tell us whether the match
# is learned.
#
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: cond-ex-1
# Ask the trained generator for a condition halfway between two digits: 0.5 on the 1 and 0.5 on the 7.
# Predict what the classifier reads, then check on 200 samples.
# ```
#
# ```{solution-start} cond-ex-1
# :class: dropdown
# ```
#
# The generator never saw such a condition; its first layer mixes the two class embeddings, so the samples are
# blends that mostly fall on one side or the other: read as 1 or 7, rarely as anything else.

# %%
halfway = torch.zeros(200, 12, device=device)
halfway[:, [1, 7]] = 0.5
halfway[:, 10:] = 0.5
z_blend = torch.randn(200, 64, generator=torch.Generator().manual_seed(14)).to(device)
blend = generate(model.G, z_blend, halfway)
read = np.bincount(classifier_outputs(blend)[1].argmax(1), minlength=10) / 200
print("read as:", {d: f"{p:.0%}" for d, p in enumerate(read) if p > 0})
assert read[1] + read[7] >= 0.8

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
# The condition enters a linear layer, so the generator extrapolates along the direction it learned: the strokes
# get thicker still. The digit is still read as a 4 most of the time.

# %%
z_four = torch.randn(200, 64, generator=torch.Generator().manual_seed(15)).to(device)
thick = {}
for rank in (0.5, 1.0, 1.5):
    y = torch.zeros(12)
    y[4], y[10], y[11] = 1.0, rank, 0.5
    batch = generate(model.G, z_four, y.to(device).expand(200, 12))
    read_as_four = float((classifier_outputs(batch)[1].argmax(1) == 4).mean())
    thick[rank] = (thickness(batch).mean().item(), read_as_four)
print(
    {rank: f"thickness {t:.2f}, read as 4: {p:.0%}" for rank, (t, p) in thick.items()}
)
assert thick[0.5][0] < thick[1.0][0] < thick[1.5][0]
assert thick[1.5][1] >= 0.5

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: cond-ex-3
# An auxiliary classifier (AC-GAN, {cite}`odena2017conditional`) gives the discriminator a second head
# that predicts the digit. Write that head on the projection discriminator's features $\phi(x)$ and train only
# it for 300 steps on real training digits, with the trained $\phi$ frozen. Predict its accuracy on the
# held-out digits: has D's feature map learned what a digit is?
# ```
#
# ```{solution-start} cond-ex-3
# :class: dropdown
# ```
#
# The projection term already needs phi(x) to separate the classes linearly, so a linear head on the frozen
# features classifies the held-out digits well.

# %%
head = nn.Linear(model.D.embed.out_features, 10).to(device)
opt = torch.optim.Adam(head.parameters(), lr=1e-3)
model.D.eval()
with torch.no_grad():
    train_features, test_features = model.D.phi(images), model.D.phi(reference)
seed_everything(1)
for _ in range(300):
    index = torch.randint(len(images), (64,), device=device)
    loss = nn.functional.cross_entropy(head(train_features[index]), labels[index])
    opt.zero_grad()
    loss.backward()
    opt.step()
accuracy = (head(test_features).argmax(1) == reference_labels).float().mean().item()
print(f"held-out accuracy of a linear head on D's features: {accuracy:.1%}")
assert accuracy >= 0.85

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: cond-ex-4
# Teach the parser one more word: "fat" and "胖的" for bold. Then check that "a fat 3" and "一个胖的三" give
# the condition of "a bold 3".
# ```
#
# ```{solution-start} cond-ex-4
# :class: dropdown
# ```
#
# Add the words to the thickness table and the vocabulary (the parser reads both); restore them after.

# %%
from gancourse import prompt as prompt_module  # noqa: E402

added = {"fat": "bold", "胖的": "bold"}
prompt_module.THICKNESS.update(added)
prompt_module.VOCABULARY.update(dict.fromkeys(added, "thickness"))
try:
    bold_three = condition(parse_prompt("a bold 3"), attributes)
    assert torch.equal(condition(parse_prompt("a fat 3"), attributes), bold_three)
    assert torch.equal(condition(parse_prompt("一个胖的三"), attributes), bold_three)
finally:
    for word in added:
        del prompt_module.THICKNESS[word], prompt_module.VOCABULARY[word]

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - A condition given to both players turns "draw a digit" into "draw this digit": the discriminator's optimum
#   compares $p_\text{data}(x \mid y)$ with $p_g(x \mid y)$, so drawing the wrong digit is penalised.
# - The projection discriminator puts the condition where the optimal logit needs it, an inner product with the
#   image's features.
# - Attributes measured from pixels are free labels: thickness and slant made a 12-number condition, and a
#   dictionary from words to that condition is a (very) small text encoder.
# - Control is measured, not assumed: the classifier reads the digit, the attribute measures read the style.
