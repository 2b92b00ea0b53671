"""Every element the build generates on a page, described once: what it reads, its HTML, its Markdown.

A :class:`Fragment` is one generated element (a note's backlinks, a concept's gallery, the archive's
months, the line under a title, ...). Its ``read`` takes what it shows from the knowledge base as
plain, comparable data (titles, dates, relative links with their previews), and its ``html`` renders
that data and nothing else: it is handed no knowledge base to look anything up in. The Markdown that
``notes export`` writes is the same HTML as a raw block another generator passes through.

So a page's fingerprint, the value :mod:`hooks.site` compares between two builds to decide what a
save re-renders under ``mkdocs serve``, is the data its fragments read: a fragment cannot show
something its data does not hold, so an input cannot be left out of the fingerprint and still reach
the page. Adding an element is one entry in :data:`FRAGMENTS` (a ``read`` and an ``html``); a marker
``<!-- kb:NAME -->`` on a page, or the :func:`read_sections` list of a page of the graph, places it.

One path gives both outputs: :class:`HtmlOutput` (the rendered page, as the hooks fill it) and
:class:`MarkdownOutput` (the page's Markdown, for ``notes export``) differ only in how a heading is
written, where a marker may stand and where the header line goes (:func:`finish`).
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

from urllib.parse import quote

from hooks.kb.graph import KnowledgeBase, MapGraph, ConceptMap, concept_radius, map_graph
from hooks.kb.notes import PageInfo
from hooks.kb.recorded import Reads, tables_of, tracked_table
from hooks.kb.reading import MAX_GALLERY, PREVIEW_NAME, Figures, _local_rows, _short, excerpt_html, gallery_items, no_figures, preview_path
from hooks.markdown import ATX_RE, SETEXT_RE, scan, with_numbers
from hooks.markdown import escape_html as esc
from hooks.problems import Problem
from hooks.urls import page_url, relative_url

MARKER_OPEN, MARKER_CLOSE = "<!-- kb:", " -->"  # every marker: "<!-- kb:NAME -->" or "<!-- kb:NAME ARGUMENT -->"
MARKER_RE = re.compile(r"<!-- kb:([^\s>][^>]*?) -->")
WORDS_PER_MINUTE = 200


def marker(name: str, argument: str = "") -> str:
    return f"{MARKER_OPEN}{name}{' ' + argument if argument else ''}{MARKER_CLOSE}"


TITLE_OPEN = '<h1 class="kb-title">'  # a page's title above its text, where its own first heading says something else

NEWEST_MARKER = marker("newest")
MAP_MARKER = marker("concept-map")
TAGS_MARKER = marker("tags")
LINKED_FROM = marker("linked-from")
RELATED = marker("related")
PAGER = marker("pager")
LOCAL_GRAPH = marker("local-graph")
GALLERY = marker("gallery")


@dataclass(frozen=True)
class Settings:
    """``extra.notes`` of mkdocs.yml."""

    feed_items: int = 50
    newest_on_home: int = 5
    map_notes: int = 40


# --- what the fragments share: links as data, the page's context -------------------------------------

Link = tuple  # (target src_uri, its kind, text): a link to a page, as a generated list shows it


def read_link(kb: KnowledgeBase, target: str, text: str | None = None) -> Link:
    """A link to ``target`` as data: where it leads and what it says (its URL and preview follow from
    the target's path and kind, and are worked out where it is written: :meth:`Context.href`)."""
    page = kb.pages[target]
    return (target, page.kind, page.title if text is None else text)


def _date(page: PageInfo) -> str | None:
    return page.date.isoformat() if page.date else None


def _time(date: str | None) -> str:
    return f'<time datetime="{date}">{date}</time>' if date else ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass
class Context:
    """What the fragments of one build read from: the knowledge base, the site's settings, the demo
    figures each page shows, and the concept map's layout (a function of the map's graph alone,
    laid out once a build, in a process of its own or here). Reads are kept for the build, so the
    data a page's fingerprint was made of is the data its HTML is made of.

    ``reads``: under serve, where the reads are kept from build to build (hooks.kb.recorded): ``kb``
    is then a view of the knowledge base that notes what each read looks at, and ``tables`` the
    other tables the reads look at (each page's figures, the files of the build), compared between
    builds like the knowledge base's own."""

    kb: KnowledgeBase
    settings: Settings = field(default_factory=Settings)
    figures: Figures = no_figures
    concept_map: Callable[[], ConceptMap] | None = None
    memo: dict = field(default_factory=dict)
    reads: Reads | None = None
    tables: dict[str, Mapping] = field(default_factory=dict)

    # --- what a fragment's html may ask: pure functions of their arguments ---

    def url(self, src_uri: str) -> str:
        return page_url(src_uri, self.kb.use_directory_urls)

    def href(self, target: str, from_uri: str) -> str:
        """The URL of the page ``target`` relative to the page ``from_uri``."""
        return relative_url(self.url(target), self.url(from_uri))

    def preview(self, target: str, kind: str, from_uri: str, href: str) -> str | None:
        """The URL (relative to ``from_uri``) of the preview of ``target`` (every page of the knowledge
        base has one; none for the page itself), where ``href`` is the link's own URL."""
        if target == from_uri:
            return None
        if href.endswith("/"):
            return href + PREVIEW_NAME
        return relative_url(quote(preview_path(self.url(target))), self.url(from_uri))

    def link(self, link: Link, from_uri: str, cls: str = "") -> str:
        """A link as HTML, carrying the preview of the page it leads to."""
        target, kind, text = link
        href = self.href(target, from_uri)
        attr = f' class="{cls}"' if cls else ""
        preview = self.preview(target, kind, from_uri, href)
        if preview is not None:
            attr += f' data-kb-preview="{esc(preview)}"'
        return f'<a href="{esc(href)}"{attr}>{esc(text)}</a>'

    # --- what a fragment's read may ask ---

    def read(self, src_uri: str, name: str, argument: str = "") -> Hashable:
        return self.kept((src_uri, name, argument), lambda: FRAGMENTS[name].read(self, src_uri, argument))

    def shared(self, name: Hashable, make: Callable[[], Any]) -> Any:
        """Something several reads use (the notes by month, the map's graph), made once a build."""
        return self.kept(("", "shared", name), make)

    def kept(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value ``make`` gives, made once a build (under serve, once until what it read changes)."""
        if self.reads is not None:
            return self.reads.get(key, make)
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    def numbers(self, src_uri: str) -> Mapping[str, str]:
        """The numbers the page ``src_uri`` takes from demo runs, as text by their span's text (table
        ``numbers``, hooks.figures.numbers): for its excerpt and preview."""
        return self.table("numbers").get(src_uri, {}) if "numbers" in self.tables else {}

    def table(self, name: str) -> Mapping:
        """One of the other tables the reads look at (:attr:`tables`), noting what is looked up in it."""
        return self.tables[name] if self.reads is None else tracked_table(self.tables[name], name, self.reads)

    def use(self, name: str, table: Mapping) -> None:
        """Read ``table`` as the table ``name`` from now on (under serve: reads that looked at an entry
        of it that changed are made again)."""
        before = self.tables.get(name)
        self.tables[name] = table
        if self.reads is not None:
            self.begin()
        elif before is not None and before is not table:
            self.memo.clear()

    def begin(self) -> None:
        """Under serve, as a build starts reading: the reads kept from earlier builds that looked at an
        entry of the knowledge base, the settings or :attr:`tables` that changed are made again."""
        if self.reads is not None:
            self.reads.begin({**tables_of(self.kb._base), **tables_of(self.settings._base, "settings."), **self.tables})

    def map_graph(self) -> MapGraph:
        return self.shared("map-graph", lambda: map_graph(self.kb, self.settings.map_notes))

    def map_key(self) -> tuple:
        """The concept map's graph as a comparable value: what its layout is a function of."""
        return self.shared("map-key", lambda: graph_key(self.map_graph()))

    def layout(self) -> ConceptMap:
        """The concept map laid out: by the build's own layout (a process of its own) when given, else here."""
        if self.concept_map is not None:
            return self.concept_map()
        from hooks.kb.graph import lay_out

        return self.shared("map-layout", lambda: lay_out(self.map_graph()))


@dataclass(frozen=True)
class Fragment:
    """One generated element: ``read(context, page, argument)`` -> data; ``html(data, context, page)``
    -> HTML.

    ``html`` may ask the context only for pure functions of what it is given: URLs and links between
    two pages (:meth:`Context.link`, from their paths and kinds) and the concept map's layout
    (:meth:`Context.layout`, a function of the map's graph, which the map's data holds)."""

    name: str
    read: Callable[[Context, str, str], Hashable]
    html: Callable[[Any, Context, str], str]


# --- lists of notes ----------------------------------------------------------------------------------

def read_note_item(ctx: Context, uri: str) -> tuple:
    """One note of a list: date, link, excerpt and the concepts it links (the same for every list)."""
    kb = ctx.kb
    return ctx.shared(("note-item", uri), lambda: (
        _date(kb.pages[uri]), read_link(kb, uri), with_numbers(kb.excerpts.get(uri, ""), ctx.numbers(uri)),
        tuple(read_link(kb, c) for c in kb.concepts_of(uri))))


def note_list_html(items: Sequence[tuple], ctx: Context, src_uri: str) -> str:
    made: dict = {}  # a list of a thousand notes links the same forty concepts again and again

    def item_html(item: tuple) -> str:
        date, link, excerpt, concepts = item
        html = " ".join(p for p in (_time(date), ctx.link(link, src_uri)) if p)
        if excerpt:
            html += f'<br>\n<span class="kb-excerpt">{excerpt_html(excerpt)}</span>'
        if concepts:
            for c in concepts:
                if c not in made:
                    made[c] = ctx.link(c, src_uri)
            html += f'<br>\n<span class="kb-concepts">Concepts: {", ".join(made[c] for c in concepts)}</span>'
        return f"<li>{html}</li>"

    rows = "\n".join(item_html(item) for item in items)
    return f'<div class="kb-note-list">\n<ul>\n{rows}\n</ul>\n</div>'


def _read_newest(ctx: Context, src_uri: str, argument: str) -> tuple:
    return ctx.shared("newest", lambda: tuple(read_note_item(ctx, uri) for uri in ctx.kb.newest(max(ctx.settings.newest_on_home, 0))))


def _newest_html(items: tuple, ctx: Context, src_uri: str) -> str:
    return note_list_html(items, ctx, src_uri) if items else "<p>No notes yet.</p>"


def _read_month(ctx: Context, src_uri: str, month: str) -> tuple:
    return tuple(read_note_item(ctx, uri) for uri in ctx.kb.months.get(month, ()))


# --- what links to a page, and what it links to -------------------------------------------------------

def _dated(ctx: Context, uri: str) -> tuple:
    """A page as a list of pages shows it: its date and a link to it."""
    return ctx.shared(("dated", uri), lambda: (_date(ctx.kb.pages[uri]), read_link(ctx.kb, uri)))


def _read_linked_from(ctx: Context, src_uri: str, argument: str) -> tuple:
    return tuple(_dated(ctx, u) for u in ctx.kb.backlinks.get(src_uri, ()))


def _linked_from_html(rows: tuple, ctx: Context, src_uri: str) -> str:
    if not rows:
        return "<p>No page links here yet.</p>"
    items = ["<li>" + " ".join(p for p in (_time(date), ctx.link(link, src_uri)) if p) + "</li>" for date, link in rows]
    return '<div class="kb-backlinks">\n<ul>\n' + "\n".join(items) + "\n</ul>\n</div>"


RELATED_MIN_NOTES = 2  # concepts in fewer notes together are not listed as related: one shared note says little


def _read_related(ctx: Context, src_uri: str, argument: str) -> tuple:
    """The concepts most often in the same notes as this one, in at least RELATED_MIN_NOTES of them."""
    return tuple((read_link(ctx.kb, u), count) for u, count in ctx.kb.related.get(src_uri, ()) if count >= RELATED_MIN_NOTES)


def _related_html(rows: tuple, ctx: Context, src_uri: str) -> str:
    if not rows:
        return "<p>No note mentions this concept together with another one yet.</p>"
    items = [f'<li>{ctx.link(link, src_uri)} <span class="kb-count">together in {_plural(count, "note")}</span></li>' for link, count in rows]
    return '<div class="kb-related">\n<ul>\n' + "\n".join(items) + "\n</ul>\n</div>"


def _read_pager(ctx: Context, src_uri: str, argument: str) -> tuple:
    kb = ctx.kb
    older, newer = kb.older.get(src_uri), kb.newer.get(src_uri)
    return (read_link(kb, older, "← " + kb.pages[older].title) if older else None,
            read_link(kb, newer, kb.pages[newer].title + " →") if newer else None)


def _pager_html(data: tuple, ctx: Context, src_uri: str) -> str:
    older, newer = data
    parts = []
    if older:
        parts.append(f'<span class="kb-pager-older">{ctx.link(older, src_uri)}</span>')
    if newer:
        parts.append(f'<span class="kb-pager-newer">{ctx.link(newer, src_uri)}</span>')
    return f'<nav class="kb-pager" aria-label="Older and newer notes">{" ".join(parts)}</nav>' if parts else ""


def _read_local_graph(ctx: Context, src_uri: str, argument: str) -> tuple | None:
    """The page and its neighbours, one row each (path, title, kind, date, how it is linked to the
    page), the links among the rows and how many neighbours were left out; None when nothing links
    to or from the page."""
    kb = ctx.kb
    if src_uri not in kb.pages:
        return None
    rows, more, edges = _local_rows(kb, src_uri)
    if len(rows) == 1:
        return None
    out, mine = [_row(ctx, src_uri) + (None,)], set(kb.links.get(src_uri, ()))
    for uri in rows[1:]:  # how each neighbour is linked to the page: an index into hooks.kb.reading.RELATIONS
        out.append(_row(ctx, uri) + ((2 if src_uri in kb.links.get(uri, ()) else 1) if uri in mine else 0,))
    return tuple(out), tuple(edges), more


def _row(ctx: Context, uri: str) -> tuple:
    def make() -> tuple:
        p = ctx.kb.pages[uri]
        return (uri, p.title, p.kind, _date(p) if p.kind == "note" else None)
    return ctx.shared(("row", uri), make)


def _local_graph_html(data: tuple | None, ctx: Context, src_uri: str) -> str:
    """The page's local graph as data that docs/assets/kb.js draws as an SVG arc diagram in the reader's
    browser (an inline SVG was about 7 KB a page), and its legend.

    The data: its accessible name, a row per page (the page itself first; each a short title, a kind,
    a note's date and, but for the page itself, a link relative to the page, how it is linked to the
    page (``rel``, hooks.kb.reading.RELATIONS) and the whole title where the short one is cut), the
    links among the rows (row numbers, two by two) and how many neighbours were left out. The link's
    accessible name, "title (kind, relation)", is put together by kb.js: written out on every row it
    was a third of the data (0.7 KB a page)."""
    if data is None:
        return "<p>No page links to or from this page yet.</p>"
    rows, edges, more = data
    concepts = sum(1 for row in rows[1:] if row[2] == "concept")
    others = sum(1 for row in rows[1:] if row[2] == "page")
    notes = len(rows) - 1 - concepts - others
    summary = (f"Local graph of {rows[0][1]}: {concepts} concept{'s' * (concepts != 1)}"
               + (f", {_plural(others, 'other page')}" if others else "")
               + f" and {notes} note{'s' * (notes != 1)} linked to or from it"
               + (f", {more} more listed under Linked from" if more else ""))
    out = []
    for i, (uri, title, kind, date, rel) in enumerate(rows):
        short = _short(title)
        row = {"title": short, "kind": kind}
        if date:
            row["date"] = date
        if i:
            row.update(href=ctx.href(uri, src_uri), rel=rel)
            if short != title:
                row["full"] = title
        out.append(row)
    text = json.dumps({"label": summary, "rows": out, "edges": [n for edge in edges for n in edge], "more": more},
                      ensure_ascii=False, separators=(",", ":"))
    # Inert in a single-quoted attribute with no HTML escaping needed (those characters occur only in
    # strings, where JSON's escapes stand for them), and never read as a wikilink (no arrays nest here).
    for char in "&<>'":
        text = text.replace(char, f"\\u{ord(char):04x}")
    text = text.replace("[[", "[\\u005b").replace("]]", "\\u005d]")
    legend = ('<p class="kb-local-legend">Round nodes are concepts, square ones notes'
              + (" and other pages" if others else "") + "; arcs join pages where one links to the other.</p>")
    return f"<div class=\"kb-local-graph\" data-kb-graph='{text}'>\n{legend}\n</div>"


# --- a concept's gallery -----------------------------------------------------------------------------

def _read_gallery(ctx: Context, src_uri: str, argument: str) -> tuple:
    kb = ctx.kb
    items = gallery_items(kb, src_uri, ctx.figures)
    rows = tuple((_dated(ctx, uri), fig) for uri, fig in items[:MAX_GALLERY])
    return rows, max(len(items) - MAX_GALLERY, 0)


def _gallery_html(data: tuple, ctx: Context, src_uri: str) -> str:
    """Thumbnails of the figures on the notes that link to a concept, each with its caption and a link to it."""
    rows, more = data
    if not rows:
        return ""
    here = ctx.url(src_uri)
    out = ['<div class="kb-gallery">', '<ul class="kb-gallery-list">']
    for (date, (uri, kind, title)), fig in rows:
        href = ctx.href(uri, src_uri)
        target = href + "#" + fig.anchor
        preview = ctx.preview(uri, kind, src_uri, href)
        caption = fig.caption
        marked = f' data-kb-preview="{esc(preview)}"' if preview else ""
        thumbs = "".join(  # alt text too, though the thumbnail's link is hidden from screen readers (the caption follows)
            f'<img src="{esc(relative_url(quote(path), here))}#only-{theme}" alt="{esc(caption)}" loading="lazy">'
            for theme, path in (("light", fig.light), ("dark", fig.dark)))
        out.append(
            '<li class="kb-gallery-item">'
            f'<a class="kb-gallery-thumb" href="{esc(target)}" tabindex="-1" aria-hidden="true"{marked}>{thumbs}</a>'
            f'<p class="kb-gallery-caption">{esc(caption)}</p>'
            f'<p class="kb-gallery-source">{_time(date) + " " if date else ""}<a href="{esc(target)}"{marked}>{esc(title)}</a></p></li>'
        )
    out.append("</ul>")
    if more:
        out.append(f"<p>And {more} more figures in older notes listed under Linked from.</p>")
    out.append("</div>")
    return "\n".join(out)


# --- tags --------------------------------------------------------------------------------------------

def tag_anchor(tag: str) -> str:
    """The id of a tag's section on the tags page."""
    slug = re.sub(r"[^\w/-]+", "-", tag.casefold(), flags=re.UNICODE).strip("-")
    return "tag-" + (slug or "tag")


def _read_tags(ctx: Context, src_uri: str, argument: str) -> tuple:
    return tuple((tag, tuple(_dated(ctx, u) for u in uris)) for tag, uris in ctx.kb.tags.items())


def _tags_html(rows: tuple, ctx: Context, src_uri: str) -> str:
    """Every tag with the pages that carry it."""
    if not rows:
        return "<p>No tags yet.</p>"
    out = ['<div class="kb-tags-index">']
    if len(rows) > 1:  # a jump list: every tag, with its count, before the long list
        jumps = [f'<li><a class="kb-tag" href="#{esc(tag_anchor(tag))}">{esc(tag)}</a> <span class="kb-count">{len(pages)}</span></li>'
                 for tag, pages in rows]
        out.append('<nav class="kb-tag-jumps" aria-label="Tags">\n<ul>\n' + "\n".join(jumps) + "\n</ul>\n</nav>")
    for tag, pages in rows:
        out.append(f'<h2 id="{esc(tag_anchor(tag))}"><span class="kb-tag">{esc(tag)}</span> <span class="kb-count">{_plural(len(pages), "page")}</span></h2>')
        items = ["<li>" + " ".join(p for p in (_time(date), ctx.link(link, src_uri)) if p) + "</li>" for date, link in pages]
        out.append("<ul>\n" + "\n".join(items) + "\n</ul>")
    out.append("</div>")
    return "\n".join(out)


# --- the concept map ---------------------------------------------------------------------------------

def graph_key(graph: MapGraph) -> tuple:
    """The map's graph as a comparable value: what its layout is a function of."""
    return (tuple(graph.members), tuple(graph.kinds), tuple(graph.titles), tuple(graph.degrees), tuple(graph.labels), tuple(graph.edges))


def _read_concept_map(ctx: Context, src_uri: str, argument: str) -> tuple:
    return ctx.map_key()


def _map_svg(cmap: ConceptMap, hrefs: dict[str, str], label: str, variant: str) -> str:
    """One layout of the map as an inline ``<svg>``: every node is a link (its target covers its label)."""
    out = [
        f'<svg class="kb-map-svg kb-map-{variant}" viewBox="0 0 {cmap.width} {cmap.height}" width="{cmap.width}" '
        f'role="group" aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">',
        '<g class="kb-map-edges" aria-hidden="true">',
    ]
    for a, b in cmap.edges:
        na, nb = cmap.nodes[a], cmap.nodes[b]
        out.append(f'<line class="kb-map-edge" x1="{na.x}" y1="{na.y}" x2="{nb.x}" y2="{nb.y}"/>')
    out += ["</g>", f'<g class="kb-map-nodes" font-size="{cmap.font:g}">']
    for node in cmap.nodes:
        x0, y0, x1, y1 = node.box
        hit = f'<rect class="kb-map-hit" x="{x0}" y="{y0}" width="{round(x1 - x0, 1)}" height="{round(y1 - y0, 1)}"/>'
        if node.kind == "concept":
            radius = concept_radius(node.degree)
            shape = f'<circle cx="{node.x}" cy="{node.y}" r="{radius}"/>'
        else:
            radius = 7.0
            shape = f'<rect x="{round(node.x - 7, 1)}" y="{round(node.y - 7, 1)}" width="14" height="14" rx="2"/>'
        text = f'<text x="{node.x}" y="{round(node.y + radius + cmap.font + 1, 1)}">{esc(node.label)}</text>' if node.label else ""
        out.append(f'<a class="kb-map-node kb-map-{node.kind}" xlink:href="{esc(hrefs[node.src_uri])}"><title>{esc(node.title)}</title>{hit}{shape}{text}</a>')
    out += ["</g>", "</svg>"]
    return "\n".join(out)


def concept_map_html(cmap: ConceptMap, hrefs: dict[str, str]) -> str:
    """The map as inline SVG, every node a link (``hrefs``: by src_uri, relative to the page), styled by
    classes in kb.css: a wide layout, and (shown instead on a narrow screen) the same map upright."""
    if not cmap.nodes:
        return "<p>No concepts yet.</p>"
    concepts = sum(1 for n in cmap.nodes if n.kind == "concept")
    pages = sum(1 for n in cmap.nodes if n.kind == "page")
    label = (f"Concept map: {_plural(concepts, 'concept')}" + (f", {_plural(pages, 'other page')}" if pages else "")
             + f" and {_plural(len(cmap.nodes) - concepts - pages, 'note')}, joined by their links")
    out = ['<div class="kb-map">', _map_svg(cmap, hrefs, label, "wide")]
    if cmap.narrow is not None:
        out.append(_map_svg(cmap.narrow, hrefs, label, "narrow"))
    out.append("</div>")
    return "\n".join(out)


def _concept_map_html(key: tuple, ctx: Context, src_uri: str) -> str:
    return concept_map_html(ctx.layout(), {uri: ctx.href(uri, src_uri) for uri in key[0]})


# --- the line under a title, and the sections at the end of a page ----------------------------------

@functools.lru_cache(maxsize=16384)
def reading_minutes(body: str) -> int:
    return max(1, math.ceil(len(body.split()) / WORDS_PER_MINUTE))


def _read_header(ctx: Context, src_uri: str, argument: str) -> tuple | None:
    kb = ctx.kb
    page = kb.pages.get(src_uri)
    if page is None or not kb.is_node(src_uri) or (page.kind == "page" and not page.tags):
        return None
    notes: tuple = ()
    if page.kind == "concept":  # the notes about it, newest first, under its title (all of them under "Linked from")
        about = kb.linking_notes(src_uri)  # newest first
        notes = (tuple(_dated(ctx, u) for u in about[:CONCEPT_NOTES]), len(about), len(kb.backlinks.get(src_uri, ())))
    return (_date(page), reading_minutes(page.body) if page.kind == "note" else None, tuple(dict.fromkeys(page.tags)),
            kb.tags_page, notes)


def _header_html(data: tuple | None, ctx: Context, src_uri: str) -> str:
    """The line under a page's title: a note's date and reading time, and tags (linked to the tags page)."""
    if data is None:
        return ""
    date, minutes, tags, tags_page, notes = data
    bits = [_time(date)] if date else []
    if minutes is not None:
        bits.append(f"{minutes} min read")
    if tags:
        base = ctx.href(tags_page, src_uri) if tags_page else None
        chips = [f'<a class="kb-tag" href="{esc(base)}#{esc(tag_anchor(tag))}">{esc(tag)}</a>' if base
                 else f'<span class="kb-tag">{esc(tag)}</span>' for tag in tags]
        bits.append('<span class="kb-tags">' + " ".join(chips) + "</span>")
    meta = '<p class="kb-page-meta">' + ' <span aria-hidden="true">·</span> '.join(bits) + "</p>" if bits else ""
    return meta + _concept_notes_html(notes, ctx, src_uri)


CONCEPT_NOTES = 5  # notes listed under a concept's title (the newest); every page linking it is under "Linked from"


def _concept_notes_html(notes: tuple, ctx: Context, src_uri: str) -> str:
    """A concept's notes under its title: date and title of the newest, one line each, and how many more."""
    if not notes:
        return ""
    rows, count, linking = notes
    if not rows:
        return '<p class="kb-concept-notes">No note is about this concept yet.</p>'
    items = "\n".join(f"<li>{' '.join(p for p in (_time(date), ctx.link(link, src_uri)) if p)}</li>" for date, link in rows)
    more = count - len(rows)
    tail = (f'<a href="#linked-from">{"and " + _plural(more, "more note") if more else "every page linking here"}</a>'
            if more or linking > count else "")
    return (f'<nav class="kb-concept-notes" aria-label="Notes about this concept">\n<p>In {_plural(count, "note")}:</p>\n'
            f"<ul>\n{items}\n</ul>" + (f"\n<p>{tail}</p>" if tail else "") + "\n</nav>")


SECTION_TITLES = ("Figures in linked notes", "Linked from", "Related concepts", "Local graph")


def read_sections(ctx: Context, src_uri: str, argument: str = "") -> tuple:
    """The sections the build adds at the end of every page that is a node of the graph (not the home
    page nor a page that lists pages, hooks.kb.graph.KnowledgeBase.hubs): ``(heading, fragment name)``
    (the pager has no heading). A concept has its gallery and related concepts too, a note its pager."""
    page = ctx.kb.pages.get(src_uri)
    if page is None or not ctx.kb.is_node(src_uri):
        return ()
    sections: list[tuple[str | None, str]] = [("Linked from", "linked-from")]
    if page.kind == "concept":
        if ctx.read(src_uri, "gallery")[0]:
            sections.insert(0, ("Figures in linked notes", "gallery"))
        if ctx.read(src_uri, "related"):  # hidden when no concept shares enough notes with it to mean something
            sections.append(("Related concepts", "related"))
        sections.append(("Local graph", "local-graph"))
    elif page.kind == "note":
        sections += [("Local graph", "local-graph"), (None, "pager")]
    else:
        sections += [("Local graph", "local-graph")]
    return tuple(sections)


FRAGMENTS: dict[str, Fragment] = {f.name: f for f in (
    Fragment("linked-from", _read_linked_from, _linked_from_html),
    Fragment("related", _read_related, _related_html),
    Fragment("pager", _read_pager, _pager_html),
    Fragment("local-graph", _read_local_graph, _local_graph_html),
    Fragment("gallery", _read_gallery, _gallery_html),
    Fragment("newest", _read_newest, _newest_html),
    Fragment("month", _read_month, note_list_html),
    Fragment("concept-map", _read_concept_map, _concept_map_html),
    Fragment("tags", _read_tags, _tags_html),
    Fragment("header", _read_header, _header_html),
    Fragment("sections", read_sections, lambda data, ctx, src_uri: ""),  # placed by finish(), not by a marker
)}
PLACED = ("header", "sections")  # fragments every page has, placed by position rather than by a marker


def _split_marker(name: str) -> tuple[str, str]:
    head, _, argument = name.partition(" ")
    return head, argument


def placed_fragments(ctx: Context, src_uri: str, text: str) -> list[tuple[str, str]]:
    """Every fragment a page shows: those placed on every page, the sections of a page of the graph, and
    one per marker its text holds (a superset: a marker in code is shown as code, not filled)."""
    found = [("header", ""), ("sections", "")]
    found += [(name, "") for _, name in ctx.read(src_uri, "sections")]
    if MARKER_OPEN in text:
        for m in MARKER_RE.finditer(text):
            name, argument = _split_marker(m.group(1))
            if name in FRAGMENTS and name not in PLACED:
                found.append((name, argument))
    return list(dict.fromkeys(found))


def page_data(ctx: Context, src_uri: str, text: str) -> tuple:
    """What every fragment of the page reads, as one comparable value (the page's share of its fingerprint)."""
    return tuple((name, argument, ctx.read(src_uri, name, argument)) for name, argument in placed_fragments(ctx, src_uri, text))


def render(ctx: Context, src_uri: str, name: str, argument: str = "") -> str:
    """A fragment's HTML on a page: kept as its data is (a function of that data alone, see
    :class:`Fragment`), so that a page rendered again renders only the fragments whose data changed
    (the archive: one month of hundreds)."""
    return ctx.kept((src_uri, name, argument, "html"), lambda: FRAGMENTS[name].html(ctx.read(src_uri, name, argument), ctx, src_uri))


# --- one path, two outputs ---------------------------------------------------------------------------

class HtmlOutput:
    """Fragments placed into a page's rendered HTML: every marker filled, the header after the ``h1``.

    ``headings``: the sections' headings as the site's own Markdown settings render them
    (:class:`SectionHeadings`)."""

    def __init__(self, headings: "SectionHeadings | None" = None):
        self.headings = headings

    def sections(self, titled: Sequence[tuple[str | None, str]], content: str) -> tuple[str, list[tuple[str, str | None]]]:
        html, toc = [], []
        for title, name in titled:
            if title:
                heading, anchor = self.headings.heading(title, lambda a: f'id="{a}"' in content or any(a == t for _, t in toc))
                html.append(heading)
                toc.append((title, anchor))
            html.append(marker(name))
        return ("\n" + "\n".join(html) + "\n" if html else ""), toc

    @staticmethod
    def fill(text: str, make: Callable[[str], str | None]) -> str:
        """Every marker filled, in one pass over the text (each list made once however often its marker
        occurs; what a list holds is never searched for markers)."""
        parts = text.split(MARKER_OPEN)
        if len(parts) == 1:
            return text
        out, made = [parts[0]], {}
        for part in parts[1:]:
            end = part.find(MARKER_CLOSE)
            name = part[:end] if end != -1 else ""
            if name not in made:
                made[name] = make(name) if end != -1 else None
            out.append(MARKER_OPEN + part if made[name] is None else made[name] + part[end + len(MARKER_CLOSE):])
        return "".join(out)

    ARTICLE = '<article class="md-content__inner md-typeset'  # Material's article: the page's content

    @classmethod
    def with_classes(cls, text: str, classes: Sequence[str]) -> str:
        """Obsidian's ``cssclasses`` on the theme's article (Obsidian puts them on the note's view)."""
        return text.replace(cls.ARTICLE, cls.ARTICLE + "".join(" " + esc(c) for c in classes), 1)

    @staticmethod
    def after_title(text: str, insert: str) -> str:
        end = text.find("</h1>")
        if end == -1:
            return insert + "\n" + text
        end += len("</h1>")
        return text[:end] + "\n" + insert + text[end:]


class MarkdownOutput:
    """Fragments placed into a page's Markdown (``notes export``): ``## `` headings, markers filled where
    they stand alone on a line of text (never in code) as raw HTML blocks, the header under the first
    level-1 heading. Any generator that passes raw HTML blocks through gives the article the same HTML."""

    @staticmethod
    def sections(titled: Sequence[tuple[str | None, str]], content: str) -> tuple[str, list]:
        parts = []
        for title, name in titled:
            parts += ([f"## {title}"] if title else []) + [marker(name)]
        return ("\n\n" + "\n\n".join(parts) + "\n" if parts else ""), []

    @staticmethod
    def fill(text: str, make: Callable[[str], str | None]) -> str:
        found = scan(text)
        lines = list(found.lines)
        made: dict[str, str | None] = {}
        for i in found.text_lines():
            line = lines[i].strip()
            if not (line.startswith(MARKER_OPEN) and line.endswith(MARKER_CLOSE)):
                continue
            name = line[len(MARKER_OPEN): -len(MARKER_CLOSE)]
            if name not in made:
                made[name] = make(name)
            if made[name] is not None:
                lines[i] = "\n" + made[name] + "\n" if made[name] else ""
        return "\n".join(lines)

    @staticmethod
    def with_classes(text: str, classes: Sequence[str]) -> str:
        """Markdown has no place for a page's classes (another generator's theme would need them): unchanged."""
        return text

    @staticmethod
    def after_title(text: str, insert: str) -> str:
        if text.startswith(TITLE_OPEN):  # the page's title above its text (hooks.site.title_heading)
            title, _, rest = text.partition("\n")
            return title + "\n\n" + insert + "\n\n" + rest.lstrip("\n")
        found = next((h for h in scan(text).headings if h.level == 1), None)
        lines = text.split("\n")
        if found is None:
            return insert + "\n\n" + text
        end = found.line + 1
        if end < len(lines) and SETEXT_RE.match(lines[end]) and not ATX_RE.match(lines[found.line]):
            end += 1  # a setext heading's underline
        after = lines[end:] if end < len(lines) and not lines[end].strip() else [""] + lines[end:]
        return "\n".join(lines[:end] + ["", insert] + after)


Output = HtmlOutput | MarkdownOutput


def append_sections(ctx: Context, src_uri: str, content: str, out: Output) -> tuple[str, list[tuple[str, str | None]]]:
    """The page's content with a note's or concept's sections appended (headings and their markers), and
    each heading's ``(title, id)`` for the table of contents (HTML only)."""
    added, toc = out.sections(ctx.read(src_uri, "sections"), content)
    if not added:
        return content, toc
    return (content.rstrip("\n") + added if isinstance(out, MarkdownOutput) else content + added), toc


def finish(ctx: Context, src_uri: str, text: str, out: Output, problems: Iterable[Problem] = ()) -> str:
    """The page with every marker filled by its fragment's HTML, and the header line (and, under serve,
    its problems) under its title."""
    def make(name: str) -> str | None:
        head, argument = _split_marker(name)
        if head not in FRAGMENTS or head in PLACED:
            return None  # not one of the build's markers: left as it is
        return render(ctx, src_uri, head, argument)

    if MARKER_OPEN in text:
        text = out.fill(text, make)
    page = ctx.kb.pages.get(src_uri)
    if page is not None and page.cssclasses:  # from the page's front matter, which its fingerprint holds
        text = out.with_classes(text, page.cssclasses)
    header = render(ctx, src_uri, "header") + problems_box(problems)
    return out.after_title(text, header) if header else text


def problems_box(problems: Iterable[Problem]) -> str:
    """A visible box listing a page's problems (shown under ``mkdocs serve``, where the build goes on)."""
    items = "\n".join(f"<li><code>{esc(str(p))}</code></li>" for p in problems)
    if not items:
        return ""
    return (
        '<div class="admonition failure kb-problems" role="alert">\n'
        '<p class="admonition-title">This page has problems; fix them and save again</p>\n'
        f"<ul>\n{items}\n</ul>\n</div>"
    )


class SectionHeadings:
    """The sections' headings as the site's own Markdown configuration renders a ``## `` heading (its
    ids, its permalinks), converted once per build.

    The build appends the sections to a page's HTML after Python-Markdown: as Markdown, two headings
    and three markers a page were a fifth of Python-Markdown's work at 1,000 notes (counted in calls).
    """

    def __init__(self, extensions: list, configs: dict):
        import markdown

        html = markdown.Markdown(extensions=extensions, extension_configs=configs).convert(
            "\n\n".join(f"## {title}" for title in SECTION_TITLES))
        found = re.findall(r"<h2\b.*?</h2>", html, re.DOTALL)
        if len(found) != len(SECTION_TITLES):  # an extension renders headings in some other way: plain ones
            found = [f"<h2>{esc(title)}</h2>" for title in SECTION_TITLES]
        self.html = dict(zip(SECTION_TITLES, found))
        self.ids = {title: (m.group(1) if (m := re.search(r'\sid="([^"]+)"', h)) else None) for title, h in self.html.items()}

    def heading(self, title: str, taken: Callable[[str], bool]) -> tuple[str, str | None]:
        """The heading's HTML and its id, made unique (as Python-Markdown's toc does: ``_1``, ``_2``)
        where the page already uses it."""
        html, anchor = self.html[title], self.ids[title]
        if anchor is None or not taken(anchor):
            return html, anchor
        n = 1
        while taken(f"{anchor}_{n}"):
            n += 1
        unique = f"{anchor}_{n}"
        return html.replace(f'"{anchor}"', f'"{unique}"').replace(f'"#{anchor}"', f'"#{unique}"'), unique
