import itertools

import pytest
import torch
from torch import nn

from gancourse.augment import (
    BACKGROUND,
    DiffAugment,
    cutout,
    erase_patches,
    mean_score,
    overfitting_heuristic,
    score_gap,
    shift_images,
    translation,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def digits(n: int = 6, seed: int = 0, dtype: torch.dtype = torch.float32, device: str = "cpu") -> torch.Tensor:
    """(n, 1, 28, 28) in (0, 1): every pixel distinct from the background, so filled pixels can be found."""
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device) + 1e-3


def rolled(images: torch.Tensor, dy: int, dx: int, fill: float) -> torch.Tensor:
    """The reference shift: torch.roll, then the wrapped-around rows and columns set to ``fill``."""
    out = torch.roll(images, shifts=(dy, dx), dims=(2, 3)).clone()
    if dy > 0:
        out[:, :, :dy] = fill
    elif dy < 0:
        out[:, :, dy:] = fill
    if dx > 0:
        out[:, :, :, :dx] = fill
    elif dx < 0:
        out[:, :, :, dx:] = fill
    return out


def test_shift_equals_roll_with_background_fill():
    x = digits(4)
    shifts = torch.tensor([[2, -3], [-4, 4], [0, 0], [27, -1]])
    out = shift_images(x, shifts)
    for image, (dy, dx) in zip(range(4), shifts.tolist(), strict=True):
        torch.testing.assert_close(out[image : image + 1], rolled(x[image : image + 1], dy, dx, BACKGROUND),
                                   rtol=0, atol=0)
    assert (shift_images(x, torch.tensor([[28, 0]] * 4), fill=0.0) == 0).all()  # shifted out entirely


def test_erase_patches_sets_exactly_the_clipped_patch():
    x = digits(4)
    corners = torch.tensor([[0, 0], [-7, 3], [20, 25], [5, -13]])
    out = erase_patches(x, corners, (14, 14))
    for image, (top, left) in enumerate(corners.tolist()):
        expected = x[image].clone()
        expected[:, max(top, 0) : top + 14, max(left, 0) : left + 14] = BACKGROUND
        torch.testing.assert_close(out[image], expected, rtol=0, atol=0)
    rows_inside = [14, 7, 8, 14]  # 28 - 20 = 8 rows from row 20
    cols_inside = [14, 14, 3, 1]
    counts = (out == BACKGROUND).sum((1, 2, 3))
    assert counts.tolist() == [r * c for r, c in zip(rows_inside, cols_inside, strict=True)]


def test_translation_is_a_shift_within_the_ratio_per_image():
    x = digits(64)
    out = translation(x, ratio=0.125, generator=torch.Generator().manual_seed(1))
    candidates = list(itertools.product(range(-4, 5), repeat=2))  # 0.125 of 28 rounds to 4 pixels
    found = []
    for image in range(len(x)):
        matches = [s for s in candidates if torch.equal(out[image : image + 1], rolled(x[image : image + 1], *s, -1))]
        assert len(matches) == 1
        found.append(matches[0])
    assert len(set(found)) > 30  # independent per image
    assert {dy for dy, _ in found} >= {-4, 4}  # both ends of [-s, s] are reached


def test_cutout_erases_one_square_of_the_ratio_clipped_by_the_edges():
    x = digits(256)
    out = cutout(x, ratio=0.5, generator=torch.Generator().manual_seed(2))
    erased = out == BACKGROUND
    torch.testing.assert_close(out[~erased], x[~erased], rtol=0, atol=0)
    extents = []
    for mask in erased[:, 0]:
        rows, cols = mask.any(1).nonzero()[:, 0], mask.any(0).nonzero()[:, 0]
        height, width = len(rows), len(cols)
        assert rows[-1] - rows[0] + 1 == height and cols[-1] - cols[0] + 1 == width  # contiguous
        assert mask.sum() == height * width  # a rectangle
        for first, last, extent in ((rows[0], rows[-1], height), (cols[0], cols[-1], width)):
            assert 7 <= extent <= 14  # the centre lies inside, so at least half of the 14 pixels do
            assert extent == 14 or first == 0 or last == 27  # only the image's edge clips it
        extents.append((height, width))
    assert (14, 14) in extents and any(h < 14 for h, _ in extents)


@pytest.mark.parametrize("augment", [translation, cutout, DiffAugment()])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("device", DEVICES)
def test_shape_dtype_and_device_are_kept(augment, dtype, device):
    x = digits(5, dtype=dtype, device=device)
    out = augment(x)
    assert out.shape == x.shape and out.dtype == dtype and out.device == x.device


@pytest.mark.parametrize("device", DEVICES)
def test_gradient_is_the_transpose_of_the_transformation(device):
    x = digits(8, device=device).requires_grad_(True)
    w = torch.randn(x.shape, generator=torch.Generator().manual_seed(3)).to(device)
    shifts = torch.tensor([[1, -2], [4, 4], [-4, 0], [0, 0], [3, -1], [-2, 2], [0, 4], [-1, -3]])
    (grad,) = torch.autograd.grad((w * shift_images(x, shifts)).sum(), x)
    torch.testing.assert_close(grad, shift_images(w, -shifts, fill=0.0), rtol=0, atol=0)
    corners = torch.tensor([[-7, 0], [3, 3], [20, 21], [0, 0], [10, -5], [14, 14], [-3, 20], [6, 9]])
    (grad,) = torch.autograd.grad((w * erase_patches(x, corners, (14, 14))).sum(), x)
    torch.testing.assert_close(grad, erase_patches(w, corners, (14, 14), fill=0.0), rtol=0, atol=0)


def test_diffaugment_is_affine_and_its_gradient_is_the_transpose():
    """T(x) = A x + b with the same random draws; autograd's grad must be A^T w: <A x, w> = <x, grad>."""
    x = digits(16, dtype=torch.float64).requires_grad_(True)
    w = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    augment = DiffAugment("translation,cutout", generator=torch.Generator().manual_seed(5))
    (grad,) = torch.autograd.grad((w * augment(x)).sum(), x)
    augment.generator.manual_seed(5)
    linear_part = augment(x.detach())
    augment.generator.manual_seed(5)
    linear_part = linear_part - augment(torch.zeros_like(x))
    torch.testing.assert_close((w * linear_part).sum(), (x.detach() * grad).sum())
    assert (grad != 0).any() and (grad == 0).any()  # it flows, and not through erased or shifted-out pixels


def test_ratio_zero_and_the_empty_policy_are_the_identity():
    x = digits(4)
    for out in (translation(x, 0.0), cutout(x, 0.0), DiffAugment("")(x),
                DiffAugment(ratios={"translation": 0.0, "cutout": 0.0})(x)):
        torch.testing.assert_close(out, x, rtol=0, atol=0)


def test_the_same_seed_gives_the_same_augmentation():
    x = digits(8)
    first = DiffAugment(generator=torch.Generator().manual_seed(6))(x)
    again = DiffAugment(generator=torch.Generator().manual_seed(6))(x)
    other = DiffAugment(generator=torch.Generator().manual_seed(7))(x)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, other)


def test_fill_is_the_background_unless_given():
    x = digits(4)
    assert (translation(x, 0.5, generator=torch.Generator().manual_seed(8)) == BACKGROUND).any()
    zero_filled = translation(x, 0.5, fill=0.0, generator=torch.Generator().manual_seed(8))
    assert (zero_filled == 0).any() and not (zero_filled == BACKGROUND).any()


def test_bad_input():
    x = digits(2)
    with pytest.raises(ValueError, match="shape"):
        translation(x[0])
    with pytest.raises(TypeError, match="floating-point"):
        cutout(x.to(torch.uint8))
    for ratio in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            translation(x, ratio)
    with pytest.raises(TypeError, match="real number"):
        cutout(x, "0.5")
    with pytest.raises(ValueError, match="unknown augmentation"):
        DiffAugment("translation,colour")
    with pytest.raises(ValueError, match=r"ratios\['cutout'\]"):
        DiffAugment(ratios={"cutout": 1.0})
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        shift_images(x, torch.tensor([[1, 1]]))
    with pytest.raises(TypeError, match="int64"):
        erase_patches(x, torch.zeros(2, 2), (3, 3))


def test_overfitting_heuristic_is_the_mean_sign():
    assert overfitting_heuristic(torch.tensor([2.0, -1.0, 3.0, 0.5])) == 0.5
    assert overfitting_heuristic(torch.tensor([0.1] * 5)) == 1.0
    assert overfitting_heuristic(torch.tensor([-3.0, 0.0])) == -0.5  # an undecided score counts 0
    with pytest.raises(ValueError, match="empty"):
        overfitting_heuristic(torch.tensor([]))
    with pytest.raises(TypeError, match="raw scores"):
        overfitting_heuristic(torch.tensor([1, 2]))


class MeanInk(nn.Module):
    """A toy D: 2 x the mean pixel, through dropout (so train mode would randomise it), plus the digit for a
    conditional call; it records its batch sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(2.0))
        self.dropout = nn.Dropout(0.9)
        self.batch_sizes: list[int] = []

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        self.batch_sizes.append(len(x))
        score = self.dropout(self.scale * x.mean((1, 2, 3)))
        return score if y is None else score + y.to(score.dtype)


def test_score_gap_on_a_toy_discriminator():
    train, held_out = digits(10, seed=1) * 2 - 1, digits(7, seed=2) * 2 - 1
    discriminator = MeanInk().train()
    gap = score_gap(discriminator, train, held_out, batch_size=4)
    expected = 2 * (train.mean((1, 2, 3)).double().mean() - held_out.mean((1, 2, 3)).double().mean())
    assert gap == pytest.approx(expected.item(), abs=1e-6)
    assert discriminator.batch_sizes == [4, 4, 2, 4, 3]
    assert discriminator.training and discriminator.scale.grad is None
    conditional_gap = score_gap(discriminator, train, held_out, train_conditions=torch.ones(10, dtype=torch.long),
                                held_out_conditions=torch.zeros(7, dtype=torch.long))
    assert conditional_gap == pytest.approx(expected.item() + 1, abs=1e-6)


def test_mean_score_bad_input():
    with pytest.raises(ValueError, match="conditions"):
        mean_score(MeanInk(), digits(3), torch.zeros(2))
    with pytest.raises(ValueError, match="batch_size"):
        mean_score(MeanInk(), digits(3), batch_size=0)
    with pytest.raises(ValueError, match="at least 1"):
        mean_score(MeanInk(), digits(3)[:0])
