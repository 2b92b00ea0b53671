"""Transclusion: ``![[note]]``, ``![[note#Heading]]`` and ``![[note#^block]]`` alone on a line show the
target's content in the page, as Obsidian's reading view does.

The embedded text is inserted into the page's Markdown before anything renders it, inside a
``<div class="kb-embed" markdown>`` with a link back to where it came from:

* its wikilinks are resolved where they were written (``[[#Heading]]`` means the source's heading)
  and written as Markdown links relative to the page that shows them, so MkDocs checks them;
* its headings are demoted below the heading the embed sits under (the page keeps one ``h1``) and
  get ids of their own (``embed-1-theory``), so the page's own headings keep the ids links expect;
* its block-id markers are dropped (the anchors belong to the source page);
* embeds inside it are expanded too, up to :data:`MAX_DEPTH`; a page that embeds itself, or a
  chain of embeds that comes back to a page on it, is a problem and the embed stays a link.

Every source shown in a page is recorded as a :class:`Piece`, so that the demo planner plans the
figures of a transcluded section for the page that shows it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from hooks.kb.notes import PageInfo
from hooks.kb.obsidian import block_id_edits, block_text, find_block_ids, media_embed
from hooks.kb.wikilinks import Linker, Resolution, Slugify, WikiLink, find_wikilinks, heading_key, is_image, markdown_link, render_resolution
from hooks.markdown import ATTR_LIST_RE, ATX_RE, SETEXT_RE, Edit, Scan, apply_edits, line_prefix, plain_text, scan
from hooks.problems import Problem

MAX_DEPTH = 8  # embeds inside embeds, this deep at most
# What embeds may show, counted as the text each embed inserts (nested embeds count again wherever they
# are shown): embeds fan out (ten notes that each embed the next ten reach 10^8 copies at eight levels),
# and every character shown is Markdown that MkDocs converts and a page the reader downloads.
MAX_CHARS = 500_000  # in one page, all its embeds together
MAX_SITE_CHARS = 10_000_000  # in all pages of one build together (about 2.5 times the text of 1,000 notes)
EMBED_OVERHEAD = 200  # what one embed adds besides its text: the wrapper and the link back
EMBED_CLASS = "kb-embed"


@dataclass(frozen=True)
class Piece:
    """Part of a source shown in another page (its figure directives are planned for that page)."""

    src_uri: str  # the page that shows it
    display_path: str  # the source it comes from, as messages name it
    text: str
    first_line: int  # line number (1-based) of ``text``'s first line in its source


@dataclass
class Expansion:
    """A page's body with every embed replaced by what it shows."""

    text: str
    pieces: list[Piece] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def is_page_embed(link: WikiLink) -> bool:
    return link.embed and not is_image(link.target) and media_embed(link.target) is None


def standalone(line: str, link: WikiLink) -> bool:
    """Whether the embed is the only thing on its line (after quote markers and indentation)."""
    return line[len(line_prefix(line)):].strip() == link.raw


def inline_embed_problems(page: PageInfo, links: list[WikiLink]) -> list[Problem]:
    """A page embed inside a line of text is shown as a link: one warning each."""
    lines = None
    out = []
    for link in links:
        if not is_page_embed(link):
            continue
        lines = lines or page.body.split("\n")
        if not standalone(lines[link.line], link):
            out.append(Problem(page.display_path, page.body_line + link.line,
                               f"{link.raw} inside a line of text is shown as a link; put it on a line of its own to show the content", "warning"))
    return out


@dataclass
class _Run:
    """One page's expansion in progress."""

    host: str
    pieces: list[Piece] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    embeds: int = 0
    chars: int = 0
    cut: int = 0  # embeds left out because the page or the site showed too much already
    first_cut: int = -1  # index in ``problems`` of the report of the first of them


class Transcluder:
    """Expands the embeds of pages, using the knowledge base's pages, links and block ids."""

    def __init__(
        self,
        pages: Mapping[str, PageInfo],
        links_of: Callable[[str], list[WikiLink]],
        linker: Linker,
        slugify: Slugify,
        separator: str = "-",
        scan_of: Callable[[str], Scan] | None = None,
    ) -> None:
        self.pages = pages
        self.links_of = links_of
        self.linker = linker
        # the one scan of each page's body (hooks.kb.graph.Parsed.scan); scanned here only without one
        self.scan_of = scan_of or (lambda uri: scan(self.pages[uri].body))
        self.slugify = slugify
        self.separator = separator
        self.site_chars = 0  # what the embeds of every page expanded so far show
        self._sections: dict[tuple[str, str], tuple[str, int, Scan, list[WikiLink]]] = {}  # (page, heading) -> its section, scanned

    def expand(self, uri: str) -> Expansion | None:
        """The page's body with its embeds expanded, or None when it embeds no page."""
        page = self.pages[uri]
        links = [link for link in self.links_of(uri) if is_page_embed(link)]
        if not links:
            return None
        run = _Run(uri)
        text = self._text(run, uri, page.body, self.scan_of(uri), page.body_line, links, stack=[uri], shift=0, base=1, nested=False)
        self.site_chars += run.chars
        if run.cut > 1:
            first = run.problems[run.first_cut]
            run.problems[run.first_cut] = Problem(first.path, first.line, f"{first.message} ({run.cut - 1} more embeds shown in "
                                                  f"{page.display_path} were left out too)", first.severity)
        return Expansion(text, run.pieces, run.problems)

    # --- one text: its embeds replaced (and, when nested, its links written out) --------------------

    def _text(self, run: _Run, source: str, text: str, result: Scan, first_line: int, links: list[WikiLink], *,
              stack: list[str], shift: int, base: int, nested: bool) -> str:
        """``text`` (of ``source``, scanned as ``result``) with its embeds expanded; ``shift``: how much
        deeper its headings go, ``base``: the level of the heading it sits under."""
        lines = result.lines
        headings = result.headings
        edits: list[Edit] = []
        display = self.pages[source].display_path
        for link in links:
            resolution = self.linker.resolve(link, source)
            shown = None
            if is_page_embed(link) and standalone(lines[link.line], link) and not resolution.severity and resolution.target in self.pages:
                above = [h.level for h in headings if h.line < link.line]
                context = min(6, (above[-1] + shift) if above else base)
                shown = self._embed(run, source, display, first_line + link.line, link, resolution, lines[link.line],
                                    stack=stack, context=context)
            if shown is not None:
                edits.append(Edit(link.line, 0, len(lines[link.line]), shown))
            elif nested:  # the links of embedded text are written out here, relative to the page showing it
                edits.append(Edit(link.line, link.column, link.column + len(link.raw), render_resolution(resolution, run.host)))
        if nested:
            edits += self._demotions(run, result, shift)
            edits += block_id_edits(text, find_block_ids(text, result).values(), anchors=False)
        return apply_edits(text, edits)

    def _embed(self, run: _Run, source: str, display: str, line_number: int, link: WikiLink, resolution: Resolution,
               line: str, *, stack: list[str], context: int) -> str | None:
        target = resolution.target
        assert target is not None

        def problem(message: str) -> None:
            run.problems.append(Problem(display, line_number, message, "warning"))

        if target == source:
            problem(f"{link.raw} embeds this page in itself; remove it, or link to the part with [[...]]")
            return None
        if target in stack:
            cycle = stack[stack.index(target):]
            first = cycle.index(min(cycle))
            if cycle[first - 1] == source:  # one report per cycle, however a page reaches it: at the embed of its first page
                chain = cycle[first:] + cycle[:first] + [cycle[first]]
                titles = " → ".join(self.pages[uri].title for uri in chain)
                problem(f"{link.raw} closes a cycle of embeds ({titles}); remove one of them, or link instead of embedding")
            return None
        if len(stack) > MAX_DEPTH:
            problem(f"{link.raw} is an embed inside {MAX_DEPTH} levels of embeds; link to it instead")
            return None
        page = self.pages[target]
        known = self._sections.get((target, link.heading))
        if known is None:
            section, start = self._section(target, link)
            # A section is a text of its own (a part of the target's body, its first and last blank lines
            # dropped), so it is scanned on its own: its lines are classified from its first line on.
            found = scan(section)
            known = self._sections[(target, link.heading)] = (section, start, found, find_wikilinks(section, found))
        section, start, found, section_links = known
        cost = len(section) + EMBED_OVERHEAD + len(line_prefix(line)) * section.count("\n")
        too_much = (f"{self.pages[run.host].display_path} would show more than {MAX_CHARS:,} characters through embeds"
                    if run.chars + cost > MAX_CHARS else
                    f"the embeds of this site would show more than {MAX_SITE_CHARS:,} characters in all"
                    if self.site_chars + run.chars + cost > MAX_SITE_CHARS else None)
        if too_much:
            run.cut += 1
            if run.cut == 1:
                run.first_cut = len(run.problems)
                problem(f"{link.raw} is not shown: {too_much}; link to it instead of embedding it, or embed a section (![[note#Heading]])")
            return None
        before = run.chars
        run.chars += cost  # an estimate while its own embeds are expanded, then what it shows
        run.pieces.append(Piece(run.host, page.display_path, section, page.body_line + start))
        levels = [h.level for h in found.headings]
        shift = max(0, context + 1 - min(levels)) if levels else 0
        body = self._text(run, target, section, found, page.body_line + start, section_links, stack=[*stack, target],
                          shift=shift, base=context, nested=True)
        run.embeds += 1
        shown = self._wrap(body, line, self._label(page, link), run.host, target, resolution.anchor)
        run.chars = before + len(shown)
        return shown

    def _section(self, target: str, link: WikiLink) -> tuple[str, int]:
        """The text an embed shows and the index of its first line in the target's body."""
        body = self.pages[target].body
        if not link.heading:
            lines = body.split("\n")
            start = next((i for i, text in enumerate(lines) if text.strip()), 0)
            return "\n".join(lines[start:]).rstrip("\n"), start
        if link.heading.startswith("^"):
            block = find_block_ids(body, self.scan_of(target))[link.heading[1:]]
            return block_text(body, block), block.start
        found = self.scan_of(target)
        lines, headings = found.lines, found.headings
        key = heading_key(link.heading)
        for i, h in enumerate(headings):
            if heading_key(plain_text(h.text)) == key:
                end = next((later.line for later in headings[i + 1 :] if later.level <= h.level), len(lines))
                return "\n".join(lines[h.line : end]).rstrip("\n"), h.line
        return "", 0  # the linker found the heading, so this is not reached

    def _demotions(self, run: _Run, result: Scan, shift: int) -> list[Edit]:
        """Headings of embedded text: ``shift`` levels deeper, each with an id of its own."""
        edits = []
        for h in result.headings:
            level = min(6, h.level + shift)
            anchor = f"embed-{run.embeds + 1}-{self.slugify(plain_text(h.text), self.separator)}"
            line = result.lines[h.line]
            m = ATX_RE.match(line)
            if m and m.group("text") is not None and line.lstrip().startswith("#"):
                text_start = m.start("text")
                attrs = ATTR_LIST_RE.search(m.group("text"))
                text_end = m.start("text") + attrs.start() if attrs else m.end("text")
                edits.append(Edit(h.line, 0, text_start, "#" * level + " "))
                edits.append(Edit(h.line, text_end, len(line), f" {{ #{anchor} }}"))
            elif h.line + 1 < len(result.lines) and SETEXT_RE.match(result.lines[h.line + 1]):
                edits.append(Edit(h.line, 0, 0, "#" * level + " "))
                edits.append(Edit(h.line, len(line), len(line), f" {{ #{anchor} }}"))
                edits.append(Edit(h.line + 1, 0, len(result.lines[h.line + 1]), ""))
        return edits

    def _label(self, page: PageInfo, link: WikiLink) -> str:
        if link.heading and not link.heading.startswith("^"):
            return f"{page.title} › {link.heading}"
        return page.title

    @staticmethod
    def _wrap(body: str, line: str, label: str, host: str, target: str, anchor: str) -> str:
        prefix = line_prefix(line)
        blank = prefix.rstrip()
        source = markdown_link(label, host, target, anchor)
        out = [f'<div class="{EMBED_CLASS}" markdown="1">', "", f"{source}{{ .kb-embed-source }}", "", *body.split("\n"), "", "</div>"]
        return "\n".join((prefix + text) if text else blank for text in out)

