"""Incremental rebuilds under `mkdocs serve`: after any sequence of edits every page equals a full build's.

The builds run in this process as `mkdocs serve` runs them (the site hook's on_startup with
command "serve", then dirty rebuilds of a fresh config each time); the reference is a full build of a
copy of the same files. One test drives a real `mkdocs serve` over HTTP.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from bs4 import BeautifulSoup

from tests import services
from tests.conftest import build_site, write_site
from tests.generator import COMMAND

SERVE_URL = "http://127.0.0.1:8000/kb/"


def _hooks(config) -> list:
    return [h for name, h in (config.hooks or {}).items()]


class ServeSession:
    """Builds a site as `mkdocs serve` does: a new config for every build, dirty after the first."""

    def __init__(self, config_path: Path, site_dir: Path):
        self.config_path, self.site_dir, self.builds = config_path, site_dir, 0

    def config(self):
        from tests.generator import load_config

        config = load_config(str(self.config_path), site_dir=str(self.site_dir))
        config.site_url = SERVE_URL
        return config

    def build(self) -> set[str]:
        """Build; return the src_uris the site hook chose to render. Demo runs happen beside a serve
        build: when one ran, the build that the server makes when it ends is made too (and what it
        rendered is added), so the site compared is the one that shows every figure."""
        rendered = self.build_once()
        while (runs := background_runs()) is not None and runs.wait_for_runs(timeout=120):
            rendered |= self.build_once()
        return rendered

    def build_once(self) -> set[str]:
        """One build, without waiting for the demo runs it started."""
        from tests.generator import build

        config = self.config()
        session = site_hook(config).serve_session()
        if not session.serving:  # as `mkdocs serve` starts; a reference build of a copy joins the session running
            config.plugins.on_startup(command="serve", dirty=False)
            session = site_hook(config).serve_session()
        build(config, serve_url=SERVE_URL, dirty=self.builds > 0)
        self.builds += 1
        return session.rendered(config)


def site_hook(config):
    """The site hook module that MkDocs loaded for ``config`` (once per process, as under `mkdocs serve`)."""
    return next(h for h in _hooks(config) if h.__name__.endswith("mkdocs_site.py"))


def _demo_hooks() -> list:
    return [m for name, m in sys.modules.items() if name.endswith("mkdocs_demos.py")]


def background_runs():
    """The demo hook's background runs of the serve session (None when no serve session is on)."""
    return next((runs for m in _demo_hooks() if (runs := m.background_runs()) is not None), None)


@pytest.fixture
def serve_mode():
    """End the serve session after the test, as `mkdocs serve` does on exit (the hook modules are
    shared by every test of this process): its layout processes stop, its demo runs are waited for,
    later builds keep nothing."""
    yield
    for hook_module in [m for name, m in sys.modules.items() if name.endswith("mkdocs_site.py")]:
        hook_module.on_shutdown()
    for hook_module in _demo_hooks():
        if (runs := hook_module.background_runs()) is not None:
            runs.wait_for_runs(timeout=120)
        hook_module.on_shutdown()


def site_files(site: Path) -> dict[str, object]:
    """The built site, file by file; the search index parsed, time stamps in the sitemap masked."""
    out: dict[str, object] = {}
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.suffix == ".gz":
            continue
        rel = path.relative_to(site).as_posix()
        data = path.read_bytes()
        if rel == "search/search_index.json":
            out[rel] = json.loads(data)
        elif rel == "sitemap.xml":
            out[rel] = re.sub(rb"<lastmod>[^<]*</lastmod>", b"", data)
        else:
            out[rel] = data
    return out


def full_build_of(root: Path, tmp: Path, step: int) -> dict[str, object]:
    """A full serve-mode build of a copy of ``root``'s files: what a restarted `mkdocs serve` shows."""
    copy = tmp / f"reference-{step}"
    shutil.copytree(root / "docs", copy / "docs")
    if (root / "overrides").is_dir():  # the theme's custom_dir
        shutil.copytree(root / "overrides", copy / "overrides")
    config_text = (root / "mkdocs.yml").read_text(encoding="utf-8")
    (copy / "mkdocs.yml").write_text(config_text, encoding="utf-8")
    session = ServeSession(copy / "mkdocs.yml", copy / "site")
    session.build()
    return site_files(copy / "site")


def assert_same_site(incremental: Path, reference: dict[str, object], step: str) -> None:
    served = site_files(incremental)
    assert sorted(served) == sorted(reference), f"{step}: files differ: only served {sorted(served.keys() - reference.keys())}, only in a full build {sorted(reference.keys() - served.keys())}"
    different = [name for name in served if served[name] != reference[name]]
    assert not different, f"{step}: these pages differ from a full build: {different}"


NOTES = Path("docs/notes")


def edit(root: Path, rel: str, text: str | None = None, *, append: str = "", replace: tuple[str, str] | None = None) -> None:
    path = root / rel
    time.sleep(0.01)  # a new modification time even on coarse clocks
    if text is not None:
        path.write_text(text, encoding="utf-8")
    elif replace:
        content = path.read_text(encoding="utf-8")
        assert replace[0] in content, (rel, replace[0])
        path.write_text(content.replace(*replace), encoding="utf-8")
    else:
        path.write_text(path.read_text(encoding="utf-8") + append, encoding="utf-8")


def test_incremental_rebuilds_equal_full_builds_after_every_kind_of_edit(tmp_path: Path, serve_mode) -> None:
    root = tmp_path / "site-src"
    root.mkdir()
    write_site(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    first = serve.build()
    assert "notes/2024-01-23-first-note.md" in first  # the first build renders everything
    new_note = "---\ntitle: Fourth note\ndate: 2024-04-02\ntags: [theory]\n---\n\n# Fourth note\n\nOn [[Trainability]].\n"
    steps = [
        ("edit a note's text", lambda: edit(root, "docs/notes/2024-02-10-second-note.md", append="\nOne more sentence.\n"),
         {"must": {"notes/2024-02-10-second-note.md"}, "not": {"notes/2024-01-23-first-note.md", "concepts/trainability.md"}}),
        ("add a note", lambda: edit(root, "docs/notes/2024-04-02-fourth-note.md", new_note),
         {"must": {"notes/2024-04-02-fourth-note.md", "concepts/trainability.md", "notes/index.md", "notes/2024-03-05-third-note.md"}}),
        ("add a wikilink", lambda: edit(root, "docs/notes/2024-04-02-fourth-note.md", append="\nAnd [[Inductive bias]].\n"),
         {"must": {"concepts/inductive-bias.md"}, "not": {"concepts/deep-double-descent.md"}}),
        ("remove a wikilink", lambda: edit(root, "docs/notes/2024-04-02-fourth-note.md", replace=("And [[Inductive bias]].", "And no link.")),
         {"must": {"concepts/inductive-bias.md"}}),
        ("change a concept's aliases", lambda: edit(root, "docs/concepts/deep-double-descent.md", replace=("aliases: [double descent, DDD]", "aliases: [double descent, DDD, two descents]")),
         {"must": {"concepts/deep-double-descent.md"}}),
        ("rename a note", lambda: (root / "docs/notes/2024-04-02-fourth-note.md").rename(root / "docs/notes/2024-04-03-fourth-note.md")
         or edit(root, "docs/notes/2024-04-03-fourth-note.md", replace=("date: 2024-04-02", "date: 2024-04-03")),
         {"must": {"notes/2024-04-03-fourth-note.md", "notes/index.md"}}),
        ("break a note's YAML", lambda: edit(root, "docs/notes/2024-04-03-fourth-note.md", replace=("tags: [theory]", "tags: [theory")),
         {"must": {"notes/2024-04-03-fourth-note.md"}}),
        ("fix it", lambda: edit(root, "docs/notes/2024-04-03-fourth-note.md", replace=("tags: [theory", "tags: [theory]")),
         {"must": {"notes/2024-04-03-fourth-note.md"}}),
        ("delete a note", lambda: (root / "docs/notes/2024-04-03-fourth-note.md").unlink(),
         {"must": {"concepts/trainability.md", "notes/index.md"}}),
        ("retitle a note", lambda: edit(root, "docs/notes/2024-01-23-first-note.md", replace=("title: First note", "title: The very first note")),
         {"must": {"notes/index.md", "notes/2024-02-10-second-note.md"}}),
        ("embed a section", lambda: edit(root, "docs/notes/2024-03-05-third-note.md", append="\n![[Trainability#Why it matters]]\n"),
         {"must": {"notes/2024-03-05-third-note.md"}, "not": {"notes/2024-02-10-second-note.md"}}),
        ("edit the embedded section", lambda: edit(root, "docs/concepts/trainability.md", replace=("is not useful.", "is of no use.")),
         {"must": {"notes/2024-03-05-third-note.md", "concepts/trainability.md"}, "not": {"notes/2024-02-10-second-note.md"}}),
        ("add an inline tag", lambda: edit(root, "docs/notes/2024-01-23-first-note.md", append="\nAbout #schedules/warmup.\n"),
         {"must": {"tags.md", "notes/2024-01-23-first-note.md"}, "not": {"concepts/trainability.md"}}),
        ("remove the inline tag", lambda: edit(root, "docs/notes/2024-01-23-first-note.md", replace=("About #schedules/warmup.", "About warm-up.")),
         {"must": {"tags.md", "notes/2024-01-23-first-note.md"}}),
        ("add a block id and a link to it", lambda: edit(root, "docs/concepts/trainability.md", replace=("is of no use.", "is of no use. ^useless"))
         or edit(root, "docs/notes/2024-02-10-second-note.md", append="\nSee [[Trainability#^useless]].\n"),
         {"must": {"concepts/trainability.md", "notes/2024-02-10-second-note.md"}}),
        ("remove the block id", lambda: edit(root, "docs/concepts/trainability.md", replace=("is of no use. ^useless", "is of no use.")),
         {"must": {"concepts/trainability.md", "notes/2024-02-10-second-note.md"}}),
        # local graphs show the titles of a page's neighbours; previews (preview.json) their first paragraph
        ("retitle a concept", lambda: edit(root, "docs/concepts/inductive-bias.md",
                                           replace=("title: Inductive bias\naliases: [inductive biases]", "title: Inductive biases\naliases: [inductive bias]")),
         {"must": {"concepts/inductive-bias.md", "notes/2024-01-23-first-note.md", "notes/2024-03-05-third-note.md"}}),
        ("edit a concept's first paragraph", lambda: edit(root, "docs/concepts/trainability.md",
                                                         replace=("Whether gradient descent can find", "Whether gradient descent finds")),
         {"must": {"concepts/trainability.md"}}),
    ]
    for number, (step, change, expect) in enumerate(steps, start=1):
        change()
        rendered = serve.build()
        assert expect["must"] <= rendered, f"{step}: not rebuilt: {sorted(expect['must'] - rendered)}"
        assert not (expect.get("not", set()) & rendered), f"{step}: rebuilt without need: {sorted(expect['not'] & rendered)}"
        assert len(rendered) < 25, f"{step}: rendered {len(rendered)} pages"
        assert_same_site(root / "site", full_build_of(root, tmp_path, number), step)


def test_a_broken_note_shows_its_problem_on_the_page_and_the_next_save_recovers(tmp_path: Path, serve_mode) -> None:
    root = tmp_path / "site-src"
    root.mkdir()
    write_site(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    note = "docs/notes/2024-02-10-second-note.md"
    edit(root, note, replace=("---\n\n", "---\n\nSee [[No such page]].\n\n"))
    serve.build()
    page = BeautifulSoup((root / "site/notes/2024-02-10-second-note/index.html").read_text(), "html.parser")
    box = page.select_one(".kb-problems")
    assert box is not None and "unresolved wikilink [[No such page]]" in box.get_text()
    assert "docs/notes/2024-02-10-second-note.md:" in box.get_text()
    edit(root, note, replace=("See [[No such page]].\n\n", ""))
    serve.build()
    page = BeautifulSoup((root / "site/notes/2024-02-10-second-note/index.html").read_text(), "html.parser")
    assert page.select_one(".kb-problems") is None


OVERRIDE = '{% extends "base.html" %}\n{% block content %}{{ super() }}<p class="kb-test-marker">MARK</p>{% endblock %}\n'


def test_an_edited_template_override_renders_every_page_again(tmp_path: Path, serve_mode) -> None:
    root = tmp_path / "site-src"
    root.mkdir()
    write_site(root, theme={"name": "material", "custom_dir": "overrides"})
    (root / "overrides").mkdir()
    (root / "overrides/main.html").write_text(OVERRIDE.replace("MARK", "first"), encoding="utf-8")
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    every_page = serve.build()
    assert serve.build() < every_page  # nothing changed: not every page again
    edit(root, "overrides/main.html", OVERRIDE.replace("MARK", "second"))
    assert serve.build() == every_page
    assert_same_site(root / "site", full_build_of(root, tmp_path, 1), "edit the override")
    page = BeautifulSoup((root / "site/notes/2024-01-23-first-note/index.html").read_text(encoding="utf-8"), "html.parser")
    assert page.select_one(".kb-test-marker").get_text() == "second"
    (root / "overrides/partials").mkdir()
    edit(root, "overrides/partials/copyright.html", '<div class="kb-test-footer">Footer</div>\n')  # a new partial shadows the theme's
    assert serve.build() == every_page
    assert_same_site(root / "site", full_build_of(root, tmp_path, 2), "add a partial")
    assert "kb-test-footer" in (root / "site/concepts/trainability/index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("speedups", ["1", "0"])
def test_incremental_rebuilds_equal_full_builds_with_the_speedups_on_and_off(tmp_path: Path, serve_mode, monkeypatch, speedups: str) -> None:
    monkeypatch.setenv("NOTES_SERVE_SPEEDUPS", speedups)
    root = tmp_path / "site-src"
    root.mkdir()
    write_site(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    new_note = "---\ntitle: Fourth note\ndate: 2024-04-02\ntags: [theory]\n---\n\n# Fourth note\n\nOn [[Trainability]].\n"
    steps = [
        ("edit a note's text", lambda: edit(root, "docs/notes/2024-02-10-second-note.md", append="\nOne more sentence.\n")),
        ("add a note", lambda: edit(root, "docs/notes/2024-04-02-fourth-note.md", new_note)),
        ("delete it", lambda: (root / "docs/notes/2024-04-02-fourth-note.md").unlink()),
    ]
    for number, (step, change) in enumerate(steps, start=1):
        change()
        rendered = serve.build()
        assert 0 < len(rendered) < 25, f"{step}: rendered {sorted(rendered)}"
        assert_same_site(root / "site", full_build_of(root, tmp_path, number), step)


def test_a_removed_site_folder_is_written_again_whole(tmp_path: Path, serve_mode) -> None:
    """Under serve a generated file whose text did not change is not written again, on the word of the
    last build that finished; a site folder removed meanwhile (or another one) is written whole."""
    root = tmp_path / "site"
    write_site(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    edit(root, "docs/notes/2024-01-23-first-note.md", append="\nOne more line.\n")
    assert 0 < len(serve.build()) < 25
    shutil.rmtree(root / "site")
    rendered = serve.build()
    assert len(rendered) > 10
    assert_same_site(root / "site", full_build_of(root, tmp_path, 1), "after the site folder was removed")


def test_the_switch_turns_every_speedup_off(tmp_path: Path, monkeypatch) -> None:
    import mkdocs.commands.serve as serve_module

    from hooks import serve_speedups

    monkeypatch.setenv("NOTES_SERVE_SPEEDUPS", "0")
    monkeypatch.setattr(serve_module, "build", serve_module.build)  # put back whatever happens
    real_build = serve_module.build
    serve_speedups.rebuild_dirty()
    assert serve_module.build is real_build

    class Theme:
        dirs, static_templates = ["t"], ["404.html"]

        def get_env(self):
            raise AssertionError("not called")

    theme = Theme()
    original = theme.get_env
    serve_speedups.TemplateCache().install(theme)
    assert theme.get_env == original

    class Server:
        observer = object()

    server = Server()
    watched = server.observer
    serve_speedups.watch_with_inotify(server)
    assert server.observer is watched
    from mkdocs.structure.files import Files

    monkeypatch.setattr(Files, "documentation_pages", Files.documentation_pages)
    listed = Files.documentation_pages
    serve_speedups.faster_file_lists()
    assert Files.documentation_pages is listed
    from mkdocs.structure import pages

    monkeypatch.setattr(pages, "get_build_date", pages.get_build_date)
    dated = pages.get_build_date
    serve_speedups.remember_build_date()
    assert pages.get_build_date is dated
    monkeypatch.setattr(pages, "markdown", getattr(pages.markdown, "_module", pages.markdown))
    serve_speedups.reuse_markdown_parsers()
    assert pages.markdown.Markdown is pages.markdown.core.Markdown  # the module itself, not the kept parser
    filters = list(logging.getLogger("mkdocs.commands.build").filters)
    serve_speedups.quiet_dirty_warning()
    assert logging.getLogger("mkdocs.commands.build").filters == filters
    monkeypatch.setenv("NOTES_SERVE_SPEEDUPS", "1")
    assert serve_speedups.enabled()


def test_what_a_serve_build_leaves_is_collected_soon_after_it(tmp_path: Path, serve_mode, monkeypatch) -> None:
    """serve_speedups.thaw_garbage: after each serve build the pages, files and navigation MkDocs made
    for it are collected by a pass over what was made since it started, not frozen with what the
    session keeps (where only a full pass, after a long idle, would find them)."""
    import gc

    from mkdocs.structure.pages import Page

    from hooks import serve_speedups

    monkeypatch.setattr(serve_speedups, "YOUNG_COLLECTION_S", 0.05)
    root = tmp_path / "site"
    write_site(root)
    session = ServeSession(root / "mkdocs.yml", root / "site")

    def pages_alive() -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, Page))

    session.build()
    time.sleep(0.3)
    for i in range(3):
        edit(root, "docs/notes/2024-01-23-first-note.md", append=f"\nSaved {i}.\n")
        session.build()
        time.sleep(0.3)  # the pass after the build
    assert gc.get_freeze_count() > 0  # what the session keeps stays frozen between builds
    frozen_pages = pages_alive  # gc.get_objects() does not list frozen objects: count them unfrozen
    gc.unfreeze()
    assert frozen_pages() == 0, "the pages of earlier serve builds were frozen with the session's own data"


def test_the_kept_build_date_is_mkdocs_own(monkeypatch) -> None:
    from mkdocs import utils
    from mkdocs.structure import pages

    from hooks import serve_speedups

    monkeypatch.setattr(pages, "get_build_date", utils.get_build_date)
    serve_speedups.remember_build_date()
    assert pages.get_build_date is not utils.get_build_date
    serve_speedups.begin_build()
    assert pages.get_build_date() == utils.get_build_date()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")  # a reproducible build: its date from the next build on
    assert pages.get_build_date() != "1970-01-02"
    serve_speedups.begin_build()
    assert pages.get_build_date() == utils.get_build_date() == "1970-01-02"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(86400 * 365))
    serve_speedups.begin_build()
    assert pages.get_build_date() == "1971-01-01"


def test_the_faster_list_of_pages_is_mkdocs_own_list(tmp_path: Path, monkeypatch) -> None:
    """serve_speedups.faster_file_lists: the same files, in the same order, for every inclusion test
    MkDocs passes, files of every level and kind, and a File class with its own idea of a page."""
    from mkdocs.structure.files import File, Files, InclusionLevel

    from hooks import serve_speedups

    class Notebook(File):
        def is_documentation_page(self) -> bool:
            return self.src_uri.endswith(".ipynb")

    names = ["a.md", "b.markdown", "c.html", "d.png", "e.mdown", "f.ipynb", "notes/g.md", "h.MD", "i.md.txt"]
    files = []
    for n, name in enumerate(names * 2):
        cls = Notebook if n % 5 == 0 else File
        file = cls(f"{n}-{name}", str(tmp_path), str(tmp_path / "site"), True)
        file.inclusion = list(InclusionLevel)[n % len(InclusionLevel)]
        files.append(file)
    listing = Files(files)
    tests = [InclusionLevel.is_included, InclusionLevel.is_in_serve, InclusionLevel.is_not_in_nav, InclusionLevel.all,
             lambda level: level.is_in_nav()]
    expected = [[f.src_uri for f in listing.documentation_pages(inclusion=t)] for t in tests]
    assert expected[0] and expected[0] != expected[1]
    monkeypatch.setattr(Files, "documentation_pages", Files.documentation_pages)  # put back afterwards
    serve_speedups.faster_file_lists()
    assert getattr(Files.documentation_pages, "_kb_fast", False)
    assert [[f.src_uri for f in listing.documentation_pages(inclusion=t)] for t in tests] == expected
    assert [f.src_uri for f in listing.documentation_pages()] == expected[0]
    serve_speedups.seal_file_list(listing)  # settled: each list is made once, until a file is added or removed
    first = listing.documentation_pages()
    assert [f.src_uri for f in first] == expected[0] and listing.documentation_pages() is not first
    first.clear()  # a caller's list is its own
    assert [f.src_uri for f in listing.documentation_pages()] == expected[0]
    listing.append(File("new.md", str(tmp_path), str(tmp_path / "site"), True))
    assert [f.src_uri for f in listing.documentation_pages()] == expected[0] + ["new.md"]


def test_a_kept_markdown_parser_converts_each_page_as_a_new_one_would(tmp_path: Path, monkeypatch) -> None:
    """serve_speedups.reuse_markdown_parsers: a build whose pages share one parser, reset between them,
    writes the same site as MkDocs' parser per page: one page's footnotes, abbreviations, table of
    contents, stashed HTML and fences never show on the next, whose headings get the same ids."""
    import markdown
    from mkdocs.structure import pages

    monkeypatch.setattr(pages, "markdown", pages.markdown)  # put back afterwards
    made = []
    real_init = markdown.Markdown.__init__

    def counted(self, *args, **kwargs):
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(markdown.Markdown, "__init__", counted)
    extensions = ["admonition", "abbr", "footnotes", {"toc": {"permalink": True}}, "pymdownx.superfences", "md_in_html"]
    texts = {
        "a-first.md": "# First\n\n## Part\n\nA claim[^1] about HTML.\n\n*[HTML]: Hyper Text\n\n[^1]: Zebra, the first page's note.\n\n"
                      "<div markdown>**raw** here</div>\n\n```python\nx = 1\n```\n\n!!! note\n    Kept.\n",
        "b-second.md": "# Second\n\n## Part\n\nHTML again, and a claim[^1].\n\n[^1]: Yak, the second page's note.\n",
        "c-third.md": "# Third\n\n## Part\n\nHTML without a glossary, no note.\n",
    }
    sites = {}
    for switch in ("0", "1"):
        monkeypatch.setenv("NOTES_SERVE_SPEEDUPS", switch)
        root = tmp_path / f"speedups-{switch}"
        write_site(root, markdown_extensions=extensions)
        for name, text in texts.items():
            (root / "docs" / name).write_text(text, encoding="utf-8")
        made.clear()
        build_site(root / "mkdocs.yml", strict=False)
        sites[switch] = (site_files(root / "site"), len(made))
    (off, made_off), (on, made_on) = sites["0"], sites["1"]
    pages_built = sum(1 for name in off if name.endswith("index.html"))
    assert made_off > pages_built > 3 * made_on, (made_off, made_on, pages_built)  # one parser for the pages, not one each
    assert sorted(on) == sorted(off)
    assert [name for name in off if on[name] != off[name]] == []
    first, second, third = (on[f"{name}/index.html"].decode() for name in ("a-first", "b-second", "c-third"))
    assert "Zebra" in first and '<abbr title="Hyper Text">' in first and 'id="part"' in first
    assert "Yak" in second and "Zebra" not in second and "<abbr" not in second and 'id="part"' in second
    assert 'class="footnote"' not in third and "<abbr" not in third and 'id="part"' in third


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8")
    except OSError:
        return ""


@contextlib.contextmanager
def serving(root: Path, log_path: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """`mkdocs serve` of the site at ``root`` on a free port, its output in ``log_path``; stopped on exit."""
    port = services.free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, *COMMAND, "serve", "--dev-addr", f"127.0.0.1:{port}", "-f", str(root / "mkdocs.yml")],
            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), cwd=root,
        )
        try:
            yield port, proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait(check, seconds: float = 60) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_mkdocs_serve_serves_a_saved_note_and_a_new_backlink(tmp_path: Path) -> None:
    root = tmp_path / "site-src"
    root.mkdir()
    write_site(root)
    with serving(root, tmp_path / "serve.log") as (port, proc):
        base = f"http://127.0.0.1:{port}/kb/"
        assert wait(lambda: "Third note" in _get(base)), (tmp_path / "serve.log").read_text()[-3000:]
        edit(root, "docs/notes/2024-01-23-first-note.md", append="\nA sentence saved under serve.\n")
        assert wait(lambda: "A sentence saved under serve." in _get(base + "notes/2024-01-23-first-note/"))
        edit(root, "docs/notes/2024-01-23-first-note.md", append="\nNow also [[Trainability]].\n")
        concept = base + "concepts/trainability/"
        assert wait(lambda: "First note" in (BeautifulSoup(_get(concept), "html.parser").select_one(".kb-backlinks") or BeautifulSoup("", "html.parser")).get_text())
        edit(root, "docs/notes/2024-01-23-first-note.md", replace=("title: First note", "title: [unclosed"))
        assert wait(lambda: "malformed YAML front matter" in _get(base + "notes/2024-01-23-first-note/"))
        assert proc.poll() is None, "the server stopped on a broken note"
    text = (tmp_path / "serve.log").read_text()
    assert "docs/notes/2024-01-23-first-note.md:2: malformed YAML front matter" in text
    assert "Traceback" not in text


# --- what the demo hook adds to pages: galleries of figures, previews with a figure, sliders --------------

DEMO_FIXTURE = Path(__file__).parent / "fixtures" / "demo_project"
DEMO_SITE = """
site_name: Tiny
site_url: https://example.invalid/tiny/
theme:
  name: material
nav:  # titles in the nav, as a dirty build does not read the titles of pages it does not render
  - Home: index.md
  - Notes: notes/index.md
  - Concepts: concepts/index.md
  - Concept map: concept-map.md
  - Demo runs: demo-runs.md
hooks:
  - {hooks}/mkdocs_site.py
  - {hooks}/mkdocs_demos.py
markdown_extensions: [attr_list, md_in_html]
extra:
  demos:
    cache_dir: .cache/demos
    timeout: 2
    jobs: 2
"""
OLDER = "---\ntitle: Older note\ndate: 2024-01-02\n---\n\n# Older note\n\nOn [[Squares]].\n"
NEWER = ("---\ntitle: Newer note\ndate: 2024-02-03\n---\n\n# Newer note\n\nSee [[Squares]] and [[Older note]].\n\n"
         "!demo[Scaled](ok/main?scale=0.5|2)\n")
SQUARES = "---\ntitle: Squares\n---\n\n# Squares\n\nFour equal sides.\n"


def _demo_site(root: Path) -> None:
    shutil.copytree(DEMO_FIXTURE, root)
    for name in ("fails", "hangs", "silent"):  # their default runs fail on every build: not what this test is about
        (root / "demos" / f"{name}.py").unlink()
    (root / "mkdocs.yml").write_text(DEMO_SITE.format(hooks=Path(__file__).resolve().parents[1] / "hooks"), encoding="utf-8")
    for rel, text in (("notes/2024-01-02-older-note.md", OLDER), ("notes/2024-02-03-newer-note.md", NEWER), ("concepts/squares.md", SQUARES)):
        (root / "docs" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / rel).write_text(text, encoding="utf-8")


def test_a_save_under_serve_builds_once_though_builds_read_the_watched_demos(tmp_path: Path) -> None:
    """`watch: [demos]` in mkdocs.yml: each build reads the demos' sources there, which must not count as a change."""
    root = tmp_path / "site-src"
    _demo_site(root)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "watch:\n  - demos\n", encoding="utf-8")
    log_path = tmp_path / "serve.log"

    def builds() -> int:
        return log_path.read_text().count("Building documentation")

    with serving(root, log_path) as (port, proc):
        page = f"http://127.0.0.1:{port}/tiny/notes/2024-02-03-newer-note/"
        # the first build shows the demos running; each run that ends rebuilds once, then all is quiet
        assert wait(lambda: "Newer note" in (text := _get(page)) and "running" not in text.lower(), 120), log_path.read_text()[-3000:]
        time.sleep(2)
        settled = builds()
        time.sleep(2)
        assert builds() == settled, "builds without a change:\n" + log_path.read_text()[-3000:]
        edit(root, "docs/notes/2024-02-03-newer-note.md", append="\nSaved once.\n")
        assert wait(lambda: "Saved once." in _get(page))
        time.sleep(3)  # a build that triggered the next one would show here
        assert builds() == settled + 1, f"one save, {builds() - settled} rebuilds:\n" + log_path.read_text()[-3000:]
        assert proc.poll() is None


def _full_demo_build(root: Path, tmp: Path, step: int) -> dict[str, object]:
    copy = tmp / f"reference-{step}"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site"))
    session = ServeSession(copy / "mkdocs.yml", copy / "site")
    session.build()
    return site_files(copy / "site")


def test_incremental_rebuilds_equal_full_builds_for_galleries_previews_and_sliders(tmp_path: Path, serve_mode, caplog) -> None:
    root = tmp_path / "site-src"
    _demo_site(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    caplog.set_level(logging.INFO)
    caplog.clear()
    serve.build()  # runs made by the first build are reused from now on ("ran" becomes "cached" on their pages)
    assert "reused from the cache" not in caplog.text  # a save that ran no demo says nothing about demos
    older, newer, squares = "notes/2024-01-02-older-note.md", "notes/2024-02-03-newer-note.md", "concepts/squares.md"
    steps = [
        ("add a figure to a note that links the concept", lambda: edit(root, f"docs/{older}", append="\n!demo[Big](ok/main?scale=3)\n"),
         {"must": {older, squares}, "not": {newer}}),
        ("change a figure's caption", lambda: edit(root, f"docs/{older}", replace=("!demo[Big]", "!demo[Bigger]")),
         {"must": {older, squares}, "not": {newer}}),
        ("add a value to a slider", lambda: edit(root, f"docs/{newer}", replace=("scale=0.5|2", "scale=0.5|2|4")),
         {"must": {newer}, "not": {older}}),
        ("sweep from another first value", lambda: edit(root, f"docs/{newer}", replace=("scale=0.5|2|4", "scale=4|0.5|2")),
         {"must": {newer, squares}}),  # the gallery and the preview show the first value
        ("unlink the concept", lambda: edit(root, f"docs/{older}", replace=("On [[Squares]].", "On squares.")),
         {"must": {older, squares}}),
        ("retitle a note", lambda: edit(root, f"docs/{newer}", replace=("title: Newer note", "title: The newest note")),
         {"must": {newer, squares, older}}),  # the gallery's link and both local graphs show the title
    ]
    for number, (step, change, expect) in enumerate(steps, start=1):
        change()
        rendered = serve.build()
        assert expect["must"] <= rendered, f"{step}: not rebuilt: {sorted(expect['must'] - rendered)}"
        assert not (expect.get("not", set()) & rendered), f"{step}: rebuilt without need: {sorted(expect['not'] & rendered)}"
        assert_same_site(root / "site", _full_demo_build(root, tmp_path, number), step)
    page = BeautifulSoup((root / "site/concepts/squares/index.html").read_text(encoding="utf-8"), "html.parser")
    assert [c.get_text() for c in page.select(".kb-gallery-caption")] == ["Scaled (shown at scale = 4; the slider is on the page)"]
    preview = json.loads((root / "site/notes/2024-02-03-newer-note/preview.json").read_text(encoding="utf-8"))
    assert preview["title"] == "The newest note" and "scale-4.0" in preview["figure"]["light"]


# --- plain Markdown links: MkDocs resolves them while it renders the linking page ------------------------

def _plain_link_site(root: Path) -> None:
    root.mkdir()
    write_site(root)
    edit(root, "docs/concepts/inductive-bias.md", append="\nA [plain link](../notes/2024-05-01-new-note.md) to a note.\n")


NEW_NOTE = "---\ntitle: New note\ndate: 2024-05-01\n---\n\n# New note\n\nWritten after the link.\n"


def test_a_plain_link_to_a_note_written_later_works_under_serve(tmp_path: Path, serve_mode) -> None:
    """The concept's link is broken (`.md` kept) until the note exists; creating the note must fix it,
    though nothing the site hook tracks on the concept's page (wikilinks, backlinks) changes."""
    root = tmp_path / "site-src"
    _plain_link_site(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    steps = [
        ("write the linked note", lambda: edit(root, "docs/notes/2024-05-01-new-note.md", NEW_NOTE)),
        ("save another note", lambda: edit(root, "docs/notes/2024-02-10-second-note.md", append="\nOne more sentence.\n")),
    ]
    for number, (step, change) in enumerate(steps, start=1):
        change()
        serve.build()
        assert_same_site(root / "site", full_build_of(root, tmp_path, number), step)
    page = BeautifulSoup((root / "site/concepts/inductive-bias/index.html").read_text(encoding="utf-8"), "html.parser")
    assert page.find("a", string="plain link")["href"] == "../../notes/2024-05-01-new-note/"


def test_a_plain_link_to_a_note_that_becomes_a_draft_breaks_under_serve(tmp_path: Path, serve_mode) -> None:
    """A link to a note that becomes a draft points to a page that is no longer published: the linking
    page must say so (MkDocs keeps the `.md` link) as a full build does, also after later saves."""
    root = tmp_path / "site-src"
    _plain_link_site(root)
    edit(root, "docs/notes/2024-05-01-new-note.md", NEW_NOTE)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    steps = [
        ("make the linked note a draft", lambda: edit(root, "docs/notes/2024-05-01-new-note.md", replace=("date: 2024-05-01\n", "date: 2024-05-01\ndraft: true\n"))),
        ("save another note", lambda: edit(root, "docs/notes/2024-02-10-second-note.md", append="\nOne more sentence.\n")),
    ]
    for number, (step, change) in enumerate(steps, start=1):
        change()
        serve.build()
        assert_same_site(root / "site", full_build_of(root, tmp_path, number), step)
    page = BeautifulSoup((root / "site/concepts/inductive-bias/index.html").read_text(encoding="utf-8"), "html.parser")
    assert page.find("a", string="plain link")["href"] == "../notes/2024-05-01-new-note.md"


def test_a_note_whose_front_matter_breaks_keeps_its_figures_under_serve(tmp_path: Path, serve_mode) -> None:
    """A writer saves a note with broken YAML: the page lists the problem and still shows its figures."""
    root = tmp_path / "site-src"
    _demo_site(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    note = root / "docs" / "notes" / "2024-02-03-newer-note.md"
    note.write_text(note.read_text(encoding="utf-8").replace("title: Newer note", "title: [Newer note"), encoding="utf-8")
    serve.build()
    page = BeautifulSoup((root / "site/notes/2024-02-03-newer-note/index.html").read_text(encoding="utf-8"), "html.parser")
    assert "malformed YAML front matter" in page.select_one(".kb-problems").get_text()
    assert page.select("figure.kb-sweep img") and not page.select(".kb-demo-missing")  # the figure, not a placeholder
