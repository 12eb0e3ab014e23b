"""The toy benchmark's pieces: methods, batches, training and scoring (gancourse.toys)."""

import numpy as np
import pytest
import torch

from gancourse.data import grid_of_gaussians, ring_of_gaussians
from gancourse.objectives import WassersteinGP
from gancourse.toys import TOY_METHODS, ToyMethod, real_batch, score, toy_samples, train_toys


def test_with_lr_g_keeps_the_ratio_of_the_two_rates():
    vanilla = ToyMethod(lr_g=1e-3, lr_d=4e-3)
    faster = vanilla.with_lr_g(3e-3)
    assert faster.lr_g == 3e-3 and faster.lr_d == pytest.approx(1.2e-2)
    assert faster.objective is vanilla.objective and faster.k == vanilla.k


def test_bad_methods_are_refused():
    with pytest.raises(ValueError, match="optimiser"):
        ToyMethod(optimiser="sgd")
    with pytest.raises(ValueError, match="k must be"):
        ToyMethod(k=0)
    with pytest.raises(ValueError, match="learning rates"):
        ToyMethod(lr_g=0.0)


def test_the_optimisers_are_the_methods():
    G, D = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    opt_g, opt_d = TOY_METHODS["WGAN-GP"].optimisers(G, D)
    assert isinstance(opt_g, torch.optim.Adam) and opt_g.param_groups[0]["betas"] == (0.5, 0.9)
    opt_g, opt_d = TOY_METHODS["WGAN (clip)"].optimisers(G, D)
    assert isinstance(opt_d, torch.optim.RMSprop) and opt_d.param_groups[0]["lr"] == TOY_METHODS["WGAN (clip)"].lr_d


def test_real_batch_draws_each_models_rows_from_its_own_mixture():
    grid, ring = grid_of_gaussians(), ring_of_gaussians()
    batch = real_batch([ring, grid], 500, torch.Generator().manual_seed(0))
    assert batch.shape == (1000, 2)
    assert torch.allclose(batch[:500].norm(dim=1), torch.full((500,), 2.0), atol=0.15)  # on the ring's circle
    assert batch[500:].norm(dim=1).max() > 3  # the grid reaches its corners


def test_score_counts_modes_and_high_quality_samples():
    grid, ring = grid_of_gaussians(), ring_of_gaussians()
    on_the_modes = grid.centres.repeat(4, 1)  # 100 samples, 4 per mode, each exactly on it
    far = torch.full((100, 2), 50.0)
    result = score(torch.stack([on_the_modes, far]), [grid, grid])
    np.testing.assert_allclose(result, [[25, 1.0], [0, 0.0]])
    with pytest.raises(ValueError, match="mixtures"):
        score(torch.stack([on_the_modes]), [grid, ring])


def test_training_is_reproducible_and_runs_the_probe():
    mixtures = [grid_of_gaussians(), ring_of_gaussians()]
    calls = []
    G1, _ = train_toys(TOY_METHODS["vanilla"], mixtures, steps=6, seed=3, every=2, probe=lambda G, D: calls.append(1))
    G2, _ = train_toys(TOY_METHODS["vanilla"], mixtures, steps=6, seed=3)
    assert len(calls) == 3
    assert torch.equal(toy_samples(G1, n=50), toy_samples(G2, n=50))
    assert toy_samples(G1, n=50).shape == (2, 50, 2)


def test_a_critic_method_takes_k_critic_steps_per_generator_step(monkeypatch):
    import gancourse.toys as toys

    counted = {"d": 0, "g": 0}
    d_step, g_step = toys.discriminator_step, toys.generator_step
    monkeypatch.setattr(toys, "discriminator_step", lambda *a, **k: counted.__setitem__("d", counted["d"] + 1)
                        or d_step(*a, **k))
    monkeypatch.setattr(toys, "generator_step", lambda *a, **k: counted.__setitem__("g", counted["g"] + 1)
                        or g_step(*a, **k))
    train_toys(ToyMethod(WassersteinGP(10.0), k=5, lr_g=1e-4, lr_d=1e-4), [grid_of_gaussians()], steps=3)
    assert counted == {"d": 15, "g": 3}


def test_train_toys_refuses_an_empty_run():
    with pytest.raises(ValueError, match="steps"):
        train_toys(TOY_METHODS["vanilla"], [grid_of_gaussians()], steps=0)
    with pytest.raises(ValueError, match="mixture"):
        train_toys(TOY_METHODS["vanilla"], [], steps=5)
