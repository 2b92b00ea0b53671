"""Page weight: the bytes a reader's browser fetches for each concept page and the note, on first load
and once scrolled to the bottom, beside the same text published by plain Material for MkDocs.

The site is this project's own, built from its sources into a temporary folder (demos from the
project's cache; those missing run first). "Plain Material" is a site of the same pages' Markdown
with the same theme settings and no hooks: the theme's own scripts and styles plus the text, the
weight of a page before this project adds figures, previews, the local graph and math. Chromium
(Debian's package, driven by Playwright) loads each page in a fresh context (an empty cache) at
1280 × 900, waits for the network to be idle, then scrolls to the bottom in steps of a window's
height (lazy images load as they come into view) and waits again. Every response's body is
counted twice: as sent by the local server, which compresses nothing, and gzip-compressed (level 6)
as a host that compresses text sends it (GitHub Pages does; fonts and images are already
compressed and gain nothing).

Goals, on the compressed bytes (what a reader's connection carries): a concept page's first load
within 1.5× plain Material's, and the whole page scrolled within 3×.

``python -m bench weight`` runs it alone; ``--quick`` measures two concept pages.
"""
from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bench.budget import Budget
from bench.common import PROJECT_ROOT, PYTHON, BenchError, env_for, table
from bench.report import Section

CHROMIUM = Path("/usr/bin/chromium")
FIRST_LOAD_GOAL = 1.5
SCROLLED_GOAL = 3.0
VIEWPORT = {"width": 1280, "height": 900}


def _build(config: Path, site: Path) -> None:
    proc = subprocess.run([PYTHON, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(site)],
                          cwd=config.parent, env=env_for(), capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        raise BenchError(f"building {config} failed:\n{proc.stderr[-3000:]}")


def _plain_site(tmp: Path, pages: list[str]) -> Path:
    """A plain Material site of the given pages' Markdown (front matter and text as written), with the
    project's theme settings and Markdown extensions, no hooks and no extra scripts or styles."""
    raw = yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    root = tmp / "plain"
    docs = root / "docs"
    for rel in pages:
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / "docs" / rel, docs / rel)
    (docs / "index.md").write_text("# Plain\n", encoding="utf-8")
    config = {"site_name": "Plain", "site_url": raw.get("site_url"), "theme": raw.get("theme"),
              "markdown_extensions": [e for e in raw.get("markdown_extensions", [])
                                      if not (isinstance(e, str) and e.startswith("hooks"))],
              "plugins": ["search"]}
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return root / "mkdocs.yml"


def _weigh(browser, url: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """((first load, scrolled) bytes as sent, (first load, scrolled) bytes gzip-compressed) of one page."""
    context = browser.new_context(viewport=VIEWPORT)
    fetched: list[tuple[int, int]] = []

    def count(response) -> None:
        try:
            body = response.body()
        except Exception:  # a redirect or an aborted request has no body
            return
        fetched.append((len(body), min(len(body), len(gzip.compress(body, 6)))))

    try:
        page = context.new_page()
        page.on("response", count)
        page.goto(url, wait_until="networkidle")
        first = list(fetched)
        height = page.evaluate("() => document.documentElement.scrollHeight")
        for y in range(0, height + VIEWPORT["height"], VIEWPORT["height"]):
            page.evaluate(f"() => window.scrollTo(0, {y})")
            page.wait_for_timeout(150)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        return (sum(raw for raw, _ in first), sum(raw for raw, _ in fetched)), (sum(z for _, z in first), sum(z for _, z in fetched))
    finally:
        context.close()


def run(tmp: Path, quick: bool, budget: Budget) -> Section:
    sec = Section("weight", "7. Page weight: bytes fetched per page, against plain Material")
    if not CHROMIUM.exists():
        raise BenchError("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    from tests.conftest import QuietHandler, serve_folder

    concepts = sorted(p.relative_to(PROJECT_ROOT / "docs").as_posix() for p in (PROJECT_ROOT / "docs" / "concepts").glob("*.md"))
    notes = sorted(p.relative_to(PROJECT_ROOT / "docs").as_posix() for p in (PROJECT_ROOT / "docs" / "notes").glob("*.md"))
    pages = (concepts[:2] if quick else concepts) + notes[:1]
    ours, plain = tmp / "weight" / "site", tmp / "weight" / "plain-site"
    _build(PROJECT_ROOT / "mkdocs.yml", ours)
    _build(_plain_site(tmp / "weight", pages), plain)
    rows, first_ratios, scrolled_ratios = [], [], []
    with sync_playwright() as pw, serve_folder(QuietHandler, ours) as port_ours, serve_folder(QuietHandler, plain) as port_plain:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            for rel in pages:
                if not budget.fits(20):
                    break
                path = rel.removesuffix(".md") + "/"
                (a_first, a_all), (az_first, az_all) = _weigh(browser, f"http://127.0.0.1:{port_ours}/{path}")
                (b_first, b_all), (bz_first, bz_all) = _weigh(browser, f"http://127.0.0.1:{port_plain}/{path}")
                first, scrolled = az_first / bz_first, az_all / bz_all
                if rel.startswith("concepts/"):
                    first_ratios.append((first, rel))
                    scrolled_ratios.append((scrolled, rel))
                rows.append([f"`{rel}`", f"{az_first / 1024:,.0f} ({a_first / 1024:,.0f})", f"{az_all / 1024:,.0f} ({a_all / 1024:,.0f})",
                             f"{bz_first / 1024:,.0f} ({b_first / 1024:,.0f})", f"{bz_all / 1024:,.0f} ({b_all / 1024:,.0f})",
                             f"{first:.2f}× ({a_first / b_first:.2f}×)", f"{scrolled:.2f}× ({a_all / b_all:.2f}×)"])
        finally:
            browser.close()
    sec.add(__doc__.split("\n\n", 1)[1].split("\n\n``python")[0])
    sec.add("KiB compressed (and as sent); ratios on compressed bytes (and as sent):")
    sec.add(table(["page", "first load", "scrolled", "plain first", "plain scrolled", "first ÷ plain", "scrolled ÷ plain"], rows))
    if first_ratios:
        worst_first, worst_scrolled = max(first_ratios), max(scrolled_ratios)
        sec.goal(f"a concept page's first load ≤ {FIRST_LOAD_GOAL}× plain Material", f"{worst_first[0]:.2f}× at worst "
                 f"({worst_first[1]})", worst_first[0] <= FIRST_LOAD_GOAL)
        sec.goal(f"a concept page scrolled to the bottom ≤ {SCROLLED_GOAL}× plain Material", f"{worst_scrolled[0]:.2f}× at worst "
                 f"({worst_scrolled[1]})", worst_scrolled[0] <= SCROLLED_GOAL)
    return sec


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        section = run(Path(folder), "--quick" in sys.argv, Budget(1800, "weight"))
        print(section.render())
