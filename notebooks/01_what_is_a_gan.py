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
# # 1. What is a GAN?
#
# **Question: how can a network learn to produce new samples that look like a data set, when nobody tells it
# what a correct output is?** A {term}`generative adversarial network <generative adversarial network, GAN (生成对抗网络)>` (GAN) {cite}`goodfellow2014generative` answers with
# a game between two networks. This chapter states the game, trains one on a 1-D example in a few seconds, and
# regenerates the four panels of the paper's Figure 1 from that run, checking what each panel claims.
#
# ```{admonition} In this chapter
# :class: tip
# You will state the GAN game and Algorithm 1; train a 1-D GAN and regenerate Goodfellow et al.'s Figure 1 from it; and check a trained {term}`discriminator <discriminator (判别器)>` against the optimal one.
#
# Running time: the {doc}`../book/performance` page lists what each chapter takes on a 2-core CPU; on a
# GPU it has not been measured yet.
# ```
#
# ## The two players
#
# - The **{term}`generator <generator (生成器)>`** $G$ turns random noise $z$ into a sample $G(z)$. It never sees the data directly; it only
#   learns through the second player.
# - The **{term}`discriminator <discriminator (判别器)>`** $D$ looks at a sample $x$ and outputs $D(x) \in (0, 1)$, its probability that $x$ came
#   from the data rather than from $G$. Our discriminators return the *{term}`logit <logit (对数几率)>`* $\ell$ and $D(x) = \sigma(\ell)$.
#
# $D$ is trained to tell real from fake; $G$ is trained to make $D$ wrong. In the idealised game, where neither
# player is limited by its size, the only point where neither can improve has $G$'s samples distributed like the
# data, and $D$ doing no better than a coin flip, $D(x) = \tfrac12$, wherever the data have mass.

# %% tags=["remove-input"]
from gancourse.diagrams import the_game

figure = the_game()  # drawn at the end of the cell

# %% [markdown]
# ## The game in symbols
#
# Write $p_{data}$ for the data distribution, $p_z$ for the noise distribution and $p_g$ for the distribution of
# $G(z)$ when $z \sim p_z$. The two players share one {term}`value function <value function (价值函数)>`,
#
# $$
# V(D, G) = \mathbb{E}_{x \sim p_{data}}\left[\log D(x)\right] + \mathbb{E}_{z \sim p_z}\left[\log\left(1 - D(G(z))\right)\right],
# $$ (eq-value-function)
#
# and play the {term}`minimax game <minimax game (极小极大博弈)>` $\min_G \max_D V(D, G)$. $D$ raises $V$ by scoring real samples near 1 and fakes near
# 0: {eq}`eq-value-function` is the log-likelihood of a real-vs-fake classifier. $G$ only appears in the second term
# and lowers it by making $D(G(z))$ large.
#
# Two words from game theory name what is going on. Because both players score themselves with the same $V$,
# one raising it and the other lowering it, whatever one gains the other loses: a
# {term}`zero-sum game <zero-sum game (零和博弈)>`. A pair where neither player can do better by changing only its
# own side is a {term}`Nash equilibrium <Nash equilibrium (纳什均衡)>`; in a zero-sum game it is a saddle point of
# $V$, a maximum along $D$'s direction and a minimum along $G$'s. In the idealised game it is the point described
# above: $G$'s samples distributed like the data, and $D = \tfrac12$. With real networks such a point need not
# exist, and training looks for one, at best a local one, by letting each player take small steps on its own
# objective in turn; Chapter 6 shows why those steps tend to circle the equilibrium rather than walk into it.
#
# Chapter 2 derives the best discriminator for a fixed $G$,
#
# $$
# D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)},
# $$ (eq-optimal-d)
#
# and shows that against it the generator of this minimax game minimises the {term}`Jensen–Shannon divergence <Jensen–Shannon divergence, JSD (JS 散度)>` between
# $p_{data}$ and $p_g$. The generator loss used in practice, the *non-saturating* loss that Chapter 2 also
# derives (and our implementation of Algorithm 1 below uses), minimises something else and gives $G$ an objective of its own, so that
# game is no longer zero-sum. Here we use {eq}`eq-optimal-d` to check a trained discriminator.
#
# ## Why "unsupervised", and what the latent space is
#
# Nothing in {eq}`eq-value-function` needs a label from a person: the only labels are "came from the data" and
# "came from $G$", and the training loop makes them itself. That is why GANs count as unsupervised (or
# self-supervised) learning. The noise $z$ lives in the **{term}`latent space <latent space (潜在空间 / 隐空间)>`**: a simple distribution (uniform or
# Gaussian) that $G$ maps onto the data. Nearby $z$ give similar samples, so moving through latent space moves
# smoothly through the samples (Chapter 4 interpolates between digits this way).
#
# ## Algorithm 1, in words
#
# Goodfellow et al. train the two players by alternating stochastic gradient steps:
#
# 1. Repeat for a number of training iterations:
#    1. **$k$ times**: sample a minibatch of $m$ noise vectors $z^{(i)} \sim p_z$ and $m$ data samples
#       $x^{(i)} \sim p_{data}$; update $D$ by *ascending* the gradient of
#       $\frac1m \sum_i \left[\log D(x^{(i)}) + \log(1 - D(G(z^{(i)})))\right]$, with $G$ held fixed.
#    2. **Once**: sample a fresh minibatch of $m$ noise vectors and update $G$ by *descending* the gradient of
#       $\frac1m \sum_i \log(1 - D(G(z^{(i)})))$, with $D$ held fixed.
#
# In practice step 1.2 uses the *non-saturating* loss $-\frac1m\sum_i \log D(G(z^{(i)}))$ instead, which has the
# same fixed point but useful gradients early on; the paper recommends it and Chapter 2 shows why.
# `gancourse.losses` has both, written on logits.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import trange

from gancourse.data import GaussianMixture1D
from gancourse.divergences import (
    density_from_samples,
    js_divergence,
    mixture_mean_abs_gap,
    optimal_discriminator,
    value_function,
    wasserstein1,
)
from gancourse.losses import discriminator_loss, generator_loss_nonsaturating
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.runtime import setup
from gancourse.train import linear_decay
from gancourse.viz import plot_figure1_panel

# Tiny networks: this chapter runs on the CPU everywhere, repeating number for number.
device = setup(seed=0, device="cpu")
# for networks this small, one thread beats two (no synchronisation cost)
torch.set_num_threads(1)

# %% [markdown]
# ## A 1-D GAN, trained live
#
# The data are draws from $p_{data} = \mathcal N(2, 0.5^2)$; the noise is $z \sim \mathcal U(-1, 1)$, as in the
# paper's figure. $G$ and $D$ are small multilayer perceptrons (two hidden layers of 32 units). Both use Adam with
# $\beta_1 = 0.5$, the setting Radford et al. found stable for GANs {cite}`radford2015unsupervised`. $D$'s
# learning rate is twice $G$'s, to keep it a little ahead of $G$: a heuristic in the spirit of the two time-scale
# update rule {cite}`heusel2017gans`, whose convergence proof asks for more: step sizes that decay, with $G$'s
# shrinking faster than $D$'s, so that $D$ runs on the faster time scale.

# %%
p_data = GaussianMixture1D(means=(2.0,), stds=(0.5,))
BATCH = 256
K_DISCRIMINATOR_STEPS = 5  # k in Algorithm 1
LR_G, LR_D = 5e-4, 1e-3

G = MLPGenerator(latent_dim=1, out_shape=(1,), hidden=(32, 32))
D = MLPDiscriminator(in_shape=(1,), hidden=(32, 32))
opt_g = torch.optim.Adam(G.parameters(), lr=LR_G, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=LR_D, betas=(0.5, 0.999))


def latent(n: int) -> torch.Tensor:
    """n noise vectors z ~ U(-1, 1), shape (n, 1)."""
    return torch.rand(n, 1) * 2 - 1


def discriminator_step(batch: int = BATCH) -> None:
    """One ascent step on V for D (a descent step on -V), with G held fixed."""
    real = p_data.sample(batch)  # (B, 1)
    fake = G(latent(batch)).detach()  # detach: this step must not change G
    loss = discriminator_loss(D(real), D(fake))
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()


def generator_step(batch: int = BATCH) -> None:
    """One descent step on the non-saturating generator loss -E log D(G(z)); only G's
    optimiser steps.
    """
    loss = generator_loss_nonsaturating(D(G(latent(batch))))
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()


def algorithm1(iterations: int, desc: str, scheduler: list | None = None) -> None:
    """Algorithm 1: per iteration, k discriminator steps then one generator step."""
    for _ in trange(iterations, desc=desc):
        for _ in range(K_DISCRIMINATOR_STEPS):
            discriminator_step()
        generator_step()
        for sched in scheduler or []:
            sched.step()


# %% [markdown]
# To draw a panel we need $p_g$, which we only know through samples: we push a fixed set of 20,000 noise values
# through $G$ and smooth them with a {term}`kernel density estimate <kernel density estimate, KDE (核密度估计)>`. The {term}`optimal discriminator <optimal discriminator (最优判别器)>` {eq}`eq-optimal-d` then
# follows from the two densities. To measure how far $D$ is from a target function $f$ we average $|D - f|$ over
# the mixture $m = \frac12(p_{data} + p_g)$ (not Algorithm 1's batch size $m$), i.e. where real and generated
# samples actually fall (a discriminator is free to do anything where neither distribution has mass, and what it
# does there is never trained). How far $p_g$ is from $p_{data}$ we measure twice: by the JSD, and by the
# Wasserstein-1 distance $W_1$, the area between the two cumulative distribution functions: how far, on average,
# probability mass would have to move to turn $p_g$ into $p_{data}$. The JSD stops growing (at $\log 2$) once the
# two barely overlap; $W_1$ keeps saying how far apart they are.

# %%
# fine enough (spacing 0.001) for the narrow p_g of the first panels
X_GRID = np.linspace(-1.0, 5.0, 6001)
P_DATA = p_data.pdf(X_GRID)
Z_EVAL = latent(20_000)  # fixed noise: every panel is measured on the same z
# the z -> x mapping lines drawn under each panel
Z_LINES = torch.linspace(-1, 1, 21).unsqueeze(1)


@torch.no_grad()
def snapshot() -> dict:
    """Densities, D on the grid, and summary numbers for the current (G, D)."""
    samples = G(Z_EVAL).squeeze(1).numpy()
    p_g = density_from_samples(samples, X_GRID)
    d = torch.sigmoid(D(torch.from_numpy(X_GRID).float().unsqueeze(1))).numpy()
    d_star = optimal_discriminator(P_DATA, p_g)
    return {
        "p_g": p_g,
        "d": d,
        "d_star": d_star,
        "z_to_x": G(Z_LINES).squeeze(1).numpy(),
        "mean": float(samples.mean()),
        "std": float(samples.std()),
        "d_on_fakes": float(torch.sigmoid(D(G(Z_EVAL))).mean()),
        "gap_to_d_star": mixture_mean_abs_gap(d, d_star, P_DATA, p_g, X_GRID),
        "gap_to_half": mixture_mean_abs_gap(
            d, np.full_like(d, 0.5), P_DATA, p_g, X_GRID
        ),
        "jsd": js_divergence(P_DATA, p_g, X_GRID),
        "w1": wasserstein1(P_DATA, p_g, X_GRID),
    }


def describe(name: str, s: dict) -> None:
    print(
        f"({name}) p_g mean {s['mean']:.3f}, std {s['std']:.3f} | E_m|D - D*| "
        f"= {s['gap_to_d_star']:.3f}, "
        f"E_m|D - 1/2| = {s['gap_to_half']:.3f}, mean D(G(z)) = {s['d_on_fakes']:.3f}, "
        f"JSD = {s['jsd']:.3f}, W1 = {s['w1']:.3f}"
    )


# %% [markdown]
# ### Panel (a): early in training
#
# Forty iterations of Algorithm 1 move $p_g$ from wherever the random initialisation put it towards the data.
# It is still well to the left and narrower than $p_{data}$, and $D$ is a rough classifier of the two (its
# gap to $D^*$ is printed; panel (b) shows how much closer it can get). **We check that $p_g$ has moved towards
# the data, that its mean is still more than 0.5 left of $p_{data}$'s (2.0), that its standard deviation is
# below 0.35 ($p_{data}$'s is 0.5), and that the JSD is still above 0.3** (out of a possible
# $\log 2 \approx 0.693$).

# %%
with torch.no_grad():
    untrained_mean = float(G(Z_EVAL).mean())
algorithm1(40, desc="(a) Algorithm 1")
panels = {"a": snapshot()}
describe("a", panels["a"])
print(f"p_g's mean before training: {untrained_mean:.3f}")

# %% tags=["hide-input"]
assert abs(panels["a"]["mean"] - p_data.mean) < abs(untrained_mean - p_data.mean)
assert panels["a"]["mean"] < p_data.mean - 0.5, "in (a) p_g should sit left of the data"
assert panels["a"]["std"] < 0.35, "in (a) p_g should be narrower than the data"
assert panels["a"]["jsd"] > 0.3

# %% [markdown]
# ### Panel (b), a detour: $D$ trained to near-optimality, $G$ fixed
#
# To look inside one iteration we take a detour: we save the state of the run (both networks and both
# optimisers), then hold $G$ fixed and run 3,000 discriminator steps only (a larger batch and learning rate: we
# want the optimum, not a balanced game). $D$ should converge to $D^*$ of {eq}`eq-optimal-d`: **we check that
# its average gap to $D^*$ under the mixture is at most 0.05, and smaller than in (a).** While $p_g$ is this
# narrow, $D^*$ is a dip: near 0 on $p_g$'s peak and rising on both sides of it, as $p_{data}$'s share of the
# mixture grows. **We also check that $D^*$ and $D$ both have the dip: lower at $p_g$'s mean than three standard
# deviations to either side.** The mixture puts little weight on those flanks, so the gap above says little about
# them; the printed values compare $D$ with $D^*$ there. Further out, where neither distribution has mass, $D^*$
# is undefined and $D$'s value is extrapolation.

# %%
# state_dict() returns the live tensors: copy them, or training changes the copy too
saved_run = copy.deepcopy([part.state_dict() for part in (G, D, opt_g, opt_d)])
for group in opt_d.param_groups:
    group["lr"] = 3e-3
for _ in trange(3000, desc="(b) D only"):
    discriminator_step(batch=1024)
panels["b"] = snapshot()
describe("b", panels["b"])
assert panels["b"]["gap_to_d_star"] <= 0.05
assert panels["b"]["gap_to_d_star"] < panels["a"]["gap_to_d_star"]
assert abs(panels["b"]["mean"] - panels["a"]["mean"]) < 1e-6, (
    "G must not move in the inner loop"
)

mean_b, std_b = panels["b"]["mean"], panels["b"]["std"]
probes = np.array([mean_b - 3 * std_b, mean_b, mean_b + 3 * std_b])
with torch.no_grad():  # D returns one logit per probe
    d_left, d_centre, d_right = torch.sigmoid(D(torch.tensor(probes).float()[:, None]))
star_left, star_centre, star_right = np.interp(probes, X_GRID, panels["b"]["d_star"])
print(
    f"at p_g's mean - 3 std, mean, mean + 3 std: D = {d_left:.3f}, {d_centre:.3f}, "
    f"{d_right:.3f}; D* = {star_left:.3f}, {star_centre:.3f}, {star_right:.3f}"
)

# %% tags=["hide-input"]
assert star_centre < min(star_left, star_right)
assert d_centre < min(d_left, d_right)

# %% [markdown]
# ### Panel (c), the detour's second half: $G$ takes five steps against this $D$
#
# Now $D$ is held fixed and $G$ takes five of its usual steps. $G$ follows $D$'s slope
# towards what $D$ scores as real: **we check that the mean of $D(G(z))$ rises.** That is what the steps aim
# for, and it is not the same as bringing $p_g$ closer to $p_{data}$. Against $D^*$, the {term}`non-saturating loss <non-saturating loss (非饱和损失)>`
# moves each sample $x = G(z)$ up the slope of $\log D^*(x)$, and where $p_g$ dominates that slope is close to
# $\nabla_x \log p_{data}(x) - \nabla_x \log p_g(x)$. For a narrow $p_g$ the second term is by far the larger:
# it pushes samples outward, away from $p_g$'s centre on both sides, while only the weak first term points
# towards the data. **So the steps widen $p_g$ (checked)**, and the samples on the far side can move away from
# the data; and where the trained $D$ differs from $D^*$ on the flanks, which the mixture hardly weighs, the
# whole of $p_g$ can follow it the wrong way. Small steps of the minimax loss against the exact $D^*$ would lower
# the JSD (Chapter 2 shows why); the non-saturating loss, finite steps and an approximate $D$ take that guarantee
# away. Which way $p_g$ moved in this run, the printed
# mean and $W_1$ say. **The gap between $D$ and $D^*$ jumps (checked)**: $D^*$ changed with $p_g$, and $D$ did
# not. What brings $p_g$ to the data is the alternation: $D$ retrained on each new $p_g$, again and again.

# %%
for _ in range(5):
    generator_step()
panels["c"] = snapshot()
describe("c", panels["c"])
print(
    f"p_g's mean moved by {panels['c']['mean'] - panels['b']['mean']:+.3f} "
    f"(the data lie to the right); W1 to p_data {panels['b']['w1']:.3f} -> "
    f"{panels['c']['w1']:.3f}"
)

# %% tags=["hide-input"]
assert panels["c"]["d_on_fakes"] > panels["b"]["d_on_fakes"]
assert panels["c"]["std"] > panels["b"]["std"]
assert panels["c"]["gap_to_d_star"] > panels["b"]["gap_to_d_star"]

# %% [markdown]
# ### Back to the run
#
# Panels (b) and (c) were a detour, and we now restore the state saved at (a), learning rates included: the run
# goes on as plain Algorithm 1, where $D$ takes $k = 5$ steps per generator step and is never trained to the
# optimum against one $p_g$. (The random number generator is not restored, so panel (d) draws different batches
# than a run without the detour would; that is just another seed.) We do not go on from (c): a generator that
# trains against a discriminator over-trained on one $p_g$ can follow it far from the data and not come back.

# %%
for part, state in zip((G, D, opt_g, opt_d), saved_run, strict=True):
    part.load_state_dict(state)  # for opt_d this also restores its learning rate

# %% [markdown]
# ### Panel (d): near convergence
#
# We continue Algorithm 1 from (a) for 3,000 iterations. The learning rates decay linearly to zero over the
# second half, so the run ends at rest rather than in the middle of one of the small oscillations that GAN
# training around an equilibrium is known for {cite}`mescheder2018training`. At the end $p_g$ is close to
# $p_{data}$'s mean and spread, though not exactly its shape (the JSD left over measures that), and where the
# data have mass $D$ is close to ½: it can no longer tell the two apart there. **We check that
# $\mathbb E_m|D - \frac12| \le 0.1$, that the mean of $p_g$ is within 0.1 of $p_{data}$'s (2.0) and its standard
# deviation within 0.15 of $p_{data}$'s (0.5), and that the JSD is below 0.06.**

# %%
ITERATIONS = 3000
halve_then_fall = linear_decay(ITERATIONS, start=0.5)  # 1, then linearly down to 0
decay = [
    torch.optim.lr_scheduler.LambdaLR(opt, halve_then_fall) for opt in (opt_g, opt_d)
]
algorithm1(ITERATIONS, desc="(d) Algorithm 1", scheduler=decay)
panels["d"] = snapshot()
describe("d", panels["d"])

# %% tags=["hide-input"]
assert panels["d"]["gap_to_half"] <= 0.1
assert abs(panels["d"]["mean"] - p_data.mean) <= 0.1
assert abs(panels["d"]["std"] - p_data.std) <= 0.15
assert panels["d"]["jsd"] < 0.06

# %% [markdown]
# ### Figure 1, regenerated
#
# Black dotted: $p_{data}$; green: $p_g$; blue dashed: $D(x)$. The lines underneath map evenly spaced $z$ (lower
# line) to $G(z)$ (upper line): where they bunch up, $p_g$ is dense. In (a)–(c) $p_g$ is so narrow that its peak
# leaves the plot; its height is written beside it. (b) and (c) branch off the run after (a); (d) goes on from
# (a), not from (c). **Look at** how $D$ in (b) dips exactly where $p_g$ has mass and rises on both sides of it;
# how (c), drawn with (b)'s $D$, has $p_g$ moved off the bottom of that dip and wider; and how flat $D$ is in
# (d) near ½ where the data and $p_g$ have mass. Outside that range neither has mass, $D$ was never trained there,
# and its value means nothing, which is why we average under the mixture.

# %%
fig, axes = plt.subplots(1, 4, figsize=(15, 3.8), sharey=True, layout="constrained")
titles = {
    "a": "(a) early",
    "b": "(b) detour: D trained, G fixed",
    "c": "(c) detour: five G steps",
    "d": "(d) near convergence",
}
for ax, (name, s) in zip(axes, panels.items(), strict=True):
    plot_figure1_panel(
        ax,
        X_GRID,
        P_DATA,
        s["p_g"],
        s["d"],
        Z_LINES.squeeze(1).numpy(),
        s["z_to_x"],
        titles[name],
    )
    ax.set_xlabel("x")
axes[0].legend(loc="upper left", frameon=False)
plt.show()

# %% [markdown]
# In the paper's Figure 1 the four panels are an idealised sketch; here they come from one real run, and the
# asserts above hold for it. Three honest differences: the paper's panel (a) is drawn "near
# convergence", ours is earlier so the movement is visible; (b) and (c) are a detour from the run, not a step of
# it; and the learning-rate decay that lets our run come to rest is ours, not the paper's. Gradient steps around
# a GAN's equilibrium need not settle by themselves; Chapter 6 shows why on the simplest GAN there is.
#
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: gan-ex-1
# If $p_g = p_{data}$, what is $D^*$ everywhere, and what is the value $V(D^*, G)$ of
# {eq}`eq-value-function`? Compute both on the grid with `gancourse.divergences`.
# ```
#
# ```{solution-start} gan-ex-1
# :class: dropdown
# ```
#
# $D^* = \frac12$ everywhere, and $V = \log\frac12 + \log\frac12 = -\log 4$.

# %%
d_equal = optimal_discriminator(P_DATA, P_DATA)
v_equal = value_function(d_equal, P_DATA, P_DATA, X_GRID)
print(
    f"D* in [{d_equal.min():.3f}, {d_equal.max():.3f}], V = {v_equal:.5f}, "
    f"-log 4 = {-np.log(4):.5f}"
)

# %% tags=["hide-input"]
assert np.allclose(d_equal, 0.5)
assert abs(v_equal - (-np.log(4))) < 1e-4

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: gan-ex-2
# Let $p_g = \mathcal N(1.5, 0.5^2)$ while $p_{data} = \mathcal N(2, 0.5^2)$. Where is $D^*(x) = \frac12$,
# and is $D^*$ increasing or decreasing? Answer first, then check numerically.
# ```
#
# ```{solution-start} gan-ex-2
# :class: dropdown
# ```
#
# $D^* = \frac12$ where the two densities are equal. With equal widths that is the midpoint, $x = 1.75$;
# $D^*$ rises from 0 to 1 because the data lie to the right: $\log\frac{D^*}{1 - D^*} = \log p_{data} -
# \log p_g$ is linear in $x$.

# %%
p_shifted = GaussianMixture1D(means=(1.5,), stds=(0.5,)).pdf(X_GRID)
d_shifted = optimal_discriminator(P_DATA, p_shifted)
crossing = X_GRID[np.argmin(np.abs(d_shifted - 0.5))]
print(f"D* = 1/2 at x = {crossing:.3f}")

# %% tags=["hide-input"]
assert abs(crossing - 1.75) < 0.01
assert np.all(np.diff(d_shifted) >= 0)

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: gan-ex-3
# In panel (d), how far is the trained $D$ from the best classifier $D^*$ of the final $p_g$, and how far is each
# of them from ½? Report $\mathbb E_m|D - D^*|$, $\mathbb E_m|D - \frac12|$ and $\mathbb E_m|D^* - \frac12|$.
# What do the numbers say about what $D$ has and has not learnt?
# ```
#
# ```{solution-start} gan-ex-3
# :class: dropdown
# ```
#
# Both are close to ½, so they are close to each other: by the triangle inequality, $\mathbb E_m|D - D^*|$ is
# at most $\mathbb E_m|D - \frac12| + \mathbb E_m|D^* - \frac12|$. $D^*$ is not exactly ½ because $p_g$'s shape
# still differs from $p_{data}$'s (the bumps in panel (d)); $D$, trained in small steps against a moving $p_g$,
# follows those differences only partly, and how much differs from run to run. **We check that $D^*$ is within
# 0.15 of ½ under the mixture, and that $D$'s gap to $D^*$ is below 0.15.** $D$ is near ½ without $p_g$ being
# exactly $p_{data}$: a discriminator of fixed size and finite training cannot see every difference, and $G$ only
# moves where $D$'s slope tells it to.

# %%
d_star_final = panels["d"]["d_star"]
d_star_from_half = mixture_mean_abs_gap(
    d_star_final, np.full_like(d_star_final, 0.5), P_DATA, panels["d"]["p_g"], X_GRID
)
print(
    f"E_m|D - D*| = {panels['d']['gap_to_d_star']:.3f}, "
    f"E_m|D - 1/2| = {panels['d']['gap_to_half']:.3f}, "
    f"E_m|D* - 1/2| = {d_star_from_half:.3f}"
)

# %% tags=["hide-input"]
assert d_star_from_half <= 0.15
assert panels["d"]["gap_to_d_star"] <= 0.15

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - A GAN is two networks playing {eq}`eq-value-function`: $D$ classifies real against generated, $G$ learns only
#   from $D$'s gradient.
# - With $G$ fixed, $D$ can be trained towards $D^* = p_{data}/(p_{data}+p_g)$: the assert allows a gap of 0.05,
#   and this run's is printed under panel (b).
# - A few generator steps aim to raise $D(G(z))$, and they do; but $D$ is the classifier of the current $p_g$,
#   rising on both sides of a narrow one, so that need not bring $p_g$ closer to the data. What brings it there is
#   the alternation, $D$ retrained on each new $p_g$.
# - In the idealised game, where $G$ may produce any distribution and $D$ may be any function, the one
#   equilibrium is $p_g = p_{data}$ with $D = \frac12$ wherever the data have mass. Networks of a fixed size play
#   a different game, which may have other equilibria or none {cite}`arora2017generalization,farnia2020gans`,
#   and training need not reach one. At an equilibrium the discriminator's output alone says nothing about
#   sample quality, which is why Chapter 5 measures quality separately.
#
# Next, Chapter 2 derives {eq}`eq-optimal-d` and the Jensen–Shannon divergence behind it, and checks each step
# numerically.
