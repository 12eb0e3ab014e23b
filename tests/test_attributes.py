import math

import pytest
import torch

from gancourse.attributes import _total_variation, attribute_ranks, measure, shear, slant, thickness


def bar(width: int = 3, top: int = 4, bottom: int = 24, left: int = 12) -> torch.Tensor:
    """A vertical white bar on a black (-1) 28x28 image: (1, 1, 28, 28)."""
    image = -torch.ones(1, 1, 28, 28)
    image[..., top:bottom, left : left + width] = 1
    return image


def test_vertical_bar_has_zero_slant_wherever_it_is():
    for left in (3, 12, 20):
        assert slant(bar(left=left)).item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("amount", [-0.6, -0.25, 0.2, 0.5])
def test_sheared_bar_has_the_shear_applied(amount):
    assert slant(shear(bar(), amount)).item() == pytest.approx(amount, abs=0.02)


def test_slant_sign_right_leaning_is_positive():
    image = -torch.ones(1, 1, 28, 28)
    for row in range(4, 24):  # top of the stroke further right than its bottom, as in italic type
        column = 8 + (24 - row) // 2
        image[0, 0, row, column : column + 2] = 1
    assert slant(image).item() == pytest.approx(0.5, abs=0.05)


def test_thickness_grows_with_width_and_is_close_to_it_for_long_strokes():
    widths = [1, 2, 3, 4, 5, 6]
    values = [thickness(bar(width=w, left=10)).item() for w in widths]
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    # ink w L over half an outline of about L + w: within the end effects of a 20-pixel stroke
    for w, value in zip(widths, values, strict=True):
        assert value == pytest.approx(w * 20 / (20 + w), rel=0.03)


def test_thickness_does_not_depend_on_the_grey_level_of_a_uniform_blur():
    sharp = bar(width=4, left=10)
    soft = torch.nn.functional.avg_pool2d(sharp, 3, stride=1, padding=1, count_include_pad=False)
    assert thickness(soft).item() == pytest.approx(thickness(sharp).item(), rel=0.15)


def test_total_variation_of_a_square_is_its_perimeter():
    square = torch.zeros(1, 28, 28, dtype=torch.float64)
    square[0, 8:18, 8:18] = 1
    # forward differences count every unit of edge once, except at the bottom-right corner, where one pixel
    # sees a horizontal and a vertical step at once: |(1, 1)| = sqrt(2) there replaces 1 + 1
    assert _total_variation(square).item() == pytest.approx(40 - (2 - math.sqrt(2)), abs=1e-9)


def test_batch_shapes_and_per_image_independence():
    images = torch.cat([bar(), shear(bar(width=5), 0.3), bar(width=2)])
    both = measure(images)
    assert both.shape == (3, 2) and both.dtype == torch.float64
    assert torch.allclose(both[1], measure(images[1:2])[0])


def test_input_checks():
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        thickness(torch.zeros(28, 28))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        slant(bar() * 2)
    with pytest.raises(ValueError, match="NaN"):
        slant(bar() * float("nan"))
    with pytest.raises(ValueError, match="no ink"):
        thickness(-torch.ones(2, 1, 28, 28))
    with pytest.raises(TypeError, match="floating-point"):
        slant(torch.zeros(1, 1, 28, 28, dtype=torch.long))


def test_ranks_are_mid_ranks_in_unit_interval():
    reference = torch.tensor([[1.0], [2.0], [2.0], [3.0]])
    ranks = attribute_ranks(torch.tensor([[0.0], [1.0], [2.0], [3.0], [9.0]]), reference)
    assert ranks.squeeze(1).tolist() == pytest.approx([0.0, 0.125, 0.5, 0.875, 1.0])
    with pytest.raises(ValueError, match="share A"):
        attribute_ranks(torch.zeros(3, 2), torch.zeros(3, 1))


def test_ranks_match_scipy_rankdata():
    from scipy.stats import rankdata

    values = torch.randn(200, 2, generator=torch.Generator().manual_seed(0)).round(decimals=1)
    ours = attribute_ranks(values, values)
    for column in range(2):
        expected = (rankdata(values[:, column].numpy()) - 0.5) / len(values)
        assert ours[:, column].numpy() == pytest.approx(expected, abs=1e-6)
