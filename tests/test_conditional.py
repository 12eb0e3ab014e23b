import pytest
import torch

from gancourse.conditional import (
    ConcatDiscriminator,
    ProjectionDiscriminator,
    _recognised,
    style_conditions,
)
from gancourse.models import LeanDCGANDiscriminator, LeanDCGANGenerator, as_condition, generate
from gancourse.train import GANTrainer, TrainConfig


def conditions(n: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(10, (n,), generator=g)
    return torch.cat([torch.nn.functional.one_hot(labels, 10).float(), torch.rand(n, 2, generator=g)], dim=1)


def test_shapes_ranges_and_integer_labels():
    G = LeanDCGANGenerator(latent_dim=8, condition_dim=10)
    images = G(torch.randn(5, 8) * 10, torch.arange(5))
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1
    for D in (ConcatDiscriminator(10), ProjectionDiscriminator(10)):
        assert D(images, torch.arange(5)).shape == (5,)
        one_hot = torch.nn.functional.one_hot(torch.arange(5), 10).float()
        assert torch.equal(D.eval()(images, torch.arange(5)), D(images, one_hot))


def test_the_condition_changes_the_output():
    torch.manual_seed(0)
    G = LeanDCGANGenerator(latent_dim=8, condition_dim=12).eval()
    z = torch.randn(1, 8).expand(2, 8)
    y = conditions(2)
    assert not torch.allclose(G(z, y)[0], G(z, y)[1])
    for D in (ConcatDiscriminator(12).eval(), ProjectionDiscriminator(12).eval()):
        x = torch.randn(1, 1, 28, 28).expand(2, 1, 28, 28)
        logits = D(x, y)
        assert logits[0] != logits[1]


def test_projection_is_logit_plus_inner_product_with_the_class_embedding():
    torch.manual_seed(0)
    D = ProjectionDiscriminator(10).eval()
    x, labels = torch.randn(4, 1, 28, 28), torch.tensor([0, 3, 3, 9])
    phi = D.phi(x)
    expected = D.body.net[-1](phi).squeeze(1) + (D.embed.weight.T[labels] * phi).sum(1)  # row y of V for class y
    assert torch.allclose(D(x, labels), expected, atol=1e-5)


def test_bad_conditions_are_named():
    with pytest.raises(ValueError, match=r"\(B, 12\)"):
        as_condition(torch.zeros(3, 10), 12)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        as_condition(torch.tensor([3, 10]), 10)
    with pytest.raises(ValueError, match="integer conditions"):
        as_condition(torch.tensor([3, 1]), 12)
    with pytest.raises(ValueError, match="takes a condition"):
        LeanDCGANGenerator(8, condition_dim=10)(torch.randn(2, 8))
    with pytest.raises(ValueError, match="takes no condition"):
        LeanDCGANGenerator(8)(torch.randn(2, 8), torch.arange(2))


def test_the_conditional_networks_reuse_the_lean_dcgan_layers():
    """Conditioning adds only its own weights: the concatenation D's wider first convolution (C x 32 x 4 x 4),
    the projection D's embedding V (C x 3136), the generator's wider first layer (C x 6272)."""
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    unconditional = count(LeanDCGANDiscriminator())
    assert count(ConcatDiscriminator(12)) - unconditional == 12 * 32 * 4 * 4
    assert count(ProjectionDiscriminator(12)) - unconditional == 12 * 3136
    assert count(LeanDCGANGenerator(64, condition_dim=12)) - count(LeanDCGANGenerator(64)) == 12 * 6272


def test_the_library_loop_trains_a_conditional_gan_deterministically():
    def run() -> torch.Tensor:
        torch.manual_seed(0)
        G, D = LeanDCGANGenerator(8, condition_dim=10), ConcatDiscriminator(10)
        real, labels = torch.rand(64, 1, 28, 28) * 2 - 1, torch.arange(64) % 10
        trainer = GANTrainer(G, D, torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters()), real, 8,
                             TrainConfig(batch_size=8, progress=False), conditions=labels)
        history = trainer.train(3)
        assert len(history.d_loss) == 3 and trainer.iterations == 3 and history.iteration == [1, 2, 3]
        return generate(G, torch.randn(4, 8), torch.arange(4))

    assert torch.equal(run(), run())


def test_recognised_is_the_share_read_as_asked():
    probabilities = torch.nn.functional.one_hot(torch.tensor([0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9]), 10).float()
    asked = torch.tensor([0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    assert _recognised(probabilities, asked).tolist() == [1.0, 0.5] + [1.0] * 8
    with pytest.raises(ValueError, match="at least once"):
        _recognised(probabilities[:3], asked[:3])


def test_style_conditions_are_the_digit_then_ranks_among_the_training_digits():
    training = torch.tensor([[1.0, -0.2], [2.0, 0.0], [3.0, 0.2], [4.0, 0.4]])
    held_out = torch.tensor([[2.5, 0.5], [0.5, -1.0]])  # outside the training range on both ends
    y = style_conditions(torch.tensor([7, 0]), held_out, training)
    assert y.shape == (2, 12) and y[0, 7] == 1 and y[1, 0] == 1 and y[:, :10].sum() == 2
    assert y[0, 10:].tolist() == [0.5, 1.0] and y[1, 10:].tolist() == [0.0, 0.0]


def test_the_generator_is_asked_only_for_conditions_the_data_contain():
    G, D = LeanDCGANGenerator(8, condition_dim=10), ProjectionDiscriminator(10)
    labels = torch.full((40,), 3)
    trainer = GANTrainer(G, D, torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters()),
                         torch.zeros(40, 1, 28, 28), 8, TrainConfig(batch_size=16, progress=False), conditions=labels)
    assert torch.equal(trainer.sample_conditions(16), torch.full((16,), 3))
