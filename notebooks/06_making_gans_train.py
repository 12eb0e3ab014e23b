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
# Colab only: install the course package. Everywhere else `make` has installed it already.
import subprocess
import sys

REPOSITORY = "https://github.com/gancourse/gancourse"
if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"gancourse @ git+{REPOSITORY}@main"], check=True)

# %% [markdown]
# # 6. Making GANs train
#
# **Question: my GAN oscillates or collapses: which fix do I try, and why does it work?** Chapters 3 and 4 met
# the two failures, non-convergence and mode collapse, and one remedy (packing). This chapter first shows *why*
# gradient steps on a GAN circle instead of settling, on a game small enough to solve by hand. Then it writes
# each of the classic remedies as an equation and a few lines of code, and measures them side by side: on the
# 25-Gaussian grid, where modes can be counted, and on MNIST with the evaluator of Chapter 5.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from gancourse.dirac import DiracGAN, simulate
from gancourse.runtime import setup
from gancourse.viz import BLACK, BLUE, ORANGE, VERMILLION

device = setup(seed=0)

# %% [markdown]
# ## Why does it oscillate? The Dirac-GAN
#
# Mescheder, Geiger and Nowozin {cite}`mescheder2018training` strip a GAN down to two numbers. The data are a
# single point at $x = 0$. The generator has one parameter and outputs it, $G = \theta$; the discriminator is
# linear, $D_\psi(x) = \psi\,x$. With $f(t) = -\log(1 + e^{-t})$ the GAN's value function of Chapter 2 becomes
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
assert torch.allclose(eigenvalues.imag.abs(), torch.full((2,), 0.5, dtype=torch.float64))

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
paths = {(name, alternating): simulate(game, *START, lr=H, steps=N_STEPS, alternating=alternating)
         for name, game in GAMES.items() for alternating in (False, True)}

axis = torch.linspace(-2.5, 2.5, 21, dtype=torch.float64)
theta_grid, psi_grid = torch.meshgrid(axis, axis, indexing="xy")
fig, axes = plt.subplots(1, len(GAMES), figsize=(17, 3.8), sharey=True, layout="constrained")
for ax, (name, game) in zip(axes, GAMES.items(), strict=True):
    u, v = game.vector_field(theta_grid, psi_grid)
    ax.quiver(theta_grid, psi_grid, u, v, color="0.6", angles="xy", width=0.004)
    for alternating, colour in ((False, VERMILLION), (True, BLUE)):
        path = paths[name, alternating]
        ax.plot(path[:, 0], path[:, 1], color=colour, lw=1.2,
                label="alternating" if alternating else "simultaneous")
    ax.plot(*START, "o", color=BLACK)
    ax.plot(0, 0, "*", color=ORANGE, ms=12)
    ax.set(xlim=(-2.5, 2.5), ylim=(-2.5, 2.5), aspect="equal", title=name, xlabel=r"generator $\theta$")
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
    print(f"{name:30s} distance after {N_STEPS} steps: simultaneous {distance(name, False)[-1]:.2e}, "
          f"alternating {distance(name, True)[-1]:.2e} (start {start_distance:.2f})")
assert distance("GAN", False)[-1] > start_distance
assert abs(distance("GAN", True)[-1] / start_distance - 1) < 0.1
for name in ("GAN + R1 (γ = 1)", "GAN + instance noise (σ = 1)"):
    assert distance(name, False)[-1] < 1e-6 and distance(name, True)[-1] < 1e-6
for name in ("WGAN, clip c = 1", "WGAN-GP (λ = 1)"):
    assert distance(name, False)[-200:].min() > 0.5 and distance(name, True)[-200:].min() > 0.5
final_theta = paths["WGAN-GP (λ = 1)", False][-1, 0].item()
print(f"WGAN-GP's generator stops at θ = {final_theta:.3f}")
assert abs(final_theta - (-2 * GAMES["WGAN-GP (λ = 1)"].gp_weight)) < 0.01

# %% [markdown]
# Two lessons carry over to real GANs. Gradient steps on a game are not gradient descent on a loss: the field
# rotates, and nothing in it says "come closer". And what makes a GAN converge locally is a penalty on the
# discriminator's gradient *at the data*, so that a discriminator which has caught up stops pushing
# {cite}`mescheder2018training`. Chapter 1's runs needed a learning-rate decay for the same reason.
