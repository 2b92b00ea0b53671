"""MkDocs hooks for the knowledge base: a thin adapter over hooks.site and hooks.kb.render.

on_pre_build lists the files with MkDocs' own ``get_files`` (so ``exclude_docs``, ``draft_docs`` and
``not_in_nav`` mean what MkDocs says), reads and checks every source once through hooks.site and
stops a failing build before MkDocs touches ``site/``; on_files hands MkDocs the sources already read,
drops drafts and refused files and adds every file :func:`hooks.site.site_files` lists (generated
pages, feed, previews, KaTeX and mermaid, and, once the demo hook has run the demos, their outputs
and the Demo runs page); on_page_markdown resolves wikilinks; on_page_content appends a note's or
concept's generated sections to its HTML (and its table of contents); on_post_page fills the
generated lists into the rendered HTML; on_nav gives a site with no ``nav:`` in mkdocs.yml (a vault)
its folders as the navigation, as Obsidian's file explorer shows them (hooks.kb.explorer). ``notes
export`` calls the same functions (hooks/cli/export.py).

Under ``mkdocs serve`` the parsed knowledge base is kept between rebuilds, only changed files are
read again, and only pages whose output changed are rendered (see :class:`_Incremental`); problems
are shown on the page and in the terminal instead of stopping the server. All that is kept lives in
one :class:`ServeSession`, made in on_startup; the changes to MkDocs that make rebuilds fast are in
hooks.serve_speedups, and what the `notes` command needs of MkDocs in hooks.mkdocs_files.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if _PROJECT_ROOT not in sys.path:  # MkDocs loads hook files by path; the hooks package lives beside this file
    sys.path.insert(0, _PROJECT_ROOT)

from mkdocs.config.defaults import MkDocsConfig  # noqa: E402
from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.plugins import event_priority, get_plugin_logger  # noqa: E402
from mkdocs.structure.files import File, Files, InclusionLevel, get_files  # noqa: E402
from mkdocs.structure.nav import Navigation, Section  # noqa: E402
from mkdocs.structure.pages import Page  # noqa: E402
from mkdocs.structure.toc import AnchorLink  # noqa: E402
from mkdocs.utils import get_relative_url  # noqa: E402

from hooks import site  # noqa: E402
from hooks.config import ConfigError  # noqa: E402
from hooks.figures.cache import os_error_text  # noqa: E402
from hooks.file_writer import FileWriter  # noqa: E402
from hooks.kb import assets, explorer, fragments, render  # noqa: E402
from hooks.kb.graph import FEED, ConceptMap, concept_map, map_graph  # noqa: E402
from hooks.kb.map_worker import LayoutWorker  # noqa: E402
from hooks.mkdocs_files import source_files, uses_demos  # noqa: E402
from hooks.problems import failing  # noqa: E402
from hooks import serve_speedups  # noqa: E402

log = get_plugin_logger("notes")

# --- state kept from one build to the next: one ServeSession, made in on_startup ----------------------

def _site_key(config: MkDocsConfig) -> str:
    """Which site a build is of (one process may serve, or test, several)."""
    return str(config.config_file_path or config.docs_dir)


@dataclass
class _Build:
    """One build in progress. Attached to its config as ``config.kb_build``: the demo hook, listed after
    this one, reads the plan (``.plan``) and whether the build is a serve's (``.serving``) from there."""

    plan: site.SitePlan
    session: ServeSession
    layout: ConceptMap | None = None
    files: Files | None = None
    headings: fragments.SectionHeadings | None = None
    worker: LayoutWorker | None = None  # the concept map being laid out (hooks.kb.map_worker)
    writer: FileWriter | None = None  # the files generated from memory being written (hooks.file_writer)
    nav_tree: explorer.FolderEntry | None = None  # the navigation of a site without `nav:` (hooks.kb.explorer)

    @property
    def serving(self) -> bool:
        return self.session.serving

    def context(self) -> fragments.Context:
        """What the pages' fragments read, with this build's layout of the concept map."""
        return self.plan.context(self.concept_map)

    def start_layout(self, worker: LayoutWorker) -> None:
        """Lay out the concept map in a process of its own while the pages are converted
        (hooks.kb.map_worker), unless an earlier build of this process laid out the same map."""
        if self.plan.context().map_key() not in self.session.layouts:
            self.worker = worker
            worker.submit(map_graph(self.plan.kb, self.plan.project.notes.map_notes))

    def stop(self) -> None:
        """Stop what runs beside the build: the layout (a serve session keeps its worker), and the
        writer of a build that failed."""
        if self.worker is not None:
            if self.worker not in self.session.map_workers.values():
                self.worker.close()
            self.worker = None
        if self.writer is not None:
            self.writer.cancel()
            self.writer = None

    def finish_writing(self) -> None:
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            writer.finish()
        except OSError as exc:
            raise PluginError(f"cannot write {exc.filename or 'the site'}: {os_error_text(exc)}; "
                              "free some space or make site_dir writable, then build again") from None

    def concept_map(self) -> ConceptMap:
        if self.layout is None:
            layouts = self.session.layouts
            key = self.plan.context().map_key()
            self.layout = layouts.get(key)
            if self.layout is None:
                if self.worker is not None:
                    self.layout = self.worker.result()
                    self.worker = None
                else:
                    self.layout = concept_map(self.plan.kb, self.plan.project.notes.map_notes)
                layouts.clear()
                layouts[key] = self.layout
        return self.layout


def _MODIFIED() -> bool:  # noqa: N802 - a File's is_modified, shared by every file it is set on
    return True


def _UNMODIFIED() -> bool:  # noqa: N802
    return False


class _Written(File):
    """A file the hooks generate from memory (a preview, the feed): listed in MkDocs' files like any
    other, but written by hooks.file_writer in a process of its own rather than by MkDocs."""

    def copy_file(self, dirty: bool = False) -> None:
        pass


class _Incremental:
    """Under `mkdocs serve`: render only the pages whose output changed since the previous build.

    MkDocs' dirty builds skip a page when ``file.is_modified()`` is false; this sets it from the
    fingerprints of hooks.site (a page's source and everything generated on it), removes the output
    of pages that are gone and completes the search index from the previous build's entries.
    """

    def __init__(self) -> None:
        self.prints: dict[str, int] = {}
        self.outputs: dict[str, str] = {}  # src_uri -> dest path of every page and file of the previous build
        self.index: dict[str, str] = {}  # the previous build's search index: each page's entries as JSON, by location
        self.config_stamp: Any = None
        self.rendered: set[str] = set()
        self.contents: dict[str, str] = {}  # src_uri -> the text of each file generated from memory, as written
        self.written_to: str | None = None  # the site folder they were written to (by the last build that finished)
        self._contents: dict[str, str] = {}  # this build's, kept once it finishes
        self.nav_shown: Any = None  # the navigation the pages of the previous build show

    def plan(self, files: Files, prints: dict[str, int], config: MkDocsConfig) -> None:
        stamp = _config_stamp(config)
        full = stamp != self.config_stamp or self.written_to != config.site_dir or not os.path.isdir(config.site_dir)
        self.config_stamp = stamp  # (a site folder removed, or another one: everything is written into it)
        self.rendered = set()
        for file in files.documentation_pages():
            changed = full or prints.get(file.src_uri) != self.prints.get(file.src_uri) or file.src_uri not in self.outputs
            if file.src_uri not in prints:  # a page this project does not generate or read (never cached)
                changed = True
            file.is_modified = _MODIFIED if changed else _UNMODIFIED  # consulted by MkDocs' dirty build
            if changed:
                self.rendered.add(file.src_uri)
        self.prints = prints
        # Files the hooks generate from memory (a preview per page, the feed, ...): MkDocs writes them on
        # every build; written again only when their text changed (a thousand files at 1,000 notes), since
        # the last build that finished wrote them into the same folder (one look at the folder, not a stat
        # of each of 10,000 files: 0.05 s a save); a build that failed is not counted.
        contents = {}
        for file in files:
            if file.generated_by is None or file.abs_src_path is not None or file.is_documentation_page():
                continue
            contents[file.src_uri] = text = file.content_string  # kept from build to build: mostly the same object
            if not full and self.contents.get(file.src_uri) == text:
                file.is_modified = _UNMODIFIED
        self._contents = contents

    def navigation(self, shown: Any, files: Files) -> None:
        """Every page shows the navigation (the sidebar, the previous and next pages): when what it
        shows changed (a page added to it, removed, renamed or retitled), every page is rendered again."""
        if shown != self.nav_shown:
            for file in files.documentation_pages():
                file.is_modified = _MODIFIED
                self.rendered.add(file.src_uri)
        self.nav_shown = shown

    def finish(self, files: Files, config: MkDocsConfig) -> None:
        self.contents, self.written_to = self._contents, config.site_dir  # written: the build's writer is done
        site_dir = Path(config.site_dir)
        outputs = {f.src_uri: f.dest_uri for f in files if f.inclusion.is_in_serve()}
        for uri, dest in self.outputs.items():  # pages and files that are gone (deleted, renamed, now drafts)
            if uri not in outputs or outputs[uri] != dest:
                path = site_dir / dest
                if path.is_file():
                    path.unlink()
                    _remove_empty_parents(path.parent, site_dir)
        self.outputs = outputs
        index_path = site_dir / "search" / "search_index.json"
        if not index_path.is_file():
            return
        data = json.loads(index_path.read_text(encoding="utf-8"))  # this build's pages only
        fresh: dict[str, list[dict]] = {}
        for entry in data.get("docs", []):
            fresh.setdefault(entry["location"].split("#", 1)[0], []).append(entry)
        index: dict[str, str] = {}
        for file in files.documentation_pages(inclusion=InclusionLevel.is_in_serve):
            location = file.url if file.url != "./" else ""
            if file.src_uri in self.rendered:
                index[location] = ",".join(json.dumps(e, separators=(",", ":"), default=str) for e in fresh.get(location, []))
            else:
                index[location] = self.index.get(location, "")
        self.index = index
        # Each page's entries are kept as JSON text, so the whole index (30 MB at 10,000 notes) is joined,
        # not encoded again, after every save, and written around the settings without another copy.
        data["docs"] = _DOCS_SLOT
        before, after = json.dumps(data, separators=(",", ":"), default=str).split(json.dumps(_DOCS_SLOT), 1)
        with open(index_path, "w", encoding="utf-8") as out:
            out.write(before + "[")
            out.write(",".join(t for t in index.values() if t))
            out.write("]" + after)


_DOCS_SLOT = "\x00docs\x00"  # where the search index's entries go (no setting of the index holds a NUL)


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _config_stamp(config: MkDocsConfig) -> Any:
    """What forces every page to be rendered again: a change of mkdocs.yml (its nav, theme, extensions)
    or of any file of the theme, which every page is rendered with (a template override in the
    theme's ``custom_dir``, a partial, an icon).

    The files of ``custom_dir`` are all looked at; in the other theme folders (the installed theme's
    and MkDocs' own) hidden folders are passed over: Material ships some 14,000 icons in ``.icons``,
    whose stat would cost 0.2 s a rebuild, and they change only when the theme is upgraded, which
    needs a restart as a change to the hook modules does (they are loaded once per `mkdocs serve`).
    ``extra_css`` and ``extra_javascript`` need no look: they are files of docs/, copied when changed,
    and pages link to them by a name that does not change."""
    stamps = []
    if config.config_file_path:
        stamps.append(_file_stamp(config.config_file_path))
    custom_dir = config.theme.custom_dir
    for folder in config.theme.dirs:
        stamps.extend(_folder_stamps(folder, hidden=folder == custom_dir))
    return tuple(stamps)


def _file_stamp(path: str) -> tuple:
    try:
        st = os.stat(path)
        return (path, st.st_mtime_ns, st.st_size)
    except OSError:
        return (path, None, None)


def _folder_stamps(folder: str, *, hidden: bool) -> list[tuple]:
    """Every file under ``folder`` with its modification time and size (a file added or removed shows too)."""
    out = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        if not hidden:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in sorted(names):
            out.append(_file_stamp(os.path.join(root, name)))
    return out


class ServeSession:
    """What the site hook keeps from one build to the next, made in ``on_startup``.

    Under `mkdocs serve`: per site (by its config file) the sources read and parsed (site.Session), the
    concept map's layout process and the incremental state (:class:`_Incremental`); for all of them the
    latest map layout and the compiled theme templates; and the build in progress. Under `mkdocs build`
    (or a build without ``on_startup``, as tests run them) only the build in progress: nothing is kept.
    """

    def __init__(self, *, serving: bool = False, dirty: bool = False) -> None:
        self.serving = serving
        self.dirty = dirty  # `mkdocs serve --dirty`: MkDocs makes every rebuild a dirty one itself
        self.build: _Build | None = None
        self.builds = 0  # builds finished in this session
        self.sources: dict[str, site.Session] = {}
        self.layouts: dict[Any, ConceptMap] = {}  # the latest layout, by what it was laid out from
        self.map_workers: dict[str, LayoutWorker] = {}
        self.incremental: dict[str, _Incremental] = {}
        self.templates = serve_speedups.TemplateCache() if serving else None
        self.listing = serve_speedups.FileListing() if serving else None
        self.generated = serve_speedups.GeneratedFiles() if serving else None
        self._unlisted = self.listing.install() if self.listing is not None else None  # MkDocs' own listing of docs/
        self._loud_again = serve_speedups.quiet_dirty_warning() if serving else None

    def generated_file(self, cls: type[File], config: MkDocsConfig, path: str, content: str) -> File:
        """A file the hook generates from memory (``File.generated``), made once under serve (hooks.serve_speedups)."""
        if self.generated is None:
            return cls.generated(config, path, content=content)
        return self.generated.make(cls, config, path, content)

    def list_files(self, config: MkDocsConfig) -> Files:
        """docs/ as MkDocs lists it (``get_files``), the listing kept under serve (hooks.serve_speedups)."""
        return self.listing.get_files(config, get_files) if self.listing is not None else get_files(config)

    def rendered(self, config: MkDocsConfig) -> set[str]:
        """The src_uris of the pages that the latest build of this site rendered (under serve)."""
        state = self.incremental.get(_site_key(config))
        return set(state.rendered) if state is not None else set()

    def end_build(self) -> None:
        """Stop what the build in progress runs beside it and forget it."""
        if self.build is not None:
            self.build.stop()
        self.build = None

    def start_build(self, config: MkDocsConfig, plan: site.SitePlan) -> _Build:
        key = _site_key(config)
        self.build = build = _Build(plan, self)
        build.context()  # the pages' fragments draw the map this build lays out
        build.start_layout(self.map_workers.setdefault(key, LayoutWorker()) if self.serving else LayoutWorker())
        config.kb_build = build  # type: ignore[attr-defined]  # for the demo hook (see _Build)
        return build

    def sources_of(self, config: MkDocsConfig, project: site.Project) -> site.Session:
        """The sources read so far for this site: kept for the session under serve, new for each build otherwise."""
        key = _site_key(config)
        session = self.sources.get(key) if self.serving else None
        if session is None:
            session = site.Session(project.root, project.demos.demos_dir if project.demos else None, keep_reads=self.serving)
            if self.serving:
                self.sources[key] = session
        return session

    def incremental_of(self, config: MkDocsConfig) -> _Incremental:
        return self.incremental.setdefault(_site_key(config), _Incremental())

    def forget(self, config_file: str | os.PathLike[str]) -> None:
        """Drop what is kept for one site (its sources, incremental state and layout process), as if
        it had never been built in this session."""
        key = str(config_file)
        self.sources.pop(key, None)
        self.incremental.pop(key, None)
        worker = self.map_workers.pop(key, None)
        if worker is not None:
            worker.close()

    def close(self) -> None:
        """The end of the session: stop the build in progress and the layout processes."""
        self.end_build()
        serve_speedups.cancel_idle_collection()
        for worker in self.map_workers.values():
            worker.close()
        self.map_workers.clear()
        if self._loud_again is not None:
            self._loud_again()
            self._loud_again = None
        if self._unlisted is not None:
            self._unlisted()
            self._unlisted = None


# The session of this process: `mkdocs serve` loads a hook file once and calls its on_startup once, so
# this is the one place that outlives a build (replaced by on_startup, closed by on_shutdown).
_session = ServeSession()


def serve_session() -> ServeSession:
    """The session of this process (tests read what a serve build rendered through it)."""
    return _session


# --- the hooks -------------------------------------------------------------------------------------

def on_startup(command: str, dirty: bool) -> None:
    global _session
    _session.close()
    _session = ServeSession(serving=command == "serve", dirty=dirty)


def on_shutdown() -> None:
    global _session
    _session.close()
    _session = ServeSession()


def on_serve(server, config: MkDocsConfig, builder):
    """Make every rebuild a dirty one (which pages it renders is decided in on_files), and react to
    a saved file as soon as the OS reports it (hooks.serve_speedups)."""
    try:
        serve_speedups.watch_with_inotify(server)
    except (OSError, AttributeError) as exc:  # no inotify here, or another watchdog: keep MkDocs' polling
        log.debug(f"file events unavailable, polling for changes ({exc})")
    if not _session.dirty:
        serve_speedups.rebuild_dirty()
    return server


@event_priority(100)  # before the search plugin's, which renders the theme's language templates
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _session.end_build()
    serve_speedups.begin_build()  # and the patches every build uses, installed once
    serve_speedups.freeze_garbage()  # what earlier builds kept; released in on_post_build or on_build_error
    if _session.templates is not None:
        _session.templates.install(config.theme)
    try:
        line_breaks = site.line_breaks_shown(Path(config.docs_dir), config.extra,
                                             Path(config.config_file_path) if config.config_file_path else None)
    except ConfigError as exc:
        raise PluginError(str(exc)) from None
    site.markdown_setup(config.markdown_extensions, config.mdx_configs, line_breaks=line_breaks)  # what the pages need (hooks.site)
    site.scripts(config.extra_javascript)
    return config


def on_pre_build(config: MkDocsConfig) -> None:
    _session.end_build()
    try:
        project = site.project_from_config(config, with_demos=uses_demos(config))
    except ConfigError as exc:
        raise PluginError(str(exc)) from None
    plan = site.plan_site(project, source_files(_session.list_files(config), project), session=_session.sources_of(config, project))
    stopping = failing(plan.problems, config.strict)
    if stopping and not _session.serving:
        raise PluginError(f"{len(stopping)} problem(s) in the notes:\n" + "\n".join(str(p) for p in stopping))
    for problem in plan.problems:
        (log.warning if problem.severity == "warning" or _session.serving else log.error)(str(problem))
    plan.for_author = _session.serving  # under serve a missing figure says how to make it; a published page does not
    _session.start_build(config, plan)
    if not _session.serving or _session.builds == 0:  # and now what the site's reading kept (under serve, after the
        serve_speedups.freeze_garbage()  # first build, it is looked at after the build: serve_speedups.thaw_garbage)


def on_build_error(error: Exception) -> None:
    serve_speedups.forget_parsers()
    serve_speedups.thaw_garbage(serving=_session.serving)
    if _session.build is not None:
        _session.build.stop()


def on_files(files: Files, config: MkDocsConfig) -> Files:
    build = _session.build
    if build is None:
        return files
    plan = build.plan
    kb = plan.kb
    for uri in list(kb.drafts) + sorted(plan.refused):
        file = files.get_file_from_path(uri)
        if file is not None:
            files.remove(file)
    for file in [f for f in files if plan.project.vault.is_private(f.src_uri)]:  # .obsidian/, .trash/, templates
        files.remove(file)
    for file in files.documentation_pages():
        text = site.page_source(plan, file.src_uri)
        if text is not None:  # hand MkDocs the source already read, without its private comments, embeds expanded
            file.content_string = text
        page = kb.pages.get(file.src_uri)
        if page is not None and page.kind in ("note", "concept") and file.inclusion is InclusionLevel.INCLUDED:
            file.inclusion = InclusionLevel.NOT_IN_NAV  # reached through the indexes, not the sidebar
    if not config.site_url:
        log.info("site_url is not set, so the links in feed.xml are not absolute")
    try:  # generated pages, feed, KaTeX/mermaid and their script, previews, demo outputs and the Demo runs page
        own = {f.src_uri for f in files}  # the site's own files, by the POSIX paths site_files names
        added = site.site_files(plan, taken=own.__contains__)
    except assets.AssetsMissing as exc:
        raise PluginError(str(exc)) from None
    written = []
    for path, content in added.items():
        if not isinstance(content, str):
            files.append(File.generated(config, path, abs_src_path=str(content)))
        elif path.endswith(".md"):
            files.append(_session.generated_file(File, config, path, content))
        else:
            written.append(_session.generated_file(_Written, config, path, content))
            files.append(written[-1])
    if config.nav is None:  # a vault: its folders are the navigation (applied in on_nav)
        build.nav_tree = _vault_explorer(files, plan)
    serve_speedups.seal_file_list(files)
    if _session.serving:
        sources = {f.src_uri: site.page_source(plan, f.src_uri) if f.generated_by is None else f.content_string
                   for f in files.documentation_pages()}
        prints = site.fingerprints(plan, sources, {f.src_uri: f.url for f in files})
        _session.incremental_of(config).plan(files, prints, config)  # and what the navigation shows: on_nav
    # Written while MkDocs renders the pages (under serve, only those whose text changed), waited for in on_post_build.
    build.writer = FileWriter({f.abs_dest_path: f.content_string for f in written if not _session.serving or f.is_modified()})
    build.files = files
    return files


def _vault_explorer(files: Files, plan: site.SitePlan) -> explorer.FolderEntry:
    """The explorer of the pages MkDocs would list in a navigation of its own (not the notes and
    concepts the indexes list), each with its title in the knowledge base (a generated page: its heading),
    so that a page not rendered by a dirty build shows the title a full build shows."""
    return site.explorer_of(plan, [(f.src_uri, f.content_string if f.generated_by else None)
                                   for f in files.documentation_pages() if f.inclusion.is_in_nav()])


class _FolderNote(Page):
    """A folder note (``Cours/Cours.md``) as its folder's own page: Material's ``navigation.indexes``
    shows a section's child whose ``is_index`` is true as the section's link, and MkDocs 1.6.1's
    ``Page.is_index`` is true only for ``index.md`` and ``README.md`` (checked against 1.6.1 and
    Material 9.8.2). The page keeps its file and URL; nothing else of MkDocs reads ``is_index`` but
    ``is_homepage``, which also asks for a top-level page (a folder note never is one)."""

    @property
    def is_index(self) -> bool:
        return True


def _explorer_nav(build: _Build, config: MkDocsConfig, files: Files) -> Navigation:
    """A vault's navigation: its folders before its notes in natural order, each folder's note as the
    folder's page, every title from the knowledge base (hooks.kb.explorer)."""
    pages: list[Page] = []

    def page(entry: explorer.PageEntry, *, folder_note: bool = False) -> Page | None:
        file = files.get_file_from_path(entry.src_uri)
        item = file.page if file is not None else None
        if item is None:  # a page another plugin took away after this hook's on_files
            return None
        if folder_note and not item.is_index:
            item = _FolderNote(None, file, config)
        item.title = render.esc(entry.title)  # escaped as on_page_markdown escapes a front-matter title
        item.parent = None
        pages.append(item)
        return item

    def items(folder: explorer.FolderEntry) -> list:
        out = [page(folder.note, folder_note=bool(folder.path))] if folder.note is not None else []
        for child in folder.children:
            if isinstance(child, explorer.PageEntry):
                out.append(page(child))
            elif children := items(child):
                section = Section(child.title, children)
                section.parent = None
                for member in section.children:
                    member.parent = section
                out.append(section)
        return [item for item in out if item is not None]

    top = items(build.nav_tree)
    for previous, current, following in zip([None, *pages], pages, [*pages[1:], None]):
        current.previous_page, current.next_page = previous, following
    return Navigation(top, pages)


def on_nav(nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
    """A site without ``nav:`` gets its folders as its navigation (:func:`_explorer_nav`); every page of
    the navigation has the title a full build shows, read or not; under serve, a change of what the
    navigation shows renders every page again."""
    build = _session.build
    if build is None:
        return nav
    if build.nav_tree is not None:
        nav = _explorer_nav(build, config, files)
    else:
        for page in nav.pages:  # the titles of pages a dirty build does not read: as a full build shows them
            _entitle(page, build.plan)
    if _session.serving:
        _session.incremental_of(config).navigation(nav_shown(nav), files)
    return nav


def nav_shown(nav: Navigation) -> tuple:
    """What the navigation shows, as a comparable value: each entry's depth, title and URL, in order."""
    out = []

    def walk(items, depth: int) -> None:
        for item in items:
            out.append((depth, type(item).__name__, item.title, getattr(item, "url", None)))
            walk(getattr(item, "children", None) or (), depth + 1)

    walk(nav.items, 0)
    return tuple(out)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    build = _session.build
    if build is None:
        return markdown
    page.meta = render.escape_meta(page.meta)  # the theme prints front matter (title, description, ...) unescaped
    _entitle(page, build.plan)
    return site.page_markdown(build.plan, page.file.src_uri, markdown)


def _entitle(page: Page, plan: site.SitePlan) -> None:
    """The page's title as every build shows it, read or not (hooks.site.page_title), escaped as the
    theme prints it unescaped. Once a build: first for the navigation (where a title ``nav:`` gives
    is all MkDocs knows of the page yet), or as the page is read (a page not in the navigation)."""
    if getattr(page, "_kb_titled", False):
        return
    configured = page.title if page.markdown is None else None  # before it is read: from ``nav:`` or nothing
    title = site.page_title(plan, page.file.src_uri, page.file.content_string if page.file.generated_by else None,
                            None if configured is None else str(configured))
    if title is not None:
        page.title = title if configured is not None and title == configured else render.esc(title)
    page._kb_titled = True  # type: ignore[attr-defined]


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """A note's or concept's generated sections after its content (in its table of contents too)."""
    build = _session.build
    if build is None:
        return html
    if build.headings is None:
        build.headings = fragments.SectionHeadings(config.markdown_extensions, config.mdx_configs)
    # Links of the content to notes and concepts show their previews on hover and focus (the generated
    # lists, filled in after the theme, carry their own: hooks.kb.fragments.link_html).
    html, headings = site.page_content(build.plan, page.file.src_uri, html, fragments.HtmlOutput(build.headings))
    for title, anchor in headings:
        if anchor is None:
            continue
        items = page.toc.items
        while items and items[-1].level < 2:  # under the page's title, as a `## ` heading would be
            items = items[-1].children
        items.append(AnchorLink(title, anchor, 2))
        page.present_anchor_ids.add(anchor)  # links to them are valid
    return html


def on_page_context(context: dict, page: Page, config: MkDocsConfig, nav: Navigation) -> dict:
    """A note or concept that the navigation does not list belongs to its index there (Notes, Concepts):
    that entry is shown as the current one, and the theme's breadcrumbs (``navigation.path``) lead
    through it. The navigation lists a site's indexes, never its thousand notes."""
    build = _session.build
    if build is None or nav is None or page.parent is not None:
        return context
    index = site.section_of(build.plan, page.file.src_uri)
    entry = next((p for p in nav.pages if p.file.src_uri == index), None) if index else None
    if entry is not None and entry is not page and page not in nav.pages:
        page.parent = entry
        page.active = True  # again, now that it has a parent: MkDocs marked it before, and unmarks both after
    return context


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    build = _session.build
    if build is None:
        return output
    plan = build.plan
    problems = plan.problems_of(page.file.src_uri) if _session.serving else ()
    output = fragments.finish(build.context(), page.file.src_uri, output, fragments.HtmlOutput(), problems)
    if "</head>" in output:  # let browsers and feed readers find the feed from every page
        href = get_relative_url(FEED, page.url)
        link = f'<link rel="alternate" type="application/rss+xml" title="{render.esc(config.site_name)}" href="{href}">'
        output = output.replace("</head>", link + "\n</head>", 1)
    return output


def on_post_build(config: MkDocsConfig) -> None:
    serve_speedups.forget_parsers()
    serve_speedups.thaw_garbage(serving=_session.serving)
    build = _session.build
    if build is None:
        return
    build.finish_writing()
    build.stop()
    if _session.serving and build.files is not None:
        _session.incremental_of(config).finish(build.files, config)
    _session.builds += 1
    if _session.serving:  # the files, pages and navigation MkDocs made are garbage once it returns (serve_speedups.thaw_garbage;
        build.files = build.nav_tree = None  # the plan, which the next build reads from, holds the build through its context)
        _session.build = None
