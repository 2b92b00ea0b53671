"""Reading-view fidelity: whether the site shows a page with the blocks Obsidian's reading view shows.

The oracle is markdown-it-py (CommonMark, GFM tables and strikethrough, ``$``/``$$`` math, footnotes,
task lists), the parser family Obsidian's reading view follows, run on the text the site hands to
Python-Markdown (Obsidian's own syntax already settled: comments removed, embeds expanded, wikilinks
resolved). Both HTML outputs are reduced to a tree of blocks (:func:`block_tree`): tag names and nesting
of paragraphs, lists and items, headings, tables, code, quotes and math, with the number of ``<br>`` of
each run of text; the text itself is ignored. What the site adds or shows differently on purpose is
left out or mapped to what Obsidian shows (see :data:`EXCLUSIONS`). :func:`compare` names the line of
the first block where the two trees part.

Needs markdown-it-py and mdit-py-plugins (the ``test`` extra); imports no MkDocs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from hooks.kb.display_math import DISPLAYED

# What the comparison leaves out or maps, and why (each one a choice of the site's, not a difference
# of reading); the README's "Obsidian syntax" section says the same.
EXCLUSIONS = {
    "callouts": "a callout (Obsidian's `> [!type] title`) is an admonition on the site and a block quote in "
                "Obsidian: both count as a quote, the admonition's title line and Obsidian's `[!type]` line are left out",
    "code": "the site wraps code in a highlight <div> (and may add line numbers): a code block counts as one block, its text ignored",
    "math": "display math is drawn by KaTeX from arithmatex's <div>/<span> on the site and from markdown-it's math "
            "block: each counts as one math block; inline math is text",
    "headings": "permalinks (¶) and ids are inline and ignored; the page title MkDocs' theme adds when a page has no "
                "`# ` heading is outside the compared content",
    "tight lists": "whether an item's text is wrapped in <p> (a loose list) is not compared: a run of text in an item "
                   "counts as a paragraph either way",
    "generated sections": "backlinks, related notes, the note's header line and other sections the site appends "
                          "are outside the compared content (the Markdown's own HTML only)",
    "footnotes": "the footnotes' list counts as one footnotes block holding a list (markdown-it's <section> and "
                 "separator <hr>, Python-Markdown's <div>)",
    "inline": "text, links, emphasis, tags, block-id anchors, task checkboxes and raw inline HTML are ignored",
}

BLOCK_TAGS = {"p", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
              "pre", "blockquote", "hr", "dl", "dt", "dd"}
LEAF_TAGS = {"pre"}  # their content is not compared
TEXT_HOLDERS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "th", "td", "dt"}  # blocks whose text counts <br>
TEXT_RUN_PARENTS = {"li", "blockquote", "root", "dd", "footnotes"}  # where a run of text is an implicit paragraph
VOID_TAGS = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "col", "area", "base", "embed", "track"}
CALLOUT_RE = re.compile(r"^(?P<quote>(?:[ ]{0,3}>[ ]?)+)\[!(?P<type>[^\]]+)\][+-]?(?P<title>.*)$")


@dataclass
class Block:
    """One block of the reduced tree: its kind (a tag name, ``math``, ``footnotes``, ``text``), its
    children, the number of ``<br>`` of a run of text, and the source line it starts on (1-based,
    the oracle's only; 0 where unknown)."""

    kind: str
    children: list[Block] = field(default_factory=list)
    breaks: int = 0
    line: int = 0
    pending: int = 0  # <br> read with no text after them yet: one ending its block shows nothing, and is not counted

    def label(self) -> str:
        return f"{self.kind}[br={self.breaks}]" if self.kind in TEXT_HOLDERS or self.kind == "text" else self.kind

    def walk(self, depth: int = 0):
        """``(depth, block)`` for this block's descendants in document order."""
        for child in self.children:
            yield depth, child
            yield from child.walk(depth + 1)

    def outline(self) -> str:
        """The tree as indented lines of labels (for messages and tests)."""
        return "\n".join("  " * depth + block.label() for depth, block in self.walk())


class _TreeBuilder(HTMLParser):
    """HTML -> :class:`Block` tree, mapping the site's and markdown-it's markup to the same blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Block("root")
        self.stack: list[tuple[str, Block | None]] = []  # (tag, block it opened or None)
        self.skip: int | None = None  # the depth of the element whose content is not compared, while inside it

    def _current(self) -> Block:
        for _, block in reversed(self.stack):
            if block is not None:
                return block
        return self.root

    def _text_run(self) -> Block:
        """The block that counts the breaks of the text being read: the text holder, or an implicit
        paragraph inside a list item, a quote or a cell."""
        parent = self._current()
        if parent.kind not in TEXT_RUN_PARENTS:
            return parent
        if parent.children and parent.children[-1].kind == "p" and getattr(parent.children[-1], "_implicit", False):
            return parent.children[-1]
        block = Block("p")
        block._implicit = True  # type: ignore[attr-defined]
        parent.children.append(block)
        return block

    def _map(self, tag: str, attrs: dict[str, str]) -> str | None:
        """The block kind an element counts as; ``None``: not a block (its content still counts);
        ``"-"``: left out with its content."""
        classes = set((attrs.get("class") or "").split())
        if {"admonition-title"} & classes or tag == "summary":
            return "-"
        if "footnotes-sep" in classes or "headerlink" in classes or "kb-title" in classes:  # the title above a page (not its text)
            return "-"
        if tag == "div" and "admonition" in classes or tag == "details":
            return "blockquote"
        if "arithmatex" in classes or "math" in classes:
            # a display: markdown-it's <div> (also for `$$` inside text), the site's <div> or its displayed
            # <span> (hooks.kb.display_math); an inline formula is text
            return "math" if tag == "div" or classes & {"block", DISPLAYED} else "-"
        if (tag == "div" and "footnote" in classes) or (tag == "section" and "footnotes" in classes):
            return "footnotes"
        if tag in BLOCK_TAGS:
            return tag
        return None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: v or "" for k, v in attrs_list}
        if self.skip is not None:
            if tag not in VOID_TAGS:
                self.stack.append((tag, None))
            return
        if tag == "br":
            self._text_run().pending += 1
            return
        if tag == "img":
            self._shown()
        kind = self._map(tag, attrs)
        if kind == "hr" and self._current().kind == "footnotes":
            kind = "-"
        if kind is None:
            if tag not in VOID_TAGS:
                self.stack.append((tag, None))
            return
        if kind == "-":
            if tag not in VOID_TAGS:
                self.stack.append((tag, None))
                self.skip = len(self.stack)
            return
        block = Block(kind, line=int(attrs.get("data-line") or 0))
        self._current().children.append(block)
        if tag in VOID_TAGS:
            return
        self.stack.append((tag, block))
        if kind in LEAF_TAGS or kind == "math":
            self.skip = len(self.stack)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if self.skip is not None and len(self.stack) < self.skip:
            self.skip = None

    def handle_data(self, data: str) -> None:
        if self.skip is None and data.strip():
            self._shown()

    def _shown(self) -> None:
        """Something shows after the breaks read so far: they count (a break at the end of its block
        shows no line, in a browser as in Obsidian)."""
        if self.skip is not None:
            return
        if self._current().kind in TEXT_RUN_PARENTS:
            run = self._text_run()
        else:
            run = self._current()
        run.breaks += run.pending
        run.pending = 0


def block_tree(html: str) -> Block:
    """The reduced tree of blocks of an HTML fragment (see the module docstring)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- the oracle ----------------------------------------------------------------------------------------

def oracle_source(markdown: str) -> str:
    """The text the oracle reads: ``markdown`` with each callout's ``[!type] title`` line emptied (its
    quote marks kept), so that Obsidian's callout, like the site's admonition, is its body in a quote."""
    return "\n".join(CALLOUT_RE.sub(lambda m: m.group("quote").rstrip(), line) for line in markdown.split("\n"))


def _oracle(line_breaks: bool):
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin

    md = MarkdownIt("commonmark", {"breaks": line_breaks, "html": True}).enable(["table", "strikethrough"])
    md.use(front_matter_plugin).use(footnote_plugin).use(tasklists_plugin)
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    return md


_ORACLES: dict[bool, object] = {}


def oracle_html(markdown: str, *, line_breaks: bool = True) -> str:
    """What CommonMark (Obsidian's reading view) makes of ``markdown``, each block's first source line
    (1-based) in a ``data-line`` attribute."""
    md = _ORACLES.get(line_breaks)
    if md is None:
        md = _ORACLES[line_breaks] = _oracle(line_breaks)
    env: dict = {}
    tokens = md.parse(oracle_source(markdown), env)  # type: ignore[attr-defined]
    for token in tokens:
        if token.map is not None and token.nesting >= 0 and token.block:
            token.attrSet("data-line", str(token.map[0] + 1))
    # (a fence's line lands on its <code>, left out of the tree: a difference there is named by the block above)
    return md.renderer.render(tokens, md.options, env)  # type: ignore[attr-defined]


# --- the comparison -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """Where the site's blocks part from the oracle's: the oracle's source line (1-based in the text
    compared) and what each side has there."""

    line: int
    oracle: str
    site: str


def compare(site_html: str, markdown: str, *, line_breaks: bool = True) -> Difference | None:
    """The first block where the site's HTML of ``markdown`` differs from the oracle's, or None."""
    ours = list(block_tree(site_html).walk())
    theirs = list(block_tree(oracle_html(markdown, line_breaks=line_breaks)).walk())
    last_line = 1
    for index in range(max(len(ours), len(theirs))):
        mine = ours[index] if index < len(ours) else None
        other = theirs[index] if index < len(theirs) else None
        if other is not None and other[1].line:
            last_line = other[1].line
        if mine is None or other is None or mine[0] != other[0] or mine[1].label() != other[1].label():
            describe = lambda item: "nothing" if item is None else f"{item[1].label()} at depth {item[0]}"  # noqa: E731
            return Difference(last_line, describe(other), describe(mine))
    return None
