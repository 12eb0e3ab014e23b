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
# Colab only: install the course package (elsewhere `make` has installed it).
import subprocess
import sys

REPOSITORY = "https://github.com/gancourse/gancourse"
if "google.colab" in sys.modules:
    package = f"gancourse @ git+{REPOSITORY}@main"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)

# %% [markdown]
# # 6. Making GANs train
#
# **Question: my {term}`GAN <generative adversarial network, GAN (生成对抗网络)>` oscillates or collapses: which fix do I try, and why does it work?** Chapters 3 and 4 met
# the two failures, non-convergence and {term}`mode collapse <mode collapse (模式坍塌)>`, and one remedy (packing). This chapter first shows *why*
# gradient steps on a GAN circle instead of settling, on a game small enough to solve by hand. Then it writes
# each of the classic remedies as an equation and a few lines of code, and measures them side by side on the
# 25-Gaussian grid and the 8-Gaussian ring, where modes can be counted.
#
# ```{admonition} In this chapter
# :class: tip
# You will see on the Dirac-GAN why gradient steps circle; write WGAN, WGAN-GP, spectral norm, R1 and minibatch discrimination as objectives and layers; and compare them on two toy problems over five seeds.
#
# Running time: the {doc}`../book/performance` page lists what each chapter takes on a 2-core CPU; on a
# GPU it has not been measured yet.
# ```

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.stats import spearmanr
from tqdm.auto import trange

from gancourse.data import grid_of_gaussians, ring_of_gaussians
from gancourse.dirac import DiracGAN, simulate
from gancourse.metrics import mode_coverage
from gancourse.models import LeanDCGANCritic
from gancourse.objectives import (
    Hinge,
    NonSaturating,
    Wasserstein,
    WassersteinGP,
    gradient_penalty,
)
from gancourse.runtime import seed_everything, setup
from gancourse.stacked import (
    StackedDiscriminator,
    StackedGenerator,
    minibatch_similarity,
)
from gancourse.train import discriminator_step, generator_step
from gancourse.viz import BLACK, BLUE, ORANGE, VERMILLION

device = setup(seed=0)
# what a GPU changes
TOY_STEPS, TOY_SEEDS = (1_000, 5) if device.type == "cpu" else (10_000, 5)

# %% [markdown]
# ## Why does it oscillate? The Dirac-GAN
#
# Mescheder, Geiger and Nowozin {cite}`mescheder2018training` strip a GAN down to two numbers. The data are a
# single point at $x = 0$. The {term}`generator <generator (生成器)>` has one parameter and outputs it, $G = \theta$; the {term}`discriminator <discriminator (判别器)>` is
# linear, $D_\psi(x) = \psi\,x$. With $f(t) = -\log(1 + e^{-t})$ the GAN's {term}`value function <value function (价值函数)>` of Chapter 2 becomes
#
# $$
# L(\theta, \psi) = f(\psi\theta) + f(0),
# $$ (dirac-game)
#
# which $D$ maximises over $\psi$ and $G$ minimises over $\theta$. The only equilibrium is $(\theta, \psi) =
# (0, 0)$: the generator sits on the data and the discriminator is flat. Gradient training moves the pair along
# the **vector field**
#
# $$
# v(\theta, \psi) = \begin{pmatrix} -\partial_\theta L \\ \partial_\psi L \end{pmatrix}
# = \begin{pmatrix} -\psi f'(\psi\theta) \\ \theta f'(\psi\theta) \end{pmatrix},
# \qquad
# J = \frac{\partial v}{\partial(\theta, \psi)}\Big|_{(0,0)} = \begin{pmatrix} 0 & -f'(0) \\ f'(0) & 0
# \end{pmatrix}.
# $$ (dirac-field)
#
# $J$ is a rotation: its eigenvalues $\pm i f'(0) = \pm i/2$ have no real part, so near the equilibrium the flow
# circles it and never comes closer. A simultaneous gradient step of size $h$ multiplies the state by $I + hJ$,
# whose eigenvalues have modulus $\sqrt{1 + h^2 f'(0)^2} > 1$: **each step moves outwards**. Alternating steps
# ($D$ first, then $G$ against the new $D$, as in Algorithm 1) have modulus exactly 1 near the equilibrium: they
# circle for ever.
#
# `gancourse.dirac` writes {eq}`dirac-game` as a loss and lets autograd compute the field, so the regularisers
# below are written the way a training loop writes them. Its tests check the Jacobian's eigenvalues against the
# closed forms of this section. **We check here that $J$'s eigenvalues are $\pm i/2$.**

# %%
plain = DiracGAN()
eigenvalues = torch.linalg.eigvals(plain.jacobian())
print("Jacobian at (0, 0):", plain.jacobian().tolist(), "eigenvalues:",
      [f"{z.real:+.3f}{z.imag:+.3f}i" for z in eigenvalues.tolist()])
assert torch.allclose(eigenvalues.real, torch.zeros(2, dtype=torch.float64), atol=1e-12)
assert torch.allclose(eigenvalues.imag.abs(), torch.full_like(eigenvalues.real, 0.5))

# %% [markdown]
# **What makes it converge.** The discriminator's gradient at the data, $\partial_x D = \psi$, is what the
# regularisers act on:
#
# - **R1** {cite}`mescheder2018training` penalises $\frac{\gamma}{2}\,\|\nabla_x D(x)\|^2$ on *real* data only,
#   here $\frac{\gamma}{2}\psi^2$. It adds $-\gamma$ to $J$'s lower-right entry, and the eigenvalues become
#   $\frac12\big(-\gamma \pm \sqrt{\gamma^2 - 4f'(0)^2}\big)$: negative real parts, a spiral *into* the
#   equilibrium.
# - **Instance noise** adds $\varepsilon \sim \mathcal N(0, \sigma^2)$ to real and fake samples. The expectation
#   of $f$ over the noise adds $2 f''(0)\,\sigma^2 = -\sigma^2/2$ to the same entry: the same damping.
# - **WGAN** {cite}`arjovsky2017wasserstein` uses $f(t) = t$ and clips $\psi$ to $[-c, c]$; **WGAN-GP**
#   {cite}`gulrajani2017improved` penalises $\lambda(|\partial_x D| - 1)^2 = \lambda(|\psi| - 1)^2$ instead. Neither
#   adds damping at the equilibrium: WGAN's $J$ is a rotation with eigenvalues $\pm i$, and WGAN-GP's penalty asks
#   for $|\psi| = 1$, which the equilibrium $\psi = 0$ does not have.
#
# We start 1,000 steps of size $h = 0.1$ at $(\theta, \psi) = (1, 1)$ for each variant ($\gamma = 1$, $\sigma =
# 1$, $c = 1$, $\lambda = 1$), both simultaneous and alternating, and plot them on the field.

# %%
H, N_STEPS = 0.1, 1000
START = (torch.tensor(1.0), torch.tensor(1.0))
GAMES = {
    "GAN": DiracGAN(),
    "GAN + R1 (γ = 1)": DiracGAN(r1_gamma=1.0),
    "GAN + instance noise (σ = 1)": DiracGAN(noise_std=1.0),
    "WGAN, clip c = 1": DiracGAN("wgan", clip=1.0),
    "WGAN-GP (λ = 1)": DiracGAN("wgan", gp_weight=1.0),
}
paths = {(name, alternating): simulate(game, *START, lr=H, steps=N_STEPS,
                                       alternating=alternating)
         for name, game in GAMES.items() for alternating in (False, True)}

axis = torch.linspace(-2.5, 2.5, 21, dtype=torch.float64)
theta_grid, psi_grid = torch.meshgrid(axis, axis, indexing="xy")
fig, axes = plt.subplots(1, len(GAMES), figsize=(17, 3.8), sharey=True,
                         layout="constrained")
for ax, (name, game) in zip(axes, GAMES.items(), strict=True):
    u, v = game.vector_field(theta_grid, psi_grid)
    ax.quiver(theta_grid, psi_grid, u, v, color="0.6", angles="xy", width=0.004)
    for alternating, colour in ((False, VERMILLION), (True, BLUE)):
        path = paths[name, alternating]
        ax.plot(path[:, 0], path[:, 1], color=colour, lw=1.2,
                label="alternating" if alternating else "simultaneous")
    ax.plot(*START, "o", color=BLACK)
    ax.plot(0, 0, "*", color=ORANGE, ms=12)
    ax.set(xlim=(-2.5, 2.5), ylim=(-2.5, 2.5), aspect="equal", title=name,
           xlabel=r"generator $\theta$")
axes[0].set_ylabel(r"discriminator $\psi$")
axes[0].legend(frameon=False, loc="lower left")
plt.show()

# %% [markdown]
# The figure: grey arrows are the field $v$, the black dot the start, the orange star the equilibrium. **Look
# at** the first panel: simultaneous steps (red) spiral outwards, alternating ones (blue) circle. R1 and instance
# noise pull both into the star. Clipped WGAN keeps circling on the square $|\psi| \le c$; WGAN-GP stops with
# $\psi \approx 0$ but the generator away from the data.
#
# **We check, after 1,000 steps: without a regulariser the distance to $(0, 0)$ has not shrunk (simultaneous: it
# has grown; alternating: it stays within 10% of the start); with R1 and with instance noise it is below
# $10^{-6}$; with WGAN (clipped) and WGAN-GP it stays above 0.5.** WGAN-GP's generator stops at
# $\theta = -2\lambda$, a point where the penalty's kink at $\psi = 0$ balances the field: $\partial_\psi$ of
# $\theta\psi - \lambda(|\psi| - 1)^2$ is $\theta + 2\lambda$ just above $\psi = 0$.

# %%
def distance(name: str, alternating: bool) -> torch.Tensor:
    """Distance to the equilibrium (0, 0) at every step, (N_STEPS + 1,)."""
    return paths[name, alternating].norm(dim=1)


start_distance = distance("GAN", False)[0].item()
for name in GAMES:
    print(f"{name:30s} distance after {N_STEPS} steps: "
          f"simultaneous {distance(name, False)[-1]:.2e}, "
          f"alternating {distance(name, True)[-1]:.2e} (start {start_distance:.2f})")
assert distance("GAN", False)[-1] > start_distance
assert abs(distance("GAN", True)[-1] / start_distance - 1) < 0.1
for name in ("GAN + R1 (γ = 1)", "GAN + instance noise (σ = 1)"):
    assert distance(name, False)[-1] < 1e-6 and distance(name, True)[-1] < 1e-6
for name in ("WGAN, clip c = 1", "WGAN-GP (λ = 1)"):
    assert all(distance(name, alt)[-200:].min() > 0.5 for alt in (False, True))
final_theta = paths["WGAN-GP (λ = 1)", False][-1, 0].item()
print(f"WGAN-GP's generator stops at θ = {final_theta:.3f}")
assert abs(final_theta - (-2 * GAMES["WGAN-GP (λ = 1)"].gp_weight)) < 0.01

# %% [markdown]
# Two lessons carry over to real GANs. Gradient steps on a game are not gradient descent on a loss: the field
# rotates, and nothing in it says "come closer". And what makes a GAN converge locally is a penalty on the
# discriminator's gradient *at the data*, so that a discriminator which has caught up stops pushing
# {cite}`mescheder2018training`. Chapter 1's runs needed a learning-rate decay for the same reason.

# %% [markdown]
# ## The remedies, each as an equation and a few lines of code
#
# Each remedy below lives in `gancourse.objectives` (a loss pair and, where it has one, a penalty or a step after
# $D$'s update) or in a layer, so a training loop takes it as an argument. The unit tests in `tests/` check each
# against a closed form; here is the mathematics.
#
# **WGAN** {cite}`arjovsky2017wasserstein`. The Wasserstein-1 distance has the dual form
#
# $$
# W_1(p_{data}, p_g) = \sup_{\|f\|_L \le 1} \; \mathbb E_{x \sim p_{data}} f(x) - \mathbb E_{z} f(G(z)),
# $$ (w1-dual)
#
# a supremum over 1-Lipschitz functions. The discriminator becomes a *critic* $f$ with no sigmoid that
# maximises the difference, and $G$ minimises $-\mathbb E f(G(z))$. Unlike the JS divergence of Chapter 2, $W_1$
# shrinks smoothly as two disjoint distributions approach each other. The original recipe keeps $f$ Lipschitz by
# clipping every weight to $[-c, c]$ after each critic step ($c = 0.01$, RMSprop at $5\cdot10^{-5}$, five critic
# steps per generator step): `Wasserstein(clip=0.01)`. Clipping bounds the critic's slope, but crudely: it caps
# each weight, not the function. Gulrajani et al. {cite}`gulrajani2017improved` found most weights of a clipped
# critic pressed against $\pm c$, a network that can only express simple functions.
#
# **WGAN-GP** {cite}`gulrajani2017improved` replaces clipping by a penalty on the critic's gradient norm at points
# $\hat x = \epsilon x + (1-\epsilon) G(z)$ between real and fake samples, $\epsilon \sim U[0, 1]$ drawn once
# per sample:
#
# $$
# L_D = \mathbb E f(G(z)) - \mathbb E f(x) + \lambda\,\mathbb E_{\hat x}\big(\|\nabla_{\hat x} f(\hat x)\|_2 - 1\big)^2,
# \qquad \lambda = 10.
# $$ (wgan-gp)
#
# `gradient_penalty(critic, real, fake)` returns the expectation without $\lambda$. For a linear critic
# $f(x) = w^\top x$ the gradient is $w$ everywhere, so the penalty is exactly $(\|w\|_2 - 1)^2$: **we check it on
# images of shape (B, 1, 28, 28)**, where a norm taken over the wrong dimension would show (see the pitfalls
# page for the five classic bugs).

# %%
linear_critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 1))
w = linear_critic[1].weight.detach()
noise_images = torch.rand(16, 1, 28, 28) * 2 - 1
other_images = torch.rand(16, 1, 28, 28) * 2 - 1
penalty = gradient_penalty(linear_critic, noise_images, other_images)
print(f"gradient penalty {penalty:.6f}, (|w| - 1)^2 = {(w.norm() - 1) ** 2:.6f}")
assert torch.isclose(penalty, (w.norm() - 1) ** 2, rtol=1e-5)

# %% [markdown]
# **Spectral normalisation and the hinge loss** {cite}`miyato2018spectral`. A network's Lipschitz constant is at
# most the product of its layers' (LeakyReLU has slope at most 1). Dividing each weight matrix by its largest
# singular value $\sigma(W)$, estimated by one step of power iteration per training step, makes every layer
# 1-Lipschitz: `torch.nn.utils.parametrizations.spectral_norm(layer)`. Miyato et al. pair it with the hinge loss
#
# $$
# L_D = \mathbb E \max(0, 1 - D(x)) + \mathbb E \max(0, 1 + D(G(z))), \qquad L_G = -\mathbb E D(G(z))
# $$ (hinge)
#
# (`Hinge()`). For a convolution PyTorch normalises the kernel reshaped to a matrix (out channels $\times$ the
# rest), which bounds but is not the convolution's exact norm. **We check, on the lean DCGAN discriminator of
# Chapter 4 with every convolution and linear layer normalised (and its batch norm removed), that each layer's
# largest singular value is within $10^{-3}$ of 1 after 30 training-mode passes.**

# %%
seed_everything(0)
sn_critic = LeanDCGANCritic(spectral=True)  # Chapter 4's lean D, batch norm removed
for _ in range(30):  # each training-mode pass refines the power iteration
    sn_critic(torch.rand(8, 1, 28, 28) * 2 - 1)
normalised = [m for m in sn_critic.modules() if hasattr(m, "parametrizations")]
tops = [torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item()
        for m in normalised]  # each weight as a matrix (out, rest)
print("largest singular value of each normalised layer:", [f"{t:.4f}" for t in tops])
assert len(tops) == 3 and all(abs(t - 1) < 1e-3 for t in tops)

# %% [markdown]
# **R1** {cite}`mescheder2018training`: the Dirac-GAN's cure, $\frac\gamma2\,\mathbb E_{x \sim p_{data}}
# \|\nabla_x D(x)\|^2$ added to $D$'s loss, on real data only (`NonSaturating(r1_gamma=γ)`). At the equilibrium
# $D$ is constant on the data, so the penalty is zero there and does not move the equilibrium; on fake data it
# would.
#
# **Minibatch discrimination** {cite}`salimans2016improved`. Collapse means many samples of a batch look alike,
# which a discriminator judging one sample at a time cannot see. Project each sample's features $h_i$ through a
# tensor $T$ to $K$ kernels $M_{i,k} \in \mathbb R^C$ and give the last layer, beside $h_i$,
#
# $$
# o(x_i)_k = \sum_{j \ne i} \exp\big(-\|M_{i,k} - M_{j,k}\|_{1}\big),
# $$ (minibatch)
#
# how crowded sample $i$'s neighbourhood is in the batch (`gancourse.stacked.MinibatchDiscrimination`, L1
# distances as in the authors' code). **We check the closed form: a batch of $B$ identical samples gives
# $B - 1$ in every kernel.**

# %%
collapsed = torch.ones(64, 5, 3)  # 64 identical samples, 5 kernels of 3 numbers
print("identical batch of 64:", minibatch_similarity(collapsed)[0].tolist())
assert torch.equal(minibatch_similarity(collapsed), torch.full((64, 5), 63.0))

# %% [markdown]
# **Packing** {cite}`lin2018pacgan` (Chapter 3) gives the same information differently: $D$ judges two samples
# at once. **One-sided label smoothing** {cite}`salimans2016improved` (`NonSaturating(real_label=0.9)`; Chapter
# 3's exercise 2 derives $D^* = 0.9\,p_{data}/(p_{data} + p_g)$) smooths only the real side, because a fake
# target above 0 would reward $D$ for putting mass where $p_{data}$ is absent. **Feature matching**
# {cite}`salimans2016improved` trains $G$ to match the mean of $D$'s features on real data instead of fooling $D$.
# **Two time-scale updates (TTUR)** {cite}`heusel2017gans` give $D$ a larger learning rate than $G$; we use four
# times $G$'s on the toy problems below. **An exponential moving average of $G$'s weights**, sampled instead of $G$
# itself, averages out the circling of the Dirac-GAN; `torch.optim.swa_utils.AveragedModel` keeps one (see the
# MNIST section).
#
# ## Measured side by side on the grid and the ring
#
# **Which remedy captures the most modes, and how sharply?** The 25-Gaussian grid ($5 \times 5$ modes 2 apart,
# $\sigma = 0.05$) and the 8-Gaussian ring (radius 2, $\sigma = 0.02$) are the benchmarks of VEEGAN and PacGAN
# {cite}`srivastava2017veegan,lin2018pacgan`, with VEEGAN's definitions: from 2,500 samples, a sample is **high
# quality** when it lies within $3\sigma$ of its nearest mode, and a mode is **captured** when it is the nearest
# mode of at least one high-quality sample (`mode_coverage(..., min_count=1)`). For reference, VEEGAN's Table 1
# reports on the grid: GAN 3.3 modes with 0.5% high-quality samples, Unrolled GAN {cite}`metz2016unrolled` 23.6
# with 16%, VEEGAN 24.6 with 40%; PacGAN4 captures 24.8.
#
# Seven ways to train the same networks ($G$: 2 → 64 → 64 → 64 → 2, $D$: 2 → 64 → 64 → 64 → 1, LeakyReLU 0.2):
#
# | name | objective | $D$ | optimiser |
# |---|---|---|---|
# | vanilla | non-saturating BCE | plain | Adam, $G$ $10^{-3}$, $D$ $4\cdot10^{-3}$, $\beta = (0.5, 0.999)$ |
# | WGAN (clip) | Wasserstein, $c = 0.01$, 5 critic steps | plain | RMSprop $5\cdot10^{-5}$ |
# | WGAN-GP | Wasserstein, $\lambda = 10$, 5 critic steps | plain | Adam $10^{-4}$, $\beta = (0.5, 0.9)$ |
# | SN + hinge | hinge | spectral norm | as vanilla |
# | R1 | non-saturating BCE + R1, $\gamma = 0.1$ | plain | as vanilla |
# | minibatch discr. | non-saturating BCE | + 5 kernels of 3 | as vanilla |
# | PacGAN2 | non-saturating BCE | judges pairs | as vanilla |
#
# All with batches of 64, `TOY_STEPS` generator steps and learning rates decaying linearly to 0 over the second
# half. A 2-D network costs microseconds of arithmetic per step and a millisecond of Python, so we train **all
# seeds and both datasets as one set of stacked weights** (`gancourse.stacked`: ten independent models, one
# batched matrix product per layer) with the package's `discriminator_step` and `generator_step`, the two halves
# of Algorithm 1.

# %%
TOY_BATCH, TOY_LATENT, TOY_HIDDEN = 64, 2, (64, 64, 64)
grid, ring = grid_of_gaussians(), ring_of_gaussians()
MIXTURES = [grid] * TOY_SEEDS + [ring] * TOY_SEEDS  # model m trains on MIXTURES[m]
N_MODELS = len(MIXTURES)


def adam(lr: float, betas=(0.5, 0.999)):
    return lambda params: torch.optim.Adam(params, lr=lr, betas=betas)


def rmsprop(lr: float):
    return lambda params: torch.optim.RMSprop(params, lr=lr)


# name: (objective, critic steps k, StackedDiscriminator options, G's optimiser, D's
# optimiser)
METHODS = {
    "vanilla": (NonSaturating(), 1, {}, adam(1e-3), adam(4e-3)),
    "WGAN (clip)": (Wasserstein(clip=0.01), 5, {}, rmsprop(5e-5), rmsprop(5e-5)),
    "WGAN-GP": (WassersteinGP(gp_weight=10.0), 5, {},
                adam(1e-4, (0.5, 0.9)), adam(1e-4, (0.5, 0.9))),
    "SN + hinge": (Hinge(), 1, {"spectral": True}, adam(1e-3), adam(4e-3)),
    "R1": (NonSaturating(r1_gamma=0.1), 1, {}, adam(1e-3), adam(4e-3)),
    "minibatch discr.": (NonSaturating(), 1, {"minibatch_kernels": 5},
                         adam(1e-3), adam(4e-3)),
    "PacGAN2": (NonSaturating(), 1, {"pack": 2}, adam(1e-3), adam(4e-3)),
}


def real_batch(n_per_model: int) -> torch.Tensor:
    """Fresh samples, n_per_model from each model's own mixture: (N_MODELS * n, 2)."""
    return torch.cat([mixture.sample(n_per_model) for mixture in MIXTURES])


def train_toys(name: str, seed: int = 0, every: int = 0, probe=None):
    """Train one method on all seeds and both datasets at once; ``probe(G, D)`` runs
    every ``every`` steps."""
    objective, k, options, make_opt_g, make_opt_d = METHODS[name]
    seed_everything(seed)
    G = StackedGenerator(N_MODELS, TOY_LATENT, hidden=TOY_HIDDEN)
    D = StackedDiscriminator(N_MODELS, hidden=TOY_HIDDEN, **options)
    opt_g, opt_d = make_opt_g(G.parameters()), make_opt_d(D.parameters())
    decay = lambda step: min(1.0, 2 - 2 * step / TOY_STEPS)  # noqa: E731  1, then to 0
    schedules = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in (opt_g, opt_d)]
    n = N_MODELS * TOY_BATCH
    for step in trange(TOY_STEPS, desc=name, mininterval=2):
        for _ in range(k):
            with torch.no_grad():
                fake = G(torch.randn(n, TOY_LATENT))
            discriminator_step(D, opt_d, objective, real_batch(TOY_BATCH), fake)
        generator_step(G, D, opt_g, objective, torch.randn(n, TOY_LATENT))
        for schedule in schedules:
            schedule.step()
        if every and (step + 1) % every == 0:
            probe(G, D)
    return G, D


def toy_samples(G: StackedGenerator, n: int = 2500) -> torch.Tensor:
    """n samples from each model, (N_MODELS, n, 2), from fixed noise."""
    fixed = torch.Generator().manual_seed(1)
    z = torch.randn(N_MODELS * n, TOY_LATENT, generator=fixed)
    with torch.no_grad():
        return G(z).view(N_MODELS, n, 2)


def score(samples: torch.Tensor) -> np.ndarray:
    """(modes captured, high-quality share) per model, by VEEGAN's rules: (N_MODELS, "
    "2)."""
    results = [mode_coverage(x, mixture, min_count=1)
               for x, mixture in zip(samples, MIXTURES, strict=True)]
    return np.array([(r.modes_covered, r.high_quality) for r in results])

# %% [markdown]
# While two of the methods train, a probe records every 50 steps, for each grid model, what the discriminator's
# loss claims and how far the samples really are from the data: the critic's estimate $\mathbb E f(x) -
# \mathbb E f(G(z))$ of {eq}`w1-dual`, the vanilla discriminator's BCE loss, and the exact optimal-transport
# distance $W_1$ between 500 generated and 500 real points (`scipy.optimize.linear_sum_assignment`). The section
# after the table uses them.

# %%
PROBE_EVERY, PROBE_N = 50, 500
probes: dict[str, list[np.ndarray]] = {"vanilla": [], "WGAN-GP": []}


def exact_w1(a: torch.Tensor, b: torch.Tensor) -> float:
    """W1 of two point sets (N, 2): mean distance of the best one-to-one matching."""
    cost = torch.cdist(a.double(), b.double()).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def probe_into(record: list[np.ndarray]):
    def probe(G: StackedGenerator, D: StackedDiscriminator) -> None:
        with torch.no_grad():
            real = real_batch(PROBE_N)
            fake = G(torch.randn(N_MODELS * PROBE_N, TOY_LATENT))
            r, f = D(real).view(N_MODELS, -1), D(fake).view(N_MODELS, -1)
        softplus = torch.nn.functional.softplus
        bce = softplus(-r).mean(1) + softplus(f).mean(1)  # -log D(x) - log(1 - D(G(z)))
        fake, real = fake.view(N_MODELS, -1, 2), real.view(N_MODELS, -1, 2)
        w1 = [exact_w1(fake[m], real[m]) for m in range(TOY_SEEDS)]  # the grid models
        estimate = r.mean(1) - f.mean(1)
        # (3, seeds): critic estimate, BCE loss, exact W1
        columns = [estimate[:TOY_SEEDS], bce[:TOY_SEEDS], torch.tensor(w1)]
        record.append(np.stack(columns))
    return probe


toy_results, toy_generators = {}, {}
threads = torch.get_num_threads()
torch.set_num_threads(1)  # networks this small run faster on one thread than on two
for name in METHODS:
    record = probes.get(name)
    G, D = train_toys(name, every=PROBE_EVERY if record is not None else 0,
                      probe=probe_into(record) if record is not None else None)
    toy_generators[name], toy_results[name] = G, score(toy_samples(G))
torch.set_num_threads(threads)

def spread(values: np.ndarray, percent: bool = False) -> str:
    """'mean ± standard deviation' over seeds."""
    return (f"{values.mean():6.1%} ± {values.std():5.1%}" if percent
            else f"{values.mean():5.1f} ± {values.std():4.1f}")


print(f"{'':17s} {'grid: modes':>12s} {'high quality':>15s}   {'ring: modes':>12s} "
      f"{'high quality':>15s}")
for name, r in toy_results.items():
    g, c = r[:TOY_SEEDS], r[TOY_SEEDS:]
    print(f"{name:17s} {spread(g[:, 0])} {spread(g[:, 1], True)}   {spread(c[:, 0])} "
          f"{spread(c[:, 1], True)}")

# %% [markdown]
# **What the table says, and what we check.** On this budget (1,000 generator steps, a few seconds per method)
# no method comes close to the target we set for this chapter, **at least 24.5 of the 25 grid modes with at least
# 80% high-quality samples**: the best grid result is R1's, about 22 modes with under 10% of the samples within
# $3\sigma$ of a mode. The samples cover the square between the modes rather than the modes themselves (figure
# below): $\sigma = 0.05$ on a grid of spacing 2 asks the generator to fold the plane into 25 points, and that
# takes far more steps than we can spend here. The order of the methods still says something. **We check: the
# target is missed; vanilla and R1 capture more than 19 grid modes on average; both WGANs, at their papers'
# learning rates, capture fewer than 10 (clipping) and 17 (gradient penalty): those rates are tuned for thousands
# more steps; on the ring, vanilla, R1 and PacGAN2 capture at least 7.6 of the 8 modes on average.**

# %%
def mean(name: str, dataset: int, column: int) -> float:
    """Mean over seeds of column 0 (modes) or 1 (high-quality share), dataset 0 (grid)
    or 1 (ring)."""
    rows = slice(dataset * TOY_SEEDS, (dataset + 1) * TOY_SEEDS)
    return float(toy_results[name][rows, column].mean())


best = max(METHODS, key=lambda name: (mean(name, 0, 0), mean(name, 0, 1)))
target_met = mean(best, 0, 0) >= 24.5 and mean(best, 0, 1) >= 0.80
print(f"best on the grid: {best}, {mean(best, 0, 0):.1f} modes, "
      f"{mean(best, 0, 1):.1%} high quality; target (24.5 modes, "
      f"80%) met: {target_met}")
assert not target_met  # the day a remedy meets it, this fails and the text must change
assert mean("vanilla", 0, 0) > 19 and mean("R1", 0, 0) > 19
assert mean("WGAN (clip)", 0, 0) < 10 and mean("WGAN-GP", 0, 0) < 17
assert all(mean(name, 1, 0) >= 7.6 for name in ("vanilla", "R1", "PacGAN2"))

# %% [markdown]
# **Look at** one seed of each method on the grid (grey crosses: the 25 mode centres):

# %%
fig, axes = plt.subplots(1, len(METHODS), figsize=(18, 2.9), sharey=True,
                         layout="constrained")
for ax, (name, G) in zip(axes, toy_generators.items(), strict=True):
    ax.scatter(*toy_samples(G, n=1000)[0].T, s=1, alpha=0.4, color=BLUE)
    ax.scatter(*grid.centres.T, marker="x", color="0.4", s=12)
    modes, quality = toy_results[name][0]
    ax.set(xlim=(-5, 5), ylim=(-5, 5), aspect="equal", xlabel="$x_1$",
           title=f"{name}\n{modes:.0f} modes, {quality:.0%} high quality")
axes[0].set_ylabel("$x_2$")
plt.show()

# %% [markdown]
# ## Does the WGAN loss mean something?
#
# **Can you read training progress off the discriminator's loss?** Chapter 5 showed that the vanilla loss cannot
# tell you: it measures one player against the other. A WGAN critic, if it is close to the supremum in
# {eq}`w1-dual`, reports an estimate of $W_1$ itself {cite}`arjovsky2017wasserstein`, which should fall as the
# samples improve. The probe above recorded both, every 50 steps of the grid runs, beside the exact $W_1$ between
# 500 generated and 500 real points. We compare them by Spearman's rank correlation over the 20 checkpoints of
# each seed: 1 when the two always move in the same direction, 0 when their orders are unrelated. **We check:
# the WGAN-GP critic's estimate has a rank correlation with $W_1$ above 0.5 on every seed and above 0.6 on
# average; the vanilla discriminator's loss has an average below 0.4, negative on some seeds and positive on
# others, so its direction says nothing about the samples.**

# %%
# (checkpoints, 3, seeds): rows critic estimate, BCE loss, exact W1
wgan_gp, vanilla = np.stack(probes["WGAN-GP"]), np.stack(probes["vanilla"])


def rank_correlation(record: np.ndarray, row: int) -> np.ndarray:
    """Spearman's rho of row ``row`` with the exact W1 over checkpoints, per seed."""
    return np.array([spearmanr(record[:, row, s], record[:, 2, s]).statistic
                     for s in range(record.shape[2])])


rho_wgan, rho_vanilla = rank_correlation(wgan_gp, 0), rank_correlation(vanilla, 1)
print("rank correlation with the exact W1, per seed:")
print("  WGAN-GP critic's estimate:   ", " ".join(f"{r:+.2f}" for r in rho_wgan))
print("  vanilla discriminator's loss:", " ".join(f"{r:+.2f}" for r in rho_vanilla))

steps = PROBE_EVERY * np.arange(1, len(wgan_gp) + 1)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.4), layout="constrained")
for ax, (title, record, row, label) in zip(axes, (
        ("WGAN-GP", wgan_gp, 0, r"critic: $\mathbb{E}f(x)-\mathbb{E}f(G(z))$"),
        ("vanilla", vanilla, 1, "discriminator's BCE loss")), strict=True):
    ax.plot(steps, record[:, 2, 0], color=BLACK, label="exact $W_1$ (500 vs 500)")
    ax.set(xlabel="generator step", ylabel="$W_1$", title=f"{title}, grid, seed 0")
    twin = ax.twinx()
    twin.plot(steps, record[:, row, 0], color=VERMILLION, ls="--", label=label)
    twin.set_ylabel(label, color=VERMILLION)
    ax.legend(frameon=False, loc="upper center")
plt.show()
assert rho_wgan.min() > 0.5 and rho_wgan.mean() > 0.6
assert rho_vanilla.mean() < 0.4 and rho_vanilla.min() < 0 < rho_vanilla.max()

# %% [markdown]
# The critic's estimate follows $W_1$ down (left), though not perfectly: the estimate is only as good as the
# critic, which five steps per generator step never train to the supremum, and 500-point $W_1$ has its own
# sampling noise. The vanilla loss (right) moves with the contest between the players, not with the samples. This is the
# property of the WGAN that survives on a small budget: its loss is a usable progress signal even when, as in the
# table above, it is not the fastest to train.

# %% [markdown]
# ## On MNIST
#
# **Does a remedy lift Chapter 4's digits to the bar it missed** ({term}`Fréchet distance <Fréchet distance (Fréchet 距离)>` below 20, confidence at least
# 0.90, all 10 classes, no class more than twice as frequent as another)? `benchmarks/remedies_mnist.py` trains
# Chapter 4's lean generator on Chapter 4's budget (2,500 iterations of 32 on a CPU) against the discriminator each
# remedy needs (`LeanDCGANCritic`: Chapter 4's lean discriminator without batch norm, spectrally normalised for
# SN + hinge) with `GANTrainer` and the remedy's objective, several seeds each, and scores both $G$ and an
# exponential moving average of its weights,
#
# $$
# \bar\theta_G \leftarrow 0.999\,\bar\theta_G + 0.001\,\theta_G \quad \text{after every generator step,}
# $$ (ema)
#
# kept by `torch.optim.swa_utils.AveragedModel` and updated by a hook on $G$'s optimiser, so the loop does not
# change. That sweep has not been run at full size yet, so this chapter states no MNIST result.

# %% [markdown]
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: remedies-ex-1
# Near the equilibrium the plain Dirac-GAN's simultaneous steps multiply the distance by
# $\sqrt{1 + h^2 f'(0)^2}$ each. Start at $(\theta, \psi) = (0.01, 0)$ and take 200 steps of size $h = 0.2$.
# Predict the final distance, then check it with `simulate`.
# ```
#
# ```{solution-start} remedies-ex-1
# :class: dropdown
# ```
#
# $(1 + 0.2^2 / 4)^{200 / 2} = 1.01^{100} \approx 2.70$, so the distance grows from 0.01 to 0.027. The points
# stay so close to 0 that $f'(\psi\theta)$ is $\frac12$ to many digits and the linear prediction holds.

# %%
h, n = 0.2, 200
predicted = 0.01 * (1 + h**2 * 0.25) ** (n / 2)
walked = simulate(DiracGAN(), torch.tensor(0.01), torch.tensor(0.0), lr=h, steps=n)
walked = walked[-1].norm().item()
print(f"predicted {predicted:.5f}, simulated {walked:.5f}")
assert abs(walked / predicted - 1) < 0.01

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: remedies-ex-2
# Which R1 weight $\gamma \in \{0.2, 1, 5\}$ brings the Dirac-GAN closest to the equilibrium in 100
# simultaneous steps of size 0.1 from $(1, 1)$? Predict it from the eigenvalues
# $\frac12\big(-\gamma \pm \sqrt{\gamma^2 - 1}\big)$ before you run it.
# ```
#
# ```{solution-start} remedies-ex-2
# :class: dropdown
# ```
#
# The slowest direction decays like $e^{t \max \mathrm{Re}\,\lambda}$. $\max \mathrm{Re}\,\lambda$ is
# $-\gamma / 2$ up to $\gamma = 1$ and $(-\gamma + \sqrt{\gamma^2 - 1}) / 2$ beyond: $-0.1$, $-0.5$ and $-0.05$.
# Critical damping, $\gamma = 1$, wins; too large a $\gamma$ makes the discriminator so stiff that the
# generator barely moves.

# %%
final = {g: simulate(DiracGAN(r1_gamma=g), *START, lr=0.1, steps=100)[-1].norm().item()
         for g in (0.2, 1.0, 5.0)}
slowest = {g: torch.linalg.eigvals(DiracGAN(r1_gamma=g).jacobian()).real.max().item()
           for g in final}
print("distance after 100 steps:", {g: f"{d:.2e}" for g, d in final.items()})
print("slowest eigenvalue's real part:", {g: round(r, 3) for g, r in slowest.items()})
assert min(final, key=final.get) == 1.0 == min(slowest, key=slowest.get)

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: remedies-ex-3
# A common WGAN-GP bug takes the gradient's norm over `dim=1` of a (B, 1, 28, 28) gradient, which for
# one-channel images is the absolute value of each pixel's gradient. For the linear critic above rescaled to
# $\|w\|_2 = 1$ (so the correct penalty is 0), predict roughly what the buggy penalty is, then compute it.
# ```
#
# ```{solution-start} remedies-ex-3
# :class: dropdown
# ```
#
# The bug asks every pixel's $|w_{ij}|$ to be 1, so it computes the mean of $(|w_{ij}| - 1)^2$ over the 784
# pixels. With $\|w\| = 1$ spread over 784 pixels each $|w_{ij}|$ is about $1/28$, and the mean is close to 1:
# a large penalty for a critic that is exactly 1-Lipschitz, pushing it towards a slope of 28.

# %%
with torch.no_grad():
    linear_critic[1].weight.div_(linear_critic[1].weight.norm())
x_hat = noise_images[:8].clone().requires_grad_(True)
(grad,) = torch.autograd.grad(linear_critic(x_hat).sum(), x_hat)  # (8, 1, 28, 28)
buggy = ((grad.norm(2, dim=1) - 1) ** 2).mean()
right = gradient_penalty(linear_critic, noise_images[:8], noise_images[8:16])
print(f"correct penalty {right:.2e}, norm over dim=1: {buggy:.3f}")
assert right < 1e-10 and buggy > 0.9

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - Gradient steps on a GAN follow a rotating field: on the Dirac-GAN they circle (alternating) or spiral out
#   (simultaneous). A penalty on the discriminator's gradient at the data (R1) or instance noise damps the
#   rotation; WGAN with clipping and WGAN-GP need not converge.
# - Each remedy is a loss pair, a penalty, a step after $D$'s update or a layer: `gancourse.objectives` and
#   `gancourse.stacked` make each an argument of the same loop, with unit tests of its mathematics.
# - Measured on a small budget, the ranking depends on the budget: at their papers' learning rates the WGANs
#   are the slowest starters on the grid, and no method reaches sharp modes in 1,000 steps.
