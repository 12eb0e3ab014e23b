import pytest
import torch

from gancourse.latent import lerp, slerp


def test_paths_start_and_end_at_the_given_vectors():
    z0, z1 = torch.randn(2, 16, generator=torch.Generator().manual_seed(0))
    for path in (lerp(z0, z1, 7), slerp(z0, z1, 7)):
        assert path.shape == (7, 16)
        torch.testing.assert_close(path[0], z0)
        torch.testing.assert_close(path[-1], z1)


def test_slerp_keeps_the_norm_of_equal_norm_ends_and_lerp_does_not():
    z0, z1 = torch.randn(2, 64, generator=torch.Generator().manual_seed(1))
    z1 = z1 * z0.norm() / z1.norm()
    torch.testing.assert_close(slerp(z0, z1, 9).norm(dim=1), z0.norm().expand(9))
    assert lerp(z0, z1, 9).norm(dim=1)[4] < 0.8 * z0.norm()  # near-orthogonal ends: midpoint ~ |z| / sqrt 2


def test_slerp_of_parallel_vectors_is_the_line():
    z = torch.randn(8)
    torch.testing.assert_close(slerp(z, 2 * z, 5), lerp(z, 2 * z, 5))


def test_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        slerp(torch.randn(4), torch.randn(5), 3)
    with pytest.raises(ValueError, match="same shape"):
        lerp(torch.randn(2, 4), torch.randn(2, 4), 3)
