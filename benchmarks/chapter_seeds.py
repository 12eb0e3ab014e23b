"""Does every chapter's claim hold on other seeds? Each chapter, executed whole, once per training seed.

    python benchmarks/chapter_seeds.py                                  # every chapter, seeds 0-4
    python benchmarks/chapter_seeds.py notebooks/04_dcgan_mnist.ipynb --seeds 0 1 2 3 4 5 6 7

A chapter fixes its seeds (``setup(seed=0)``, ``seed_everything(0)``) so that a reader gets the numbers the text
states. Here each run sets ``$GANCOURSE_SEED_OFFSET`` (``gancourse.runtime.seed_offset``), which shifts every
one of those seeds, so the whole chapter — every assert in it — runs on a differently trained network; offset 0
is the chapter as published. A bar a chapter asserts should pass on every seed with room to spare: the table
reports, per chapter and seed, whether all asserts passed, the first that failed, the data the chapter used (its
``MNIST: ...`` line) and the chapter's headline numbers (its printed lines that match ``HEADLINES``).

``--keep-going`` runs every assert of the chapter instead of stopping at the first that fails
(``assert_probe.py``), and records each assert's outcome and operands: the margins a bar is set from. Which data a
run uses is the environment's: ``GANCOURSE_DATA`` with torchvision's files for full MNIST, ``GANCOURSE_OFFLINE=1``
and an empty data root for the offline sample. Not part of the tests: it runs each chapter several times.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from chapter_times import ROOT, time_notebook
from machine import machine_info

from gancourse.runtime import SEED_OFFSET_VARIABLE

# The printed lines that carry each chapter's asserted figures (a regular expression per chapter).
HEADLINES = {
    "01_what_is_a_gan": r"^(\([a-d]\)|at p_g|p_g.s mean (moved|before)|E_m\|D - D\*\|)",
    "02_loss_and_js_divergence": r"^E_m\|D - D\*\|",
    "03_training_loop": r"(modes covered|last 200 steps)",
    "04_dcgan_mnist": r"^(FD |short of the harder line)",
    "05_measuring_a_gan": r"^(classifier accuracy|FD at n|step +[0-9]+: FD)",
    "06_why_training_fails": r"^(Jacobian at|moduli of|after +[0-9]+ steps|EMA 0\.9999|weight of the start)",
    "07_remedies_measured": r"(rank correlation of|critic's mean slope|^best on the grid|^D's gradient norm|"
                            r"^(R1|vanilla|uniform|WGAN-GP|saturating loss|non-saturating loss)\s)",
    "08_asking_for_a_digit": r"^(projection |concat |read as the row|frames read|digit [147],|a bold|a thin"
                             r"|thin upright|linear probe|\{0\.5)",
    "09_super_resolution": r"^(pixel loss |SRGAN|nearest |bicubic |lambda 0|from 4x to 2x|misread|7×7 input"
                           r"|second reader)",
}


def failure_summary(report: str) -> str:
    """The failing line and the error from a cell's traceback, without terminal colours."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", report).splitlines() if line.strip()]
    code = [line for line in lines if line.startswith("--->")]  # IPython marks the failing line "---> N"
    return " / ".join(([code[-1]] if code else []) + lines[-1:])[:400]


def printed_lines(notebook: nbformat.NotebookNode) -> list[str]:
    """Every line the notebook's cells printed to stdout, in order."""
    lines = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout":
                lines += output["text"].splitlines()
    return lines


def probe_environment(folder: Path) -> dict[str, str]:
    """A kernel environment in which every assert is recorded in ``folder/asserts.jsonl`` and the chapter runs on."""
    startup = folder / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    shutil.copy(Path(__file__).with_name("assert_probe.py"), startup / "00-assert-probe.py")
    return {"IPYTHONDIR": str(folder / "ipython"), "GANCOURSE_ASSERT_LOG": str(folder / "asserts.jsonl")}


def run_with_offset(path: Path, offset: int, timeout: int, keep_going: bool = False) -> dict:
    """Execute ``path`` with every seed shifted by ``offset``; record pass/fail, the failure(s), the data used and
    the headlines (with ``keep_going``, every assert's outcome and operands too)."""
    with tempfile.TemporaryDirectory() as folder:
        row = {"chapter": path.stem, "seed offset": offset}
        env = {SEED_OFFSET_VARIABLE: str(offset)} | (probe_environment(Path(folder)) if keep_going else {})
        try:
            row |= time_notebook(path, Path(folder), timeout, env=env)
            row["passed"], row["failure"] = True, ""
        except RuntimeError as error:  # time_notebook's report of a failing cell: keep its last line
            row |= {"passed": False, "failure": failure_summary(str(error))}
        pattern = re.compile(HEADLINES.get(path.stem, r"$^"))
        executed = Path(folder) / path.name  # written whether or not the run passed
        lines = printed_lines(nbformat.read(executed, as_version=4)) if executed.is_file() else []
        row["data"] = sorted({line for line in lines if line.startswith("MNIST: ")})
        row["headlines"] = [line for line in lines if pattern.search(line)]
        log = Path(folder) / "asserts.jsonl"
        if keep_going:
            row["asserts"] = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
            failed = [a["source"] for a in row["asserts"] if not a["passed"]]
            if failed:
                row["passed"] = False
                row["failure"] = " / ".join(filter(None, [row["failure"], *(f"assert {f}" for f in failed)]))[:2000]
    return row


def markdown(rows: list[dict]) -> str:
    lines = ["| chapter | seed offset | all asserts pass | headline numbers / first failure |", "|---|---:|---|---|"]
    for r in rows:
        detail = "<br>".join(r["headlines"] + ([] if r["passed"] else [r["failure"]]))
        lines.append(f"| {r['chapter']} | {r['seed offset']} | {'yes' if r['passed'] else '**no**'} | {detail} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="seed offsets to run")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/chapter_seeds[-<chapter>].json")
    parser.add_argument("--keep-going", action="store_true",
                        help="run every assert instead of stopping at the first failure; record each one")
    args = parser.parse_args(argv)
    if any(seed < 0 for seed in args.seeds):
        parser.error("seed offsets must be >= 0")
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    rows = []
    for path in notebooks:
        for seed in args.seeds:
            rows.append(run_with_offset(path.resolve(), seed, args.timeout, args.keep_going))
            r = rows[-1]
            print(f"{r['chapter']} +{seed}: {'pass' if r['passed'] else 'FAIL ' + r['failure']}", file=sys.stderr)
    print(markdown(rows))
    name = "chapter_seeds" + (f"-{notebooks[0].stem}" if len(notebooks) == 1 else "")
    out = args.json or ROOT / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine_info(), "runs": rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
