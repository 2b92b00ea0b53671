"""Fixtures for the end-to-end tests: one strict build of the real site, served on 127.0.0.1."""
from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCE_DATE_EPOCH = "1700000000"
CHROMIUM = Path("/usr/bin/chromium")


def build_site(site_dir: Path, cache_dir: Path | None = None, strict: bool = True, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Build the real site into ``site_dir`` in a fresh process; report whether torch was imported.

    ``cache_dir`` (absolute) replaces the demo cache folder of mkdocs.yml for this build.
    """
    code = (
        "import sys\n"
        "from mkdocs.__main__ import cli\n"
        "try:\n"
        "    cli.main(args=sys.argv[1:], standalone_mode=False)\n"
        "finally:\n"
        "    print('TORCH_IMPORTED=' + str('torch' in sys.modules), file=sys.stderr)\n"
    )
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH, PYTHONHASHSEED="0")
    if cache_dir is not None:
        env["DEMOS_CACHE_DIR"] = str(cache_dir)
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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature from the base class
        pass


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1 on a free port for the session."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
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
