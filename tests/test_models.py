import pytest
import torch

from gancourse.models import MLPDiscriminator, MLPGenerator, mlp


def test_shapes_and_ranges():
    g = MLPGenerator(latent_dim=100, out_shape=(1, 28, 28), hidden=(64,), tanh=True)
    d = MLPDiscriminator(in_shape=(1, 28, 28), hidden=(64,))
    images = g(torch.randn(5, 100) * 10)
    assert images.shape == (5, 1, 28, 28)
    assert images.abs().max() <= 1
    assert d(images).shape == (5,)


def test_bad_input_is_named():
    g = MLPGenerator(latent_dim=3, out_shape=(2,))
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        g(torch.randn(4, 2))
    d = MLPDiscriminator(in_shape=(2,))
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        d(torch.randn(4, 3))
    with pytest.raises(ValueError, match="positive"):
        mlp(0, (4,), 1)


def test_parameter_count():
    # 1 -> 32 -> 32 -> 1: (1*32+32) + (32*32+32) + (32*1+1)
    assert sum(p.numel() for p in mlp(1, (32, 32), 1).parameters()) == 64 + 1056 + 33


def test_packed_discriminator_sees_samples_together():
    from gancourse.models import PackedDiscriminator

    d = PackedDiscriminator((2,), pack=2, hidden=(8,))
    x = torch.randn(6, 2)
    assert d(x).shape == (3,)
    # the first logit depends on samples 0 and 1 only
    y = x.clone()
    y[2:] = 0
    assert torch.allclose(d(x)[0], d(y)[0])
    with pytest.raises(ValueError, match="multiple of pack"):
        d(torch.randn(5, 2))
