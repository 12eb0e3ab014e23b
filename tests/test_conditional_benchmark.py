"""benchmarks/conditional_seeds.py runs end to end on a few iterations (no numbers asserted)."""

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # the script imports its neighbour machine.py


def load_script():
    spec = importlib.util.spec_from_file_location("conditional_seeds", ROOT / "benchmarks/conditional_seeds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_runs_and_writes_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANCOURSE_OFFLINE", "1")
    out = tmp_path / "seeds.json"
    load_script().main(["--seeds", "0", "--models", "unconditional", "projection", "--eval-at", "1", "2",
                        "--threads", "1", "--json", str(out)])
    result = json.loads(out.read_text())
    assert [(r["model"], r["steps"]) for r in result["runs"]] == [
        ("unconditional", 1), ("unconditional", 2), ("projection", 1), ("projection", 2)]
    projection = result["runs"][-1]
    assert len(projection["recognised"]) == 10 and -1 <= projection["slant rho"] <= 1
    assert "projection @ 2" in result["summary"] and "projection" in capsys.readouterr().out
    merged = tmp_path / "merged.json"
    load_script().main(["--merge", str(out), str(out), "--json", str(merged)])
    assert len(json.loads(merged.read_text())["runs"]) == 8

