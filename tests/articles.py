"""What two builds of one site show a reader, compared page by page: each page's article.

Used to hold the site built from ``notes export`` (by plain MkDocs, or by Zensical) against the
site the hooks build. Per page, the article (``article.md-content__inner``) must give the same text,
the same links (``href``, and ``xlink:href`` of the SVG maps and graphs, in order), the same images
(``src``), the same preview targets (``data-kb-preview``) and the same element ids (anchors).

Normalised, and only this: runs of whitespace in the text count as one space, since a raw HTML
block in Markdown stands between blank lines, so the exported pages have more newlines between
blocks than the hooked ones, and HTML renders whitespace between blocks the same. ``drop`` names
elements another generator adds to every article (Zensical's skip-link target, its own list of a
page's front-matter tags), removed before comparing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from bs4 import BeautifulSoup

ARTICLE = "article.md-content__inner"


def html_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def view(site: Path, page: str, drop: Iterable[str] = ()) -> dict[str, object] | None:
    """What a reader gets from one page's article, as comparable values (None: the page has no article)."""
    article = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser").select_one(ARTICLE)
    if article is None:
        return None
    for selector in drop:
        for element in article.select(selector):
            element.decompose()
    return {
        "text": " ".join(article.get_text(" ").split()),
        "links": [a.get("href") or a.get("xlink:href") for a in article.find_all("a") if a.get("href") or a.get("xlink:href")],
        "images": [img.get("src") for img in article.find_all("img")],
        "previews": [a["data-kb-preview"] for a in article.find_all("a", attrs={"data-kb-preview": True})],
        "ids": [element["id"] for element in article.find_all(id=True)],
    }


def _first_difference(a: object, b: object) -> str:
    if isinstance(a, str) and isinstance(b, str):
        at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return f"…{a[max(0, at - 60):at + 60]!r}… vs …{b[max(0, at - 60):at + 60]!r}…"
    assert isinstance(a, list) and isinstance(b, list)
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"item {at}: {a[at:at + 2]!r} vs {b[at:at + 2]!r} ({len(a)} vs {len(b)} in all)"


def differences(hooked: Path, other: Path, drop: Iterable[str] = ()) -> list[str]:
    """One line per page and aspect where ``other`` shows a reader something else than ``hooked``."""
    drop = tuple(drop)
    ours, theirs = html_pages(hooked), html_pages(other)
    out = [f"{page}: only in the hooked build" for page in sorted(set(ours) - set(theirs))]
    out += [f"{page}: only in the other build" for page in sorted(set(theirs) - set(ours))]
    for page in sorted(set(ours) & set(theirs)):
        a, b = view(hooked, page), view(other, page, drop)
        if a is None or b is None:
            if (a is None) != (b is None):
                out.append(f"{page}: an article in only one build")
            continue
        out += [f"{page}: {aspect} differ: {_first_difference(a[aspect], b[aspect])}" for aspect in a if a[aspect] != b[aspect]]
    return out
