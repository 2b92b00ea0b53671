"""What a reader gets from a site with hostile content, built once for the module: no injected script
runs (checked in Chromium), hidden pages stay hidden, each figure sits at its own directive, a stale
figure links to the source that made it, the Demo runs table keeps its columns."""
from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from tests.conftest import QuietHandler, serve_folder
from tests.hostile.conftest import Project, build, fake_demo, make_project, notes, processes_of

XSS_NOTE = """\
---
title: "<img src=x onerror=alert('title')>"
date: 2024-05-01
description: '"><script>alert("description")</script>'
tags: ["<img src=x onerror=alert('tag')>", "</script><script>alert('tag2')</script>"]
aliases: ["<svg onload=alert('alias')>"]
author: "<img src=x onerror=alert('author')>"
---

# Hostile front matter

Plain prose about [[Trainability]], the excerpt of this note.

!demo[A figure with hostile parameters](ok/main?label=%3Cimg%20src%3Dx%20onerror%3Dalert%28%27param%27%29%3E)
"""

XSS_CONCEPT = """\
---
title: "</script><script>alert('concept')</script>"
aliases: ["x\\"><img src=x onerror=alert('concept-alias')>"]
description: "</title><script>alert('concept-description')</script>"
---

# A concept with a hostile title

Linked from the map.
"""

FIGURES_PAGE = """\
# Figures

!demo[First: see [[Trainability]] and [brackets]](ok/main)

````markdown
```python
!demo[Inside code](nope/main)
```
!demo[Still inside](nope/main)
````

!demo[Second](ok/main?scale=2)

~~~text
```
!demo[In a tilde fence](nope/main)
~~~

    !demo[Indented code](nope/main)

!demo[Third <script>alert('caption')</script>](ok/main?scale=3)

!demo[Pipes | in \\| a caption](pipes/main?label=a\\|b&weight_decay=0.5)

!demo[Failing with HTML](pipes/main?label=boom)

!demo[Stale one](flaky/main)

!demo[Added while failing](flaky/extra)

!demo[Needs a GPU](gpu/main)
"""

PIPES = fake_demo(
    "Parameters and errors with the characters a Markdown table would break on.",
    fields="label: str = 'x'  # a label\nweight_decay: float = 0.1  # decay\n",
    body="""\
    if cfg.label == 'boom':
        raise ValueError("<img src=x onerror=alert('error')> | a column \\\\| more")
    data = {'label': cfg.label}
""",
)
FLAKY_GOOD = fake_demo("Works at first; VERSION-ONE.", fields="fail: bool = False  # raise instead\n",
                       body="    if cfg.fail:\n        raise ValueError('broken')\n")
FLAKY_BAD = fake_demo("Then fails; VERSION-TWO.", fields="fail: bool = True  # raise instead\n",
                      figures={"main": "a square", "extra": "added while failing"},
                      body="    if cfg.fail:\n        raise ValueError('broken now')\n")
GPU = fake_demo("Needs a GPU.", tail="DEVICE = 'cuda'\n")
CPU_ONLY = fake_demo("Runs on the CPU whatever the machine has.", tail="DEVICE = 'cpu'\n", body="    data = {'device': device}\n")

SECRET_EXCLUDED = """\
---
title: EXCLUDED-SECRET-TITLE
date: 2024-05-02
tags: [excluded-secret-tag]
---

# EXCLUDED-SECRET-TITLE

EXCLUDED-SECRET-BODY links [[Trainability]] and [[Deep double descent]].
"""
SECRET_DRAFT = """\
---
title: DRAFT-SECRET-TITLE
date: 2024-05-03
draft: true
---

# DRAFT-SECRET-TITLE

DRAFT-SECRET-BODY links [[Trainability]].

!demo[DRAFT-SECRET-CAPTION](ok/main?scale=11)
"""
SECRET_DRAFT_DOCS = SECRET_DRAFT.replace("draft: true\n", "").replace("DRAFT-SECRET", "DRAFTDOCS-SECRET").replace(
    "2024-05-03", "2024-05-04").replace("scale=11", "scale=12")
SECRETS = ("EXCLUDED-SECRET", "DRAFT-SECRET", "DRAFTDOCS-SECRET", "scale-11", "scale-12", "excluded-secret-tag")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("pages"))
    project.demo("flaky", FLAKY_GOOD)
    project.page("figures.md", FIGURES_PAGE.replace("!demo[Added while failing](flaky/extra)\n", ""))
    for name, source in (("pipes", PIPES), ("gpu", GPU), ("cpu_only", CPU_ONLY)):
        project.demo(name, source)
    assert build(project, strict=False).rc == 0
    project.demo("flaky", FLAKY_BAD)  # now it fails, and promises a figure it never made
    project.page("figures.md", FIGURES_PAGE)
    project.page("notes/2024-05-01-hostile.md", XSS_NOTE)
    project.page("concepts/hostile.md", XSS_CONCEPT)
    project.page("notes/2024-05-02-excluded.md", SECRET_EXCLUDED)
    project.page("notes/2024-05-03-draft.md", SECRET_DRAFT)
    project.page("notes/2024-05-04-draftdocs.md", SECRET_DRAFT_DOCS)
    project.settings(exclude_docs="notes/2024-05-02-excluded.md\n", draft_docs="notes/2024-05-04-draftdocs.md\n")
    result = build(project, strict=False)
    assert result.rc == 0, result.text
    project.result = result  # type: ignore[attr-defined]
    assert processes_of(project.root) == []
    return project


def soup(project: Project, page: str) -> BeautifulSoup:
    return BeautifulSoup((project.site / page).read_text(encoding="utf-8"), "html.parser")


def html_pages(project: Project) -> list[Path]:
    return sorted(p for p in project.site.rglob("*.html") if "assets" not in p.parts)


# --- no script from the content runs ---------------------------------------------------------------

def injected(page: BeautifulSoup) -> list[str]:
    """Elements the hostile content would have added had it not been escaped: event handlers, its
    images, scripts that call alert."""
    found = [tag for tag in page.find_all(True) if any(attr.lower().startswith("on") for attr in tag.attrs)]
    found += page.find_all("img", src="x")
    found += [s for s in page.find_all("script") if "alert(" in (s.string or "")]
    for graph in page.select("[data-kb-graph]"):  # a local graph's data: whole (nothing broke out of it)
        try:
            json.loads(graph["data-kb-graph"])
        except ValueError:
            found.append(graph)
    return [str(tag)[:100] for tag in found]


def test_no_payload_reaches_the_html_or_the_feed_unescaped(built: Project) -> None:
    for path in html_pages(built):
        rel = path.relative_to(built.site).as_posix()
        assert injected(soup(built, rel)) == [], rel
    feed = ET.parse(built.site / "feed.xml")  # well-formed: nothing broke out of its element
    titles = [html.unescape(item.findtext("title") or "") for item in feed.iter("item")]  # titles are HTML in RSS
    assert "<img src=x onerror=alert('title')>" in titles, titles


@pytest.mark.browser
def test_no_injected_script_runs_in_chromium(built: Project, browser) -> None:
    context = browser.new_context()
    dialogs: list[str] = []
    errors: list[str] = []
    try:
        with serve_folder(QuietHandler, built.site) as port:
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            for path in html_pages(built):
                rel = path.relative_to(built.site).as_posix()
                page.goto(f"http://127.0.0.1:{port}/{rel}", wait_until="load")
                page.wait_for_timeout(50)
                injected = page.evaluate(
                    """() => [...document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]')]
                           .concat([...document.scripts].filter(s => s.textContent.includes('alert(')))
                           .map(e => e.outerHTML.slice(0, 80))"""
                )
                assert injected == [], f"{rel}: injected elements {injected}"
            page.goto(f"http://127.0.0.1:{port}/index.html")  # Material's search shows titles and text from the index
            page.wait_for_load_state("networkidle")
            page.locator("label.md-search__icon, .md-search__input").first.click()
            page.locator("input[data-md-component=search-query]").press_sequentially("hostile", delay=20)
            page.wait_for_selector(".md-search-result__item", timeout=15000)
            page.wait_for_timeout(200)
            assert page.locator("img[src='x']").count() == 0
    finally:
        context.close()
    assert dialogs == [], f"script from the content ran: {dialogs}"
    assert not [e for e in errors if "alert" in e], errors


def test_front_matter_is_shown_as_written(built: Project) -> None:
    note = soup(built, "notes/2024-05-01-hostile/index.html")
    assert note.find("meta", attrs={"name": "description"})["content"] == '"><script>alert("description")</script>'
    assert note.title.get_text().startswith("<img src=x onerror=alert('title')>")
    tags = soup(built, "tags/index.html").get_text()
    assert "<img src=x onerror=alert('tag')>" in tags


# --- hidden pages stay hidden ------------------------------------------------------------------------

def test_excluded_and_draft_notes_appear_nowhere(built: Project) -> None:
    for path in built.site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".md", ".txt"):
            text = path.read_text(encoding="utf-8", errors="replace")
            leaked = [s for s in SECRETS if s in text]
            assert not leaked, f"{path.relative_to(built.site)} shows {leaked}"
    assert not (built.site / "demos" / "ok" / "scale-11.0").exists() and not (built.site / "demos" / "ok" / "scale-12.0").exists()


def test_check_agrees_with_the_build_on_hidden_pages(built: Project) -> None:
    check = notes(built.root, "check")
    assert not [line for line in check.lines if "SECRET" in line or "draft" in line.lower()], check.text


# --- each figure at its own directive ----------------------------------------------------------------

def test_figures_follow_their_directives_and_code_stays_code(built: Project) -> None:
    page = soup(built, "figures/index.html")
    figures = page.select("figure.kb-demo")
    captions = [f.find("figcaption").contents[0].strip() for f in figures]
    assert captions[:4] == [
        "First: see [[Trainability]] and [brackets]",
        "Second",
        "Third <script>alert('caption')</script>",
        "Pipes | in \\| a caption",
    ]
    sources = [f.find("img")["src"] for f in figures[:3]]
    assert sources == [
        "../demos/ok/main-light.svg#only-light",
        "../demos/ok/scale-2.0/main-light.svg#only-light",
        "../demos/ok/scale-3.0/main-light.svg#only-light",
    ]
    code = "\n".join(c.get_text() for c in page.select("pre, code"))
    for inside in ("!demo[Inside code](nope/main)", "!demo[Still inside](nope/main)", "!demo[In a tilde fence](nope/main)",
                   "!demo[Indented code](nope/main)"):
        assert inside in code
    assert "nope" not in built.result.text  # type: ignore[attr-defined]


def test_every_image_on_every_page_exists(built: Project) -> None:
    for path in html_pages(built):
        for img in soup(built, path.relative_to(built.site).as_posix()).find_all("img"):
            src = unquote(urlsplit(img["src"]).path)
            if not src or img["src"].startswith(("data:", "http")):
                continue
            target = (path.parent / src).resolve()
            assert target.is_file(), f"{path.relative_to(built.site)} shows {img['src']}, which does not exist"


def test_every_link_on_every_page_leads_somewhere(built: Project) -> None:
    """No 404: hidden pages are not linked from the archive, the map, the tags or the runs page."""
    for path in html_pages(built):
        page = soup(built, path.relative_to(built.site).as_posix())
        for a in page.find_all("a", href=True):
            url = urlsplit(a["href"])
            if url.scheme or url.netloc or not url.path or url.path.startswith("/"):  # 404.html is served under site_url
                continue
            target = (path.parent / unquote(url.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{path.relative_to(built.site)} links to {a['href']}, which does not exist"


# --- stale figures -------------------------------------------------------------------------------------

def test_a_stale_figure_links_to_the_source_that_made_it(built: Project) -> None:
    page = soup(built, "figures/index.html")
    [stale] = [f for f in page.select("figure.kb-demo") if "Stale one" in f.get_text()]
    assert "kb-demo-stale" in stale["class"]
    assert "a newer run is not published yet" in stale.select_one(".kb-stale").get_text()  # why: the author's, in the log
    assert "broken now" not in stale.get_text()
    source = stale.select_one(".kb-provenance a")["href"]
    text = (built.site / "figures" / source).resolve().read_text(encoding="utf-8")
    assert "VERSION-ONE" in text and "VERSION-TWO" not in text


def test_a_figure_added_while_its_demo_fails_is_a_placeholder(built: Project) -> None:
    page = soup(built, "figures/index.html")
    missing = [m for m in page.select(".kb-demo-missing") if "Added while failing" in m.get_text()]
    assert len(missing) == 1 and "Figure not published yet" in missing[0].get_text() and "broken now" not in missing[0].get_text()
    assert not [f for f in page.select("figure.kb-demo") if "Added while failing" in f.get_text()]


# --- the Demo runs table ------------------------------------------------------------------------------

def test_the_runs_table_keeps_its_columns(built: Project) -> None:
    runs = soup(built, "demo-runs/index.html")
    header = [th.get_text() for th in runs.select("table thead th")]
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td", recursive=False)] for tr in runs.select("table tbody tr")]
    assert all(len(row) == len(header) == 7 for row in rows), rows
    pipes = {row[1]: row for row in rows if row[0].startswith("pipes")}
    assert len(pipes) == 3 and "defaults" in pipes and "label=boom" in pipes, list(pipes)
    [piped] = [p for p in pipes if p not in ("defaults", "label=boom")]
    assert re.fullmatch(r"label=a\\?\|b, weight_decay=0\.5", piped), piped  # one run, the pipe in its value
    assert pipes["label=boom"][2].startswith("failed: ValueError: <img src=x onerror=alert('error')> | a column \\| more")
    assert "weight\\_decay" not in runs.get_text()


def test_a_demo_that_needs_a_gpu_is_a_placeholder_on_a_machine_without_one(built: Project) -> None:
    page = soup(built, "figures/index.html")
    [gpu] = [m for m in page.select(".kb-demo-missing") if "not published" in m.get_text() and "GPU" in m.get_text()]
    assert "notes demos" not in page.get_text()  # what to do is the author's: the Demo runs page says it
    assert "needs a GPU run: notes demos gpu --device cuda" in soup(built, "demo-runs/index.html").get_text()
    entries = built.root / ".demos-cache" / "entries" / "cpu_only"
    [manifest] = [json.loads((p / "manifest.json").read_text()) for p in entries.iterdir()]
    assert manifest["device"] == "cpu"
    assert json.loads((next(entries.iterdir()) / "data.json").read_text()) == {"device": "cpu"}
