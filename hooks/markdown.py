"""The one Markdown scanner: which lines and spans are code, math or private comments; headings; plain text; escaping.

Everything that looks for syntax in a page (wikilinks, figure directives, tags, block ids, headings,
excerpts) asks this module what is code, so that they all agree with each other and with what
Python-Markdown renders:

* fenced code (``` and ~~~, also inside block quotes and lists), indented code blocks (four spaces
  after a blank line, except where the indented block continues a list, an admonition, a footnote
  or a content tab), display math (``$$ ... $$`` and ``\\[ ... \\]``, also inside block quotes and
  callouts), and the fence lines themselves;
* inline code spans and inline math (``$...$`` by Pandoc's rule, so "costs $5 and $10" stays text;
  ``\\(...\\)``; ``$$...$$`` within a line);
* Obsidian's private comments ``%%...%%`` (inline or over several lines), removed by
  :func:`strip_comments` before anything else sees the text;
* ATX headings (``# Title``) and setext headings (a line over ``===`` or ``---``).
"""
from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Mapping

LineKind = Literal["text", "blank", "fence", "code", "indented", "math"]

FENCE_RE = re.compile(r"^(?P<prefix>(?:[ \t]*>)*[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
BACKTICKS_RE = re.compile(r"`+")
ATX_RE = re.compile(r"^[ ]{0,3}(?P<level>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_RE = re.compile(r"^(?P<rule>=+|-+)[ ]*$")
LIST_ITEM_RE = re.compile(r"^[ ]{0,3}(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# Blocks whose indented continuation is content, not code: admonitions and details (!!!, ???),
# content tabs (===), footnote definitions ([^1]:).
CONTAINER_RE = re.compile(r"^[ ]{0,3}(?:!!!|\?\?\?\+?|===[ \t]|\[\^[^\]]+\]:)")
DIRECTIVE_RE = re.compile(r"^[ ]{0,3}!(?P<name>[a-z][a-z_]*)\[")  # a block extension line: !demo[...](...)
# The one pattern of an Obsidian wikilink or embed, ``[[target#heading|label]]`` / ``![[...]]`` on one line
# (hooks.kb.wikilinks finds and resolves them; plain_text shows their text; hooks.kb.obsidian leaves them alone).
WIKILINK_RE = re.compile(r"(?P<embed>!?)\[\[(?P<inner>(?:(?!\[\[|\]\])[^\n])+?)\]\]")
ATTR_LIST_RE = re.compile(r"[ \t]*\{:?[ \t]*(?P<attrs>[^}\n]*?)[ \t]*\}[ \t]*$")
DISPLAY_MATH_OPEN = ("$$", "\\[")
DISPLAY_MATH_CLOSE = {"$$": "$$", "\\[": "\\]"}


def _indent(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


# --- inline spans ----------------------------------------------------------------------------------

def code_spans(line: str) -> list[tuple[int, int]]:
    """Inline code spans of one line: a run of N backticks up to the next run of exactly N."""
    if "`" not in line:
        return []
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


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def _escaped(line: str, position: int) -> bool:
    backslashes = 0
    while position - backslashes - 1 >= 0 and line[position - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def math_spans(line: str, code: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Inline math of one line outside code: ``$$...$$``, ``\\(...\\)`` and ``$...$``.

    ``$...$`` follows Pandoc's rule: the opening ``$`` has a non-space character right after it, the
    closing one a non-space character right before it and no digit right after it; ``\\$`` is a dollar.
    """
    if "$" not in line and "\\(" not in line:
        return []
    code = code_spans(line) if code is None else code
    spans: list[tuple[int, int]] = []
    i, n = 0, len(line)
    while i < n:
        if _inside(i, code) or _escaped(line, i):
            i += 1
            continue
        if line.startswith("$$", i):
            end = line.find("$$", i + 2)
            if end > i + 2:
                spans.append((i, end + 2))
                i = end + 2
                continue
            i += 2
            continue
        if line.startswith("\\(", i):
            end = line.find("\\)", i + 2)
            if end != -1:
                spans.append((i, end + 2))
                i = end + 2
                continue
        if line[i] == "$" and i + 1 < n and not line[i + 1].isspace() and line[i + 1] != "$":
            j = i + 1
            while j < n:
                if line[j] == "$" and not _escaped(line, j) and not _inside(j, code):
                    if not line[j - 1].isspace() and not (j + 1 < n and line[j + 1].isdigit()):
                        break
                j += 1
            if j < n:
                spans.append((i, j + 1))
                i = j + 1
                continue
        i += 1
    return spans


def protected_spans(line: str) -> list[tuple[int, int]]:
    """Spans of one text line where no other syntax applies: code spans and inline math."""
    code = code_spans(line)
    return sorted(code + math_spans(line, code))


# --- private comments ------------------------------------------------------------------------------

def strip_comments(text: str) -> str:
    """``text`` without Obsidian's ``%%private comments%%``; line breaks are kept, so line numbers hold.

    ``%%`` inside code (fenced, indented or a code span) and display math is text. A comment is
    removed before its line is classified, so a fence or a heading inside a comment means nothing.
    A comment left open runs to the end of the file, as in Obsidian.
    """
    if "%%" not in text:
        return text
    classifier = _Classifier()
    out = []
    in_comment = False
    for line in text.split("\n"):
        if not in_comment and ("%%" not in line or classifier.protects(line)):
            classifier.feed(line)
            out.append(line)
            continue
        kept, position, search = [], 0, 0
        spans = code_spans(line)
        while True:
            found = line.find("%%", search)
            while found != -1 and not in_comment and _inside(found, spans):
                found = line.find("%%", found + 2)
            if found == -1:
                break
            if in_comment:
                position = found + 2
            else:
                kept.append(line[position:found])
            in_comment = not in_comment
            search = found + 2
        if not in_comment:
            kept.append(line[position:])
        line = "".join(kept)
        line = line.rstrip() if line.strip() else ""
        classifier.feed(line)
        out.append(line)
    return "\n".join(out)


# --- lines -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Heading:
    level: int
    text: str  # as written (inline Markdown), without an attribute list
    line: int  # 0-based index of the heading's text line
    explicit_id: str | None = None  # from an attribute list: ## Title { #my-id }


@dataclass
class Scan:
    """One text split into lines, each with its kind; built once per text and cached.

    This is the one reading of a source: the finders (wikilinks, headings, tags, block ids, excerpts,
    embeds, figure directives) each take the scan already made and visit it, and scan the text
    themselves only when called on a bare string (hooks.kb.graph.parse scans each body once).
    """

    lines: list[str]
    kinds: list[LineKind]
    unclosed_math: int | None = None  # first line of display math that is never closed (it runs to the end)
    # Fences opened in a block quote (a callout) and left open when the quote ends, which closes them as
    # CommonMark closes a container's blocks: (index of the first line after the quote, the opening
    # line's quote markers, its fence). Python-Markdown would run such a fence on, or not see it.
    quote_closed_fences: tuple[tuple[int, str, str], ...] = ()

    def text_lines(self) -> Iterator[int]:
        """Indices of the lines that hold prose (not code, math, fences or blank lines)."""
        return (i for i, kind in enumerate(self.kinds) if kind == "text")

    def finditer(self, pattern: re.Pattern[str], *, skip_directives: bool = True) -> Iterator[tuple[int, re.Match[str]]]:
        """``(line index, match)`` for every match of ``pattern`` on a text line, outside code and math."""
        for index in self.text_lines():
            line = self.lines[index]
            if skip_directives and DIRECTIVE_RE.match(line):
                continue
            spans = None
            for m in pattern.finditer(line):
                if spans is None:
                    spans = protected_spans(line)
                if not _inside(m.start(), spans):
                    yield index, m

    @functools.cached_property
    def headings(self) -> list[Heading]:
        """ATX and setext headings, in order."""
        found = []
        lines, kinds = self.lines, self.kinds
        for i, kind in enumerate(kinds):
            if kind != "text":
                continue
            line = lines[i]
            m = ATX_RE.match(line) if "#" in line[:4] else None
            if m:
                found.append(_heading(int(len(m.group("level"))), m.group("text") or "", i))
                continue
            setext = SETEXT_RE.match(line) if line[:1] in ("=", "-") else None
            if setext and i > 0 and kinds[i - 1] == "text" and (i == 1 or kinds[i - 2] == "blank" or ATX_RE.match(lines[i - 2])):
                above = lines[i - 1]
                if not LIST_ITEM_RE.match(above) and not ATX_RE.match(above) and not above.lstrip().startswith(">"):
                    found.append(_heading(1 if setext.group("rule")[0] == "=" else 2, above.strip(), i - 1))
        # A setext heading's text line was already seen as text; keep headings in line order.
        return sorted(found, key=lambda h: h.line)

    def heading_lines(self) -> set[int]:
        """Lines that belong to a heading (the text line and a setext underline)."""
        lines = set()
        for h in self.headings:
            lines.add(h.line)
            if h.line + 1 < len(self.lines) and SETEXT_RE.match(self.lines[h.line + 1]) and not ATX_RE.match(self.lines[h.line]):
                lines.add(h.line + 1)
        return lines


def _heading(level: int, text: str, line: int) -> Heading:
    text = text.strip()
    explicit = None
    attrs = ATTR_LIST_RE.search(text)
    if attrs:
        text = text[: attrs.start()].rstrip().rstrip("#").rstrip()
        ids = [a[1:] for a in attrs.group("attrs").split() if a.startswith("#")]
        explicit = ids[-1] if ids else None
    return Heading(level, text, line, explicit)


class _Classifier:
    """The line-by-line state machine behind :func:`scan`: feed it lines in order, it says each line's kind.

    :func:`strip_comments` drives it too, so that a comment is removed before the line it is on is
    classified (a fence inside a comment opens nothing) and ``%%`` inside code is left alone.
    """

    def __init__(self) -> None:
        self.fence: tuple[str, int] | None = None  # (character, length) of the open fence
        self.fence_quote = ""  # the quote markers of the line that opened it ('> ', '' outside a quote)
        self.quote_closed: list[tuple[int, str, str]] = []  # see Scan.quote_closed_fences
        self.math_close: str | None = None  # closing delimiter of an open display-math block
        self.in_indented = False
        self.container = False  # the last block at the margin was a list, admonition, footnote or tab
        self.previous_blank = True
        self.lines = 0  # lines fed so far
        self.math_start = 0  # index of the line that opened the display math still open

    def protects(self, raw: str) -> bool:
        """Whether ``raw``, if it came next, would be code, a fence or math (where ``%%`` is text)."""
        if self.fence is not None or self.math_close is not None:
            return True
        line = raw.rstrip("\r")
        if not line.strip():
            return False
        indent = _indent(line)
        if indent >= 4 and (self.in_indented or (self.previous_blank and not self.container)):
            return True
        m = FENCE_RE.match(line)
        return bool(m and not (m.group("fence")[0] == "`" and "`" in m.group("info")))

    def feed(self, raw: str) -> LineKind:
        kind = self._kind(raw)
        self.lines += 1
        return kind

    def _kind(self, raw: str) -> LineKind:
        line = raw.rstrip("\r")
        stripped = line.strip()
        if self.fence is not None and self.fence_quote and _quote_depth(line) < self.fence_quote.count(">"):
            self.quote_closed.append((self.lines, self.fence_quote, self.fence[0] * self.fence[1]))
            self.fence = None  # the quote ended, and its fence with it: this line is read as any other
        if self.fence is not None:
            m = FENCE_RE.match(line)
            if m and m.group("fence")[0] == self.fence[0] and len(m.group("fence")) >= self.fence[1] and not m.group("info").strip():
                self.fence = None
                return "fence"
            return "code"
        if self.math_close is not None:
            if _quote_content(stripped).rstrip().endswith(self.math_close):
                self.math_close = None
            return "math"
        if not stripped:
            self.previous_blank = True
            return "blank"
        indent = _indent(line)
        if self.in_indented and indent >= 4:
            self.previous_blank = False
            return "indented"
        self.in_indented = False
        if indent >= 4 and self.previous_blank and not self.container:
            self.in_indented = True
            self.previous_blank = False
            return "indented"
        m = FENCE_RE.match(line)
        if m and not (m.group("fence")[0] == "`" and "`" in m.group("info")):
            self.fence = (m.group("fence")[0], len(m.group("fence")))
            self.fence_quote = m.group("prefix") if ">" in m.group("prefix") else ""
            self.previous_blank = False
            return "fence"
        content = _quote_content(stripped)  # display math may open inside a block quote or callout
        opener = next((d for d in DISPLAY_MATH_OPEN if content.startswith(d)), None)
        if opener is not None:
            rest = content[len(opener):].rstrip()
            close = DISPLAY_MATH_CLOSE[opener]
            if close not in rest:  # a block: runs to the line that ends with the closing delimiter
                self.math_close = close
                self.math_start = self.lines
                self.previous_blank = False
                return "math"
            if rest.endswith(close) and rest.index(close) == len(rest) - len(close):
                self.previous_blank = False
                return "math"  # $$ x $$ alone on its line
        if indent < 4:
            self.container = bool(LIST_ITEM_RE.match(line) or CONTAINER_RE.match(line)) or (self.container and not self.previous_blank)
        self.previous_blank = False
        return "text"


QUOTE_PREFIX_RE = re.compile(r"^(?:[ ]{0,3}>[ ]?)+")


def close_quoted_fences(text: str, result: Scan | None = None) -> str:
    """``text`` with each fence that a block quote (a callout) leaves open closed where the quote ends, as
    CommonMark reads it (:attr:`Scan.quote_closed_fences`), so that every later reader (a plugin that
    turns callouts into admonitions, Python-Markdown, this module) sees the same blocks."""
    closed = (result or scan(text)).quote_closed_fences
    if not closed:
        return text
    lines = text.split("\n")
    for index, quote, fence in reversed(closed):
        lines.insert(index, f"{quote.rstrip()} {fence}")
    return "\n".join(lines)


# An info string Python-Markdown's fences (pymdownx.superfences) read: a language, or {attributes},
# then key=value options; CommonMark takes any text ("```bash]" is code whose language is "bash]").
_READABLE_INFO_RE = re.compile(r"""^[ \t]*(?:\{.*\}|[\w#.+-]*(?:[ \t]+[\w-]+=(?:"[^"]*"|'[^']*'|\S+))*)[ \t]*$""")
_LANGUAGE_RE = re.compile(r"[\w#.+-]*")


def readable_fences(text: str, result: Scan | None = None) -> str:
    """``text`` with each opening fence whose info string Python-Markdown's fences cannot read (which
    then leave the block as a paragraph, where CommonMark and Obsidian show code) reduced to the
    language it starts with: "```bash]" becomes "```bash". A closing fence has no info string."""
    result = result or scan(text)
    lines = None
    for index, kind in enumerate(result.kinds):
        if kind != "fence":
            continue
        m = FENCE_RE.match(result.lines[index])
        if m is None or not m.group("info").strip() or _READABLE_INFO_RE.match(m.group("info")):
            continue
        lines = lines or text.split("\n")
        language = _LANGUAGE_RE.match(m.group("info").strip()).group(0)
        lines[index] = m.group("prefix") + m.group("fence") + language
    return text if lines is None else "\n".join(lines)


def _quote_depth(line: str) -> int:
    """How many block quotes a line is in ('> > x': 2)."""
    return QUOTE_MARKERS_RE.match(line).group(0).count(">")


QUOTE_MARKERS_RE = re.compile(r"^(?:[ \t]*>)*")


def _quote_content(stripped: str) -> str:
    """A stripped line without its block-quote markers ('> > x' -> 'x')."""
    if not stripped.startswith(">"):
        return stripped
    return QUOTE_PREFIX_RE.sub("", stripped).strip()


def line_prefix(line: str) -> str:
    """The block-quote markers and indentation a line starts with ('> > ', '    '), kept by lines inserted after it."""
    m = re.match(r"^(?:[ \t]*>)*[ \t]*", line)
    return m.group(0) if m else ""


@functools.lru_cache(maxsize=8192)
def scan(text: str) -> Scan:
    """Classify every line of ``text`` (see the module docstring for the rules)."""
    lines = text.split("\n")
    classifier = _Classifier()
    kinds = [classifier.feed(line) for line in lines]
    return Scan(lines, kinds, classifier.math_start if classifier.math_close is not None else None,
                tuple(classifier.quote_closed))


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``line[start:end]`` of one line (0-based index) by ``text``, which may hold line breaks."""

    line: int
    start: int
    end: int
    text: str


def apply_edits(text: str, edits: Iterable[Edit], first_line: int = 0) -> str:
    """``text`` with ``edits`` applied; an edit's line counts from ``first_line``, the index of ``text``'s
    first line in the numbering the edits were made in. Of two overlapping edits the first is kept."""
    lines = text.split("\n")
    by_line: dict[int, list[Edit]] = {}
    for edit in edits:
        index = edit.line - first_line
        if 0 <= index < len(lines):
            by_line.setdefault(index, []).append(edit)
    for index, found in by_line.items():
        line, pieces, last = lines[index], [], 0
        for edit in sorted(found):
            if edit.start < last:
                continue
            pieces += [line[last : edit.start], edit.text]
            last = max(edit.end, edit.start)
        lines[index] = "".join(pieces) + line[last:]
    return "\n".join(lines)


def rewrite(text: str, pattern: re.Pattern[str], replace: Callable[[int, re.Match[str]], str]) -> str:
    """``text`` with every match of ``pattern`` on a text line outside code and math replaced by
    ``replace(line index, match)``; lines keep their numbers."""
    result = scan(text)
    lines = list(result.lines)
    changed: dict[int, list[re.Match[str]]] = {}
    for index, m in result.finditer(pattern):
        changed.setdefault(index, []).append(m)
    for index, matches in changed.items():
        line, pieces, last = lines[index], [], 0
        for m in matches:
            pieces += [line[last : m.start()], replace(index, m)]
            last = m.end()
        lines[index] = "".join(pieces) + line[last:]
    return "\n".join(lines)


# --- plain text of inline Markdown -----------------------------------------------------------------

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)(\{[^}]*\})?")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)(\{[^}]*\})?")
_EMPHASIS = re.compile(r"(?<![\w\\])(\*{1,3}|_{1,3}|={2}|~{2})(?=\S)(.+?)(?<=\S)\1(?!\w)")
_TAG = re.compile(r"<[^>]+>")
_BACKSLASH = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|=~$])")
_BLOCK_ID = re.compile(r"\s\^[A-Za-z0-9-]+\s*$")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")  # [^1]: a reference to a footnote
INLINE_FOOTNOTE_RE = re.compile(r"(?<![\\\]])\^\[")  # Obsidian's inline footnote ^[...] opens here


def closing_bracket(line: str, start: int) -> int | None:
    """The index of the ``]`` that closes the ``[`` before ``start`` (brackets inside balanced, ``\\]``
    escaped), or None when the line has none."""
    depth, i = 1, start
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _without_inline_footnotes(text: str) -> str:
    """``text`` less Obsidian's inline footnotes (``^[...]`` outside code and math): a note is not part
    of the sentence it is attached to."""
    if "^[" not in text:
        return text
    code = code_spans(text)
    spans = code + math_spans(text, code)
    out, last = [], 0
    for m in INLINE_FOOTNOTE_RE.finditer(text):
        end = closing_bracket(text, m.end()) if m.start() >= last and not _inside(m.start(), spans) else None
        if end is not None:
            out.append(text[last:m.start()])
            last = end + 1
    return "".join(out) + text[last:]


def _wikilink_text(m: re.Match[str]) -> str:
    """What a wikilink shows: its label, else the target as written (``page › heading``)."""
    if m.group("embed"):
        return ""
    target, _, label = re.sub(r"\\\|", "|", m.group("inner")).partition("|")
    if label.strip():
        return label.strip()
    page, _, heading = target.partition("#")
    page, heading = page.strip(), heading.split("#")[-1].strip()
    return f"{page} › {heading}" if page and heading else page or heading


def _plain_prose(text: str) -> str:
    text = WIKILINK_RE.sub(_wikilink_text, text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    for _ in range(2):  # ***both*** and nested emphasis
        text = _EMPHASIS.sub(r"\2", text)
    text = _TAG.sub("", text)
    text = _FOOTNOTE_REF.sub("", text)
    return html.unescape(_BACKSLASH.sub(r"\1", text))


def plain_text(markdown: str) -> str:
    """Inline Markdown reduced to plain text: links and wikilinks to their text, no emphasis, code
    marks, HTML, block ids or footnotes; math is kept as its TeX source."""
    markdown = _without_inline_footnotes(_BLOCK_ID.sub("", markdown))
    pieces, last = [], 0
    code = code_spans(markdown)
    for start, end in sorted(code + math_spans(markdown, code)):  # code and math are kept, the rest is unmarked
        kept = markdown[start:end]
        if kept.startswith("`"):
            kept = kept.strip("`").strip()
            if kept.startswith(BOUND_NUMBER):  # a number taken from a run: kept as a span, for with_numbers
                kept = f"`{kept}`"
        pieces += [_plain_prose(markdown[last:start]), kept]
        last = end
    pieces.append(_plain_prose(markdown[last:]))
    return " ".join("".join(pieces).split())


BOUND_NUMBER = "{run}"  # an inline code span starting so is a number taken from a run (hooks.figures.numbers)


def with_numbers(text: str, values: Mapping[str, str]) -> str:
    """Plain text (a caption, an excerpt) with each bound-number span written as its value
    (``values``: by the span's text without backticks); a span without a value stays as written."""
    if BOUND_NUMBER not in text or not values:
        return text
    out, last = [], 0
    for start, end in code_spans(text):
        inner = text[start:end].strip("`").strip()
        if inner in values:
            out.append(text[last:start] + values[inner])
            last = end
    return "".join(out) + text[last:]


# --- escaping --------------------------------------------------------------------------------------

_MD_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]#!])")


def escape_markdown(text: str, *, entities: bool = True) -> str:
    """``text`` as literal inline Markdown: no emphasis, links, code, math or (with ``entities``) HTML.

    Use ``entities=False`` for text that ends up in an attribute (an image's alt text), which Markdown
    escapes itself.
    """
    text = _MD_SPECIAL_RE.sub(r"\\\1", text)
    return html.escape(text, quote=True) if entities else text


def escape_html(text: str) -> str:
    """Text for an HTML element or a double-quoted attribute."""
    return html.escape(str(text), quote=True)
