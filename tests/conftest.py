"""Shared test helpers: tiny MkDocs sites in tmp_path that use this project's site hook (not the demo hook)."""
from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit
from typing import Iterator

import pytest
import yaml

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

ROOT = Path(__file__).resolve().parent.parent
SITE_HOOK = ROOT / "hooks" / "mkdocs_site.py"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY_DOCS = FIXTURES / "tiny" / "docs"
CHROMIUM = Path("/usr/bin/chromium")


def write_site(root: Path, docs: Path | None = TINY_DOCS, **overrides) -> Path:
    """Copy ``docs`` into ``root/docs`` and write a minimal mkdocs.yml there; returns the config's path."""
    if docs is not None:
        shutil.copytree(docs, root / "docs", dirs_exist_ok=True)
    (root / "docs").mkdir(parents=True, exist_ok=True)
    config = {
        "site_name": "Tiny notes",
        "site_url": "https://example.org/kb/",
        "site_description": "Notes for the tests.",
        "theme": {"name": "material"},
        "nav": [
            {"Home": "index.md"},
            {"Notes": "notes/index.md"},
            {"Concepts": "concepts/index.md"},
            {"Concept map": "concept-map.md"},
            {"Tags": "tags.md"},
        ],
        "plugins": ["search", "callouts"],
        "hooks": [str(SITE_HOOK)],
        "markdown_extensions": ["admonition", {"toc": {"permalink": True}}, "pymdownx.superfences"],
        "validation": {"omitted_files": "warn", "absolute_links": "warn", "unrecognized_links": "warn", "anchors": "warn"},
        "extra": {"notes": {"feed_items": 2, "newest_on_home": 2, "map_notes": 2}},
        **overrides,
    }
    path = root / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def build_site(config_path: Path, strict: bool = True) -> Path:
    """Build in this process (fast, and it reuses the loaded hook module as `mkdocs serve` does)."""
    from tests.generator import build, load_config

    config = load_config(str(config_path), strict=strict)
    build(config)
    return Path(config.site_dir)


def plan_of(root: Path):
    """The site plan of the project in ``root`` (its mkdocs.yml), as `notes check` and the build make it."""
    from hooks.mkdocs_files import load_project
    from hooks.site import plan_site

    project, files = load_project(root / "mkdocs.yml")
    return plan_site(project, files)


def check_site(root: Path):
    """Every problem `notes check` reports for the project in ``root``."""
    from hooks.cli.check import check_project

    return check_project(root)


@pytest.fixture
def tiny_site(tmp_path: Path) -> Path:
    """A fresh copy of the tiny fixture site; returns the path of its mkdocs.yml."""
    return write_site(tmp_path)


# --- a built site in a browser ---------------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature from the base class
        pass


@contextlib.contextmanager
def serve_folder(handler_cls: type, folder: Path) -> Iterator[int]:
    """Serve ``folder`` on 127.0.0.1 on a free port in a thread; yield the port."""
    handler = functools.partial(handler_cls, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; skipped with the reason when it cannot start."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed: {exc}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def offline(browser, request):
    """A browser page that refuses every request that does not go to 127.0.0.1, and lists them."""
    context = browser.new_context(color_scheme=getattr(request, "param", "light"))
    refused: list[str] = []
    fetched: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            fetched.append(r.request.url)
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    # Material draws a diagram in a closed shadow root; open it so the test can see the <svg>
    context.add_init_script("const attach = Element.prototype.attachShadow;"
                            "Element.prototype.attachShadow = function (o) { return attach.call(this, {...o, mode: 'open'}); };")
    tab = context.new_page()
    tab.refused, tab.fetched = refused, fetched
    yield tab
    context.close()


def loaded(img) -> None:
    """Wait until a Playwright locator's <img> has loaded, within 15 s: scrolled into view first (a lazy
    image below the window never loads), and an image that fails or never loads fails the test, naming it."""
    img.scroll_into_view_if_needed()
    img.evaluate("""img => img.complete && img.naturalWidth > 0 || new Promise((resolve, reject) => {
        img.addEventListener('load', resolve, {once: true});
        img.addEventListener('error', () => reject(new Error('could not load ' + img.currentSrc)), {once: true});
        setTimeout(() => reject(new Error('not loaded within 15 s: ' + img.currentSrc)), 15000);
    })""")
