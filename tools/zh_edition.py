"""The Chinese edition (中文版): translations kept beside the English, and the Chinese book's sources made from them.

The English book is the one source: the Chinese chapters take their code cells (and so every assert), and their
executed outputs, from the English run; only the prose is translated. Each page of `_toc.yml` is cut into *units*:
a chapter's markdown cells, or a prose page's sections (a heading and what follows it, up to the next heading
outside a code fence). A page's translations live in `locale/zh_CN/<page>.yml`, one entry per unit, in the page's
order::

    - key: 3f2a9c1e07          # the first 10 hex digits of the English unit's SHA-1
      en: |                    # the English it translates, for the reviewer
        ...
      zh: |                    # the translation
        ...

An entry is current when its key is the hash of the English unit at its place. When the English changes,
`update` keeps the old translation but marks it ``stale: true``, with the English it was made from under ``was``:
the translator compares ``was`` with ``en``, brings ``zh`` up to date and deletes both marks. A unit with no
translation yet gets an empty ``zh``.

Commands (run from anywhere; paths are relative to the repository)::

    python tools/zh_edition.py status                 # what is missing or stale, by page and unit (`make translations`)
    python tools/zh_edition.py update                 # refresh the files after the English changed
    python tools/zh_edition.py export PAGE > FILE     # the units of PAGE that need work, to translate in place
    python tools/zh_edition.py export --chinese PAGE > FILE   # its current translations, to revise in place
    python tools/zh_edition.py fill PAGE FILE         # store FILE's translations (``=== key`` lines, then Chinese)
    python tools/zh_edition.py stage --executed DIR --out DIR
        # the Chinese book's sources in DIR: translated pages, and chapters made from the executed English
        # notebooks in DIR (outputs kept) with their markdown cells translated; then `jupyter-book build` them
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale" / "zh_CN"
TITLE = "gancourse：生成对抗网络，边学边证"
CAPTIONS = {"Getting started": "入门", "Chapters": "章节", "Reference": "参考"}
_FENCE = re.compile(r"^\s*(`{3,}|:{3,})")
_HEADING = re.compile(r"^#{1,6} ")


def toc_pages(root: Path = ROOT) -> list[str]:
    """The book's pages, in `_toc.yml`'s order, without suffix (e.g. ``notebooks/01_what_is_a_gan``)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())

    def files(node) -> list[str]:
        if isinstance(node, dict):
            return ([node["file"]] if "file" in node else []) + [f for v in node.values() for f in files(v)]
        if isinstance(node, list):
            return [f for item in node for f in files(item)]
        return []

    return [toc["root"], *files(toc)]


def source_of(page: str, root: Path = ROOT) -> Path:
    """The English file of a page: a chapter's committed ``.ipynb`` or a prose page's ``.md``."""
    for suffix in (".ipynb", ".md"):
        if (path := root / f"{page}{suffix}").exists():
            return path
    raise FileNotFoundError(f"no .ipynb or .md for the page {page!r} of _toc.yml under {root}")


def split_sections(text: str) -> list[str]:
    """A Markdown page cut before each heading that is not inside a fence; ``"\\n\\n".join`` of the parts gives the
    page back, up to blank lines at the cuts."""
    sections: list[list[str]] = [[]]
    fence: str | None = None
    for line in text.splitlines():
        if match := _FENCE.match(line):
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence) and line.strip() == marker:
                fence = None
        if fence is None and _HEADING.match(line) and any(s.strip() for s in sections[-1]):
            sections.append([])
        sections[-1].append(line)
    return ["\n".join(lines).strip("\n") for lines in sections if any(s.strip() for s in lines)]


def markdown_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "markdown"]


def cell_text(cell: dict) -> str:
    source = cell["source"]
    return (source if isinstance(source, str) else "".join(source)).strip("\n")


def english_units(page: str, root: Path = ROOT) -> list[str]:
    """The page's units, in order: a chapter's markdown cells, or a prose page's sections."""
    path = source_of(page, root)
    if path.suffix == ".ipynb":
        return [cell_text(cell) for cell in markdown_cells(json.loads(path.read_text()))]
    return split_sections(path.read_text())


def key_of(english: str) -> str:
    return hashlib.sha1(english.encode()).hexdigest()[:10]


def store_of(page: str) -> Path:
    return LOCALE / f"{page}.yml"


def load_store(page: str) -> list[dict]:
    path = store_of(page)
    if not path.exists():
        return []
    try:
        entries = yaml.safe_load(path.read_text()) or []
    except yaml.YAMLError as error:
        raise ValueError(f"{path.relative_to(ROOT)} is not valid YAML: {error}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "key" in e for e in entries):
        raise ValueError(f"{path.relative_to(ROOT)}: expected a list of entries with a `key`")
    return entries


@dataclass
class Problem:
    page: str
    unit: int  # 1-based: markdown cell or section number
    kind: str  # "missing" or "stale"
    english: str

    def __str__(self) -> str:
        what = "markdown cell" if self.page.startswith("notebooks/") else "section"
        first_line = self.english.splitlines()[0][:70] if self.english else ""
        return f"{self.page}: {what} {self.unit} {self.kind}: {first_line!r}"


# What a translation must carry over unchanged: math, directives and their labels, label lines, cross-reference and
# citation targets, inline code and link targets. (Glossary links may be added or dropped: {term} is left out.)
_MARKDOWN = MarkdownIt("commonmark")
_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
_ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
_CODE = re.compile(r"(?<!`)`([^`]+)`(?!`)")
_INLINE_MATH = re.compile(r"(?<!\\)\$([^$]+?)\$")
_KEPT = [
    re.compile(r"^\s*(?:`{3,}|:{3,})\{([\w-]+)\}", re.MULTILINE),  # a directive's name
    re.compile(r"^\s*:(?:label|name):\s*(\S+)", re.MULTILINE),  # its label
    re.compile(r"^(\([^)\s]+\)=)\s*$", re.MULTILINE),  # a target line
    re.compile(r"\]\(([^)\s]+)\)"),  # a link's target
]
_CROSS_REFERENCES = {"eq", "ref", "numref", "doc", "cite", "cite:p", "cite:t", "download"}


def structure(text: str) -> list[str]:
    """The parts of a unit that a translation keeps as they are (math and code with their spaces evened out),
    sorted: their order may change."""
    found = [f"$${math}$$" for math in _DISPLAY_MATH.findall(text)] + _emphasis(text)
    text = _DISPLAY_MATH.sub(" ", text)
    found += [f"{{{role}}}{target.rsplit('<', 1)[-1].rstrip('>')}" for role, target in _ROLE.findall(text)
              if role in _CROSS_REFERENCES]
    text = _ROLE.sub(" ", text)
    found += [f"`{code}`" for code in _CODE.findall(re.sub(r"^\s*(`{3,}|:{3,}).*$", "", text, flags=re.M))]
    text = _CODE.sub(" ", text)
    found += [f"${math}$" for math in _INLINE_MATH.findall(text)]
    found += [match for pattern in _KEPT for match in pattern.findall(text)]
    return sorted(" ".join(part.split()) for part in found)


def _emphasis(text: str) -> list[str]:
    """One ``<strong>`` or ``<em>`` per span Markdown renders bold or italic: a translation keeps as many. (Next to a
    Chinese character, ``**`` must touch a letter or a space to count, not punctuation: ``是 **{term}`…`**``.)"""
    text = _INLINE_MATH.sub("$x$", _DISPLAY_MATH.sub("\n\nmath\n\n", text))  # math's own * and _ are not emphasis
    html = _MARKDOWN.render(text)
    return ["<strong>"] * html.count("<strong>") + ["<em>"] * html.count("<em>")


def problems(pages: list[str] | None = None) -> list[Problem]:
    """Every unit of every page whose Chinese is missing, older than its English, or does not keep the parts of it
    that a translation keeps (`structure`)."""
    found = []
    for page in pages or toc_pages():
        entries = {entry["key"]: entry for entry in load_store(page)}
        for number, english in enumerate(english_units(page), start=1):
            entry = entries.get(key_of(english))
            if entry is None:
                found.append(Problem(page, number, "new or changed (run `make translations`)", english))
            elif entry.get("stale"):
                found.append(Problem(page, number, "stale", english))
            elif not str(entry.get("zh") or "").strip():
                found.append(Problem(page, number, "missing", english))
            elif (lost := _differ(structure(english), structure(str(entry["zh"])))):
                found.append(Problem(page, number, f"does not keep {lost}", english))
    return found


def _differ(english: list[str], chinese: list[str]) -> str:
    """What the translation lost of the English's kept parts (each as often as the English has it), or added that
    the English does not have, in a few words ("" when nothing)."""
    lost = sorted(set(english) - set(chinese)) or [x for x in english if english.count(x) > chinese.count(x)]
    added = sorted(set(chinese) - set(english))
    return "; ".join(filter(None, [f"lost {lost[:3]}" if lost else "", f"added {added[:3]}" if added else ""]))


def translations(page: str, draft: bool = False) -> list[str]:
    """The page's Chinese units, in order; raises if any is missing or stale, unless ``draft``: then such a unit
    is given in English (a preview while translating)."""
    missing = problems([page])
    if missing and not draft:
        raise ValueError("translations missing or stale:\n  " + "\n  ".join(map(str, missing)))
    entries = {entry["key"]: entry for entry in load_store(page)}
    needed = {key_of(problem.english) for problem in missing}
    return [english if key_of(english) in needed else str(entries[key_of(english)]["zh"]).strip("\n")
            for english in english_units(page)]


class _Block(str):
    """A multi-line string YAML writes as a literal block (``|``)."""


yaml.SafeDumper.add_representer(
    _Block, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|"))


def _dump(entries: list[dict]) -> str:
    def block(value):
        return _Block(value) if isinstance(value, str) and "\n" in value else value

    entries = [{name: block(value) for name, value in entry.items()} for entry in entries]
    return yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=10_000)


def update(page: str) -> None:
    """Rewrite the page's store in the English order, carrying changed units' translations over as stale."""
    old = load_store(page)
    by_key = {entry["key"]: entry for entry in old}
    units = english_units(page)
    current = {key_of(unit) for unit in units}
    unused = [entry for entry in old if entry["key"] not in current]
    entries = []
    for place, english in enumerate(units):
        key = key_of(english)
        if key in by_key:
            entries.append(by_key[key])
            continue
        # the English changed: carry the closest old translation (the one at the same place counts double), marked
        # stale, with the English it was made from
        scores = [difflib.SequenceMatcher(None, english, str(e.get("en", ""))).ratio()
                  * (2 if place < len(old) and e is old[place] else 1) for e in unused]
        if scores and max(scores) >= 0.5:
            previous = unused.pop(scores.index(max(scores)))
            entries.append({"key": key, "stale": True, "was": previous.get("was", previous.get("en", "")),
                            "en": english, "zh": previous.get("zh", "")})
        else:
            entries.append({"key": key, "en": english, "zh": ""})
    _write(page, entries)


def _write(page: str, entries: list[dict]) -> None:
    store_of(page).parent.mkdir(parents=True, exist_ok=True)
    store_of(page).write_text(f"# {page}: 中文译文 (tools/zh_edition.py keeps this file in the English order)\n"
                              + _dump(entries))


def export(page: str, everything: bool = False, chinese: bool = False) -> str:
    """The page's units that need work (or all of them), as ``=== key`` lines each followed by the English (or, with
    ``chinese``, by the current translation of every unit, to revise): a file to edit in place and give to `fill`."""
    if chinese:
        return "".join(f"=== {entry['key']}\n{str(entry.get('zh') or '').strip()}\n\n" for entry in load_store(page))
    needed = {key_of(problem.english) for problem in problems([page])}
    return "".join(f"=== {key_of(english)}\n{english}\n\n" for english in english_units(page)
                   if everything or key_of(english) in needed)


def fill(page: str, text: str) -> int:
    """Put the translations of an `export` file (``=== key`` lines, each followed by its unit's Chinese) into the
    page's store, as current; returns how many were filled."""
    parts = re.split(r"^=== ([0-9a-f]{10})[ \t]*$", text, flags=re.MULTILINE)
    chinese = {key: body.strip("\n") for key, body in zip(parts[1::2], parts[2::2], strict=True)}
    update(page)
    entries = load_store(page)
    unknown = set(chinese) - {entry["key"] for entry in entries}
    if unknown:
        raise ValueError(f"{page}: no English unit has the key(s) {sorted(unknown)}: export the page again")
    for entry in entries:
        if entry["key"] in chinese:
            entry["zh"] = chinese[entry["key"]]
            entry.pop("stale", None)
            entry.pop("was", None)
    _write(page, entries)
    return len(chinese)


_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_LINE_BREAK_IN_CHINESE = re.compile(f"(?<=[{_CJK}])\n[ \t]*(?=[{_CJK}])")


def for_html(chinese: str) -> str:
    """A translation as the book shows it: a line break between two Chinese characters is joined, since HTML would
    show it as a space (English wraps at spaces; Chinese has none)."""
    return _LINE_BREAK_IN_CHINESE.sub("", chinese)


def stage(executed: Path, out: Path, draft: bool = False) -> None:
    """Write the Chinese book's sources to ``out``: config, toc, static files, pages and executed chapters (with
    ``draft``, English where a translation is missing or stale)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("_static", "book"):
        shutil.copytree(ROOT / name, out / name)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] = TITLE
    config["execute"]["execute_notebooks"] = "off"
    config["sphinx"]["config"]["language"] = "zh_CN"
    config["sphinx"]["config"]["gancourse_edition"] = "zh"
    config["sphinx"]["config"]["nb_code_prompt_show"] = "显示代码"  # MyST-NB's folded cells ("Show code cell source")
    config["sphinx"]["config"]["nb_code_prompt_hide"] = "隐藏代码"
    (out / "_config.yml").write_text("# The Chinese edition's configuration, written by tools/zh_edition.py stage\n"
                                     + yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    toc = (ROOT / "_toc.yml").read_text()
    for english, chinese in CAPTIONS.items():
        toc = toc.replace(f"caption: {english}", f"caption: {chinese}")
    (out / "_toc.yml").write_text(toc)
    for page in toc_pages():
        chinese = [for_html(unit) for unit in translations(page, draft)]
        if source_of(page).suffix == ".md":
            (out / f"{page}.md").write_text("\n\n".join(chinese) + "\n")
            continue
        executed_path = executed / f"{Path(page).name}.ipynb"
        notebook = json.loads(executed_path.read_text())
        cells = markdown_cells(notebook)
        english = english_units(page)
        if [cell_text(c) for c in cells] != english:
            raise ValueError(f"{executed_path} does not hold the prose of {page}.ipynb: execute it again")
        for cell, text in zip(cells, chinese, strict=True):
            cell["source"] = text
        target = out / f"{page}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(notebook, ensure_ascii=False, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="list the units whose translation is missing or stale")
    commands.add_parser("update", help="refresh locale/zh_CN/ after the English changed")
    exporting = commands.add_parser("export", help="print a page's units that need work, to translate in place")
    exporting.add_argument("page", help="as in _toc.yml, e.g. notebooks/01_what_is_a_gan")
    exporting.add_argument("--all", action="store_true", help="every unit, not only those that need work")
    exporting.add_argument("--chinese", action="store_true", help="every unit's current translation, to revise")
    filling = commands.add_parser("fill", help="store the translations of an exported file")
    filling.add_argument("page")
    filling.add_argument("file", type=Path)
    staging = commands.add_parser("stage", help="write the Chinese book's sources")
    staging.add_argument("--executed", type=Path, required=True, help="folder of the executed English chapters")
    staging.add_argument("--out", type=Path, required=True)
    staging.add_argument("--draft", action="store_true", help="English where a translation is missing or stale")
    args = parser.parse_args(argv)
    if args.command == "update":
        for page in toc_pages():
            update(page)
    if args.command in ("status", "update"):
        found = problems()
        for problem in found:
            print(problem)
        units = sum(len(english_units(page)) for page in toc_pages())
        print(f"{units - len(found)} of {units} units translated and current; {len(found)} need work")
        return 1 if found and args.command == "status" else 0
    if args.command == "export":
        print(export(args.page, args.all, args.chinese), end="")
        return 0
    if args.command == "fill":
        count = fill(args.page, args.file.read_text())
        left = problems([args.page])
        print(f"{args.page}: {count} translations stored; {len(left)} units still need work")
        for problem in left:
            print(f"  {problem}")
        return 0
    stage(args.executed, args.out, args.draft)
    print(f"Chinese edition's sources in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
