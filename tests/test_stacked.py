"""Stacked toy GANs against one ``nn.Linear`` model at a time, PyTorch's spectral_norm and hand formulas."""

import functools

import pytest
import torch
from torch import nn

from gancourse.models import mlp
from gancourse.objectives import _squared_input_gradient, gradient_penalty
from gancourse.stacked import (
    MinibatchDiscrimination,
    StackedDiscriminator,
    StackedGenerator,
    _StackedLinear,
    minibatch_similarity,
)


def single_model(stack: nn.Sequential, m: int) -> nn.Sequential:
    """Model m of a (non-spectral) stacked MLP as an ordinary nn.Sequential with copied weights."""
    layers: list[nn.Module] = []
    for layer in stack:
        if isinstance(layer, _StackedLinear):
            linear = nn.Linear(*layer.weight.shape[1:])
            with torch.no_grad():
                linear.weight.copy_(layer.weight[m].T)
                linear.bias.copy_(layer.bias[m, 0])
            layers.append(linear)
        else:
            layers.append(layer)
    return nn.Sequential(*layers)


def test_stacked_mlp_is_m_independent_mlps():
    torch.manual_seed(0)
    stack = mlp(2, (16, 8), 1, linear=functools.partial(_StackedLinear, 3))
    x = torch.randn(3, 10, 2)
    out = stack(x)
    for m in range(3):
        assert torch.allclose(out[m], single_model(stack, m)(x[m]), atol=1e-6)


def test_models_do_not_mix_rows_and_input_gradients_are_per_model():
    torch.manual_seed(1)
    D = StackedDiscriminator(2, hidden=(16, 16))
    x = torch.randn(2 * 6, 2, requires_grad=True)
    scores = D(x)
    (grad,) = torch.autograd.grad(scores.sum(), x)
    for m in range(2):
        alone = single_model(D.net, m)
        rows = x[m * 6 : (m + 1) * 6].detach().requires_grad_(True)
        own = alone(rows).squeeze(1)
        (own_grad,) = torch.autograd.grad(own.sum(), rows)
        assert torch.allclose(scores[m * 6 : (m + 1) * 6], own, atol=1e-6)
        assert torch.allclose(grad[m * 6 : (m + 1) * 6], own_grad, atol=1e-6)
    # so R1 on the stack is the mean of the models' own R1, as the objectives compute it
    per_model = [_squared_input_gradient(single_model(D.net, m), x[m * 6 : (m + 1) * 6].detach()) for m in range(2)]
    assert _squared_input_gradient(D, x.detach()).item() == pytest.approx(sum(per_model).item() / 2, rel=1e-5)
    assert gradient_penalty(D, x.detach(), torch.randn(12, 2)).ndim == 0


def test_adam_trains_each_model_as_if_alone():
    # a mean over M * B scales model m's gradient by 1 / M; Adam's step is invariant to that scale
    torch.manual_seed(2)
    G = StackedGenerator(2, latent_dim=3, hidden=(8,))
    alone = single_model(G.net, 0)
    z = torch.randn(2 * 5, 3)
    opt_stack, opt_alone = torch.optim.Adam(G.parameters(), 1e-2), torch.optim.Adam(alone.parameters(), 1e-2)
    for _ in range(3):
        opt_stack.zero_grad()
        G(z).pow(2).mean().backward()
        opt_stack.step()
        opt_alone.zero_grad()
        alone(z[:5]).pow(2).mean().backward()
        opt_alone.step()
    assert torch.allclose(G.net[-1].weight[0].T, alone[-1].weight, atol=1e-5)


def test_spectral_normalisation_matches_pytorch():
    torch.manual_seed(3)
    layer = _StackedLinear(4, 12, 7, spectral=True)
    x = torch.randn(4, 5, 12)
    for _ in range(30):  # training forward passes refine the power iteration
        layer(x)
    weight = layer.effective_weight().detach()  # (M, in, out)
    top = torch.linalg.matrix_norm(weight.transpose(1, 2).reshape(4, 7, -1), ord=2)
    assert torch.allclose(top, torch.ones(4), atol=1e-3)
    for m in range(4):
        reference = nn.utils.parametrizations.spectral_norm(nn.Linear(12, 7))
        with torch.no_grad():
            reference.parametrizations.weight.original.copy_(layer.weight[m].T)
        for _ in range(30):
            reference(x[m])
        assert torch.allclose(reference.weight, weight[m].T, atol=1e-3)


def test_minibatch_similarity_closed_forms():
    same = torch.ones(5, 3, 4)  # 5 identical samples, 3 kernels of 4 numbers
    assert torch.allclose(minibatch_similarity(same), torch.full((5, 3), 4.0))
    far = torch.arange(4.0).view(4, 1, 1) * 100  # samples 100 apart: exp(-100) ~ 0
    assert minibatch_similarity(far).abs().max() < 1e-30
    m = torch.randn(2, 6, 3, 2)
    naive = torch.zeros(2, 6, 3)
    for b in range(2):
        for i in range(6):
            for j in range(6):
                if i != j:
                    naive[b, i] += torch.exp(-(m[b, i] - m[b, j]).abs().sum(-1))
    assert torch.allclose(minibatch_similarity(m), naive, atol=1e-6)


def test_minibatch_discrimination_layer_shapes():
    stacked = MinibatchDiscrimination(2, 10, n_kernels=5, kernel_dim=3)
    assert stacked(torch.randn(2, 8, 10)).shape == (2, 8, 15)
    with pytest.raises(ValueError, match=r"\(M, B, A\)"):
        stacked(torch.randn(8, 10))


def test_the_discriminator_builds_its_minibatch_layer_with_its_own_kernels():
    D = StackedDiscriminator(2, minibatch_kernels=5, kernel_dim=4)
    assert (D.minibatch.n_kernels, D.minibatch.kernel_dim) == (5, 4) and D.minibatch.T.shape[-1] == 5 * 4
    assert D(torch.randn(2 * 8, 2)).shape == (16,)


def test_discriminator_variants_shapes_and_errors():
    x = torch.randn(3 * 8, 2)
    assert StackedDiscriminator(3, pack=2)(x).shape == (12,)
    assert StackedDiscriminator(3, minibatch_kernels=4)(x).shape == (24,)
    assert StackedDiscriminator(3, spectral=True)(x).shape == (24,)
    assert StackedGenerator(3, latent_dim=5)(torch.randn(24, 5)).shape == (24, 2)
    with pytest.raises(ValueError, match="M = 3"):
        StackedDiscriminator(3)(torch.randn(10, 2))
    with pytest.raises(ValueError, match="multiple of pack"):
        StackedDiscriminator(3, pack=4)(torch.randn(3 * 6, 2))
