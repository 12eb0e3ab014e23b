"""book/_ext/book_html.py: each script once per page, the first copy kept in place."""

from __future__ import annotations

from scripts import load_script
from sphinx.builders.html._assets import _JavaScript

book_html = load_script("book/_ext/book_html.py")


def test_duplicate_scripts_are_dropped_in_place():
    thebe = 'const THEBE_JS_URL = "x"'
    scripts = [
        _JavaScript("_static/a.js"),
        _JavaScript(None, body=thebe),
        _JavaScript("_static/a.js", priority=200),
        _JavaScript("", body=thebe),  # the copy Jupyter Book adds: same body, empty name '' instead of None
        _JavaScript("_static/b.js", defer="defer"),
        _JavaScript("_static/b.js"),  # other attributes: a different script
    ]
    context = {"script_files": scripts}
    book_html._each_script_once(None, "page", "page.html", context, None)
    assert context["script_files"] is scripts
    assert [(s.filename, s.attributes) for s in scripts] == [
        ("_static/a.js", {}),
        (None, {"body": thebe}),
        ("_static/b.js", {"defer": "defer"}),
        ("_static/b.js", {}),
    ]


def test_a_page_without_scripts_is_left_alone():
    context: dict = {}
    book_html._each_script_once(None, "page", "page.html", context, None)
    assert context == {}
