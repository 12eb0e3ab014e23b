import numpy as np
import pytest
import torch

from gancourse.models import (
    KerasDCGANDiscriminator,
    KerasDCGANGenerator,
    LeanDCGANCritic,
    LeanDCGANDiscriminator,
    LeanDCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    PackedDiscriminator,
    dcgan_init_,
    generate,
    mlp,
)


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
    d = PackedDiscriminator((2,), pack=2, hidden=(8,))
    x = torch.randn(6, 2)
    assert d(x).shape == (3,)
    # the first logit depends on samples 0 and 1 only
    y = x.clone()
    y[2:] = 0
    assert torch.allclose(d(x)[0], d(y)[0])
    with pytest.raises(ValueError, match="multiple of pack"):
        d(torch.randn(5, 2))


def keras_param_count(module: torch.nn.Module) -> int:
    """What Keras' model.summary() calls 'Total params': weights plus BN moving mean and variance."""
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
    return sum(p.numel() for p in module.parameters()) + buffers


def test_keras_dcgan_matches_keras_layer_arithmetic():
    def conv(k, c_in, c_out):
        return k * k * c_in * c_out + c_out

    def bn(c):
        return 4 * c  # gamma, beta, moving mean, moving variance

    generator_total = 100 * 128 * 7 * 7 + 128 * 7 * 7  # Dense
    generator_total += conv(3, 128, 128) + bn(128) + conv(3, 128, 64) + bn(64) + conv(3, 64, 1)
    disc_total = conv(3, 1, 32) + conv(3, 32, 64) + bn(64) + conv(3, 64, 128) + bn(128) + conv(3, 128, 256) + bn(256)
    disc_total += 256 * 4 * 4 + 1
    assert generator_total == 856_193 and disc_total == 393_729  # the Keras summaries' totals
    g, d = KerasDCGANGenerator(), KerasDCGANDiscriminator()
    assert keras_param_count(g) == generator_total
    assert keras_param_count(d) == disc_total
    images = g(torch.randn(3, 100))
    assert images.shape == (3, 1, 28, 28) and images.abs().max() <= 1
    assert d(images).shape == (3,)
    assert d.net[6].padding == (0, 1, 0, 1)  # ZeroPadding2D(((0, 1), (0, 1))): bottom and right only
    bns = [m for m in [*g.modules(), *d.modules()] if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(m.momentum == pytest.approx(0.2) for m in bns)  # Keras momentum 0.8


def test_lean_dcgan_shapes_and_init():
    g, d = dcgan_init_(LeanDCGANGenerator(latent_dim=64)), dcgan_init_(LeanDCGANDiscriminator())
    images = g(torch.randn(5, 64))
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1
    assert d(images).shape == (5,)
    weights = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(weights.std().item() - 0.02) < 0.002


def test_generate_uses_running_statistics_and_restores_the_mode():
    g = LeanDCGANGenerator(latent_dim=8, width=4)
    z = torch.randn(6, 8)
    for mode in (True, False):
        g.train(mode)
        out = generate(g, z)
        assert g.training is mode and not out.requires_grad
        torch.testing.assert_close(out[:1], generate(g, z[:1]))  # eval mode: a sample does not depend on its batch


def keras_same_conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """A numpy reference of Keras/TensorFlow ``Conv2D(padding="same")``: out = ceil(in / stride); the padding
    total is max((out - 1) * stride + k - in, 0), split with the smaller half before (top/left)."""
    n, _, size, _ = x.shape
    k = weight.shape[-1]
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    before = total // 2
    padded = np.pad(x, ((0, 0), (0, 0), (before, total - before), (before, total - before)))
    result = np.zeros((n, weight.shape[0], out, out))
    for i in range(out):
        for j in range(out):
            patch = padded[:, :, i * stride : i * stride + k, j * stride : j * stride + k]
            result[:, :, i, j] = np.einsum("nchw,ochw->no", patch, weight) + bias
    return result


@pytest.mark.parametrize(("index", "size", "stride"), [(0, 28, 2), (1, 14, 2), (2, 8, 2), (3, 4, 1)])
def test_keras_discriminator_convolutions_pad_as_keras_does(index, size, stride):
    """Each convolution of the port, with the padding layer before it, equals Keras' "same" on its input size
    (28, 14, 8 after the source's ZeroPadding2D, and 4)."""
    layers = list(KerasDCGANDiscriminator().net)
    start = [i for i, m in enumerate(layers) if isinstance(m, torch.nn.Conv2d)][index]
    conv = layers[start].double()
    pad = layers[start - 1] if stride == 2 else torch.nn.Identity()
    assert conv.stride == (stride, stride)
    torch.manual_seed(index)
    x = torch.randn(2, conv.in_channels, size, size, dtype=torch.float64)
    with torch.no_grad():
        ours = conv(pad(x)).numpy()
    reference = keras_same_conv2d(x.numpy(), conv.weight.detach().numpy(), conv.bias.detach().numpy(), stride)
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-10)
    if stride == 2:  # PyTorch's symmetric padding=1 would not be the same function
        symmetric = torch.nn.functional.conv2d(x, conv.weight, conv.bias, stride=2, padding=1).detach().numpy()
        assert not np.allclose(symmetric, reference)


def test_keras_models_start_from_glorot_uniform():
    for model in (KerasDCGANGenerator(), KerasDCGANDiscriminator()):
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d | torch.nn.Linear):
                fan_in = m.weight[0].numel()
                fan_out = m.weight.shape[0] * m.weight[0, 0].numel()
                limit = (6 / (fan_in + fan_out)) ** 0.5
                assert m.weight.abs().max() <= limit and torch.all(m.bias == 0)


def test_lean_dcgan_critic_spectral_layers_have_unit_norm():
    torch.manual_seed(0)
    critic = LeanDCGANCritic(spectral=True)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())
    for _ in range(30):  # training-mode passes refine the power iteration
        scores = critic(torch.rand(4, 1, 28, 28) * 2 - 1)
    assert scores.shape == (4,)
    layers = [m for m in critic.modules() if hasattr(m, "parametrizations")]
    assert len(layers) == 3
    for layer in layers:
        matrix = layer.weight.detach().reshape(layer.weight.shape[0], -1)
        assert torch.linalg.matrix_norm(matrix, ord=2).item() == pytest.approx(1.0, abs=1e-3)
    plain = LeanDCGANCritic()
    assert not any(hasattr(m, "parametrizations") for m in plain.modules())
    assert plain(torch.zeros(2, 1, 28, 28)).shape == (2,)
