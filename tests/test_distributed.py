"""Two processes under torchrun on the CPU (gloo) against one process on the global batch (tests/ddp_worker.py)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ddp_worker import GLOBAL_BATCH, OBJECTIVES, STEPS, build, parameters

from gancourse.checkpoint import load_checkpoint
from gancourse.train import GANTrainer

pytestmark = pytest.mark.slow  # torchrun starts two processes per experiment

TESTS = Path(__file__).resolve().parent
TORCHRUN = shutil.which("torchrun", path=os.path.dirname(sys.executable)) or shutil.which("torchrun")


def torchrun(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node=2 ...`` with this checkout first on the path, one thread a process."""
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(TESTS.parent), os.environ.get("PYTHONPATH", "")]),
                        "OMP_NUM_THREADS": "1"}  # the data setting comes with os.environ (conftest.py)
    result = subprocess.run([TORCHRUN, "--standalone", "--nproc_per_node=2", *arguments], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("ddp")
    torchrun(str(TESTS / "ddp_worker.py"), str(out), cwd=out)
    return [torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1)]


def single_process(objective: str, **options) -> GANTrainer:
    trainer = build(GANTrainer, GLOBAL_BATCH, objective, **options)
    torch.manual_seed(5)
    trainer.train(STEPS)
    return trainer


@pytest.mark.parametrize("run", [*OBJECTIVES, "resumed", "reuse fakes"])
def test_both_ranks_hold_identical_parameters(ranks, run):
    assert all(torch.equal(a, b) for a, b in zip(ranks[0][run]["parameters"], ranks[1][run]["parameters"],
                                                  strict=True))
    assert ranks[0][run]["d_loss"] == ranks[1][run]["d_loss"]  # the history is the mean over ranks on both


@pytest.mark.parametrize("run", ["nonsaturating", "hinge", "resumed", "reuse fakes"])
def test_two_processes_equal_one_process_on_the_global_batch(ranks, run):
    single = single_process(run if run in OBJECTIVES else "nonsaturating", reuse_fakes=run == "reuse fakes")
    for a, b in zip(ranks[0][run]["parameters"], parameters(single), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)  # the same sums, added in another order
    assert ranks[0][run]["d_loss"] == pytest.approx(single.history.d_loss, rel=1e-5)


def test_with_a_gradient_penalty_only_the_random_interpolates_differ(ranks):
    # every rank draws eps for its own shard from the shared stream: same law, other numbers than one process
    single = single_process("wgan-gp")
    assert ranks[0]["wgan-gp"]["d_loss"][0] == pytest.approx(single.history.d_loss[0], abs=0.5)
    assert not all(torch.equal(a, b) for a, b in zip(ranks[0]["wgan-gp"]["parameters"], parameters(single),
                                                      strict=True))


def test_the_frozen_discriminator_is_never_reduced_in_the_generators_step(ranks):
    # k = 2: D's reducer all-reduces twice an iteration (its own steps), G's once; nothing for D in G's step
    assert ranks[0]["reductions"] == {"G": STEPS, "D": 2 * STEPS}
    # reusing the fakes, G's forward pass happens in D's last step, and G is still reduced once per iteration
    assert ranks[0]["reductions reusing fakes"] == {"G": STEPS, "D": 2 * STEPS}
    # a G step through the DDP-wrapped, unfrozen D would all-reduce D's gradients as well
    assert ranks[0]["reductions naive G step"] == {"G": STEPS + 1, "D": 2 * STEPS + 1}


def test_the_command_under_torchrun_writes_checkpoint_metrics_and_grid(tmp_path):
    result = torchrun("-m", "gancourse", "train", "--iterations", "2", "--out", str(tmp_path / "run"), "--model", "mlp",
                      "--data", "sample", "--batch-size", "8", "--eval-samples", "100", "--no-progress",
                      "--device", "cpu", cwd=tmp_path)  # gloo, also on a machine with one GPU
    assert result.stdout.count("wrote ") == 1  # rank 0 alone prints and writes
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert state["iterations"] == 2 and state["settings"]["batch_size"] == 8
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["processes"] == 2 and metrics["report"]["FD"] > 0
    assert (tmp_path / "run" / "samples.png").stat().st_size > 1000


def test_outside_torchrun_the_distributed_trainer_asks_for_a_process_group():
    from gancourse.distributed import DistributedGANTrainer, init

    assert init("cpu").world_size == 1
    with pytest.raises(RuntimeError, match="launch with torchrun"):
        build(DistributedGANTrainer, 8)
