import dataclasses
import math

import pytest
import torch
from torch import nn

from gancourse.checkpoint import CheckpointError, load_checkpoint
from gancourse.losses import discriminator_loss, generator_loss_nonsaturating
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.objectives import (
    FeatureMatching,
    Hinge,
    LeastSquares,
    Minimax,
    NonSaturating,
    RelativisticPairing,
    Wasserstein,
    WassersteinGP,
)
from gancourse.train import GANTrainer, NonFiniteLossError, TrainConfig, discriminator_step, linear_decay

OBJECTIVES = {
    "non-saturating": NonSaturating(),
    "smoothed + R1": NonSaturating(real_label=0.9, r1_gamma=1.0),
    "minimax": Minimax(),
    "hinge + R1": Hinge(r1_gamma=0.5),
    "wgan-clip": Wasserstein(clip=0.05),
    "wgan-gp": WassersteinGP(),
}

LATENT = 4


class ConditionalG(nn.Module):
    """G(z, y): the class embedding concatenated with z."""

    def __init__(self, classes: int = 3):
        super().__init__()
        self.latent_dim, self.embed = LATENT, nn.Embedding(classes, 3)
        self.net = MLPGenerator(LATENT + 3, (2,), hidden=(16,), tanh=True)

    def forward(self, z, y):
        return self.net(torch.cat([z, self.embed(y)], 1))


class ConditionalD(nn.Module):
    """D(x, y): the class embedding concatenated with x."""

    def __init__(self, classes: int = 3):
        super().__init__()
        self.embed, self.net = nn.Embedding(classes, 3), MLPDiscriminator((5,), hidden=(16,))

    def forward(self, x, y):
        return self.net(torch.cat([x, self.embed(y)], 1))


def make(seed: int = 0, data: torch.Tensor | None = None, conditional: bool = False, decay: bool = False,
         **config):
    torch.manual_seed(seed)
    g = ConditionalG() if conditional else MLPGenerator(LATENT, (2,), hidden=(16,), tanh=True)
    d = ConditionalD() if conditional else MLPDiscriminator((2,), hidden=(16,))
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    if data is None:
        data = torch.rand(500, 2, generator=torch.Generator().manual_seed(7)) * 2 - 1
    conditions = (data[:, 0] > 0).long() + (data[:, 1] > 0.5).long() if conditional else None  # 3 classes
    cfg = TrainConfig(batch_size=32, progress=False, log_every=7, **config)
    schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, linear_decay(30)) for opt in (opt_g, opt_d)] if decay else ()
    return GANTrainer(g, d, opt_g, opt_d, data, LATENT, cfg, conditions=conditions, schedulers=schedulers)


def params(trainer: GANTrainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in [*trainer.G.parameters(), *trainer.D.parameters()]]


def reference_loop(trainer: GANTrainer, steps: int, k: int, reuse_fakes: bool = False) -> None:
    """Algorithm 1 written out plainly, the way Chapter 3 writes it (or reusing D's last fakes for G's step, as
    ``TrainConfig(reuse_fakes=True)`` does)."""
    G, D, data = trainer.G, trainer.D, trainer.real
    for _ in range(steps):
        for _ in range(k):
            real = data[torch.randint(len(data), (32,))]
            generated = G(torch.randn(32, LATENT))
            loss_d = discriminator_loss(D(real), D(generated.detach()))
            trainer.opt_d.zero_grad()
            loss_d.backward()
            trainer.opt_d.step()
        if not reuse_fakes:
            generated = G(torch.randn(32, LATENT))
        loss_g = generator_loss_nonsaturating(D(generated))
        trainer.opt_g.zero_grad()
        loss_g.backward()
        trainer.opt_g.step()


def same_parameters(a: GANTrainer, b: GANTrainer) -> bool:
    return all(torch.equal(x, y) for x, y in zip(params(a), params(b), strict=True))


@pytest.mark.parametrize("k", [1, 3])
def test_same_parameters_as_the_plain_loop(k):
    ours = make(k=k)
    torch.manual_seed(11)
    ours.train(20)
    plain = make(k=k)
    torch.manual_seed(11)
    reference_loop(plain, 20, k)
    assert same_parameters(ours, plain)


def test_history_and_snapshots():
    trainer = make(snapshot_at=(1, 10))
    history = trainer.train(20)
    assert history.iteration == list(range(1, 21))
    assert len(history.d_loss) == len(history.d_fake) == len(history.wall_time) == 20
    assert all(0 < v < 1 for v in history.d_real + history.d_fake)
    assert sorted(history.snapshots) == [1, 10]
    assert history.snapshots[10].shape == (64, 2)
    # the fixed noise is fixed: a snapshot now equals G(fixed_z)
    assert torch.equal(trainer.snapshot(), trainer.G.eval()(trainer.fixed_z))


@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "conditional"])
@pytest.mark.parametrize("name", OBJECTIVES)
def test_resume_equals_uninterrupted(tmp_path, name, conditional):
    settings = {"objective": OBJECTIVES[name], "k": 2 if "wgan" in name else 1, "conditional": conditional}
    straight = make(**settings)
    torch.manual_seed(5)
    straight.train(30)

    first = make(**settings)
    torch.manual_seed(5)
    first.train(15)
    path = first.save(tmp_path / "ckpt" / "run.pt")
    torch.manual_seed(999)  # whatever happens in between must not matter
    second = make(seed=123, **settings)
    second.load(path)
    second.train(15)
    assert second.iterations == 30
    assert same_parameters(straight, second)
    assert second.history.to_state() | {"wall_time": []} == straight.history.to_state() | {"wall_time": []}
    assert [p.name for p in path.parent.iterdir()] == ["run.pt"]  # no temporary file left behind


def test_corrupt_or_missing_checkpoint(tmp_path):
    trainer = make()
    path = trainer.save(tmp_path / "run.pt")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="run.pt is not a readable checkpoint"):
        trainer.load(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_nan_guard_names_step_and_loss():
    trainer = make()
    trainer.train(5)
    with torch.no_grad():
        for p in trainer.D.parameters():
            p.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match=r"d_loss became nan at iteration 6"):
        trainer.train(10)


def test_bad_input():
    with pytest.raises(ValueError, match="k .* must be >= 1"):
        TrainConfig(k=0)
    with pytest.raises(ValueError, match=r"outside \[-1.0, 1.0\]"):
        make(data=torch.rand(50, 2) * 3)
    with pytest.raises(TypeError, match="floating-point"):
        make(data=torch.zeros(50, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"generator output has shape \(2,\) .* data have \(3,\)"):
        make(data=torch.zeros(50, 3))
    with pytest.raises(ValueError, match="iterations must be >= 0"):
        make().train(-1)


def test_linear_decay_and_resume_with_it(tmp_path):
    f = linear_decay(100, start=0.5, floor=0.0)
    assert f(0) == 1.0 and f(50) == 1.0 and f(75) == 0.5 and f(100) == 0.0
    straight = make(decay=True)
    torch.manual_seed(2)
    straight.train(30)
    first = make(decay=True)
    torch.manual_seed(2)
    first.train(20)
    path = first.save(tmp_path / "run.pt")
    second = make(decay=True)
    second.load(path)
    second.train(10)
    assert same_parameters(straight, second)
    assert second.opt_g.param_groups[0]["initial_lr"] == 1e-3
    # iteration i runs at the rate for i; after the last (29) the schedulers have moved on to 30
    assert straight.opt_d.param_groups[0]["lr"] == pytest.approx(1e-3 * linear_decay(30)(30))
    with pytest.raises(ValueError, match="2 learning-rate schedulers, this trainer 0"):
        make().load(path)


def test_a_scheduled_run_equals_the_plain_loop_setting_each_rate_by_hand():
    ours = make(decay=True)
    torch.manual_seed(4)
    ours.train(30)
    plain = make()
    torch.manual_seed(4)
    for i in range(30):
        for opt in (plain.opt_g, plain.opt_d):
            opt.param_groups[0]["lr"] = 1e-3 * linear_decay(30)(i)
        reference_loop(plain, 1, 1)
    assert same_parameters(ours, plain)


def test_training_flops_is_exact_and_leaves_models_and_rng_alone():
    from gancourse.models import MLPDiscriminator, MLPGenerator
    from gancourse.train import training_flops

    G, D = MLPGenerator(4, (3,), hidden=(8,)), MLPDiscriminator((3,), hidden=(8,))
    before = [p.clone() for p in [*G.parameters(), *D.parameters()]]
    state = torch.get_rng_state()
    flops = training_flops(G, D, (3,), TrainConfig(batch_size=10))
    assert torch.equal(state, torch.get_rng_state())
    assert all(torch.equal(a, b) for a, b in zip(before, [*G.parameters(), *D.parameters()], strict=True))
    # Only matmuls count: forward 2*B*in*out; backward the same for weight grads, and again for input grads where
    # an input needs one (not for data, detached fakes or z). B = 10, G: 4-8-3, D: 3-8-1.
    g_fwd, d_fwd = 2 * 10 * (4 * 8 + 8 * 3), 2 * 10 * (3 * 8 + 8 * 1)
    d_step = g_fwd + 2 * d_fwd + 2 * (d_fwd + 2 * 10 * 8 * 1)  # G makes fakes; D on real and fake; backward
    # G step: D is frozen, so its backward computes input grads only (d_fwd), then G's full backward.
    g_step = g_fwd + d_fwd + d_fwd + g_fwd + 2 * 10 * 8 * 3
    assert flops == d_step + g_step == 8000
    assert training_flops(G, D, (3,), TrainConfig(batch_size=10, k=2)) == 2 * d_step + g_step


def test_frozen_restores_only_what_was_trainable_even_after_an_error():
    from gancourse.train import frozen

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    net[0].bias.requires_grad_(False)  # frozen by the user: must stay frozen
    with pytest.raises(RuntimeError), frozen(net):
        assert not any(p.requires_grad for p in net.parameters())
        raise RuntimeError("boom")
    assert [p.requires_grad for p in net.parameters()] == [True, False, True, True]
    x = torch.randn(3, 2, requires_grad=True)
    with frozen(net):
        out = net(x).sum()
    out.backward()  # after the block: the graph was recorded without weight gradients
    assert x.grad is not None and all(p.grad is None for p in net.parameters())


def test_generator_step_adds_nothing_to_the_discriminators_gradients():
    trainer = make()
    at_d_step = []
    step = trainer.opt_d.step
    trainer.opt_d.step = lambda: (at_d_step.append([p.grad.clone() for p in trainer.D.parameters()]), step())[1]
    trainer.train(1)
    # the G step ran after D's optimiser step and backpropagated through D: D's gradients are still its own step's
    assert all(torch.equal(a, p.grad) for a, p in zip(at_d_step[0], trainer.D.parameters(), strict=True))
    assert all(p.requires_grad for p in trainer.D.parameters())


# ---------------------------------------------------------------------------------------------- objectives in the loop


class LinearCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.6, -1.2, 2.0]))
        self.b = nn.Parameter(torch.tensor(0.1))

    def forward(self, x):
        return x @ self.w + self.b


def test_the_gradient_penalty_is_added_to_the_critics_loss_with_a_plus_sign():
    """One SGD step (lr 1) of a linear critic moves w by minus the gradient of E f(G(z)) - E f(x) + 10 (||w|| - 1)^2,
    worked out by hand: a penalty left out of the loss, or subtracted, moves w elsewhere."""
    D = LinearCritic()
    w = D.w.detach().clone()
    real, fake = torch.randn(16, 3), torch.randn(16, 3)
    stats = discriminator_step(D, torch.optim.SGD(D.parameters(), lr=1.0), WassersteinGP(gp_weight=10.0), real, fake)
    norm = w.norm()
    gradient = fake.mean(0) - real.mean(0) + 10 * 2 * (norm - 1) * w / norm
    assert torch.allclose(D.w.detach(), w - gradient, atol=1e-5)
    estimate = (real @ w).mean() - (fake @ w).mean()
    expected = {"d_loss": -estimate.item() + 10 * (norm.item() - 1) ** 2,
                "d_real": torch.sigmoid(real @ w + 0.1).mean().item(),
                "d_fake": torch.sigmoid(fake @ w + 0.1).mean().item(),
                "real_score": (real @ w).mean().item() + 0.1, "fake_score": (fake @ w).mean().item() + 0.1,
                "penalty": 10 * (norm.item() - 1) ** 2,
                "d_grad_norm": gradient.norm().item()}  # the bias's gradient is 0: E f(G(z)) - E f(x) cancels it
    assert {name: value.item() for name, value in stats.items()} == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("weight", [0.0, 1.0, 4.0])
def test_penalty_weight_scales_r1_or_skips_it(weight):
    """R1 of a linear critic is (gamma / 2) ||w||^2 whatever the data: the step reports weight times that, and with
    weight 0 it moves w exactly as the unpenalised objective does."""
    real, fake = torch.randn(16, 3), torch.randn(16, 3)
    penalised, plain = LinearCritic(), LinearCritic()
    r1 = 0.5 * 2.0 * penalised.w.detach().square().sum().item()
    stats = discriminator_step(penalised, torch.optim.SGD(penalised.parameters(), lr=0.1),
                               NonSaturating(r1_gamma=2.0), real, fake, penalty_weight=weight)
    discriminator_step(plain, torch.optim.SGD(plain.parameters(), lr=0.1), NonSaturating(), real, fake)
    assert stats["penalty"].item() == pytest.approx(weight * r1, rel=1e-6)
    assert torch.equal(penalised.w, plain.w) == (weight == 0)


@pytest.mark.parametrize("reuse_fakes", [False, True])
def test_lazy_regularisation_penalises_every_nth_discriminator_step(reuse_fakes):
    """k = 2, penalty_every = 3: D steps 0, 3, 6, 9 carry the penalty. The history records each iteration's last
    D step (2s + 1), so iterations 1 and 4 show it; penalty_every = 1 is the eager loop."""
    lazy = make(objective=NonSaturating(r1_gamma=1.0), k=2, penalty_every=3, reuse_fakes=reuse_fakes)
    h = lazy.train(6)
    assert [p > 0 for p in h.penalty] == [False, True, False, False, True, False]
    eager = make(objective=NonSaturating(r1_gamma=1.0), k=2, reuse_fakes=reuse_fakes).train(6)
    assert all(p > 0 for p in eager.penalty)
    with pytest.raises(ValueError, match="penalty_every"):
        TrainConfig(penalty_every=0)


def test_weight_clipping_runs_after_every_critic_step():
    trainer = make(objective=Wasserstein(clip=0.01), k=3)
    trainer.train(4)
    assert all(p.abs().max() <= 0.01 for p in trainer.D.parameters())
    assert any(p.abs().max() > 0.01 for p in trainer.G.parameters())  # G is never clipped


def test_history_gives_the_critics_wasserstein_estimate():
    trainer = make(objective=WassersteinGP(), k=2)
    h = trainer.train(10)
    assert h.wasserstein_estimate == pytest.approx([r - f for r, f in zip(h.real_score, h.fake_score, strict=True)])
    # the critic minimised -estimate + penalty; the generator -E f(G(z)) on a fresh batch
    assert h.d_loss == pytest.approx([p - w for p, w in zip(h.penalty, h.wasserstein_estimate, strict=True)],
                                     rel=1e-4, abs=1e-6)
    assert all(p > 0 for p in h.penalty)
    plain = make().train(5)
    assert plain.penalty == [0.0] * 5 and all(0 < v < 1 for v in plain.d_real)


def test_conditional_batches_travel_with_their_conditions():
    trainer = make(conditional=True)
    data, labels = trainer.real, trainer.conditions
    seen = {"G": [], "D": []}
    trainer.G.register_forward_hook(lambda m, inputs, out: seen["G"].append((inputs[1], out.detach())))
    trainer.D.register_forward_hook(lambda m, inputs, out: seen["D"].append(inputs))
    trainer.train(3)
    # per iteration, D sees the real batch then the fake batch; G makes the D step's fakes, then the G step's
    for it in range(3):
        (real, real_y), (fake, fake_y), (g_fake, g_y) = seen["D"][3 * it: 3 * it + 3]
        index = [int(((data - x).abs().sum(1) == 0).nonzero()[0]) for x in real]
        assert torch.equal(real_y, labels[index])  # every real sample comes with its own label
        d_step_y, d_step_fake = seen["G"][2 * it]
        assert torch.equal(fake_y, d_step_y) and torch.equal(fake, d_step_fake)  # G(z, y) judged as D(., y)
        assert torch.equal(g_y, seen["G"][2 * it + 1][0])
        assert set(fake_y.tolist()) <= set(labels.tolist()) and len(set(fake_y.tolist())) > 1
    assert trainer.fixed_condition.tolist()[:6] == [0, 1, 2, 0, 1, 2]
    assert trainer.snapshot().shape == (64, 2)


ZEROS = torch.zeros(50, 2)


def test_bad_conditions_and_objectives_are_refused():
    def conditional(conditions, data=ZEROS):
        G, D = ConditionalG(), ConditionalD()
        data = data if data is not None else (lambda n: torch.zeros(n, 2))
        return GANTrainer(G, D, torch.optim.SGD(G.parameters()), torch.optim.SGD(D.parameters()), data, LATENT,
                          conditions=conditions)

    with pytest.raises(ValueError, match="conditions must align"):
        conditional(torch.zeros(49, dtype=torch.long))
    with pytest.raises(TypeError, match="int64 .* or float"):
        conditional(torch.zeros(50, dtype=torch.int32))
    with pytest.raises(TypeError, match="not a sampling function"):
        conditional(torch.zeros(50, dtype=torch.long), data=None)
    with pytest.raises(TypeError, match="objective must be"):
        TrainConfig(objective="wgan")


# ---------------------------------------------------------------------------------------------- speed options


@pytest.mark.parametrize("k", [1, 2])
def test_reusing_fakes_equals_the_plain_loop_reusing_fakes(k):
    ours = make(k=k, reuse_fakes=True)
    torch.manual_seed(11)
    ours.train(20)
    plain = make(k=k)
    torch.manual_seed(11)
    reference_loop(plain, 20, k, reuse_fakes=True)
    assert same_parameters(ours, plain)


def test_bfloat16_autocast_runs_forward_passes_in_bfloat16_and_keeps_float32_weights():
    trainer = make(autocast=torch.bfloat16)
    dtypes = set()
    trainer.D.register_forward_hook(lambda module, inputs, output: dtypes.add(output.dtype))
    history = trainer.train(20)
    assert dtypes == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in [*trainer.G.parameters(), *trainer.D.parameters()])
    assert all(torch.isfinite(torch.tensor(history.d_loss + history.g_loss)))
    assert trainer.snapshot().dtype == torch.float32  # sampling stays float32
    assert "module" not in "".join(trainer.state_dict()["discriminator"])  # checkpoints hold the plain networks


def test_bfloat16_autocast_keeps_the_gradient_penalty_in_float32():
    trainer = make(autocast=torch.bfloat16, objective=WassersteinGP())
    dtypes = []
    trainer.D.register_forward_hook(lambda module, inputs, output: dtypes.append((inputs[0].dtype, output.dtype)))
    trainer.train(2)
    # per iteration: D(x), D(G(z)) in bfloat16, D(x̂) of the penalty in float32, D(G(z)) of G's step in bfloat16
    assert [out for _, out in dtypes] == [torch.bfloat16, torch.bfloat16, torch.float32, torch.bfloat16] * 2
    assert dtypes[2][0] == torch.float32


def test_float16_autocast_is_refused():
    with pytest.raises(ValueError, match="GradScaler"):
        TrainConfig(autocast=torch.float16)


def test_training_flops_of_the_loop_reusing_fakes():
    from gancourse.train import training_flops

    G, D = MLPGenerator(4, (3,), hidden=(8,)), MLPDiscriminator((3,), hidden=(8,))
    plain = training_flops(G, D, (3,), TrainConfig(batch_size=10))
    g_fwd = 2 * 10 * (4 * 8 + 8 * 3)
    assert training_flops(G, D, (3,), TrainConfig(batch_size=10, reuse_fakes=True)) == plain - g_fwd


# ---------------------------------------------------------------------------------------------- the loop's contract


def test_calling_iteration_directly_is_training_one_iteration():
    lazy = {"objective": NonSaturating(r1_gamma=1.0), "penalty_every": 3, "decay": True}
    stepped, trained = make(**lazy), make(**lazy)
    torch.manual_seed(8)
    penalties = [stepped.iteration()["penalty"].item() > 0 for _ in range(6)]
    torch.manual_seed(8)
    trained.train(6)
    assert stepped.iterations == trained.iterations == 6 and same_parameters(stepped, trained)
    assert penalties == [True, False, False, True, False, False]  # the lazy penalty follows the count
    assert stepped.opt_g.param_groups[0]["lr"] == trained.opt_g.param_groups[0]["lr"]


def test_settings_are_fixed_once_the_trainer_is_built():
    trainer = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        trainer.config.k = 0


def test_a_saved_state_does_not_change_as_training_goes_on(tmp_path):
    trainer = make()
    trainer.train(3)
    state = trainer.state_dict()
    trainer.train(2)
    assert state["history"]["iteration"] == [1, 2, 3] and trainer.history.iteration == [1, 2, 3, 4, 5]
    fresh, other = make(), make()
    fresh.load_state_dict(state)
    other.load_state_dict(state)
    fresh.train(1)
    assert other.history.iteration == [1, 2, 3]  # two trainers loaded from one state share nothing


def test_a_checkpoint_of_another_format_is_refused_in_one_sentence(tmp_path):
    trainer = make()
    state = trainer.state_dict()
    del state["schedulers"], state["iterations"]
    with pytest.raises(CheckpointError, match="lacks schedulers, iterations: it was not written by this version"):
        make().load_state_dict(state)


def test_schedulers_are_checked():
    trainer = make()
    single = torch.optim.lr_scheduler.LambdaLR(trainer.opt_d, lambda i: 1.0)
    again = GANTrainer(trainer.G, trainer.D, trainer.opt_g, trainer.opt_d, trainer.real, LATENT,
                       TrainConfig(progress=False), schedulers=single)
    assert again.schedulers == [single]
    with pytest.raises(TypeError, match="ReduceLROnPlateau"):
        GANTrainer(trainer.G, trainer.D, trainer.opt_g, trainer.opt_d, trainer.real, LATENT,
                   schedulers=[torch.optim.lr_scheduler.ReduceLROnPlateau(trainer.opt_d)])
    stranger = torch.optim.SGD(trainer.G.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="opt_g or opt_d"):
        GANTrainer(trainer.G, trainer.D, trainer.opt_g, trainer.opt_d, trainer.real, LATENT,
                   schedulers=[torch.optim.lr_scheduler.LambdaLR(stranger, lambda i: 1.0)])


def test_reusing_fakes_in_a_conditional_run_judges_the_kept_batch_with_its_conditions():
    trainer = make(conditional=True, reuse_fakes=True, k=2, objective=WassersteinGP())
    made, judged = [], []
    trainer.G.register_forward_hook(lambda m, inputs, out: made.append((inputs[1], out.detach())))
    trainer.D.register_forward_hook(lambda m, inputs, out: judged.append(inputs))
    trainer.train(1)
    # G runs once per D step and not again for its own step; D: (real, fake, interpolates) per D step, then G's batch
    assert len(made) == 2 and len(judged) == 3 * 2 + 1
    g_step_fake, g_step_y = judged[-1]
    assert torch.equal(g_step_y, made[-1][0]) and torch.equal(g_step_fake.detach(), made[-1][1])


# ---------------------------------------------------------------------------------------------- remedies in the loop


def test_gradient_norms_are_recorded_and_clipping_caps_them():
    free, clipped = make(), make(max_grad_norm=1e-3)
    torch.manual_seed(6)
    h = free.train(5)
    assert all(n > 0 for n in h.d_grad_norm + h.g_grad_norm)
    torch.manual_seed(6)
    first = clipped.iteration()
    # the recorded norm is the one before clipping: the same as the free run's first iteration
    assert first["d_grad_norm"].item() == pytest.approx(h.d_grad_norm[0]) and first["d_grad_norm"] > 1e-3
    # Adam's update ignores the gradient's scale, so check that the clipped gradient has norm 0.01 through SGD
    D, real, fake = LinearCritic(), torch.randn(8, 3), torch.randn(8, 3)
    w = D.w.detach().clone()
    stats = discriminator_step(D, torch.optim.SGD(D.parameters(), lr=1.0), Hinge(), real, fake, max_grad_norm=0.01)
    moved = torch.cat([(D.w.detach() - w), (D.b.detach() - 0.1)[None]])
    assert moved.norm().item() == pytest.approx(0.01, rel=1e-4) and stats["d_grad_norm"] > 0.01
    with pytest.raises(ValueError, match="max_grad_norm"):
        TrainConfig(max_grad_norm=0.0)


def test_the_generator_step_draws_a_real_batch_only_for_objectives_that_need_one():
    for objective, extra in ((NonSaturating(), 0), (RelativisticPairing(r1_gamma=0.1, r2_gamma=0.1), 1)):
        trainer = make(objective=objective)
        calls = []
        trainer.D.register_forward_hook(lambda m, inputs, out, calls=calls: calls.append(inputs[0]))
        trainer.train(2)
        penalties = 2 if objective.r1_gamma else 0  # R1 and R2 call D once each
        assert len(calls) == 2 * (2 + penalties + 1 + extra)


@pytest.mark.parametrize("objective", [LeastSquares(), RelativisticPairing(r1_gamma=1.0, r2_gamma=1.0),
                                       FeatureMatching()], ids=repr)
def test_new_objectives_train_and_resume_exactly(tmp_path, objective):
    class Featured(MLPDiscriminator):
        def features(self, x):
            return self.net[:-1](x)

    def build():
        torch.manual_seed(0)
        g, d = MLPGenerator(LATENT, (2,), hidden=(16,), tanh=True), Featured((2,), hidden=(16,))
        data = torch.rand(500, 2, generator=torch.Generator().manual_seed(7)) * 2 - 1
        return GANTrainer(g, d, torch.optim.Adam(g.parameters(), lr=1e-3), torch.optim.Adam(d.parameters(), lr=1e-3),
                          data, LATENT, TrainConfig(objective=objective, batch_size=16, progress=False))

    straight = build()
    torch.manual_seed(1)
    straight.train(6)
    first = build()
    torch.manual_seed(1)
    first.train(3)
    path = first.save(tmp_path / "run.pt")  # before the next build() reseeds the global generator
    second = build()
    second.load(path)
    second.train(3)
    assert same_parameters(straight, second) and all(map(math.isfinite, straight.history.g_loss))
    plain = build()
    baseline = GANTrainer(plain.G, plain.D, plain.opt_g, plain.opt_d, plain.real, LATENT,
                          TrainConfig(batch_size=16, progress=False))
    torch.manual_seed(1)
    baseline.train(6)
    assert not same_parameters(straight, baseline)  # the objective made a difference


def test_augmentation_is_what_d_sees_in_both_players_steps_and_g_learns_through_it():
    seen = []

    def mirror(images):  # a differentiable stand-in for DiffAugment that leaves a trace
        seen.append(images.requires_grad)
        return -images

    trainer = make(augment=mirror)
    g_before = [p.detach().clone() for p in trainer.G.parameters()]
    trainer.train(2)
    # per iteration: real and fake in D's step (no gradient to G), G's fake (with a gradient)
    assert seen == [False, False, True] * 2
    assert any(not torch.equal(a, b) for a, b in zip(g_before, trainer.G.parameters(), strict=True))


def test_diffaugment_and_a_generator_average_plug_into_the_loop():
    from gancourse.augment import DiffAugment
    from gancourse.averaging import GeneratorAverage

    def run():
        torch.manual_seed(0)
        G, D = MLPGenerator(LATENT, (1, 8, 8), hidden=(16,), tanh=True), MLPDiscriminator((1, 8, 8), hidden=(16,))
        data = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(3)) * 2 - 1
        opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
        augment = DiffAugment(generator=torch.Generator().manual_seed(4))
        config = TrainConfig(batch_size=8, progress=False, augment=augment)
        trainer = GANTrainer(G, D, opt_g, torch.optim.Adam(D.parameters(), lr=1e-3), data, LATENT, config)
        average = GeneratorAverage(G)
        average.attach_to(opt_g, G, batch_size=8)
        trainer.train(4)
        return trainer, average

    (first, first_average), (second, _) = run(), run()
    assert same_parameters(first, second)  # the augmentation's own generator makes it repeatable
    assert all(math.isfinite(v) for v in first.history.d_loss + first.history.g_grad_norm)
    averaged = torch.cat([p.flatten() for p in first_average.module.parameters()])
    assert not torch.equal(averaged, torch.cat([p.detach().flatten() for p in first.G.parameters()]))
