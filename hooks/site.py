"""The whole site planned and checked once: files -> sources -> knowledge base -> figures -> demo jobs -> problems.

:func:`plan_site` is the one place where a site is read and checked. The MkDocs hooks, ``notes
check``, ``notes demos``, ``notes export`` and the benchmarks all call it with the files the
generator lists, so none of them can pass what another fails. A :class:`Session` keeps what was
read between builds (``mkdocs serve``), so a rebuild reads only the files that changed, and
:func:`fingerprints` tells which pages a change affects.

What the generator is told and given is decided here too, for the hooks and ``notes export`` alike:
the Markdown extensions and scripts the pages need (:func:`markdown_setup`, :func:`scripts`), each
page's source (:func:`page_source`), every file the build adds (:func:`site_files`), and, for the
export, each page's finished Markdown (:func:`exported_page`).
"""
from __future__ import annotations

import functools
import json
import os
import posixpath
import unicodedata
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from markdown.extensions.toc import slugify as toc_slugify

from hooks.config import Section
from hooks.figures.directive import FigureRef, SpecCache, blocks_above, collect_refs
from hooks.figures.pages import (RUNS_PAGE, PageLink, figure_id, figure_paths, figure_size, figures_markdown, published_files,
                                 render_runs_page, site_folder)
from hooks.figures.model import Job, Result
from hooks.figures.numbers import NumberRef, PageNumbers, Shown, collect_numbers, drift_problems, show
from hooks.figures.plan import Settings, plan_jobs
from hooks.kb import assets, explorer, fragments, reading, render
from hooks.kb.archive import FILE as ARCHIVE_FILE
from hooks.kb.commonmark_blocks import explicit_quotes
from hooks.kb.archive import Archive
from hooks.kb.graph import CONCEPTS_INDEX, FEED, GENERATED, NOTES_INDEX, ConceptMap, KnowledgeBase, ParseCache, build_knowledge_base, concept_map
from hooks.kb.reading import PageFigure
from hooks.kb.recorded import Reads, Tracked
from hooks.kb.notes import first_h1
from hooks.kb.sources import Source, SourceFile, SourceStore, check_file, split_front_matter
from hooks.kb.vault import Vault, read_vault
from hooks.kb.wikilinks import Slugify
from hooks.markdown import close_quoted_fences, readable_fences, scan
from hooks.problems import Problem
from hooks.urls import page_url, site_href


@dataclass
class Project:
    """What the core needs to know about a site, read from the generator's configuration."""

    root: Path
    docs_dir: Path
    site_name: str = "Notes"
    site_url: str = ""
    site_description: str = ""
    use_directory_urls: bool = True
    notes: fragments.Settings = field(default_factory=fragments.Settings)
    demos: Settings | None = None  # None when the site does not run demos
    slugify: Slugify = toc_slugify
    separator: str = "-"
    config_path: Path | None = None
    markdown_extensions: list[str] = field(default_factory=list)  # as the generator read them (not yet completed by markdown_setup)
    mdx_configs: dict[str, Any] = field(default_factory=dict)
    vault: Vault = field(default_factory=Vault)  # the Obsidian vault's settings: daily notes, folders never published

    def display(self, path: str | os.PathLike[str]) -> str:
        """A path as messages show it: relative to the project root, POSIX separators.

        A symbolic link is named as it lies in the project, not by its target (which may be outside).
        """
        path = Path(os.path.abspath(path))
        for candidate in (path, path.parent.resolve() / path.name):
            for base in (self.root, self.root.resolve()):
                if candidate.is_relative_to(base):
                    return candidate.relative_to(base).as_posix()
        return path.as_posix()


def notes_settings(extra: Any, config_path: Path | None) -> fragments.Settings:
    """``extra.notes`` of mkdocs.yml over the defaults."""
    section = Section(Section(extra, ("extra",), config_path).values.get("notes"), ("extra", "notes"), config_path)
    defaults = fragments.Settings()
    return fragments.Settings(
        feed_items=section.number("feed_items", defaults.feed_items, low=0, high=100_000, whole=True),
        newest_on_home=section.number("newest_on_home", defaults.newest_on_home, low=0, high=100_000, whole=True),
        map_notes=section.number("map_notes", defaults.map_notes, low=0, high=10_000, whole=True),
    )


OBSIDIAN_APP_SETTINGS = Path(".obsidian") / "app.json"


def line_breaks_shown(docs_dir: Path, extra: Any, config_path: Path | None) -> bool:
    """Whether a single line break in a page is shown as one, as Obsidian's reading view decides:
    ``extra.notes.line_breaks`` of mkdocs.yml when set, else the vault's ``.obsidian/app.json``
    (in docs_dir or the project's folder) ``strictLineBreaks`` (strict: not shown), else Obsidian's
    default (shown). ConfigError on a setting that is not true or false."""
    section = Section(Section(extra, ("extra",), config_path).values.get("notes"), ("extra", "notes"), config_path)
    if "line_breaks" in section.values:
        return section.flag("line_breaks", True)
    root = config_path.parent if config_path is not None else docs_dir.parent
    for vault in (docs_dir, root):
        try:
            app = json.loads((vault / OBSIDIAN_APP_SETTINGS).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # no vault settings here, or settings Obsidian itself would not read
            continue
        strict = app.get("strictLineBreaks", False) if isinstance(app, dict) else False
        return not (strict is True)
    return True


def project_from_config(config: Mapping[str, Any], *, with_demos: bool, jobs: int | None = None, device: str | None = None) -> Project:
    """A :class:`Project` from MkDocs' configuration (any mapping with its keys); ConfigError on a bad setting."""
    config_path = Path(config["config_file_path"]) if config.get("config_file_path") else None
    docs_dir = Path(config["docs_dir"]).resolve()
    root = config_path.parent.resolve() if config_path else docs_dir.parent
    extra = config.get("extra") or {}
    toc = (config.get("mdx_configs") or {}).get("toc", {}) or {}
    demos = None
    if with_demos:
        section = Section(extra, ("extra",), config_path)
        demos = Settings.from_extra(root, section.mapping("demos"), jobs, device, config_path=config_path, docs_dir=docs_dir)
    return Project(
        root=root,
        docs_dir=docs_dir,
        site_name=str(config.get("site_name") or "Notes"),
        site_url=str(config.get("site_url") or ""),
        site_description=str(config.get("site_description") or ""),
        use_directory_urls=bool(config.get("use_directory_urls", True)),
        notes=notes_settings(extra, config_path),
        demos=demos,
        slugify=toc.get("slugify", toc_slugify),
        separator=toc.get("separator", "-"),
        config_path=config_path,
        markdown_extensions=[str(name) for name in config.get("markdown_extensions") or []],
        mdx_configs={name: dict(value or {}) for name, value in (config.get("mdx_configs") or {}).items()},
        vault=read_vault(docs_dir, root),
    )


@dataclass
class SitePlan:
    """One build's view of the site: every source read and checked, every figure and demo run planned."""

    project: Project
    files: list[SourceFile]
    kb: KnowledgeBase
    refs: list[FigureRef]
    jobs: list[Job]
    problems: list[Problem]
    refused: set[str]  # src_uris of listed files that must not be published (links leaving the project, ...)
    generated: dict[str, str]  # src_uri -> what the build generates there

    published: set[str] = field(default_factory=set)  # site paths of the demo files the demo hook publishes
    results: list[Result] = field(default_factory=list)  # this build's demo runs (set by show_runs)
    runs: dict[tuple[str, str], Result] = field(default_factory=dict)  # the same by (demo, params_id)
    reads: Reads | None = None  # under serve, the session's reads kept from build to build (hooks.kb.recorded)
    numbers: list[NumberRef] = field(default_factory=list)  # the numbers the pages take from runs (hooks.figures.numbers)
    for_author: bool = False  # pages say what an author can do about a missing figure (under serve); readers get a neutral note
    _context: fragments.Context | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._refs_by_page: dict[str, dict[str, FigureRef]] = {}
        for ref in self.refs:
            self._refs_by_page.setdefault(ref.src_uri, {})[ref.raw] = ref
        self._numbers_by_page: dict[str, dict[str, NumberRef]] = {}
        for number in self.numbers:
            self._numbers_by_page.setdefault(number.src_uri, {})[number.raw] = number
        self._shown: dict[str, dict[str, Shown]] = {}
        self._demo_concepts: dict[str, set[str]] | None = None  # demo -> concepts whose page shows one of its figures
        self._index_problems()

    def _index_problems(self) -> None:
        by_path: dict[str, list[Problem]] = {}
        for p in self.problems:
            by_path.setdefault(p.path, []).append(p)
        self._problems_by_page = {f.src_uri: by_path[f.display_path] for f in self.files if f.display_path in by_path}

    def refs_on(self, src_uri: str) -> dict[str, FigureRef]:
        """The figure directives of one page, by their line (stripped)."""
        return self._refs_by_page.get(src_uri, {})

    def figures_on(self, src_uri: str) -> tuple[PageFigure, ...]:
        """The demo figures a page shows that were published (a swept figure by its first value), in page order."""
        shown = []
        for ref in self.refs_on(src_uri).values():
            paths = figure_paths(ref.demo, ref.params_id, ref.figure)
            if paths["light"] in self.published and paths["dark"] in self.published:
                caption = self.numbers_on(src_uri).plain(ref.caption) if ref.caption else f"{ref.demo}: {ref.figure}"
                if ref.variants:  # shown elsewhere without its slider: say which value it is
                    caption += f" (shown at {ref.sweep} = {ref.variants[0].label}; the slider is on the page)"
                result = self.runs.get((ref.demo, ref.params_id))
                size = figure_size(result, f"{ref.figure}-light.svg") if result is not None else None
                shown.append(PageFigure(caption, paths["light"], paths["dark"], figure_id(ref.raw), self._about(ref), size))
        return tuple(shown)

    def _about(self, ref: FigureRef) -> frozenset[str]:
        """The concepts a figure is about: those its caption links, else those of the nearest block of
        text above it that links any (back to the figure or heading before it), and those whose own page
        shows a figure of the same demo."""
        kb = self.kb
        if self._demo_concepts is None:
            self._demo_concepts = {}
            for other in self.refs:
                if other.src_uri in kb.pages and kb.pages[other.src_uri].kind == "concept":
                    self._demo_concepts.setdefault(other.demo, set()).add(other.src_uri)
        about = set(self._demo_concepts.get(ref.demo, ()))
        page = kb.pages.get(ref.src_uri)
        found = kb.parsed[ref.src_uri].scan if page is not None and ref.src_uri in kb.parsed else None
        index = ref.line - page.body_line if page is not None else -1
        if found is not None and 0 <= index < len(found.lines) and found.lines[index].strip() == ref.raw:  # not an embedded one
            concepts_on: dict[int, set[str]] = {}
            for r in kb.resolutions.get(ref.src_uri, ()):
                if r.target in kb.pages and kb.pages[r.target].kind == "concept":
                    concepts_on.setdefault(r.link.line, set()).add(r.target)
            for block in [[index], *blocks_above(found, index)]:  # the caption, then the text above, nearest first
                linked = set().union(*(concepts_on.get(line, set()) for line in block))
                if linked:
                    about |= linked
                    break
        return frozenset(about)

    def problems_of(self, src_uri: str) -> list[Problem]:
        return self._problems_by_page.get(src_uri, [])

    # --- the demo runs of this build, once they ran ---

    def show_runs(self, results: list[Result]) -> list[Problem]:
        """Take this build's demo runs: what the pages' figures, numbers, galleries and previews show.
        Returns the problems the runs make known (a bound number's key missing, a number that moved
        past its tolerance), which are the plan's problems from now on."""
        self.results = list(results)
        self.runs = {(r.job.name, r.job.params_id): r for r in self.results}
        self.published = set(published_files(self.results))
        self._shown = {}
        found = []
        for number in self.numbers:
            shown = self.numbers_on(number.src_uri).shown[number.raw]
            if shown.error:
                found.append(Problem(number.display_path, number.line, f"`{number.raw}`: {shown.error}", shown.severity))  # type: ignore[arg-type]
        found += drift_problems(self.numbers, self.runs, self.project.demos.drift_tolerance, self._saved_at) if self.project.demos else []
        self.problems = sorted(set(self.problems) | set(found))
        self._index_problems()
        if self._context is not None:  # what the fragments read changed with the figures and numbers
            self._context.use("numbers", self._number_values())
            self._context.use("figures", self._figures())
        return sorted(set(found))

    def _saved_at(self, display_path: str) -> str | None:
        """When a page was last written (UTC, as a run's ``finished_at``), or None."""
        for file in self.files:
            if file.display_path == display_path:
                try:
                    return datetime.fromtimestamp(os.stat(file.abs_path).st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                except OSError:
                    return None
        return None

    def numbers_on(self, src_uri: str) -> PageNumbers:
        """The bound numbers of one page as this build's runs give them, written as HTML links to their runs."""
        shown = self._shown.get(src_uri)
        if shown is None:
            shown = self._shown[src_uri] = {raw: show(ref, self.runs) for raw, ref in self._numbers_by_page.get(src_uri, {}).items()}
        href = site_href(src_uri, self.project.use_directory_urls)
        return PageNumbers(shown, href, RUNS_PAGE)

    def figures_markdown(self, src_uri: str, markdown: str) -> str:
        """The page's Markdown with its figure directives replaced by their figures' HTML and its bound
        numbers by their values (links to their runs)."""
        href = site_href(src_uri, self.project.use_directory_urls)
        numbers = self.numbers_on(src_uri) if src_uri in self._numbers_by_page else None
        return figures_markdown(markdown, self.refs_on(src_uri), self.runs, href, numbers, for_author=self.for_author)

    def figure_data(self, src_uri: str) -> tuple:
        """What the page's figures and numbers show (each directive's figure as HTML, each number as
        text and title), as a comparable value: the same function of the same runs that
        :meth:`figures_markdown` writes into the page."""
        refs = self.refs_on(src_uri)
        if not (refs or src_uri in self._numbers_by_page) or not self.runs:
            return ()
        href = site_href(src_uri, self.project.use_directory_urls)
        numbers = self.numbers_on(src_uri)
        return (tuple((raw, figures_markdown(raw, {raw: ref}, self.runs, href, numbers, for_author=self.for_author))
                      for raw, ref in sorted(refs.items())),
                tuple((raw, shown.text, shown.title) for raw, shown in sorted(numbers.shown.items())))

    # --- what the fragments of the pages read (hooks.kb.fragments) ---

    def context(self, concept_map: Callable[[], ConceptMap] | None = None) -> fragments.Context:
        """The fragments' context of this build (kept until the figures change); ``concept_map``: the
        build's own layout of the map, when it lays it out elsewhere."""
        if self._context is None:
            if self.reads is None:
                self._context = fragments.Context(self.kb, self.project.notes, self.figures_on,
                                                  tables={"by_url": render.previewed_urls(self.kb), "numbers": self._number_values()})
            else:  # every read of the knowledge base, the settings and the figures noted (hooks.kb.recorded)
                ctx = fragments.Context(Tracked(self.kb, self.reads), Tracked(self.project.notes, self.reads, "settings."),
                                        reads=self.reads)
                ctx.figures = lambda uri: ctx.table("figures").get(uri, ())
                ctx.tables.update(figures=self._figures(), by_url=render.previewed_urls(self.kb), numbers=self._number_values())
                ctx.begin()
                self._context = ctx
        if concept_map is not None:
            self._context.concept_map = concept_map
        return self._context

    def _number_values(self) -> dict[str, dict[str, str]]:
        """Each page's bound numbers as text (:meth:`numbers_on`), a table the reads of the fragments look at."""
        return {uri: self.numbers_on(uri).values for uri in self._numbers_by_page} if self.runs else {}

    def _figures(self) -> dict[str, tuple[PageFigure, ...]]:
        """Each page's figures (:meth:`figures_on`), as a table the reads of the fragments look at."""
        return {uri: self.figures_on(uri) for uri in self._refs_by_page}

    def runs_page(self) -> str:
        """The Markdown of the "Demo runs" page."""
        pages = {p.display_path: PageLink(p.title, uri) for uri, p in self.kb.pages.items()}
        return render_runs_page(self.results, pages, site_href(RUNS_PAGE, self.project.use_directory_urls), self.numbers)

    def demo_files(self) -> dict[str, Path]:
        """Site path -> cached file of every published demo output (figures, data.json, source)."""
        return published_files(self.results)



class Session:
    """What is kept between builds of one site: the sources read, what they say, the demos' specs;
    and on disk, between sessions, what the sources said (hooks.kb.archive)."""

    def __init__(self, project_root: Path, demos_dir: Path | None = None, *, keep_reads: bool = False):
        self.reads = Reads() if keep_reads else None  # what the pages' fragments read, kept between builds (serve)
        self.archive = Archive(Path(project_root) / ARCHIVE_FILE)
        self.store = SourceStore(self.archive)
        self.parse_cache = ParseCache(self.archive)
        self.specs = SpecCache(demos_dir or Path(project_root) / "demos", self.archive)
        self.kb: KnowledgeBase | None = None  # the latest build's, which the next one updates (hooks.kb.graph)


def generated_paths(project: Project) -> dict[str, str]:
    """Every src_uri the build writes itself, with what it is."""
    paths = dict(GENERATED)
    if project.demos is not None:
        paths[RUNS_PAGE] = "the Demo runs page"
    return paths


def _clashes(files: Iterable[SourceFile], generated: dict[str, str], demos: bool, use_directory_urls: bool) -> list[Problem]:
    """Files of docs/ at a path (or URL) the build writes itself: an error naming both."""
    problems = []
    urls = {page_url(uri, use_directory_urls): uri for uri in generated}
    for file in files:
        taken = generated.get(file.src_uri) or (generated.get(urls.get(page_url(file.src_uri, use_directory_urls), "")))
        if taken:
            problems.append(Problem(file.display_path, 0, f"the build generates {taken} here ({file.src_uri}); rename or delete this file"))
        elif demos and file.src_uri.startswith("demos/"):
            problems.append(Problem(file.display_path, 0, "docs/demos/ is where the build publishes demo figures; move this file elsewhere"))
    return problems


def _unicode_twins(files: Iterable[SourceFile]) -> tuple[list[Problem], set[str]]:
    """Files whose paths are the same text written in two Unicode forms (``é`` as one character, NFC, or
    as ``e`` and an accent, NFD): two pages whose URLs look the same. An error naming both; the second
    (in order of src_uri) is not read."""
    problems, twins = [], set()
    first: dict[str, SourceFile] = {}
    for file in sorted(files, key=lambda f: f.src_uri):
        other = first.setdefault(unicodedata.normalize("NFC", file.src_uri), file)
        if other is not file:
            twins.add(file.src_uri)
            problems.append(Problem(file.display_path, 0, f"has the same name as {other.display_path}, its letters written in another "
                                    f"Unicode form ({ascii(file.src_uri)} and {ascii(other.src_uri)}), so their pages' URLs look the "
                                    "same; rename or delete one of them"))
    return problems, twins


def _preview_clashes(kb: KnowledgeBase, files: Iterable[SourceFile]) -> list[Problem]:
    """Files of docs/ where the build writes a page's preview card (``preview.json`` beside it): an error
    naming the file, as a card of the site's own would silently replace the generated one."""
    own = {f.src_uri: f for f in files if f.published}
    problems = []
    for uri in reading.previewed(kb):
        path = reading.preview_path(kb.urls[uri])
        file = own.get(path)
        if file is not None:
            problems.append(Problem(file.display_path, 0, f"the build writes the preview card of {kb.pages[uri].display_path} "
                                    f"here ({path}); rename or delete this file"))
    return problems


def plan_site(
    project: Project,
    files: Iterable[SourceFile],
    *,
    session: Session | None = None,
    extra_runs: Iterable[tuple[str, dict[str, Any]]] = (),
    only: Iterable[str] | None = None,
) -> SitePlan:
    """Read and check every listed file and plan every demo run; problems are collected, never raised."""
    files = [f for f in files]
    session = session or Session(project.root, project.demos.demos_dir if project.demos else None)
    generated = generated_paths(project)
    problems = _clashes((f for f in files if f.status != "excluded"), generated, project.demos is not None, project.use_directory_urls)
    clashing = {f.src_uri for f in files if f.src_uri in generated or (project.demos is not None and f.src_uri.startswith("demos/"))}
    twin_problems, twins = _unicode_twins(f for f in files if f.status != "excluded")
    problems += twin_problems
    clashing |= twins
    refused: set[str] = set(clashing)
    real_dirs: dict[str, str] = {}
    stats: dict[str, os.stat_result] = {}
    for file in files:
        if file.status == "excluded" or file.src_uri in clashing:
            continue
        problem = check_file(file, project.root, real_dirs, stats)
        if problem is not None:
            problems.append(problem)
            refused.add(file.src_uri)
    readable = [f for f in files if f.src_uri not in refused]
    sources: list[Source] = session.store.load(readable, stats)
    attachments = [f.src_uri for f in readable if f.published and f.src_uri not in refused  # what [[file.pdf]] finds
                   and os.path.splitext(f.src_uri)[1].casefold() != ".md"]
    kb = build_knowledge_base(
        sources,
        attachments,
        project.slugify,
        project.separator,
        vault=project.vault,
        statuses={f.src_uri: f.status for f in readable},
        excluded=[(f.src_uri, f.display_path) for f in files if f.status == "excluded" and f.src_uri.endswith(".md")],
        use_directory_urls=project.use_directory_urls,
        cache=session.parse_cache,
        previous=session.kb,
    )
    session.kb = kb
    problems += kb.problems + _preview_clashes(kb, readable)
    refs: list[FigureRef] = []
    numbers: list[NumberRef] = []
    jobs: list[Job] = []
    if project.demos is not None:
        pages = [(uri, p.display_path, p.body, p.body_line, kb.parsed[uri].scan) for uri, p in kb.pages.items()]
        pages += [(uri, parsed.source.display_path, parsed.source.body, parsed.source.body_line)  # a page whose front matter
                  for uri, parsed in kb.parsed.items()  # cannot be read keeps its figures while it is fixed (under serve)
                  if uri not in kb.pages and uri not in kb.drafts and not parsed.source.ok and parsed.source.body]
        pages += [(piece.src_uri, piece.display_path, piece.text, piece.first_line)  # a transcluded section's figures
                  for expansion in kb.expansions.values() for piece in expansion.pieces]
        refs, ref_problems = collect_refs(pages, session.specs)
        numbers, number_problems = collect_numbers(pages, session.specs)
        jobs, job_problems = plan_jobs(project.demos, [*refs, *numbers], session.specs, only=only, extra_runs=extra_runs)
        problems += ref_problems + number_problems + job_problems
    session.archive.save()
    return SitePlan(project, files, kb, refs, jobs, sorted(set(problems)), refused, generated, reads=session.reads, numbers=numbers)


# --- what the generator is told: Markdown extensions and scripts ------------------------------------

REQUIRED_EXTENSIONS = ("attr_list", "md_in_html")  # image widths and the classed blocks the pages use
# Obsidian's syntax: math left as TeX for KaTeX in the browser (block syntax as the scanner of
# hooks.markdown sees it), ==highlight==, ~~strike~~ (no ~subscript~: Obsidian has none), task lists;
# the blocks of CommonMark (lists and tables right under text, lists nested by two spaces or a tab).
OBSIDIAN_EXTENSIONS = {
    "hooks.kb.commonmark_blocks": {},
    "footnotes": {"USE_DEFINITION_ORDER": False},  # [^1] and inline ^[...] (hooks.kb.obsidian.inline_footnotes), numbered as referenced
    "sane_lists": {},  # a bullet list and a numbered one are two lists, as in CommonMark (Python-Markdown merges them)
    "pymdownx.arithmatex": {"generic": True, "block_syntax": ["dollar", "square"],  # TeX kept as Obsidian writes it,
                            "tex_inline_wrap": ["$", "$"], "tex_block_wrap": ["$$", "$$"]},  # also in search and previews
    "hooks.kb.display_math": {},  # $$...$$ inside text and list items, displayed as Obsidian does
    "pymdownx.mark": {},
    "pymdownx.tilde": {"subscript": False},
    "pymdownx.tasklist": {"custom_checkbox": True},
    "hooks.kb.unused_syntax": {},  # a page without formulas or highlights is converted without their patterns
}


def markdown_setup(extensions: list[Any], configs: dict[str, Any], *, line_breaks: bool = True) -> None:
    """Complete the generator's Markdown extensions (in place) with those the pages need, with the
    settings they rely on, and a ```mermaid fence Material renders. ``line_breaks``: a single line
    break is shown (``nl2br``), as in Obsidian's reading view unless its strict line breaks are on
    (:func:`line_breaks_shown`)."""
    from pymdownx.superfences import fence_code_format

    for extension in REQUIRED_EXTENSIONS:
        if not any(isinstance(e, str) and e.endswith(extension) for e in extensions):
            extensions.append(extension)
    for name, settings in OBSIDIAN_EXTENSIONS.items():
        if name not in extensions:
            extensions.append(name)
        configs.setdefault(name, {}).update(settings)
    if line_breaks and "nl2br" not in extensions:
        extensions.append("nl2br")
    if "pymdownx.superfences" not in extensions:
        extensions.append("pymdownx.superfences")
    fences = configs.setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
    if not any(fence.get("name") == "mermaid" for fence in fences):
        fences.append({"name": "mermaid", "class": "mermaid", "format": fence_code_format})


def scripts(extra_javascript: list[Any]) -> list[Any]:
    """The site's scripts with the one that renders math and diagrams where a page has some."""
    if assets.SCRIPT not in [str(script) for script in extra_javascript]:
        extra_javascript.append(assets.SCRIPT)
    return extra_javascript


# --- what the generator is given: each page's source, the files the build adds --------------------------

EMPTY_FRONT_MATTER = "---\n{}\n---\n"  # keeps a generator from reading the body's first lines as metadata


def generated_title(text: str) -> tuple[str | None, str | None]:
    """A generated page's ``title`` property and its first level-1 heading (outside code), each None when
    it has none."""
    import yaml

    front, body = split_front_matter(text)
    try:
        meta = yaml.safe_load(front.strip().strip("-")) if front else None
    except yaml.YAMLError:
        meta = None
    title = meta.get("title") if isinstance(meta, dict) and isinstance(meta.get("title"), str) else None
    h1 = first_h1(body)
    return title, h1[0] if h1 else None


def page_title(plan: SitePlan, src_uri: str, generated: str | None = None, configured: str | None = None) -> str | None:
    """The title a page is shown under everywhere (its tab, the navigation, the previous and next
    links), as a full build decides it: its ``title`` property; else the title ``nav:`` gives it in
    mkdocs.yml (``configured``); else the knowledge base's title for its pages, or a generated page's
    first heading (``generated``: its text). None where none is known (MkDocs decides).

    The same value whether or not the page is rendered in a build, so a page's navigation shows the
    same titles under ``mkdocs serve`` as after a full build."""
    page, parsed = plan.kb.pages.get(src_uri), plan.kb.parsed.get(src_uri)
    if parsed is not None and parsed.source.ok and isinstance(parsed.source.meta.get("title"), str):
        return parsed.source.meta["title"]
    title, heading = generated_title(generated) if generated is not None else (None, None)
    if title is not None:
        return title
    if configured is not None:
        return configured
    if page is not None:
        return page.title
    return heading


def explorer_of(plan: SitePlan, pages: Iterable[tuple[str, str | None]]) -> explorer.FolderEntry:
    """The explorer of a site without ``nav:`` (hooks.kb.explorer): ``pages`` are the pages a navigation
    of the generator's own would list, each with its text when the build generates it (None for a file
    of docs/); each is shown under :func:`page_title`, else its file name as the generator names it."""
    entries = []
    for src_uri, generated in pages:
        title = page_title(plan, src_uri, generated)
        entries.append((src_uri, title or posixpath.splitext(src_uri.rsplit("/", 1)[-1])[0]))
    return explorer.explorer(entries)


def page_source(plan: SitePlan, src_uri: str) -> str | None:
    """The text a page is handed to the generator as: its front matter and its body without private
    comments, embeds expanded (None for a file the plan did not read). Front matter that could not be
    read (too deep, an alias bomb, broken YAML) is not handed on: the generator would parse it again.
    Kept with the fragments' reads: under serve, the same text object until the source changes."""
    if src_uri not in plan.kb.parsed:
        return None
    ctx = plan.context()
    return ctx.kept(("", "source", src_uri), lambda: source_text(ctx.kb, src_uri))


def source_text(kb: KnowledgeBase, src_uri: str) -> str | None:
    """:func:`page_source` from the knowledge base ``kb`` (or a view of it that notes what is read)."""
    parsed = kb.parsed.get(src_uri)
    if parsed is None:
        return None
    front = parsed.source.front if parsed.source.ok else EMPTY_FRONT_MATTER
    body = kb.body_of(src_uri) if src_uri in kb.pages else parsed.source.body
    body = close_quoted_fences(readable_fences(body, scan(body)), scan(body))  # the fences as CommonMark reads them
    return front + explicit_quotes(body)  # and the lazy lines of its quotes


def site_files(plan: SitePlan, *, taken: Callable[[str], bool] = lambda path: False) -> dict[str, str | Path]:
    """Every file the build adds to the site, by its path: the generated pages, the feed, the Demo runs
    page and the demo outputs (when the site runs demos and :meth:`SitePlan.show_runs` was called), the
    front-end assets and each note's and concept's preview. A value is the file's text, or the path it
    is copied from. ``taken(path)``: a file of the site's own at that path, kept instead of an asset or
    a preview. Raises :class:`hooks.kb.assets.AssetsMissing` when node_modules lacks an asset."""
    project, kb, ctx = plan.project, plan.kb, plan.context()  # made from the fragments' reads: under serve, kept until what they read changes
    out: dict[str, str | Path] = {}
    for uri, content in ctx.kept(("", "generated pages"), lambda: render.generated_pages(ctx.kb)).items():
        if uri not in plan.refused:
            out[uri] = content
    if FEED not in plan.refused:
        feed = (project.site_name, project.site_url, project.site_description)
        out[FEED] = ctx.kept(("", "feed", feed), lambda: render.feed_xml(
            ctx.kb, title=feed[0], site_url=feed[1], description=feed[2], items=ctx.settings.feed_items, numbers=ctx.numbers))
    for dest, source in assets.site_assets().items():  # KaTeX, mermaid and the script that loads them, served by the site itself
        if not taken(dest):
            out[dest] = source
    for uri in reading.previewed(kb):  # what a link to a page shows on hover and focus
        path = reading.preview_path(kb.urls[uri])
        if not taken(path):
            out[path] = ctx.kept(("", "preview", uri), lambda uri=uri: reading.preview_json(ctx.kb, uri, ctx.figures, ctx.numbers))
    if project.demos is not None:
        out.update(plan.demo_files())
        out[RUNS_PAGE] = plan.runs_page()
    return out


def page_markdown(plan: SitePlan, src_uri: str, markdown: str) -> str:
    """A page's Markdown with its wikilinks resolved and Obsidian's syntax settled (pages of the
    knowledge base only; the generated pages hold neither)."""
    links = page_links(plan, src_uri)
    if links is None:
        return markdown
    page, parsed = plan.kb.pages[src_uri], plan.kb.parsed[src_uri]
    return title_heading(plan, src_uri) + render.page_markdown(links, markdown, (page.body, parsed.links))


def section_of(plan: SitePlan, src_uri: str) -> str | None:
    """The index a note or concept belongs to in the navigation (``notes/index.md``, ``concepts/index.md``),
    where the navigation lists the indexes but not the page; None for any other page."""
    page = plan.kb.pages.get(src_uri)
    if page is None or page.kind not in ("note", "concept") or not plan.kb.is_node(src_uri):
        return None
    return NOTES_INDEX if page.kind == "note" else CONCEPTS_INDEX


def title_heading(plan: SitePlan, src_uri: str) -> str:
    """The page's title as a heading above its text, where its text has a level-1 heading of another
    text: Obsidian shows the title (its ``title`` property, else its file name) above the note, whose own
    headings stay in its body, and the theme shows the title only on a page without a level-1 heading.
    Not on a folder's ``index.md`` nor on a page that lists pages (the home page), whose heading is their
    title. '' where none is needed."""
    kb = plan.kb
    page = kb.pages[src_uri]
    if src_uri.rsplit("/", 1)[-1] in explorer.INDEX_NAMES or src_uri in kb.hubs:
        return ""
    h1 = first_h1(page.body, kb.parsed[src_uri].scan)
    if h1 is None or h1[0] == page.title:
        return ""
    return f"{fragments.TITLE_OPEN}{render.esc(page.title)}</h1>\n\n"


def page_content(plan: SitePlan, src_uri: str, content: str, out: fragments.Output) -> tuple[str, list[tuple[str, str | None]]]:
    """A page's converted content (HTML, or Markdown for another generator): its links to notes and
    concepts marked with their previews, and a note's or concept's sections appended, with each
    section heading's ``(title, id)`` for the table of contents."""
    links = page_links(plan, src_uri)
    if links is not None:
        content = reading.mark_links(content, src_uri, plan.kb.urls[src_uri], links.previews,
                                     markdown=isinstance(out, fragments.MarkdownOutput))
    return fragments.append_sections(plan.context(), src_uri, content, out)


def exported_page(plan: SitePlan, src_uri: str, markdown: str, layout: Callable[[], ConceptMap]) -> str:
    """A page's Markdown as ``notes export`` writes it: the steps a build takes, each the function the
    hooks call at its event, all done on the Markdown (generated lists as raw HTML blocks, which any
    generator passes through)."""
    ctx, out = plan.context(layout), fragments.MarkdownOutput()
    markdown = page_markdown(plan, src_uri, markdown)  # the site hook's on_page_markdown
    markdown = plan.figures_markdown(src_uri, markdown)  # the demo hook's on_page_markdown
    markdown, _ = page_content(plan, src_uri, markdown, out)  # on_page_content, after the conversion
    return fragments.finish(ctx, src_uri, markdown, out)  # on_post_page, after the theme


def concept_map_of(plan: SitePlan) -> Callable[[], ConceptMap]:
    """The concept map of the plan's site, laid out once when first asked for."""
    layout: list[ConceptMap] = []

    def get() -> ConceptMap:
        if not layout:
            layout.append(concept_map(plan.kb, plan.project.notes.map_notes))
        return layout[0]

    return get


# --- what a page's own links lead to ------------------------------------------------------------------

def site_paths(plan: SitePlan) -> dict[str, str]:
    """Every file of the build by its path in docs/ (sources and generated files), with its URL: the
    files a relative link in a page can name."""
    hidden = set(plan.kb.hidden) | plan.refused
    paths = {f.src_uri for f in plan.files if f.published and f.src_uri not in hidden}
    paths.update(plan.generated)
    paths.update(plan.published)
    paths.update(reading.preview_path(plan.kb.urls[uri]) for uri in reading.previewed(plan.kb))
    return {path: page_url(path, plan.project.use_directory_urls) for path in paths}


def page_links(plan: SitePlan, src_uri: str, present: Mapping[str, str] | None = None) -> render.PageLinks | None:
    """What the page's own text (:func:`page_source`) links to, as this build resolves it (None for a
    page the knowledge base does not hold): its wikilinks' Markdown, the tags page, the file each
    relative link names (as the generator resolves it: ``present``, every file of the build with its
    URL, :func:`site_paths` by default) and the previews of the pages it leads to.
    Kept for the build: the fingerprint and the page are made of the same value."""
    if src_uri not in plan.kb.pages:
        return None
    ctx = _with_files(plan, present)
    return ctx.kept(("", "links", src_uri), lambda: render.read_page_links(
        ctx.kb, src_uri, source_text(ctx.kb, src_uri) or "", ctx.table("present"), ctx.table("by_url")))


def _with_files(plan: SitePlan, present: Mapping[str, str] | None) -> fragments.Context:
    """The plan's context, reading ``present`` (else what it already reads, else :func:`site_paths`) as
    the files of the build that a page's relative links name."""
    ctx = plan.context()
    if present is not None and ctx.tables.get("present") is not present:
        ctx.use("present", present)
    elif "present" not in ctx.tables:
        ctx.use("present", site_paths(plan))
    return ctx


# --- what changed between two builds ---------------------------------------------------------------

def fingerprints(plan: SitePlan, sources: Mapping[str, str | None], present: Mapping[str, str] | None = None) -> dict[str, int]:
    """A value per page of the site that changes whenever anything on the page changes.

    ``sources``: every page of the build with the text it is handed to the generator as (its source,
    :func:`page_source`, or what the build generates there; None for a page the plan did not read). A page's value is made of that text, what its own links lead
    to (:func:`page_links`), what each of its fragments reads (hooks.kb.fragments, the same data its
    HTML is made of), its figures and its problems: nothing is listed here that a renderer reads, so
    nothing a renderer reads can be missing. Comparing two builds' values gives the pages a change affects.
    Under serve the part read from the knowledge base is kept until what it read changes (hooks.kb.recorded).
    """
    ctx = _with_files(plan, present)
    ctx.use("sources", sources)
    problems = plan._problems_by_page

    def read(uri: str) -> int:
        text = ctx.table("sources")[uri]
        return hash((text, page_links(plan, uri), fragments.page_data(ctx, uri, text or "")))

    out = {}
    for uri in sources:
        out[uri] = hash((ctx.kept(("", "print", uri), functools.partial(read, uri)), plan.figure_data(uri), tuple(problems.get(uri, ()))))
    return out


def read_raw_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    from hooks.config import read_config

    return read_config(path)


__all__ = ["Project", "Session", "SitePlan", "fingerprints", "plan_site", "project_from_config", "site_folder"]
