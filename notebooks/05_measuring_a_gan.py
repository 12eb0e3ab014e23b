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
# # 5. Measuring a GAN
#
# **Question: how do you know whether a {term}`generator <generator (生成器)>` is good, without staring at sample grids?** The {term}`GAN <generative adversarial network, GAN (生成对抗网络)>` losses
# do not say: they measure one player against the other, and both players keep changing. This chapter builds
# numbers that do say, computes them on real data, on junk and on a training run, and shows what each one can and
# cannot see.
#
# ```{admonition} In this chapter
# :class: tip
# You will compute {term}`Fréchet distance <Fréchet distance (Fréchet 距离)>`,
# {term}`KID <kernel inception distance, KID (核 Inception 距离)>`, precision and recall offline; read every measure
# against real and junk baselines; and see what each measure cannot see.
#
# Running time: the {doc}`../book/performance` page lists what each chapter takes on a 2-core CPU; on a
# GPU it has not been measured yet.
# ```

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.optim.lr_scheduler import LambdaLR
from torchvision.transforms.functional import gaussian_blur

from gancourse.classifier import accuracy, load_classifier
from gancourse.data import load_mnist
from gancourse.metrics import (
    class_coverage,
    classifier_outputs,
    classifier_score,
    confidence,
    feature_frechet_distance,
    kid,
    polynomial_mmd2,
    precision_recall,
)
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.runtime import seed_everything, setup
from gancourse.train import GANTrainer, TrainConfig, linear_decay
from gancourse.viz import BLACK, BLUE, GREEN, ORANGE, PURPLE, VERMILLION, show_grid

device = setup(seed=0, device="cpu")  # on every machine: where the checks were measured
STEPS = 3000
N = 1000  # digits per set in every comparison of this course

# %% [markdown]
# How this chapter measures a set of digits: one frozen classifier reads both the generated digits and real
# reference digits, and every measure is computed from what it outputs. The sections below build each box.

# %% tags=["remove-input"]
from gancourse.diagrams import measuring_digits

measuring_digits()
plt.show()

# %% [markdown]
# ## Inception Score and FID, in principle
#
# Two numbers dominate the literature. Both push samples through Inception-v3, a convolutional classifier trained
# on ImageNet, a data set of 1.2 million photographs in 1,000 classes:
#
# - The **{term}`Inception Score <Inception Score, and our Inception-style score (Inception 分数 / 类 Inception 分数)>`** {cite}`salimans2016improved` is
#   $\exp\big(\mathbb E_x\, \mathrm{KL}(p(y\mid x)\,\|\,p(y))\big)$: high when each sample is confidently one
#   class ($p(y \mid x)$ peaked) and the classes vary across samples ($p(y)$ flat, where
#   $p(y) = \mathbb E_x\, p(y \mid x)$ is the class mix over all samples). It never looks at real data.
# - The **Fréchet Inception Distance** {cite}`heusel2017gans` fits a Gaussian to the classifier's penultimate
#   features (the activations of the layer just before the class output) of real and of generated images and
#   reports
#
# $$
# \mathrm{FD} = \|\mu_r - \mu_g\|^2
#   + \operatorname{tr}\!\Big(\Sigma_r + \Sigma_g - 2\big(\Sigma_r \Sigma_g\big)^{1/2}\Big),
# $$ (eq-fd)
#
#   where $\mu_r, \Sigma_r$ and $\mu_g, \Sigma_g$ are the mean and covariance of the real and of the generated
#   features, $\operatorname{tr}$ is the trace (the sum of the diagonal) and $(\cdot)^{1/2}$ the matrix square
#   root (the matrix whose square is the one inside). It is the squared Wasserstein-2 distance between the two
#   Gaussians; Wasserstein-2 is like $W_1$ of Chapter 2 but with squared travel distances: the square root of the
#   least mean squared distance the mass must move. Lower is better; it sees both quality and variety, and it is
#   compared against real data.
#
# Both need Inception weights from the internet and, for FID, 10,000 or more samples to be comparable. For
# 28×28 digits we use the same formulas with a **small classifier trained on digits** and shipped with the
# package (`gancourse.classifier`, trained by `python -m gancourse.classifier train` on the 4,000 offline
# training digits). The numbers are in the same spirit and run in seconds on a CPU, but they are **not
# comparable to published FID or Inception Score values**.
#
# Every measure compares against **reference digits that no network of this course trained on**:
# `load_mnist(train=False)`, of which we take the first 1,000 (offline these are all 1,000 held-out digits of
# the sample that ships with `gancourse`, 100 per class; with MNIST's files they are the first 1,000 of its
# 10,000 test digits). The frozen classifier never saw them either: we check that it reads at least 96% of them
# right. The evaluator runs the classifier once per set, `classifier_outputs(images)` → (features (N, 64), class
# probabilities (N, 10)), and each measure is one function of those:
#
# | function | takes | computes | good value |
# |---|---|---|---|
# | `feature_frechet_distance` | features | {eq}`eq-fd` | near the real-vs-real floor |
# | `kid` | features | kernel distance, unbiased (below) | near 0 |
# | `precision_recall` | features | fidelity and coverage (below) | both near the real floor |
# | `class_coverage` | probabilities | predicted classes: present, KL to uniform, max/min | 10, ≈ 0, ≈ 1 |
# | `confidence` | probabilities | mean of the largest class probability | high, but see below |
# | `classifier_score` | probabilities | the Inception Score's formula | up to 10 |
#
# In `class_coverage`, *present* counts the classes predicted for at least 1% of the digits, *KL to uniform* is
# the KL divergence from the histogram of predicted classes to the uniform one (0 when even, $\log 10$ for a
# single class), and *max/min* divides the most frequent class's count by the least frequent's.

# %%
test_digits = load_mnist(train=False)
reference = test_digits.images[:N].to(device)  # no network here trained on them
reference_labels = test_digits.labels[:N]
held_out_accuracy = accuracy(load_classifier(), reference.cpu(), reference_labels)
print(f"classifier accuracy on the {N:,} reference digits: {held_out_accuracy:.1%}")
assert held_out_accuracy >= 0.96
ref_features, ref_probs = classifier_outputs(reference)  # (1000, 64), (1000, 10)

train_digits = load_mnist(train=True)  # what the GAN below trains on
real_train = train_digits.images.to(device)
train_labels = train_digits.labels.to(device)
order = torch.randperm(len(real_train), generator=torch.Generator().manual_seed(0))
order = order.to(device)

# %% [markdown]
# ## Baselines: the floor and the ceiling
#
# A number means little alone. We compute each measure for 1,000 real training digits against the reference
# (the best a generator can hope for), and for three kinds of junk: the reference digits blurred, the same digits
# with their pixels shuffled, and uniform noise. **We check that the {term}`Fréchet distance <Fréchet distance (Fréchet 距离)>` orders them as expected,
# real < blurred < shuffled < noise, with the real floor below 3 and noise more than 1,000 times higher.**


# %%
def report(images: torch.Tensor) -> dict:
    """The Fréchet distance to the reference and the class measures of N digits."""
    features, probs = classifier_outputs(images)
    coverage = class_coverage(probs)
    return {
        "features": features,
        "FD": feature_frechet_distance(features, ref_features),
        "classes": coverage.classes_present,
        "KL to uniform": coverage.kl_to_uniform,
        "confidence": confidence(probs),
        "score": classifier_score(probs),
    }


def print_table(rows: dict) -> None:
    columns = ("FD", "classes", "KL unif", "confid.", "score")
    print(f"{'':26s}" + "".join(f"{c:>9s}" for c in columns))
    for name, r in rows.items():
        print(f"{name:26s}{r['FD']:9.2f}{r['classes']:9d}{r['KL to uniform']:9.3f}"
              f"{r['confidence']:9.3f}{r['score']:9.2f}")


torch.manual_seed(0)
shuffle = torch.randperm(784)  # one fixed permutation of the pixels for every digit
baselines = {
    "real (train vs reference)": real_train[order[:N]],  # a random 1,000, all classes
    "blurred digits": gaussian_blur(reference, kernel_size=5, sigma=2.0),
    "pixel-shuffled digits": reference.flatten(1)[:, shuffle].view(N, 1, 28, 28),
    "uniform noise": torch.rand(N, 1, 28, 28, device=device) * 2 - 1,
}
rows = {name: report(images) for name, images in baselines.items()}
print_table(rows)
fd = [rows[name]["FD"] for name in baselines]
real_row, noise_row = rows["real (train vs reference)"], rows["uniform noise"]

# %% tags=["hide-input"]
assert fd[0] < fd[1] < fd[2] < fd[3]
assert fd[0] < 3 and fd[3] > 1000 * fd[0]

# %% [markdown]
# **Look at the confidence column:** the classifier is *more* confident on uniform noise than on real digits.
# Softmax classifiers say nothing reliable about inputs unlike their training data, and noise is very unlike it.
# Confidence alone would rank noise as the best of the four; the Fréchet distance, which compares against real
# data, ranks it last. **We check: noise gets the highest confidence of the four rows, above 0.95, and a
# classifier score below 1.5 (one class for everything).**
#
# The first row is also what a generator would get by **copying its training digits**: copies are real digits,
# so every measure puts such a generator at the real floor, and no measure in this chapter can tell memorising
# from generalising. Chapter 4's nearest-neighbour search is the check for that.

# %% tags=["hide-input"]
assert max(rows, key=lambda name: rows[name]["confidence"]) == "uniform noise"
assert noise_row["confidence"] > 0.95 and noise_row["score"] < 1.5

# %% [markdown]
# ## The loss is not a quality measure
#
# We train the MLP GAN of Chapter 3 again on the training digits, this time with both learning rates decaying
# linearly to 10% over the run, and keep 1,000 fixed-noise samples at ten points. For each we compute the Fréchet
# distance, and beside it the {term}`discriminator <discriminator (判别器)>`'s loss averaged over the 100 steps before.
#
# **We check three things.** The last
# samples are more than twice as close to real digits as those at step 25. Training is not monotone: some
# checkpoint is more than 1.2 times as far as the one before it (a *setback*; we show the first). And the loss
# does not see it: across that setback the discriminator's loss does not rise by more than 0.05, and from step
# 500 to the end it falls overall: the discriminator gets ahead, whatever the samples
# did on the way.

# %%
CHECKPOINTS = (25, 50, 100, 250, 500, 1000, 1500, 2000, 2500, 3000)

seed_everything(0)
G = MLPGenerator(100, (1, 28, 28), hidden=(256, 256), tanh=True).to(device)
D = MLPDiscriminator((1, 28, 28), hidden=(256, 256)).to(device)
opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
decay = linear_decay(STEPS, start=0.0, floor=0.1)  # from 1 down to 0.1 at the end
trainer = GANTrainer(
    G, D, opt_g, opt_d, real=real_train, latent_dim=100, device=device,
    config=TrainConfig(batch_size=64, snapshot_at=CHECKPOINTS, n_fixed=N, log_every=25),
    schedulers=[LambdaLR(opt, decay) for opt in (opt_g, opt_d)],
)
history = trainer.train(STEPS, desc="MLP GAN")

snapshots = [history.snapshots[s].to(device) for s in CHECKPOINTS]
run_fd = np.array([report(images)["FD"] for images in snapshots])
d_loss = np.array([np.mean(history.d_loss[max(0, s - 100) : s]) for s in CHECKPOINTS])
for step, f, loss in zip(CHECKPOINTS, run_fd, d_loss, strict=True):
    print(f"step {step:5d}: FD {f:8.1f}   D loss (mean of previous 100) {loss:.3f}")
setbacks = np.flatnonzero(run_fd[1:] > 1.2 * run_fd[:-1]) + 1  # 1.2 x the one before
assert run_fd[-1] < run_fd[0] / 2
assert len(setbacks) > 0
setback = int(setbacks[0])  # the first: the one the grids below show
assert d_loss[setback] < d_loss[setback - 1] + 0.05
late = CHECKPOINTS.index(500)

# %% tags=["hide-input"]
assert d_loss[-1] < d_loss[late]

# %% [markdown]
# **Look at** the two curves: the Fréchet distance (log scale, blue) falls with setbacks along the way; the
# discriminator's loss (orange) does not mark them. The grids are the samples the numbers describe: the first
# checkpoint, the setback, and the end.

# %%
fig, ax = plt.subplots(figsize=(8, 3.3), layout="constrained")
ax.semilogy(CHECKPOINTS, run_fd, "o-", color=BLUE, lw=2, label="Fréchet dist. (left)")
ax.axhline(real_row["FD"], color=BLUE, ls=":", lw=1, label="real-vs-real floor")
ax.set_xlabel("training step")
ax.set_ylabel("Fréchet distance")
right = ax.twinx()
right.plot(CHECKPOINTS, d_loss, "s--", color=ORANGE, lw=2, label="D loss (right)")
right.set_ylabel("discriminator loss")
right.set_ylim(0, 1.5)
fig.legend(loc="upper right", frameon=False, bbox_to_anchor=(0.88, 0.95))
plt.show()

fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), layout="constrained")
for ax, index in zip(axes, (0, setback, len(CHECKPOINTS) - 1), strict=True):
    title = (f"step {CHECKPOINTS[index]}: FD {run_fd[index]:.0f}, "
             f"D loss {d_loss[index]:.2f}")
    show_grid(snapshots[index][:36], nrow=6, ax=ax, title=title)
plt.show()

# %% [markdown]
# ## Quality is not variety
#
# A generator can make excellent samples of too few kinds. The extreme case: a generator that has collapsed onto
# one class and outputs real, perfect 1s. We stand in for it with 400 real 1s of the training set (offline
# there are exactly 400). The Fréchet distance depends on the number of samples (the last section measures how
# much), so we compare it at equal $n = 400$ with 400 random real training digits and the first 400 samples of
# the MLP GAN at the end of its run. **We check: the collapsed set's confidence is above 0.95 (every sample is a
# convincing digit), yet at most 2 classes are present, its {term}`KL <Kullback–Leibler divergence, KL (KL 散度)>` to uniform is above 1.5 nats, its classifier
# score is below 1.5 against above 8 for real digits, and its Fréchet distance is more than 20 times the real
# floor.** Here coverage, the score and the Fréchet distance catch the collapse and confidence does not; none of
# them would catch the copying of the baselines section, and the score never looks at real data at all.

# %%
SMALL = 400
small_sets = {
    "real (train vs reference)": real_train[order[:SMALL]],
    f"MLP GAN, step {STEPS}": snapshots[-1][:SMALL],
    "only real 1s (collapsed)": real_train[train_labels == 1][:SMALL],
}
small_rows = {name: report(images) for name, images in small_sets.items()}
print_table(small_rows)
small_real, small_gan, collapsed = small_rows.values()

# %% tags=["hide-input"]
assert len(small_sets["only real 1s (collapsed)"]) == SMALL
assert collapsed["confidence"] > 0.95
assert collapsed["classes"] <= 2 and collapsed["KL to uniform"] > 1.5
assert collapsed["score"] < 1.5 < 8 < classifier_score(ref_probs)
assert collapsed["FD"] > 20 * small_real["FD"]

# %% [markdown]
# Compare the collapsed set's Fréchet distance with the MLP GAN's: **they are within a factor of 3 of each
# other** (we check it), although one makes perfect digits of one class and the other imperfect digits of every
# class. A single number mixes quality and variety. The next section separates them.

# %%
print(f"FD at n = {SMALL}: real 1s {collapsed['FD']:.0f}, GAN {small_gan['FD']:.0f}")

# %% tags=["hide-input"]
assert 1 / 3 < collapsed["FD"] / small_gan["FD"] < 3

# %% [markdown]
# ## Precision and recall: fidelity and coverage apart
#
# **Question: are the samples realistic, and do they cover everything real data does?** Those are two
# questions, and a blurry generator fails the first while a collapsed one fails the second.
# Kynkäänniemi et al. {cite}`kynkaanniemi2019improved` answer each with a share of points. Estimate the region
# (the *manifold*) a set of features $\Phi$ occupies as a union of balls, one around each point $\phi$, reaching
# to its $k$-th nearest neighbour $\mathrm{NN}_k(\phi)$ in the same set:
#
# $$
# \mathrm{in}(x, \Phi) = 1 \text{ if } \|x - \phi\| \le \|\phi - \mathrm{NN}_k(\phi)\| \text{ for some }
#   \phi \in \Phi, \text{ else } 0,
# $$ (eq-manifold)
#
# $$
# \text{precision} = \frac{1}{|\Phi_g|} \sum_{x \in \Phi_g} \mathrm{in}(x, \Phi_r), \qquad
# \text{recall} = \frac{1}{|\Phi_r|} \sum_{x \in \Phi_r} \mathrm{in}(x, \Phi_g).
# $$ (eq-precision-recall)
#
# Precision is the share of generated samples that land where real data lives; recall is the share of real
# data the generator's samples reach. With $k = 3$ (the paper's choice and our default) we compute both for the
# four sets of 400 digits (real training digits, the MLP GAN's last samples, the collapsed 1s, and a random 400
# of the blurred reference digits), each against the 1,000 reference digits. **We check the direction the
# definitions predict: the collapsed 1s have precision above 0.85 and recall below 0.3; the blurred digits have
# precision below 0.5, below the collapsed set's; real digits have both above 0.85.**

# %%
pick = torch.randperm(N, generator=torch.Generator().manual_seed(1))[:SMALL].to(device)
small_sets["blurred digits"] = baselines["blurred digits"][pick]  # a random 400
small_rows["blurred digits"] = report(small_sets["blurred digits"])
pr = {name: precision_recall(ref_features, row["features"])
      for name, row in small_rows.items()}
for name, result in pr.items():
    print(f"{name:26s} {result}")
real_pr, gan_pr, collapsed_pr, blurred_pr = pr.values()

# %% tags=["hide-input"]
assert collapsed_pr.precision > 0.85 and collapsed_pr.recall < 0.3
assert blurred_pr.precision < 0.5 and blurred_pr.precision < collapsed_pr.precision
assert real_pr.precision > 0.85 and real_pr.recall > 0.85

# %% [markdown]
# **Look at** where each set sits: real digits in the top right corner, the collapsed set high and to the left
# (faithful, narrow), the blurred digits low (unfaithful), and the MLP GAN between.

# %%
fig, ax = plt.subplots(figsize=(4.6, 4.2), layout="constrained")
colours = (BLACK, BLUE, VERMILLION, GREEN)
for (name, result), colour in zip(pr.items(), colours, strict=True):
    ax.plot(result.recall, result.precision, "o", ms=9, color=colour, label=name)
ax.set(xlim=(-0.03, 1.03), ylim=(-0.03, 1.03), xlabel="recall (coverage)",
       ylabel="precision (fidelity)", title=f"k = 3, n = {SMALL} vs {N} reference")
ax.legend(loc="lower right", frameon=False, fontsize=8)
plt.show()

# %% [markdown]
# ## How many samples do you need?
#
# The Fréchet distance is estimated from sample means and covariances, and it is **biased upwards**: two sets of
# real digits drawn from the same distribution get a positive distance that shrinks roughly like $1/n$ as the
# sets grow. With 64 features, a few hundred samples are far too few.
#
# The **{term}`Kernel Inception Distance <kernel inception distance, KID (核 Inception 距离)>`**
# {cite}`binkowski2018demystifying` avoids that bias. A *kernel* $k(x, y)$ scores how similar two feature vectors
# are, and the squared *maximum mean discrepancy* (MMD) is the mean similarity within each set, summed, minus
# twice the mean similarity across the sets: 0 when both come from one distribution. KID is the squared MMD with
# the cubic kernel $k(x, y) = (x^\top y / d + 1)^3$ on the $d = 64$ features, estimated without bias from $m$
# samples $x$ and $n$ samples $y$:
#
# $$
# \mathrm{KID} = \frac{\sum_{i \ne j} k(x_i, x_j)}{m(m-1)} + \frac{\sum_{i \ne j} k(y_i, y_j)}{n(n-1)}
#   - \frac{2 \sum_{i, j} k(x_i, y_j)}{mn}.
# $$ (eq-kid)
#
# Leaving out the $i = j$ terms is what makes its expectation the true discrepancy at every $n$, which is 0 for
# two sets of one distribution; a single estimate can therefore be slightly negative. `kid` averages
# {eq}`eq-kid` over random subsets as the paper does; on two sets of 1,000 with subsets of 1,000 it is one
# estimate, `polynomial_mmd2`.
#
# We draw two disjoint sets of $n$ digits from 4,000 training digits, compute both distances between them, and
# repeat 10 times. **We check that the Fréchet distance's mean falls at every step as $n$ grows from 100 to
# 2,000 and is more than 5 times larger at $n = 100$ than at $n = 2{,}000$, more than twice its standard
# deviation at $n = 100$ above it; and that KID's mean at $n = 100$ is within one of its standard deviations
# at $n = 100$ of its mean at $n = 2{,}000$.** Compare Fréchet distances only at equal $n$; this course uses $n = 1{,}000$.

# %%
features = classifier_outputs(real_train[order[:4000]])[0]  # (4000, 64): compute once
sizes = [100, 200, 300, 500, 1000, 2000]
REPEATS = 10
rng = np.random.default_rng(0)
fd_draws, kid_draws = np.zeros((len(sizes), REPEATS)), np.zeros((len(sizes), REPEATS))
for i, n in enumerate(sizes):
    for r in range(REPEATS):
        shuffled = rng.permutation(len(features))
        a, b = features[shuffled[:n]], features[shuffled[2000 : 2000 + n]]  # disjoint
        fd_draws[i, r] = feature_frechet_distance(a, b)
        kid_draws[i, r] = polynomial_mmd2(a, b)
fd_mean, fd_std = fd_draws.mean(1), fd_draws.std(1)
kid_mean, kid_std = kid_draws.mean(1), kid_draws.std(1)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
axes[0].errorbar(sizes, fd_mean, fd_std, fmt="o-", color=VERMILLION, lw=2, capsize=3)
axes[0].set(xscale="log", yscale="log", ylabel="Fréchet distance", title="FD: biased")
axes[1].errorbar(sizes, kid_mean, kid_std, fmt="o-", color=PURPLE, lw=2, capsize=3)
axes[1].axhline(0, color=BLACK, lw=1, ls=":")
axes[1].set(xscale="log", ylabel="KID", title="KID: unbiased, spread shrinks")
for ax in axes:
    ax.set_xlabel("samples per set, n")
fig.suptitle(f"Two disjoint sets of real digits: mean ± std of {REPEATS} draws")
plt.show()
for n, f, s, k, ks in zip(sizes, fd_mean, fd_std, kid_mean, kid_std, strict=True):
    print(f"n = {n:5d}: FD {f:7.2f} ± {s:5.2f}   KID {k:8.3f} ± {ks:7.3f}")

# %% tags=["hide-input"]
assert np.all(np.diff(fd_mean) < 0)
assert fd_mean[0] > 5 * fd_mean[-1] and fd_mean[0] - fd_mean[-1] > 2 * fd_std[0]
assert abs(kid_mean[0] - kid_mean[-1]) < kid_std[0]

# %% [markdown]
# The price of an unbiased estimate is its spread at small $n$: KID's error bars at $n = 100$ are wide, so a
# KID from a few hundred samples needs its standard deviation beside it (which `kid` reports over subsets).
#
# ## Exercises
#
# Try each one before you open its solution; every solution's code runs with the chapter, so its
# claim is checked.
#
# ```{exercise}
# :label: measure-ex-1
# A generator makes only 1s and 7s, half each, all perfect. Before running anything, predict its classes
# present, its KL to uniform, its classifier score, and whether its precision and recall are high or low.
# Then check with 200 real 1s and 200 real 7s.
# ```
#
# ```{solution-start} measure-ex-1
# :class: dropdown
# ```
#
# Two equally likely classes: the KL to uniform is $\sum 0.5 \log(0.5 \cdot 10) = \log 5 \approx 1.61$ nats,
# and the score is about $\exp(\log 2 - 0) = 2$: the score is also $\exp$ of the entropy of $p(y)$ minus the mean
# entropy of $p(y \mid x)$, here $\log 2$ for an even mix of two classes and 0 for confident samples. Every
# sample is a real digit, so precision is high; eight classes of the reference stay out of reach, so recall
# stays low.

# %%
ones_and_sevens = torch.cat([real_train[train_labels == d][:200] for d in (1, 7)])
mixed = report(ones_and_sevens)
mixed_pr = precision_recall(ref_features, mixed["features"])
print(f"classes {mixed['classes']}, KL {mixed['KL to uniform']:.2f}, "
      f"score {mixed['score']:.2f}, {mixed_pr}")

# %% tags=["hide-input"]
assert mixed["classes"] in (2, 3) and abs(mixed["KL to uniform"] - np.log(5)) < 0.15
assert 1.7 < mixed["score"] < 2.3
assert mixed_pr.precision > 0.85 and mixed_pr.recall < 0.3

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: measure-ex-2
# Change $k$ in `precision_recall` from 3 to 10 for the MLP GAN's samples. Predict, from
# {eq}`eq-manifold`, which way precision and recall move, and whether that could ever go the other way.
# ```
#
# ```{solution-start} measure-ex-2
# :class: dropdown
# ```
#
# A larger $k$ means every ball reaches further (the 10th neighbour is never nearer than the 3rd), so each
# manifold only grows: precision and recall can only rise. That is why $k$ must be fixed before comparing
# numbers.

# %%
gan_features = small_rows[f"MLP GAN, step {STEPS}"]["features"]
wide = precision_recall(ref_features, gan_features, k=10)
print(f"k = 3: {gan_pr};  k = 10: {wide}")

# %% tags=["hide-input"]
assert wide.precision >= gan_pr.precision and wide.recall >= gan_pr.recall

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: measure-ex-3
# Blur the reference digits less: `sigma=1.0` instead of 2.0. Predict how the blurred set's Fréchet
# distance and precision change, then check (use the same 400 digits).
# ```
#
# ```{solution-start} measure-ex-3
# :class: dropdown
# ```
#
# Lighter blur keeps more of the strokes, so the samples move towards real digits: a lower Fréchet distance and
# a higher precision.

# %%
light = report(gaussian_blur(reference, kernel_size=5, sigma=1.0)[pick])
light_pr = precision_recall(ref_features, light["features"])
blurred = small_rows["blurred digits"]
print(f"sigma 2: FD {blurred['FD']:.0f}, {blurred_pr}")
print(f"sigma 1: FD {light['FD']:.0f}, {light_pr}")

# %% tags=["hide-input"]
assert light["FD"] < blurred["FD"] and light_pr.precision > blurred_pr.precision

# %% [markdown]
# ```{solution-end}
# ```
#
# ```{exercise}
# :label: measure-ex-4
# Compute `kid` for the collapsed 1s against the reference with `subset_size=100` instead of the
# default (subsets of 400, the size of the smaller set). Predict what happens to the mean and to the spread.
# ```
#
# ```{solution-start} measure-ex-4
# :class: dropdown
# ```
#
# The estimate is unbiased at every subset size, so the mean stays the same up to noise; smaller subsets make
# each estimate noisier, so the spread grows.

# %%
whole = kid(collapsed["features"], ref_features)
subsets = kid(collapsed["features"], ref_features, subset_size=100)
print(f"subsets of 400: {whole};  subsets of 100: {subsets}")

# %% tags=["hide-input"]
assert abs(subsets.mean - whole.mean) < subsets.std and subsets.std > whole.std

# %% [markdown]
# ```{solution-end}
# ```
#
# ## What to take away
#
# - GAN losses track the game, not quality: across a setback in which the Fréchet distance rose by more than a
#   fifth, the discriminator's loss rose by no more than 0.05, and from step 500 to the end it fell overall while
#   the distance rose and fell.
# - Read every measure against baselines: real-vs-real is the floor, noise the ceiling. Confidence is fooled by
#   noise and by collapse; coverage, the classifier score and the Fréchet distance catch collapse, but none of
#   them catches a generator that copies its training data, and the score never looks at real data.
# - Precision and recall split one distance into fidelity and coverage: blur lowers precision, collapse lowers
#   recall.
# - The Fréchet distance is biased at small $n$: compare at equal $n$ (1,000 here), never across sizes. KID is
#   unbiased, at the price of a wide spread when $n$ is small.
