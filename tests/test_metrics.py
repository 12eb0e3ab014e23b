import math

import pytest
import torch

from gancourse.data import ring_of_gaussians
from gancourse.metrics import mode_coverage


def test_real_samples_cover_every_mode():
    ring = ring_of_gaussians(std=0.05)
    torch.manual_seed(0)
    result = mode_coverage(ring.sample(2500), ring)
    assert result.modes_covered == 8
    assert result.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.01)  # P(r <= 3 sigma) in 2-D
    assert result.counts.sum() == round(result.high_quality * 2500)
    assert "8/8 modes covered" in str(result)


def test_collapsed_and_off_target_samples():
    ring = ring_of_gaussians(std=0.05)
    torch.manual_seed(0)
    on_two_modes = ring.centres[torch.randint(2, (2500,))] + 0.01 * torch.randn(2500, 2)
    result = mode_coverage(on_two_modes, ring)
    assert result.modes_covered == 2 and result.high_quality == 1.0
    assert mode_coverage(torch.zeros(2500, 2), ring).high_quality == 0.0  # the centre of the ring is no mode
    few = torch.cat([ring.centres[:1].repeat(19, 1), ring.centres[1:2].repeat(2481, 1)])
    assert mode_coverage(few, ring).modes_covered == 1  # 19 samples are below the 20 needed


def test_bad_samples():
    ring = ring_of_gaussians()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        mode_coverage(torch.zeros(10, 3), ring)
    with pytest.raises(ValueError, match="NaN"):
        mode_coverage(torch.full((10, 2), float("nan")), ring)
