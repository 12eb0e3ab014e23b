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
# # 2. The loss and the Jensen–Shannon divergence
#
# **Question: what does the {term}`GAN <generative adversarial network, GAN (生成对抗网络)>` loss measure, and
# what does the {term}`generator <generator (生成器)>` minimise when the
# {term}`discriminator <discriminator (判别器)>` is as good as it can be?** Goodfellow et al.
# {cite}`goodfellow2014generative` show that in the original
# {term}`minimax game <minimax game (极小极大博弈)>`, against the best discriminator, the generator minimises the
# {term}`Jensen–Shannon divergence <Jensen–Shannon divergence, JSD (JS 散度)>` between the data and its own
# distribution. This chapter derives that result one step at a time and checks every step with a
# computation on distributions whose densities we know exactly. Then it follows three consequences that shaped
# later GAN research: why practitioners change the generator's loss, what the changed loss minimises instead
# (not the Jensen–Shannon divergence), and why the Jensen–Shannon divergence gives no signal when the two
# distributions do not overlap.
#
# ```{admonition} In this chapter
# :class: tip
# You will derive the {term}`optimal discriminator <optimal discriminator (最优判别器)>` and
# $C(G) = -\log 4 + 2\,\mathrm{JSD}$, where $C(G) = \max_D V(D, G)$ is the value against the best $D$; see what the
# {term}`non-saturating loss <non-saturating loss (非饱和损失)>` minimises instead, and why that favours one mode
# (one peak of the data's density); and see why the JSD stops measuring when the supports (the sets where each
# density is positive) do not overlap.
#
# Running time: the {doc}`../book/performance` page lists what each chapter takes on a 2-core CPU; on a
# GPU it has not been measured yet.
# ```

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.optimize import minimize
from scipy.special import rel_entr
from torch import nn
from tqdm.auto import trange

from gancourse.data import GaussianMixture1D
from gancourse.divergences import (
    js_divergence,
    kl_divergence,
    mixture_mean_abs_gap,
    optimal_discriminator,
    value_function,
    wasserstein1,
)
from gancourse.losses import (
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_saturating,
)
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.runtime import seed_everything, setup
from gancourse.viz import BLACK, BLUE, GREEN, ORANGE, VERMILLION

# Small 1-D networks: the CPU everywhere, repeating number for number.
device = setup(seed=0, device="cpu")
torch.set_num_threads(1)  # for networks this small, one thread beats two

# %% [markdown]
# The chapter's route, as a map: each box is a section below, and the two branches are the two generator
# losses.

# %% tags=["remove-input"]
from gancourse.diagrams import derivation_route

derivation_route()
plt.show()

# %% [markdown]
# ## The value function is a classifier's log-likelihood
#
# The game of Chapter 1 is played on
#
# $$
# V(D, G) = \mathbb{E}_{x \sim p_{data}}\left[\log D(x)\right] + \mathbb{E}_{z \sim p_z}\left[\log\left(1 - D(G(z))\right)\right].
# $$ (eq-v)
#
# Label real samples $y = 1$ and generated ones $y = 0$. The binary cross-entropy of a prediction
# $D = \sigma(\ell)$, with {term}`logit <logit (对数几率)>` $\ell$, is $\mathrm{BCE}(\ell, y) = -[y \log \sigma(\ell) + (1 - y)\log(1 - \sigma(\ell))]$,
# so $-V$ is the classifier's cross-entropy on real samples plus its cross-entropy on fakes. Training $D$ to
# maximise $V$ is ordinary logistic classification. `gancourse.losses.discriminator_loss` computes exactly this,
# on logits; we check it against {eq}`eq-v` written out by hand.

# %%
torch.manual_seed(0)
real_logits, fake_logits = torch.randn(1000) * 2 + 1, torch.randn(1000) * 2 - 1
v_by_hand = (
    torch.log(torch.sigmoid(real_logits)).mean()
    + torch.log(1 - torch.sigmoid(fake_logits)).mean()
)
print(
    f"-V by hand = {-v_by_hand:.6f}, "
    f"discriminator_loss = {discriminator_loss(real_logits, fake_logits):.6f}"
)

# %% tags=["hide-input"]
assert torch.isclose(
    -v_by_hand, discriminator_loss(real_logits, fake_logits), rtol=1e-5
)

# %% [markdown]
# **Why logits, not `BCELoss` after a sigmoid.** In float32, $\sigma(\ell)$ rounds to exactly 1 once
# $\ell \gtrsim 17$. A discriminator that is confidently wrong about a fake (or a generator that fools it
# well) produces such logits; then $\log(1 - \sigma(\ell)) = \log 0$. PyTorch's `nn.BCELoss` clamps the log at $-100$, so it reports a loss of 100 where the true value is
# $\mathrm{softplus}(\ell) = \log(1 + e^\ell) \approx \ell$, and its gradient is zero.
# `F.binary_cross_entropy_with_logits` uses $\log(1-\sigma(\ell)) = -\mathrm{softplus}(\ell)$ and stays exact.
# **At $\ell = 40$ we check: the logit version gives 40 with gradient 1; the sigmoid version gives 100 with
# gradient 0.**

# %%
logit = torch.tensor([40.0], requires_grad=True)
exact = discriminator_loss(torch.tensor([40.0]), logit)  # the real term is ~0 here
exact.backward()
exact_grad = logit.grad.item()
logit.grad = None
clamped = nn.BCELoss()(torch.sigmoid(logit), torch.zeros(1))
clamped.backward()
print(
    f"with logits: loss {exact.item():.3f}, grad {exact_grad:.3f} | "
    f"BCELoss(sigmoid): loss {clamped.item():.1f}, "
    f"grad {logit.grad.item():.1f}"
)

# %% tags=["hide-input"]
assert abs(exact.item() - 40.0) < 1e-3 and abs(exact_grad - 1.0) < 1e-6
assert clamped.item() == 100.0 and logit.grad.item() == 0.0

# %% [markdown]
# ## The optimal discriminator
#
# Since $x = G(z)$ with $z \sim p_z$ is distributed as $p_g$, the second expectation in {eq}`eq-v` is an
# expectation over $p_g$, and
#
# $$
# V(D, G) = \int \Big[p_{data}(x) \log D(x) + p_g(x) \log\big(1 - D(x)\big)\Big]\, dx.
# $$ (eq-v-integral)
#
# For a fixed $G$, $D$ is free to choose its value $y = D(x)$ separately at every $x$, so we can maximise the
# integrand pointwise. With $a = p_{data}(x) \ge 0$, $b = p_g(x) \ge 0$, not both zero, the function
# $f(y) = a \log y + b \log(1 - y)$ on $(0, 1)$ has
#
# $$
# f'(y) = \frac{a}{y} - \frac{b}{1 - y} = 0 \iff y = \frac{a}{a + b}, \qquad f''(y) = -\frac{a}{y^2} - \frac{b}{(1-y)^2} < 0,
# $$ (eq-pointwise)
#
# so the stationary point is the unique maximum. Hence the {term}`optimal discriminator <optimal discriminator (最优判别器)>` is
#
# $$
# D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}.
# $$ (eq-dstar)
#
# Where both densities vanish the integrand is zero whatever $D$ does: $D^*$ is not defined there, and a
# trained network is not constrained there either.
#
# ## What the generator minimises: the Jensen–Shannon divergence
#
# The {term}`Kullback–Leibler divergence <Kullback–Leibler divergence, KL (KL 散度)>` $\mathrm{KL}(p \,\|\, q) = \int p \log \frac{p}{q}\,dx \ge 0$ is zero only when
# $p = q$, is not symmetric, and is infinite where $q = 0 < p$. The Jensen–Shannon divergence
# {cite}`lin1991divergence` compares both distributions with their mixture $m = \frac12(p + q)$:
#
# $$
# \mathrm{JSD}(p \,\|\, q) = \tfrac12\, \mathrm{KL}(p \,\|\, m) + \tfrac12\, \mathrm{KL}(q \,\|\, m).
# $$ (eq-jsd)
#
# It is symmetric, always finite, and lies in $[0, \log 2]$ in nats, the unit of information measured with the
# natural log ($\log 2$ nats is 1 bit). It is *not* the average of $\mathrm{KL}(p\|q)$ and $\mathrm{KL}(q\|p)$, a
# definition some course notes give (see {doc}`../book/pitfalls`).
#
# Substituting {eq}`eq-dstar` into {eq}`eq-v-integral`, with $p = p_{data}$, $q = p_g$ and $m$ their mixture:
#
# $$
# \begin{aligned}
# C(G) = \max_D V(D, G) &= \int p \log \frac{p}{p + q} + q \log \frac{q}{p + q}\; dx \\
#   &= \int p \log \frac{p}{2m} + q \log \frac{q}{2m}\; dx \\
#   &= \mathrm{KL}(p \,\|\, m) + \mathrm{KL}(q \,\|\, m) - \log 2 \int (p + q)\, dx \\
#   &= -\log 4 + 2\, \mathrm{JSD}(p_{data} \,\|\, p_g).
# \end{aligned}
# $$ (eq-cg)
#
# The last step uses $\int (p + q)\, dx = 2$, since each density integrates to 1, so the final term is
# $-2\log 2 = -\log 4$.
#
# So the generator of the {term}`minimax game <minimax game (极小极大博弈)>`, playing against $D^*$, minimises the JSD; the global minimum
# $C = -\log 4$ is reached only at $p_g = p_{data}$, where $D^* = \frac12$. This is a statement about
# distributions, with $G$ free to produce any $p_g$ and $D$ any function; a network of fixed size may not be able
# to represent $p_{data}$ or $D^*$ exactly.
#
# ### Check 1: {eq}`eq-cg` by numerical integration
#
# `gancourse.divergences` integrates densities on a grid (it refuses densities that are negative or do not
# integrate to 1 on the grid). **For several pairs we check that $V(D^*, G)$ equals $-\log 4 + 2\,\mathrm{JSD}$ to
# within $10^{-4}$, that the JSD lies in $[0, \log 2]$, and that it is symmetric.**

# %%
X = np.linspace(-12.0, 12.0, 4801)


def gaussian(mean: float, std: float) -> np.ndarray:
    return GaussianMixture1D(means=(mean,), stds=(std,)).pdf(X)


pairs = {
    "identical": (gaussian(0, 1), gaussian(0, 1)),
    "shifted by 1": (gaussian(0, 1), gaussian(1, 1)),
    "widths 1 and 3": (gaussian(0, 1), gaussian(0, 3)),
    "mixture vs Gaussian": (
        GaussianMixture1D(means=(-2, 2), stds=(0.5, 0.5)).pdf(X),
        gaussian(0, 2),
    ),
    "far apart": (gaussian(-4, 0.5), gaussian(5, 0.5)),
}
print(f"{'pair':22s} {'JSD':>8s} {'V(D*, G)':>10s} {'2 JSD - log 4':>14s}")
for name, (p, q) in pairs.items():
    jsd = js_divergence(p, q, X)
    v_star = value_function(optimal_discriminator(p, q), p, q, X)
    print(f"{name:22s} {jsd:8.5f} {v_star:10.5f} {2 * jsd - math.log(4):14.5f}")
    assert abs(v_star - (2 * jsd - math.log(4))) <= 1e-4
    assert 0 <= jsd <= math.log(2) + 1e-12
    assert abs(jsd - js_divergence(q, p, X)) <= 1e-12

# %% [markdown]
# ### Check 2: a trained discriminator approaches $D^*$
#
# The derivation assumes $D$ reaches the optimum. Does a network get there by gradient descent on the loss? We
# need a generator whose density we know exactly, so we fix the simplest one: $G(z) = 1 + 0.8\,z$ with
# $z \sim \mathcal N(0, 1)$, so $p_g = \mathcal N(1, 0.8^2)$. The data are a two-component mixture. A discriminator
# with two hidden layers of 64 units trains for 2,000 steps on fresh batches.
#
# How close should $V(D, G)$ get? Writing $D^*$ and $D$ as Bernoulli probabilities and using
# $p = 2m D^*$, $q = 2m(1 - D^*)$ in {eq}`eq-v-integral` gives
#
# $$
# V(D^*, G) - V(D, G) = 2\, \mathbb{E}_{x \sim m}\Big[\mathrm{KL}\big(\mathrm{Bern}(D^*(x)) \,\|\, \mathrm{Bern}(D(x))\big)\Big] \ge 0,
# $$ (eq-v-gap)
#
# and a Bernoulli KL is about $\delta^2 / (2 D^*(1 - D^*))$ for a small error $\delta$. An average error of 0.02
# around $D^* \approx \frac12$ therefore costs about $2 \cdot 0.02^2 / 0.5 = 0.0016$ nats. **We check that the mean
# gap $\mathbb{E}_m|D - D^*|$ is at most 0.02, that $V(D, G)$ is below $2\,\mathrm{JSD} - \log 4$ by at most 0.005
# nats, and that {eq}`eq-v-gap` holds numerically to $10^{-6}$.**

# %%
p_data = GaussianMixture1D(means=(-1.0, 2.0), stds=(0.5, 0.7), weights=(0.4, 0.6))
P_DATA = p_data.pdf(X)
P_G = gaussian(1.0, 0.8)


def fixed_generator(n: int) -> torch.Tensor:
    """G(z) = 1 + 0.8 z, z ~ N(0, 1): a generator whose density N(1, 0.8^2) is known
    exactly. Shape (n, 1).
    """
    return 1.0 + 0.8 * torch.randn(n, 1)


seed_everything(0)
D = MLPDiscriminator(in_shape=(1,), hidden=(64, 64))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt_d, T_max=2000)
for _ in trange(2000, desc="D against a fixed G"):
    loss = discriminator_loss(D(p_data.sample(512)), D(fixed_generator(512)))
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    cosine.step()

# sigmoid in float64: in float32 it rounds to exactly 1.0 for logits above ~17
with (torch.no_grad()):
    d_trained = torch.sigmoid(
        D(torch.from_numpy(X).float().unsqueeze(1)).double()
    ).numpy()
d_star = optimal_discriminator(P_DATA, P_G)
gap = mixture_mean_abs_gap(d_trained, d_star, P_DATA, P_G, X)
v_trained = value_function(d_trained, P_DATA, P_G, X)
c_of_g = 2 * js_divergence(P_DATA, P_G, X) - math.log(4)
# KL(Bern(D*) || Bern(D)) per x
bern_kl = rel_entr(d_star, d_trained) + rel_entr(1 - d_star, 1 - d_trained)
mass = P_DATA + P_G
# the far tails carry no mass; D is never trained there
where = mass > 1e-12 * mass.max()
predicted_gap = np.trapezoid(np.where(where, mass * bern_kl, 0.0), X)
print(
    f"E_m|D - D*| = {gap:.4f}; V(D, G) = {v_trained:.5f}; "
    f"2 JSD - log 4 = {c_of_g:.5f}; "
    f"shortfall {c_of_g - v_trained:.5f} (predicted by the Bernoulli KL: "
    f"{predicted_gap:.5f})"
)

# %% tags=["hide-input"]
assert gap <= 0.02
assert 0 <= c_of_g - v_trained <= 0.005
assert abs((c_of_g - v_trained) - predicted_gap) <= 1e-6

# %% [markdown]
# **Look at** how the trained $D$ (blue dashed) lies on $D^*$ (black dotted) wherever either density has mass,
# and leaves it only in the far tails, where no sample ever lands.

# %%
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
ax.plot(X, P_DATA, color=BLACK, lw=1.5, label=r"$p_{data}$")
ax.plot(X, P_G, color=GREEN, lw=1.5, label=r"$p_g = \mathcal{N}(1, 0.8^2)$")
ax.plot(X, d_star, ":", color=BLACK, lw=2.5, label=r"$D^*$")
ax.plot(X, d_trained, "--", color=BLUE, lw=2, label="trained $D$")
ax.set_xlim(-4, 5)
ax.set_xlabel("x")
ax.set_ylabel("density / probability")
ax.legend(frameon=False, loc="upper left")
ax.set_title("A trained discriminator against the optimal one")
plt.show()

# %% [markdown]
# ### The JSD as one distribution slides past another
#
# Slide $p_g = \mathcal N(\mu, 1)$ past $p_{data} = \mathcal N(0, 1)$. **Look at** the JSD rising from 0 and
# flattening at $\log 2$ once the two barely overlap: beyond about $\mu = 6$ it no longer tells how far apart they
# are. We check that it is 0 at $\mu = 0$, increases with $|\mu|$, and is within 0.001 of $\log 2$ at $|\mu| = 8$.

# %%
shifts = np.linspace(-8, 8, 161)
X_WIDE = np.linspace(-14, 14, 5601)
jsd_curve = np.array(
    [
        js_divergence(
            GaussianMixture1D((0.0,), (1.0,)).pdf(X_WIDE),
            GaussianMixture1D((s,), (1.0,)).pdf(X_WIDE),
            X_WIDE,
        )
        for s in shifts
    ]
)
fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
ax.plot(
    shifts,
    jsd_curve,
    color=BLUE,
    lw=2,
    label=r"JSD$(\mathcal{N}(0,1) \,\|\, \mathcal{N}(\mu,1))$",
)
ax.axhline(math.log(2), color=BLACK, ls=":", label=r"$\log 2$")
ax.set_xlabel(r"shift $\mu$")
ax.set_ylabel("nats")
ax.legend(frameon=False, loc="lower left")
plt.show()
centre = len(shifts) // 2

# %% tags=["hide-input"]
assert abs(jsd_curve[centre]) < 1e-9
assert np.all(np.diff(jsd_curve[centre:]) > 0) and np.all(
    np.diff(jsd_curve[: centre + 1]) < 0
)
assert (
    abs(jsd_curve[-1] - math.log(2)) < 1e-3 and abs(jsd_curve[0] - math.log(2)) < 1e-3
)

# %% [markdown]
# ## Saturating and non-saturating generator losses
#
# In {eq}`eq-v` the generator minimises $\log(1 - D(G(z)))$. Early in training its samples are poor, $D$
# rejects them confidently, and this loss is flat: it *saturates*, levelling off near $\log 1 = 0$ with a gradient
# that goes to 0 as $D(G(z)) \to 0$, hence the name *saturating loss*. With logit $\ell$ and $D = \sigma(\ell)$:
#
# $$
# \begin{gathered}
# \frac{\partial}{\partial \ell} \log\big(1 - \sigma(\ell)\big) = -\sigma(\ell) = -D, \\
# \frac{\partial}{\partial \ell} \big[-\log \sigma(\ell)\big] = -\big(1 - \sigma(\ell)\big) = -(1 - D).
# \end{gathered}
# $$ (eq-sat-grads)
#
# The saturating loss pushes with strength $D(G(z))$, which is tiny exactly when $G$ most needs to move; the
# {term}`non-saturating loss <non-saturating loss (非饱和损失)>` $-\log D(G(z))$ pushes with strength $1 - D(G(z))$, close to 1 there. Both losses are
# decreasing in $D(G(z))$, so both push $G$ towards samples $D$ finds more real, and $p_g = p_{data}$ is a
# stationary point of both {cite}`goodfellow2014generative,goodfellow2016tutorial`. They are not, however, the
# same objective; the next section shows what the non-saturating one minimises. With it, $D$ still maximises
# $V$ but $G$ minimises a different function, so the two players' payoffs no longer sum to a constant: the game
# is no longer a {term}`zero-sum game <zero-sum game (零和博弈)>` (its equilibrium $p_g = p_{data}$,
# $D = \tfrac12$ remains one).
# **We compute both gradients with autograd, plot them, and check that at $D(G(z)) = 0.01$ the saturating gradient
# is at least 10 times smaller** ({eq}`eq-sat-grads` says 99 times).

# %%
d_values = torch.linspace(0.001, 0.999, 500, dtype=torch.float64)
logits = torch.logit(d_values).requires_grad_(True)
(grad_sat,) = torch.autograd.grad(
    generator_loss_saturating(logits) * len(logits), logits
)
(grad_ns,) = torch.autograd.grad(
    generator_loss_nonsaturating(logits) * len(logits), logits
)

fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
ax.plot(
    d_values, grad_sat.abs(), color=VERMILLION, lw=2, label=r"saturating $\log(1 - D)$"
)
ax.plot(d_values, grad_ns.abs(), color=BLUE, lw=2, label=r"non-saturating $-\log D$")
ax.set_xlabel(r"$D(G(z))$")
ax.set_ylabel(r"$|\partial \mathrm{loss} / \partial \ell|$")
ax.legend(frameon=False)
ax.set_title("Gradient the generator receives, per sample")
plt.show()

at_001 = torch.logit(torch.tensor([0.01], dtype=torch.float64)).requires_grad_(True)
(g_sat,) = torch.autograd.grad(generator_loss_saturating(at_001), at_001)
(g_ns,) = torch.autograd.grad(generator_loss_nonsaturating(at_001), at_001)
ratio = (g_ns.abs() / g_sat.abs()).item()
print(
    f"at D(G(z)) = 0.01: |grad| saturating {g_sat.abs().item():.4f}, "
    f"non-saturating {g_ns.abs().item():.4f}, "
    f"ratio {ratio:.1f}"
)

# %% tags=["hide-input"]
assert ratio >= 10
assert abs(ratio - 99.0) < 1e-6

# %% [markdown]
# ### Two real trainings, and what the optimiser hides
#
# Does this matter in a real run? We train a 1-D GAN like Chapter 1's, with the data a little further away,
# $p_{data} = \mathcal N(3, 0.5^2)$ (Chapter 1 used $\mathcal N(2, 0.5^2)$), after first training $D$ alone for
# 300 steps, so that it starts confident, as early in real training. We run each
# generator loss with two optimisers for $G$: plain SGD, where the step is proportional to the gradient, and Adam,
# which divides each parameter's step by a running estimate of its gradient's size.
#
# **We check:** with SGD, after 50 steps the saturating generator is still stuck (mean $D(G(z)) < 0.05$, its mean
# output moved by less than 0.5) while the non-saturating one has escaped (mean $D(G(z)) > 0.1$); with Adam both have
# escaped (mean $D(G(z)) > 0.1$). Adam's normalisation rescales the saturating loss's small gradient (99 times
# smaller at $D(G(z)) = 0.01$) back to a normal step, which hides the saturation rather than curing it: the
# direction is still computed from a much weaker signal, and once the gradient itself (proportional to
# $D(G(z))$) shrinks to the order of Adam's $\epsilon = 10^{-8}$, the small constant Adam adds to its denominator
# so as never to divide by zero, nothing is left to rescale.

# %%
p_far = GaussianMixture1D(means=(3.0,), stds=(0.5,))
LOSSES = {
    "saturating": generator_loss_saturating,
    "non-saturating": generator_loss_nonsaturating,
}
OPTIMISERS = {
    "SGD": lambda params: torch.optim.SGD(params, lr=0.05),
    "Adam": lambda params: torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.999)),
}


def uniform_latent(n: int) -> torch.Tensor:
    return torch.rand(n, 1) * 2 - 1


def short_run(
    g_loss, make_g_optimiser, steps: int = 150, pretrain_d: int = 300, seed: int = 0
) -> dict:
    """Train D alone for ``pretrain_d`` steps, then alternate D and G steps; record mean
    D(G(z)) and G's mean.
    """
    seed_everything(seed)
    gen = MLPGenerator(latent_dim=1, out_shape=(1,), hidden=(32, 32))
    disc = MLPDiscriminator(in_shape=(1,), hidden=(32, 32))
    opt_gen = make_g_optimiser(gen.parameters())
    opt_disc = torch.optim.Adam(disc.parameters(), lr=1e-3, betas=(0.5, 0.999))
    z_eval = uniform_latent(2000)
    d_fake, g_mean = [], []

    def d_step():
        loss = discriminator_loss(
            disc(p_far.sample(256)), disc(gen(uniform_latent(256)).detach())
        )
        opt_disc.zero_grad(set_to_none=True)
        loss.backward()
        opt_disc.step()

    for _ in range(pretrain_d):
        d_step()
    start = gen(z_eval).mean().item()
    for _ in range(steps):
        d_step()
        loss = g_loss(disc(gen(uniform_latent(256))))
        opt_gen.zero_grad(set_to_none=True)
        loss.backward()
        opt_gen.step()
        with torch.no_grad():
            d_fake.append(torch.sigmoid(disc(gen(z_eval))).mean().item())
            g_mean.append(gen(z_eval).mean().item())
    return {"d_fake": np.array(d_fake), "g_mean": np.array(g_mean), "start": start}


runs = {
    (opt, loss): short_run(LOSSES[loss], OPTIMISERS[opt])
    for opt in OPTIMISERS
    for loss in LOSSES
}

fig, axes = plt.subplots(1, 2, figsize=(11, 3.3), sharey=True, layout="constrained")
for ax, opt in zip(axes, OPTIMISERS, strict=True):
    for loss, colour in (("saturating", VERMILLION), ("non-saturating", BLUE)):
        ax.plot(runs[opt, loss]["d_fake"], color=colour, lw=2, label=loss)
    ax.axvline(50, color="0.6", ls=":")
    ax.set_title(f"G trained with {opt}")
    ax.set_xlabel("generator step")
axes[0].set_ylabel(r"mean $D(G(z))$")
axes[0].legend(frameon=False)
plt.show()

for (opt, loss), r in runs.items():
    print(
        f"{opt:4s} {loss:15s}: mean D(G(z)) at step 50 = {r['d_fake'][49]:.4f}, "
        f"G's mean moved {abs(r['g_mean'][49] - r['start']):.3f}"
    )
stuck, escaped = runs["SGD", "saturating"], runs["SGD", "non-saturating"]

# %% tags=["hide-input"]
assert stuck["d_fake"][49] < 0.05 and abs(stuck["g_mean"][49] - stuck["start"]) < 0.5
assert escaped["d_fake"][49] > 0.1
assert (
    runs["Adam", "saturating"]["d_fake"][49] > 0.1
    and runs["Adam", "non-saturating"]["d_fake"][49] > 0.1
)


# %% [markdown]
# **Look at** the left panel: with SGD the saturating run (vermilion) sits near zero while the non-saturating run
# climbs at once. On the right, Adam lifts both. The dotted vertical line in each panel marks step 50, where the
# checks above are made. The course uses the non-saturating loss everywhere
# (`gancourse.losses.generator_loss_nonsaturating`); the saturating one stays in the package for experiments.
#
# ## What the non-saturating generator minimises
#
# The derivation of {eq}`eq-cg` holds for the minimax loss. Swap in $-\log D(G(z))$ and the generator no longer
# follows the JSD. Arjovsky and Bottou {cite}`arjovsky2017towards` (Theorem 2.5) work out what it follows instead.
# Let $G_\theta$ have density $q_\theta$, and let $D^* = p/(p + q_{\theta_0})$ be optimal for the current
# $\theta_0$; as in training, $D$ is held fixed while $G$ takes its step. Two facts:
#
# 1. $\log\frac{1 - D^*}{D^*} = \log\frac{q_{\theta_0}}{p}$, so
#    $\mathbb E_{q_\theta}\big[\log\frac{1 - D^*}{D^*}\big] = \mathrm{KL}(q_\theta \| p) - \mathrm{KL}(q_\theta \| q_{\theta_0})$.
#    The second KL is 0 at $\theta_0$ and never negative, so its gradient there is 0.
# 2. $\mathbb E_{q_\theta}[\log(1 - D^*)]$ is the generator's part of $V(D^*, G_\theta)$, and since $D^*$
#    maximises $V$ at $\theta_0$, its gradient there equals that of $C = -\log 4 + 2\,\mathrm{JSD}$
#    (the envelope theorem: the derivative of a maximum is the partial derivative at the maximiser).
#
# Subtracting, with $-\log D^* = \log\frac{1 - D^*}{D^*} - \log(1 - D^*)$:
#
# $$
# \nabla_\theta\, \mathbb{E}_{z}\big[-\log D^*(G_\theta(z))\big]\Big|_{\theta_0}
#   = \nabla_\theta \Big[\mathrm{KL}(p_g \,\|\, p_{data}) - 2\,\mathrm{JSD}(p_{data} \,\|\, p_g)\Big]_{\theta_0}.
# $$ (eq-ns-gradient)
#
# Read the two terms. The reverse KL, $\mathrm{KL}(p_g \,\|\, p_{data}) = \int p_g \log(p_g / p_{data})$, "reverse"
# because the model's distribution comes first, is large where $G$ puts mass the data do not have and nearly
# blind to data $G$ ignores: it is **mode-seeking**. And the JSD enters with a *minus* sign,
# pushing the two distributions apart. So the non-saturating generator prefers to sit on one mode of the data
# rather than spread over all of them, a source of {term}`mode collapse <mode collapse (模式坍塌)>` that no choice of optimiser removes.
#
# **We check {eq}`eq-ns-gradient` numerically:** $p_{data}$ is the two-mode mixture above and
# $p_g = \mathcal N(\mu, \sigma^2)$ with $\theta = (\mu, \sigma)$ at $\theta_0 = (1, 0.8)$. With $D^*$ fixed at
# $\theta_0$, a central finite difference (the slope $(f(\theta + h) - f(\theta - h))/2h$ for a small step $h$,
# one coordinate at a time) of $\int q_\theta\,(-\log D^*)$ must equal the finite difference of
# $\mathrm{KL}(q_\theta\|p) - 2\,\mathrm{JSD}(p\|q_\theta)$ to $10^{-6}$, and differ from that of $2\,\mathrm{JSD}$
# by more than 0.1 in at least one coordinate. **Then we check the consequence:** among all Gaussians, the one
# that minimises $\mathrm{KL}(p_g\|p_{data}) - 2\,\mathrm{JSD}$ sits on the data's heavier mode (mean within 0.1 of
# 2, standard deviation below 0.9), while the one that minimises the JSD spreads over both modes (standard
# deviation above 1.3).

# %%
def gaussian_at(theta) -> np.ndarray:
    return gaussian(float(theta[0]), float(theta[1]))


def ns_objective(theta, d_fixed: np.ndarray) -> float:
    """E_{x ~ N(mu, sigma^2)}[-log D(x)] for a fixed discriminator D on the grid."""
    return np.trapezoid(gaussian_at(theta) * -np.log(d_fixed), X)


def reverse_kl_minus_2jsd(theta) -> float:
    q = gaussian_at(theta)
    return kl_divergence(q, P_DATA, X) - 2 * js_divergence(P_DATA, q, X)


def two_jsd(theta) -> float:
    return 2 * js_divergence(P_DATA, gaussian_at(theta), X)


def central_difference(f, theta, h: float = 1e-4) -> np.ndarray:
    steps = np.eye(len(theta)) * h
    return np.array([(f(theta + e) - f(theta - e)) / (2 * h) for e in steps])


theta0 = np.array([1.0, 0.8])
d_at_theta0 = optimal_discriminator(P_DATA, gaussian_at(theta0))
grad_ns = central_difference(lambda t: ns_objective(t, d_at_theta0), theta0)
grad_formula = central_difference(reverse_kl_minus_2jsd, theta0)
grad_jsd = central_difference(two_jsd, theta0)
print(
    "gradient in (mu, sigma): non-saturating",
    np.round(grad_ns, 6),
    "| KL(p_g||p) - 2 JSD",
    np.round(grad_formula, 6),
    "| 2 JSD",
    np.round(grad_jsd, 6),
)
assert np.abs(grad_ns - grad_formula).max() < 1e-6
assert np.abs(grad_ns - grad_jsd).max() > 0.1

best = {
    name: minimize(
        f,
        x0=np.array([1.0, 1.0]),
        method="Nelder-Mead",
        bounds=[(-3, 4), (0.2, 2.5)],
        options={"xatol": 1e-4, "fatol": 1e-9},
    ).x
    for name, f in (
        ("non-saturating", reverse_kl_minus_2jsd),
        ("minimax (JSD)", two_jsd),
    )
}
for name, (mu, sigma) in best.items():
    print(f"best Gaussian for the {name} objective: mean {mu:.3f}, std {sigma:.3f}")

# %% tags=["hide-input"]
assert abs(best["non-saturating"][0] - 2.0) < 0.1 and best["non-saturating"][1] < 0.9
assert best["minimax (JSD)"][1] > 1.3

# %% [markdown]
# **Look at** the two best fits: the non-saturating objective settles on the mode at 2 and ignores the one at
# $-1$; the JSD stretches one Gaussian over both.

# %%
fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
ax.plot(X, P_DATA, ":", color=BLACK, lw=2, label=r"$p_{data}$")
for (name, theta), colour in zip(best.items(), (VERMILLION, BLUE), strict=True):
    ax.plot(X, gaussian_at(theta), color=colour, lw=2, label=f"best Gaussian, {name}")
ax.set_xlim(-4, 5)
ax.set_xlabel("x")
ax.set_ylabel("density")
ax.legend(frameon=False, loc="upper left")
ax.set_title("What each generator loss prefers, among Gaussians, against the optimal D")
plt.show()

# %% [markdown]
#
# ## Disjoint supports: a divergence that stops measuring
#
# Real images occupy a thin set in pixel space, and a generator's samples early in training often do not overlap
# the data at all {cite}`arjovsky2017towards`. What does {eq}`eq-cg` give then? Take $p_{data} = \mathcal U(0, 1)$
# and $p_g = \mathcal U(\theta, \theta + 1)$. For $\theta > 1$ the supports are disjoint, $m = \frac12 p$ on
# each, and $\mathrm{KL}(p\|m) = \log 2$: **the JSD is exactly $\log 2$ whatever the gap**, so
# $C(G) = -\log 4 + 2\log 2 = 0$ is constant and its gradient with respect to $\theta$ is zero. The generator learns
# nothing about which way to move.
#
# The {term}`Wasserstein-1 <Wasserstein distance (Wasserstein 距离 / 推土机距离)>` (earth mover's) distance, the
# cost of moving one distribution's mass onto the other {cite}`arjovsky2017wasserstein`, does not saturate: here
# $W_1 = \theta$, the distance every unit of mass must travel. In 1-D it is $\int |F_p(x) - F_q(x)|\,dx$ with $F$
# the cumulative distribution functions.
# **We check: for $\theta \in (1, 4]$ the JSD is within 0.002 of $\log 2$ and its finite-difference slope is
# below $10^{-3}$, while $W_1$ is within 0.002 of $\theta$ with slope 1.**

# %%
# spacing 0.001: every box edge below falls on a grid point
X_BOX = np.linspace(-1.0, 6.0, 7001)


def box(left: float) -> np.ndarray:
    """The uniform density on [left, left + 1], on X_BOX."""
    inside = (X_BOX >= left - 1e-9) & (X_BOX <= left + 1 + 1e-9)
    density = inside.astype(float)
    return density / np.trapezoid(density, X_BOX)


thetas = np.round(np.arange(0.0, 4.001, 0.05), 3)
uniform = box(0.0)
jsd_gap = np.array([js_divergence(uniform, box(t), X_BOX) for t in thetas])
w1_gap = np.array([wasserstein1(uniform, box(t), X_BOX) for t in thetas])

fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
ax.plot(thetas, jsd_gap, color=BLUE, lw=2, label="JSD")
ax.plot(thetas, w1_gap, color=ORANGE, lw=2, label=r"$W_1$")
ax.axvline(1.0, color="0.6", ls=":")
ax.text(1.05, 3.3, "supports disjoint from here", color="0.4")
ax.set_xlabel(r"offset $\theta$ of $p_g = \mathcal{U}(\theta, \theta + 1)$")
ax.set_ylabel("nats / distance")
ax.legend(frameon=False, loc="upper left")
plt.show()

disjoint = thetas > 1.0  # at exactly 1 the two boxes share an edge point on the grid
print(
    f"JSD for theta > 1: between {jsd_gap[disjoint].min():.4f} and "
    f"{jsd_gap[disjoint].max():.4f} "
    f"(log 2 = {math.log(2):.4f}); W1 at theta = 4: {w1_gap[-1]:.4f}"
)

# %% tags=["hide-input"]
assert np.all(np.abs(jsd_gap[disjoint] - math.log(2)) < 2e-3)
assert np.all(np.abs(np.diff(jsd_gap[disjoint]) / 0.05) < 1e-3)
assert np.all(np.abs(w1_gap - thetas) < 2e-3)
assert np.allclose(np.diff(w1_gap) / 0.05, 1.0, atol=0.05)

# %% [markdown]
# This is the motivation for the Wasserstein GAN {cite}`arjovsky2017wasserstein`, whose
# {term}`critic <critic (评论家)>` estimates $W_1$ instead of the JSD, and for its
# {term}`gradient-penalty <gradient penalty (梯度惩罚)>` version {cite}`gulrajani2017improved`, both in Chapter 7.
# In practice the non-saturating loss and noise in the samples keep a standard GAN learning, but the flat JSD is
# why a discriminator that wins completely stalls a minimax generator. (The non-saturating generator's gradient
# does not vanish there, but it is not the JSD's either: {eq}`eq-ns-gradient`. With disjoint supports
# Arjovsky and Bottou show it becomes unstable instead {cite}`arjovsky2017towards`.)
#
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: loss-ex-1
# Let $p_{data} = \mathcal N(0, 1)$ and $p_g = \mathcal N(0, 2^2)$. Derive $D^*(x)$ in closed form. What is
# $D^*(0)$, and for which $|x|$ is $D^*(x) = \frac12$? Check numerically.
# ```
#
# ```{solution-start} loss-ex-1
# :class: dropdown
# ```
#
# $\frac{D^*}{1 - D^*} = \frac{p_{data}}{p_g} = 2\,e^{-x^2/2 + x^2/8} = 2\,e^{-3x^2/8}$, so $D^*(0) = \frac23$,
# and $D^* = \frac12$ where $2\,e^{-3x^2/8} = 1$, that is $|x| = \sqrt{8 \ln 2 / 3} \approx 1.36$.

# %%
d_star_ex = optimal_discriminator(gaussian(0, 1), gaussian(0, 2))
zero = np.argmin(np.abs(X))
half_at = math.sqrt(8 * math.log(2) / 3)
right = X > 0
crossing = X[right][np.argmin(np.abs(d_star_ex[right] - 0.5))]
print(
    f"D*(0) = {d_star_ex[zero]:.4f}; "
    f"D* = 1/2 at x = {crossing:.3f} (closed form {half_at:.3f})"
)

# %% tags=["hide-input"]
assert abs(d_star_ex[zero] - 2 / 3) < 1e-9
assert abs(crossing - half_at) < 0.01

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: loss-ex-2
# The KL divergence is not symmetric. For $p = \mathcal N(0, 1)$ and $q = \mathcal N(0, 2^2)$, compute
# $\mathrm{KL}(p\|q)$ and $\mathrm{KL}(q\|p)$ in closed form
# ($\mathrm{KL} = \log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1 - \mu_2)^2}{2\sigma_2^2} - \frac12$) and
# numerically. Which direction punishes $q$ more for putting mass where $p$ has little?
# ```
#
# ```{solution-start} loss-ex-2
# :class: dropdown
# ```
#
# $\mathrm{KL}(p\|q) = \log 2 + \frac18 - \frac12 \approx 0.318$ and $\mathrm{KL}(q\|p) = -\log 2 + 2 - \frac12
# \approx 0.807$. $\mathrm{KL}(q\|p)$ weighs the log-ratio by $q$, so the wide $q$'s mass in $p$'s tails, where
# $\log(q/p)$ is large, costs more.

# %%
closed_pq = math.log(2) + 1 / 8 - 1 / 2
closed_qp = -math.log(2) + 4 / 2 - 1 / 2
kl_pq = kl_divergence(gaussian(0, 1), gaussian(0, 2), X)
kl_qp = kl_divergence(gaussian(0, 2), gaussian(0, 1), X)
print(
    f"KL(p||q) = {kl_pq:.4f} (closed {closed_pq:.4f}); "
    f"KL(q||p) = {kl_qp:.4f} (closed {closed_qp:.4f})"
)

# %% tags=["hide-input"]
assert abs(kl_pq - closed_pq) < 1e-4 and abs(kl_qp - closed_qp) < 1e-4
assert kl_qp > kl_pq

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: loss-ex-3
# What is $C(G)$ when $p_g = p_{data}$, and what is it when their supports are disjoint? Use {eq}`eq-cg` and
# check both with `value_function` and `optimal_discriminator`.
# ```
#
# ```{solution-start} loss-ex-3
# :class: dropdown
# ```
#
# Identical: $\mathrm{JSD} = 0$ and $C = -\log 4$. Disjoint: $\mathrm{JSD} = \log 2$ and $C = 0$.

# %%
c_same = value_function(
    optimal_discriminator(uniform, uniform), uniform, uniform, X_BOX
)
far_box = box(3.0)
c_disjoint = value_function(
    optimal_discriminator(uniform, far_box), uniform, far_box, X_BOX
)
print(
    f"C(G) identical = {c_same:.5f} (-log 4 = {-math.log(4):.5f}); "
    f"disjoint = {c_disjoint:.5f}"
)

# %% tags=["hide-input"]
assert abs(c_same + math.log(4)) < 1e-3
assert abs(c_disjoint) < 1e-3

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - $-V$ is the discriminator's binary cross-entropy; compute it on logits (`binary_cross_entropy_with_logits`).
# - $D^* = p_{data}/(p_{data} + p_g)$ maximises $V$ pointwise; against it, $V = -\log 4 + 2\,\mathrm{JSD}$,
#   checked here to $10^{-4}$, and a trained network got within 0.02 of $D^*$ and 0.005 nats of the bound.
# - The saturating generator loss gives a 99 times weaker gradient at $D(G(z)) = 0.01$; SGD stalls on it, Adam
#   hides it. Use the non-saturating loss, knowing what it minimises: against $D^*$ its gradient is that of
#   $\mathrm{KL}(p_g\|p_{data}) - 2\,\mathrm{JSD}$, which prefers one mode to all of them.
# - For disjoint supports the JSD is stuck at $\log 2$; $W_1$ keeps growing with the distance.
