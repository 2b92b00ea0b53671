"""Obsidian wikilinks: find them outside code, resolve them to pages, headings and images, write Markdown links."""
from __future__ import annotations

import difflib
import functools
import posixpath
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal, Mapping

from markdown.extensions.toc import slugify as toc_slugify
from markdown.extensions.toc import unique

from hooks.kb.obsidian import media_embed
from hooks.markdown import WIKILINK_RE, Scan, escape_markdown, plain_text, rewrite, scan
from hooks.urls import relative_path

Slugify = Callable[[str, str], str]
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".bmp"})

LABEL_SPLIT_RE = re.compile(r"\\?\|")
SIZE_RE = re.compile(r"^(?P<width>\d+)(?:x(?P<height>\d+))?$")


@dataclass(frozen=True)
class WikiLink:
    """One ``[[target#heading|label]]`` (or ``![[...]]`` embed) and where it is."""

    raw: str  # as written, brackets included
    target: str  # page or file name; "" for a heading of the same page
    heading: str = ""  # last '#' part, "" when none
    label: str | None = None  # text after '|', None when none
    embed: bool = False
    line: int = 0  # 0-based line index in the text that was scanned
    column: int = 0  # where it starts in its line

    @property
    def display_text(self) -> str:
        """What Obsidian shows for the link when it has no label: the target as written."""
        if self.label:
            return self.label
        if self.target and self.heading:
            return f"{self.target} › {self.heading}"
        return self.target or self.heading


def parse_wikilink(inner: str, embed: bool = False, line: int = 0, column: int = 0) -> WikiLink:
    """Split the text between ``[[`` and ``]]``; ``\\|`` (the escaped pipe used in tables) splits too."""
    parts = LABEL_SPLIT_RE.split(inner, maxsplit=1)
    label = parts[1].strip() if len(parts) > 1 else None
    page, _, heading = parts[0].partition("#")
    if heading:
        heading = heading.split("#")[-1]  # [[page#section#subsection]] links to the subsection
    raw = f"{'!' if embed else ''}[[{inner}]]"
    return WikiLink(raw=raw, target=page.strip(), heading=heading.strip(), label=label, embed=embed, line=line, column=column)


# --- finding wikilinks outside code ----------------------------------------------------------------

def find_wikilinks(text: str, result: Scan | None = None) -> list[WikiLink]:
    """Every wikilink of ``text`` outside code and math (as the scanner of hooks.markdown sees it), in order.
    ``result``: the scan of ``text`` already made (the text is scanned here only without one)."""
    if "[[" not in text:
        return []
    result = result or scan(text)
    return [parse_wikilink(m.group("inner"), bool(m.group("embed")), index, m.start()) for index, m in result.finditer(WIKILINK_RE)]


def rewrite_wikilinks(text: str, replace: Callable[[WikiLink], str]) -> str:
    """``text`` with each wikilink outside code replaced by ``replace(link)``; lines keep their numbers."""
    if "[[" not in text:
        return text
    return rewrite(text, WIKILINK_RE, lambda index, m: replace(parse_wikilink(m.group("inner"), bool(m.group("embed")), index, m.start())))


def replace_found(text: str, links: list[WikiLink], replace: Callable[[WikiLink], str], first_line: int = 0) -> str:
    """``text`` with the already found ``links`` replaced (they were found in the same text, whose
    line ``first_line`` is ``text``'s first line); the same result as rewrite_wikilinks, without a scan."""
    if not links:
        return text
    lines = text.split("\n")
    by_line: dict[int, list[WikiLink]] = {}
    for link in links:
        by_line.setdefault(link.line - first_line, []).append(link)
    for index, found in by_line.items():
        line, pieces, last = lines[index], [], 0
        for link in found:
            pieces += [line[last : link.column], replace(link)]
            last = link.column + len(link.raw)
        lines[index] = "".join(pieces) + line[last:]
    return "\n".join(lines)


# --- names and headings ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """How page names are compared: case-insensitive, '-', '_' and spaces alike, no '.md', no leading '/'."""
    name = name.strip().lstrip("/")
    if name.lower().endswith(".md"):
        name = name[:-3]
    return " ".join(re.sub(r"[-_\s]+", " ", name.casefold()).split())


@functools.lru_cache(maxsize=65536)
def heading_key(text: str) -> str:
    """How Obsidian compares headings: case and punctuation ignored ('-' and '_' count as spaces).
    (Kept for the process: every link to a heading asks again on every build.)"""
    text = re.sub(r"[-_]+", " ", text.casefold())
    return " ".join("".join(ch for ch in text if ch.isalnum() or ch.isspace()).split())


@dataclass
class Headings:
    """The headings of one page: Obsidian's heading key -> the anchor MkDocs' toc extension gives it."""

    anchors: dict[str, str] = field(default_factory=dict)  # first heading with each key wins, as in Obsidian
    titles: dict[str, str] = field(default_factory=dict)  # key -> heading text, for messages
    lines: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # anchor -> (line, level, text) of its heading


def extract_headings(body: str, slugify: Slugify = toc_slugify, separator: str = "-", result: Scan | None = None) -> Headings:
    """The ATX and setext headings of ``body`` outside code, with the ids toc gives them (``_1``, ``_2`` for repeats).
    ``result``: the scan of ``body`` already made."""
    found = [(plain_text(h.text), h.explicit_id, h) for h in (result or scan(body)).headings if h.text]
    used = {explicit for _, explicit, _ in found if explicit}
    counters: dict[str, int] = {}
    result = Headings()
    for text, explicit, heading in found:
        anchor = explicit or unique(slugify(text, separator), used, counters)
        key = heading_key(text)
        result.anchors.setdefault(key, anchor)
        result.titles.setdefault(key, text)
        result.lines.setdefault(anchor, (heading.line, heading.level, text))
    return result


# --- Markdown output -------------------------------------------------------------------------------

def markdown_link(text: str, from_uri: str, to_uri: str, anchor: str = "") -> str:
    """``[text](relative/path.md#anchor)`` with ``text`` escaped."""
    path = relative_path(from_uri, to_uri) if to_uri != from_uri or not anchor else ""
    return f"[{escape_markdown(text)}]({path}{'#' + anchor if anchor else ''})"


# --- resolution ------------------------------------------------------------------------------------

class NameIndex:
    """Page names -> src_uris, in two tiers: titles and aliases first, then file names.

    A wikilink whose key matches one page's title or alias goes there even if another page's file name
    has the same key; only several matches within the first tier that matches make a link ambiguous.
    """

    def __init__(self) -> None:
        self.titles: dict[str, list[str]] = {}
        self.files: dict[str, list[str]] = {}

    @staticmethod
    def _add(table: dict[str, list[str]], key: str, src_uri: str) -> None:
        uris = table.setdefault(key, [])
        if src_uri not in uris:
            uris.append(src_uri)

    def add_name(self, name: str, src_uri: str) -> None:
        if name_key(name):
            self._add(self.titles, name_key(name), src_uri)

    def add_file(self, src_uri: str, slug: str | None = None) -> None:
        """Index a page by its path, its file name and (for dated notes) its slug."""
        stem = src_uri.rsplit("/", 1)[-1]
        for name in {src_uri, stem, slug or stem}:
            self._add(self.files, name_key(name), src_uri)

    def lookup(self, target: str) -> list[str]:
        key = name_key(target)
        return self.titles.get(key) or self.files.get(key) or []

    def suggest(self, target: str) -> str | None:
        close = difflib.get_close_matches(name_key(target), self.titles, n=1, cutoff=0.85)
        return close[0] if close else None


class AssetIndex:
    """Attachments (images, PDFs, any file but a page) under docs/, found by file name (or by the end of
    their path) as Obsidian does."""

    def __init__(self, src_uris: Iterable[str] = ()) -> None:
        self.by_name: dict[str, list[str]] = {}
        for uri in sorted(src_uris):
            self.by_name.setdefault(uri.rsplit("/", 1)[-1].casefold(), []).append(uri)

    def lookup(self, target: str) -> list[str]:
        wanted = target.strip().lstrip("/").casefold()
        found = self.by_name.get(wanted.rsplit("/", 1)[-1], [])
        if "/" in wanted:
            found = [uri for uri in found if uri.casefold() == wanted or uri.casefold().endswith("/" + wanted)]
        return found


def is_image(target: str) -> bool:
    return posixpath.splitext(target.casefold())[1] in IMAGE_SUFFIXES


def is_attachment(target: str) -> bool:
    """Whether a wikilink's target names a file that is not a page (``slides.pdf``, ``data.csv``)."""
    suffix = posixpath.splitext(target.casefold())[1]
    return bool(suffix) and suffix != ".md" and suffix[1:].isalnum()


@dataclass(frozen=True)
class Resolution:
    """Where one wikilink goes, or why it goes nowhere."""

    link: WikiLink
    target: str | None = None  # src_uri of a page or an image; None when unresolved
    anchor: str = ""
    severity: Literal["error", "warning"] | None = None
    message: str = ""

    @property
    def is_image(self) -> bool:
        return self.link.embed and self.target is not None and is_image(self.target)


class Linker:
    """Resolves wikilinks with dictionary lookups only, so that it costs the same for every page."""

    def __init__(
        self,
        names: NameIndex,
        headings: Callable[[str], Headings],
        titles: Mapping[str, str],
        display: Mapping[str, str],
        assets: AssetIndex | None = None,
        hidden: NameIndex | None = None,
        hidden_reasons: Mapping[str, str] | None = None,
        blocks: Callable[[str], Mapping[str, object]] | None = None,
    ) -> None:
        self.names = names
        self.headings = headings  # src_uri -> its headings (the caller caches them)
        self.titles = titles  # src_uri -> page title
        self.display = display  # src_uri -> path shown in messages
        self.assets = assets or AssetIndex()
        self.hidden = hidden or NameIndex()  # pages that exist but are not published (drafts, excluded)
        self.hidden_reasons = hidden_reasons or {}  # src_uri -> why it is not published
        self.blocks = blocks or (lambda uri: {})  # src_uri -> its block ids (^id), for [[page#^id]]
        self._memo: dict[tuple[WikiLink, str, bool], Resolution] = {}  # the same link is resolved by check, render and fingerprints

    def resolve(self, link: WikiLink, from_uri: str, suggest: bool = False) -> Resolution:
        key = (link, from_uri, suggest)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._resolve(link, from_uri, suggest)
        return found

    def _resolve(self, link: WikiLink, from_uri: str, suggest: bool) -> Resolution:
        if link.embed and is_image(link.target):
            return self._resolve_image(link)
        media = media_embed(link.target) if link.embed else None
        if media:
            return Resolution(link, severity="warning", message=f"embedding {media} ({link.raw}) is not supported; link to it with [[...]] or put it in docs/ and link it with [text](path)")
        if not link.target:
            return self._resolve_heading(link, from_uri, from_uri)
        candidates = self.names.lookup(link.target)
        if len(candidates) > 1:
            listed = ", ".join(sorted(self.display.get(c, c) for c in candidates))
            return Resolution(link, severity="error", message=f"ambiguous wikilink {link.raw}: it matches {listed}; link to one of them by its file name")
        if not candidates and is_attachment(link.target):  # [[slides.pdf]]: a link to the file
            attachments = self.assets.lookup(link.target)
            if len(attachments) == 1:
                return Resolution(link, attachments[0])
            if attachments:
                return Resolution(link, severity="error", message=f"ambiguous wikilink {link.raw}: it matches {', '.join('docs/' + c for c in attachments)}; write more of its path")
        if not candidates:
            hidden = self.hidden.lookup(link.target)
            if hidden:
                reason = f"the page it names ({self.display.get(hidden[0], hidden[0])}) {self.hidden_reasons.get(hidden[0], 'is not published')}"
            else:
                close = self.names.suggest(link.target) if suggest else None
                reason = f"no page has that title, alias or file name{f'; did you mean [[{close}]]?' if close else ''}"
            return Resolution(link, severity="warning", message=f"unresolved wikilink {link.raw}: {reason}")
        return self._resolve_heading(link, from_uri, candidates[0])

    def _resolve_heading(self, link: WikiLink, from_uri: str, target: str) -> Resolution:
        if not link.heading:
            return Resolution(link, target)
        if link.heading.startswith("^"):  # a block: [[page#^id]]
            if link.heading[1:] in self.blocks(target):
                return Resolution(link, target, link.heading)
            page = self.titles.get(target, target)
            where = "this page" if target == from_uri else f"'{page}'"
            return Resolution(link, target, "", "warning", f"wikilink {link.raw}: {where} has no block '{link.heading}' (a paragraph or list item ending in ' {link.heading}')")
        anchor = self.headings(target).anchors.get(heading_key(link.heading))
        if anchor is None:
            page = self.titles.get(target, target)
            where = "this page" if target == from_uri else f"'{page}'"
            return Resolution(link, target, "", "warning", f"wikilink {link.raw}: {where} has no heading '{link.heading}'")
        return Resolution(link, target, anchor)

    def _resolve_image(self, link: WikiLink) -> Resolution:
        candidates = self.assets.lookup(link.target)
        if len(candidates) > 1:
            return Resolution(link, severity="error", message=f"ambiguous image {link.raw}: it matches {', '.join('docs/' + c for c in candidates)}; write more of its path")
        if not candidates:
            return Resolution(link, severity="warning", message=f"image {link.raw} not found: no file of that name under docs/")
        return Resolution(link, candidates[0])


def render_resolution(resolution: Resolution, from_uri: str) -> str:
    """The Markdown that replaces a wikilink: a relative link, an image, or a marked unresolved text."""
    link = resolution.link
    if resolution.target is None:
        return f'<span class="kb-unresolved" title="unresolved link">{escape_markdown(link.display_text)}</span>'
    if resolution.is_image:
        path = relative_path(from_uri, resolution.target)
        alt, attrs = link.target.rsplit("/", 1)[-1], ""
        size = SIZE_RE.match(link.label or "")
        if size:
            attrs = f'{{ width="{size.group("width")}"' + (f' height="{size.group("height")}"' if size.group("height") else "") + " }"
        elif link.label:
            alt = link.label
        return f"![{escape_markdown(alt, entities=False)}]({path}){attrs}"
    return markdown_link(link.display_text, from_uri, resolution.target, resolution.anchor)
