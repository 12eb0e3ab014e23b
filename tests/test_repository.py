"""Checks on the repository itself: chapter pairs in sync, no outputs committed, toc complete, one URL, the
versions CI pins."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_SOURCES = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
CHAPTER_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[tuple[str, str]]:
    notebook = jupytext.read(path)
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_files(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["file"]] if "file" in node else []
        return found + [f for value in node.values() for f in _toc_files(value)]
    if isinstance(node, list):
        return [f for item in node for f in _toc_files(item)]
    return []


def test_there_are_chapters():
    assert CHAPTER_SOURCES, "no chapters found in notebooks/"


def test_every_chapter_is_a_pair():
    stems_py = {p.stem for p in CHAPTER_SOURCES}
    stems_nb = {p.stem for p in CHAPTER_NOTEBOOKS}
    assert stems_py == stems_nb, f"unpaired: {sorted(stems_py ^ stems_nb)}"


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_pair_in_sync(source: Path):
    notebook = source.with_suffix(".ipynb")
    assert _cells(source) == _cells(notebook), (
        f"{notebook.name} differs from {source.name}: run `jupytext --sync {source.relative_to(ROOT)}`"
    )


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_checks_are_folded_in_the_book(source: Path):
    """A chapter's checks stay out of the reader's way: a code cell that ends in asserts ends there because its
    asserts were moved into a cell of their own, tagged hide-input (folded in the HTML, run by nbmake)."""
    unfolded = []
    for index, cell in enumerate(jupytext.read(source).cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or "remove-cell" in tags:
            continue
        body = ast.parse(cell.source).body
        only_asserts = bool(body) and all(isinstance(node, ast.Assert) for node in body)
        if body and isinstance(body[-1], ast.Assert) and not (only_asserts and "hide-input" in tags):
            unfolded.append(index)
    assert not unfolded, f"{source.name}: cells {unfolded} end in asserts outside a hide-input cell of their own"


@pytest.mark.parametrize("notebook", CHAPTER_NOTEBOOKS, ids=lambda p: p.stem)
def test_no_outputs_committed(notebook: Path):
    cells = json.loads(notebook.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells) if c.get("outputs") or c.get("execution_count") is not None]
    assert not dirty, f"{notebook.name} carries outputs in cells {dirty}: strip them before committing"


def test_toc_lists_every_chapter_and_page():
    listed = set(_toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text())))
    listed.add(yaml.safe_load((ROOT / "_toc.yml").read_text())["root"])
    chapters = {f"notebooks/{p.stem}" for p in CHAPTER_NOTEBOOKS}
    pages = {f"book/{p.stem}" for p in (ROOT / "book").glob("*.md")}
    assert chapters <= listed, f"chapters missing from _toc.yml: {sorted(chapters - listed)}"
    assert pages <= listed, f"book pages missing from _toc.yml: {sorted(pages - listed)}"
    missing = [f for f in listed if not list(ROOT.glob(f + ".*"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_one_canonical_repository_url():
    url = _config()["repository"]["url"]
    assert _config()["repository"]["branch"] == "main"
    assert url in (ROOT / "README.md").read_text(), "README must give the repository URL of _config.yml"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'Repository = "{url}"' in pyproject
    for source in CHAPTER_SOURCES:
        first_code = next(src for kind, src in _cells(source) if kind == "code")
        assert f'REPOSITORY = "{url}"' in first_code, f"{source.name}: install cell must use {url}"


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=lambda p: p.stem)
def test_first_cell_installs_only_in_colab(source: Path):
    first_code = next(src for kind, src in _cells(source) if kind == "code")
    assert '"google.colab" in sys.modules' in first_code
    assert not re.search(r"^\s*[!%]", first_code, re.MULTILINE), "the install cell must be plain Python"
    namespace: dict = {}
    exec(compile(first_code, source.name, "exec"), namespace)  # outside Colab this must do nothing


def test_bibliography_is_wired():
    assert _config()["bibtex_bibfiles"] == ["book/references.bib"]
    entries = re.findall(r"@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text())
    keys = set(entries)
    twice = sorted({key for key in entries if entries.count(key) > 1})
    assert not twice, f"entries twice in references.bib (Sphinx warns, and the book build fails): {twice}"
    texts = [p.read_text() for p in CHAPTER_SOURCES] + [p.read_text() for p in (ROOT / "book").glob("*.md")]
    cited = {k.strip() for t in texts for group in re.findall(r"\{cite[:a-z]*\}`([^`]+)`", t) for k in group.split(",")}
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"


def _pins(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    pairs = [line.split("==") for line in lines if line.strip() and not line.startswith("#")]
    return {canonicalize_name(name): version.strip() for name, version in pairs}


def _check_floors(requirements: list[str], pins: dict[str, str], source: str) -> None:
    """Each requirement's floor is the major.minor of its pin in ``source``, and the pin is inside the range."""
    for requirement in map(Requirement, requirements):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{source} pins no version of {requirement.name}"
        pinned = Version(pins[name])
        assert requirement.specifier.contains(pinned, prereleases=True), f"{name}=={pinned} is outside {requirement}"
        floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
        assert floors, f"{requirement}: no lower bound"
        assert all(f.release[:2] == pinned.release[:2] for f in floors), (
            f"{requirement}: its floor is not the {pinned.major}.{pinned.minor} that {source} tests"
        )


def test_every_declared_floor_is_a_tested_version():
    """CI installs constraints.txt (the book and test tools' floors are its versions) and runs the unit tests again
    with constraints-lowest.txt, which pins the package's own dependencies at pyproject.toml's floors."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins, lowest = _pins("constraints.txt"), _pins("constraints-lowest.txt")
    _check_floors(project["optional-dependencies"]["dev"], pins, "constraints.txt")
    _check_floors(project["dependencies"], lowest, "constraints-lowest.txt")
    for requirement in map(Requirement, project["dependencies"]):  # the pinned set is inside the ranges too
        assert requirement.specifier.contains(pins[canonicalize_name(requirement.name)], prereleases=True)
    assert "mlxtend" not in pins and "gancourse" not in pins
