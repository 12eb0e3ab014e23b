"""Small fixes to the HTML book, loaded by `_config.yml` (`sphinx: local_extensions`)."""

from __future__ import annotations

import re

# Matplotlib's `to_jshtml` animations link Font Awesome 4 from a CDN for their buttons' icons. The theme already
# bundles Font Awesome 6 (scripts/fontawesome.js), which draws the same `fa fa-play` icons, so the link only costs
# an offline reader a failed request and a console error: drop it.
_CDN_FONT_AWESOME = re.compile(r'<link[^>]*href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]*"[^>]*>\s*')


def _each_script_once(app, pagename, templatename, context, doctree) -> None:
    """Jupyter Book 1 adds sphinx-thebe's configuration script to every page twice; the second copy throws
    "Identifier 'THEBE_JS_URL' has already been declared" in the reader's console. Keep the first of each script
    (same file or body and attributes; the copies differ in their empty file name, None or '')."""
    if "script_files" not in context:
        return
    seen: set = set()
    kept = []
    for script in context["script_files"]:
        key = (str(script.filename or ""), *sorted(script.attributes.items()))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"][:] = kept  # in place: handlers after this one add to the same list


def _no_cdn_icons(app, pagename, templatename, context, doctree) -> None:
    """Remove the CDN Font Awesome link that executed animations carry (see `_CDN_FONT_AWESOME`)."""
    if "body" in context:
        context["body"] = _CDN_FONT_AWESOME.sub("", context["body"])


# Every page links to the same page in the other edition. The Chinese book is built on its own (tools/zh_edition.py
# stages it, with `gancourse_edition: zh` in its config) into the `zh/` folder of the English book's HTML.
_EDITIONS = {
    "en": ("zh/{page}.html", "zh-CN", "中文版"),
    "zh": ("../{page}.html", "en", "English edition"),
}


def _edition_switch(app, pagename, templatename, context, doctree) -> None:
    """A link at the top of each page's article to this page in the other edition (pages with a source only)."""
    if doctree is None or "body" not in context:
        return
    target, language, label = _EDITIONS[app.config.gancourse_edition]
    href = "../" * pagename.count("/") + target.format(page=pagename)
    context["body"] = (f'<p class="edition-switch"><a href="{href}" hreflang="{language}" lang="{language}">'
                       f"{label}</a></p>\n" + context["body"])


def setup(app):
    app.add_config_value("gancourse_edition", "en", "html")
    app.connect("html-page-context", _edition_switch)
    app.connect("html-page-context", _no_cdn_icons)
    app.connect("html-page-context", _each_script_once, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
