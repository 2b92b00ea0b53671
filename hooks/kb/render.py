"""A page's own Markdown as the build hands it on, and the pages and feed written from the knowledge base.

:func:`page_markdown` works on a page's Markdown before it is rendered: it resolves wikilinks into
ordinary relative links (so the generator checks them) from :class:`PageLinks`, what the page's own
text links to as this build resolves it. Everything else the build puts on a page is a fragment of
hooks.kb.fragments. The generated pages (the archive, the concept index, the map page) are
Markdown with markers the fragments fill; the feed is RSS. Every text taken from a source is
escaped where it is printed.
"""
from __future__ import annotations

import datetime
import email.utils
import functools
import re
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import urljoin
from xml.sax.saxutils import escape as xml_escape

from hooks.kb.fragments import MAP_MARKER, Settings, _plural, marker, tag_anchor
from hooks.kb.graph import CONCEPT_MAP, CONCEPTS_INDEX, NOTES_INDEX, KnowledgeBase
from hooks.kb.obsidian import inline_footnotes, page_edits
from hooks.kb.notes import excerpt
from hooks.kb.reading import excerpt_html, preview_path, previewed
from hooks.kb.wikilinks import Resolution, WikiLink, render_resolution, replace_found, rewrite_wikilinks
from hooks.markdown import apply_edits, with_numbers
from hooks.markdown import escape_html as esc
from hooks.urls import file_target, is_relative, split_link, unquoted, url_target

__all__ = ["PageLinks", "Settings", "read_page_links", "page_markdown", "escape_meta", "generated_pages", "feed_xml"]


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


# --- a page's own Markdown -------------------------------------------------------------------------

@dataclass(frozen=True)
class PageLinks:
    """What a page's own text links to, as this build resolves it: everything :func:`page_markdown`,
    the generator's own link checking and the preview marks on the page's links read besides the text.

    Made by :func:`hooks.site.page_links`; part of the page's fingerprint, so a save that changes where
    one of its links goes (a page created, renamed, made a draft) renders the page again."""

    page: str = ""  # the page's src_uri
    wikilinks: tuple[Resolution, ...] = ()  # where each of its wikilinks goes
    tag_base: str | None = None  # the tags page, relative to this page (inline #tags link to it)
    files: tuple[tuple[str, str | None], ...] = ()  # (a relative link's path, the URL of the file it names, None if none)
    previews: tuple[tuple[str, str, str], ...] = ()  # (src_uri, URL from the root, preview from the root) of linked pages

    def replacement(self, raw: str) -> str | None:
        """The Markdown that replaces the wikilink ``raw`` (as written), None for one not in the text."""
        table = self.__dict__.get("_table")
        if table is None:
            table = {r.link.raw: render_resolution(r, self.page) for r in self.wikilinks}
            object.__setattr__(self, "_table", table)
        return table.get(raw)


# Where a page's text names a path: an inline link or image, a reference definition, an HTML href or src.
_DESTINATION_RE = re.compile(r"""\]\(\s*<?([^()\s<>]+)|^[ \t>]*\[[^\]\n]+\]:[ \t]*<?(\S+?)>?(?:[ \t]|$)|\b(?:href|src)\s*=\s*["']([^"'\n]*)""", re.M)


def previewed_urls(kb: KnowledgeBase) -> dict[str, str]:
    """Each page's URL from the site root (unquoted) -> its src_uri."""
    return {unquoted(kb.urls[u]): u for u in previewed(kb)}


def read_page_links(kb: KnowledgeBase, src_uri: str, text: str, present: Mapping[str, str],
                    by_url: Mapping[str, str] | None = None) -> PageLinks:
    """What the text of the page ``src_uri`` links to (:class:`PageLinks`). ``present``: every file of
    the build by its path in docs/, with its URL (what the generator resolves a relative link
    against); ``by_url``: :func:`previewed_urls`, when the caller keeps it."""
    by_url = previewed_urls(kb) if by_url is None else by_url
    resolutions = tuple(kb.resolutions.get(src_uri, ()))
    targets = {r.target for r in resolutions if r.target is not None}
    here = kb.urls[src_uri]
    files: dict[str, str | None] = {}
    for dest, path in destinations(text):
        named = file_target(src_uri, path)  # as the generator reads a Markdown link: from the source file
        files[dest] = present.get(named)
        if named in kb.pages:
            targets.add(named)
        as_url = url_target(here, path)  # as a browser reads a link in HTML: from the page's URL
        if as_url in by_url:
            targets.add(by_url[as_url])
    previews = tuple(sorted((t, kb.urls[t], preview_path(kb.urls[t])) for t in targets if t != src_uri and t in kb.pages))
    tag_base = kb.href(kb.tags_page, src_uri) if kb.tags_page else None
    return PageLinks(src_uri, resolutions, tag_base, tuple(files.items()), previews)


@functools.lru_cache(maxsize=16384)
def destinations(text: str) -> tuple[tuple[str, str], ...]:
    """Every relative link a text names, once each: ``(as written, its path)`` (kept for the process:
    a save reads again only the texts that changed)."""
    out: dict[str, str] = {}
    for m in _DESTINATION_RE.finditer(text):
        dest = next(g for g in m.groups() if g is not None)
        path = split_link(dest)[0]
        if is_relative(path) and dest not in out:
            out[dest] = path
    return tuple(out.items())


def page_markdown(links: PageLinks, markdown: str, found: tuple[str, list[WikiLink]] | None = None) -> str:
    """A page's Markdown with wikilinks resolved (as ``links`` says) and Obsidian's syntax settled
    (inline tags, block ids, escapes). ``found``: the page's body as read and the wikilinks found in
    it, to reuse when ``markdown`` is that body (MkDocs hands it over less its leading blank lines)."""
    def replace(link: WikiLink) -> str:
        made = links.replacement(link.raw)
        return link.raw if made is None else made

    body = found[0] if found else None
    if body is not None and len(markdown) <= len(body) and body.endswith(markdown) and not body[: len(body) - len(markdown)].strip("\n"):
        markdown = replace_found(markdown, found[1], replace, body.count("\n", 0, len(body) - len(markdown)))
    else:  # a plugin changed the text (callouts), or embeds were expanded: find the links again
        markdown = rewrite_wikilinks(markdown, replace)
    markdown = inline_footnotes(markdown)
    base = links.tag_base
    edits = page_edits(markdown, tag_href=lambda tag: None if base is None else f"{base}#{tag_anchor(tag)}")
    return apply_edits(markdown, edits) if edits else markdown


# --- generated pages -------------------------------------------------------------------------------

def notes_index(kb: KnowledgeBase) -> str:
    """The archive page: every note, newest first, under a heading per year and per month.

    Left out of the search index: every excerpt on it is already indexed with its own note.
    """
    out = ["---", "search:", "  exclude: true", "---", "", "# Notes", ""]
    if not kb.months:
        return "\n".join(out + ["No notes yet.", ""])
    out += [f"{_plural(sum(len(uris) for uris in kb.months.values()), 'note')}, newest first.", ""]
    year = None
    for month in kb.months:  # newest first, as "YYYY-MM" ("0001-01" for notes without a date)
        date = datetime.date(int(month[:4]), int(month[5:]), 1)
        if date.year != year:
            year = date.year
            out += [f"## {year}", ""]
        out += [f"### {date:%B} {year}", "", marker("month", month), ""]
    return "\n".join(out)


def concepts_index(kb: KnowledgeBase) -> str:
    """Every concept with the number of notes that link to it and what it is about (its ``description``,
    else its first sentence): one short entry each."""
    out = ["# Concepts", ""]
    if not kb.concepts:
        return "\n".join(out + ["No concepts yet.", ""])
    out += ['<div class="kb-concept-list" markdown>', ""]
    for concept in kb.concepts:
        count = kb.note_count(concept.src_uri)
        href = kb.href(concept.src_uri, CONCEPTS_INDEX)
        about = concept.description or first_sentence(excerpt(concept.body, ABOUT_LENGTH))
        line = f'- <a href="{esc(href)}">{esc(concept.title)}</a> <span class="kb-count">{_plural(count, "note")}</span>'
        if about:
            line += f'<br><span class="kb-concept-about">{excerpt_html(about)}</span>'
        out.append(line)
    return "\n".join(out + ["", "</div>", ""])


ABOUT_LENGTH = 220  # characters of a concept's first paragraph read for its line in the index


def first_sentence(text: str) -> str:
    """The first sentence of a paragraph (up to a '.', '?' or '!' followed by a space), or the text."""
    m = re.search(r"[.?!](?=\s)", text)
    return text[: m.end()] if m else text


def concept_map_page() -> str:
    return "\n".join([
        "---",
        "hide: [toc]  # the map has no sections; it gets the width instead",
        "---",
        "",
        "# Concept map",
        "",
        "Every concept, the newest notes and the pages linked to most, joined where one links to the other.",
        "Round nodes are concepts, square ones are notes and other pages; select a node to open its page.",
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


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # characters XML 1.0 forbids


def _xml_text(text: str) -> str:
    """``text`` escaped for XML, without the characters XML 1.0 forbids (control characters such as
    ``\\a`` and ``\\e``, U+FFFE, U+FFFF): one of them in a title would make the whole feed unreadable."""
    return xml_escape(_NOT_XML.sub("", text))


def feed_xml(kb: KnowledgeBase, *, title: str, site_url: str, description: str, items: int,
             numbers: Callable[[str], Mapping[str, str]] = lambda uri: {}) -> str:
    """RSS 2.0 of the newest ``items`` notes; dates come from the notes, so the same notes give the same bytes."""
    base = site_url if site_url.endswith("/") else site_url + "/"
    notes = [kb.pages[uri] for uri in kb.newest(max(items, 0))]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"<title>{_xml_text(title)}</title>",
        f"<link>{_xml_text(base)}</link>",
        f"<description>{_xml_text(description or title)}</description>",
        f'<atom:link href="{_xml_text(urljoin(base, "feed.xml"))}" rel="self" type="application/rss+xml"/>',
    ]
    if notes:
        out.append(f"<lastBuildDate>{_rfc822(notes[0].date)}</lastBuildDate>")
    for note in notes:
        link = _xml_text(urljoin(base, kb.urls[note.src_uri]))
        text = with_numbers(note.description or kb.excerpts.get(note.src_uri, ""), numbers(note.src_uri))
        out += [
            "<item>",
            f"<title>{_xml_text(esc(note.title))}</title>",  # readers treat titles as HTML
            f"<link>{link}</link>",
            f'<guid isPermaLink="true">{link}</guid>',
            f"<pubDate>{_rfc822(note.date)}</pubDate>",
            f"<description>{_xml_text(esc(text))}</description>",
            *(f"<category>{_xml_text(tag)}</category>" for tag in note.tags),
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


