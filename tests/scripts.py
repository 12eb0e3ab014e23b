"""The tests' one way to import a script that is not part of the package: a benchmark, the book's Sphinx extension.

``load_script("benchmarks/time_to_bar.py")`` executes the file as a new module, as ``python benchmarks/time_to_bar.py``
would: the script's folder goes on ``sys.path`` first, so its imports of the scripts beside it (``from loops import
...``) resolve as they do there. Each call gives a freshly executed module, registered in ``sys.modules`` under the
script's name (replacing an earlier load), as ``dataclasses`` and ``pickle`` expect of a module.

The data a loaded benchmark reads is the tests' setting (``conftest.py``): the offline sample, in this process and in
every process it starts, since those inherit the environment.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_script(path: str | Path) -> ModuleType:
    """The script at ``path`` (relative to the repository's root) as a freshly executed module."""
    file = ROOT / path
    if not file.is_file():
        raise FileNotFoundError(f"no script at {file}")
    if str(file.parent) not in sys.path:
        sys.path.insert(0, str(file.parent))
    spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[file.stem] = module
    spec.loader.exec_module(module)
    return module
