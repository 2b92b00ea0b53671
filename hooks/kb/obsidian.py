"""Obsidian's syntax beyond wikilinks, found with the scanner of hooks.markdown: inline tags, block ids,
what a page must be told before Python-Markdown reads it, and the syntax this site does not render.

Python-Markdown and Obsidian disagree on a few things; :func:`page_edits` settles each on Obsidian's side:

* ``#word`` in prose is a tag (it becomes a link to the tags page); at a line's start Python-Markdown
  would make it an ``<h1>``, so any ``#`` that starts a line the scanner does not call a heading is escaped;
* a ``$`` the scanner does not count as math is escaped, so pymdownx.arithmatex only ever sees the
  math the scanner found (``costs $5-$10`` stays prose);
* display math right under a line of text gets the blank line Python-Markdown needs to see a block
  (in a list item, where a blank line would end the item, and mid-sentence hooks.kb.display_math shows it);
* ``text ^block-id`` loses its marker, and the paragraph or list item gets the anchor ``#^block-id``.

Everything here is a list of :class:`~hooks.markdown.Edit` on lines the scanner classified, so it never
touches code, math or front matter, and line numbers hold for messages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from hooks.markdown import (
    DIRECTIVE_RE,
    DISPLAY_MATH_CLOSE,
    DISPLAY_MATH_OPEN,
    ATX_RE,
    Edit,
    INLINE_FOOTNOTE_RE,
    WIKILINK_RE,
    Scan,
    closing_bracket,
    code_spans,
    escape_html,
    escape_markdown,
    line_prefix,
    math_spans,
    scan,
)

# Obsidian's tag: '#' after a space (or at a line's start), then letters, digits, '_', '-' and '/'
# (nested tags); at least one character that is not a digit (#1984 is not a tag).
TAG_RE = re.compile(r"(?<!\S)#(?P<tag>\w[\w/-]*)")
BLOCK_ID_RE = re.compile(r"(?:^|[ \t])\^(?P<id>[A-Za-z0-9-]+)[ \t]*$")
BLOCK_ID_LINE_RE = re.compile(r"^\^(?P<id>[A-Za-z0-9-]+)$")
INLINE_HTML_RE = re.compile(r"<[A-Za-z/!][^>\n]*>")
LINK_DESTINATION_RE = re.compile(r"\]\([^)\n]*\)")
ATTR_LIST_SPAN_RE = re.compile(r"\{:?[ \t]*[#.][^}\n]*\}")  # Python-Markdown's { #id .class } (not Obsidian's)
LIST_MARKER_RE = re.compile(r"^(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?")
PLUGIN_FENCE_RE = re.compile(r"^(?:[ \t]*>)*[ \t]*(?:`{3,}|~{3,})[ \t]*\{?[ \t]*(?P<lang>query|dataview|dataviewjs|tasks)\b", re.I)
MEDIA_SUFFIXES = {
    ".pdf": "a PDF", ".mp3": "an audio file", ".wav": "an audio file", ".m4a": "an audio file", ".ogg": "an audio file",
    ".flac": "an audio file", ".webm": "a video", ".mp4": "a video", ".mkv": "a video", ".mov": "a video",
    ".ogv": "a video", ".canvas": "an Obsidian canvas", ".base": "an Obsidian base",
}
BLOCK_ANCHOR_CLASS = "kb-block"


def _inside(position: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def _prose_spans(line: str) -> list[tuple[int, int]]:
    """Spans of a text line that are not prose: code, math, inline HTML tags, link destinations, wikilinks,
    attribute lists."""
    code = code_spans(line)
    spans = code + math_spans(line, code)
    if "<" in line:
        spans += [m.span() for m in INLINE_HTML_RE.finditer(line)]
    if "](" in line:
        spans += [m.span() for m in LINK_DESTINATION_RE.finditer(line)]
    if "[[" in line:
        spans += [m.span() for m in WIKILINK_RE.finditer(line)]
    if "{" in line:
        spans += [m.span() for m in ATTR_LIST_SPAN_RE.finditer(line)]
    return spans


# --- inline tags -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class InlineTag:
    name: str  # as written, without '#': "ml/optimisation"
    line: int  # 0-based line index
    column: int  # of the '#'
    end: int


def _valid_tag(name: str) -> bool:
    return any(not ch.isdigit() for ch in name)


def find_tags(text: str, result: Scan | None = None) -> list[InlineTag]:
    """Inline ``#tags`` of ``text`` by Obsidian's rules: on prose lines, outside code, math, HTML, URLs and
    link targets, after a space or at a line's start, not only digits; nested tags kept whole."""
    if "#" not in text:
        return []
    result = result or scan(text)
    found = []
    for index in result.text_lines():
        line = result.lines[index]
        if "#" not in line or DIRECTIVE_RE.match(line):
            continue
        spans = None
        for m in TAG_RE.finditer(line):
            name = m.group("tag").rstrip("/")
            if not _valid_tag(name):
                continue
            if spans is None:
                spans = _prose_spans(line)
            if _inside(m.start(), spans):
                continue
            found.append(InlineTag(name, index, m.start(), m.start() + 1 + len(name)))
    return found


# --- block ids -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BlockId:
    """A ``^block-id``: where its marker is and which lines make the block it names."""

    id: str
    line: int  # the marker's line (0-based)
    column: int  # where the marker starts, with the space before it ('' for a marker alone on its line)
    end: int
    start: int  # first line of the block
    last: int  # last line of the block (children of a list item included)
    standalone: bool = False  # the marker is alone on its line and names the block above it

    @property
    def anchor(self) -> str:
        return "^" + self.id


def _content(line: str) -> str:
    """A line without its quote markers and indentation."""
    return line[len(line_prefix(line)):]


def _is_item(line: str) -> bool:
    return bool(LIST_MARKER_RE.match(_content(line)))


def find_block_ids(text: str, result: Scan | None = None) -> dict[str, BlockId]:
    """Every ``^id`` of ``text`` by its id, first one first (as Obsidian does).

    ``text ^id`` at the end of a paragraph or list item names that block; ``^id`` alone on its line
    names the block above it (a table, a quote, a list, a code block).
    """
    if "^" not in text:
        return {}
    result = result or scan(text)
    lines, kinds = result.lines, result.kinds
    headings = None
    found: dict[str, BlockId] = {}
    for index in result.text_lines():
        line = lines[index]
        if "^" not in line:
            continue
        content = _content(line).rstrip()
        alone = BLOCK_ID_LINE_RE.match(content)
        m = None if alone else BLOCK_ID_RE.search(line)
        if not alone and (m is None or _inside(m.start("id") - 1, _prose_spans(line))):
            continue
        if headings is None:
            headings = result.heading_lines()
        if index in headings or DIRECTIVE_RE.match(line):
            continue
        if alone:
            last = index - 1
            while last >= 0 and kinds[last] == "blank":
                last -= 1
            if last < 0:
                continue
            start = last
            while start > 0 and kinds[start - 1] != "blank" and (start - 1) not in headings:
                start -= 1
            block = BlockId(alone.group("id"), index, 0, len(line), start, last, standalone=True)
        else:
            start = index
            while not _is_item(lines[start]) and start > 0 and kinds[start - 1] == "text" and (start - 1) not in headings:
                start -= 1
            last = index
            if _is_item(lines[start]):  # a list item's children belong to it
                depth = len(line_prefix(lines[start]))
                while last + 1 < len(lines) and kinds[last + 1] != "blank" and len(line_prefix(lines[last + 1])) > depth:
                    last += 1
            block = BlockId(m.group("id"), index, m.start(), len(line), start, last)
        found.setdefault(block.id, block)
    return found


def block_text(text: str, block: BlockId) -> str:
    """The lines of one block, its marker removed."""
    lines = text.split("\n")[block.start : block.last + 1]
    if not block.standalone:
        marker = block.line - block.start
        lines[marker] = lines[marker][: block.column] + lines[marker][block.end :]
    return "\n".join(lines)


def _anchor_insertion(lines: list[str], block: BlockId) -> Edit:
    first = lines[block.start]
    heading = ATX_RE.match(first[len(line_prefix(first)):])
    # A standalone id names the block above: an empty element before that block, in the container of the
    # id's own line (a quote's id may stand outside it); a heading takes its anchor in its text instead.
    if block.standalone and not (heading and heading.group("text")):
        prefix = line_prefix(lines[block.line])
        return Edit(block.start, 0, 0, f'{prefix}<div class="{BLOCK_ANCHOR_CLASS}" id="{escape_html(block.anchor)}"></div>\n\n')
    column = len(line_prefix(first))
    marker = LIST_MARKER_RE.match(first[column:])
    if marker:
        column += marker.end()
    heading = ATX_RE.match(first[column:])
    if heading and heading.group("text"):  # in the heading's text, which a span before its '#' would end
        column += heading.start("text")
    return Edit(block.start, column, column, f'<span class="{BLOCK_ANCHOR_CLASS}" id="{escape_html(block.anchor)}"></span>')


def block_id_edits(text: str, blocks: Iterable[BlockId], *, anchors: bool = True) -> list[Edit]:
    """Edits that remove every block-id marker and (with ``anchors``) give its block the anchor ``^id``."""
    lines = text.split("\n")
    edits = []
    for block in blocks:
        edits.append(Edit(block.line, block.column, block.end, ""))
        if anchors:
            edits.append(_anchor_insertion(lines, block))
    return edits


# --- what Python-Markdown must be told -------------------------------------------------------------

def hash_escapes(result: Scan, tags: Iterable[InlineTag]) -> list[Edit]:
    """A backslash before a '#' that starts a prose line (after quote markers and list markers) which
    is not a heading by CommonMark's rule (``#123``, ``#!``) and not a tag: Python-Markdown would make
    it a heading. A setext heading's text is escaped too ('#1 --- ' is a heading with the text '#1')."""
    tagged = {(t.line, t.column) for t in tags}
    edits = []
    for index in result.text_lines():
        line = result.lines[index]
        column = len(line_prefix(line))
        marker = LIST_MARKER_RE.match(line[column:])
        if marker:
            column += marker.end()
        if line.startswith("#", column) and (index, column) not in tagged and not ATX_RE.match(line[column:]):
            edits.append(Edit(index, column, column, "\\"))
    return edits


def dollar_escapes(result: Scan) -> list[Edit]:
    """A backslash before every '$' of a prose line that the scanner does not count as math (and that is
    not in code, HTML or a link target), so that pymdownx.arithmatex sees only the scanner's math."""
    edits = []
    for index in result.text_lines():
        line = result.lines[index]
        if "$" not in line or DIRECTIVE_RE.match(line):
            continue
        spans = _prose_spans(line)
        for position, ch in enumerate(line):
            if ch != "$" or _inside(position, spans):
                continue
            backslashes = len(line[:position]) - len(line[:position].rstrip("\\"))
            if backslashes % 2 == 0:
                edits.append(Edit(index, position, position, "\\"))
    return edits


def _in_list_item(lines: list[str], index: int) -> bool:
    """Whether an indented line continues a list item (not an admonition or a callout)."""
    indent = len(lines[index]) - len(lines[index].lstrip(" \t"))
    if not indent:
        return False
    for line in reversed(lines[:index]):
        if line.strip() and len(line) - len(line.lstrip(" \t")) < indent:
            return bool(LIST_MARKER_RE.match(_content(line)))
    return False


def math_block_ends(lines: Sequence[str], kinds: Sequence[str]) -> set[int]:
    """The lines that close a block of display math: the last line of ``$$ ... $$`` over several lines, or
    a line that is ``$$ x $$`` alone, also where the next line opens another block right under it."""
    ends: set[int] = set()
    close: str | None = None  # the delimiter that closes the block open, if one is
    for index, kind in enumerate(kinds):
        if kind != "math":
            close = None
            continue
        content = _content(lines[index]).strip()
        if close is None:
            opener = next((d for d in DISPLAY_MATH_OPEN if content.startswith(d)), None)
            if opener is None or DISPLAY_MATH_CLOSE[opener] in content[len(opener):]:
                ends.add(index)  # $$ x $$ alone on its line
                continue
            close = DISPLAY_MATH_CLOSE[opener]
        elif content.endswith(close):
            close = None
            ends.add(index)
    return ends


def math_gaps(result: Scan) -> list[Edit]:
    """A blank line between display math and a line of text right above or below it, and between two
    blocks of math one right under the other, except in a list item: Python-Markdown only sees a block
    of math as a block of its own (two of them with no line between would be one paragraph, with what
    follows them: CommonMark, and Obsidian, end a block on its closing line)."""
    lines, kinds = result.lines, result.kinds
    ends = math_block_ends(lines, kinds)
    edits = []
    for index, kind in enumerate(kinds):
        if kind != "math":
            continue
        opens = index == 0 or kinds[index - 1] != "math"
        closes = index + 1 == len(kinds) or kinds[index + 1] != "math"
        if _in_list_item(lines, index):  # a blank line would end the item: hooks.kb.display_math shows it there
            continue
        quote = "".join(ch for ch in line_prefix(lines[index]) if ch == ">")
        gap = "\n" + " ".join(quote)
        if index in ends and not closes:  # another block opens right under this one
            edits.append(Edit(index, len(lines[index]), len(lines[index]), gap))
        if opens and index > 0 and kinds[index - 1] == "text" and _content(lines[index - 1]).strip():
            edits.append(Edit(index - 1, len(lines[index - 1]), len(lines[index - 1]), gap))
        if closes and index + 1 < len(kinds) and kinds[index + 1] == "text" and _content(lines[index + 1]).strip():
            edits.append(Edit(index, len(lines[index]), len(lines[index]), gap))
    return edits


INLINE_FOOTNOTE_LABEL = "inline-{}"  # the label of the n-th inline footnote of a page, as Python-Markdown's footnotes read it


def inline_footnotes(text: str, result: Scan | None = None) -> str:
    """``text`` with each of Obsidian's inline footnotes (``^[a note]``, on a line of prose) written as a
    footnote Python-Markdown's ``footnotes`` reads: ``[^inline-1]`` where it stands, and its text in a
    definition ``[^inline-1]: a note`` at the end of the page. Footnotes are numbered in the order they
    are referenced, inline or not, as Obsidian numbers them. A ``^[`` without its ``]`` on the same line
    stays text, as in Obsidian."""
    if "^[" not in text:
        return text
    result = result or scan(text)
    lines = list(result.lines)
    notes: list[str] = []
    taken = 0
    for index in result.text_lines():
        line = lines[index]
        if "^[" not in line:
            continue
        spans = _prose_spans(line)
        out, last = [], 0
        for m in INLINE_FOOTNOTE_RE.finditer(line):
            if m.start() < last or _inside(m.start(), spans):
                continue
            end = closing_bracket(line, m.end())
            if end is None:
                continue
            taken += 1
            while f"[^{INLINE_FOOTNOTE_LABEL.format(taken)}]" in text:  # a label the page uses itself
                taken += 1
            label = INLINE_FOOTNOTE_LABEL.format(taken)
            notes.append(f"[^{label}]: {line[m.end():end].strip()}")
            out += [line[last:m.start()], f"[^{label}]"]
            last = end + 1
        if out:
            lines[index] = "".join(out) + line[last:]
    if not notes:
        return text
    return "\n".join(lines).rstrip("\n") + "\n\n" + "\n".join(notes) + "\n"


def tag_link(tag: str, href: str | None) -> str:
    """The HTML that shows an inline tag: a link to its section of the tags page (or a plain chip)."""
    text = escape_markdown("#" + tag)
    if href is None:
        return f'<span class="kb-tag kb-inline-tag">{text}</span>'
    return f'<a class="kb-tag kb-inline-tag" href="{escape_html(href)}">{text}</a>'


def page_edits(
    text: str,
    *,
    tag_href: Callable[[str], str | None],
    tags: list[InlineTag] | None = None,
    blocks: Iterable[BlockId] | None = None,
    result: Scan | None = None,
) -> list[Edit]:
    """Every edit :mod:`hooks.kb.obsidian` makes to a page's Markdown (tags, blocks and the scan of
    ``text`` may be passed when they were already found in the same text)."""
    result = result or scan(text)
    tags = find_tags(text, result) if tags is None else tags
    blocks = find_block_ids(text, result).values() if blocks is None else blocks
    edits = [Edit(t.line, t.column, t.end, tag_link(t.name, tag_href(t.name))) for t in tags]
    edits += block_id_edits(text, blocks)
    edits += hash_escapes(result, tags)
    if "$" in text:
        edits += dollar_escapes(result)
        edits += math_gaps(result)
    return edits


# --- syntax this site does not render --------------------------------------------------------------

def media_embed(target: str) -> str | None:
    """What kind of file an embed names when the site cannot show it (a PDF, a video, ...), else None."""
    name = target.strip().casefold()
    return next((what for suffix, what in MEDIA_SUFFIXES.items() if name.endswith(suffix)), None)


def unsupported(text: str, result: Scan | None = None) -> list[tuple[int, str]]:
    """``(0-based line, message)`` for each piece of Obsidian syntax the site would show as raw text."""
    result = result or scan(text)
    out = []
    for index, (line, kind) in enumerate(zip(result.lines, result.kinds)):
        if kind == "fence":
            m = PLUGIN_FENCE_RE.match(line)
            if m:
                lang = m.group("lang").lower()
                what = "an Obsidian search (```query)" if lang == "query" else f"a {lang} plugin block (```{lang})"
                out.append((index, f"{what} is not run by the site and shows as code; write its result out, or fence it as ```text"))
    if result.unclosed_math is not None:
        out.append((result.unclosed_math, "display math opened here is never closed, so the rest of the page is math; close it with '$$'"))
    return out
