"""The demo hook on a tiny MkDocs site in tmp_path, with the fake demos of tests/fixtures/demo_project."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from tests.generator import COMMAND, Abort, build, load_config

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "demo_project"

MKDOCS_YML = f"""
site_name: Tiny
site_url: https://example.invalid/tiny/
theme:
  name: material
  font: false
hooks:
  - {REPO / "hooks" / "mkdocs_site.py"}
  - {REPO / "hooks" / "mkdocs_demos.py"}
markdown_extensions: [attr_list, md_in_html]
extra:
  demos:
    cache_dir: .cache/demos
    timeout: 60
    jobs: 2
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site-src"
    shutil.copytree(FIXTURE, root)
    (root / "mkdocs.yml").write_text(MKDOCS_YML)
    return root


def do_build(root: Path, strict: bool = False) -> None:
    build(load_config(str(root / "mkdocs.yml"), strict=strict, site_dir=str(root / "site")))


def soup(root: Path, page: str = "index.html") -> BeautifulSoup:
    return BeautifulSoup((root / "site" / page).read_text(encoding="utf-8"), "html.parser")


def test_figures_both_palettes_provenance_and_published_data(site: Path) -> None:
    do_build(site)
    page = soup(site)
    figures = page.select("figure.kb-demo")
    assert len(figures) == 2
    imgs = figures[0].find_all("img")
    assert [img["src"] for img in imgs] == ["demos/ok/main-light.svg#only-light", "demos/ok/main-dark.svg#only-dark"]
    assert all(img["alt"] == "The square, at default settings" for img in imgs)
    for img in imgs:  # each variant's size in CSS pixels, read from its file (pt are 4/3 px), keeps its place before it loads
        svg = (site / "site" / img["src"].split("#")[0]).read_text()[:2000]
        size = [float(v) * (4 / 3 if unit == "pt" else 1) for v, unit in re.findall(r'<svg[^>]*?\swidth="([0-9.]+)(pt|px|)"', svg)
                + re.findall(r'<svg[^>]*?\sheight="([0-9.]+)(pt|px|)"', svg)]
        assert len(size) == 2 and [int(img["width"]), int(img["height"])] == [round(size[0]), round(size[1])], (img, size)
    prov = figures[0].select_one(".kb-provenance")
    text = prov.get_text(" ", strip=True)
    assert "ok.py" in text and "seed 0" in text and "torch" in text and "run 20" in text
    hrefs = [a["href"] for a in prov.find_all("a")]
    assert hrefs == ["demos/ok/ok.py", "demos/ok/data.json"]  # the source that made this run, beside its figures
    for href in hrefs:
        assert (site / "site" / href).is_file()
    scaled = [img["src"] for img in figures[1].find_all("img")]
    assert scaled[0] == "demos/ok/label-big_scale-2.0/main-light.svg#only-light"
    assert (site / "site/demos/ok/label-big_scale-2.0/data.json").read_text().count("84.0") == 1
    assert "params label=big, scale=2.0" in figures[1].select_one(".kb-provenance").get_text(" ", strip=True)
    runs = soup(site, "demo-runs/index.html")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in runs.select("table tbody tr")]
    assert [r[0].split()[0] for r in rows] == ["fails", "hangs", "ok", "ok", "silent", "standalone"]
    ok_default = rows[2]
    assert ok_default[1] == "defaults" and ok_default[2] == "ok" and ok_default[-1] == "Home"
    assert rows[0][2].startswith("failed: ValueError: the loss diverged at step 7")


def test_rebuild_from_the_same_cache_gives_identical_pages(site: Path) -> None:
    do_build(site)
    first = {p: p.read_bytes() for p in (site / "site").rglob("*") if p.is_file() and p.suffix in (".html", ".svg", ".json")}
    do_build(site)
    second = {p: p.read_bytes() for p in (site / "site").rglob("*") if p.is_file() and p.suffix in (".html", ".svg", ".json")}
    assert first.keys() == second.keys()
    changed = [str(p) for p in first if first[p] != second[p] and not p.name == "search_index.json"]
    assert changed == []


def test_a_failing_demo_shows_a_placeholder_then_a_stale_figure(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    page = site / "docs" / "failing.md"
    page.write_text("# Failing\n\n!demo[Loss curve](fails/main)\n")
    do_build(site)
    html = soup(site, "failing/index.html")
    missing = html.select_one(".kb-demo-missing")
    assert missing is not None and missing.get_text(" ", strip=True) == "Figure not published yet. Loss curve"
    assert "ValueError" not in html.get_text()  # the error is the author's: in the log and on the Demo runs page
    assert "ValueError: the loss diverged at step 7" in soup(site, "demo-runs/index.html").get_text()
    assert "demo 'fails' failed (used by docs/failing.md): ValueError: the loss diverged at step 7" in caplog.text
    # A good run, then a failing one: the last good figure stays, marked stale.
    demo = site / "demos" / "fails.py"
    demo.write_text(demo.read_text().replace("fail: bool = True", "fail: bool = False"))
    do_build(site)
    assert soup(site, "failing/index.html").select_one("figure.kb-demo .kb-stale") is None
    demo.write_text(demo.read_text().replace("fail: bool = False", "fail: bool = True"))
    do_build(site)
    fig = soup(site, "failing/index.html").select_one("figure.kb-demo")
    assert "kb-demo-stale" in fig["class"]
    stale = fig.select_one(".kb-stale").get_text(" ", strip=True)
    assert stale.startswith("This figure is from the run of 20") and stale.endswith("a newer run is not published yet.")
    assert [img["src"] for img in fig.find_all("img")][0] == "../demos/fails/main-light.svg#only-light"


def test_strict_build_fails_with_one_summary_and_keeps_the_built_site(site: Path) -> None:
    do_build(site)
    (site / "docs" / "failing.md").write_text("# Failing\n\n!demo[Loss curve](fails/main)\n")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, *COMMAND, "build", "--strict", "-f", str(site / "mkdocs.yml")],
        capture_output=True, text=True, env=env, cwd=site,
    )
    assert proc.returncode == 1
    assert "demo 'fails' failed (used by docs/failing.md): ValueError: the loss diverged at step 7" in proc.stderr
    assert 'File "demos/fails.py", line' in proc.stderr
    assert "Traceback" not in proc.stderr and str(site) not in proc.stderr
    assert (site / "site" / "index.html").is_file(), "a failed strict build must not wipe the last site"


@pytest.mark.parametrize(
    "line, message",
    [
        ("!demo[x](nope/main)", "docs/bad.md:3: unknown demo 'nope'"),
        ("!demo[x](ok/main?steps=lots)", "docs/bad.md:3: parameter 'steps' of demo 'ok' must be int, not 'lots'"),
        ("!demo[x](../../etc/main)", "docs/bad.md:3: '../../etc/main' is not DEMO/FIGURE"),
    ],
)
def test_bad_directives_fail_the_build_naming_file_and_line(
    site: Path, line: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    (site / "docs" / "bad.md").write_text(f"# Bad\n\n{line}\n")
    with pytest.raises(Abort):
        do_build(site)
    assert message in caplog.text


def test_an_unwritable_cache_is_one_clear_error(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    (site / "blocked").write_text("")
    yml = site / "mkdocs.yml"
    yml.write_text(yml.read_text().replace("cache_dir: .cache/demos", "cache_dir: blocked/demos"))
    with pytest.raises(Abort):
        do_build(site)
    assert re.search(r"demo cache folder .*blocked/demos cannot be written \(.*\); fix its permissions", caplog.text)


@pytest.mark.parametrize("root, size", [
    ('<svg width="453.06pt" height="345.4pt" viewBox="0 0 453.06 345.4">', (604, 461)),  # pt are 4/3 px
    ('<svg height="30" stroke-width="2" width="120px">', (120, 30)),
    ('<svg width="100%" height="50">', None),  # no size in pixels: the image keeps its own
    ('<svg width="1.2.3" height="4">', None),
    ('<svg width="12345678" height="4">', None),
    ('<svg viewBox="0 0 10 10">', None),
])
def test_a_figures_size_is_read_from_its_svg_or_left_out(tmp_path: Path, root: str, size) -> None:
    from hooks.figures.pages import _svg_size

    path = tmp_path / "figure.svg"
    path.write_text('<?xml version="1.0"?>\n' + root + "<rect/></svg>\n", encoding="utf-8")
    assert _svg_size(str(path), root) == size


NARROW_DEMO = '''"""Draws its figure twice: wide, and narrow for a phone (optional variants of the same figure)."""
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Config:
    seed: int = 0  # random seed
    themes: str = "light,dark"  # the themes whose narrow variant it writes


FIGURES = {"main": "a wide chart"}


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    for theme in ("light", "dark"):
        (out_dir / f"main-{theme}.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="600pt" height="150pt"/>\\n')
    for theme in cfg.themes.split(","):
        (out_dir / f"main-narrow-{theme}.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="240pt" height="300pt"/>\\n')
    (out_dir / "data.json").write_text(json.dumps({"ok": True}) + "\\n")
    return {}
'''


def test_a_figure_drawn_narrow_too_shows_its_narrow_layout_on_a_phone(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A run that also wrote NAME-narrow-THEME.svg: the page picks that layout below Material's one-column
    width (a phone), with its own size, and publishes it; a run that wrote one theme of it fails."""
    (site / "demos" / "narrow.py").write_text(NARROW_DEMO)
    (site / "docs" / "wide.md").write_text("# Wide\n\n!demo[A wide chart](narrow/main)\n\n!demo[Half drawn](narrow/main?themes=light)\n")
    do_build(site)
    html = soup(site, "wide/index.html")
    [figure] = html.select("figure.kb-demo")
    assert "kb-demo-fits" in figure["class"]  # no "swipe sideways" hint on a phone (demos.css)
    sources = [(s["media"], s["srcset"], s["width"], s["height"]) for s in figure.select("picture source")]
    assert sources == [("(max-width: 44.9375em)", "../demos/narrow/main-narrow-light.svg#only-light", "320", "400"),
                       ("(max-width: 44.9375em)", "../demos/narrow/main-narrow-dark.svg#only-dark", "320", "400")]
    assert [img["src"] for img in figure.select("picture img")] == ["../demos/narrow/main-light.svg#only-light",
                                                                  "../demos/narrow/main-dark.svg#only-dark"]  # wider screens
    assert (site / "site" / "demos" / "narrow" / "main-narrow-dark.svg").is_file()
    assert "wrote main-narrow-light.svg without the other theme's narrow variant (write both or neither)" in caplog.text
    assert html.select_one(".kb-demo-missing") is not None  # the half-drawn run failed: no figure


@pytest.mark.parametrize("files, problem", [
    (["main-light.svg", "main-dark.svg", "data.json"], None),
    (["main-light.svg", "main-dark.svg", "main-narrow-light.svg", "main-narrow-dark.svg", "data.json"], None),
    (["main-light.svg", "main-dark.svg", "main-narrow-dark.svg", "data.json"],
     "it holds main-narrow-dark.svg without the other theme's narrow variant"),
    (["main-light.svg", "main-dark.svg", "other-narrow-light.svg", "other-narrow-dark.svg", "data.json"],
     "it holds other-narrow-dark.svg, other-narrow-light.svg, which the demo does not promise"),
])
def test_an_entry_may_hold_a_narrow_variant_of_each_figure_in_both_themes(files: list[str], problem: str | None) -> None:
    """What a cache entry (local or pulled from a shared cache) may hold, checked before it is used."""
    from hooks.figures.validate import manifest_problem

    manifest = {"demo": "narrow", "key": "0123456789abcdef0123", "status": "ok", "params": {}, "overrides": {},
                "params_id": "default", "figures": ["main"], "seconds": 0.1, "finished_at": "2026-12-07T00:00:00Z",
                "device": "cpu", "versions": {}, "files": {name: "0" * 64 for name in files}}
    found = manifest_problem(manifest, name="narrow", key="0123456789abcdef0123")
    assert found == problem
