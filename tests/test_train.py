import pytest
import torch

from gancourse.losses import discriminator_loss, generator_loss_nonsaturating
from gancourse.models import MLPDiscriminator, MLPGenerator
from gancourse.train import CheckpointError, GANTrainer, NonFiniteLossError, TrainConfig, load_checkpoint

LATENT = 4


def make(seed: int = 0, data: torch.Tensor | None = None, **config):
    torch.manual_seed(seed)
    g = MLPGenerator(LATENT, (2,), hidden=(16,), tanh=True)
    d = MLPDiscriminator((2,), hidden=(16,))
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    if data is None:
        data = torch.rand(500, 2, generator=torch.Generator().manual_seed(7)) * 2 - 1
    cfg = TrainConfig(batch_size=32, progress=False, log_every=7, **config)
    return GANTrainer(g, d, opt_g, opt_d, data, LATENT, cfg)


def params(trainer: GANTrainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in [*trainer.G.parameters(), *trainer.D.parameters()]]


def reference_loop(trainer: GANTrainer, steps: int, k: int, reuse_fakes: bool = False) -> None:
    """Algorithm 1 written out plainly, the way Chapter 3 writes it (or reusing D's last fakes for G's step)."""
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


@pytest.mark.parametrize("k, reuse_fakes", [(1, False), (3, False), (1, True), (2, True)])
def test_same_parameters_as_the_plain_loop(k, reuse_fakes):
    ours = make(k=k, reuse_fakes=reuse_fakes)
    torch.manual_seed(11)
    ours.train(20)
    plain = make(k=k)
    torch.manual_seed(11)
    reference_loop(plain, 20, k, reuse_fakes)
    for a, b in zip(params(ours), params(plain), strict=True):
        assert torch.equal(a, b)


def test_history_and_snapshots():
    trainer = make(snapshot_at=(1, 10))
    history = trainer.train(20)
    assert history.step == list(range(1, 21))
    assert len(history.d_loss) == len(history.d_fake) == len(history.wall_time) == 20
    assert all(0 < v < 1 for v in history.d_real + history.d_fake)
    assert sorted(history.snapshots) == [1, 10]
    assert history.snapshots[10].shape == (64, 2)
    # the fixed noise is fixed: a snapshot now equals G(fixed_z)
    assert torch.equal(trainer.snapshot(), trainer.G.eval()(trainer.fixed_z))


def test_resume_equals_uninterrupted(tmp_path):
    straight = make()
    torch.manual_seed(5)
    straight.train(30)

    first = make()
    torch.manual_seed(5)
    first.train(15)
    path = first.save(tmp_path / "ckpt" / "run.pt")
    torch.manual_seed(999)  # whatever happens in between must not matter
    second = make(seed=123)
    second.load(path)
    second.train(15)
    assert second.step == 30
    for a, b in zip(params(straight), params(second), strict=True):
        assert torch.equal(a, b)
    assert second.history.d_loss == straight.history.d_loss
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
    with pytest.raises(NonFiniteLossError, match=r"d_loss became nan at step 6"):
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
    with pytest.raises(ValueError, match="steps must be >= 0"):
        make().train(-1)


def test_linear_decay_and_resume_with_it(tmp_path):
    from gancourse.train import linear_decay

    f = linear_decay(100, start=0.5, floor=0.0)
    assert f(0) == 1.0 and f(50) == 1.0 and f(75) == 0.5 and f(100) == 0.0
    straight = make(lr_factor=linear_decay(30))
    torch.manual_seed(2)
    straight.train(30)
    first = make(lr_factor=linear_decay(30))
    torch.manual_seed(2)
    first.train(20)
    path = first.save(tmp_path / "run.pt")
    second = make(lr_factor=linear_decay(30))
    second.load(path)
    second.train(10)
    for a, b in zip(params(straight), params(second), strict=True):
        assert torch.equal(a, b)
    assert second.opt_g.param_groups[0]["initial_lr"] == 1e-3


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
    assert training_flops(G, D, (3,), TrainConfig(batch_size=10, reuse_fakes=True)) == d_step + g_step - g_fwd


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


def test_bfloat16_autocast_runs_forward_passes_in_bfloat16_and_keeps_float32_weights():
    trainer = make(autocast=torch.bfloat16)
    dtypes = set()
    trainer.D.register_forward_hook(lambda module, inputs, output: dtypes.add(output.dtype))
    history = trainer.train(20)
    assert dtypes == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in [*trainer.G.parameters(), *trainer.D.parameters()])
    assert all(torch.isfinite(torch.tensor(history.d_loss + history.g_loss)))
    assert trainer.snapshot().dtype == torch.float32  # sampling stays float32


def test_float16_autocast_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="GradScaler"):
        TrainConfig(autocast=torch.float16)
