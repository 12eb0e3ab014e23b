import pytest
import torch

from gancourse.conditional import (
    ConcatDiscriminator,
    ConditionalGenerator,
    ConditionalTrainer,
    ProjectionDiscriminator,
    as_condition,
    conditions_per_class,
    discriminator_step,
    generate_conditional,
    recognised,
)
from gancourse.losses import discriminator_loss


def conditions(n: int = 6, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(10, (n,), generator=g)
    return torch.cat([torch.nn.functional.one_hot(labels, 10).float(), torch.rand(n, 2, generator=g)], dim=1)


def test_shapes_ranges_and_integer_labels():
    G = ConditionalGenerator(latent_dim=8, condition_dim=10)
    images = G(torch.randn(5, 8) * 10, torch.arange(5))
    assert images.shape == (5, 1, 28, 28) and images.abs().max() <= 1
    for D in (ConcatDiscriminator(10), ProjectionDiscriminator(10)):
        assert D(images, torch.arange(5)).shape == (5,)
        one_hot = torch.nn.functional.one_hot(torch.arange(5), 10).float()
        assert torch.equal(D.eval()(images, torch.arange(5)), D(images, one_hot))


def test_the_condition_changes_the_output():
    torch.manual_seed(0)
    G = ConditionalGenerator(latent_dim=8, condition_dim=12).eval()
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
    expected = D.psi(phi).squeeze(1) + (D.embed.weight.T[labels] * phi).sum(1)  # row y of V for class y
    assert torch.allclose(D(x, labels), expected, atol=1e-5)


def test_bad_conditions_are_named():
    with pytest.raises(ValueError, match=r"\(B, 12\)"):
        as_condition(torch.zeros(3, 10), 12)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        as_condition(torch.tensor([3, 10]), 10)
    with pytest.raises(ValueError, match="integer labels"):
        as_condition(torch.tensor([3, 1]), 12)
    with pytest.raises(ValueError, match="aligned"):
        G, D = ConditionalGenerator(8), ProjectionDiscriminator()
        ConditionalTrainer(G, D, torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters()),
                           torch.zeros(5, 1, 28, 28), torch.zeros(4, dtype=torch.long))


def test_discriminator_step_is_the_bce_discriminator_loss_and_reaches_only_d():
    torch.manual_seed(0)
    G, D = ConditionalGenerator(8, 12), ProjectionDiscriminator(12)
    real, y_real, y_fake, z = torch.rand(6, 1, 28, 28) * 2 - 1, conditions(6, 1), conditions(6, 2), torch.randn(6, 8)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.0)
    with torch.no_grad():
        expected = discriminator_loss(D(real, y_real), D(G(z, y_fake), y_fake))
    loss, _, _ = discriminator_step(G, D, opt_d, real, y_real, z, y_fake)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert all(p.grad is None for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())


def test_trainer_is_deterministic_and_learns_labels_on_a_toy_set():
    def run() -> torch.Tensor:
        torch.manual_seed(0)
        G, D = ConditionalGenerator(8, 10), ConcatDiscriminator(10)
        real, labels = torch.rand(64, 1, 28, 28) * 2 - 1, torch.arange(64) % 10
        trainer = ConditionalTrainer(G, D, torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters()),
                                     real, labels, batch_size=8, matching_aware=True)
        history = trainer.train(3, progress=False)
        assert len(history.d_loss) == 3 and trainer.step == 3 and history.step == [1, 2, 3]
        return generate_conditional(G, torch.randn(4, 8), torch.arange(4))

    assert torch.equal(run(), run())


def test_mismatched_conditions_name_another_digit_and_keep_the_attributes():
    G, D = ConditionalGenerator(8, 12), ProjectionDiscriminator(12)
    trainer = ConditionalTrainer(G, D, torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters()),
                                 torch.zeros(40, 1, 28, 28), conditions(40))
    y = conditions(40)
    wrong = trainer._mismatch(y)
    assert (wrong[:, :10].argmax(1) != y[:, :10].argmax(1)).all()
    assert torch.equal(wrong[:, 10:], y[:, 10:]) and torch.equal(wrong[:, :10].sum(1), torch.ones(40))
    labels = torch.arange(40) % 10
    assert (trainer._mismatch(labels) != labels).all()


def test_conditions_per_class_and_recognised():
    labels = torch.arange(300) % 10
    picked = conditions_per_class(labels, labels, per_class=20)
    assert picked.tolist() == sorted(picked.tolist()) and torch.bincount(picked).tolist() == [20] * 10
    with pytest.raises(ValueError, match="fewer than"):
        conditions_per_class(labels, labels, per_class=31)
    probabilities = torch.nn.functional.one_hot(torch.tensor([0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9]), 10).float()
    asked = torch.tensor([0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    assert recognised(probabilities, asked).tolist() == [1.0, 0.5] + [1.0] * 8
    with pytest.raises(ValueError, match="at least once"):
        recognised(probabilities[:3], asked[:3])
