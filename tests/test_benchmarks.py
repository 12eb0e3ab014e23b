"""Smoke tests: each benchmark runs end to end for a few iterations, so it cannot rot. No timings are asserted.

They run on the offline sample, as every test here does (``conftest.py``), the chapter kernels they start included.
"""

import json
from pathlib import Path

import nbformat
import pytest
import torch
from scripts import load_script

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU; the CPU run of the same code is tested")


def run_throughput(tmp_path: Path, device: str) -> dict:
    out = tmp_path / "throughput.json"
    throughput = load_script("benchmarks/dcgan_throughput.py")
    throughput.main(["--steps", "2", "--warmup", "1", "--repeats", "1", "--batch-size", "8",
                     "--device", device, "--workers", "0", "--json", str(out)])
    return json.loads(out.read_text())


def check_rows(result: dict) -> None:
    assert [row["model"] for row in result["rows"]] == ["keras", "lean"]
    for row in result["rows"]:
        assert row["baseline"] > 0 and row["gancourse"] > 0 and row["gancourse fast"] > 0
        assert row["ratio"] == pytest.approx(row["gancourse"] / row["baseline"], abs=0.01)
    assert result["machine"]["torch"] == torch.__version__


@pytest.mark.slow
def test_throughput_benchmark_runs_on_cpu(tmp_path, capsys):
    result = run_throughput(tmp_path, "cpu")
    check_rows(result)
    assert "| keras | 8 |" in capsys.readouterr().out


@pytest.mark.slow
@needs_cuda
def test_throughput_benchmark_runs_on_cuda(tmp_path):
    result = run_throughput(tmp_path, "cuda")
    check_rows(result)
    assert result["machine"]["device"] != "cpu"


def test_baseline_data_pipeline_gives_the_trainers_values():
    loops = load_script("benchmarks/loops.py")
    pixels = torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    decoded = torch.stack([loops.EightBitDigits(pixels)[i][0] for i in range(5)])
    assert decoded.shape == (5, 1, 28, 28) and torch.allclose(decoded, loops.to_unit_range(pixels), atol=1e-6)
    assert decoded.min() >= -1 and decoded.max() <= 1


def test_unknown_loop_is_refused():
    with pytest.raises(ValueError, match="unknown loop 'fastest'"):
        load_script("benchmarks/loops.py").make_loop("fastest", None, None, None, 8, torch.device("cpu"))


def run_time_to_bar(tmp_path: Path, *options: str) -> list[dict]:
    time_to_bar = load_script("benchmarks/time_to_bar.py")
    return time_to_bar.main(["--batch-size", "8", "--every", "1", "--max-steps", "2", "--workers", "0",
                             "--json", str(tmp_path / "bar.json"), *options])


@pytest.mark.slow
def test_time_to_bar_runs_and_reports_a_bar_not_reached(tmp_path, capsys):
    rows = run_time_to_bar(tmp_path, "--device", "cpu", "--no-bfloat16")
    out = tmp_path / "bar.json"
    assert [r["loop"] for r in rows] == ["baseline", "gancourse", "gancourse fast"]
    assert all(r["iterations"] == 2 and not r["reached"] and r["report"]["FD"] > 40 for r in rows)
    settings = json.loads(out.read_text())["settings"]
    assert settings["bar"].startswith("FD < 48") and settings["fast_options"]["bfloat16"] is False
    assert "| baseline | no | 2 |" in capsys.readouterr().out


@pytest.mark.slow
@needs_cuda
def test_time_to_bar_runs_on_cuda_with_every_fast_option(tmp_path):
    rows = run_time_to_bar(tmp_path, "--device", "cuda")
    assert len(rows) == 3 and all(r["iterations"] == 2 for r in rows)
    assert json.loads((tmp_path / "bar.json").read_text())["settings"]["fast_options"]["fused_adam"] is True


def test_chapter_timer_runs_a_notebook_in_a_fresh_kernel(tmp_path):
    times = load_script("benchmarks/chapter_times.py")
    notebook = tmp_path / "99_tiny.ipynb"
    cells = [nbformat.v4.new_code_cell(source) for source in ("x = sum(range(10))\nx", "import time\ntime.sleep(1)")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook)
    row = times.time_notebook(notebook, executed_dir=tmp_path / "executed")
    assert row["chapter"] == "99_tiny" and row["seconds"] > 1 and row["peak_mib"] > 10
    slowest = row["slowest cells"][0]  # the cell that sleeps, named by its index and first line
    assert slowest["cell"] == 1 and slowest["first line"] == "import time" and 1 <= slowest["seconds"] < 5
    executed = nbformat.read(tmp_path / "executed" / notebook.name, as_version=4)
    assert executed.cells[0].outputs[0]["data"]["text/plain"] == "45"
    row["references"] = row["seconds"] / 2
    table = times.markdown([row], reference=2.0)
    assert "| **whole course** |" in table and "| 99_tiny |" in table and table.startswith("Reference workload")


def test_reference_workload_times_the_baseline_loop():
    assert 0 < load_script("benchmarks/chapter_times.py").reference_seconds(steps=3) < 30


def test_chapter_timer_reports_a_failing_notebook(tmp_path):
    times = load_script("benchmarks/chapter_times.py")
    notebook = tmp_path / "98_broken.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert 1 == 2, 'claim broken'")]),
                   notebook)
    with pytest.raises(RuntimeError, match="98_broken.ipynb failed"):
        times.time_notebook(notebook)
    with pytest.raises(FileNotFoundError):
        times.time_notebook(tmp_path / "missing.ipynb")


@pytest.mark.slow
def test_chapter_seeds_reruns_a_chapter_with_shifted_seeds(tmp_path, capsys):
    seeds = load_script("benchmarks/chapter_seeds.py")
    notebook = tmp_path / "97_seeded.ipynb"
    code = ("from gancourse.data import load_mnist\nfrom gancourse.runtime import seed_offset, setup\n"
            "setup(seed=0, quiet=True)\nload_mnist(train=False)\n"
            "print(f'offset is {seed_offset()}')\nassert seed_offset() < 1, 'holds on the first seed only'")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), notebook)
    seeds.HEADLINES["97_seeded"] = r"^offset is"
    rows = seeds.main([str(notebook), "--seeds", "0", "1", "--json", str(tmp_path / "seeds.json")])
    assert [(r["seed offset"], r["passed"]) for r in rows] == [(0, True), (1, False)]
    assert rows[0]["headlines"] == ["offset is 0"] and rows[1]["headlines"] == ["offset is 1"]
    assert "holds on the first seed only" in rows[1]["failure"]
    # each run records the data its kernel loaded: the tests' offline sample (its 1,000 reference digits), since the
    # kernels inherit the tests' environment
    assert all(len(r["data"]) == 1 and r["data"][0].startswith("MNIST: 1,000 digits from") for r in rows), rows
    assert "| 97_seeded | 1 | **no** |" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "seeds.json").read_text())["runs"]) == 2


def test_overfitting_reads_a_memorising_discriminator():
    remedies = load_script("benchmarks/remedies_mnist.py")
    training, held_out = torch.ones(1200, 1, 28, 28), -torch.ones(1000, 1, 28, 28)
    # a "discriminator" that has memorised its training digits: +1 on each of them, -1 on the held-out ones
    memoriser = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 1, bias=False), torch.nn.Flatten(0))
    torch.nn.init.constant_(memoriser[1].weight, 1 / 784)
    assert remedies.overfitting(memoriser, training, held_out) == pytest.approx(
        {"D r_t, training digits": 1.0, "D r_t, held-out digits": -1.0, "D score gap, training minus held-out": 2.0})


@pytest.mark.slow
def test_remedies_mnist_benchmark_runs(tmp_path, capsys):
    out = tmp_path / "remedies.json"
    remedies = load_script("benchmarks/remedies_mnist.py")
    rows = remedies.main(["--iterations", "3", "--seeds", "0", "--remedies", "RpGAN + R1 + R2", "WGAN-GP (k = 5)",
                          "DiffAugment (translation, cutout)", "--device", "cpu", "--json", str(out)])
    assert [(row["remedy"], row["generator"]) for row in rows] == [
        (name, whose) for name in ("RpGAN + R1 + R2", "WGAN-GP (k = 5)", "DiffAugment (translation, cutout)")
        for whose in ("G", "average of G")]
    result = json.loads(out.read_text())
    assert len(result["rows"]) == 6 and result["rows"][0]["FD"] > 0 and result["rows"][0]["seed"] == 0
    assert -1 <= result["rows"][0]["D r_t, training digits"] <= 1
    assert "| RpGAN + R1 + R2 | average of G |" in capsys.readouterr().out
    tuned = remedies.main(["--tune", "--iterations", "2", "--remedies", "gradient clipping", "--device", "cpu",
                           "--json", str(tmp_path / "tune.json")])
    assert {row["seed"] for row in tuned} == {remedies.TUNING_SEED} and len(tuned) == 4 * 2
    one_value = remedies.main(["--tune", "--values", "max norm 0.1", "--iterations", "2", "--remedies",
                               "gradient clipping", "--device", "cpu", "--json", str(tmp_path / "one.json")])
    assert {row["remedy"] for row in one_value} == {"gradient clipping, max norm 0.1"}
    merged = remedies.main(["--merge", str(out), str(tmp_path / "tune.json"), "--json", str(tmp_path / "all.json")])
    assert len(merged) == 14
    with pytest.raises(SystemExit):
        remedies.main(["--seeds", str(remedies.TUNING_SEED), "--json", str(tmp_path / "no.json")])


def test_remedies_toys_benchmark_tunes_and_reports(tmp_path, capsys, monkeypatch):
    toys = load_script("benchmarks/remedies_toys.py")
    monkeypatch.setattr(toys, "STEPS", 3)
    rows = toys.main(["--methods", "vanilla", "R1", "--seeds", "0", "1", "--json", str(tmp_path / "toys.json")])
    assert {(row["method"], row["dataset"], row["seed"]) for row in rows} == {
        (m, d, s) for m in ("vanilla", "R1") for d in ("grid", "ring") for s in (0, 1)}
    assert all(len(row["modes"]) == toys.MODELS_PER_DATASET for row in rows)
    assert "| R1 | ring |" in capsys.readouterr().out
    tuned = toys.main(["--tune", "--methods", "WGAN-GP", "--json", str(tmp_path / "tune.json")])
    names = {row["method"] for row in tuned}
    assert len(names) == 2 * len(toys.LEARNING_RATES) and "WGAN-GP (λ = 10), lr_g 0.001" in names
    assert {row["seed"] for row in tuned} == {toys.TUNING_SEED}
    with pytest.raises(SystemExit):
        toys.main(["--seeds", str(toys.TUNING_SEED), "--json", str(tmp_path / "no.json")])
