"""What helps a reader find their way, as the knowledge base knows it: a page's neighbours (its local
graph's rows), the figures a concept's gallery shows, link previews.

The local graph and the gallery are fragments (hooks.kb.fragments reads them from here and writes
their HTML). The preview attributes go on the links of a page's content (:func:`mark_links`, as the
site hook gets the content) and on the links of the generated lists as they are written
(hooks.kb.fragments.Context.link). The preview of each page is a small JSON file beside its page
(:func:`preview_json`), fetched only when a reader hovers or focuses a link to it (docs/assets/kb.js).

A page's local graph is an arc diagram (the page, then its neighbours one per row, links drawn as
arcs on the left), so labels never overlap and no force layout runs: the page carries its rows and
links as JSON and docs/assets/kb.js draws it, deterministically, in the reader's browser.
"""
from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence
from urllib.parse import quote

from hooks.kb.graph import KnowledgeBase
from hooks.kb.notes import excerpt
from hooks.markdown import escape_html as esc
from hooks.markdown import math_spans, scan, with_numbers
from hooks.urls import file_target, is_relative, relative_url, split_link, unquoted, url_target

MAX_NEIGHBOURS = 24  # rows of a local graph after the page itself; the rest are listed under "Linked from"
MAX_GALLERY = 48  # figures in a concept's gallery (newest notes first)
PREVIEW_TEXT = 280  # characters of the first paragraph in a preview
PREVIEW_NAME = "preview.json"


@dataclass(frozen=True)
class PageFigure:
    """A demo figure a page shows, as other pages may show it again (a thumbnail)."""

    caption: str
    light: str  # site path of the light-palette variant ("demos/x/fig-light.svg")
    dark: str
    anchor: str  # the figure's id on its page
    concepts: frozenset[str] = frozenset()  # the concepts it is about (hooks.site.SitePlan.figures_on): their galleries show it
    size: tuple[int, int] | None = None  # CSS pixels of the light variant: a preview keeps its place before it loads


Figures = Callable[[str], Sequence[PageFigure]]  # src_uri -> the figures it shows that were published


def no_figures(src_uri: str) -> Sequence[PageFigure]:
    return ()


# --- the local graph ---------------------------------------------------------------------------------

MAX_LABEL = 44  # characters of a title shown; the full title is the link's name (the layout: docs/assets/kb.js)


def neighbours(kb: KnowledgeBase, src_uri: str) -> list[str]:
    """Pages this one links to (in the order of their first link), then pages linking here (notes newest first)."""
    out = dict.fromkeys(kb.links.get(src_uri, ()))
    for uri in kb.backlinks.get(src_uri, ()):
        out.setdefault(uri)
    out.pop(src_uri, None)
    return [uri for uri in out if uri in kb.pages]


def _local_rows(kb: KnowledgeBase, src_uri: str) -> tuple[list[str], int, list[tuple[int, int]]]:
    """The rows of a local graph (the page first), how many neighbours were left out, the edges among rows."""
    around = neighbours(kb, src_uri)
    rows = [src_uri] + around[:MAX_NEIGHBOURS]
    index = {uri: i for i, uri in enumerate(rows)}
    edges = sorted({(min(i, index[b]), max(i, index[b])) for i, a in enumerate(rows) for b in kb.links.get(a, ()) if b in index and b != a})
    return rows, len(around) - (len(rows) - 1), edges


def _short(title: str) -> str:
    return title if len(title) <= MAX_LABEL else title[: MAX_LABEL - 1].rstrip() + "…"


RELATIONS = ("links to this page", "linked from this page", "links both ways")  # a row's "rel", as kb.js names it


# --- a concept's gallery -----------------------------------------------------------------------------

def gallery_items(kb: KnowledgeBase, src_uri: str, figures: Figures) -> list[tuple[str, PageFigure]]:
    """``(note, figure)`` for every figure about this concept on the notes linking to it, newest note first."""
    page = kb.pages.get(src_uri)
    if page is None or page.kind != "concept":
        return []
    return [(uri, f) for uri in kb.linking_notes(src_uri) for f in figures(uri) if src_uri in f.concepts]


# --- previews ----------------------------------------------------------------------------------------

def preview_path(url: str) -> str:
    """Where the preview of the page at ``url`` (from the site root) is written: beside the page."""
    url = unquoted(url)
    if url.endswith("/"):
        return (url if url != "./" else "") + PREVIEW_NAME  # the home page's: preview.json, not ./preview.json
    return posixpath.splitext(url)[0] + "." + PREVIEW_NAME


def previewed(kb: KnowledgeBase) -> list[str]:
    """The pages that have a preview: every page of the knowledge base."""
    return list(kb.pages)


def preview_json(kb: KnowledgeBase, src_uri: str, figures: Figures = no_figures,
                 numbers: Callable[[str], Mapping[str, str]] = lambda uri: {}) -> str:
    """The preview of one page: title, kind, date, first paragraph and first figure (URLs relative to
    it); ``numbers``: the values of the numbers a page takes from runs (hooks.markdown.with_numbers)."""
    page = kb.pages[src_uri]
    text = (page.description or (kb.excerpts.get(src_uri) if page.kind == "note" else None)
            or excerpt(page.body, PREVIEW_TEXT, kb.parsed[src_uri].scan if src_uri in kb.parsed else None))
    text = with_numbers(text, numbers(src_uri))
    url = kb.urls[src_uri]
    shown = list(figures(src_uri))[:1]
    figure = None
    if shown:
        fig = shown[0]
        figure = {"alt": fig.caption, "light": relative_url(quote(fig.light), url), "dark": relative_url(quote(fig.dark), url)}
        if fig.size:
            figure["width"], figure["height"] = fig.size
    data = {"title": page.title, "kind": page.kind, "date": page.date.isoformat() if page.date else None,
            "text": text, "figure": figure, **_math_parts(text)}
    sections = _linked_sections(kb, src_uri, numbers(src_uri))
    if sections:
        data["sections"] = sections
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def _math_parts(text: str) -> dict[str, list[list[str]]]:
    """``{"parts": ...}`` (:func:`text_parts`) where the text holds a formula; nothing where it does not."""
    parts = text_parts(text)
    return {"parts": parts} if any(kind == "math" for kind, _ in parts) else {}


def excerpt_html(text: str) -> str:
    """An excerpt (plain text) as HTML: its formulas as TeX in arithmatex's spans, which the site's math
    script draws as it draws the pages' own."""
    return "".join(f'<span class="arithmatex">{esc(piece)}</span>' if kind == "math" else esc(piece) for kind, piece in text_parts(text))


def text_parts(text: str) -> list[list[str]]:
    """A preview's plain text cut into ``["text", ...]`` and ``["math", TeX]`` pieces, so the card can
    draw each formula (docs/assets/kb.js) without ever reading the text as HTML."""
    parts: list[list[str]] = []
    last = 0
    for start, end in math_spans(text):
        if start > last:
            parts.append(["text", text[last:start]])
        parts.append(["math", text[start:end]])
        last = end
    if last < len(text):
        parts.append(["text", text[last:]])
    return parts


def _linked_sections(kb: KnowledgeBase, src_uri: str, numbers: Mapping[str, str]) -> dict[str, dict]:
    """For each heading of the page that a wikilink elsewhere leads to (``[[page#Heading]]``), what its
    preview shows instead of the page's start: the heading and the first paragraph under it."""
    page = kb.pages[src_uri]
    anchors = {r.anchor for source in kb.backlinks.get(src_uri, ()) for r in kb.resolutions.get(source, ())
               if r.target == src_uri and r.anchor and not r.anchor.startswith("^")}
    if not anchors:
        return {}
    lines = kb.headings(src_uri).lines
    body = page.body.split("\n")
    out = {}
    for anchor in sorted(anchors):
        if anchor not in lines:
            continue
        line, level, title = lines[anchor]
        end = next((l for l, lv, _ in sorted(lines.values()) if l > line and lv <= level), len(body))
        text = with_numbers(excerpt("\n".join(body[line + 1:end]), PREVIEW_TEXT), numbers)
        out[anchor] = {"title": title, "text": text, **_math_parts(text)}
    return out


_LINK_RE = re.compile(r"<a\s([^>]*)>")
_HREF_RE = re.compile(r'(?:^|\s)href="([^"]*)"')
# An inline Markdown link to a relative path, not an image, and the attribute list that may follow it.
_MD_LINK_RE = re.compile(r"(?<!!)\[(?:\\.|[^\\\[\]\n])*\]\((?P<path>[^()\s#?]*)(?P<rest>[#?][^()\s]*)?\)(?P<attrs>\{[^}\n]*\})?")
Previews = Iterable[tuple[str, str, str]]  # (src_uri, URL from the root, preview from the root): hooks.kb.render.PageLinks.previews


def mark_links(text: str, src_uri: str, here: str, previews: Previews, *, markdown: bool = False) -> str:
    """``data-kb-preview`` on every link of the page ``src_uri`` (at URL ``here``) that leads to one of
    the pages in ``previews`` (what the page links to, as this build resolved it).

    ``text`` is the page's rendered HTML, whose ``<a href>`` is read as a browser reads it (relative to
    the page's URL); or, with ``markdown``, its Markdown for another generator (``notes export``), whose
    inline links outside code are read as the generator reads them (relative to the source file) and
    get an attribute list ``{ data-kb-preview='...' }`` (attr_list), which renders as the same attribute."""
    by_uri = {uri: preview for uri, _, preview in previews}
    if not by_uri:
        return text
    by_url = {unquoted(url): uri for uri, url, _ in previews}

    def preview_of(target: str | None) -> str | None:
        """The preview's URL relative to the page (URL-quoted, not HTML-escaped)."""
        if target is None or target == src_uri or target not in by_uri:
            return None
        return relative_url(quote(by_uri[target]), here)

    if markdown:
        if "](" not in text:
            return text
        found = scan(text)
        lines = list(found.lines)
        for index, m in reversed(list(found.finditer(_MD_LINK_RE))):
            path = m.group("path")
            href = preview_of(file_target(src_uri, path)) if is_relative(path) else None
            if href is None or "data-kb-preview" in (m.group("attrs") or ""):
                continue
            line = lines[index]
            if m.group("attrs"):  # one attribute list per link: add to the one it has
                cut = m.end("attrs") - 1
                lines[index] = line[:cut].rstrip() + " data-kb-preview='" + href + "' " + line[cut:]
            else:
                lines[index] = line[: m.end()] + "{ data-kb-preview='" + href + "' }" + line[m.end():]
        return "\n".join(lines)

    def mark(m: re.Match) -> str:
        attrs = m.group(1)
        href = _HREF_RE.search(attrs)
        if href is None or "data-kb-preview" in attrs:
            return m.group(0)
        path = split_link(href.group(1))[0]
        target = url_target(here, path) if is_relative(path) else None
        preview = preview_of(by_url.get(target)) if target is not None else None
        if preview is None:
            return m.group(0)
        if path.endswith("/") and by_uri[by_url[target]] == target + PREVIEW_NAME:  # beside the page the link leads to
            return f'<a {attrs} data-kb-preview="{path}{PREVIEW_NAME}">'  # (the link's path is escaped already)
        return f'<a {attrs} data-kb-preview="{esc(preview)}">'

    return _LINK_RE.sub(mark, text)


