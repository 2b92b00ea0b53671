"""Pages written from the knowledge base: wikilinks resolved, indexes, backlinks, neighbours, tags, the map and the feed.

Two steps per page. :func:`page_markdown` works on the Markdown before it is rendered: it resolves
wikilinks into ordinary relative links (so the generator checks them). After the conversion,
:func:`sections_html` appends the generated sections of a note or concept (headings and a marker
comment where each list goes), and :func:`page_html` fills the markers (those and the ones a page
writes itself, such as the home page's newest notes) with HTML, so that long lists (backlinks, the
archive) never go through the Markdown parser. For ``notes export``, the sections are Markdown
(:func:`sections_markdown`) and :func:`finished_markdown` fills the markers (:func:`fill_markers`,
the same HTML) into the Markdown, as raw HTML blocks another generator passes through. Every text
taken from a source is escaped where it is printed.
"""
from __future__ import annotations

import datetime
import email.utils
import math
import re
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urljoin
from xml.sax.saxutils import escape as xml_escape

from hooks.kb.graph import CONCEPT_MAP, CONCEPTS_INDEX, NOTES_INDEX, TAGS_MARKER, ConceptMap, KnowledgeBase, concept_radius, map_members
from hooks.kb.notes import PageInfo
from hooks.kb.reading import (Figures, gallery_html, gallery_inputs, gallery_items, local_graph_html, local_graph_inputs,
                             no_figures, preview_href)
from hooks.kb.wikilinks import WikiLink, render_resolution, replace_found, rewrite_wikilinks
from hooks.kb.obsidian import page_edits
from hooks.markdown import ATX_RE, SETEXT_RE, apply_edits, scan
from hooks.markdown import escape_html as esc
from hooks.problems import Problem

NEWEST_MARKER = "<!-- kb:newest -->"
MAP_MARKER = "<!-- kb:concept-map -->"
LINKED_FROM = "<!-- kb:linked-from -->"
RELATED = "<!-- kb:related -->"
PAGER = "<!-- kb:pager -->"
LOCAL_GRAPH = "<!-- kb:local-graph -->"
GALLERY = "<!-- kb:gallery -->"
MONTH_MARKER = "<!-- kb:month {} -->"  # a month of the notes archive, "2024-03"
MONTH_RE = re.compile(r"<!-- kb:month (\d{4}-\d{2}) -->")
WORDS_PER_MINUTE = 200


@dataclass(frozen=True)
class Settings:
    """``extra.notes`` of mkdocs.yml."""

    feed_items: int = 50
    newest_on_home: int = 5
    map_notes: int = 40


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _time(date: datetime.date | None) -> str:
    return f'<time datetime="{date.isoformat()}">{date.isoformat()}</time>' if date else ""


def _link(kb: KnowledgeBase, target: str, from_uri: str, text: str | None = None, cls: str = "") -> str:
    """A link to a page; one to a note or concept carries its preview (a generated list holds a few
    thousand links at 1,000 notes: marking them here spares hooks.kb.reading.mark_links parsing them)."""
    href = kb.href(target, from_uri)
    attr = f' class="{cls}"' if cls else ""
    preview = preview_href(kb, from_uri, target, href)
    if preview is not None:
        attr += f' data-kb-preview="{esc(preview)}"'
    return f'<a href="{esc(href)}"{attr}>{esc(kb.pages[target].title if text is None else text)}</a>'


STRUCTURAL_META = frozenset({"hide", "template", "search"})  # read by the theme, never printed


def escape_meta(meta: dict) -> dict:
    """Front matter with every text the theme may print HTML-escaped (titles, descriptions, authors, ...)."""
    def escape(value):
        if isinstance(value, str):
            return esc(value)
        if isinstance(value, list):
            return [escape(v) for v in value]
        if isinstance(value, dict):
            return {k: escape(v) for k, v in value.items()}
        return value

    return {k: (v if k in STRUCTURAL_META else escape(v)) for k, v in meta.items()}


def reading_minutes(body: str) -> int:
    return max(1, math.ceil(len(body.split()) / WORDS_PER_MINUTE))


# --- step 1: Markdown ------------------------------------------------------------------------------

def page_markdown(kb: KnowledgeBase, src_uri: str, markdown: str) -> str:
    """A page's Markdown with wikilinks resolved and Obsidian's syntax settled (inline tags, block
    ids, escapes). The generated sections come after the conversion (:func:`sections_html`)."""
    linker = kb.linker
    page = kb.pages.get(src_uri)
    known = {id(r.link): r for r in kb.resolutions.get(src_uri, ())}  # resolved when the knowledge base was built

    def replace(link: WikiLink) -> str:
        resolution = known.get(id(link))
        return render_resolution(resolution if resolution is not None else linker.resolve(link, src_uri), src_uri)

    body = page.body if page is not None else None
    if body is not None and len(markdown) <= len(body) and body.endswith(markdown) and not body[: len(body) - len(markdown)].strip("\n"):
        # MkDocs hands over the body as read, less its leading blank lines: reuse the links found in it
        markdown = replace_found(markdown, kb.parsed[src_uri].links, replace, body.count("\n", 0, len(body) - len(markdown)))
    else:  # a plugin changed the text (callouts), or embeds were expanded: find the links again
        markdown = rewrite_wikilinks(markdown, replace)
    if page is not None:
        markdown = obsidian_markdown(kb, src_uri, markdown)
    return markdown


# --- the generated sections at the end of a note's or concept's page ---------------------------------

SECTION_TITLES = ("Figures in linked notes", "Linked from", "Related concepts", "Local graph")


def page_sections(kb: KnowledgeBase, src_uri: str, figures: Figures = no_figures) -> list[tuple[str | None, str]]:
    """The sections the build adds at the end of a note or a concept: ``(heading, marker of its list)``
    (the pager has no heading)."""
    page = kb.pages.get(src_uri)
    if page is None or page.kind not in ("note", "concept"):
        return []
    sections: list[tuple[str | None, str]] = [("Linked from", LINKED_FROM)]
    if page.kind == "concept":
        if gallery_items(kb, src_uri, figures):
            sections.insert(0, ("Figures in linked notes", GALLERY))
        sections += [("Related concepts", RELATED), ("Local graph", LOCAL_GRAPH)]
    else:
        sections += [("Local graph", LOCAL_GRAPH), (None, PAGER)]
    return sections


def sections_markdown(kb: KnowledgeBase, src_uri: str, figures: Figures = no_figures) -> str:
    """The sections as Markdown, ``## `` headings and markers, for a generator that renders the page
    itself (``notes export``); empty for other pages."""
    parts = []
    for title, marker in page_sections(kb, src_uri, figures):
        parts += ([f"## {title}"] if title else []) + [marker]
    return "\n\n".join(parts)


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


def sections_html(kb: KnowledgeBase, src_uri: str, content: str, headings: SectionHeadings,
                  figures: Figures = no_figures) -> tuple[str, list[tuple[str, str | None]]]:
    """What to append to a page's rendered content: the sections' headings and the markers
    :func:`page_html` fills; and each heading's ``(title, id)`` for the table of contents."""
    html, toc = [], []
    for title, marker in page_sections(kb, src_uri, figures):
        if title:
            heading, anchor = headings.heading(title, lambda a: f'id="{a}"' in content or any(a == t for _, t in toc))
            html.append(heading)
            toc.append((title, anchor))
        html.append(marker)
    return ("\n" + "\n".join(html) + "\n" if html else ""), toc


def obsidian_markdown(kb: KnowledgeBase, src_uri: str, markdown: str) -> str:
    """Inline #tags linked to their section of the tags page, block anchors, and the escapes
    Python-Markdown needs to read Obsidian's text as Obsidian does (hooks.kb.obsidian)."""
    base = kb.href(kb.tags_page, src_uri) if kb.tags_page else None
    edits = page_edits(markdown, tag_href=lambda tag: None if base is None else f"{base}#{tag_anchor(tag)}")
    return apply_edits(markdown, edits) if edits else markdown


# --- step 2: HTML ----------------------------------------------------------------------------------

def note_item(kb: KnowledgeBase, note: PageInfo, from_uri: str, *, details: bool = True,
              concept_links: dict[str, str] | None = None) -> str:
    """One ``<li>``: date, linked title and, with ``details``, the excerpt and the concepts it links.
    ``concept_links``: the links to concepts already made for this page (a list of a thousand notes
    links the same forty concepts again and again)."""
    parts = [p for p in (_time(note.date), _link(kb, note.src_uri, from_uri)) if p]
    item = " ".join(parts)
    if details:
        text = kb.excerpts.get(note.src_uri, "")
        if text:
            item += f'<br>\n<span class="kb-excerpt">{esc(text)}</span>'
        concepts = kb.concepts_of(note.src_uri)
        if concepts:
            made = {} if concept_links is None else concept_links
            for c in concepts:
                if c not in made:
                    made[c] = _link(kb, c, from_uri)
            item += f'<br>\n<span class="kb-concepts">Concepts: {", ".join(made[c] for c in concepts)}</span>'
    return f"<li>{item}</li>"


def _note_list(kb: KnowledgeBase, notes: Iterable[PageInfo], from_uri: str) -> str:
    concept_links: dict[str, str] = {}
    items = "\n".join(note_item(kb, n, from_uri, concept_links=concept_links) for n in notes)
    return f'<div class="kb-note-list">\n<ul>\n{items}\n</ul>\n</div>'


def newest_notes(kb: KnowledgeBase, from_uri: str, count: int) -> str:
    if not kb.notes:
        return "<p>No notes yet.</p>"
    return _note_list(kb, kb.notes[: max(count, 0)], from_uri)


def linked_from(kb: KnowledgeBase, src_uri: str) -> str:
    """The notes (newest first, dated) and concepts whose wikilinks point here."""
    sources = kb.backlinks.get(src_uri)
    if not sources:
        return "<p>No note or concept links here yet.</p>"
    items = []
    for uri in sources:
        page = kb.pages[uri]
        items.append("<li>" + " ".join(p for p in (_time(page.date), _link(kb, uri, src_uri)) if p) + "</li>")
    return '<div class="kb-backlinks">\n<ul>\n' + "\n".join(items) + "\n</ul>\n</div>"


def related_concepts(kb: KnowledgeBase, src_uri: str) -> str:
    """Concepts mentioned in the same notes, most co-mentions first."""
    related = kb.related.get(src_uri)
    if not related:
        return "<p>No note mentions this concept together with another one yet.</p>"
    items = [
        f'<li>{_link(kb, uri, src_uri)} <span class="kb-count">together in {_plural(count, "note")}</span></li>'
        for uri, count in related
    ]
    return '<div class="kb-related">\n<ul>\n' + "\n".join(items) + "\n</ul>\n</div>"


def pager(kb: KnowledgeBase, src_uri: str) -> str:
    """Links to the previous and next note by date."""
    parts = []
    if src_uri in kb.older:
        older = kb.pages[kb.older[src_uri]]
        parts.append(f'<span class="kb-pager-older">{_link(kb, older.src_uri, src_uri, "← " + older.title)}</span>')
    if src_uri in kb.newer:
        newer = kb.pages[kb.newer[src_uri]]
        parts.append(f'<span class="kb-pager-newer">{_link(kb, newer.src_uri, src_uri, newer.title + " →")}</span>')
    if not parts:
        return ""
    return f'<nav class="kb-pager" aria-label="Older and newer notes">{" ".join(parts)}</nav>'


def tag_anchor(tag: str) -> str:
    """The id of a tag's section on the tags page."""
    slug = re.sub(r"[^\w/-]+", "-", tag.casefold(), flags=re.UNICODE).strip("-")
    return "tag-" + (slug or "tag")


def tags_index(kb: KnowledgeBase, from_uri: str) -> str:
    """Every tag with the pages that carry it."""
    if not kb.tags:
        return "<p>No tags yet.</p>"
    out = ['<div class="kb-tags-index">']
    for tag, uris in kb.tags.items():
        out.append(f'<h2 id="{esc(tag_anchor(tag))}"><span class="kb-tag">{esc(tag)}</span> <span class="kb-count">{_plural(len(uris), "page")}</span></h2>')
        items = [
            "<li>" + " ".join(p for p in (_time(kb.pages[u].date), _link(kb, u, from_uri)) if p) + "</li>" for u in uris
        ]
        out.append("<ul>\n" + "\n".join(items) + "\n</ul>")
    out.append("</div>")
    return "\n".join(out)


def page_header(kb: KnowledgeBase, src_uri: str) -> str:
    """The line under a note's or concept's title: date, reading time and tags (linked to the tags page)."""
    page = kb.pages.get(src_uri)
    if page is None or page.kind not in ("note", "concept"):
        return ""
    bits = []
    if page.date:
        bits.append(_time(page.date))
    if page.kind == "note":
        bits.append(f"{reading_minutes(page.body)} min read")
    if page.tags:
        chips = []
        for tag in dict.fromkeys(page.tags):
            if kb.tags_page:
                href = esc(kb.href(kb.tags_page, src_uri)) + "#" + esc(tag_anchor(tag))
                chips.append(f'<a class="kb-tag" href="{href}">{esc(tag)}</a>')
            else:
                chips.append(f'<span class="kb-tag">{esc(tag)}</span>')
        bits.append('<span class="kb-tags">' + " ".join(chips) + "</span>")
    return '<p class="kb-page-meta">' + ' <span aria-hidden="true">·</span> '.join(bits) + "</p>"


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


def _map_svg(kb: KnowledgeBase, cmap: ConceptMap, from_uri: str, label: str, variant: str) -> str:
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
        title = esc(node.title)
        link = esc(kb.href(node.src_uri, from_uri))
        x0, y0, x1, y1 = node.box
        hit = f'<rect class="kb-map-hit" x="{x0}" y="{y0}" width="{round(x1 - x0, 1)}" height="{round(y1 - y0, 1)}"/>'
        if node.kind == "concept":
            radius = concept_radius(node.degree)
            shape = f'<circle cx="{node.x}" cy="{node.y}" r="{radius}"/>'
        else:
            radius = 7.0
            shape = f'<rect x="{round(node.x - 7, 1)}" y="{round(node.y - 7, 1)}" width="14" height="14" rx="2"/>'
        text = f'<text x="{node.x}" y="{round(node.y + radius + cmap.font + 1, 1)}">{esc(node.label)}</text>' if node.label else ""
        out.append(f'<a class="kb-map-node kb-map-{node.kind}" xlink:href="{link}"><title>{title}</title>{hit}{shape}{text}</a>')
    out += ["</g>", "</svg>"]
    return "\n".join(out)


def concept_map_svg(kb: KnowledgeBase, cmap: ConceptMap, from_uri: str) -> str:
    """The map as inline SVG, every node a link, styled by classes in kb.css: a wide layout, and (shown
    instead on a narrow screen) the same map laid out upright for a phone."""
    if not cmap.nodes:
        return "<p>No concepts yet.</p>"
    concepts = sum(1 for n in cmap.nodes if n.kind == "concept")
    label = f"Concept map: {_plural(concepts, 'concept')} and {_plural(len(cmap.nodes) - concepts, 'note')}, joined by their links"
    out = ['<div class="kb-map">', _map_svg(kb, cmap, from_uri, label, "wide")]
    if cmap.narrow is not None:
        out.append(_map_svg(kb, cmap.narrow, from_uri, label, "narrow"))
    out.append("</div>")
    return "\n".join(out)


def _after_first_h1(html: str, insert: str) -> str:
    end = html.find("</h1>")
    if end == -1:
        return insert + "\n" + html
    end += len("</h1>")
    return html[:end] + "\n" + insert + html[end:]


def _after_first_h1_line(markdown: str, insert: str) -> str:
    """``insert`` (a block of HTML) as a block of its own under the first level-1 heading of the
    Markdown (ATX or setext, as the scanner sees it), or first when the page has none."""
    found = next((h for h in scan(markdown).headings if h.level == 1), None)
    lines = markdown.split("\n")
    if found is None:
        return insert + "\n\n" + markdown
    end = found.line + 1
    if end < len(lines) and SETEXT_RE.match(lines[end]) and not ATX_RE.match(lines[found.line]):
        end += 1  # a setext heading's underline
    after = lines[end:] if end < len(lines) and not lines[end].strip() else [""] + lines[end:]
    return "\n".join(lines[:end] + ["", insert] + after)


MARKER_OPEN, MARKER_CLOSE = "<!-- kb:", " -->"  # every marker: "<!-- kb:NAME -->"


def _fill_html(html: str, maker: Callable[[str], Callable[[], str] | None]) -> str:
    """The rendered HTML with every marker it holds filled, in one pass over the text (each list
    made once however often its marker occurs; what a list holds is never searched for markers)."""
    parts = html.split(MARKER_OPEN)
    if len(parts) == 1:
        return html
    out, made = [parts[0]], {}
    for part in parts[1:]:
        end = part.find(MARKER_CLOSE)
        name = part[:end] if end != -1 else ""
        if name not in made:
            make = maker(name) if end != -1 else None
            made[name] = make() if make is not None else None
        out.append(MARKER_OPEN + part if made[name] is None else made[name] + part[end + len(MARKER_CLOSE):])
    return "".join(out)


def _fill_marker_lines(markdown: str, maker: Callable[[str], Callable[[], str] | None]) -> str:
    """The Markdown with every marker filled where it stands alone on a line of text (never in code),
    as a raw HTML block between blank lines, which Python-Markdown passes through untouched."""
    found = scan(markdown)
    lines = list(found.lines)
    made: dict[str, str | None] = {}
    for i in found.text_lines():
        line = lines[i].strip()
        if not (line.startswith(MARKER_OPEN) and line.endswith(MARKER_CLOSE)):
            continue
        name = line[len(MARKER_OPEN): -len(MARKER_CLOSE)]
        if name not in made:
            make = maker(name)
            made[name] = make() if make is not None else None
        if made[name] is not None:
            lines[i] = "\n" + made[name] + "\n" if made[name] else ""
    return "\n".join(lines)


def fill_markers(
    kb: KnowledgeBase,
    src_uri: str,
    text: str,
    *,
    settings: Settings,
    concept_map: Callable[[], ConceptMap],
    figures: Figures = no_figures,
    markdown: bool = False,
) -> str:
    """``text`` with every generated list in place of its marker: backlinks, related concepts, the
    pager, the local graph, a concept's gallery, the newest notes, the concept map, the tags and the
    archive's months. In rendered HTML every occurrence is filled; in Markdown (``markdown=True``)
    those that stand alone on a line of text."""
    if MARKER_OPEN not in text:
        return text
    makers: dict[str, Callable[[], str]] = {
        LINKED_FROM: lambda: linked_from(kb, src_uri),
        RELATED: lambda: related_concepts(kb, src_uri),
        PAGER: lambda: pager(kb, src_uri),
        LOCAL_GRAPH: lambda: local_graph_html(kb, src_uri),
        GALLERY: lambda: gallery_html(kb, src_uri, figures),
        NEWEST_MARKER: lambda: newest_notes(kb, src_uri, settings.newest_on_home),
        MAP_MARKER: lambda: concept_map_svg(kb, concept_map(), src_uri),
        TAGS_MARKER: lambda: tags_index(kb, src_uri),
    }
    by_month: dict[str, list[PageInfo]] = {}

    def maker(name: str) -> Callable[[], str] | None:
        marker = MARKER_OPEN + name + MARKER_CLOSE
        if marker in makers:
            return makers[marker]
        month = MONTH_RE.fullmatch(marker)
        if month is None:
            return None  # not one of the build's markers: left as it is
        if not by_month:
            for note in kb.notes:
                by_month.setdefault(f"{note.date or datetime.date.min:%Y-%m}", []).append(note)
        return lambda: _note_list(kb, by_month.get(month.group(1), []), src_uri)

    return (_fill_marker_lines if markdown else _fill_html)(text, maker)


def page_html(
    kb: KnowledgeBase,
    src_uri: str,
    html: str,
    *,
    settings: Settings,
    concept_map: Callable[[], ConceptMap],
    problems: Iterable[Problem] = (),
    figures: Figures = no_figures,
) -> str:
    """The rendered HTML of a page with its markers filled (their links to notes and concepts carry
    their previews), its header line and (under serve) its problems."""
    html = fill_markers(kb, src_uri, html, settings=settings, concept_map=concept_map, figures=figures)
    header = page_header(kb, src_uri) + problems_box(problems)
    return _after_first_h1(html, header) if header else html


def finished_markdown(
    kb: KnowledgeBase,
    src_uri: str,
    markdown: str,
    *,
    settings: Settings,
    concept_map: Callable[[], ConceptMap],
    figures: Figures = no_figures,
) -> str:
    """What :func:`page_html` does, done on the Markdown instead (for ``notes export``, where another
    generator renders it): markers filled with the same HTML where they stand on their own lines
    (their links to notes and concepts carry their previews, as :func:`_link` writes them), and the
    header line under the first ``# `` heading. Any generator that passes raw HTML blocks through, as
    Python-Markdown does, gives the page's article the HTML the hooked build gives it."""
    markdown = fill_markers(kb, src_uri, markdown, settings=settings, concept_map=concept_map, figures=figures, markdown=True)
    header = page_header(kb, src_uri)
    return _after_first_h1_line(markdown, header) if header else markdown


# --- generated pages -------------------------------------------------------------------------------

def notes_index(kb: KnowledgeBase) -> str:
    """The archive page: every note, newest first, under a heading per year and per month.

    Left out of the search index: every excerpt on it is already indexed with its own note.
    """
    out = ["---", "search:", "  exclude: true", "---", "", "# Notes", ""]
    if not kb.notes:
        return "\n".join(out + ["No notes yet.", ""])
    out += [f"{_plural(len(kb.notes), 'note')}, newest first.", ""]
    year = month = None
    for note in kb.notes:
        date = note.date or datetime.date.min
        if date.year != year:
            year, month = date.year, None
            out += [f"## {year}", ""]
        if date.month != month:
            month = date.month
            out += [f"### {date:%B} {year}", "", MONTH_MARKER.format(f"{date:%Y-%m}"), ""]
    return "\n".join(out)


def concepts_index(kb: KnowledgeBase) -> str:
    """Every concept with the number of notes that link to it (plain Markdown: one short line each)."""
    out = ["# Concepts", ""]
    if not kb.concepts:
        return "\n".join(out + ["No concepts yet.", ""])
    out += ['<div class="kb-concept-list" markdown>', ""]
    for concept in kb.concepts:
        count = kb.note_count(concept.src_uri)
        href = kb.href(concept.src_uri, CONCEPTS_INDEX)
        out.append(f'- <a href="{esc(href)}">{esc(concept.title)}</a> <span class="kb-count">{_plural(count, "note")}</span>')
    return "\n".join(out + ["", "</div>", ""])


def concept_map_page() -> str:
    return "\n".join([
        "---",
        "hide: [toc]  # the map has no sections; it gets the width instead",
        "---",
        "",
        "# Concept map",
        "",
        "Every concept and the newest notes, joined where one links to the other. Round nodes are concepts,",
        "square ones are notes; select a node to open its page.",
        "",
        MAP_MARKER,
        "",
    ])


def generated_pages(kb: KnowledgeBase) -> dict[str, str]:
    """The Markdown of the pages the build adds, by src_uri."""
    return {NOTES_INDEX: notes_index(kb), CONCEPTS_INDEX: concepts_index(kb), CONCEPT_MAP: concept_map_page()}


def _rfc822(date: datetime.date | None) -> str:
    moment = datetime.datetime.combine(date or datetime.date.min, datetime.time(0), tzinfo=datetime.timezone.utc)
    return email.utils.format_datetime(moment)


def feed_xml(kb: KnowledgeBase, *, title: str, site_url: str, description: str, items: int) -> str:
    """RSS 2.0 of the newest ``items`` notes; dates come from the notes, so the same notes give the same bytes."""
    base = site_url if site_url.endswith("/") else site_url + "/"
    notes = kb.notes[: max(items, 0)]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"<title>{xml_escape(title)}</title>",
        f"<link>{xml_escape(base)}</link>",
        f"<description>{xml_escape(description or title)}</description>",
        f'<atom:link href="{xml_escape(urljoin(base, "feed.xml"))}" rel="self" type="application/rss+xml"/>',
    ]
    if notes:
        out.append(f"<lastBuildDate>{_rfc822(notes[0].date)}</lastBuildDate>")
    for note in notes:
        link = xml_escape(urljoin(base, kb.urls[note.src_uri]))
        text = note.description or kb.excerpts.get(note.src_uri, "")
        out += [
            "<item>",
            f"<title>{xml_escape(esc(note.title))}</title>",  # readers treat titles as HTML
            f"<link>{link}</link>",
            f'<guid isPermaLink="true">{link}</guid>',
            f"<pubDate>{_rfc822(note.date)}</pubDate>",
            f"<description>{xml_escape(esc(text))}</description>",
            *(f"<category>{xml_escape(tag)}</category>" for tag in note.tags),
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


# --- what a page depends on, for rebuilding only what changed ----------------------------------------

def _note_row(kb: KnowledgeBase, uri: str) -> tuple:
    page = kb.pages[uri]
    return (uri, page.title, page.date, kb.excerpts.get(uri, ""), tuple((c, kb.pages[c].title) for c in kb.concepts_of(uri)))


def _titled(kb: KnowledgeBase, uris: Iterable[str]) -> tuple:
    return tuple((u, kb.pages[u].title, kb.pages[u].date) for u in uris)


def map_inputs(kb: KnowledgeBase, settings: Settings) -> tuple:
    members = map_members(kb, settings.map_notes)
    return tuple((u, kb.pages[u].kind, kb.pages[u].title, tuple(kb.links.get(u, ()))) for u in members)


def page_inputs(kb: KnowledgeBase, src_uri: str, settings: Settings, figures: Figures = no_figures) -> tuple:
    """Everything this module puts on a page, as a comparable value: when it is unchanged between two
    builds (and the page's own text is too), the page's HTML is unchanged."""
    parsed = kb.parsed[src_uri]
    page = kb.pages[src_uri]
    resolutions = [(r.target, r.anchor, r.severity) for r in kb.resolutions[src_uri]]
    body = page.body
    inputs = [
        parsed.source.text,
        tuple(resolutions),
        _titled(kb, kb.backlinks.get(src_uri, ())),
        tuple((u, kb.pages[u].title, n) for u, n in kb.related.get(src_uri, ())),
        _titled(kb, [u for u in (kb.older.get(src_uri), kb.newer.get(src_uri)) if u]),
        kb.tags_page,
    ]
    if src_uri in kb.expansions:  # what its embeds show (their text, links and figures' lines)
        inputs.append(kb.expansions[src_uri].text)
    if page.kind in ("note", "concept"):
        inputs.append(local_graph_inputs(kb, src_uri))
    if page.kind == "concept":
        inputs.append(gallery_inputs(kb, src_uri, figures))
    if NEWEST_MARKER in body:
        inputs.append(tuple(_note_row(kb, n.src_uri) for n in kb.notes[: settings.newest_on_home]))
    if MAP_MARKER in body:
        inputs.append(map_inputs(kb, settings))
    if TAGS_MARKER in body:
        inputs.append(tuple((tag, _titled(kb, uris)) for tag, uris in kb.tags.items()))
    return tuple(inputs)


def generated_inputs(kb: KnowledgeBase, settings: Settings) -> dict[str, tuple]:
    """What each generated page shows, as comparable values."""
    return {
        NOTES_INDEX: tuple(_note_row(kb, n.src_uri) for n in kb.notes),
        CONCEPTS_INDEX: tuple((c.src_uri, c.title, kb.note_count(c.src_uri)) for c in kb.concepts),
        CONCEPT_MAP: map_inputs(kb, settings),
    }
