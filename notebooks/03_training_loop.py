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
# # 3. The training loop
#
# **Question: how do you turn the game into working code, and how do you tell from the numbers it prints whether
# a {term}`GAN <generative adversarial network, GAN (生成对抗网络)>` is training or failing?** This chapter writes
# Algorithm 1 of {cite}`goodfellow2014generative` out in full, checks that the package's reusable loop computes
# exactly the same thing, trains a first image GAN on MNIST (70,000 handwritten digits, 28×28 greyscale, in 10
# classes), and then looks at the two failures learners meet most: a
# {term}`discriminator <discriminator (判别器)>` that wins, and {term}`mode collapse <mode collapse (模式坍塌)>`.
#
# ```{admonition} In this chapter
# :class: tip
# You will write Algorithm 1 as a PyTorch loop and check the package's loop against it; read loss and $D(x)$,
# $D(G(z))$ curves; and count mode collapse on a ring of Gaussians (clusters of points placed around a circle) and
# fix it with packing (letting the discriminator judge several samples at once); both are explained below.
#
# Running time: the {doc}`../book/performance` page lists what each chapter takes on a 2-core CPU; on a
# GPU it has not been measured yet.
# ```

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML
from matplotlib.animation import FuncAnimation
from torch.optim.lr_scheduler import LambdaLR

from gancourse.data import load_mnist, ring_of_gaussians
from gancourse.losses import discriminator_loss, generator_loss_nonsaturating
from gancourse.metrics import mode_coverage
from gancourse.models import (
    MLPDiscriminator,
    MLPGenerator,
    PackedDiscriminator,
    generate,
)
from gancourse.runtime import seed_everything, setup
from gancourse.train import GANTrainer, TrainConfig, linear_decay
from gancourse.viz import BLUE, ORANGE, VERMILLION, plot_curves, show_grid

device = setup(seed=0, device="cpu")  # on every machine: where the checks were measured
MNIST_STEPS = 3000

# %% [markdown]
# One iteration of the loop this chapter writes out: $k$ steps of the discriminator, then one of the
# {term}`generator <generator (生成器)>`, each on fresh samples.

# %% tags=["remove-input"]
from gancourse.diagrams import algorithm_1

algorithm_1(k=1)
plt.show()

# %% [markdown]
# ## Algorithm 1, written out
#
# The first image GAN is a pair of multilayer perceptrons on MNIST. The layout is a simple modern one, not the
# original paper's (whose discriminator used maxout units and dropout {cite}`goodfellow2014generative`):
# $z \in \mathbb R^{100}$, $z \sim \mathcal N(0, I)$; $G$: two hidden layers of 256 units with
# LeakyReLU(0.2), then 784 outputs through $\tanh$ so pixels lie in $[-1, 1]$ like the data; $D$: the mirror
# image, ending in one {term}`logit <logit (对数几率)>`. Both use Adam with learning rate $2\cdot10^{-4}$ and
# $\beta_1 = 0.5$ {cite}`radford2015unsupervised`; $\beta_1$ is Adam's decay rate for its running mean of
# gradients, its momentum (0.9 by default). With no internet access and no saved copy of MNIST (*offline*),
# `load_mnist` falls back to a sample of 5,000 real MNIST digits bundled with the package, 4,000 of them for
# training (see {doc}`../book/setup`).
#
# Here is one run of Algorithm 1, every line visible. Three details decide whether it is correct:
#
# - **`detach()` on the fake batch in $D$'s step.** Without it, `loss_d.backward()` also runs backward through
#   $G$ and fills $G$'s `.grad` with the gradient of $D$'s loss. In this loop that costs time, not correctness:
#   a whole backward pass through $G$ on every $D$ step, whose result `opt_g.zero_grad` throws away before $G$'s
#   own backward. In a loop that clears gradients *after* stepping, or accumulates them over several batches,
#   those gradients would reach $G$'s update with the wrong sign for $G$.
# - **`zero_grad` right before each `backward`.** PyTorch adds gradients up. $G$'s backward pass goes *through*
#   $D$ and leaves gradients in $D$'s parameters; they must be cleared before $D$'s next step, and they are,
#   because $D$'s `zero_grad` comes first in its step.
# - **`train()` mode while training, `eval()` when sampling** (it matters once the networks have
#   {term}`batch norm <batch normalization (批归一化)>` or dropout, as in Chapter 4).

# %%
# the training digits: MNIST's 60,000, or 4,000 offline (announced in one line)
digits = load_mnist()
# (N, 1, 28, 28) in [-1, 1], on the device once, not every step
real_images = digits.images.to(device)
LATENT, BATCH = 100, 64


def mnist_gan(seed: int, lr_g: float = 2e-4, lr_d: float = 2e-4):
    """A fresh MLP generator and discriminator for MNIST with their Adam optimisers."""
    seed_everything(seed)
    G = MLPGenerator(LATENT, (1, 28, 28), hidden=(256, 256), tanh=True).to(device)
    D = MLPDiscriminator((1, 28, 28), hidden=(256, 256)).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.999))
    return G, D, opt_g, opt_d


def algorithm1_by_hand(G, D, opt_g, opt_d, steps: int, k: int = 1) -> None:
    G.train()
    D.train()
    for _ in range(steps):
        for _ in range(k):  # k discriminator steps
            real = real_images[torch.randint(len(real_images), (BATCH,), device=device)]
            # no gradient into G
            fake = G(torch.randn(BATCH, LATENT, device=device)).detach()
            # -[log D(x) + log(1 - D(G(z)))]
            loss_d = discriminator_loss(D(real), D(fake))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        # one generator step, non-saturating loss -log D(G(z)) (Chapter 2)
        loss_g = generator_loss_nonsaturating(
            D(G(torch.randn(BATCH, LATENT, device=device)))
        )
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()


# %% [markdown]
# From here on the course uses `gancourse.train.GANTrainer`, which runs the same loop and adds what a real run
# needs: a history of losses and of $D(x)$, $D(G(z))$; samples of a fixed noise batch at chosen steps; a
# progress bar; checkpoints that resume exactly; and a guard that stops with a clear message when a loss becomes
# NaN. It copies its numbers from the device once every `log_every` steps instead of calling `.item()` every step.
# **We check that, from the same seed, 50 steps of the loop above and 50 steps of `GANTrainer` leave every
# parameter bit-for-bit identical** (on the CPU; GPU kernels need not be deterministic).

# %%
by_hand = mnist_gan(seed=1)
torch.manual_seed(2)
algorithm1_by_hand(*by_hand, steps=50)

packaged = mnist_gan(seed=1)
trainer = GANTrainer(
    *packaged,
    real=real_images,
    latent_dim=LATENT,
    config=TrainConfig(batch_size=BATCH),
    device=device,
)
torch.manual_seed(2)
trainer.train(50, desc="GANTrainer")

same = all(
    torch.equal(a, b)
    for a, b in zip(
        [*by_hand[0].parameters(), *by_hand[1].parameters()],
        [*packaged[0].parameters(), *packaged[1].parameters()],
        strict=True,
    )
)
print("identical parameters:", same)
if device.type == "cpu":
    assert same

# %% [markdown]
# ## An MLP GAN on MNIST
#
# Now a real run, with snapshots of the same 64 noise vectors at steps 1, 250, 1,000 and the last; each grid shows
# the first 36. **Look at** the grids: blobs first, then strokes, then digit shapes; the same noise vector becomes
# the same digit more and more clearly.

# %%
SNAPSHOTS = (1, 250, 1000, MNIST_STEPS)
healthy = GANTrainer(
    *mnist_gan(seed=0),
    real=real_images,
    latent_dim=LATENT,
    config=TrainConfig(batch_size=BATCH, snapshot_at=SNAPSHOTS, log_every=50),
    device=device,
)
healthy.train(MNIST_STEPS, desc="MLP GAN, healthy")

fig, axes = plt.subplots(1, len(SNAPSHOTS), figsize=(14, 3.8), layout="constrained")
for ax, step in zip(axes, SNAPSHOTS, strict=True):
    show_grid(healthy.history.snapshots[step][:36], nrow=6, title=f"step {step}", ax=ax)
plt.show()

# %% [markdown]
# ## How to read the curves
#
# The discriminator's loss is $-[\log D(x) + \log(1 - D(G(z)))]$ averaged over a batch. Two reference values:
#
# - At the equilibrium of Chapter 1, $D = \frac12$ wherever the data are, and the loss is $2 \log 2 \approx 1.386$. A loss
#   near this value, with $D(x) \approx D(G(z)) \approx \frac12$, means **$D$ cannot tell** — which is not the same
#   as "the samples are good": a discriminator that has stopped learning looks the same. Judge quality with
#   the samples and with metrics (Chapter 5).
# - A loss **near 0** means $D(x) \to 1$ and $D(G(z)) \to 0$: $D$ separates real from fake perfectly. Then $G$'s
#   signal is useless: with the saturating loss its gradient vanishes (Chapter 2); with the non-saturating one it
#   only says "be different from what you are", and the {term}`generator <generator (生成器)>`'s loss climbs.
#
# Healthy training sits between these: the losses **oscillate around a level** rather than trending to 0, and
# $D(x)$ stays above $D(G(z))$ without either saturating. We put the healthy run beside a failing one: the same
# networks, but $G$'s learning rate ten times too small, so $D$ outpaces it from the start.
# **We check, over the last 200 steps: the healthy run's discriminator loss is between 0.3 and 1.4 and its
# $D(G(z))$ between 0.1 and 0.5; the failing run's discriminator loss is less than 0.6 times the healthy
# run's, and its mean $D(G(z))$ less than half the healthy run's.**

# %%
failing = GANTrainer(
    *mnist_gan(seed=0, lr_g=2e-5),
    real=real_images,
    latent_dim=LATENT,
    config=TrainConfig(batch_size=BATCH, snapshot_at=(MNIST_STEPS,), log_every=50),
    device=device,
)
failing.train(MNIST_STEPS, desc="MLP GAN, G too slow")


def smooth(values: list[float], width: int = 50) -> np.ndarray:
    return np.convolve(values, np.ones(width) / width, mode="valid")


fig, axes = plt.subplots(2, 2, figsize=(12, 6), sharex=True, layout="constrained")
for column, (name, run) in enumerate(
    {"healthy": healthy, "failing: G's lr 10x too small": failing}.items()
):
    h = run.history
    plot_curves(
        axes[0, column],
        {"D loss": smooth(h.d_loss), "G loss": smooth(h.g_loss)},
        xlabel="",
        ylabel="loss",
    )
    axes[0, column].axhline(2 * np.log(2), color="0.6", ls=":", lw=1)
    axes[0, column].set_title(name)
    plot_curves(
        axes[1, column],
        {"D(x)": smooth(h.d_real), "D(G(z))": smooth(h.d_fake)},
        ylabel="mean output",
    )
    axes[1, column].set_ylim(-0.02, 1.02)
plt.show()


def tail_mean(values: list[float], n: int = 200) -> float:
    return float(np.mean(values[-n:]))


for name, run in {"healthy": healthy, "failing": failing}.items():
    h = run.history
    print(
        f"{name:8s} last 200 steps: D loss {tail_mean(h.d_loss):.4f}, "
        f"G loss {tail_mean(h.g_loss):.2f}, "
        f"D(x) {tail_mean(h.d_real):.4f}, D(G(z)) {tail_mean(h.d_fake):.4f}"
    )

# %% tags=["hide-input"]
assert tail_mean(failing.history.d_loss) < 0.6 * tail_mean(healthy.history.d_loss)
assert tail_mean(failing.history.d_fake) < 0.5 * tail_mean(healthy.history.d_fake)
assert 0.3 <= tail_mean(healthy.history.d_loss) <= 1.4
assert 0.1 <= tail_mean(healthy.history.d_fake) <= 0.5

# %% [markdown]
# (Each curve is a moving average over 50 steps; the dotted line is $2\log 2$.) **Look at** the failing run's
# samples at the end: the discriminator "won", and the generator has learned almost nothing.

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 4), layout="constrained")
show_grid(
    healthy.history.snapshots[MNIST_STEPS][:36], nrow=6, title="healthy", ax=axes[0]
)
show_grid(
    failing.history.snapshots[MNIST_STEPS][:36], nrow=6, title="failing", ax=axes[1]
)
plt.show()

# %% [markdown]
# ## Mode collapse, caught and counted
#
# **Mode collapse** is a generator that covers only part of the data: a few digit classes, or a few of many
# clusters. It is hard to see in a grid and easy to measure on a toy problem with known modes: eight Gaussians
# on a ring of radius 2, standard deviation $\sigma = 0.05$. Following VEEGAN and {term}`PacGAN <PacGAN (打包判别)>`
# {cite}`srivastava2017veegan,lin2018pacgan`, from 2,500 generated points we count:
#
# - **high-quality samples**: points within $3\sigma$ of their nearest mode centre, as a percentage;
# - **modes covered**: modes that receive at least 20 high-quality samples (their fair share would be about 312).
#
# **The setting that collapses.** Goodfellow's tutorial {cite}`goodfellow2016tutorial` describes how collapse
# arises when $G$ is trained too much relative to $D$: $G$ moves all its mass to wherever $D$ currently scores
# highest, $D$ then learns to reject that spot, and $G$ jumps on. We make $G$'s learning rate ten times $D$'s
# ($5\cdot10^{-3}$ against $5\cdot10^{-4}$), 4,000 steps with batch 256, both learning rates decaying linearly to
# 3% over the second half.
#
# **A remedy: PacGAN** {cite}`lin2018pacgan`. The discriminator judges $m$ samples at once, concatenated, all
# real or all fake. A generator that puts everything on two modes produces packs that look nothing like packs of
# real data, so $D$ can punish missing variety, which a discriminator seeing one sample at a time cannot. We use
# $m = 2$ and change nothing else: same seed, same learning rates, same steps.
#
# **We check: the collapsing setting covers at most 4 of the 8 modes; PacGAN covers at least 7 with at least 70%
# high-quality samples.**

# %%
ring = ring_of_gaussians(radius=2.0, std=0.05)
RING_STEPS, RING_LATENT = 4000, 8
RING_FRAMES = tuple(range(250, RING_STEPS + 1, 250))
eval_noise = torch.randn(
    2500, RING_LATENT, generator=torch.Generator().manual_seed(1)
).to(device)


def ring_run(pack: int, seed: int = 0) -> tuple[GANTrainer, object]:
    seed_everything(seed)
    G = MLPGenerator(RING_LATENT, (2,), hidden=(128, 128)).to(device)
    D = (
        MLPDiscriminator((2,), hidden=(128, 128))
        if pack == 1
        else PackedDiscriminator((2,), pack, (128, 128))
    )
    # G ten times faster than D
    opt_g = torch.optim.Adam(G.parameters(), lr=5e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.to(device).parameters(), lr=5e-4, betas=(0.5, 0.999))
    config = TrainConfig(
        batch_size=256,
        log_every=100,
        snapshot_at=RING_FRAMES,
        n_fixed=1000,
        value_range=None,
    )
    decay = linear_decay(RING_STEPS, start=0.5, floor=0.03)
    run = GANTrainer(
        G,
        D,
        opt_g,
        opt_d,
        real=ring.sample,
        latent_dim=RING_LATENT,
        config=config,
        device=device,
        schedulers=[LambdaLR(opt, decay) for opt in (opt_g, opt_d)],
    )
    run.train(
        RING_STEPS, desc=f"ring, {'no packing' if pack == 1 else f'PacGAN{pack}'}"
    )
    coverage = mode_coverage(generate(G, eval_noise), ring)
    return run, coverage


collapsing, collapsing_coverage = ring_run(pack=1)
packed, packed_coverage = ring_run(pack=2)
print("G ten times faster than D:", collapsing_coverage)
print("same, PacGAN2:            ", packed_coverage)

# %% tags=["hide-input"]
assert collapsing_coverage.modes_covered <= 4
assert packed_coverage.modes_covered >= 7 and packed_coverage.high_quality >= 0.70

# %% [markdown]
# **Watch** the two runs side by side, 1,000 fixed-noise samples every 250 steps (red crosses: the mode centres).
# Without packing the cloud of samples wanders around the ring, settling on a few modes at a time; with packing
# it spreads over all eight and then tightens onto them as the learning rate decays.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), layout="constrained")
runs = {"G ten times faster than D": collapsing, "same, with PacGAN2": packed}
scatters = []
for ax, title in zip(axes, runs, strict=True):
    ax.scatter(*ring.centres.T, marker="x", color=VERMILLION, s=60, zorder=3)
    scatters.append(ax.scatter([], [], s=3, alpha=0.4, color=BLUE))
    ax.set(xlim=(-2.6, 2.6), ylim=(-2.6, 2.6), aspect="equal", title=title)
label = fig.suptitle("")


def draw(frame: int):
    step = RING_FRAMES[frame]
    for scatter, run in zip(scatters, runs.values(), strict=True):
        scatter.set_offsets(run.history.snapshots[step].numpy())
    label.set_text(f"step {step}")
    return [*scatters, label]


animation = FuncAnimation(fig, draw, frames=len(RING_FRAMES), interval=400, blit=False)
plt.close(fig)
HTML(animation.to_jshtml())

# %% [markdown]
# The final counts per mode (of 2,500 samples; a fair share is about 312):

# %%
fig, ax = plt.subplots(figsize=(7, 2.8), layout="constrained")
modes = np.arange(8)
ax.bar(
    modes - 0.2,
    collapsing_coverage.counts,
    width=0.4,
    color=ORANGE,
    label="G ten times faster",
)
ax.bar(
    modes + 0.2, packed_coverage.counts, width=0.4, color=BLUE, label="same, PacGAN2"
)
ax.axhline(20, color="0.4", ls=":", lw=1)
ax.set(xlabel="mode", ylabel="high-quality samples", xticks=modes)
ax.legend(frameon=False)
plt.show()

# %% [markdown]
# Collapse and its remedy depend on the seed. Run `ring_run(pack=1, seed=1)` and `ring_run(pack=2, seed=1)`
# (about 30 s together) to see how much the numbers move.
# Other remedies from the literature: minibatch discrimination
# {cite}`salimans2016improved` and the minibatch standard deviation feature {cite}`karras2018progressive`
# (the discriminator sees batch statistics), unrolled GANs {cite}`metz2016unrolled` ($G$ anticipates $D$'s
# response), and the Wasserstein loss with {term}`gradient penalty <gradient penalty (梯度惩罚)>` {cite}`gulrajani2017improved` (Chapter 7).
#
# ## Stabilising tricks
#
# | trick | what it does | when it helps | evidence |
# |---|---|---|---|
# | non-saturating $G$ loss | gradient $1 - D(G(z))$ instead of $D(G(z))$ | always; the default here | Chapter 2 (SGD stalls without it) {cite}`goodfellow2014generative` |
# | Adam with $\beta_1 = 0.5$ | less momentum, so the players react to each other faster | the default for DCGAN-style models | {cite}`radford2015unsupervised` |
# | balanced learning rates / {term}`TTUR <two time-scale update rule, TTUR (双时间尺度更新规则)>` | separate rates for $D$ and $G$; a faster $D$ is provably convergent under assumptions | when one player outruns the other | {cite}`heusel2017gans`; this chapter: $G$ 10× too fast collapses, 10× too slow fails |
# | $k$ discriminator steps | keeps $D$ near its optimum, where $G$'s gradient is that of a divergence (Chapter 2: the {term}`JSD <Jensen–Shannon divergence, JSD (JS 散度)>` for the minimax loss, $\mathrm{KL}(p_g\|p_{data}) - 2\,\mathrm{JSD}$ for the non-saturating one) | toy problems, the {term}`critics <critic (评论家)>` of WGANs (Chapter 7; $k = 5$) | Chapter 1 ($k = 5$ converges); {cite}`gulrajani2017improved` |
# | one-sided label smoothing | real targets 0.9 instead of 1; stops $D$ from becoming over-confident | image GANs with a strong $D$ | {cite}`salimans2016improved`; `TrainConfig(objective=NonSaturating(real_label=0.9))`; exercise 2 |
# | packing (PacGAN) | $D$ judges several samples together | mode collapse | this chapter {cite}`lin2018pacgan` |
# | {term}`gradient-norm clipping <gradient clipping (梯度裁剪)>` | caps the size of a step | rarely for GANs; it hides the symptom of a bad learning rate | no GAN result we know of supports it as a default; not used here |
#
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: loop-ex-1
# Using the healthy run's history, what is the mean discriminator loss over the last 200 steps, and is
# it above or below the equilibrium value $2\log 2$? What does that say about who is winning?
# ```
#
# ```{solution-start} loop-ex-1
# :class: dropdown
# ```
#
# Below $2\log 2 \approx 1.386$: $D$ still separates real from fake better than chance, as the $D(x)$ and
# $D(G(z))$ curves show ($D(x) > D(G(z))$). The generator has not caught up; that is normal for a short run.

# %%
equilibrium = 2 * np.log(2)
print(
    f"mean D loss {tail_mean(healthy.history.d_loss):.3f} vs 2 log 2 = "
    f"{equilibrium:.3f}"
)

# %% tags=["hide-input"]
assert tail_mean(healthy.history.d_loss) < equilibrium
assert tail_mean(healthy.history.d_real) > tail_mean(healthy.history.d_fake)

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: loop-ex-2
# With one-sided label smoothing the real target is $\alpha = 0.9$. Maximise
# $p\,[\alpha \log D + (1-\alpha)\log(1-D)] + q \log(1 - D)$ pointwise as in Chapter 2. Show that
# $D^*_\alpha = \alpha\,p/(p+q)$, and check it numerically for $p = 0.3$, $q = 0.1$.
# ```
#
# ```{solution-start} loop-ex-2
# :class: dropdown
# ```
#
# The derivative is $\frac{\alpha p}{D} - \frac{(1 - \alpha) p + q}{1 - D} = 0$, so $D = \frac{\alpha p}{p + q}$.
# Smoothing caps $D^*$ at $\alpha$ where $p_g = 0$: $D$ is never asked to be certain. (Smoothing the fake labels
# too, to $\beta > 0$, would give $D^* = \frac{\alpha p + \beta q}{p + q}$: where the data have no mass it stays
# at $\beta$ instead of falling to 0, so fakes there are not pushed back towards the data. That is why it is
# one-sided.)

# %%
alpha, p, q = 0.9, 0.3, 0.1
y = np.linspace(1e-6, 1 - 1e-6, 1_000_001)
objective = p * (alpha * np.log(y) + (1 - alpha) * np.log(1 - y)) + q * np.log(1 - y)
best = y[np.argmax(objective)]
print(f"numerical argmax {best:.5f}, alpha p / (p + q) = {alpha * p / (p + q):.5f}")

# %% tags=["hide-input"]
assert abs(best - alpha * p / (p + q)) < 1e-5

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: loop-ex-3
# A checkpoint holds both networks, both optimisers, the iteration count, the history and the random number
# generator's state. Save the healthy trainer, load it into a fresh one, and train both for 20 more iterations. Then
# change one thing: before the resumed run trains, draw one random number (`torch.rand(1)`). Predict whether the
# two runs still agree, parameter for parameter, and why.
# ```
#
# ```{solution-start} loop-ex-3
# :class: dropdown
# ```
#
# Without the extra draw they agree exactly: the resumed run starts from the same weights, optimiser moments and
# random state. One extra draw shifts every batch index and noise vector that follows, so the runs part ways at
# once. Exact resumption needs the random state as much as the weights.

# %%
import tempfile
from pathlib import Path


def resumed_copy(path: Path, extra_draw: bool) -> GANTrainer:
    """A fresh trainer loaded from ``path``, trained 20 iterations (after one stray draw
    if asked).
    """
    run = GANTrainer(
        *mnist_gan(seed=123),
        real=real_images,
        latent_dim=LATENT,
        config=TrainConfig(batch_size=BATCH, progress=False),
        device=device,
    )
    run.load(path)  # networks, optimisers, iteration count, history, random state
    if extra_draw:
        torch.rand(1)
    run.train(20)
    return run


def same_weights(a: GANTrainer, b: GANTrainer) -> bool:
    return all(
        torch.equal(p, q)
        for p, q in zip(a.G.parameters(), b.G.parameters(), strict=True)
    )


with tempfile.TemporaryDirectory() as folder:
    path = healthy.save(Path(folder) / "mlp_gan.pt")
    healthy.train(20)  # continues from the random state at the moment of saving
    exact, shifted = (
        resumed_copy(path, extra_draw=False),
        resumed_copy(path, extra_draw=True),
    )
print(
    f"resumed run agrees: {same_weights(healthy, exact)}; "
    f"after one extra draw: {same_weights(healthy, shifted)}"
)
if device.type == "cpu":
    assert same_weights(healthy, exact)

# %% tags=["hide-input"]
assert not same_weights(healthy, shifted)

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - Algorithm 1 in code: `detach()` the fakes for $D$'s step, `zero_grad` before every `backward`, `train()`
#   while training and `eval()` when sampling. `gancourse.train.GANTrainer` does the same, checked bit for bit.
# - Read the discriminator loss against $2\log 2$: near 0 is failure, near $2\log 2$ is "$D$ cannot tell",
#   healthy runs oscillate in between.
# - Mode collapse can be counted: in this run, with $G$ ten times faster than $D$, at most 4 of 8 modes were
#   covered; packing two samples for the discriminator recovered at least 7 with at least 70% high-quality
#   samples.
