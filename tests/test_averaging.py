import math

import pytest
import torch
from torch import nn

from gancourse.averaging import GeneratorAverage, ema_beta, latent_batches, recompute_batch_norm
from gancourse.checkpoint import load_checkpoint, save_atomic
from gancourse.models import LeanDCGANGenerator, generate

BATCH = 64
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


class TinyGenerator(nn.Module):
    """z (B, 4) -> (B, 5) through two batch norms, in float64 for exact comparisons."""

    latent_dim = 4

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.first, self.norm1 = nn.Linear(4, 6), nn.BatchNorm1d(6)
        self.second, self.norm2 = nn.Linear(6, 5), nn.BatchNorm1d(5)
        self.double()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.norm2(self.second(torch.relu(self.norm1(self.first(z)))))


def scalar_generator(value: float) -> nn.Linear:
    generator = nn.Linear(1, 1, bias=False).double()
    generator.weight.data.fill_(value)
    return generator


def randomise_(generator: nn.Module, seed: int) -> list[torch.Tensor]:
    """New random weights for ``generator`` (a stand-in for a training step); returns copies of them."""
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in generator.parameters():
            p.copy_(torch.randn(p.shape, generator=rng, dtype=p.dtype))
    return [p.detach().clone() for p in generator.parameters()]


def test_ema_beta_follows_the_stylegan2_rule():
    assert ema_beta(BATCH, 0) == 0.0  # ramp-up: the first update copies
    assert ema_beta(BATCH, 10 * BATCH) == 0.5 ** (BATCH / (0.05 * 10 * BATCH))  # half-life 5% of 640 images
    assert ema_beta(BATCH, 10**6) == 0.5 ** (BATCH / 10_000)  # past the ramp: the half-life
    assert ema_beta(BATCH, 0, rampup=None) == 0.5 ** (BATCH / 10_000)
    assert ema_beta(100, 0, half_life_images=100, rampup=None) == 0.5  # one half-life per update


@pytest.mark.parametrize("rampup", [0.05, None])
def test_the_average_equals_the_hand_formula(rampup):
    generator = TinyGenerator()
    average = GeneratorAverage(generator, half_life_images=500, rampup=rampup)
    expected = randomise_(generator, seed=1)
    average.update(generator, BATCH)
    for step in range(2, 6):
        weights = randomise_(generator, seed=step)
        average.update(generator, step * BATCH)
        beta = ema_beta(BATCH, (step - 1) * BATCH, 500, rampup)
        expected = [beta * a + (1 - beta) * w for a, w in zip(expected, weights, strict=True)]
        for averaged, hand in zip(average.module.parameters(), expected, strict=True):
            torch.testing.assert_close(averaged, hand, rtol=1e-12, atol=1e-12)
    assert int(average.n_averaged) == 5 and int(average.images_seen) == 5 * BATCH


def test_the_uniform_average_is_the_mean_of_the_updates():
    generator = TinyGenerator()
    average = GeneratorAverage(generator, half_life_images=None)
    history = []
    for step in range(1, 5):
        history.append(randomise_(generator, seed=step))
        average.update(generator, step * 10)
    for averaged, *weights in zip(average.module.parameters(), *history, strict=True):
        torch.testing.assert_close(averaged, torch.stack(weights).mean(0), rtol=1e-12, atol=1e-12)


def share_of_first_weights(average: GeneratorAverage, updates: int) -> float:
    """The first update sees weight 1, the next ``updates`` weight 0: the average is the first weights' share."""
    generator = scalar_generator(1.0)
    average.update(generator, BATCH)
    generator.weight.data.fill_(0.0)
    for step in range(2, updates + 2):
        average.update(generator, step * BATCH)
    return average.module.weight.item()


@pytest.mark.parametrize("updates", [1, 3, 10])
def test_the_warm_up_forgets_the_first_weights_and_a_fixed_beta_does_not(updates):
    with_warm_up = share_of_first_weights(GeneratorAverage(scalar_generator(0.0)), updates)
    product = math.prod(ema_beta(BATCH, step * BATCH) for step in range(1, updates + 1))
    harmonic = sum(1 / step for step in range(1, updates + 1))
    assert with_warm_up == pytest.approx(product, rel=1e-9)
    assert with_warm_up == pytest.approx(0.5 ** (harmonic / 0.05), rel=1e-9)  # beta_k = 0.5^(1 / (0.05 k))
    assert with_warm_up < 1e-6
    fixed = share_of_first_weights(GeneratorAverage(scalar_generator(0.0), rampup=None), updates)
    assert fixed == pytest.approx((0.5 ** (BATCH / 10_000)) ** updates, rel=1e-9)
    assert fixed > 0.9


def test_a_late_start_copies_the_generator_until_then():
    generator = TinyGenerator()
    average = GeneratorAverage(generator, rampup=None, start_images=3 * BATCH)
    for step in range(1, 4):
        weights = randomise_(generator, seed=step)
        average.update(generator, step * BATCH)
        for averaged, current in zip(average.module.parameters(), weights, strict=True):
            assert torch.equal(averaged, current)
    latest = randomise_(generator, seed=4)
    average.update(generator, 4 * BATCH)
    beta = ema_beta(BATCH, 3 * BATCH, rampup=None)
    for averaged, before, current in zip(average.module.parameters(), weights, latest, strict=True):
        torch.testing.assert_close(averaged, beta * before + (1 - beta) * current, rtol=1e-12, atol=1e-12)


def batch_statistics(average: TinyGenerator, latents: list[torch.Tensor]) -> list[tuple[torch.Tensor, ...]]:
    """Per batch norm, the mean over batches of each batch's mean and unbiased variance, the averaged network run
    in training mode by hand: what momentum=None's cumulative average must hold."""
    means, variances = [[], []], [[], []]
    for z in latents:
        h = average.first(z)
        means[0].append(h.mean(0))
        variances[0].append(h.var(0))
        h = average.second(torch.relu(nn.functional.batch_norm(h, None, None, average.norm1.weight,
                                                               average.norm1.bias, training=True)))
        means[1].append(h.mean(0))
        variances[1].append(h.var(0))
    return [(torch.stack(m).mean(0), torch.stack(v).mean(0)) for m, v in zip(means, variances, strict=True)]


def test_batch_norm_statistics_are_those_of_the_averaged_network():
    generator = TinyGenerator()
    average = GeneratorAverage(generator, half_life_images=100)
    for step in range(1, 4):
        randomise_(generator, seed=step)
        generator(torch.randn(32, 4, dtype=torch.float64))  # G's own running statistics move
        average.update(generator, step * BATCH)
    average.module.eval()
    latents = latent_batches(4, 5, 16, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    recompute_batch_norm(average.module, latents)
    with torch.no_grad():
        expected = batch_statistics(average.module, latents)
    for norm, (mean, variance) in zip((average.module.norm1, average.module.norm2), expected, strict=True):
        torch.testing.assert_close(norm.running_mean, mean, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(norm.running_var, variance, rtol=1e-12, atol=1e-12)
        assert norm.momentum == 0.1 and int(norm.num_batches_tracked) == 5
    assert not average.module.training
    assert not torch.allclose(generator.norm1.running_mean, average.module.norm1.running_mean)


class ShiftedByDigit(nn.Module):
    """A toy conditional G: batch norm of z's first coordinate plus the digit."""

    latent_dim = 2

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.norm(z[:, :1] + y[:, None].to(z.dtype))


def test_a_conditional_generator_gets_the_sampled_conditions():
    generator = ShiftedByDigit().eval()
    latents = latent_batches(2, count=3, batch_size=8, generator=torch.Generator().manual_seed(0))
    asked = []

    def threes(count: int) -> torch.Tensor:
        asked.append(count)
        return torch.full((count,), 3)

    recompute_batch_norm(generator, latents, condition_sampler=threes)
    assert asked == [8, 8, 8] and not generator.training
    expected = torch.stack([z[:, 0].mean() for z in latents]).mean() + 3
    torch.testing.assert_close(generator.norm.running_mean, expected[None])


def test_the_hook_updates_once_per_optimiser_step():
    generator = TinyGenerator()
    optimiser = torch.optim.SGD(generator.parameters(), lr=0.1)
    average = GeneratorAverage(generator, half_life_images=200)
    by_hand = GeneratorAverage(generator, half_life_images=200)
    handle = average.attach_to(optimiser, generator, batch_size=32)
    for step in range(1, 5):
        optimiser.zero_grad()
        generator(torch.randn(32, 4, dtype=torch.float64)).square().mean().backward()
        optimiser.step()
        by_hand.update(generator, step * 32)
        assert int(average.n_averaged) == step and int(average.images_seen) == step * 32
    for hooked, explicit in zip(average.state_dict().values(), by_hand.state_dict().values(), strict=True):
        assert torch.equal(hooked, explicit)
    handle.remove()
    optimiser.step()
    assert int(average.n_averaged) == 4


def test_the_hook_refuses_an_optimiser_of_other_weights():
    generator, discriminator = TinyGenerator(), nn.Linear(5, 1)
    with pytest.raises(ValueError, match="none of the generator's weights"):
        GeneratorAverage(generator).attach_to(torch.optim.SGD(discriminator.parameters(), lr=0.1), generator, 32)


def test_a_checkpoint_round_trip_is_exact(tmp_path):
    generator = TinyGenerator()
    average = GeneratorAverage(generator)
    for step in range(1, 4):
        randomise_(generator, seed=step)
        average.update(generator, step * BATCH)
    recompute_batch_norm(average.module, latent_batches(4, 2, 8, dtype=torch.float64))
    save_atomic({"average": average.state_dict()}, tmp_path / "ema.pt")
    restored = GeneratorAverage(TinyGenerator(seed=1))
    restored.load_state_dict(load_checkpoint(tmp_path / "ema.pt")["average"])
    assert average.state_dict().keys() == restored.state_dict().keys()
    for name, value in average.state_dict().items():
        assert torch.equal(value, restored.state_dict()[name]), name
    randomise_(generator, seed=4)
    for resumed in (average, restored):
        resumed.update(generator, 4 * BATCH)  # the same beta: images_seen came back
    for original, copy in zip(average.module.parameters(), restored.module.parameters(), strict=True):
        assert torch.equal(original, copy)


@pytest.mark.parametrize("device", DEVICES)
def test_the_course_generator_averaged_and_sampled(device):
    generator = LeanDCGANGenerator(latent_dim=8, width=4).to(device)
    average = GeneratorAverage(generator)
    average.update(generator, BATCH)
    recompute_batch_norm(average.module, latent_batches(8, 2, 16, generator=torch.Generator().manual_seed(0)))
    samples = generate(average.module, torch.randn(3, 8, device=device))
    assert samples.shape == (3, 1, 28, 28) and samples.device.type == device


def test_bad_input():
    generator = TinyGenerator()
    with pytest.raises(TypeError, match="nn.Module"):
        GeneratorAverage(lambda z: z)
    for settings in ({"half_life_images": 0}, {"rampup": -0.1}, {"start_images": -1}):
        with pytest.raises(ValueError):
            GeneratorAverage(generator, **settings)
    average = GeneratorAverage(generator)
    average.update(generator, BATCH)
    with pytest.raises(ValueError, match="must grow"):
        average.update(generator, BATCH)
    with pytest.raises(ValueError, match="batch_size"):
        ema_beta(0, 10)
    with pytest.raises(ValueError, match=">= 1"):
        latent_batches(4, 0, 8)
