"""Time every chapter: wall time and peak memory of executing each notebook, as a learner's kernel runs it.

    python benchmarks/chapter_times.py                 # all chapters, Markdown table on stdout, JSON beside it
    python benchmarks/chapter_times.py notebooks/04_dcgan_mnist.ipynb --executed-dir /tmp/executed

Each notebook runs in a fresh child process (which starts a fresh kernel through nbclient), so the peak
resident memory reported is that chapter's kernel alone. Not part of the tests: times depend on the machine.

Hosts differ in speed (1.7x between two CI hosts of the same class), so the same run also times a reference
workload before and after the chapters: ``REFERENCE_STEPS`` iterations of the pytorch/examples-style loop
(``loops.BaselineLoop``) on Chapter 4's lean DCGAN at batch 32 on the CPU. Each chapter's time is also reported as a
multiple of it: a chapter budget of 180 s on a host whose reference takes R seconds is 180 / R references.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
import torch
from loops import BaselineLoop
from machine import machine_info

from gancourse.data import mnist_files_present
from gancourse.models import LeanDCGANDiscriminator, LeanDCGANGenerator

ROOT = Path(__file__).resolve().parents[1]

# Runs in the child: execute one notebook, then report the kernel's peak memory (the kernel is the child's child).
_CHILD = """
import resource, sys
import nbformat
from nbclient import NotebookClient
path, out, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(path, as_version=4)
try:
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": sys.argv[4]}}).execute()
finally:  # a failed run is saved too: what it printed before the failure is part of the record
    nbformat.write(nb, out)
scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale)
"""

REFERENCE_STEPS = 1_000  # iterations of the reference workload


def reference_seconds(steps: int = REFERENCE_STEPS) -> float:
    """Seconds for ``steps`` iterations of ``loops.BaselineLoop`` (pytorch/examples' loop, its two loader workers
    included) training Chapter 4's lean DCGAN on random 8-bit digits at batch 32 on the CPU, after 20 warm-up
    iterations: the yardstick chapter times are divided by."""
    torch.manual_seed(0)
    pixels = torch.randint(0, 256, (4_000, 28, 28), dtype=torch.uint8)
    loop = BaselineLoop(LeanDCGANGenerator(latent_dim=64), LeanDCGANDiscriminator(), pixels, 32, torch.device("cpu"))
    loop.train(20)
    started = time.perf_counter()
    loop.train(steps)
    return time.perf_counter() - started


SLOWEST_CELLS = 3  # how many of a chapter's longest cells the record names


def slowest_cells(notebook: nbformat.NotebookNode, n: int = SLOWEST_CELLS) -> list[dict]:
    """The ``n`` longest code cells of an executed notebook: index, seconds (nbclient's timing metadata, from the
    kernel receiving the cell to its reply) and the cell's first line."""
    cells = []
    for index, cell in enumerate(notebook.cells):
        timing = cell.metadata.get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type == "code" and start and end:
            seconds = (datetime.fromisoformat(end.replace("Z", "+00:00"))
                       - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            cells.append({"cell": index, "seconds": round(seconds, 1), "first line": cell.source.split("\n")[0]})
    return sorted(cells, key=lambda c: -c["seconds"])[:n]


def time_notebook(path: Path, executed_dir: Path | None = None, timeout: int = 900,
                  env: dict[str, str] | None = None) -> dict:
    """Execute ``path`` in a fresh kernel; return its wall time (s) and the kernel's peak resident memory (MiB).

    ``env`` adds environment variables for the kernel (``benchmarks/chapter_seeds.py`` sets a seed offset).
    """
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = executed_dir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / path.name
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(out), str(timeout), str(path.parent)],
                              capture_output=True, text=True, env={**os.environ, **(env or {})})
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{path.name} failed:\n{done.stderr[-3000:]}")
        cells = slowest_cells(nbformat.read(out, as_version=4))
    peak = int(done.stdout.strip().splitlines()[-1])
    return {"chapter": path.stem, "seconds": round(seconds, 1), "peak_mib": round(peak / 2**20),
            "slowest cells": cells}


def markdown(rows: list[dict], reference: float) -> str:
    lines = [f"Reference workload ({REFERENCE_STEPS:,} iterations of the pytorch/examples-style loop): "
             f"{reference:.1f} s", "",
             "| chapter | wall time (s) | in references | peak memory (MiB) |", "|---|---:|---:|---:|"]
    lines += [f"| {r['chapter']} | {r['seconds']:.0f} | {r['references']:.2f} | {r['peak_mib']:,} |" for r in rows]
    total = sum(r["seconds"] for r in rows)
    lines.append(f"| **whole course** | **{total:.0f}** | **{total / reference:.2f}** | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb")
    parser.add_argument("--executed-dir", type=Path, help="also save each executed notebook here")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "chapter_times.json")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    before = reference_seconds()
    rows = []
    for path in notebooks:
        rows.append(time_notebook(path, args.executed_dir))
        print(f"{rows[-1]['chapter']}: {rows[-1]['seconds']:.0f} s, {rows[-1]['peak_mib']} MiB", file=sys.stderr)
    after = reference_seconds()
    reference = (before + after) / 2  # the host's speed drifts: the mean of a timing before and one after
    for row in rows:
        row["references"] = round(row["seconds"] / reference, 2)
    print(markdown(rows, reference))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine_info(), "data": "full MNIST" if mnist_files_present() else "offline sample",
              "reference seconds": {"before": round(before, 1), "after": round(after, 1)}, "chapters": rows}
    args.json.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
