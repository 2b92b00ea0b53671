"""The graph of pages (notes, concepts and every other page): every source checked once, wikilinks resolved, backlinks, neighbours and tags derived.

Two phases, as links make a graph and not a tree: what one source says (its front matter, its
links, headings and excerpt) is derived once per version of that source and cached on it
(:class:`ParseCache`); the graph over all pages is then put together with dictionary lookups only,
which is cheap enough to redo on every build, and lets a rebuild under ``mkdocs serve`` re-read
only the files that changed.
"""
from __future__ import annotations

import dataclasses
import datetime
import functools
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from markdown.extensions.toc import slugify as toc_slugify

import hooks.kb.archive as stored
from hooks.kb.archive import Archive
from hooks.kb.notes import NOTES_DIR, PageInfo, check_page, excerpt
from hooks.kb.obsidian import BlockId, find_block_ids, find_tags, unsupported
from hooks.kb.sources import Source, Status
from hooks.problems import Problem
from hooks.urls import page_url, relative_url
from hooks.kb.wikilinks import (
    AssetIndex,
    Headings,
    Linker,
    NameIndex,
    Resolution,
    Slugify,
    WikiLink,
    extract_headings,
    find_wikilinks,
    name_key,
)
from hooks.kb.transclude import Expansion, Transcluder, inline_embed_problems
from hooks.kb.vault import Vault
from hooks.markdown import Scan, scan

# Pages the build writes; a file of the same name in docs/ would clash with them.
NOTES_INDEX = "notes/index.md"
CONCEPTS_INDEX = "concepts/index.md"
CONCEPT_MAP = "concept-map.md"
FEED = "feed.xml"
GENERATED = {
    NOTES_INDEX: "the notes archive",
    CONCEPTS_INDEX: "the concept index",
    CONCEPT_MAP: "the concept map",
    FEED: "the RSS feed",
}
TAGS_MARKER = "<!-- kb:tags -->"  # the page holding this line lists every tag; tag chips link there
# A page holding one of these lists the site's pages (the home's newest notes, the map, the tags): a hub,
# like the home page itself, which is not a node of the graph (hooks.kb.graph.KnowledgeBase.hubs).
LIST_MARKERS = ("<!-- kb:newest -->", "<!-- kb:concept-map -->", TAGS_MARKER, "<!-- kb:month ")
HOME = "index.md"
MAX_SUGGESTIONS = 100  # "did you mean" costs a scan of every name; stop offering it after this many misses
HIDDEN_REASONS = {"draft": "is a draft, which is not published", "excluded": "is excluded from the site (exclude_docs)"}


# --- what one source says ----------------------------------------------------------------------------

@dataclass
class Parsed:
    """What one version of one source says, derived once."""

    source: Source
    page: PageInfo | None
    problems: list[Problem]
    links: list[WikiLink] = field(default_factory=list)
    excerpt: str = ""
    has_tags_marker: bool = False
    lists_pages: bool = False  # holds one of LIST_MARKERS
    tags: list[str] = field(default_factory=list)  # inline #tags, each once, in order
    blocks: dict[str, BlockId] = field(default_factory=dict)  # ^block-id -> where it is
    _headings: Headings | None = None
    _scan: Scan | None = None  # the one scan of the body that everything above was found in

    @property
    def scan(self) -> Scan:
        """The one scan of the source's body: every finder of this module and of the transcluder visits it."""
        if self._scan is None:  # a Parsed read back from the archive: its body is scanned once, when first asked
            self._scan = scan(self.source.body)
        return self._scan

    def headings(self, slugify: Slugify, separator: str) -> Headings:
        if self._headings is None:
            self._headings = extract_headings(self.page.body, slugify, separator, self.scan) if self.page else Headings()
        return self._headings




# What the archive (hooks.kb.archive) keeps of a Parsed: its fields as JSON lists, without its source (the
# archive's key names it, and the caller holds it), its headings' ids (they depend on the site's toc
# settings) and its scan (cheaper to redo than to store).

def encode_parsed(parsed: Parsed) -> list:
    page = parsed.page
    if page is not None:
        meta_lines = None if page.meta_lines == parsed.source.meta_lines else page.meta_lines
        page = [page.kind, page.title, page.slug, page.date.isoformat() if page.date else None, page.tags, page.aliases,
                page.draft, page.description, page.cssclasses, page.titled, page.title_line, meta_lines]
    return [page, stored.encode_problems(parsed.problems),
            [[None if k.raw == _as_written(k.target, k.heading, k.label, k.embed) else k.raw, k.target, k.heading, k.label, k.embed,
              k.line, k.column] for k in parsed.links],
            parsed.excerpt, parsed.has_tags_marker, parsed.lists_pages, parsed.tags,
            [[b.id, b.line, b.column, b.end, b.start, b.last, b.standalone] for b in parsed.blocks.values()]]


def _as_written(target: str, heading: str, label: str | None, embed: bool) -> str:
    """A wikilink as it is most often written: what the archive leaves out when ``raw`` is this."""
    return f"{'!' if embed else ''}[[{target}{'#' + heading if heading else ''}{'|' + label if label is not None else ''}]]"


_WIKILINK_FIELDS = ("raw", "target", "heading", "label", "embed", "line", "column")  # the order encode_parsed writes
assert _WIKILINK_FIELDS == tuple(f.name for f in dataclasses.fields(WikiLink))
# A field added to these without a place in encode_parsed would be lost on the way through the archive.
assert tuple(f.name for f in dataclasses.fields(PageInfo)) == (
    "src_uri", "display_path", "kind", "title", "body", "body_line", "slug", "date", "tags", "aliases", "draft",
    "description", "cssclasses", "titled", "title_line", "meta_lines")
assert tuple(f.name for f in dataclasses.fields(Parsed)) == (
    "source", "page", "problems", "links", "excerpt", "has_tags_marker", "lists_pages", "tags", "blocks", "_headings", "_scan")


def _texts(values: object) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError("not a list of text")
    return values


def decode_parsed(source: Source, data: object) -> Parsed:
    """The :class:`Parsed` of ``source`` that :func:`encode_parsed` wrote; ValueError (or TypeError, ...) otherwise."""
    page, problems, links, excerpt_text, has_tags_marker, lists_pages, tags, blocks = data
    info = None
    if page is not None:
        kind, title, slug, date, page_tags, aliases, draft, description, cssclasses, titled, title_line, meta_lines = page
        if kind not in ("note", "concept", "page") or not isinstance(draft, bool) or not isinstance(titled, bool):
            raise ValueError("not a page")
        info = PageInfo(source.src_uri, source.display_path, kind, stored.text(title), source.body, source.body_line,
                        stored.text(slug), datetime.date.fromisoformat(date) if date is not None else None,
                        _texts(page_tags), _texts(aliases), draft, stored.text(description), _texts(cssclasses), titled,
                        stored.integer(title_line),
                        dict(source.meta_lines) if meta_lines is None else
                        {stored.text(k): stored.integer(v) for k, v in meta_lines.items()})
    wikilinks = []
    for values in links:  # some 20,000 at 1,000 notes: checked field by field, made as pickle makes them (no __init__)
        raw, target, heading, label, embed, line, column = values
        if not ((raw is None or type(raw) is str) and type(target) is str and type(heading) is str
                and (label is None or type(label) is str) and type(embed) is bool and type(line) is int and type(column) is int):
            raise ValueError("not a wikilink")
        if raw is None:
            values = [_as_written(target, heading, label, embed), target, heading, label, embed, line, column]
        link = object.__new__(WikiLink)
        link.__dict__.update(zip(_WIKILINK_FIELDS, values))
        wikilinks.append(link)
    block_ids = {}
    for block_id, *where, standalone in blocks:
        if not isinstance(block_id, str) or not all(isinstance(n, int) for n in where) or not isinstance(standalone, bool):
            raise ValueError("not a block id")
        block_ids[block_id] = BlockId(block_id, *where, standalone)
    if not isinstance(has_tags_marker, bool) or not isinstance(lists_pages, bool):
        raise ValueError("not a flag")
    return Parsed(source, info, stored.decode_problems(problems), wikilinks, stored.text(excerpt_text), has_tags_marker,
                  lists_pages, _texts(tags), block_ids)


class ParseCache:
    """:class:`Parsed` per source, kept while the source object (and so the file) is unchanged;
    ``archive`` holds those of earlier builds, by the source's path and bytes (hooks.kb.archive)."""

    def __init__(self, archive: Archive | None = None) -> None:
        self._by_uri: dict[str, tuple[int, tuple, Parsed]] = {}
        self.archive = archive

    def get(self, source: Source, listed_as_draft: bool, vault: Vault | None = None) -> Parsed:
        vault = vault or Vault()
        settings = (listed_as_draft, vault.daily)  # what a page's kind and date depend on besides its text
        known = self._by_uri.get(source.src_uri)
        if known is not None and known[0] == id(source) and known[1] == settings and known[2].source is source:
            return known[2]
        key = (source.digest, listed_as_draft, *(vault.daily or ("", ""))) if source.digest else None
        parsed = self.archive.get("parsed", key, functools.partial(decode_parsed, source)) if self.archive is not None else None
        if parsed is None:
            parsed = parse(source, listed_as_draft, vault)
            if self.archive is not None:
                self.archive.put("parsed", key, parsed, encode_parsed)
        self._by_uri[source.src_uri] = (id(source), settings, parsed)
        return parsed

    def retain(self, src_uris: Iterable[str]) -> None:
        keep = set(src_uris)
        for uri in list(self._by_uri):
            if uri not in keep:
                del self._by_uri[uri]


def parse(source: Source, listed_as_draft: bool = False, vault: Vault | None = None) -> Parsed:
    """What ``source`` says: its body is scanned once and every finder visits that one scan."""
    result = scan(source.body) if source.ok else None
    page, problems = check_page(source, listed_as_draft, result, vault)
    if page is None or result is None:
        return Parsed(source, None, problems, _scan=result)
    links = find_wikilinks(page.body, result)
    problems += [Problem(page.display_path, page.body_line + line, f"Obsidian syntax the site does not render: {message}", "warning")
                 for line, message in unsupported(page.body, result)]
    problems += inline_embed_problems(page, links)
    return Parsed(
        source,
        page,
        problems,
        links=links,
        excerpt=excerpt(page.body, result=result) if page.kind == "note" else "",
        has_tags_marker=TAGS_MARKER in page.body,
        lists_pages=any(m in page.body for m in LIST_MARKERS),
        tags=list(dict.fromkeys(tag.name for tag in find_tags(page.body, result))),
        blocks=find_block_ids(page.body, result),
        _scan=result,
    )


# --- the graph ---------------------------------------------------------------------------------------

@dataclass
class KnowledgeBase:
    """Everything the build and ``notes check`` need, computed once from the sources."""

    pages: dict[str, PageInfo]  # published pages (drafts left out) by src_uri
    notes: list[PageInfo]  # newest first
    concepts: list[PageInfo]  # by title
    hidden: dict[str, str]  # src_uri -> why it is not published (drafts, excluded files)
    linker: Linker
    links: dict[str, list[str]]  # page -> pages it links to, each once, in order of first link
    backlinks: dict[str, list[str]]  # page -> notes (newest first), then concepts, then other pages (by title), that link to it
    related: dict[str, list[tuple[str, int]]]  # concept -> (concept, notes mentioning both), most first
    older: dict[str, str]  # note -> the note before it by date
    newer: dict[str, str]  # note -> the note after it by date
    excerpts: dict[str, str]  # note -> first paragraph as plain text
    tags: dict[str, list[str]]  # tag -> pages carrying it (notes newest first, then other pages by title)
    tags_page: str | None  # the page that lists the tags (holds TAGS_MARKER)
    urls: dict[str, str]  # src_uri -> URL from the site root, for every published page
    parsed: dict[str, Parsed]  # src_uri -> what its source says, published or not
    resolutions: dict[str, list[Resolution]]  # page -> where each of its wikilinks goes, in order
    problems: list[Problem] = field(default_factory=list)
    use_directory_urls: bool = True
    expansions: dict[str, Expansion] = field(default_factory=dict)  # page -> its body with embeds expanded (pages that embed)
    hubs: frozenset[str] = frozenset()  # the home page and pages that list pages (LIST_MARKERS): not nodes of the graph
    heading_ids: tuple[Slugify, str] | None = None  # (slugify, separator): how the site's toc makes a heading's id
    months: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "YYYY-MM" -> its notes, newest month and note first
    note_counts: dict[str, int] = field(default_factory=dict)  # page -> how many notes link to it (they lead its backlinks)
    _derivation: _Derivation | None = field(default=None, repr=False, compare=False)  # what a later build updates it from

    def is_node(self, src_uri: str) -> bool:
        """Whether a page is a node of the graph: it has "Linked from" and a local graph, and its links
        count as backlinks of the pages it links to. Every published page but the hubs."""
        return src_uri in self.pages and src_uri not in self.hubs

    def body_of(self, src_uri: str) -> str:
        """What a page's Markdown says once its embeds are expanded (its body when it embeds nothing)."""
        expansion = self.expansions.get(src_uri)
        return expansion.text if expansion is not None else self.pages[src_uri].body

    @property
    def drafts(self) -> list[str]:
        return sorted(uri for uri, reason in self.hidden.items() if reason == HIDDEN_REASONS["draft"])

    def headings(self, src_uri: str) -> Headings:
        """A published page's headings, with the ids the site's toc gives them (none for any other page).
        Read through the page's own entries, so that a read of one page's headings depends on that page
        alone (hooks.kb.recorded), not on the linker every save makes anew."""
        return page_headings(self.pages, self.parsed, self.heading_ids, src_uri)

    def newest(self, count: int) -> list[str]:
        """The ``count`` newest notes, read through :attr:`months` (so that, under serve, a list of the
        newest notes depends on which notes there are and their dates, not on what each one says)."""
        out: list[str] = []
        for uris in self.months.values():
            if len(out) >= count:
                break
            out += uris[: count - len(out)]
        return out

    def concepts_of(self, src_uri: str) -> list[str]:
        return [t for t in self.links.get(src_uri, ()) if self.pages[t].kind == "concept"]

    def note_count(self, src_uri: str) -> int:
        return self.note_counts.get(src_uri, 0)

    def linking_notes(self, src_uri: str) -> list[str]:
        """The notes that link to a page, newest first (the first of its backlinks)."""
        return self.backlinks.get(src_uri, [])[: self.note_count(src_uri)]

    def href(self, target: str, from_uri: str) -> str:
        """The URL of ``target`` relative to the page ``from_uri``."""
        from_url = self.urls.get(from_uri) or page_url(from_uri, self.use_directory_urls)
        return relative_url(self.urls[target], from_url)


def _sort_key_newest(page: PageInfo) -> tuple[datetime.date, str]:
    return (page.date or datetime.date.min, page.src_uri)


def _claim_names(pages: list[PageInfo], names: NameIndex, problems: list[Problem]) -> None:
    """Index titles (those of a title property: a page is found by its file name anyway), then aliases;
    a name claimed by two pages is an error, but for a title two pages (neither a note nor a concept) share."""
    owner: dict[str, PageInfo] = {}
    claims = [(p, p.title, "title", p.title_line) for p in pages if p.titled]
    claims += [(p, alias, "alias", p.meta_lines.get("aliases", 1)) for p in pages for alias in p.aliases]
    for page, name, what, line in claims:
        first = owner.setdefault(name_key(name), page)
        if first is page:
            names.add_name(name, page.src_uri)
        elif what == "title" and page.kind == first.kind == "page":  # two pages of a vault may share a title, as in
            names.add_name(name, page.src_uri)  # Obsidian: a wikilink by that title is ambiguous, and says so where it is
        else:
            problems.append(Problem(
                page.display_path, line,
                f"the {what} '{name}' is already the title or an alias of {first.display_path}; "
                "a name must belong to one page, so change one of them",
            ))


def _check_slugs(notes: Iterable[PageInfo], problems: list[Problem]) -> None:
    first: dict[str, PageInfo] = {}
    for note in notes:
        other = first.setdefault(name_key(note.slug), note)
        if other is not note:
            problems.append(Problem(
                note.display_path, 0,
                f"two notes have the slug '{note.slug}': this one and {other.display_path}; rename one of them",
            ))


@dataclass(frozen=True)
class _Settings:
    """What a knowledge base is a function of, besides what its sources say."""

    images: tuple[str, ...]
    slugify: Slugify
    separator: str
    excluded: tuple[tuple[str, str], ...]
    use_directory_urls: bool


@dataclass
class _Derivation:
    """What a build of the knowledge base keeps for the next one to update rather than redo
    (:func:`build_knowledge_base` with ``previous``): its settings, the name indexes and, per page, the
    problems and unresolved links of its wikilinks."""

    settings: _Settings
    names: NameIndex
    hidden_index: NameIndex
    display: dict[str, str]
    assets: AssetIndex
    titles: dict[str, str]
    naming_problems: list[Problem]
    link_problems: dict[str, list[Problem]]
    misses: dict[str, int]
    order: dict[str, int] = field(default_factory=dict)  # the pages whose links are backlinks, in the order backlinks list them
    co_mentions: dict[str, Counter[str]] = field(default_factory=dict)  # concept -> concepts a note mentions with it, how often


def _shape(parsed: Parsed) -> tuple | None:
    """What of a source other pages, the lists and the name indexes depend on: a change of it rebuilds the
    knowledge base; any other change (its text, links, tags, excerpt) is updated in place."""
    page = parsed.page
    if page is None:
        return None
    return (page.kind, page.draft, page.title, page.titled, page.title_line, tuple(page.aliases), page.meta_lines.get("aliases"),
            page.slug, page.date, page.display_path, parsed.has_tags_marker, parsed.lists_pages)


def build_knowledge_base(
    sources: Iterable[Source],
    image_uris: Iterable[str] = (),
    slugify: Slugify = toc_slugify,
    separator: str = "-",
    *,
    vault: Vault | None = None,
    statuses: Mapping[str, Status] | None = None,
    excluded: Iterable[tuple[str, str]] = (),
    use_directory_urls: bool = True,
    cache: ParseCache | None = None,
    previous: KnowledgeBase | None = None,
) -> KnowledgeBase:
    """Check every source, resolve every wikilink and derive the graph; problems are collected, never raised.

    ``statuses``: each source's inclusion level as the generator listed it (drafts of ``draft_docs``
    are treated like ``draft: true``). ``vault``: the vault's settings (its daily notes). ``excluded``: ``(src_uri, display path)`` of Markdown files the
    generator excludes, which are never read but named when a wikilink asks for them.
    ``previous``: the knowledge base of an earlier build with the same ``cache`` (``mkdocs serve``): when
    the pages are the same files and no page changed what other pages depend on (:func:`_shape`), it is
    updated from the sources that changed (their links resolved again, the lists derived from links
    and tags derived again) instead of built anew; the result is the same either way.
    """
    statuses = statuses or {}
    cache = cache or ParseCache()
    sources = sorted(sources, key=lambda s: s.src_uri)
    with stored.collector_paused():  # every parse read back from the archive at once
        parses = [cache.get(source, statuses.get(source.src_uri) == "draft", vault) for source in sources]
    parsed_by_uri = {source.src_uri: parsed for source, parsed in zip(sources, parses)}
    cache.retain(parsed_by_uri)
    settings = _Settings(tuple(sorted(image_uris)), slugify, separator, tuple(excluded), use_directory_urls)
    if previous is not None:
        updated = _update(previous, parsed_by_uri, settings)
        if updated is not None:
            return updated
    return _build(parsed_by_uri, settings)


def _build(parsed_by_uri: dict[str, Parsed], settings: _Settings) -> KnowledgeBase:
    pages: dict[str, PageInfo] = {}
    hidden: dict[str, str] = {}
    hidden_index = NameIndex()
    display: dict[str, str] = {}
    for parsed in parsed_by_uri.values():
        page = parsed.page
        if page is None:
            continue
        display[page.src_uri] = page.display_path
        if page.draft:
            hidden[page.src_uri] = HIDDEN_REASONS["draft"]
            for name in [page.title, *page.aliases]:
                hidden_index.add_name(name, page.src_uri)
            hidden_index.add_file(page.src_uri, page.slug)
            continue
        pages[page.src_uri] = page
    for uri, shown in settings.excluded:
        hidden[uri] = HIDDEN_REASONS["excluded"]
        display[uri] = shown
        hidden_index.add_file(uri)

    notes = sorted((p for p in pages.values() if p.kind == "note"), key=_sort_key_newest, reverse=True)
    concepts = sorted((p for p in pages.values() if p.kind == "concept"), key=lambda p: (p.title.casefold(), p.src_uri))

    names = NameIndex()
    naming_problems: list[Problem] = []
    _claim_names(sorted(pages.values(), key=lambda p: (p.kind == "page", p.src_uri)), names, naming_problems)
    _check_slugs((n for n in reversed(notes) if n.src_uri.startswith(NOTES_DIR)), naming_problems)
    for page in pages.values():
        names.add_file(page.src_uri, page.slug)

    state = _Derivation(settings, names, hidden_index, display, AssetIndex(settings.images), {uri: p.title for uri, p in pages.items()},
                        naming_problems, {}, {})
    kb = KnowledgeBase(pages=pages, notes=notes, concepts=concepts, hidden=hidden, linker=None,  # type: ignore[arg-type]  # made below, from kb
                       links={}, backlinks={}, related={}, older={}, newer={}, excerpts={}, tags={}, tags_page=None,
                       urls={uri: page_url(uri, settings.use_directory_urls) for uri in pages}, parsed=parsed_by_uri,
                       resolutions={}, use_directory_urls=settings.use_directory_urls,
                       heading_ids=(settings.slugify, settings.separator), months=_months(notes))
    kb.linker = _linker(state, kb)
    misses = 0
    for uri in pages:
        misses += _resolve_page(kb, state, uri, suggest_from=misses)
    by_date = notes[::-1]
    kb.older = {b.src_uri: a.src_uri for a, b in zip(by_date, by_date[1:])}
    kb.newer = {a.src_uri: b.src_uri for a, b in zip(by_date, by_date[1:])}
    kb.excerpts = {note.src_uri: parsed_by_uri[note.src_uri].excerpt for note in notes}
    kb.hubs = frozenset(uri for uri in pages if uri == HOME or parsed_by_uri[uri].lists_pages)
    tags_pages = [uri for uri in pages if parsed_by_uri[uri].has_tags_marker]
    kb.tags_page = tags_pages[0] if tags_pages else None
    _derive_from_links(kb, state)
    kb.tags = _tags(kb)
    _finish(kb, state)
    return kb


def _months(notes: list[PageInfo]) -> dict[str, tuple[str, ...]]:
    """The notes (newest first) by month, newest month first."""
    out: dict[str, list[str]] = {}
    for note in notes:
        out.setdefault(f"{note.date or datetime.date.min:%Y-%m}", []).append(note.src_uri)
    return {month: tuple(uris) for month, uris in out.items()}


def page_headings(pages: Mapping[str, PageInfo], parsed: Mapping[str, Parsed], heading_ids: tuple[Slugify, str] | None,
                  src_uri: str) -> Headings:
    if src_uri not in pages or heading_ids is None:
        return Headings()
    return parsed[src_uri].headings(*heading_ids)


def _linker(state: _Derivation, kb: KnowledgeBase) -> Linker:
    # Made of the knowledge base's tables, not of the knowledge base itself: a knowledge base holding a
    # linker that holds it would be a cycle, freed by the collector's passes only (under serve those
    # skip what the session keeps: serve_speedups.freeze_garbage), not as soon as a save replaces it.
    pages, parsed = kb.pages, kb.parsed
    return Linker(
        state.names,
        functools.partial(page_headings, pages, parsed, kb.heading_ids),
        titles=state.titles,
        display=state.display,
        assets=state.assets,
        hidden=state.hidden_index,
        hidden_reasons=kb.hidden,
        blocks=lambda uri: parsed[uri].blocks if uri in pages else {},
    )


def _resolve_page(kb: KnowledgeBase, state: _Derivation, uri: str, *, suggest_from: int) -> int:
    """Resolve one page's wikilinks (suggesting close names while fewer than MAX_SUGGESTIONS links of
    the pages before it went nowhere: ``suggest_from``); sets its resolutions, links and problems, and
    returns how many of its links go nowhere."""
    page, linker = kb.pages[uri], kb.linker
    targets: dict[str, None] = {}
    resolved: list[Resolution] = []
    problems: list[Problem] = []
    misses = 0
    for link in kb.parsed[uri].links:
        resolution = linker.resolve(link, uri, suggest=suggest_from + misses < MAX_SUGGESTIONS)
        resolved.append(resolution)
        if resolution.severity:
            misses += resolution.target is None
            problems.append(Problem(page.display_path, page.body_line + link.line, resolution.message, resolution.severity))
        if resolution.target in kb.pages and resolution.target != uri:
            targets[resolution.target] = None
    kb.resolutions[uri] = resolved
    kb.links[uri] = list(targets)
    state.link_problems[uri] = problems
    state.misses[uri] = misses
    return misses


def _derive_from_links(kb: KnowledgeBase, state: _Derivation, changed: Mapping[str, list[str]] | None = None) -> None:
    """Backlinks and related concepts, from every page's links; ``changed``: the pages whose links changed
    since ``state`` was derived, with the links they had then (only what they link to is derived again)."""
    pages = kb.pages
    if changed is None:
        other_pages = sorted((p for p in pages.values() if p.kind == "page"), key=lambda p: (p.title.casefold(), p.src_uri))
        # notes newest first, then concepts, then other pages; a hub links to everything: its links are no one's backlinks
        state.order = {p.src_uri: i for i, p in enumerate(itertools.chain(kb.notes, kb.concepts, other_pages)) if p.src_uri not in kb.hubs}
        backlinks: dict[str, list[str]] = {}
        for source in state.order:
            for target in kb.links[source]:
                backlinks.setdefault(target, []).append(source)
        state.co_mentions = {}
        for note in kb.notes:
            _co_mention(state.co_mentions, _concepts_in(kb, kb.links[note.src_uri]), 1)
        kb.backlinks = _kept(kb.backlinks, backlinks)
        kb.note_counts = _kept(kb.note_counts, {t: _notes_among(kb, linked) for t, linked in backlinks.items()})
        kb.related = _kept(kb.related, {c: _ranked(kb, counts) for c, counts in state.co_mentions.items()})
        return
    backlinks, related, note_counts = dict(kb.backlinks), dict(kb.related), dict(kb.note_counts)
    state.co_mentions = co_mentions = dict(state.co_mentions)
    touched: set[str] = set()
    for source, before in changed.items():
        now = kb.links[source]
        if source in state.order:
            for target in set(before) ^ set(now):
                linked = [u for u in backlinks.get(target, ()) if u != source]
                if target in now:
                    linked = sorted([*linked, source], key=state.order.__getitem__)
                if linked:
                    backlinks[target] = linked
                    note_counts[target] = _notes_among(kb, linked)
                else:
                    backlinks.pop(target, None)
                    note_counts.pop(target, None)
        if pages[source].kind == "note":
            for concepts, sign in ((_concepts_in(kb, before), -1), (_concepts_in(kb, now), 1)):
                touched.update(concepts)
                _co_mention(co_mentions, concepts, sign)
    for concept in touched:
        counts = co_mentions.get(concept)
        if counts:
            related[concept] = _ranked(kb, counts)
        else:
            co_mentions.pop(concept, None)
            related.pop(concept, None)
    kb.backlinks, kb.related, kb.note_counts = backlinks, _kept(kb.related, related), note_counts


def _notes_among(kb: KnowledgeBase, linked: list[str]) -> int:
    return sum(1 for uri in linked if kb.pages[uri].kind == "note")


def _concepts_in(kb: KnowledgeBase, targets: list[str]) -> list[str]:
    return [t for t in targets if kb.pages[t].kind == "concept"]


def _co_mention(co_mentions: dict[str, Counter[str]], concepts: list[str], sign: int) -> None:
    """Count (``sign`` 1) or uncount (-1) one note mentioning ``concepts`` together; a changed counter is a copy."""
    if len(concepts) < 2:
        return
    for a in set(concepts):
        counts = co_mentions[a] = Counter(co_mentions.get(a, ()))
        for b in concepts:
            if b != a:
                counts[b] += sign
                if counts[b] <= 0:
                    del counts[b]


def _ranked(kb: KnowledgeBase, counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], kb.pages[item[0]].title.casefold(), item[0]))


def _kept(old: dict, new: dict) -> dict:
    """``new`` with each value that equals the one ``old`` has under its key replaced by that one, so an
    unchanged entry stays the same object from one build to the next (cheap to compare)."""
    for key, value in new.items():
        before = old.get(key)
        if before is not None and before == value:
            new[key] = before
    return new


def _tags(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Tag -> the pages carrying it (front matter, then inline #tags)."""
    tags: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}  # tags are compared without case, as in Obsidian; the first spelling is shown
    others = sorted((p for p in kb.pages.values() if p.kind != "note"), key=lambda p: (p.title.casefold(), p.src_uri))
    for page in itertools.chain(kb.notes, others):
        for tag in dict.fromkeys([*page.tags, *kb.parsed[page.src_uri].tags]):
            shown = spelling.setdefault(tag.casefold(), tag)
            uris = tags.setdefault(shown, [])
            if not uris or uris[-1] != page.src_uri:
                uris.append(page.src_uri)
    return _kept(kb.tags, dict(sorted(tags.items(), key=lambda item: item[0].casefold())))


def _finish(kb: KnowledgeBase, state: _Derivation) -> None:
    """Embeds expanded (every page again: the embeds of a site share one budget), and every problem."""
    transcluder = Transcluder(kb.pages, lambda uri: kb.parsed[uri].links, kb.linker, state.settings.slugify, state.settings.separator,
                              scan_of=lambda uri: kb.parsed[uri].scan)
    problems = [p for parsed in kb.parsed.values() for p in parsed.problems] + state.naming_problems
    kb.expansions = {}
    for uri in kb.pages:
        problems += state.link_problems[uri]
        expansion = transcluder.expand(uri)
        if expansion is not None:
            kb.expansions[uri] = expansion
            problems += expansion.problems
    kb.problems = sorted(set(problems))
    kb._derivation = state


def _update(previous: KnowledgeBase, parsed_by_uri: dict[str, Parsed], settings: _Settings) -> KnowledgeBase | None:
    """``previous`` updated to the sources ``parsed_by_uri`` (see :func:`build_knowledge_base`), or
    None when they changed more than it can be updated for."""
    state = previous._derivation
    if state is None or state.settings != settings or parsed_by_uri.keys() != previous.parsed.keys():
        return None
    changed = [uri for uri, parsed in parsed_by_uri.items() if previous.parsed[uri] is not parsed]
    if any(_shape(previous.parsed[uri]) != _shape(parsed_by_uri[uri]) for uri in changed):
        return None
    changed_pages = [uri for uri in changed if uri in previous.pages]
    if not changed:
        return previous
    kb = dataclasses.replace(previous, parsed=parsed_by_uri, pages=dict(previous.pages), links=dict(previous.links),
                             resolutions=dict(previous.resolutions), excerpts=dict(previous.excerpts))
    state = dataclasses.replace(state, link_problems=dict(state.link_problems), misses=dict(state.misses))
    fresh = {uri: parsed_by_uri[uri].page for uri in changed_pages}
    kb.pages.update(fresh)
    kb.notes = [fresh.get(p.src_uri, p) for p in previous.notes]
    kb.concepts = [fresh.get(p.src_uri, p) for p in previous.concepts]
    kb.linker = _linker(state, kb)
    # A page whose headings or block ids changed: the links to it are resolved again too.
    slugify, separator = settings.slugify, settings.separator
    moved = {uri for uri in changed_pages
             if previous.parsed[uri].headings(slugify, separator).anchors != parsed_by_uri[uri].headings(slugify, separator).anchors
             or previous.parsed[uri].blocks.keys() != parsed_by_uri[uri].blocks.keys()}
    again = set(changed_pages)
    if moved:
        again |= {uri for uri, resolved in previous.resolutions.items() if any(r.target in moved for r in resolved)}
    before = sum(state.misses.values())
    for uri in again:  # suggestions are offered for every miss while the site has at most MAX_SUGGESTIONS
        state.misses[uri] = 0
    for uri in again:
        _resolve_page(kb, state, uri, suggest_from=0)
    if max(before, sum(state.misses.values())) > MAX_SUGGESTIONS:
        return None  # which misses get a suggestion depends on the order of every page's misses: built anew
    for uri in changed_pages:
        if uri in kb.excerpts:
            kb.excerpts[uri] = parsed_by_uri[uri].excerpt
    relinked = {uri: previous.links[uri] for uri in again if kb.links[uri] != previous.links[uri]}
    if relinked:
        _derive_from_links(kb, state, relinked)
    if any(previous.pages[uri].tags != kb.pages[uri].tags or previous.parsed[uri].tags != parsed_by_uri[uri].tags for uri in changed_pages):
        kb.tags = _tags(kb)
    _finish(kb, state)
    return kb


# --- the concept map -------------------------------------------------------------------------------

MAP_NOTE_LABELS = 15  # notes drawn with a visible label when the map has at most this many
MAP_LABEL_CHARS = 32  # a longer note title is cut on the map (the node's link carries the full title)
MAP_CONCEPT_LABEL_CHARS = 40  # a longer concept title too: one long label would widen the map and shrink every other


@dataclass(frozen=True)
class MapNode:
    src_uri: str
    kind: str  # "concept" or "note"
    title: str
    x: float
    y: float
    degree: int
    label: str = ""  # the text drawn under the node ("" for none)
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x0, y0, x1, y1: shape, label and target


@dataclass(frozen=True)
class ConceptMap:
    nodes: list[MapNode]
    edges: list[tuple[int, int]]  # indices into nodes
    width: int
    height: int
    font: float = 15.0  # label size in user units
    narrow: "ConceptMap | None" = None  # the same map laid out for a phone's width, labels as large on screen


def map_members(kb: KnowledgeBase, map_notes: int) -> list[str]:
    """The nodes of the concept map: every concept, the newest ``map_notes`` notes and the ``map_notes``
    most linked-to other pages (a vault's hubs; a page nothing links to is left to its local graph), so
    a vault of hundreds of undated pages draws at most as many nodes as it has concepts, plus twice that."""
    count = max(map_notes, 0)
    pages = sorted((uri for uri, p in kb.pages.items() if p.kind == "page" and kb.is_node(uri) and kb.backlinks.get(uri)),
                   key=lambda uri: (-len(kb.backlinks[uri]), kb.pages[uri].title.casefold(), uri))
    return [c.src_uri for c in kb.concepts] + kb.newest(count) + pages[:count]


def concept_radius(degree: int) -> float:
    return round(6 + min(degree, 12) * 0.75, 1)


def _boxes(kinds: list[str], degrees: list[int], labels: list[str], font: float, target: float):
    """Each node's box relative to its centre (x0, y0, x1, y1): its shape, its label under it, and a
    target at least ``target`` units high and wide."""
    import numpy as np

    out = []
    for kind, degree, label in zip(kinds, degrees, labels):
        r = concept_radius(degree) if kind == "concept" else 7.0
        half = max(target / 2, r, len(label) * 0.3 * font)  # 0.6 em per character, generous for titles
        top = -max(r, target / 2)
        bottom = max(r + font + 6, target / 2) if label else max(r, target / 2)
        out.append((-half, top, half, bottom))
    return np.array(out, dtype=float).reshape(len(out), 4)


def _separate(xy, boxes, *, pad: float, width: float | None) -> None:
    """Move nodes (in place) until no two boxes overlap; a given ``width`` is kept by moving only vertically.

    Deterministic: each round pushes every overlapping pair apart by its overlap along the shorter
    axis (each node half of it; vertically when the width is fixed), and a crowded layout is spread
    out between rounds. (Pushing by half the overlap took twice the rounds, 400 a layout of 70
    nodes, and left a larger map.)
    """
    import numpy as np

    n = len(xy)
    if n < 2:
        return
    order = np.arange(n) * 1e-6  # breaks ties between nodes at the same place
    for attempt in range(40):
        for _ in range(200):
            lo, hi = xy + boxes[:, :2], xy + boxes[:, 2:]
            over_x = np.minimum(hi[:, None, 0], hi[None, :, 0]) - np.maximum(lo[:, None, 0], lo[None, :, 0]) + pad
            over_y = np.minimum(hi[:, None, 1], hi[None, :, 1]) - np.maximum(lo[:, None, 1], lo[None, :, 1]) + pad
            clash = (over_x > 0) & (over_y > 0)
            np.fill_diagonal(clash, False)
            if not clash.any():
                return
            centre = (lo + hi) / 2
            dx = centre[:, None, 0] - centre[None, :, 0] + (order[:, None] - order[None, :])
            dy = centre[:, None, 1] - centre[None, :, 1] + (order[:, None] - order[None, :])
            along_x = clash & (over_x < over_y) if width is None else np.zeros_like(clash)
            along_y = clash & ~along_x
            xy[:, 0] += np.where(along_x, np.sign(dx) * over_x / 2, 0).sum(1)
            xy[:, 1] += np.where(along_y, np.sign(dy) * over_y / 2, 0).sum(1)
        centre = xy.mean(0)
        xy[:] = centre + (xy - centre) * ([1.0, 1.15] if width is not None else 1.15)  # crowded: spread out


def _fit(members, kinds, titles, degrees, labels, unit_xy, edges, *, width: int, height: int, font: float, target: float,
         fixed_width: bool) -> ConceptMap:
    """Positions in [0, 1]² scaled to a box, boxes separated, everything moved inside a margin."""
    import numpy as np

    margin = 8.0
    boxes = _boxes(kinds, degrees, labels, font, target)
    xy = np.array(unit_xy, dtype=float).reshape(len(members), 2) * [width, height]
    if fixed_width:  # keep every box inside the width; only vertical moves from here on
        xy[:, 0] = np.clip(xy[:, 0], margin - boxes[:, 0], width - margin - boxes[:, 2])
    _separate(xy, boxes, pad=4.0, width=width if fixed_width else None)
    lo = (xy + boxes[:, :2]).min(0) - margin
    hi = (xy + boxes[:, 2:]).max(0) + margin
    if fixed_width:
        lo[0], hi[0] = 0.0, float(max(width, hi[0]))
    xy -= lo
    size = np.ceil(hi - lo)
    nodes = []
    for i, uri in enumerate(members):
        x, y = round(float(xy[i, 0]), 1), round(float(xy[i, 1]), 1)
        box = tuple(round(float(v), 1) for v in (x + boxes[i, 0], y + boxes[i, 1], x + boxes[i, 2], y + boxes[i, 3]))
        nodes.append(MapNode(uri, kinds[i], titles[i], x, y, degrees[i], labels[i], box))
    return ConceptMap(nodes, edges, int(size[0]), int(size[1]), font)


def spring_layout(n: int, edges: list[tuple[int, int]], *, seed: int, iterations: int = 200, threshold: float = 1e-4):
    """Positions (n, 2) of a force-directed layout (Fruchterman & Reingold 1991, "Graph drawing by
    force-directed placement"): nodes start at seeded random places in the unit square; each step,
    every pair repels with force k²/d, every edge attracts with d²/k (k = √(1/n)), and each node
    moves along its net force by at most a temperature that cools linearly from a tenth of the
    layout's extent; it stops when the mean move falls under ``threshold``. Dense numpy, O(n²) a step.
    """
    import numpy as np

    rng = np.random.RandomState(seed)
    pos = rng.rand(n, 2)
    if n < 2:
        return pos
    adjacency = np.zeros((n, n))
    for a, b in edges:
        adjacency[a, b] = adjacency[b, a] = 1.0
    k = np.sqrt(1.0 / n)
    t = max(np.ptp(pos[:, 0]), np.ptp(pos[:, 1])) * 0.1
    dt = t / (iterations + 1)
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]  # (n, n, 2): from each node to each other
        distance = np.clip(np.linalg.norm(delta, axis=-1), 0.01, None)
        force = np.einsum("ijk,ij->ik", delta, k * k / distance**2 - adjacency * distance / k)
        length = np.clip(np.linalg.norm(force, axis=-1), 0.01, None)
        step = force * (t / length)[:, None]
        pos += step
        t -= dt
        if np.linalg.norm(step) / n < threshold:
            break
    return pos


@dataclass(frozen=True)
class MapGraph:
    """What the concept map is laid out from: its nodes (:func:`map_members`) with their
    kinds, titles, labels and degrees, and its edges (indices into the nodes)."""

    members: list[str]
    kinds: list[str]
    titles: list[str]
    degrees: list[int]
    labels: list[str]
    edges: list[tuple[int, int]]


def _cut(title: str, chars: int) -> str:
    """``title`` as a map label: at most ``chars`` characters, a cut one ending in '…'."""
    return title if len(title) <= chars else title[: chars - 1].rstrip() + "…"


def map_graph(kb: KnowledgeBase, map_notes: int) -> MapGraph:
    """The concept map's nodes and edges: :func:`map_members`."""
    members = map_members(kb, map_notes)
    index = {uri: i for i, uri in enumerate(members)}
    edges = sorted({
        (min(index[a], index[b]), max(index[a], index[b]))
        for a in members
        for b in kb.links.get(a, ())
        if b in index and b != a
    })
    pages = [kb.pages[uri] for uri in members]
    kinds = [p.kind for p in pages]
    titles = [p.title for p in pages]
    degrees = [0] * len(members)
    for a, b in edges:
        degrees[a] += 1
        degrees[b] += 1
    label_notes = kinds.count("note") <= MAP_NOTE_LABELS  # past that, note labels would bury the concepts
    labels = [_cut(t, MAP_CONCEPT_LABEL_CHARS) if k == "concept" else _cut(t, MAP_LABEL_CHARS) if label_notes else ""
              for k, t in zip(kinds, titles)]
    return MapGraph(members, kinds, titles, degrees, labels, edges)


def concept_map(kb: KnowledgeBase, map_notes: int, **layout) -> ConceptMap:
    """The concept map of ``kb`` (:func:`map_graph`), laid out by :func:`lay_out`."""
    return lay_out(map_graph(kb, map_notes), **layout)


def lay_out(graph: MapGraph, *, width: int = 960, height: int = 640, seed: int = 1, narrow_width: int = 360) -> ConceptMap:
    """The nodes laid out by a seeded spring layout; boxes around each node and its label are then
    pushed apart, so no two labels or targets overlap.

    The same layout is fitted twice: to ``width`` (labels at 15 units, targets 36) and, turned upright,
    to a phone's ``narrow_width`` (labels at 13 units, targets 28), where it grows downwards instead of
    shrinking. Positions are rounded to one decimal, so the same graph gives the same bytes on every build.
    """
    members, kinds, titles, degrees, labels, edges = (graph.members, graph.kinds, graph.titles, graph.degrees,
                                                      graph.labels, graph.edges)
    if not members:
        return ConceptMap([], [], width, height)
    pts = [(float(x), float(y)) for x, y in spring_layout(len(members), edges, seed=seed)]

    def unit(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if not points:
            return []
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        sx, sy = max(xs) - min(xs), max(ys) - min(ys)
        return [((x - min(xs)) / sx if sx > 1e-9 else 0.5, (y - min(ys)) / sy if sy > 1e-9 else 0.5) for x, y in points]

    margin_x, margin_y = 120 / width, 40 / height
    wide_xy = [(margin_x + x * (1 - 2 * margin_x), margin_y + y * (1 - 2 * margin_y)) for x, y in unit(pts)]
    wide = _fit(members, kinds, titles, degrees, labels, wide_xy, edges, width=width, height=height, font=15.0, target=36.0,
                fixed_width=False)
    upright = unit([(y, x) for x, y in pts])  # the layout is wider than tall: turn it
    tall = max(360, 30 * len([lab for lab in labels if lab]) + 12 * len(members))  # grows where labels need it
    narrow = _fit(members, kinds, titles, degrees, labels, upright, edges,
                  width=narrow_width, height=tall, font=13.0, target=28.0, fixed_width=True)
    return ConceptMap(wide.nodes, edges, wide.width, wide.height, wide.font, narrow)
