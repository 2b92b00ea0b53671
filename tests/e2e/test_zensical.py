"""The Zensical path (``make site-zensical``): ``notes export --for zensical``, then ``zensical build --clean``
in the exported folder. Zensical runs no hooks, so the export is what puts the knowledge base on its pages.

Checked against the hooked build page by page (tests/articles.py), leaving out what Zensical adds to every
article itself: its skip-link target (``a#__skip``) and its own list of a page's front-matter tags
(``nav.md-tags``; the page's header line already shows them, linked to the tags page). Then what else
must survive: the feed, previews, demo outputs, search, math; and that ``zensical build --clean``, which
empties the ``.cache/`` of the folder it builds, leaves the project's demo cache alone.

Skipped, with the reason, where Zensical is not installed (``pip install -e '.[zensical]'``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.articles import differences, view
from tests.e2e.conftest import REPO, source_pages
from tests.e2e.test_export import files, notes_export

pytestmark = pytest.mark.e2e

ZENSICAL_ADDS = ("a#__skip", "nav.md-tags")


def _demo_cache_listing() -> dict[str, int]:
    cache = REPO / ".demos-cache" / "entries"
    return {p.relative_to(cache).as_posix(): p.stat().st_mtime_ns for p in cache.rglob("*")} if cache.is_dir() else {}


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("zensical", reason="Zensical is not installed here: pip install -e '.[zensical]' (see README)")
    out = tmp_path_factory.mktemp("zensical") / "export"
    proc = notes_export(out, "--for", "zensical")
    assert proc.returncode == 0, proc.stderr[-4000:]
    cache_before = _demo_cache_listing()
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "zensical", "build", "--clean"], cwd=out, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    seconds = time.monotonic() - started
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    print(f"zensical build --clean: {seconds:.1f} s; {(proc.stdout + proc.stderr).strip().splitlines()[-2:]}")
    assert (out / ".cache").is_dir(), "Zensical keeps its cache in the folder it builds"
    assert _demo_cache_listing() == cache_before, "zensical build --clean touched the project's .demos-cache"
    return out / "site"


def test_zensical_shows_what_the_hooked_build_shows(built_site: Path, zensical_site: Path) -> None:
    # every page, wikilinks as links, figures, backlinks, local graphs, galleries, archive, concept map, tags, Demo runs
    assert differences(built_site, zensical_site, drop=ZENSICAL_ADDS) == []


def test_feed_previews_and_demo_outputs_are_published(built_site: Path, zensical_site: Path) -> None:
    ours, theirs = files(built_site), files(zensical_site)
    kept = [name for name in ours if name == "feed.xml" or name.endswith("preview.json") or name.startswith(("demos/", "assets/vendor/"))]
    assert len(kept) > 50
    assert [name for name in kept if name not in theirs or ours[name].read_bytes() != theirs[name].read_bytes()] == []


def test_search_indexes_every_note_and_concept(zensical_site: Path) -> None:
    index = json.loads((zensical_site / "search.json").read_text(encoding="utf-8"))
    locations = {item["location"].split("#", 1)[0] for item in index["items"]}
    assert {page.url for kind in ("note", "concept") for page in source_pages(kind)} <= locations
    assert not {"notes/", "demo-runs/"} & locations  # left out of search, as in the hooked build


def test_math_reaches_the_page_as_tex_with_the_script_that_draws_it(built_site: Path, zensical_site: Path) -> None:
    pages = [p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html") if 'class="arithmatex"' in p.read_text(encoding="utf-8")]
    assert pages
    for page in pages:
        html = (zensical_site / page).read_text(encoding="utf-8")
        assert html.count('class="arithmatex"') == (built_site / page).read_text(encoding="utf-8").count('class="arithmatex"'), page
        assert "assets/kb/obsidian.js" in html, page
    assert view(zensical_site, pages[0], ZENSICAL_ADDS) == view(built_site, pages[0])


def test_the_obsidian_vault_on_zensical(tmp_path: Path) -> None:
    """Callouts, embeds, block ids, inline tags, highlights, tasks, math and mermaid (tests/fixtures/obsidian)."""
    pytest.importorskip("zensical", reason="Zensical is not installed here: pip install -e '.[zensical]' (see README)")
    from hooks.cli.export import export_tree, write_tree
    from hooks.config import read_config
    from tests.conftest import FIXTURES, build_site, plan_of, write_site

    root = tmp_path / "vault"
    hooked = build_site(write_site(root, FIXTURES / "obsidian" / "docs", nav=None))
    out = tmp_path / "export"
    write_tree(export_tree(plan_of(root), read_config(root / "mkdocs.yml"), flavour="zensical").files, out)
    proc = subprocess.run([sys.executable, "-m", "zensical", "build", "--clean"], cwd=out, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert differences(hooked, out / "site", drop=ZENSICAL_ADDS) == []
