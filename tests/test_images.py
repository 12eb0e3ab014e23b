import pytest
import torch

from gancourse.images import check_images


def test_check_images_names_each_failure():
    check_images(torch.zeros(0, 3, 5, 7))  # any float (N, C, H, W), even empty, when nothing more is asked
    with pytest.raises(TypeError, match="floating-point tensor, got torch.int64"):
        check_images(torch.zeros(2, 1, 4, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="got list"):
        check_images([[0.0]])
    with pytest.raises(ValueError, match=r"samples must have shape \(N, 1, 28, 28\), got \(2, 1, 14, 14\)"):
        check_images(torch.zeros(2, 1, 14, 14), "samples", channels=1, size=(28, 28))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got \(28, 28\)"):
        check_images(torch.zeros(28, 28))
    with pytest.raises(ValueError, match="has 2 images; at least 3"):
        check_images(torch.zeros(2, 1, 4, 4), min_count=3)
    with pytest.raises(ValueError, match="NaN"):
        check_images(torch.full((1, 1, 2, 2), float("nan")), in_range=True)
    with pytest.raises(ValueError, match=r"span \[0, 2\]; expected \[-1, 1\]"):
        check_images(torch.tensor([[[[0.0, 2.0]]]]), in_range=True)
    check_images(torch.tensor([[[[-1.0, 1.0 + 1e-6]]]]), in_range=True)  # rounding is tolerated
