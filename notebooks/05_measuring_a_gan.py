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
# # 5. Measuring a GAN
#
# **Question: how do you know whether a generator is good, without staring at sample grids?** The GAN losses
# do not say: they measure one player against the other, and both players keep changing. This chapter builds
# numbers that do say, computes them on real data, on junk and on a training run, and shows what each one can and
# cannot see.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.transforms.functional import gaussian_blur

from gancourse.classifier import accuracy, load_classifier, offline_split
from gancourse.data import load_mnist
from gancourse.metrics import (
    classifier_outputs,
    classifier_score,
    digit_report,
    frechet_distance,
    gaussian_frechet_distance,
)
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.runtime import seed_everything, setup
from gancourse.train import GANTrainer, TrainConfig, linear_decay
from gancourse.viz import BLUE, ORANGE, VERMILLION, show_grid

device = setup(seed=0)
STEPS = 3000  # the same on every device

# %% [markdown]
# ## Inception Score and FID, in principle
#
# Two numbers dominate the literature. Both push samples through a classifier pretrained on ImageNet
# (Inception-v3):
#
# - The **Inception Score** {cite}`salimans2016improved` is $\exp\big(\mathbb E_x\, \mathrm{KL}(p(y\mid x)\,\|\,p(y))\big)$:
#   high when each sample is confidently one class ($p(y \mid x)$ peaked) and the classes vary across samples
#   ($p(y)$ flat). It never looks at real data.
# - The **Fréchet Inception Distance** {cite}`heusel2017gans` fits a Gaussian to the classifier's penultimate
#   features of real and of generated images and reports
#
# $$
# \mathrm{FD} = \|\mu_r - \mu_g\|^2 + \operatorname{tr}\!\Big(\Sigma_r + \Sigma_g - 2\big(\Sigma_r \Sigma_g\big)^{1/2}\Big),
# $$ (eq-fd)
#
#   the squared Wasserstein-2 distance between the two Gaussians. Lower is better; it sees both quality and
#   variety, and it is compared against real data.
#
# Both need Inception weights from the internet and, for FID, 10,000 or more samples to be comparable. For
# 28×28 digits we use the same formulas with a **small classifier trained on digits** and shipped with the
# package (`gancourse.classifier`, trained by `python -m gancourse.classifier train` on 4,000 of the offline
# digits; at least 97% accuracy on the 1,000 it never saw, checked below). The numbers are in the same spirit and run in seconds on a
# CPU, but they are **not comparable to published FID or Inception Score values**. Our metrics:
#
# | name | computes | good value |
# |---|---|---|
# | `frechet_distance` | {eq}`eq-fd` on the classifier's 64 penultimate features | near the real-vs-real floor |
# | `class_coverage` | histogram of predicted classes: classes present, KL to uniform, max/min ratio | 10 classes, KL ≈ 0, ratio ≈ 1 |
# | `confidence` | mean of the largest class probability | high, but see below |
# | `classifier_score` | the Inception Score's formula on this classifier | up to 10 |

# %%
split = offline_split()
reference = split.held_out_images.to(device)  # 1,000 real digits the classifier never saw, 100 per class
real_train = split.train_images.to(device)  # 4,000 digits, sorted by class
held_out_accuracy = accuracy(load_classifier(), split.held_out_images, split.held_out_labels)
print(f"classifier accuracy on the 1,000 held-out digits: {held_out_accuracy:.1%}")
assert held_out_accuracy >= 0.97
order = torch.randperm(len(real_train), generator=torch.Generator().manual_seed(0)).to(device)

# %% [markdown]
# ## Baselines: the floor and the ceiling
#
# A number means little alone. We compute each metric for real training digits against the held-out ones (the
# best a generator can hope for), and for three kinds of junk: the held-out digits blurred, the same digits with
# their pixels shuffled, and uniform noise. **We check that the Fréchet distance orders them as expected,
# real < blurred < shuffled < noise, with the real floor below 2 and noise more than 1,000 times higher.**

# %%
torch.manual_seed(0)
baselines = {
    "real (train vs held-out)": real_train[order[:1000]],  # a random 1,000, all classes
    "blurred digits": gaussian_blur(reference, kernel_size=5, sigma=2.0),
    "pixel-shuffled digits": reference.flatten(1)[:, torch.randperm(784)].view(-1, 1, 28, 28),
    "uniform noise": torch.rand(1000, 1, 28, 28, device=device) * 2 - 1,
}


def report(images: torch.Tensor) -> dict:
    """All the measures above for 1,000 digits: FD to the held-out reference, classes, KL to uniform, max/min
    class ratio, confidence and classifier score (``gancourse.metrics.digit_report`` computes them together)."""
    return digit_report(images, reference)


def print_table(rows: dict) -> None:
    print(f"{'':28s} {'FD':>10s} {'classes':>8s} {'KL unif':>8s} {'confid.':>8s} {'score':>6s}")
    for name, r in rows.items():
        print(f"{name:28s} {r['FD']:10.2f} {r['classes']:8d} {r['KL to uniform']:8.3f} {r['confidence']:8.3f} "
              f"{r['score']:6.2f}")


baseline_rows = {name: report(images) for name, images in baselines.items()}
print_table(baseline_rows)
fd = [baseline_rows[name]["FD"] for name in baselines]
assert fd[0] < fd[1] < fd[2] < fd[3]
assert fd[0] < 2 and fd[3] > 1000 * fd[0]

# %% [markdown]
# **Look at the confidence column:** the classifier is *more* confident on uniform noise than on real digits.
# Softmax classifiers say nothing reliable about inputs unlike their training data, and noise is very unlike it.
# Confidence alone would rank noise as the best generator; the Fréchet distance, which compares against real
# data, ranks it last. **We check: confidence on noise is above 0.95, and its classifier score is below 1.5 (one
# class for everything).**

# %%
assert baseline_rows["uniform noise"]["confidence"] > 0.95
assert baseline_rows["uniform noise"]["score"] < 1.5

# %% [markdown]
# ## The loss is not a quality measure
#
# We train the MLP GAN of Chapter 3 again, this time with both learning rates decaying linearly to 10% over the
# run, and keep 1,000 fixed-noise samples at ten points. For each we compute the Fréchet distance, and beside it
# the discriminator's loss averaged over the 100 steps before.
#
# **We check three things.** The last samples are the best of the run and more than 3 times closer to real
# digits than at step 25. Training is not monotone: some checkpoint is more than twice as far as the one before
# (a setback). And the loss cannot tell a setback from progress: at the end the discriminator loss is no higher
# than at the worst checkpoint, while the Fréchet distance is more than 4 times lower.

# %%
digits = load_mnist()
images = digits.images.to(device)
CHECKPOINTS = (25, 50, 100, 250, 500, 1000, 1500, 2000, 2500, 3000)

seed_everything(0)
G = MLPGenerator(100, (1, 28, 28), hidden=(256, 256), tanh=True).to(device)
D = MLPDiscriminator((1, 28, 28), hidden=(256, 256)).to(device)
trainer = GANTrainer(
    G, D,
    torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
    torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)),
    real=images, latent_dim=100, device=device,
    config=TrainConfig(batch_size=64, snapshot_at=CHECKPOINTS, n_fixed=1000, log_every=25,
                       lr_factor=linear_decay(STEPS, start=0.0, floor=0.1)),
)
history = trainer.train(STEPS, desc="MLP GAN")

run_fd = np.array([frechet_distance(history.snapshots[s].to(device), reference) for s in CHECKPOINTS])
d_loss = np.array([np.mean(history.d_loss[max(0, s - 100) : s]) for s in CHECKPOINTS])
for step, f, loss in zip(CHECKPOINTS, run_fd, d_loss, strict=True):
    print(f"step {step:5d}: FD {f:8.1f}   D loss (mean of the previous 100 steps) {loss:.3f}")
worst = int(np.argmax(run_fd[1:])) + 1  # the worst checkpoint after the first
assert run_fd[-1] == run_fd.min() and run_fd[-1] < run_fd[0] / 3
assert np.any(run_fd[1:] > 2 * run_fd[:-1])
assert d_loss[-1] <= d_loss[worst] and run_fd[-1] < run_fd[worst] / 4

# %% [markdown]
# **Look at** the two curves: the Fréchet distance (log scale, blue) falls with a setback along the way; the
# discriminator's loss (orange) drifts down through the setback and through the recovery alike. The grids are
# the samples the numbers describe: the first checkpoint, the setback, and the end.

# %%
fig, ax = plt.subplots(figsize=(8, 3.3), layout="constrained")
ax.semilogy(CHECKPOINTS, run_fd, "o-", color=BLUE, lw=2, label="Fréchet distance (left)")
ax.axhline(baseline_rows["real (train vs held-out)"]["FD"], color=BLUE, ls=":", lw=1, label="real-vs-real floor")
ax.set_xlabel("training step")
ax.set_ylabel("Fréchet distance")
right = ax.twinx()
right.plot(CHECKPOINTS, d_loss, "s--", color=ORANGE, lw=2, label="D loss (right)")
right.set_ylabel("discriminator loss")
right.set_ylim(0, 1.5)
fig.legend(loc="upper right", frameon=False, bbox_to_anchor=(0.88, 0.95))
plt.show()

fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), layout="constrained")
for ax, index in zip(axes, (0, worst, len(CHECKPOINTS) - 1), strict=True):
    show_grid(history.snapshots[CHECKPOINTS[index]][:36], nrow=6, ax=ax,
              title=f"step {CHECKPOINTS[index]}: FD {run_fd[index]:.0f}, D loss {d_loss[index]:.2f}")
plt.show()

# %% [markdown]
# ## Precision is not coverage
#
# A generator can make excellent samples of too few kinds. The extreme case: a generator that has collapsed onto
# one class and outputs real, perfect 1s. We stand in for it with the real 1s of the training set.
# **We check: its confidence is above 0.95 (every sample is a convincing digit), yet at most 2 classes are
# present, its KL to uniform is above 1.5 nats, its classifier score is below 1.5 against above 8 for real
# digits, and its Fréchet distance is more than 20 times the real floor.** Coverage, the score and the Fréchet
# distance catch the collapse; confidence cannot.

# %%
ones = real_train[split.train_labels.to(device) == 1]
collapsed = report(ones)
print_table({"real (train vs held-out)": baseline_rows["real (train vs held-out)"], "only real 1s (collapsed)": collapsed})
assert collapsed["confidence"] > 0.95
assert collapsed["classes"] <= 2 and collapsed["KL to uniform"] > 1.5
assert collapsed["score"] < 1.5 < 8 < classifier_score(reference)
assert collapsed["FD"] > 20 * baseline_rows["real (train vs held-out)"]["FD"]

# %% [markdown]
# Compare the collapsed generator's Fréchet distance with the MLP GAN's at the end of its run: **they are within a
# factor of 2 of each other** (we check it), although one makes perfect digits of one class and the other
# imperfect digits of every class. A single number mixes quality and variety; read it together with coverage.

# %%
print(f"FD: only real 1s {collapsed['FD']:.0f}, MLP GAN at step {STEPS} {run_fd[-1]:.0f}")
assert 0.5 < collapsed["FD"] / run_fd[-1] < 2

# %% [markdown]
# ## How many samples do you need?
#
# The Fréchet distance is estimated from sample means and covariances, and it is **biased upwards**: two sets of
# real digits drawn from the same distribution get a positive distance that shrinks roughly like $1/n$ as the
# sets grow. With 64 features, a few hundred samples are far too few. We draw two disjoint sets of $n$ digits from
# the 4,000 training digits, compute the distance between them, and average over 10 such draws. **We check that
# the average falls at every step as $n$ grows from 100 to 2,000, and that it is more than 5 times larger at
# $n = 100$ than at $n = 2{,}000$.**
# Compare distances only at equal $n$; this course uses $n = 1{,}000$ throughout.

# %%
features, _ = classifier_outputs(real_train)  # (4000, 64): compute once, resample many times
sizes = [100, 200, 300, 500, 1000, 2000]
REPEATS = 10
generator = np.random.default_rng(0)
bias = []
for n in sizes:
    values = []
    for _ in range(REPEATS):
        shuffled = generator.permutation(len(features))
        a, b = features[shuffled[:n]], features[shuffled[2000 : 2000 + n]]  # disjoint halves
        values.append(gaussian_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)))
    bias.append(np.mean(values))
bias = np.array(bias)

fig, ax = plt.subplots(figsize=(6.5, 3.2), layout="constrained")
ax.plot(sizes, bias, "o-", color=VERMILLION, lw=2)
ax.set(xscale="log", yscale="log", xlabel="samples per set, n", ylabel="FD between two real sets")
ax.set_title("Real vs real (mean of 10 draws): the distance is estimation bias")
plt.show()
print(dict(zip(sizes, np.round(bias, 2), strict=True)))
assert np.all(np.diff(bias) < 0)
assert bias[0] > 5 * bias[-1]

# %% [markdown]
# ## Exercises
#
# **1.** What is the largest value the classifier score can take with 10 classes, and which samples reach it?
# Check that the real held-out digits come within 10% of it.

# %% tags=["hide-cell"]
# Solution 1: KL(p(y|x) || p(y)) <= log 10 when every p(y|x) is one-hot and p(y) is uniform, so the score <= 10.
# Real digits come close: the classifier is confident and the held-out set is balanced.
best = classifier_score(reference)
print(f"classifier score of real digits: {best:.2f} (maximum 10)")
assert 9.0 <= best <= 10.0

# %% [markdown]
# **2.** Is the Fréchet distance symmetric in its two arguments? Argue from {eq}`eq-fd`, then check.

# %% tags=["hide-cell"]
# Solution 2: yes; ||mu_r - mu_g||^2 is symmetric and tr (S_r S_g)^(1/2) = tr (S_g S_r)^(1/2) (the two products
# have the same eigenvalues).
forward = frechet_distance(baselines["blurred digits"], reference)
backward = frechet_distance(reference, baselines["blurred digits"])
print(f"{forward:.6f} vs {backward:.6f}")
assert abs(forward - backward) < 1e-6 * forward

# %% [markdown]
# **3.** A generator makes only 1s and 7s, half each, all perfect. Predict its classes present, its KL to uniform
# ($\log 5$) and its classifier score (about 2), then check with real 1s and 7s.

# %% tags=["hide-cell"]
# Solution 3: two equally likely classes: KL to uniform = sum 0.5 log(0.5 * 10) = log 5 ~ 1.61; score ~ exp(log 2) = 2.
labels = split.train_labels.to(device)
ones_and_sevens = torch.cat([real_train[labels == 1][:300], real_train[labels == 7][:300]])
mixed = report(ones_and_sevens)
print(mixed)
assert mixed["classes"] in (2, 3)
assert abs(mixed["KL to uniform"] - np.log(5)) < 0.15
assert 1.7 < mixed["score"] < 2.3

# %% [markdown]
# ## What to take away
#
# - GAN losses track the game, not quality: the same discriminator loss went with samples four times apart in
#   Fréchet distance, and training had setbacks that only the metric showed.
# - Read every metric against baselines: real-vs-real is the floor, noise the ceiling.
# - Confidence is fooled by noise and by collapse; coverage, the classifier score and the Fréchet distance are not.
# - The Fréchet distance is biased at small $n$: compare at equal $n$ (1,000 here), never across sizes.
