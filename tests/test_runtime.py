import os

import pytest
import torch

from gancourse.runtime import make_deterministic, pick_device, seed_everything, setup


def test_pick_device_prefers_what_exists():
    device = pick_device()
    if torch.cuda.is_available():
        assert device.type == "cuda"
    elif not torch.backends.mps.is_available():
        assert device.type == "cpu"


def test_pick_device_errors():
    assert pick_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="not available"):
            pick_device("cuda")


def test_same_seed_same_numbers():
    seed_everything(3)
    a = torch.randn(5)
    seed_everything(3)
    assert torch.equal(a, torch.randn(5))


def test_setup_prints_and_returns_device(capsys):
    device = setup(seed=1, device="cpu")
    assert device.type == "cpu"
    assert "seed 1" in capsys.readouterr().out
    with pytest.raises(ValueError):
        seed_everything(-1)


def test_seed_offset_shifts_every_seed(monkeypatch, capsys):
    seed_everything(5)
    five = torch.randn(3)
    monkeypatch.setenv("GANCOURSE_SEED_OFFSET", "2")
    seed_everything(3)  # 3 + 2
    assert torch.equal(torch.randn(3), five)
    setup(seed=3)
    assert "+2 from $GANCOURSE_SEED_OFFSET" in capsys.readouterr().out
    monkeypatch.setenv("GANCOURSE_SEED_OFFSET", "-1")
    with pytest.raises(ValueError, match="non-negative integer"):
        seed_everything(0)


def short_run(device: str) -> torch.Tensor:
    """Five Adam steps of a small conv net from seed 0: its weights afterwards."""
    setup(seed=0, device=device, quiet=True, deterministic=True)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LazyLinear(1))
    net = net.to(device)
    net(torch.zeros(1, 1, 8, 8, device=device))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(5):
        loss = net(torch.randn(16, 1, 8, 8, device=device)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in net.parameters()]).cpu()


def test_deterministic_setup_sets_what_cuda_needs_and_can_be_undone(monkeypatch, capsys):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        setup(seed=0, device="cpu", deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
        assert "deterministic algorithms" in capsys.readouterr().out
        for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
            assert torch.equal(short_run(device), short_run(device))  # same seed, same numbers
    finally:
        make_deterministic(False)
    assert not torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.deterministic
