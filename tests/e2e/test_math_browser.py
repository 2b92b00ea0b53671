"""The real site's formulas in Chromium: every one drawn by KaTeX without an error, from the site's own
copy, with every request that leaves 127.0.0.1 refused; pages without math fetch none of it."""
from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ALL_MATH_RENDERED = ("(() => { const all = document.querySelectorAll('article .arithmatex');"
                     " return document.querySelectorAll('article .arithmatex .katex').length === all.length; })()")


def pages_with_math(site: Path) -> list[str]:
    found = []
    for path in sorted(site.rglob("index.html")):
        if BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select_one("article .arithmatex"):
            found.append(path.parent.relative_to(site).as_posix() + "/")
    return found


def test_every_formula_of_the_site_renders_offline(built_site, site_url, offline):
    tab = offline
    pages = pages_with_math(built_site)
    assert any(p.startswith("concepts/") for p in pages), "the concept pages write their formulas in TeX"
    for path in pages:
        tab.goto(site_url + path)
        tab.wait_for_function(ALL_MATH_RENDERED, timeout=15000)
        errors = tab.locator("article .katex-error").all_text_contents()
        assert errors == [], f"{path}: KaTeX could not read {errors}"
        assert "$$" not in tab.inner_text("article"), path
    assert tab.refused == []
    assert any(url.endswith("/assets/vendor/katex/katex.min.js") for url in tab.fetched)


def test_a_page_without_math_fetches_no_math(built_site, site_url, offline):
    tab = offline
    tab.goto(site_url + "notes/")
    tab.wait_for_load_state("networkidle")
    assert not [url for url in tab.fetched if "/assets/vendor/" in url]
    assert tab.refused == []
