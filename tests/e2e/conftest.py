"""Fixtures for the end-to-end tests: one strict build of the real site, served on 127.0.0.1."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from tests import generator

from tests.conftest import QuietHandler as _QuietHandler, serve_folder as _serve

REPO = Path(__file__).resolve().parents[2]
SOURCE_DATE_EPOCH = "1700000000"


def build_site(site_dir: Path, cache_dir: Path | None = None, strict: bool = True, extra_env: dict | None = None,
               generator_name: str | None = None) -> subprocess.CompletedProcess:
    """Build the real site into ``site_dir`` in a fresh process; report whether torch was imported.

    ``cache_dir`` (absolute) replaces the demo cache folder of mkdocs.yml for this build.
    """
    code = (
        "import sys\n"
        f"from {generator_name or generator.NAME}.__main__ import cli\n"
        "try:\n"
        "    cli.main(args=sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    print('TORCH_IMPORTED=' + str('torch' in sys.modules), file=sys.stderr)\n"
    )
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH, PYTHONHASHSEED="0")
    if cache_dir is not None:
        env.update(DEMOS_CACHE_DIR=str(cache_dir), DEMOS_CACHE_OUTSIDE="1")
    env.update(extra_env or {})
    args = ["build", "--site-dir", str(site_dir), "-f", str(REPO / "mkdocs.yml")]
    if strict:
        args.append("--strict")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real site, built once with --strict (demos come from the project's cache, run if missing)."""
    site = tmp_path_factory.mktemp("e2e") / "site"
    proc = build_site(site)
    if proc.returncode != 0:
        pytest.fail(f"strict build failed:\n{proc.stderr[-6000:]}")
    return site


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1 on a free port for the session."""
    with _serve(_QuietHandler, built_site) as port:
        yield f"http://127.0.0.1:{port}/"


# --- the site as deployed, and what its sources say ------------------------------------------------

class _AnyTagLoader(yaml.SafeLoader):
    """Reads mkdocs.yml and front matter without running any `!!python/...` or `!ENV` tag."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def mkdocs_config() -> dict:
    return yaml.load((REPO / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_AnyTagLoader) or {}


def site_url_config() -> str:
    """``site_url`` of mkdocs.yml, ending in a slash."""
    url = mkdocs_config().get("site_url") or "/"
    return url if url.endswith("/") else url + "/"


def site_prefix() -> str:
    """The path the site is published under (``/dl-notes/`` for https://example.invalid/dl-notes/)."""
    return urlsplit(site_url_config()).path or "/"


@dataclass(frozen=True)
class SourcePage:
    stem: str  # file name without .md
    kind: str  # "note" or "concept"
    title: str
    date: date | None
    aliases: tuple[str, ...]

    @property
    def url(self) -> str:
        """URL relative to the site root (use_directory_urls)."""
        return f"{self.kind}s/{self.stem}/"


def _front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    block = text.split("\n---", 1)[0][3:]
    return yaml.load(block, Loader=_AnyTagLoader) or {}


def source_pages(kind: str) -> list[SourcePage]:
    """Published notes (newest first) or concepts (by title) read straight from docs/, drafts left out.

    Read independently of the hooks, so that the tests do not take the system's word for what it shows.
    """
    out = []
    for path in sorted((REPO / "docs" / f"{kind}s").glob("*.md")):
        if path.name == "index.md":
            continue
        meta = _front_matter(path)
        if meta.get("draft") is True:
            continue
        day = meta.get("date")
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        aliases = tuple(str(a) for a in (meta.get("aliases") or []))
        out.append(SourcePage(path.stem, kind, str(meta.get("title") or path.stem), day, aliases))
    if kind == "note":
        out.sort(key=lambda p: (p.date or date.min, p.stem), reverse=True)
    else:
        out.sort(key=lambda p: p.title.lower())
    return out


def html_pages(site: Path) -> list[str]:
    """Every HTML page of a built site as a URL path relative to the site root ('' is the home page)."""
    pages = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        pages.append(rel[: -len("index.html")] if rel == "index.html" or rel.endswith("/index.html") else rel)
    return pages


class _DeployedHandler(_QuietHandler):
    """Serves the site under its published path prefix and answers a missing page with 404.html, as
    GitHub Pages does; Material's 404 page uses absolute URLs, so it only renders right under the prefix."""

    prefix = "/"

    def translate_path(self, path: str) -> str:
        url_path = unquote(urlsplit(path).path)
        root = self.prefix.rstrip("/")
        if url_path == root or url_path.startswith(root + "/"):
            return super().translate_path(url_path[len(root):] or "/")
        return str(Path(self.directory) / "__outside_the_site__")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@pytest.fixture(scope="session")
def deployed_url(built_site: Path) -> Iterator[str]:
    """The built site served on 127.0.0.1 under the path of mkdocs.yml's site_url (e.g. /dl-notes/)."""
    with _serve(type("Handler", (_DeployedHandler,), {"prefix": site_prefix()}), built_site) as port:
        yield f"http://127.0.0.1:{port}{site_prefix()}"
