"""Two style attributes every digit has, measured from its pixels: stroke thickness and slant.

Images are (N, 1, 28, 28) in [-1, 1] (background -1, ink +1); ink is ``(x + 1) / 2`` in [0, 1].

``thickness``  2 x ink mass / total variation, in pixels. For a stroke of width w and length L the ink is about
               w L and the outline about 2 L, so the ratio is about w. Both parts hold for grey, anti-aliased
               strokes too: by the coarea formula the total variation of an image is the mean, over grey levels,
               of the perimeter of the region above that level, and the ink is the mean of its area. So there is
               no threshold to choose and no skeleton to extract (skeletons of 28x28 digits grow spurs that make
               "ink / skeleton length" jump when one pixel changes), and a batch costs two convolution-sized ops.
``slant``      the shear of the ink distribution, mu11 / mu02, with x to the right and y *up* from the ink's
               centroid: shearing an image by x -> x + s y adds exactly s to it. Positive leans right (italic).
``attribute_ranks``  each attribute replaced by its rank among reference values, in [0, 1] (the conditions the
               chapter's generator takes: uniform, free of units and outliers).
"""

from __future__ import annotations

import torch

from gancourse.images import check_images

__all__ = ["attribute_ranks", "measure", "shear", "slant", "thickness"]


def _ink(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) in [-1, 1] -> ink (N, H, W) in [0, 1], float64 (moments of 784 pixels need the precision)."""
    check_images(images, channels=1, min_count=1, in_range=True)
    return ((images.detach().double() + 1) / 2).clamp(0, 1).squeeze(1)


def _total_variation(amount: torch.Tensor) -> torch.Tensor:
    """Isotropic total variation of (N, H, W) images: sum of |grad| by forward differences, zero-padded so
    outlines at the border count. A straight axis-aligned unit step of length L gives exactly L, also for a
    line one pixel wide (central differences would count its two edges as one).
    """
    padded = torch.nn.functional.pad(amount, (1, 1, 1, 1))  # (N, H + 2, W + 2)
    dx = padded[:, :-1, 1:] - padded[:, :-1, :-1]  # (N, H + 1, W + 1)
    dy = padded[:, 1:, :-1] - padded[:, :-1, :-1]
    return torch.sqrt(dx**2 + dy**2).sum(dim=(1, 2))


def thickness(images: torch.Tensor) -> torch.Tensor:
    """Mean stroke width in pixels, 2 x ink / total variation: (N, 1, H, W) in [-1, 1] -> (N,) float64.

    A blank image (no ink) raises ``ValueError``: its stroke width is undefined.
    """
    amount = _ink(images)
    outline = _total_variation(amount)
    if (outline <= 0).any():
        blank = (outline <= 0).nonzero()[0].item()
        raise ValueError(f"image {blank} has no ink: its thickness is undefined")
    return 2 * amount.sum(dim=(1, 2)) / outline


def slant(images: torch.Tensor) -> torch.Tensor:
    """Shear mu11 / mu02 of the ink (x right, y up): (N, 1, H, W) in [-1, 1] -> (N,) float64; > 0 leans right."""
    amount = _ink(images)
    mass = amount.sum(dim=(1, 2))
    if (mass <= 0).any():
        raise ValueError(f"image {(mass <= 0).nonzero()[0].item()} has no ink: its slant is undefined")
    h, w = amount.shape[1:]
    y = -torch.arange(h, dtype=amount.dtype, device=amount.device).view(1, h, 1)  # rows count down; y points up
    x = torch.arange(w, dtype=amount.dtype, device=amount.device).view(1, 1, w)
    weights = amount / mass.view(-1, 1, 1)
    dx = x - (weights * x).sum(dim=(1, 2), keepdim=True)
    dy = y - (weights * y).sum(dim=(1, 2), keepdim=True)
    mu11 = (weights * dx * dy).sum(dim=(1, 2))
    mu02 = (weights * dy * dy).sum(dim=(1, 2))
    return mu11 / mu02


def measure(images: torch.Tensor) -> torch.Tensor:
    """Both attributes: (N, 1, H, W) in [-1, 1] -> (N, 2) float64, columns (thickness, slant)."""
    return torch.stack([thickness(images), slant(images)], dim=1)


def shear(images: torch.Tensor, amount: float) -> torch.Tensor:
    """Shear images by x -> x + ``amount`` * y (y up from the centre), bilinear, background -1: same shape.

    The inverse of what ``slant`` measures: a vertical bar sheared by s has slant s (up to resampling).
    """
    check_images(images, channels=1, min_count=1, in_range=True)
    n = images.shape[0]
    h, w = images.shape[2:]
    # affine_grid maps output coordinates to input ones in [-1, 1] units; y there points down, and the pixel
    # aspect (h / w) converts the shear from pixels to normalised units.
    theta = torch.tensor([[1.0, amount * h / w, 0.0], [0.0, 1.0, 0.0]], dtype=images.dtype)
    grid = torch.nn.functional.affine_grid(theta.expand(n, 2, 3), list(images.shape), align_corners=False)
    shifted = torch.nn.functional.grid_sample(images + 1, grid.to(images.device), align_corners=False)
    return shifted - 1  # zero padding of (images + 1) is background -1


def attribute_ranks(values: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Each value's rank among ``reference`` values, column by column, in [0, 1]: (N, A) and (M, A) -> (N, A).

    The share of reference values strictly below plus half of those equal (the mid-rank), so the reference's
    own ranks are spread evenly over (0, 1) and a value below all of them gets 0, above all of them 1.
    """
    if values.ndim != 2 or reference.ndim != 2 or values.shape[1] != reference.shape[1]:
        raise ValueError(
            f"values (N, A) and reference (M, A) must share A, got {tuple(values.shape)}, {tuple(reference.shape)}"
        )
    ordered = reference.sort(dim=0).values.T.contiguous()  # (A, M)
    queries = values.T.contiguous().to(ordered.dtype)  # (A, N)
    below = torch.searchsorted(ordered, queries, right=False)
    at_most = torch.searchsorted(ordered, queries, right=True)
    return ((below + at_most).double() / (2 * reference.shape[0])).T.float()
