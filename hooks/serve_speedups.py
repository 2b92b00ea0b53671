"""Every change this project makes to MkDocs' own behaviour, in one place and behind one switch.

Each speed-up below replaces or wraps a piece of MkDocs (or of a library it drives) to make
`mkdocs serve` rebuilds, and builds, cheaper; none changes what a page shows. Set
``NOTES_SERVE_SPEEDUPS=0`` in the environment to turn them all off (MkDocs then behaves as it ships:
full rebuilds under serve, a fresh Jinja environment each time, polling for changes). Each was
checked against MkDocs 1.6.1 with Material for MkDocs 9.8.2, Jinja2 3.1.6 and watchdog 7.1.1; a
newer MkDocs (1.x is frozen) or a successor should be checked against the comment of each.
"""
from __future__ import annotations

import gc
import logging
import os
import threading
from typing import Any, Callable

SWITCH = "NOTES_SERVE_SPEEDUPS"

_DIRTY_WARNING = "A 'dirty' build is being performed"


def enabled() -> bool:
    """Whether the speed-ups are on (read at each use, so a test or a shell can turn them off; what is
    asked for every file of a build reads it once a build, see :func:`begin_build`)."""
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


_this_build: dict[str, Any] = {}  # what is read once a build (begin_build): the switch, the build date


def begin_build() -> None:
    """A build starts: what the speed-ups read once a build is read again when first asked for; the
    patches every build uses (a build as well as a serve's) are installed, once a process."""
    _this_build.clear()
    reuse_markdown_parsers()
    remember_canonical_urls()
    faster_file_lists()
    remember_build_date()


def _enabled_this_build() -> bool:
    if "on" not in _this_build:
        _this_build["on"] = enabled()
    return _this_build["on"]


class TemplateCache:
    """Under `mkdocs serve` every rebuild makes a new Jinja environment, which compiles the theme's
    templates again and lists its thousands of files again (most of a small rebuild's time). This
    keeps the compiled templates (Jinja's bytecode cache, checked against each template's source)
    and the list of the theme's files for the session.

    Patches ``mkdocs.theme.Theme.get_env`` of one theme object (MkDocs 1.6.1 calls it once per build,
    in ``build``); Material 9.8.2 adds no templates of its own at run time. A template edited under
    the session is compiled again: Jinja checks each cached bytecode against the template's source
    checksum. A template added or removed in a theme folder changes the listing only after a
    restart, as the listing is what MkDocs uses to find the static templates (404.html, sitemap.xml).
    """

    def __init__(self) -> None:
        import jinja2

        class Memory(jinja2.BytecodeCache):
            def __init__(self) -> None:
                self.store: dict[str, bytes] = {}

            def load_bytecode(self, bucket: Any) -> None:
                if bucket.key in self.store:
                    bucket.bytecode_from_string(self.store[bucket.key])

            def dump_bytecode(self, bucket: Any) -> None:
                self.store[bucket.key] = bucket.bytecode_to_string()

        self.bytecode = Memory()
        self.listings: dict[tuple, list[str]] = {}

    def install(self, theme: Any) -> None:
        """Make ``theme.get_env`` hand out environments that share this cache (when the switch is on)."""
        if not enabled():
            return
        make_env = theme.get_env
        theme_key = (tuple(theme.dirs), tuple(theme.static_templates))

        def get_env():
            env = make_env()
            env.bytecode_cache = self.bytecode
            list_templates = env.list_templates

            def listed(extensions=None, filter_func=None):
                # MkDocs asks once per build, with a filter that depends only on the theme's settings.
                key = (theme_key, extensions and tuple(extensions), filter_func and filter_func.__qualname__)
                if key not in self.listings:
                    self.listings[key] = list_templates(extensions, filter_func)
                return list(self.listings[key])

            env.list_templates = listed
            return env

        theme.get_env = get_env


SETTLE_S = 0.03  # with file events: how long no change must come before a build starts (MkDocs: 0.1 s)


def watch_with_inotify(server: Any) -> None:
    """Replace the live-reload server's polling observer (0.5 s between looks, a stat of every file
    each time) by the OS's file events, forwarding only changes (a build reading a file is not one).

    Replaces ``LiveReloadServer.observer`` (MkDocs 1.6.1 makes it a watchdog ``PollingObserver`` in
    ``__init__`` and starts it after ``on_serve``) and moves the watches already scheduled onto the new
    observer through watchdog's private ``_handlers`` (watchdog 7.1.1). Raises OSError or
    AttributeError where the OS or watchdog does not allow it; the caller then keeps polling. Sets
    ``LiveReloadServer.build_delay`` (MkDocs 1.6.1: 0.1 s) to SETTLE_S.
    """
    if not enabled():
        return
    import watchdog.events
    import watchdog.observers

    old = server.observer
    new = watchdog.observers.Observer()
    if type(new).__name__ == type(old).__name__:
        return

    class Changes(watchdog.events.FileSystemEventHandler):
        def __init__(self, handler) -> None:
            self.handler = handler

        def on_any_event(self, event) -> None:
            if event.event_type in ("created", "deleted", "modified", "moved"):
                self.handler.on_any_event(event)

    schedule = new.schedule

    def filtered(handler, path, recursive=False, **options):
        return schedule(Changes(handler), path, recursive=recursive, **options)

    # MkDocs schedules the `watch:` folders of mkdocs.yml after on_serve: they are filtered too, or a
    # build that reads a demo's source (an "opened" event) would start the next build, forever.
    new.schedule = filtered
    for watch, handlers in list(old._handlers.items()):
        for handler in handlers:
            new.schedule(handler, watch.path, recursive=watch.is_recursive)
    server.observer = new
    # MkDocs waits until no change has come for ``build_delay`` (0.1 s) before it builds: with the OS's
    # events an editor's save (a write, or a new file renamed over the old) arrives within milliseconds
    server.build_delay = SETTLE_S


def rebuild_dirty() -> None:
    """Make every rebuild of `mkdocs serve` a dirty one, so that only the pages whose ``is_modified()``
    the site hook left true are rendered (the site hook decides which, see its ``_Incremental``).

    Wraps ``mkdocs.commands.serve.build`` (MkDocs 1.6.1's serve calls the module's ``build`` name on
    each rebuild, with ``dirty`` from the command line). Once per process: the wrapper marks itself.
    With the switch off, rebuilds are full ones (MkDocs cleans site/ and renders every page) and the
    site hook's incremental bookkeeping is merely not used.
    """
    if not enabled():
        return
    import mkdocs.commands.serve as serve_module

    real_build = serve_module.build
    if getattr(real_build, "_kb_incremental", False):
        return

    def incremental_build(config, *, serve_url=None, dirty=False):
        return real_build(config, serve_url=serve_url, dirty=True)

    incremental_build._kb_incremental = True  # type: ignore[attr-defined]
    serve_module.build = incremental_build


class FileListing:
    """Under `mkdocs serve` every rebuild lists docs/ with ``get_files``, which makes a ``File`` for
    every file (0.4 s at 10,000 notes, most of it in ``pathlib``), and the site hook lists it once more
    before MkDocs does. This walks the folders (as ``get_files`` does, following links) and, when the
    same paths are there under the same settings, hands out copies of the files the previous listing
    made, as they were before any hook touched them; otherwise it calls ``get_files``.

    Wraps ``mkdocs.commands.build.get_files`` (MkDocs 1.6.1's ``build`` calls the module's
    ``get_files`` name once per build). A ``File`` holds its paths and URLs (worked out from the path and
    the settings compared here) and its inclusion (from ``exclude_docs``, ``draft_docs`` and
    ``not_in_nav``, compared by their patterns); its content is read when asked for, so a copy made before
    the file changed reads the new content."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._files: list = []

    def get_files(self, config: Any, real: Callable[[Any], Any]) -> Any:
        from mkdocs.structure.files import Files

        if not enabled():
            return real(config)
        docs_dir = config["docs_dir"]
        listed = []
        for folder, dirs, names in os.walk(docs_dir, followlinks=True):
            dirs.sort()
            listed.append((os.path.relpath(folder, docs_dir), tuple(sorted(names))))
        patterns = tuple(None if spec is None else tuple((p.pattern, p.include) for p in spec.patterns)
                         for spec in (config.get("exclude_docs"), config.get("draft_docs"), config.get("not_in_nav")))
        key = (docs_dir, config["site_dir"], config["use_directory_urls"], patterns, tuple(listed))
        if key != self._key:
            files = real(config)
            self._key, self._files = key, [_made(f) for f in files]
            return files
        return Files([_clone(f) for f in self._files])

    def install(self) -> Callable[[], None]:
        """Make MkDocs' own builds list docs/ through this listing (when the switch is on), until the
        returned function is called (the end of a serve)."""
        if not enabled():
            return lambda: None
        import mkdocs.commands.build as build_module

        real = getattr(build_module.get_files, "_kb_real", build_module.get_files)

        def get_files(config):
            return self.get_files(config, real)

        get_files._kb_real = real  # type: ignore[attr-defined]
        build_module.get_files = get_files

        def uninstall() -> None:
            if build_module.get_files is get_files:
                build_module.get_files = real

        return uninstall


class GeneratedFiles:
    """The site hook adds a ``File`` for every file it generates (a preview per page: 10,000 at 10,000
    notes), and ``File.generated`` works out its paths and URL with ``pathlib`` each time (0.17 s a
    rebuild). Under serve this keeps one made file per path and settings and hands out copies of it
    with the new content. A copy is what ``File.generated`` makes (MkDocs 1.6.1: the paths from
    ``src_uri``, ``site_dir`` and ``use_directory_urls``; ``generated_by``, the plugin adding it; the
    content in ``_content``)."""

    def __init__(self) -> None:
        self._made: dict[tuple, Any] = {}

    def make(self, cls: Any, config: Any, path: str, content: str) -> Any:
        if not _enabled_this_build():
            return cls.generated(config, path, content=content)
        settings = _this_build.get("generated")
        if settings is None or settings[0] != id(config):  # read once a build: a setting of the config is a descriptor's call
            settings = _this_build["generated"] = (id(config), config.site_dir, config.use_directory_urls, config.plugins)
        key = (cls, path, settings[1], settings[2], settings[3]._current_plugin)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = _made(cls.generated(config, path, content=content))
        file = _clone(made)
        file._content = content
        return file


def _made(file: Any) -> Any:
    """A copy of a ``File`` as made, with the paths and URL it works out when first asked (cached
    properties of MkDocs 1.6.1's ``File``) worked out, so that its clones need not work them out again."""
    file = _clone(file)
    for name in ("url", "dest_uri", "abs_dest_path", "abs_src_path", "name"):
        getattr(file, name)
    return file


def _clone(obj: Any) -> Any:
    """A shallow copy of an object of a plain class (its ``__dict__``), as ``copy.copy`` makes it, faster."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def remember_canonical_urls() -> None:
    """MkDocs 1.6.1 makes every page's canonical URL with ``urljoin`` each build (``Page.__init__`` calls
    ``Page._set_canonical_url``): 0.3 s at 10,000 pages. The same site URL and page URL always give
    the same result, so it is kept for the process. Patches ``Page._set_canonical_url`` once."""
    if not enabled():
        return
    from mkdocs.structure.pages import Page

    real = Page._set_canonical_url
    if getattr(real, "_kb_kept", False):
        return
    known: dict[tuple[str, str], tuple[str, str]] = {}

    def set_canonical_url(self, base):
        if not base:
            return real(self, base)
        key = (base, self.url)
        if key not in known:
            real(self, base)
            known[key] = (self.canonical_url, self.abs_url)
        self.canonical_url, self.abs_url = known[key]

    set_canonical_url._kb_kept = True  # type: ignore[attr-defined]
    Page._set_canonical_url = set_canonical_url


def seal_file_list(files: Any) -> None:
    """The files of a build are complete and their inclusion settled (the site hook's ``on_files``, the
    last to run): from now on each list of pages :func:`faster_file_lists` makes of ``files`` is made
    once and handed out again (MkDocs asks for it eight more times a build), while no file is added or
    removed (a change of their number makes it anew)."""
    if enabled():
        files._kb_sealed = (len(files), {})


def remember_build_date() -> None:
    """MkDocs 1.6.1 gives every page the build's date (``Page.__init__`` calls ``get_build_date``, which
    reads ``SOURCE_DATE_EPOCH`` from the environment, else the clock, and formats it): 0.1 s a rebuild
    at 10,000 pages for one value. This reads it once a build (:func:`begin_build`), when the first
    page asks: the same date MkDocs gives, unless a build runs over midnight (MkDocs would then give
    its pages two dates). Patches ``mkdocs.structure.pages.get_build_date`` (the name ``Page.__init__``
    calls) once."""
    if not enabled():
        return
    from mkdocs.structure import pages

    real = pages.get_build_date
    if getattr(real, "_kb_kept", False):
        return

    def get_build_date() -> str:
        if "date" not in _this_build:
            _this_build["date"] = real()
        return _this_build["date"]

    get_build_date._kb_kept = True  # type: ignore[attr-defined]
    pages.get_build_date = get_build_date


def faster_file_lists() -> None:
    """MkDocs 1.6.1 lists a site's Markdown pages (``Files.documentation_pages``) ten times a build, each
    time calling ``File.is_documentation_page`` (``utils.is_markdown_file``) and the inclusion test (an
    enum property) for every file: 0.26 s a rebuild at 10,000 notes (20,000 files with the previews).
    This makes the same list with one suffix test per file and the inclusion levels the test accepts
    worked out once a call (it is a function of the level alone, as each of MkDocs' ``InclusionLevel``
    tests is). A file of a class that has its own ``is_documentation_page`` is asked, as before.

    Patches ``Files.documentation_pages`` once (MkDocs 1.6.1: ``[file for file in self if
    file.is_documentation_page() and inclusion(file.inclusion)]``)."""
    if not enabled():
        return
    from mkdocs import utils
    from mkdocs.structure.files import File, Files, InclusionLevel

    real = Files.documentation_pages
    if getattr(real, "_kb_fast", False):
        return
    own_test = File.is_documentation_page
    suffixes = tuple(utils.markdown_extensions)

    def documentation_pages(self, *, inclusion=InclusionLevel.is_included):
        if not enabled():
            return real(self, inclusion=inclusion)
        sealed = self.__dict__.get("_kb_sealed")
        if sealed is not None and sealed[0] == len(self) and inclusion in sealed[1]:
            return list(sealed[1][inclusion])
        accepted = {id(level) for level in InclusionLevel if inclusion(level)}
        listed = [f for f in self if id(f.inclusion) in accepted
                  and (f.src_uri.endswith(suffixes) if type(f).is_documentation_page is own_test else f.is_documentation_page())]
        if sealed is not None and sealed[0] == len(self):
            sealed[1][inclusion] = tuple(listed)
        return listed

    documentation_pages._kb_fast = True  # type: ignore[attr-defined]
    Files.documentation_pages = documentation_pages


class _KeptParsers:
    """What ``mkdocs.structure.pages`` sees as the ``markdown`` module: the module itself, except that a
    parser asked for with the extensions and settings of the parser it made last is that parser, reset."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self._kept: tuple[Any, Any, Any] | None = None  # (extensions, their settings, the parser made of them)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def Markdown(self, *, extensions: Any = (), extension_configs: Any = None, **options: Any) -> Any:  # noqa: N802
        kept = self._kept
        if kept is not None and not options and kept[0] is extensions and kept[1] is extension_configs and enabled():
            return kept[2].reset()
        md = self._module.Markdown(extensions=extensions, extension_configs=extension_configs, **options)
        self._kept = None if options else (extensions, extension_configs, md)
        return md


def reuse_markdown_parsers() -> None:
    """MkDocs 1.6.1 makes a new Markdown parser for every page (``Page.render`` calls
    ``markdown.Markdown(extensions=config['markdown_extensions'], extension_configs=config['mdx_configs'])``):
    each of the site's 18 extensions made from its name and its settings, each registering its
    processors, 0.3 ms a page, a tenth of a page's conversion. Python-Markdown's own way to convert
    another document with the same parser is ``Markdown.reset()``, which calls every extension's
    ``reset`` (the footnotes, the table of contents and the stashes of each document are cleared
    there); MkDocs' four processors of a page (raw HTML anchors, anchors, relative links, the title)
    are registered under the same names on each page, so each replaces the previous page's. So a
    parser asked for with the same extensions list and settings (the same objects: one build's config)
    is the last one made, reset. Patches the name ``markdown`` of ``mkdocs.structure.pages`` once."""
    if not enabled():
        return
    from mkdocs.structure import pages

    if isinstance(pages.markdown, _KeptParsers):
        return
    pages.markdown = _KeptParsers(pages.markdown)


def forget_parsers() -> None:
    """A build ended: the parser :func:`reuse_markdown_parsers` kept is let go (its processors hold the
    build's last page and its files, which would otherwise live on until the next build's first page)."""
    from mkdocs.structure import pages

    if isinstance(pages.markdown, _KeptParsers):
        pages.markdown._kept = None


class _DropDirtyWarning(logging.Filter):
    """MkDocs 1.6.1 warns on every dirty build (``mkdocs.commands.build``, "A 'dirty' build is being
    performed ..."); under this project's incremental serve that is the design, not a risk."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_DIRTY_WARNING)


def quiet_dirty_warning() -> Callable[[], None]:
    """Drop MkDocs' dirty-build warning until the returned function is called (the end of a serve)."""
    if not enabled():
        return lambda: None
    logger = logging.getLogger("mkdocs.commands.build")
    drop = _DropDirtyWarning()
    logger.addFilter(drop)
    return lambda: logger.removeFilter(drop)


def freeze_garbage() -> None:
    """Keep what exists now out of the cyclic garbage collector's passes until :func:`thaw_garbage`.

    Called as a build starts (under serve, what the session kept from earlier builds: at 10,000 notes
    two full passes over it took 0.68 s of a 1.34 s reading of the site, against 0.08 s frozen) and again
    once the site is read (what rendering then allocates is all the collector looks at: at 1,000 notes
    0.78 s of CPU, against 0.54 s frozen and 0.46 s for the same pages without the site hook). Under
    serve, a build that starts before the pass over the previous build's objects (see
    :func:`thaw_garbage`) makes that pass first, so that what the previous build left is never frozen
    with what the session keeps. Not a patch of MkDocs, but a change of how its build runs, so it is
    behind the same switch."""
    global _young_pending, _frozen_base
    cancel_idle_collection()
    if enabled():
        if _young_pending:
            _young_pending = False
            gc.collect()
        gc.freeze()
        if _frozen_base is None:
            _frozen_base = gc.get_freeze_count()


_idle_collection: threading.Timer | None = None
_young_pending = False  # a serve build ended and its objects have not been looked at yet
YOUNG_COLLECTION_S = 0.5  # after a build under serve: a pass over what it made (what earlier builds kept stays frozen)
FULL_COLLECTION_S = 30.0  # idle this long: a full pass over everything, the session's own data included
FROZEN_GROWTH = 1.5  # or sooner, once this many times as many objects are frozen as after the last full pass
_frozen_base: int | None = None  # objects frozen by the first freeze after a full pass


def thaw_garbage(*, serving: bool = False) -> None:
    """Release what :func:`freeze_garbage` kept out of the collector's passes: at once after a build,
    or, under serve, in two steps in a thread of their own, each cancelled by a build starting first.
    A full pass at 10,000 notes takes 1.7 s (a million objects, most of them what the session keeps
    from build to build), and a save that arrives during it waits for it; so YOUNG_COLLECTION_S after a
    build only what was made since it started is looked at (the pages, files and navigation MkDocs made,
    the plan's own objects), and everything only once serve has been idle for FULL_COLLECTION_S, or
    once the frozen objects have grown FROZEN_GROWTH times (what the session replaced while frozen: its
    garbage is found by a full pass only), so that a writer who never pauses does not grow the process."""
    global _idle_collection, _young_pending
    cancel_idle_collection()
    if not (serving and enabled()):
        gc.unfreeze()  # harmless when nothing was frozen: a build may end before or after freeze_garbage
        return
    _young_pending = True

    def young() -> None:
        global _idle_collection, _young_pending
        _young_pending = False
        if _frozen_base is not None and gc.get_freeze_count() > FROZEN_GROWTH * _frozen_base:
            full()
            return
        gc.collect()
        if _idle_collection is not timer:  # a build started during the pass: it cancelled what follows
            return
        _idle_collection = threading.Timer(FULL_COLLECTION_S - YOUNG_COLLECTION_S, full)
        _idle_collection.daemon = True
        _idle_collection.start()

    def full() -> None:
        global _frozen_base
        gc.unfreeze()
        gc.collect()
        _frozen_base = None

    _idle_collection = timer = threading.Timer(YOUNG_COLLECTION_S, young)
    timer.daemon = True
    timer.start()


def cancel_idle_collection() -> None:
    global _idle_collection
    if _idle_collection is not None:
        _idle_collection.cancel()
        _idle_collection = None
