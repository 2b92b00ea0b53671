"""Markdown, SVG and RSS written from the knowledge base: indexes, backlinks, neighbours, the map and the feed."""
from __future__ import annotations

import datetime
import email.utils
import html
from typing import Callable
from urllib.parse import urljoin
from xml.sax.saxutils import escape as xml_escape

from hooks.graph import CONCEPT_MAP, CONCEPTS_INDEX, NOTES_INDEX, ConceptMap, KnowledgeBase
from hooks.notes import PageInfo
from hooks.wikilinks import escape_markdown, markdown_link, render_resolution, rewrite_wikilinks

NEWEST_MARKER = "<!-- kb:newest -->"
MAP_MARKER = "<!-- kb:concept-map -->"
Href = Callable[[str], str]  # src_uri -> URL relative to the page being rendered


def _date(page: PageInfo) -> str:
    return f'<time datetime="{page.date.isoformat()}">{page.date.isoformat()}</time>' if page.date else ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def note_item(kb: KnowledgeBase, note: PageInfo, from_uri: str, *, details: bool = True) -> str:
    """One list item: date, linked title and, with ``details``, the excerpt and the concepts it links."""
    item = " ".join(part for part in ("-", _date(note), markdown_link(note.title, from_uri, note.src_uri)) if part)
    if not details:
        return item
    text = kb.excerpts.get(note.src_uri, "")
    if text:
        item += f"  \n  {escape_markdown(text)}"
    concepts = kb.concepts_of(note.src_uri)
    if concepts:
        linked = ", ".join(markdown_link(kb.pages[c].title, from_uri, c) for c in concepts)
        item += f"  \n  <span class=\"kb-concepts\">Concepts: {linked}</span>"
    return item


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
            if month is not None:
                out += ["</div>", ""]
            year, month = date.year, None
            out += [f"## {year}", ""]
        if date.month != month:
            if month is not None:
                out += ["</div>", ""]
            month = date.month
            out += [f"### {date:%B} {year}", "", '<div class="kb-note-list" markdown>', ""]
        out.append(note_item(kb, note, NOTES_INDEX))
    return "\n".join(out + ["", "</div>", ""])


def concepts_index(kb: KnowledgeBase) -> str:
    """Every concept with the number of notes that link to it."""
    out = ["# Concepts", ""]
    if not kb.concepts:
        return "\n".join(out + ["No concepts yet.", ""])
    out += ['<div class="kb-concept-list" markdown>', ""]
    for concept in kb.concepts:
        count = kb.note_count(concept.src_uri)
        out.append(f"- {markdown_link(concept.title, CONCEPTS_INDEX, concept.src_uri)} <span class=\"kb-count\">{_plural(count, 'note')}</span>")
    return "\n".join(out + ["", "</div>", ""])


def concept_map_page() -> str:
    return "\n".join([
        "# Concept map",
        "",
        "Every concept and the newest notes, joined where one links to the other. Round nodes are concepts,",
        "square ones are notes; select a node to open its page.",
        "",
        MAP_MARKER,
        "",
    ])


def newest_notes(kb: KnowledgeBase, from_uri: str, count: int) -> str:
    if not kb.notes:
        return "No notes yet."
    items = [note_item(kb, note, from_uri) for note in kb.notes[: max(count, 0)]]
    return "\n".join(['<div class="kb-note-list" markdown>', "", *items, "", "</div>"])


def linked_from(kb: KnowledgeBase, src_uri: str) -> str:
    """'## Linked from': the notes (newest first, dated) and concepts whose wikilinks point here."""
    sources = kb.backlinks.get(src_uri)
    if not sources:
        return "\n".join(["## Linked from", "", "No note or concept links here yet."])
    items = []
    for uri in sources:
        page = kb.pages[uri]
        items.append(" ".join(part for part in ("-", _date(page), markdown_link(page.title, src_uri, uri)) if part))
    return "\n".join(["## Linked from", "", '<div class="kb-backlinks" markdown>', "", *items, "", "</div>"])


def related_concepts(kb: KnowledgeBase, src_uri: str) -> str:
    """'## Related concepts': concepts mentioned in the same notes, most co-mentions first."""
    related = kb.related.get(src_uri)
    if not related:
        return "\n".join(["## Related concepts", "", "No note mentions this concept together with another one yet."])
    items = [
        f"- {markdown_link(kb.pages[uri].title, src_uri, uri)} <span class=\"kb-count\">together in {_plural(count, 'note')}</span>"
        for uri, count in related
    ]
    return "\n".join(["## Related concepts", "", '<div class="kb-related" markdown>', "", *items, "", "</div>"])


def pager(kb: KnowledgeBase, src_uri: str) -> str:
    """Links to the previous and next note by date."""
    parts = []
    if src_uri in kb.older:
        older = kb.pages[kb.older[src_uri]]
        parts.append(f'<span class="kb-pager-older">{markdown_link("← " + older.title, src_uri, older.src_uri)}</span>')
    if src_uri in kb.newer:
        newer = kb.pages[kb.newer[src_uri]]
        parts.append(f'<span class="kb-pager-newer">{markdown_link(newer.title + " →", src_uri, newer.src_uri)}</span>')
    if not parts:
        return ""
    return f'<nav class="kb-pager" aria-label="Older and newer notes" markdown="span">{" ".join(parts)}</nav>'


MAP_NOTE_LABELS = 15  # notes drawn with a visible label when the map has at most this many


def concept_map_svg(cmap: ConceptMap, href: Href) -> str:
    """The map as one inline ``<svg>`` block; every node is a link, styled by classes in kb.css."""
    if not cmap.nodes:
        return "<p>No concepts yet.</p>"
    concepts = sum(1 for n in cmap.nodes if n.kind == "concept")
    label = f"Concept map: {_plural(concepts, 'concept')} and {_plural(len(cmap.nodes) - concepts, 'note')}, joined by their links"
    out = [
        '<div class="kb-map">',
        f'<svg class="kb-map-svg" viewBox="0 0 {cmap.width} {cmap.height}" aria-label="{html.escape(label)}" role="img" '
        'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">',
        '<g class="kb-map-edges">',
    ]
    for a, b in cmap.edges:
        na, nb = cmap.nodes[a], cmap.nodes[b]
        out.append(f'<line class="kb-map-edge" x1="{na.x}" y1="{na.y}" x2="{nb.x}" y2="{nb.y}"/>')
    out += ["</g>", '<g class="kb-map-nodes">']
    label_notes = len(cmap.nodes) - concepts <= MAP_NOTE_LABELS  # past that, note labels would bury the concepts
    for node in cmap.nodes:
        title = html.escape(node.title)
        link = html.escape(href(node.src_uri))
        if node.kind == "concept":
            radius = round(6 + min(node.degree, 12) * 0.75, 1)
            shape = f'<circle cx="{node.x}" cy="{node.y}" r="{radius}"/>'
            text = f'<text x="{node.x}" y="{round(node.y + radius + 16, 1)}">{title}</text>'
        else:
            shape = f'<rect x="{round(node.x - 7, 1)}" y="{round(node.y - 7, 1)}" width="14" height="14" rx="2"/>'
            short = node.title if len(node.title) <= 32 else node.title[:31].rstrip() + "…"
            text = f'<text x="{node.x}" y="{round(node.y + 22, 1)}">{html.escape(short)}</text>' if label_notes else ""
        out.append(f'<a class="kb-map-node kb-map-{node.kind}" xlink:href="{link}"><title>{title}</title>{shape}{text}</a>')
    out += ["</g>", "</svg>", "</div>"]
    return "\n".join(out)


def finish_page(
    kb: KnowledgeBase,
    src_uri: str,
    markdown: str,
    *,
    newest_count: int,
    concept_map_html: Callable[[], str],
) -> str:
    """A page's Markdown with wikilinks resolved, markers filled and, for notes and concepts, the
    backlinks, related concepts and neighbours appended. Lookups only: the graph is already built."""
    linker = kb.linker
    markdown = rewrite_wikilinks(markdown, lambda link: render_resolution(linker.resolve(link, src_uri), src_uri))
    if NEWEST_MARKER in markdown or MAP_MARKER in markdown:
        lines = markdown.split("\n")
        for i, line in enumerate(lines):
            if line.strip() == NEWEST_MARKER:
                lines[i] = newest_notes(kb, src_uri, newest_count)
            elif line.strip() == MAP_MARKER:
                lines[i] = concept_map_html()
        markdown = "\n".join(lines)
    page = kb.pages.get(src_uri)
    if page is None or page.kind not in ("note", "concept"):
        return markdown
    sections = [linked_from(kb, src_uri), related_concepts(kb, src_uri) if page.kind == "concept" else pager(kb, src_uri)]
    return markdown.rstrip("\n") + "\n\n" + "\n\n".join(s for s in sections if s) + "\n"


def _rfc822(date: datetime.date | None) -> str:
    moment = datetime.datetime.combine(date or datetime.date.min, datetime.time(0), tzinfo=datetime.timezone.utc)
    return email.utils.format_datetime(moment)


def feed_xml(
    kb: KnowledgeBase,
    *,
    title: str,
    site_url: str,
    description: str,
    urls: dict[str, str],
    items: int,
) -> str:
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
        link = xml_escape(urljoin(base, urls.get(note.src_uri, note.src_uri)))
        text = note.description or kb.excerpts.get(note.src_uri, "")
        out += [
            "<item>",
            f"<title>{xml_escape(html.escape(note.title, quote=False))}</title>",  # readers treat titles as HTML
            f"<link>{link}</link>",
            f'<guid isPermaLink="true">{link}</guid>',
            f"<pubDate>{_rfc822(note.date)}</pubDate>",
            f"<description>{xml_escape(html.escape(text, quote=False))}</description>",
            *(f"<category>{xml_escape(tag)}</category>" for tag in note.tags),
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def generated_pages(kb: KnowledgeBase) -> dict[str, str]:
    """The Markdown of the pages the build adds, by src_uri."""
    return {NOTES_INDEX: notes_index(kb), CONCEPTS_INDEX: concepts_index(kb), CONCEPT_MAP: concept_map_page()}
