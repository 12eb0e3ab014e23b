"""Smoke tests: each benchmark runs end to end for a few iterations, so it cannot rot. No timings are asserted."""

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_throughput(tmp_path: Path, device: str) -> dict:
    out = tmp_path / "throughput.json"
    load("dcgan_throughput").main(["--steps", "2", "--warmup", "1", "--repeats", "1", "--batch-size", "8",
                                   "--device", device, "--json", str(out)])
    return json.loads(out.read_text())


def check_rows(result: dict) -> None:
    assert [row["model"] for row in result["rows"]] == ["keras", "lean"]
    for row in result["rows"]:
        assert row["baseline"] > 0 and row["gancourse"] > 0 and row["gancourse fast"] > 0
        assert row["ratio"] == pytest.approx(row["gancourse"] / row["baseline"], abs=0.01)
    assert result["machine"]["torch"] == torch.__version__


def test_throughput_benchmark_runs_on_cpu(tmp_path, capsys):
    result = run_throughput(tmp_path, "cpu")
    check_rows(result)
    assert "| keras | 8 |" in capsys.readouterr().out


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; the CPU run of the same code is tested")
def test_throughput_benchmark_runs_on_cuda(tmp_path):
    result = run_throughput(tmp_path, "cuda")
    check_rows(result)
    assert result["machine"]["device"] != "cpu"


def test_chapter_timer_runs_a_notebook_in_a_fresh_kernel(tmp_path):
    times = load("chapter_times")
    notebook = tmp_path / "99_tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = sum(range(10))\nx")]), notebook)
    row = times.time_notebook(notebook, executed_dir=tmp_path / "executed")
    assert row["chapter"] == "99_tiny" and row["seconds"] > 0 and row["peak_mib"] > 10
    executed = nbformat.read(tmp_path / "executed" / notebook.name, as_version=4)
    assert executed.cells[0].outputs[0]["data"]["text/plain"] == "45"
    assert "| **whole course** |" in times.markdown([row])


def test_chapter_timer_reports_a_failing_notebook(tmp_path):
    times = load("chapter_times")
    notebook = tmp_path / "98_broken.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert 1 == 2, 'claim broken'")]),
                   notebook)
    with pytest.raises(RuntimeError, match="98_broken.ipynb failed"):
        times.time_notebook(notebook)
    with pytest.raises(FileNotFoundError):
        times.time_notebook(tmp_path / "missing.ipynb")
