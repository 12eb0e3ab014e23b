"""benchmarks/conditional_seeds.py runs end to end on a few iterations (no numbers asserted)."""

import json

import pytest
from scripts import load_script


@pytest.mark.slow
def test_benchmark_runs_and_writes_rows(tmp_path, capsys):
    script = load_script("benchmarks/conditional_seeds.py")
    out = tmp_path / "seeds.json"
    script.main(["--seeds", "0", "--models", "unconditional", "projection", "--eval-at", "1", "2",
                 "--threads", "1", "--json", str(out)])
    result = json.loads(out.read_text())
    assert [(r["model"], r["steps"]) for r in result["runs"]] == [
        ("unconditional", 1), ("unconditional", 2), ("projection", 1), ("projection", 2)]
    projection = result["runs"][-1]
    assert len(projection["recognised"]) == 10 and -1 <= projection["slant rho"] <= 1
    assert "projection @ 2" in result["summary"] and "projection" in capsys.readouterr().out
    merged = tmp_path / "merged.json"
    script.main(["--merge", str(out), str(out), "--json", str(merged)])
    assert len(json.loads(merged.read_text())["runs"]) == 8

