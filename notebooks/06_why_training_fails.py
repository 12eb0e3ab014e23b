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
# # 6. Why GAN training fails
#
# **Question: why does a {term}`GAN <generative adversarial network, GAN (生成对抗网络)>` oscillate instead of
# settling, and what, in principle, makes it settle?** Chapters 1, 3 and 4 met the symptoms: losses that swing
# for ever, samples that change without improving, and {term}`mode collapse <mode collapse (模式坍塌)>`. This
# chapter finds the cause on a game small enough to solve by hand, the Dirac-GAN: gradient steps on a two-player
# game follow a field that *rotates* around the equilibrium. Then it tries the three kinds of cure on it: change
# the game (a penalty or noise that damps the rotation), change the step (optimisers that look ahead), or change
# what you report (an average of the iterates). The next chapter writes the remedies used on real GANs and
# measures them.
#
# ```{admonition} In this chapter
# :class: tip
# You will compute the Dirac-GAN's vector field and its {term}`Jacobian <Jacobian (雅可比矩阵)>`, see
# simultaneous steps spiral out and alternating steps circle, damp the rotation with R1, R2 and instance noise,
# cure it with extragradient, optimistic steps and negative momentum, and average the iterates with and without a
# warm-up (each explained below).
#
# Running time: a few seconds on a 2-core CPU; nothing here needs a GPU.
# ```

# %%
import matplotlib.pyplot as plt
import torch

from gancourse.dirac import (
    DiracGAN,
    ema_average,
    polyak_average,
    simulate,
    update_matrix,
)
from gancourse.runtime import setup
from gancourse.viz import BLACK, BLUE, GREEN, ORANGE, PURPLE, VERMILLION

setup(seed=0, device="cpu")  # nothing below is random; the seed is for your experiments

# %% [markdown]
# The chapter in one picture: the problem at the top, found on the Dirac-GAN in the first section, and the
# three kinds of cure the later sections try.

# %% tags=["remove-input"]
from gancourse.diagrams import three_cures

three_cures()
plt.show()

# %% [markdown]
# ## Why does it oscillate? The Dirac-GAN
#
# Mescheder, Geiger and Nowozin {cite}`mescheder2018training` strip a GAN down to two numbers. The data are a
# single point at $x = 0$. The {term}`generator <generator (生成器)>` has one parameter and outputs it,
# $G = \theta$; the {term}`discriminator <discriminator (判别器)>` is linear, with raw score
# ({term}`logit <logit (对数几率)>`) $s_\psi(x) = \psi\,x$. With $f(t) = \log\sigma(t) = -\log(1 + e^{-t})$ the
# GAN's {term}`value function <value function (价值函数)>` of Chapter 2 becomes
#
# $$
# L(\theta, \psi) = f(\psi\theta) + f(0),
# $$ (dirac-game)
#
# which $D$ maximises over $\psi$ and $G$ minimises over $\theta$. The first term scores the generated point
# $\theta$; the second is the real-data term, $f(0)$ because the logit at the data point is $\psi \cdot 0 = 0$,
# so it is a constant that neither player can move. This is Mescheder et al.'s sign convention, in which $D$'s
# logit is high on *fakes*; with Chapter 2's (high on real data) the game is the same with $\psi$ replaced by
# $-\psi$. It is the minimax game: $G$ minimises $L$ itself. With the
# {term}`non-saturating loss <non-saturating loss (非饱和损失)>` $G$ would maximise $f(-\psi\theta)$ instead:
# a different field away from the equilibrium, but at it the same Jacobian $J$ (below), so what follows near the
# equilibrium holds for both. Since $f'(t) = \sigma(-t)$, $f'(0) = \frac12$ and $f''(0) = -\frac14$. The only
# equilibrium is $(\theta, \psi) = (0, 0)$: the generator sits on the data and the discriminator is flat, the
# {term}`Nash equilibrium <Nash equilibrium (纳什均衡)>` of this game. Gradient training moves the pair along the
# **vector field**
#
# $$
# v(\theta, \psi) = \begin{pmatrix} -\partial_\theta L \\ \partial_\psi L \end{pmatrix}
# = \begin{pmatrix} -\psi f'(\psi\theta) \\ \theta f'(\psi\theta) \end{pmatrix},
# \qquad
# J = \frac{\partial v}{\partial(\theta, \psi)}\Big|_{(0,0)} = \begin{pmatrix} 0 & -f'(0) \\ f'(0) & 0
# \end{pmatrix}.
# $$ (dirac-field)
#
# Each step of size $h$ moves the pair by $h\,v$; as $h$ shrinks, the steps trace a curve $x(t)$ with
# $\dot x = dx/dt = v(x)$, the **flow** of the field: what gradient training would do with infinitely small steps.
# The points $x_0, x_1, \dots$ that actual steps visit are the **iterates**.
#
# $J$ is the field's {term}`Jacobian <Jacobian (雅可比矩阵)>` at the equilibrium. **Linear stability in two
# lines:** near an equilibrium $x^*$ the flow is $\dot x \approx J(x - x^*)$, a sum of terms $e^{\mu t}$, one per
# eigenvalue $\mu$ of $J$; a term with $\mathrm{Re}\,\mu < 0$ decays, one with $\mathrm{Re}\,\mu = 0$ circles,
# one with $\mathrm{Re}\,\mu > 0$ grows.
#
# Here $J$ is a rotation: its eigenvalues $\pm i f'(0) = \pm i/2$ have no real part, so near the equilibrium the
# flow circles it and never comes closer. In fact the continuous flow conserves $\theta^2 + \psi^2$ everywhere,
# since $\frac{d}{dt}(\theta^2 + \psi^2) = 2\theta(-\psi f') + 2\psi(\theta f') = 0$: it runs on circles round
# the equilibrium. A **simultaneous** gradient step of size $h$ takes both players' gradients from one evaluation
# at the current point and applies them together, $x \leftarrow x + h\,v(x)$; near the equilibrium it multiplies
# the state by $I + hJ$, whose eigenvalues $1 \pm i h f'(0)$ have modulus $\sqrt{1 + h^2 f'(0)^2} > 1$: **each
# step moves outwards**. Alternating steps ($D$ first, $\psi \leftarrow \psi + h f'(0)\theta$, then $G$ against
# the new $D$, $\theta \leftarrow \theta - h f'(0)\psi$, as in Algorithm 1) multiply it near the equilibrium by
#
# $$
# A = \begin{pmatrix} 1 - h^2 f'(0)^2 & -h f'(0) \\ h f'(0) & 1 \end{pmatrix}, \qquad \det A = 1,
# $$ (dirac-alternating)
#
# whose eigenvalues, a complex-conjugate pair (for $h f'(0) < 2$), have equal moduli whose product is $\det A =
# 1$: each has modulus exactly 1, and the iterates circle for ever.
#
# `gancourse.dirac` writes {eq}`dirac-game` as a loss and lets autograd compute the field and its Jacobian, so
# the regularisers below are written the way a training loop writes them. Its tests check the eigenvalues against
# the closed forms of this section. **We check here that $J$'s eigenvalues are $\pm i/2$, and, with $h = 0.1$,
# that the simultaneous step's eigenvalues have modulus $\sqrt{1 + h^2/4}$ and the alternating step's matrix has
# determinant 1 and eigenvalues of modulus 1.**

# %%
J = DiracGAN().jacobian()  # (2, 2) float64; row 0: theta's component of v, row 1: psi's
eigenvalues = torch.linalg.eigvals(J)
print("Jacobian at (0, 0):", J.tolist(), "eigenvalues:",
      [f"{z.real:+.3f}{z.imag:+.3f}i" for z in eigenvalues.tolist()])
assert torch.allclose(eigenvalues.real, torch.zeros(2, dtype=torch.float64), atol=1e-12)
assert torch.allclose(eigenvalues.imag.abs(), torch.full_like(eigenvalues.real, 0.5))

H = 0.1
identity = torch.eye(2, dtype=torch.float64)
d_step, g_step = identity.clone(), identity.clone()
d_step[1] += H * J[1]  # D's step: psi <- psi + h (J[1, 0] theta + J[1, 1] psi)
g_step[0] += H * J[0]  # then G's step, from the new psi
step_matrices = {"simultaneous": identity + H * J, "alternating": g_step @ d_step}
moduli = {name: torch.linalg.eigvals(m).abs() for name, m in step_matrices.items()}
alternating_step = step_matrices["alternating"]
print("alternating step:", alternating_step.tolist(),
      f"det {torch.linalg.det(alternating_step):.6f}")
print("moduli of the eigenvalues:", {k: m.tolist() for k, m in moduli.items()})
one = torch.ones(2, dtype=torch.float64)

# %% tags=["hide-input"]
assert torch.allclose(moduli["simultaneous"], one * (1 + H**2 / 4) ** 0.5)
assert torch.isclose(torch.linalg.det(alternating_step), one[0])
assert torch.allclose(moduli["alternating"], one)

# %% [markdown]
# **What makes it converge.** The discriminator's gradient at the data, $\partial_x s = \psi$, is what the
# regularisers act on:
#
# - **R1** {cite}`mescheder2018training` is a {term}`gradient penalty <gradient penalty (梯度惩罚)>`:
#   $\frac{\gamma}{2}\,\|\nabla_x s(x)\|^2$ on *real* data only, here $\frac{\gamma}{2}\psi^2$. $D$
#   maximises $L$, so the penalty is subtracted, $L - \frac{\gamma}{2}\psi^2$, and $D$'s component of the field
#   gains $-\gamma\psi$: it adds $-\gamma$ to $J$'s lower-right entry, and the eigenvalues become $\frac12\big(-\gamma \pm \sqrt{\gamma^2 -
#   4f'(0)^2}\big)$, both with negative real parts. For $\gamma < 2f'(0) = 1$ they are complex: a spiral *into*
#   the equilibrium. At $\gamma = 1$ they meet at $-\frac12$, **critical damping**: the fastest decay without
#   rotation. For $\gamma > 1$ both are real and the state approaches the equilibrium directly, without circling
#   it. **R2** {cite}`mescheder2018training` is the same penalty on *fake* samples,
#   $\frac{\gamma}{2}\,\|\nabla_x s(G(z))\|^2$; for this linear discriminator the gradient is $\psi$ there too,
#   so R2 damps exactly as R1 does. With weights $\gamma_1$ (R1) and $\gamma_2$ (R2) the two together add
#   $-(\gamma_1 + \gamma_2)$, and critical damping is at $\gamma_1 + \gamma_2 = 1$.
# - **Instance noise** adds fresh noise $\varepsilon \sim \mathcal N(0, \sigma^2)$ to every real and every fake
#   sample the discriminator sees, so that the two distributions overlap even while the generator is off the
#   data. Expanding $f(\psi(x + \varepsilon)) \approx f(\psi x) + f'(\psi x)\,\psi\varepsilon + \frac12 f''(\psi
#   x)\,\psi^2\varepsilon^2$ and averaging over $\varepsilon$ adds $\frac12 f''\psi^2\sigma^2$ to each of the
#   two terms of $L$ near the equilibrium, $f''(0)\,\sigma^2\psi^2$ in all, so $D$'s component gains
#   $2f''(0)\,\sigma^2\psi$: it adds $2 f''(0)\,\sigma^2 = -\sigma^2/2$ to the same entry: the same damping, of
#   strength $\sigma^2/2$ (so with $\sigma = 1$, below critical: a spiral in).
# - **WGAN** {cite}`arjovsky2017wasserstein` (Chapter 7 derives it from the {term}`Wasserstein distance <Wasserstein distance (Wasserstein 距离 / 推土机距离)>`) uses $f(t) = t$
#   and clips $\psi$ to $[-c, c]$; **WGAN-GP**
#   {cite}`gulrajani2017improved` penalises $\lambda(|\partial_x s| - 1)^2 = \lambda(|\psi| - 1)^2$ instead. Neither
#   adds damping at the equilibrium: WGAN's $J$ is a rotation with eigenvalues $\pm i$ (clipping does nothing
#   where $|\psi| < c$), and WGAN-GP's penalty asks for $|\psi| = 1$, which the equilibrium $\psi = 0$ does not
#   have.
#
# **We check these Jacobians with autograd: R1 ($\gamma = 1$) adds exactly $-1$ to the lower-right entry, with a
# double eigenvalue $-\frac12$, and R1 with R2 ($\gamma_1 = \gamma_2 = \frac12$) the same; instance noise ($\sigma = 1$) adds $-\frac12$, with complex eigenvalues; WGAN's
# eigenvalues are $\pm i$.** Then we start 1,000 steps of size $h = 0.1$ at $(\theta, \psi) = (1, 1)$ for each
# variant ($\gamma = 1$, $\sigma = 1$, $c = 1$, $\lambda = 1$), both simultaneous and alternating, and plot them
# on the field.

# %%
N_STEPS = 1000
START = (torch.tensor(1.0), torch.tensor(1.0))
GAMES = {
    "GAN": DiracGAN(),
    "GAN + R1 (γ = 1)": DiracGAN(r1_gamma=1.0),
    "GAN + instance noise (σ = 1)": DiracGAN(noise_std=1.0),
    "WGAN, clip c = 1": DiracGAN("wgan", clip=1.0),
    "WGAN-GP (λ = 1)": DiracGAN("wgan", gp_weight=1.0),
}
# WGAN-GP's field jumps at psi = 0 (the penalty's kink): it has no Jacobian there
jacobians = {name: game.jacobian() for name, game in GAMES.items() if "GP" not in name}
for name, jacobian in jacobians.items():
    mu = torch.linalg.eigvals(jacobian).tolist()
    print(f"{name:30s} J = {jacobian.tolist()}, eigenvalues",
          [f"{z.real:+.3f}{z.imag:+.3f}i" for z in mu])
lower_right = torch.tensor([[0.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
assert torch.allclose(jacobians["GAN + R1 (γ = 1)"], J - 1.0 * lower_right)  # -γ
both = DiracGAN(r1_gamma=0.5, r2_gamma=0.5).jacobian()  # R1 + R2: -(γ1 + γ2)
assert torch.allclose(both, jacobians["GAN + R1 (γ = 1)"])
assert torch.allclose(jacobians["GAN + instance noise (σ = 1)"], J - 0.5 * lower_right)
mu_r1 = torch.linalg.eigvals(jacobians["GAN + R1 (γ = 1)"])
assert torch.allclose(mu_r1.real, -0.5 * one, atol=1e-6)  # a double eigenvalue -1/2
assert mu_r1.imag.abs().max() < 1e-6
mu_noise = torch.linalg.eigvals(jacobians["GAN + instance noise (σ = 1)"])
assert mu_noise.imag.abs().min() > 0.1  # complex: a spiral
mu_wgan = torch.linalg.eigvals(jacobians["WGAN, clip c = 1"])

# %% tags=["hide-input"]
assert torch.allclose(mu_wgan.real, 0 * one) and torch.allclose(mu_wgan.imag.abs(), one)

# %%
paths = {(name, alternating): simulate(game, *START, lr=H, steps=N_STEPS,
                                       alternating=alternating)
         for name, game in GAMES.items() for alternating in (False, True)}

axis = torch.linspace(-3, 3, 25, dtype=torch.float64)
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
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", title=name,
           xlabel=r"generator $\theta$")
axes[0].set_ylabel(r"discriminator $\psi$")
axes[0].legend(frameon=False, loc="lower left")
plt.show()

# %% tags=["hide-input"]
assert all(path.abs().max() < 3 for path in paths.values())  # every path is in view


# %% [markdown]
# The figure: grey arrows are the field $v$, the black dot the start, the orange star the equilibrium. **Look
# at** the first panel: simultaneous steps (red) spiral outwards, alternating ones (blue) circle. R1 at critical
# damping takes both straight into the star, instance noise spirals them in. Clipped WGAN keeps circling inside
# the strip $|\psi| \le c$; WGAN-GP stops with $\psi \approx 0$ but the generator away from the data.
#
# Why there? For $\psi > 0$ WGAN-GP's field is $\dot\theta = -\psi$, $\dot\psi = \theta + 2\lambda(1 - \psi)$:
# the {term}`critic <critic (评论家)>` relaxes towards $\psi = 1 + \theta / (2\lambda)$ while the generator moves at speed $\psi$, so both
# slide towards $(\theta, \psi) = (-2\lambda, 0)$ and reach it only asymptotically, with $\psi$ approaching 0 from
# above. It is not an equilibrium: the penalty's slope jumps at its kink $\psi = 0$, and just below 0 the field
# is $\dot\psi = \theta - 2\lambda(1 - |\psi|)$, which at $\theta = -2\lambda$ pushes $\psi$ down at speed
# $4\lambda$. The state stops only because it never crosses. The field is odd, $v(-\theta, -\psi) = -v(\theta,
# \psi)$, so the mirrored start $(-1, -1)$ slides to $\theta = +2\lambda$ with $\psi$ approaching 0 from below.
#
# **We check, after 1,000 steps: without a regulariser the distance to $(0, 0)$ has not shrunk (simultaneous: it
# has grown; alternating: it stays within 10% of the start); with R1 and with instance noise it is below
# $10^{-6}$, R1's paths never cross $\psi = 0$ and instance noise's do; with WGAN (clipped) and WGAN-GP it stays
# above 0.5; WGAN-GP's generator stops within 0.01 of $\theta = -2\lambda$ with $\psi > 0$ all the way, and from
# $(-1, -1)$ within 0.01 of $+2\lambda$ with $\psi < 0$ all the way.**

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
for alt in (False, True):
    assert paths["GAN + R1 (γ = 1)", alt][:, 1].min() >= 0  # straight in
    assert paths["GAN + instance noise (σ = 1)", alt][:, 1].min() < 0  # a spiral
for name in ("WGAN, clip c = 1", "WGAN-GP (λ = 1)"):
    assert all(distance(name, alt)[-200:].min() > 0.5 for alt in (False, True))
gp_game = GAMES["WGAN-GP (λ = 1)"]
mirrored = simulate(gp_game, -START[0], -START[1], lr=H, steps=N_STEPS)
final_theta = paths["WGAN-GP (λ = 1)", False][-1, 0].item()
print(f"WGAN-GP's generator stops at θ = {final_theta:.3f} from (1, 1), "
      f"at θ = {mirrored[-1, 0].item():.3f} from (-1, -1)")

# %% tags=["hide-input"]
assert abs(final_theta - (-2 * gp_game.gp_weight)) < 0.01
assert paths["WGAN-GP (λ = 1)", False][:, 1].min() > 0
assert abs(mirrored[-1, 0].item() - 2 * gp_game.gp_weight) < 0.01
assert mirrored[:, 1].max() < 0

# %% [markdown]
# Two lessons carry over to real GANs. Gradient steps on a game are not gradient descent on a loss: the field
# rotates, and nothing in it says "come closer". And what makes a GAN converge locally is damping at the
# equilibrium: a *zero-centred* gradient penalty (R1) or instance noise, so that a discriminator which has caught
# up stops pushing {cite}`mescheder2018training`. Chapter 1's runs came to rest by a different route: a
# learning-rate decay shrinks the steps until the circling stops wherever it happens to be, which does not cure
# it.

# %% [markdown]
# ## Changing the step instead of the game
#
# The flow itself circles; whether discrete steps spiral out, circle or spiral in is the optimiser's doing. This
# course's loops alternate (Algorithm 1). Code that takes both players' gradients from one forward pass and applies
# them together, as TensorFlow's {term}`DCGAN <DCGAN (深度卷积生成对抗网络)>` tutorial does, takes a **simultaneous** step: the one that spirals outwards
# above. Three other steps bring the Dirac-GAN in with no regulariser at all. Write $x = (\theta, \psi)$ and $a =
# f'(0)$, so that $J^2 = -a^2 I$:
#
# - **Extragradient** {cite}`korpelevich1976extragradient,gidel2019variational`: take a trial step $\tilde x = x +
#   h\,v(x)$, then step from $x$ with the field *at the trial point*, $x \leftarrow x + h\,v(\tilde x)$. Near the
#   equilibrium that multiplies the state by $I + hJ + h^2J^2$, whose eigenvalues $1 - h^2a^2 \pm i\,ha$ have
#   squared modulus $1 - h^2a^2 + h^4a^4$: below 1 whenever $ha < 1$. Looking ahead sees the rotation coming.
# - **Optimistic gradient** {cite}`daskalakis2018training`: $x_{t+1} = x_t + h\,(2v(x_t) - v(x_{t-1}))$.
#   $2v(x_t) - v(x_{t-1})$ extrapolates the field one step ahead from the last two, standing in for extragradient's
#   look-ahead with one field evaluation per step instead of two (Gidel et al. call it extrapolation from the past
#   {cite}`gidel2019variational`). Its linearised step, the matrix it multiplies the state by near the
#   equilibrium, contracts (repeated, it shrinks every state towards 0) whenever $ha < 1/\sqrt3$.
# - **Negative momentum** {cite}`gidel2019negative`: alternating steps with heavy-ball momentum $x_{t+1} = x_t +
#   h\,v + \beta\,(x_t - x_{t-1})$ and $\beta < 0$; they converge for small enough $h$ ($ha < 1$ at $\beta =
#   -0.5$), and only when alternating: with simultaneous steps no $\beta$ converges. With $\beta > 0$ the same
#   alternating steps spiral *out*. Adam keeps a running average of the gradients, its *first moment*
#   $m \leftarrow \beta_1 m + (1 - \beta_1)\,g$, and steps along $m$; before its per-coordinate scaling that is
#   heavy-ball momentum with $\beta = \beta_1$ and step $(1 - \beta_1)h$. So DCGAN's $\beta_1 = 0.5$ (which this
#   course's MNIST loops use) is positive momentum, already lowered from Adam's default 0.9; BigGAN and StyleGAN2
#   (two large image GANs) go to $\beta_1 = 0$.
#   (Adam's division by the running size of each gradient coordinate changes the dynamics, and a GAN built from
#   networks is not this linear game, which is why Chapter 4's run trains all the same; the direction of the effect is
#   what carries over.)
#
# `simulate(..., method=...)` runs each, and `update_matrix` gives each one's linearised step: the matrix that
# maps the state to the next one near the equilibrium. For the methods that remember the previous point the state
# is $(x_t, x_{t-1})$, four numbers, so the matrix is 4 × 4. The **spectral radius** of a step matrix, the largest
# modulus of its eigenvalues, says whether repeated steps shrink the state (below 1), keep it (1) or grow it.
# **We check, with $h = 0.1$: the spectral radius of the simultaneous step is above 1, the alternating step's is
# 1, extragradient's is $\sqrt{1 - h^2a^2 + h^4a^4}$, and those of optimistic steps and alternating steps with
# momentum $\beta = -0.5$ are below 1, while $\beta = +0.5$ gives one above 1, also with Adam's step
# $(1 - \beta_1)h$. Then on the GAN itself, not its linearisation, from $(1, 1)$: after 1,000 steps extragradient
# and optimistic steps end at most a third of the starting distance from the equilibrium, negative momentum at
# most three quarters of it, and positive momentum farther out than it started.**

# %%
STEPS_TRIED = {  # name: keyword arguments of simulate and update_matrix
    "simultaneous": {},
    "alternating": {"alternating": True},
    "extragradient": {"method": "extragradient"},
    "optimistic": {"method": "optimistic"},
    "momentum β = -0.5": {"method": "momentum", "alternating": True, "beta": -0.5},
    "momentum β = +0.5": {"method": "momentum", "alternating": True, "beta": 0.5},
}
radius = {  # the largest modulus of an eigenvalue of the linearised step
    name: torch.linalg.eigvals(update_matrix(J, H, **kw)).abs().max().item()
    for name, kw in STEPS_TRIED.items()
}
stepped = {name: simulate(DiracGAN(), *START, lr=H, steps=N_STEPS, **kw)
           for name, kw in STEPS_TRIED.items()}
for name in STEPS_TRIED:
    print(f"{name:18s} spectral radius {radius[name]:.6f}; distance after "
          f"{N_STEPS} steps {stepped[name][-1].norm():.3f} "
          f"(start {start_distance:.3f})")

fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
u, v = DiracGAN().vector_field(theta_grid, psi_grid)
ax.quiver(theta_grid, psi_grid, u, v, color="0.7", angles="xy", width=0.004)
colours = (VERMILLION, BLUE, GREEN, PURPLE, "0.55", "0.2")
for (name, path), colour in zip(stepped.items(), colours, strict=True):
    ax.plot(path[:, 0], path[:, 1], color=colour, lw=1.1, label=name)
ax.plot(*START, "o", color=BLACK)
ax.plot(0, 0, "*", color=ORANGE, ms=12)
ax.set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal", xlabel=r"generator $\theta$",
       ylabel=r"discriminator $\psi$", title=f"plain GAN, {N_STEPS} steps of h = {H}")
ax.legend(frameon=False, fontsize=8, loc="lower left")
plt.show()

assert radius["simultaneous"] > 1 and abs(radius["alternating"] - 1) < 1e-9
a = 0.5  # f'(0)
assert abs(radius["extragradient"] - (1 - (H * a) ** 2 + (H * a) ** 4) ** 0.5) < 1e-12
assert radius["optimistic"] < 1 and radius["momentum β = -0.5"] < 1
assert radius["momentum β = +0.5"] > 1
adam_like = update_matrix(J, H * 0.5, method="momentum", alternating=True, beta=0.5)
assert torch.linalg.eigvals(adam_like).abs().max() > 1  # step (1 - β1) h, β = β1 = 0.5
final = {name: path[-1].norm().item() for name, path in stepped.items()}

# %% tags=["hide-input"]
assert final["extragradient"] < start_distance / 3
assert final["optimistic"] < start_distance / 3
assert final["momentum β = -0.5"] < 0.75 * start_distance
assert final["momentum β = +0.5"] > start_distance

# %% [markdown]
# **Look at** the figure: extragradient (green) and optimistic steps (purple) nearly coincide and spiral in
# fastest, negative momentum (grey) spirals in more slowly, simultaneous steps (red) and positive momentum (black)
# spiral out, and alternating steps (blue) keep circling.

# %% [markdown]
# ## Averaging the iterates
#
# Alternating steps circle the equilibrium for ever, and the centre of a circle is the average of its points. So
# instead of the last iterate, report an average of all of them {cite}`yazici2019unusual`. Two averages are common:
#
# - the uniform (**Polyak**) mean $\bar x_n = \frac{1}{n+1}\sum_{t \le n} x_t$. Near the equilibrium the
#   alternating step rotates by an angle $\varphi$ with $\sin(\varphi/2) = ha/2$, and a sum of rotations is bounded,
#   $\big|\sum_{t \le n} e^{it\varphi}\big| \le 1/\sin(\varphi/2)$. So for *every* $n$, not only at a whole number of
#   turns, $\|\bar x_n\| \le 2r\,/\,((n+1)\,ha)$, with $r$ the orbit's largest radius: the mean closes in like
#   $1/n$. The bound is proven for the linearised step; on the GAN's own path we check that it holds;
# - an **exponential moving average** (EMA) $\hat x_t = \beta_t \hat x_{t-1} + (1 - \beta_t)\,x_t$, which forgets
#   old iterates. Once the start is forgotten it circles at a distance of order $r(1 - \beta)/\varphi$ (with
#   $\varphi \approx ha$), small when $\beta$ is close to 1. With a fixed $\beta$ from the first step, though, the
#   *starting* point keeps weight $\beta^t$: with $\beta = 0.9999$, still 90% after 1,000 steps. A **warm-up**,
#   $\beta_t = \min(\beta, (1 + t)/(10 + t))$ (the ramp of TensorFlow's `ExponentialMovingAverage`), lets the
#   average follow the iterates early on, and keeps each iterate's weight at least that of every earlier one.
#   Summing by parts (Abel summation) then gives $\|\hat x_t\| \le 2r(1 - \beta_t)/(ha)$ for every $t$ (a factor 2
#   looser than the distance it settles at). With the warm-up, $\beta_t$ is still about 0.99 at step 1,000: it
#   reaches 0.9999 only after about 90,000 steps.
#
# (For a network the same idea is applied to its weights {cite}`yazici2019unusual`:
# `gancourse.averaging.GeneratorAverage` keeps an EMA of $G$ whose half-life (how many more training images it
# takes for an earlier copy's share of the average to halve) grows with the images seen, as StyleGAN2-ADA does.
# It recomputes the {term}`batch-norm <batch normalization (批归一化)>` statistics for the averaged weights rather
# than averaging them.)
# **We check: a starting point keeps more than 90% of the weight after 1,000 steps of a fixed $\beta = 0.9999$.
# On the alternating path of the plain GAN, over 1,000 steps: the Polyak mean obeys its bound at every step,
# while the iterates, which start at distance $\sqrt2 \approx 1.41$, never come closer than 1.4; the EMA with
# $\beta = 0.99$ and warm-up obeys its bound at every step; and with $\beta = 0.9999$, after 1,000 steps, the EMA
# without warm-up is still more than 1.2 from the equilibrium, five times farther than with it.** The figure shows
# the distances on a logarithmic scale.

# %%
one_then_zeros = torch.tensor([1.0] + [0.0] * 1000)  # the average's weight on the start
start_weight = ema_average(one_then_zeros, beta=0.9999, warmup=False)
print(f"weight of the start after 1,000 steps of β = 0.9999: {start_weight[-1]:.4f}")
assert start_weight[-1] > 0.9

circling = simulate(DiracGAN(), *START, lr=H, steps=N_STEPS, alternating=True)
r = circling.norm(dim=1).max()  # (N_STEPS + 1, 2) path; its largest distance
n = torch.arange(len(circling), dtype=torch.float64)
polyak = polyak_average(circling).norm(dim=1)
polyak_bound = 2 * r / ((n + 1) * H * a)
ema = ema_average(circling, beta=0.99).norm(dim=1)
beta_t = torch.minimum(torch.full_like(n, 0.99), (1 + n) / (10 + n))
ema_bound = 2 * r * (1 - beta_t) / (H * a)
slow = {warm: ema_average(circling, beta=0.9999, warmup=warm).norm(dim=1)
        for warm in (True, False)}
for steps in (250, 500, 900, 1000):
    print(f"after {steps:4d} steps: Polyak mean {polyak[steps]:.4f} "
          f"(bound {polyak_bound[steps]:.4f}), EMA 0.99 {ema[steps]:.3f} "
          f"(bound {ema_bound[steps]:.3f})")
print(f"EMA 0.9999 after {N_STEPS} steps: {slow[True][-1]:.3f} with warm-up, "
      f"{slow[False][-1]:.3f} without")

fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
t = n[1:]
curves = [(circling.norm(dim=1), "iterates", BLACK, "-"),
          (polyak, "Polyak mean", BLUE, "-"),
          (polyak_bound, "its bound", BLUE, ":"),
          (ema, "EMA β = 0.99, warm-up", GREEN, "-"),
          (ema_bound, "its bound", GREEN, ":"),
          (slow[False], "EMA β = 0.9999, no warm-up", VERMILLION, "-")]
for values, label, colour, style in curves:
    ax.loglog(t, values[1:], style, color=colour, lw=1.2, label=label)
ax.set(xlabel="step t", ylabel="distance to the equilibrium",
       title="averaging the alternating path of the plain GAN")
ax.legend(frameon=False, fontsize=8, ncol=2)
plt.show()

# %% tags=["hide-input"]
assert (polyak <= polyak_bound).all() and circling.norm(dim=1).min() > 1.4
assert (ema[1:] <= ema_bound[1:]).all()
assert slow[False][-1] > 1.2 and slow[False][-1] > 5 * slow[True][-1]

# %% [markdown]
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: dynamics-ex-1
# Near the equilibrium the plain Dirac-GAN's simultaneous steps multiply the distance by
# $\sqrt{1 + h^2 f'(0)^2}$ each. Start at $(\theta, \psi) = (0.01, 0)$ and take 200 steps of size $h = 0.2$.
# Predict the final distance, then check it with `simulate`.
# ```
#
# ```{solution-start} dynamics-ex-1
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

# %% tags=["hide-input"]
assert abs(walked / predicted - 1) < 0.01

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: dynamics-ex-2
# Which R1 weight $\gamma \in \{0.2, 1, 5\}$ brings the Dirac-GAN closest to the equilibrium in 100
# simultaneous steps of size 0.1 from $(1, 1)$? Predict it from the eigenvalues
# $\mu = \frac12\big(-\gamma \pm \sqrt{\gamma^2 - 1}\big)$ before you run it.
# ```
#
# ```{solution-start} dynamics-ex-2
# :class: dropdown
# ```
#
# The slowest direction decays like $e^{t \max \mathrm{Re}\,\mu}$. $\max \mathrm{Re}\,\mu$ is $-\gamma / 2$ up to
# $\gamma = 1$ and $(-\gamma + \sqrt{\gamma^2 - 1}) / 2$ beyond: $-0.1$, $-0.5$ and $-0.05$. Critical damping,
# $\gamma = 1$, wins. A larger $\gamma$ *overdamps*: $\dot\psi = f'(0)\theta - \gamma\psi$ makes $\psi$ settle
# quickly at $\psi \approx f'(0)\theta/\gamma$, and then $\dot\theta = -f'(0)\psi \approx -f'(0)^2\theta/\gamma$,
# a slow decay with rate $f'(0)^2/\gamma = 1/(4\gamma)$: the slow eigenvalue is about $-1/(4\gamma) = -0.05$ for
# $\gamma = 5$.

# %%
final = {g: simulate(DiracGAN(r1_gamma=g), *START, lr=0.1, steps=100)[-1].norm().item()
         for g in (0.2, 1.0, 5.0)}
slowest = {g: torch.linalg.eigvals(DiracGAN(r1_gamma=g).jacobian()).real.max().item()
           for g in final}
print("distance after 100 steps:", {g: f"{d:.2e}" for g, d in final.items()})
print("slowest eigenvalue's real part:", {g: round(r, 4) for g, r in slowest.items()})

# %% tags=["hide-input"]
assert min(final, key=final.get) == 1.0 == min(slowest, key=slowest.get)
assert abs(slowest[5.0] / (-1 / (4 * 5.0)) - 1) < 0.02  # the overdamped approximation

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - Gradient steps on a GAN follow a vector field that rotates around the equilibrium. On the Dirac-GAN the
#   continuous flow circles, simultaneous steps spiral out and alternating steps (Algorithm 1) circle for ever:
#   nothing in the game itself says "come closer".
# - **Change the game:** a zero-centred penalty on the discriminator's gradient, R1 on real data or R2 on fakes,
#   or instance noise, damps the rotation so that the equilibrium attracts. WGAN with clipping does not damp it,
#   and WGAN-GP's penalty asks for a slope of 1, which the equilibrium does not have.
# - **Change the step:** extragradient and optimistic steps look ahead and spiral in; negative momentum helps
#   alternating steps, positive momentum (Adam's $\beta_1$ is one) pushes them out.
# - **Change what you report:** the uniform mean of circling iterates closes in like $1/n$; an exponential moving
#   average needs a warm-up, or it remembers the start.
# - The next chapter writes the remedies used on real networks, each as an equation and a few lines of code, and
#   measures them fairly.
