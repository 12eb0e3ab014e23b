"""Figures: sample grids, 1-D densities (Goodfellow et al. 2014, Figure 1 style), training curves.

Colours are the Okabe–Ito palette, safe for colour-blind readers.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from torchvision.utils import make_grid

from gancourse.images import check_images

__all__ = [
    "BLACK", "BLUE", "GREEN", "ORANGE", "PURPLE", "VERMILLION", "animate_grids", "image_grid", "plot_curves",
    "plot_figure1_panel", "show_grid",
]

BLACK, BLUE, GREEN, ORANGE, VERMILLION, PURPLE = "#000000", "#0072B2", "#009E73", "#E69F00", "#D55E00", "#CC79A7"


def image_grid(images: torch.Tensor, nrow: int = 8) -> np.ndarray:
    """Images (N, C, H, W) in [-1, 1] -> one (H', W', C) array in [0, 1] tiled ``nrow`` per row."""
    check_images(images)
    grid = make_grid(images.detach().cpu().float(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1)
    return grid.permute(1, 2, 0).numpy()


def show_grid(images: torch.Tensor, nrow: int = 8, title: str | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw a grid of images (N, C, H, W) in [-1, 1] on ``ax`` (a new figure when None)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(nrow * 0.6, (len(images) + nrow - 1) // nrow * 0.6))
    ax.imshow(image_grid(images, nrow), cmap="gray", interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_figure1_panel(
    ax: plt.Axes,
    x: np.ndarray,
    p_data: np.ndarray,
    p_g: np.ndarray,
    d: np.ndarray,
    z: np.ndarray | None = None,
    gz: np.ndarray | None = None,
    title: str | None = None,
    ymax: float = 1.5,
) -> None:
    """One panel of Goodfellow et al. (2014) Figure 1.

    Black dotted p_data, green solid p_g, blue dashed D(x), all on grid ``x``, with the y-axis cut at ``ymax``
    (use the same value for every panel; a density peak above it is labelled with its height). Below them,
    lines from latent samples ``z`` in [-1, 1] (lower line, stretched over the x-range) to ``gz`` = G(z).
    """
    ax.plot(x, p_data, ":", color=BLACK, lw=2, label=r"$p_{data}$")
    ax.plot(x, p_g, "-", color=GREEN, lw=2, label=r"$p_g$")
    ax.plot(x, d, "--", color=BLUE, lw=2, label=r"$D(x)$")
    if p_g.max() > ymax:
        peak = int(np.argmax(p_g))
        ax.annotate(f"$p_g$ peaks at {p_g[peak]:.1f}", (x[peak], ymax), xytext=(6, -14),
                    textcoords="offset points", color=GREEN, fontsize=9)
    bottom = 0.0
    if z is not None and gz is not None:
        lo, hi = x[0], x[-1]
        z_pos = lo + (np.asarray(z) + 1) / 2 * (hi - lo)
        x_line, z_line = -0.08 * ymax, -0.38 * ymax
        ax.hlines([x_line, z_line], lo, hi, color="0.3", lw=1)
        for zi, xi in zip(z_pos, np.asarray(gz), strict=True):
            ax.plot([zi, xi], [z_line, x_line], color="0.5", lw=0.6)
        ax.text(lo, z_line, "z ", ha="right", va="center")
        ax.text(lo, x_line, "x ", ha="right", va="center")
        bottom = 1.1 * z_line
    ax.set_ylim(bottom, ymax)
    ax.set_xlim(x[0], x[-1])
    ax.set_yticks([0, 0.5, 1.0])
    if title:
        ax.set_title(title)


def plot_curves(ax: plt.Axes, curves: dict[str, np.ndarray], xlabel: str = "step", ylabel: str = "") -> None:
    """Several named curves on one axis, colour-blind-safe, legend inside the plot."""
    colours = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, BLACK]
    for (name, values), colour in zip(curves.items(), colours, strict=False):
        ax.plot(np.asarray(values), label=name, color=colour, lw=1.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)


def animate_grids(snapshots: dict[int, torch.Tensor], nrow: int = 8, interval: int = 300) -> FuncAnimation:
    """One frame per snapshot ``{step: images (N, C, H, W) in [-1, 1]}``, in step order, titled with the step.

    Display in a notebook with ``IPython.display.HTML(animation.to_jshtml())``; the figure itself is closed.
    """
    if not snapshots:
        raise ValueError("no snapshots to animate: set TrainConfig.snapshot_at")
    steps = sorted(snapshots)
    first = snapshots[steps[0]]
    rows = (len(first) + nrow - 1) // nrow
    fig, ax = plt.subplots(figsize=(nrow * 0.55, rows * 0.55 + 0.4), layout="constrained")
    image = ax.imshow(image_grid(first, nrow), cmap="gray", interpolation="nearest")
    ax.set_axis_off()

    def draw(frame: int):
        image.set_data(image_grid(snapshots[steps[frame]], nrow))
        ax.set_title(f"step {steps[frame]}")
        return [image]

    animation = FuncAnimation(fig, draw, frames=len(steps), interval=interval)
    plt.close(fig)
    return animation
