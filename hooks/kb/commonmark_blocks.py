"""A Python-Markdown extension: the blocks of a note as CommonMark (and so Obsidian's reading view) finds them.

Obsidian parses a note as CommonMark with GFM tables; Python-Markdown differs on four habits of a vault:

* a list, a table or a code fence right under a line of text interrupts the paragraph in CommonMark;
  Python-Markdown reads them as more lines of the paragraph (literal ``*`` and ``|``). This extension
  puts a blank line above each one, where CommonMark would start it (a bullet item with content, an
  ordered item numbered 1, a table whose delimiter row has as many cells as its header row, a fence);
* an ordered list may be written ``1)`` as well as ``1.`` in CommonMark; Python-Markdown reads only
  ``1.``, so an item's ``)`` becomes ``.`` (the list shows no delimiter);
* a nested list is nested in CommonMark when its marker reaches the parent item's content column
  (two spaces under ``- ``, three under ``1. ``, a tab); Python-Markdown wants four spaces per level.
  This extension re-indents every line of a list to four spaces per level of the CommonMark nesting,
  keeping what a line has beyond its item's content column (code inside an item stays code);
* single line breaks, shown in Obsidian's reading view by default: that is ``nl2br``'s job, which the
  site adds beside this extension (hooks.site.markdown_setup); a backslash at the end of a line is a
  hard line break in CommonMark whatever the setting, and this extension makes it one.

Lines of code (fenced, indented) and of display math are never touched (:func:`hooks.markdown.scan`
says which they are). The bodies of admonitions (the site's callouts), footnotes and content tabs,
indented by four spaces, and block quotes are read the same way, each as a document of its own.

Why not the extensions that exist: ``mdx_truly_sane_lists`` (nested_indent 2) nests lists by two spaces
only: a list nested by a tab (Obsidian's default) or four spaces is flattened into its parent's text, and
items separated by a blank line become two lists. ``mdx_breakless_lists`` puts a blank line above every
list-like line, in code and math too, above ``2.`` that CommonMark keeps as text, and does nothing for
tables, fences or nesting.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from markdown import Extension, Markdown
from markdown.inlinepatterns import SubstituteTagInlineProcessor
from markdown.preprocessors import Preprocessor

from hooks.markdown import ATX_RE, CONTAINER_RE, scan

QUOTE_BREAK = "<!-- -->"  # an empty HTML block: it ends a block quote, and shows nothing
ITEM_RE = re.compile(r"^(?P<indent>[ ]*)(?P<marker>[-*+]|(?P<number>\d{1,9})[.)])(?P<gap>[ ]{1,4}|[ ]*$)(?P<content>.*)$")
QUOTE_RE = re.compile(r"^[ ]{0,3}>[ ]?")
HR_RE = re.compile(r"^[ ]{0,3}(?:(?:\*[ ]*){3,}|(?:-[ ]*){3,}|(?:_[ ]*){3,})$")
DELIMITER_CELL_RE = re.compile(r"^[ ]*:?-+:?[ ]*$")
BACKSLASH_BREAK_RE = r"\\\n"  # a backslash at the end of a line: CommonMark's other hard line break
BACKSLASH_BREAK_PRIORITY = 185  # after code spans and math (190-189.9), before escapes (180)
PRIORITY = 29  # after normalize_whitespace (30: tabs expanded), before superfences' fences (25) and raw HTML (20)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _cells(line: str) -> list[str]:
    row = line.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return re.split(r"(?<!\\)\|", row)


def table_starts(lines: list[str], index: int) -> bool:
    """Whether ``lines[index]`` is the header row of a GFM table (the next line is its delimiter row)."""
    if index + 1 >= len(lines) or "|" not in lines[index] or _indent(lines[index]) > 3:
        return False
    delimiter = lines[index + 1]
    if "-" not in delimiter or _indent(delimiter) > 3 or not set(delimiter.strip()) <= set("|:- "):
        return False
    cells = _cells(delimiter)
    return all(DELIMITER_CELL_RE.match(c) for c in cells) and len(cells) == len(_cells(lines[index]))


def _item(line: str) -> re.Match[str] | None:
    m = ITEM_RE.match(line)
    if m is None or HR_RE.match(line):
        return None
    return m


def _interrupts_paragraph(m: re.Match[str]) -> bool:
    """CommonMark: only a bullet item with content, or an ordered one numbered 1, interrupts a paragraph."""
    if not m.group("content").strip():
        return False
    return m.group("number") is None or int(m.group("number")) == 1


@dataclass
class _Item:
    content: int  # the column where the item's content starts (relative to the list's container)


def settle(text: str, tab_length: int = 4) -> str:
    """``text`` with blank lines where CommonMark starts a list, table or fence under a paragraph (or
    text under a closing fence), and lists re-indented to four spaces per level (see the module
    docstring). Tabs are expanded first, as Python-Markdown does before any extension reads the text."""
    return "\n".join(_settle(text.expandtabs(tab_length).split("\n")))


ADMONITION_RE = re.compile(r"^(?:!!!|\?\?\?\+?)")  # an admonition at the margin: a callout (a quote in the vault)


def _starts_block(line: str) -> bool:
    """Whether a line at the margin starts a block of its own (so it cannot be a lazy line of an item's
    text): a heading, a rule, a quote, HTML, or an admonition (the callouts plugin's for a ``> [!note]``)."""
    stripped = line.lstrip(" ")
    return bool(ATX_RE.match(line) or HR_RE.match(line) or stripped.startswith(">") or stripped.startswith("<")
                or ADMONITION_RE.match(line))


def _settle(lines: list[str], text_above: bool = False) -> list[str]:
    """``lines`` settled; ``text_above``: the block they are the body of opens with text (a footnote)."""
    kinds = scan("\n".join(lines)).kinds
    out: list[str] = []
    stack: list[_Item] = []  # the open list items, outermost first
    # text_above: the line written last is a line of text (a list, table or fence would interrupt it)
    item_above = False  # ... and it is a list item's first line
    previous_blank = True
    gap_in_item = False  # a blank line since the last item started: its next text is a block of its own
    in_fence = fence_closed = False  # inside fenced code; the line written last closed a fence
    quote_above = False  # the block written last (blank lines aside) is a block quote
    quote_line_above = False  # ... and its last line is the line written last
    run_start = 0  # where in ``out`` the lines written since the last blank line begin
    i = 0
    while i < len(lines):
        line, kind = lines[i], kinds[i]
        if kind == "blank":
            out.append(line)
            run_start = len(out)
            text_above = item_above = quote_line_above = False
            previous_blank = True
            gap_in_item = bool(stack)
            i += 1
            continue
        if fence_closed and kind == "text":
            out.append("")  # text right under a closing fence: a paragraph of its own (superfences would join it to the code)
        block_start = kind == "text" or (kind == "fence" and not in_fence) or (kind == "math" and (i == 0 or kinds[i - 1] != "math"))
        fence_closed = kind == "fence" and in_fence
        if kind == "fence":
            in_fence = not in_fence
        indent = _indent(line)
        if stack and block_start and (kind != "text" or _item(line) is None) and indent < stack[0].content \
                and (previous_blank or kind != "text" or not text_above or _starts_block(line)):
            stack = []  # a block at the margin after a blank line (or a heading, fence, ...) ends the list
        if not stack and kind == "text" and QUOTE_RE.match(line):  # a block quote: a document of its own
            j = i
            while j < len(lines) and QUOTE_RE.match(lines[j]):
                j += 1
            if text_above:
                out.append("")
            elif quote_above:  # two quotes a blank line apart are two in CommonMark; Python-Markdown joins them
                out += [QUOTE_BREAK, ""]
            out += [("> " + b) if b else ">" for b in _settle([QUOTE_RE.sub("", q, count=1) for q in lines[i:j]])]
            i, text_above, item_above, previous_blank = j, False, False, False
            in_fence = fence_closed = False
            quote_above = quote_line_above = True
            continue
        if quote_line_above and (kind == "fence" or (kind == "text" and (_item(line) is not None or _starts_block(line)
                                                                          or table_starts(lines, i)))):
            out.append("")  # a block right under a quote ends the quote in CommonMark (only text is its lazy
            # continuation); Python-Markdown would take every line up to a blank one into the quote
        quote_above = quote_line_above = False
        if not stack and kind == "text" and indent == 0 and CONTAINER_RE.match(line):  # an admonition's body, ...
            if text_above and ADMONITION_RE.match(line):
                out.append("")  # a callout under a line of text: a quote in the vault, which interrupts a paragraph
            out.append(line)
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j].startswith("    ")):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1
            body = _settle([b[4:] for b in lines[i + 1:j]], text_above=bool(line.split("]:", 1)[-1].strip()) and line.lstrip().startswith("[^"))
            out += [("    " + b) if b else "" for b in body]
            i, text_above, item_above, previous_blank = j, False, False, False
            in_fence = fence_closed = False
            continue

        m = _item(line) if kind == "text" else None
        if m is not None and not stack and indent > 3:
            m = None
        opens = True  # the item starts a list (not the next item of one)
        if m is not None and stack:
            kept = [item for item in stack if indent >= item.content]
            if kept and indent >= kept[-1].content + 4:
                m = None  # indented code inside the item, not a nested item
            else:
                opens = len(kept) == len(stack)
                stack = kept
        if m is not None:
            if opens and text_above and not item_above:
                if not _interrupts_paragraph(m) and not stack:
                    out.append(line)  # "2. ..." under a paragraph is more of its text
                    text_above, item_above, previous_blank = True, False, False
                    i += 1
                    continue
                out.append("")
            elif not opens and text_above and not item_above and gap_in_item:
                out.append("")  # the next item under a paragraph of the item before (Python-Markdown would read it as text)
            elif not opens and not previous_blank and run_start < len(out) and _indent(out[run_start]) > 4 * len(stack):
                out.append("")  # back out of a nested list that began after a blank line: Python-Markdown would
                # keep the whole run of lines, this item too, at the nested list's depth
            depth = len(stack)
            gap_in_item = False
            gap = m.group("gap") if m.group("content") else " "
            stack.append(_Item(indent + len(m.group("marker")) + len(gap)))
            marker = m.group("marker")
            if marker.endswith(")"):  # CommonMark's other ordered marker, `1)`: Python-Markdown knows only `1.`
                marker = marker[:-1] + "."
            out.append(" " * (4 * depth) + marker + " " + m.group("content"))
            text_above, item_above, previous_blank = True, True, False
            i += 1
            continue
        interrupts = kind == "fence" or (kind == "text" and table_starts(lines, i))
        if interrupts and text_above:
            out.append("")
        if stack:
            while len(stack) > 1 and indent < stack[-1].content and previous_blank:
                stack.pop()
            extra = max(indent - stack[-1].content, 0)
            out.append(" " * (4 * len(stack) + extra) + line.lstrip(" "))
        else:
            out.append(line)
        text_above = kind == "text"
        item_above = False
        previous_blank = False
        i += 1
    return out


QUOTE_MARKS_RE = re.compile(r"^(?:[ ]{0,3}>[ ]?)+")


def explicit_quotes(text: str) -> str:
    """``text`` with each lazy line of a block quote (a line of text right under a quote's paragraph,
    without ``>``, which CommonMark reads as more of that paragraph) given the quote marks of the line
    above, so that a plugin reading callouts line by line, and Python-Markdown, keep it in the quote."""
    if ">" not in text:
        return text
    result = scan(text)
    lines, kinds = list(result.lines), result.kinds
    changed = False
    for i in range(1, len(lines)):
        above = QUOTE_MARKS_RE.match(lines[i - 1])
        if above is None or kinds[i] != "text" or kinds[i - 1] != "text" or not lines[i - 1][above.end():].strip():
            continue
        line = lines[i]
        if QUOTE_RE.match(line) or _item(line) is not None or _starts_block(line) or table_starts(lines, i) or _indent(line) > 3:
            continue
        lines[i] = above.group(0).rstrip() + " " + line.lstrip(" ")
        changed = True
    return "\n".join(lines) if changed else text


class CommonMarkBlocks(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return _settle(lines)


class CommonMarkBlocksExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        md.preprocessors.register(CommonMarkBlocks(md), "kb-commonmark-blocks", PRIORITY)
        md.inlinePatterns.register(SubstituteTagInlineProcessor(BACKSLASH_BREAK_RE, "br"), "kb-backslash-break", BACKSLASH_BREAK_PRIORITY)


def makeExtension(**kwargs) -> CommonMarkBlocksExtension:  # noqa: N802 - Python-Markdown's entry point
    return CommonMarkBlocksExtension(**kwargs)
