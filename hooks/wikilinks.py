"""Obsidian wikilinks: find them outside code, resolve them to pages, headings and images, write Markdown links."""
from __future__ import annotations

import difflib
import functools
import html
import posixpath
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Literal, Mapping
from urllib.parse import quote

from markdown.extensions.toc import slugify as toc_slugify
from markdown.extensions.toc import unique

Slugify = Callable[[str, str], str]
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".bmp"})

WIKILINK_RE = re.compile(r"(?P<embed>!?)\[\[(?P<inner>(?:(?!\[\[|\]\])[^\n])+?)\]\]")
FENCE_RE = re.compile(r"^(?P<prefix>(?:[ \t]*>)*[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
BACKTICKS_RE = re.compile(r"`+")
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

    @property
    def display_text(self) -> str:
        """What Obsidian shows for the link when it has no label: the target as written."""
        if self.label:
            return self.label
        if self.target and self.heading:
            return f"{self.target} › {self.heading}"
        return self.target or self.heading


def parse_wikilink(inner: str, embed: bool = False, line: int = 0) -> WikiLink:
    """Split the text between ``[[`` and ``]]``; ``\\|`` (the escaped pipe used in tables) splits too."""
    parts = LABEL_SPLIT_RE.split(inner, maxsplit=1)
    label = parts[1].strip() if len(parts) > 1 else None
    page, _, heading = parts[0].partition("#")
    if heading:
        heading = heading.split("#")[-1]  # [[page#section#subsection]] links to the subsection
    raw = f"{'!' if embed else ''}[[{inner}]]"
    return WikiLink(raw=raw, target=page.strip(), heading=heading.strip(), label=label, embed=embed, line=line)


# --- finding wikilinks outside code ----------------------------------------------------------------

def _code_spans(line: str) -> list[tuple[int, int]]:
    """Inline code spans of one line: a run of N backticks up to the next run of exactly N."""
    runs = [(m.start(), m.end()) for m in BACKTICKS_RE.finditer(line)]
    spans = []
    i = 0
    while i < len(runs):
        start, end = runs[i]
        if start > 0 and line[start - 1] == "\\":
            i += 1
            continue
        closing = next((j for j in range(i + 1, len(runs)) if runs[j][1] - runs[j][0] == end - start), None)
        if closing is None:
            i += 1
            continue
        spans.append((start, runs[closing][1]))
        i = closing + 1
    return spans


def lines_outside_fences(lines: list[str]) -> Iterator[int]:
    """Indices of the lines that are not inside (or the fence of) a fenced code block."""
    fence: tuple[str, int] | None = None
    for index, line in enumerate(lines):
        m = FENCE_RE.match(line.rstrip("\r\n"))
        if fence:
            if m and m.group("fence")[0] == fence[0] and len(m.group("fence")) >= fence[1] and not m.group("info").strip():
                fence = None
            continue
        if m and not (m.group("fence")[0] == "`" and "`" in m.group("info")):
            fence = (m.group("fence")[0], len(m.group("fence")))
            continue
        yield index


def _matches(line: str) -> Iterator[re.Match[str]]:
    if "[[" not in line:
        return
    spans = _code_spans(line) if "`" in line else []
    for m in WIKILINK_RE.finditer(line):
        if not any(start <= m.start() < end for start, end in spans):
            yield m


def find_wikilinks(text: str) -> list[WikiLink]:
    """Every wikilink of ``text`` outside fenced code blocks and inline code spans, in order."""
    lines = text.splitlines()
    return [
        parse_wikilink(m.group("inner"), bool(m.group("embed")), index)
        for index in lines_outside_fences(lines)
        for m in _matches(lines[index])
    ]


def rewrite_wikilinks(text: str, replace: Callable[[WikiLink], str]) -> str:
    """``text`` with each wikilink outside code replaced by ``replace(link)``; lines keep their numbers."""
    if "[[" not in text:
        return text
    lines = text.splitlines(keepends=True)
    for index in lines_outside_fences(lines):
        line = lines[index]
        pieces, last = [], 0
        for m in _matches(line):
            link = parse_wikilink(m.group("inner"), bool(m.group("embed")), index)
            pieces += [line[last : m.start()], replace(link)]
            last = m.end()
        if pieces:
            lines[index] = "".join(pieces) + line[last:]
    return "".join(lines)


# --- plain text of inline Markdown -----------------------------------------------------------------

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)(\{[^}]*\})?")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)(\{[^}]*\})?")
_CODE = re.compile(r"(`+)(.+?)\1")
_EMPHASIS = re.compile(r"(?<![\w\\])(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1(?!\w)")
_TAG = re.compile(r"<[^>]+>")
_BACKSLASH = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|])")


def _plain_prose(text: str) -> str:
    text = WIKILINK_RE.sub(lambda m: "" if m.group("embed") else parse_wikilink(m.group("inner")).display_text, text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    for _ in range(2):  # ***both*** and nested emphasis
        text = _EMPHASIS.sub(r"\2", text)
    text = _TAG.sub("", text)
    return html.unescape(_BACKSLASH.sub(r"\1", text))


def plain_text(markdown: str) -> str:
    """Inline Markdown reduced to plain text: links and wikilinks to their text, no emphasis, code marks or HTML."""
    pieces, last = [], 0
    for m in _CODE.finditer(markdown):  # code spans are kept as written, everything else is unmarked
        pieces += [_plain_prose(markdown[last : m.start()]), m.group(2).strip()]
        last = m.end()
    pieces.append(_plain_prose(markdown[last:]))
    return " ".join("".join(pieces).split())


# --- names and headings ----------------------------------------------------------------------------

def name_key(name: str) -> str:
    """How page names are compared: case-insensitive, '-', '_' and spaces alike, no '.md', no leading '/'."""
    name = name.strip().lstrip("/")
    if name.lower().endswith(".md"):
        name = name[:-3]
    return " ".join(re.sub(r"[-_\s]+", " ", name.casefold()).split())


def heading_key(text: str) -> str:
    """How Obsidian compares headings: case and punctuation ignored ('-' and '_' count as spaces)."""
    text = re.sub(r"[-_]+", " ", text.casefold())
    return " ".join("".join(ch for ch in text if ch.isalnum() or ch.isspace()).split())


HEADING_RE = re.compile(r"^(?P<level>#{1,6})(?P<text>.*?)#*[ \t]*$")
ATTR_LIST_RE = re.compile(r"[ \t]*\{:?[ \t]*(?P<attrs>[^}\n]*?)[ \t]*\}[ \t]*$")


@dataclass
class Headings:
    """The headings of one page: Obsidian's heading key -> the anchor MkDocs' toc extension gives it."""

    anchors: dict[str, str] = field(default_factory=dict)  # first heading with each key wins, as in Obsidian
    titles: dict[str, str] = field(default_factory=dict)  # key -> heading text, for messages


def extract_headings(body: str, slugify: Slugify = toc_slugify, separator: str = "-") -> Headings:
    """The ATX headings of ``body`` outside code, with the ids toc gives them (``_1``, ``_2`` for repeats)."""
    lines = body.splitlines()
    found: list[tuple[str, str | None]] = []  # (text, explicit id)
    for index in lines_outside_fences(lines):
        m = HEADING_RE.match(lines[index])
        if not m:
            continue
        text, explicit = m.group("text").strip(), None
        attrs = ATTR_LIST_RE.search(text)
        if attrs:
            text = text[: attrs.start()].rstrip().rstrip("#").rstrip()
            ids = [a[1:] for a in attrs.group("attrs").split() if a.startswith("#")]
            explicit = ids[-1] if ids else None
        if text:
            found.append((plain_text(text), explicit))
    used = {explicit for _, explicit in found if explicit}
    counters: dict[str, int] = {}
    result = Headings()
    for text, explicit in found:
        anchor = explicit or unique(slugify(text, separator), used, counters)
        key = heading_key(text)
        result.anchors.setdefault(key, anchor)
        result.titles.setdefault(key, text)
    return result


# --- Markdown output -------------------------------------------------------------------------------

_MD_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]])")


def escape_markdown(text: str, *, entities: bool = True) -> str:
    """``text`` as literal inline Markdown: no emphasis, links or code, and (with ``entities``) no HTML.

    Use ``entities=False`` for text that ends up in an attribute (an image's alt text), which Markdown
    escapes itself.
    """
    text = _MD_SPECIAL_RE.sub(r"\\\1", text)
    return html.escape(text, quote=True) if entities else text


def relative_path(from_uri: str, to_uri: str) -> str:
    """Relative, URL-quoted path from one docs file to another, as MkDocs expects in a Markdown link."""
    return _relative_from_dir(posixpath.dirname(from_uri) or ".", to_uri)


@functools.lru_cache(maxsize=65536)
def _relative_from_dir(from_dir: str, to_uri: str) -> str:
    # Every note in a folder links the same concepts: the same few thousand pairs, computed once each.
    return quote(posixpath.relpath(to_uri, from_dir), safe="/._-~")


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
    """Image files under docs/, found by file name (or by the end of their path) as Obsidian does."""

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
        drafts: NameIndex | None = None,
    ) -> None:
        self.names = names
        self.headings = headings  # src_uri -> its headings (the caller caches them)
        self.titles = titles  # src_uri -> page title
        self.display = display  # src_uri -> path shown in messages
        self.assets = assets or AssetIndex()
        self.drafts = drafts or NameIndex()

    def resolve(self, link: WikiLink, from_uri: str, suggest: bool = False) -> Resolution:
        if link.embed and is_image(link.target):
            return self._resolve_image(link)
        if not link.target:
            return self._resolve_heading(link, from_uri, from_uri)
        candidates = self.names.lookup(link.target)
        if len(candidates) > 1:
            listed = ", ".join(sorted(self.display.get(c, c) for c in candidates))
            return Resolution(link, severity="error", message=f"ambiguous wikilink {link.raw}: it matches {listed}; link to one of them by its file name")
        if not candidates:
            if self.drafts.lookup(link.target):
                reason = "the page it names is a draft (draft: true), which is not published"
            else:
                close = self.names.suggest(link.target) if suggest else None
                reason = f"no page has that title, alias or file name{f'; did you mean [[{close}]]?' if close else ''}"
            return Resolution(link, severity="warning", message=f"unresolved wikilink {link.raw}: {reason}")
        resolution = self._resolve_heading(link, from_uri, candidates[0])
        if link.embed and not resolution.severity:
            return Resolution(link, resolution.target, resolution.anchor, "warning", f"embedding a page ({link.raw}) is not supported; it is shown as a link")
        return resolution

    def _resolve_heading(self, link: WikiLink, from_uri: str, target: str) -> Resolution:
        if not link.heading:
            return Resolution(link, target)
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
