"""The Chinese edition's translations (`locale/zh_CN/`, kept by `tools/zh_edition.py`): complete, current, faithful
to the parts a translation must not change, and staged into a book whose code is the English book's code."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from scripts import ROOT, load_script

zh = load_script("tools/zh_edition.py")
PAGES = zh.toc_pages()
CHAPTERS = [page for page in PAGES if page.startswith("notebooks/")]


def test_every_page_is_translated_and_current():
    """A unit of the English (a chapter's markdown cell, a page's section) whose Chinese is missing, older than it,
    or loses its math, code or labels fails here, by page and unit: `make translations` lists the same."""
    found = zh.problems()
    assert not found, (f"{len(found)} units of the Chinese edition need work (`make translations`; "
                       "locale/zh_CN/README.md says how):\n  " + "\n  ".join(map(str, found)))


@pytest.mark.parametrize("page", [page for page in PAGES if page.startswith("book/")])
def test_a_page_is_the_sum_of_its_sections(page: str):
    text = (ROOT / f"{page}.md").read_text()
    assert re.sub(r"\n{3,}", "\n\n", "\n\n".join(zh.split_sections(text))).strip() == \
        re.sub(r"\n{3,}", "\n\n", text).strip()


def test_a_heading_inside_a_fence_does_not_cut_a_section():
    page = "# One\n\ntext\n\n```python\n# a comment, not a heading\n```\n\n## Two\n\nmore"
    assert zh.split_sections(page) == ["# One\n\ntext\n\n```python\n# a comment, not a heading\n```",
                                       "## Two\n\nmore"]


def test_structure_is_what_a_translation_keeps():
    english = ("(sec-x)=\n## Heading\nThe loss $\\log D(x)$ in `loss.py`, see {eq}`eq-v` and {term}`critic`;\n"
               "$$\nV = 1\n$$\n[a link](https://example.org) {cite}`goodfellow2014generative`\n"
               "```{exercise} A title\n:label: ex-one\n```")
    chinese = ("(sec-x)=\n## 标题\n损失 $\\log D(x)$ 在 `loss.py` 中，见 {eq}`eq-v` 与 {term}`评论家 <critic>`；\n"
               "$$\nV = 1\n$$\n[链接](https://example.org) {cite}`goodfellow2014generative`\n"
               "```{exercise} 标题\n:label: ex-one\n```")
    assert zh.structure(english) == zh.structure(chinese)
    assert "$\\log D(x)$" in zh.structure(english) and "`loss.py`" in zh.structure(english)
    assert zh._differ(zh.structure(english), zh.structure(chinese.replace("$\\log D(x)$", "$D$")))


def test_a_changed_english_unit_marks_its_translation_stale(tmp_path, monkeypatch):
    units = ["# Title\n\nOne.", "Two."]
    monkeypatch.setattr(zh, "LOCALE", tmp_path)
    monkeypatch.setattr(zh, "english_units", lambda page, root=ROOT: list(units))
    keys = [zh.key_of(unit) for unit in units]
    assert len(zh.problems(["book/x"])) == 2
    zh.fill("book/x", f"=== {keys[0]}\n# 标题\n\n一。\n=== {keys[1]}\n二。\n")
    assert zh.problems(["book/x"]) == [] and zh.translations("book/x") == ["# 标题\n\n一。", "二。"]
    units[1] = "Two, changed."
    zh.update("book/x")
    entry = yaml.safe_load((tmp_path / "book" / "x.yml").read_text())[1]
    assert entry["stale"] is True and entry["was"] == "Two." and entry["zh"] == "二。"
    assert [p.kind for p in zh.problems(["book/x"])] == ["stale"]
    with pytest.raises(ValueError, match="no English unit has the key"):
        zh.fill("book/x", "=== 0123456789\n三。\n")


_KEPT_ASIDE = re.compile(r"\$\$.+?\$\$|\$[^$]+\$|`[^`]*`|\{[\w:-]+\}|\]\([^)]*\)|^\s*[:`]{3,}.*$|^:\w+:.*$",
                         re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chinese_chapter_reads_more_chinese_than_english(chapter: str):
    """Less its math, code, roles and directive lines, a chapter's Chinese prose has more Chinese characters than
    Latin letters."""
    if zh.problems([chapter]):
        pytest.skip("translations incomplete: test_every_page_is_translated_and_current says which")
    prose = _KEPT_ASIDE.sub(" ", "\n".join(zh.translations(chapter)))
    chinese = len(re.findall(r"[\u4e00-\u9fff]", prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    assert chinese > latin, f"{chapter}: {chinese} Chinese characters, {latin} Latin letters"


def test_the_chinese_book_has_the_english_code(tmp_path):
    """Staged from the chapters (here the committed, unexecuted ones), the Chinese book has every page of the
    English, each chapter with exactly the English code cells and metadata, and a Chinese configuration."""
    if zh.problems():
        pytest.skip("translations incomplete: test_every_page_is_translated_and_current says which")
    zh.stage(ROOT / "notebooks", tmp_path)
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    assert config["sphinx"]["config"]["language"] == "zh_CN"
    assert config["sphinx"]["config"]["gancourse_edition"] == "zh"
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["sphinx"]["config"]["nb_code_prompt_show"] == "显示代码"  # the folded checks' button
    for page in PAGES:
        english_path = zh.source_of(page)
        chinese_path = tmp_path / english_path.relative_to(ROOT)
        assert chinese_path.exists(), page
        if english_path.suffix != ".ipynb":
            continue
        english, chinese = (json.loads(path.read_text()) for path in (english_path, chinese_path))
        assert [c for c in chinese["cells"] if c["cell_type"] == "code"] == \
            [c for c in english["cells"] if c["cell_type"] == "code"]
        assert [c["metadata"] for c in chinese["cells"]] == [c["metadata"] for c in english["cells"]]
        assert [zh.cell_text(c) for c in zh.markdown_cells(chinese)] == list(map(zh.for_html, zh.translations(page)))


def test_a_line_break_between_chinese_characters_is_joined_for_the_html():
    assert zh.for_html("生成器把噪声\n映射为样本，\n  判别器给出分数。\n- 列表\n$x$\n公式") == \
        "生成器把噪声映射为样本，判别器给出分数。\n- 列表\n$x$\n公式"
