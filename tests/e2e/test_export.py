"""The real site through ``notes export``, built by plain MkDocs with no hooks, is the hooked build page
by page (tests/articles.py says what is compared and what is normalised); a second export writes nothing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import generator
from tests.articles import differences
from tests.e2e.conftest import REPO, SOURCE_DATE_EPOCH

pytestmark = pytest.mark.e2e

# Files a build derives from its pages for its own search and sitemap: they are compared through the
# pages (and the sitemap holds the build's date).
DERIVED = ("search/search_index.json", "sitemap.xml", "sitemap.xml.gz")


def notes_export(out: Path, *args: str) -> subprocess.CompletedProcess:
    """``notes export OUT`` in the project, as a user runs it (demos from the project's cache)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "hooks.cli.main", "export", str(out), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1800)


def files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "tree"
    proc = notes_export(out)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def test_the_exported_site_built_without_hooks_is_the_hooked_site(built_site: Path, exported: Path, tmp_path: Path) -> None:
    assert "hooks" not in yaml.load((exported / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.Loader)
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH)
    proc = subprocess.run([sys.executable, *generator.COMMAND, "build", "--strict", "-f", str(exported / "mkdocs.yml"),
                           "--site-dir", str(site)], cwd=exported, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert differences(built_site, site) == []
    ours, theirs = files(built_site), files(site)
    assert sorted(ours) == sorted(theirs)
    # Everything else (feed, previews, demo figures, data and sources, KaTeX, mermaid, styles) is the same bytes.
    changed = [name for name in ours if not name.endswith(".html") and name not in DERIVED
               and ours[name].read_bytes() != theirs[name].read_bytes()]
    assert changed == []


def test_exporting_again_writes_nothing(exported: Path) -> None:
    before = {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in files(exported).items()}
    proc = notes_export(exported)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert " 0 written" in proc.stdout and " 0 removed" in proc.stdout, proc.stdout
    assert {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in files(exported).items()} == before
