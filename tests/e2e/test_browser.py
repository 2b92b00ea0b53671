"""What a reader sees in Chromium: the home page, wikilinks and backlinks, search, the palettes, every
page's images and console, the archive, the feed, the 404 page, and screenshots for a person to look at.

The site is served under the path of mkdocs.yml's site_url (``deployed_url``), as it is published.
"""
from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from tests.conftest import loaded
from tests.e2e.conftest import REPO, html_pages, mkdocs_config, site_url_config, source_pages

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

expect = pytest.importorskip("playwright.sync_api").expect

NOTE = next((n for n in source_pages("note") if n.stem == "2024-01-23-dl-study"), None)
CONCEPT_TITLE = "Deep double descent"
CONCEPT_URL = "concepts/deep-double-descent/"
SCREENSHOTS = REPO / "screenshots"
TIMEOUT_MS = 15_000

# Every <img> of the page: lazy ones are switched to eager (the hidden palette's variant included),
# then each is awaited; what comes back is what the browser made of it.
LOAD_ALL_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) img.loading = "eager";
  await Promise.all(imgs.map(img => img.complete && img.naturalWidth > 0 ? null : new Promise(done => {
    img.addEventListener("load", done, {once: true});
    img.addEventListener("error", done, {once: true});
    setTimeout(done, 10000);
  })));
  return imgs.map(img => ({src: img.getAttribute("src"), complete: img.complete, width: img.naturalWidth,
    height: img.naturalHeight, box: [img.getAttribute("width"), img.getAttribute("height")],
    figure: img.closest("figure.kb-demo") !== null}));
}"""


class Reader:
    """One browser page with the console errors and uncaught exceptions it has seen."""

    def __init__(self, context, base: str) -> None:
        self.base = base
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.expected_404: set[str] = set()  # URLs whose "Failed to load resource: 404" is the point
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"{self.page.url}: uncaught: {e}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if message.location.get("url") in self.expected_404 and "404" in message.text:
            return
        self.errors.append(f"{self.page.url}: console: {message.text} ({message.location.get('url')})")

    def path_of(self, path: str) -> str:
        """The URL path of a page of the site, given relative to the site root."""
        return urlsplit(self.base + path).path

    def goto(self, path: str):
        response = self.page.goto(self.base + path, wait_until="load")
        self.page.wait_for_function("() => document.body && document.body.dataset.mdColorScheme !== undefined")
        return response

    def load_images(self) -> list[dict]:
        return self.page.evaluate(LOAD_ALL_IMAGES)

    def assert_no_errors(self) -> None:
        assert not self.errors, "the browser logged errors:\n" + "\n".join(self.errors)


@pytest.fixture
def reader(browser, deployed_url):
    context = browser.new_context(color_scheme="light", viewport={"width": 1280, "height": 900})
    try:
        yield Reader(context, deployed_url)
    finally:
        context.close()


def heading(page) -> str:
    return page.locator("article h1").first.inner_text().rstrip("¶").strip()


def test_home_shows_the_newest_note_first_and_a_concept_map_whose_nodes_open_their_pages(reader: Reader) -> None:
    notes = source_pages("note")
    concepts = source_pages("concept")
    reader.goto("")
    page = reader.page
    newest = page.locator("article .kb-note-list li")
    expect(newest.first).to_be_visible()
    shown = min(len(notes), (mkdocs_config().get("extra", {}).get("notes") or {}).get("newest_on_home", 5))
    expect(newest).to_have_count(shown)
    assert newest.first.locator("a").first.inner_text() == notes[0].title
    dates = newest.locator("time").all_inner_texts()
    assert dates == [n.date.isoformat() for n in notes[:shown]], "newest notes are not the newest first"

    svg = page.locator("article svg.kb-map-svg:visible")  # the wide layout (a phone gets the upright one)
    expect(svg).to_be_visible()
    nodes = svg.locator("a.kb-map-node")
    titles = [t.strip() for t in svg.locator("a.kb-map-concept > title").all_text_contents()]
    assert sorted(titles) == sorted(c.title for c in concepts), "the map does not draw every concept"
    assert nodes.count() >= len(concepts)
    hrefs = [nodes.nth(i).get_attribute("href") or nodes.nth(i).get_attribute("xlink:href") for i in range(nodes.count())]
    assert all(hrefs), "a map node is not a link"

    node = svg.locator("a.kb-map-concept").filter(has=page.locator("title", has_text=re.compile(f"^{re.escape(CONCEPT_TITLE)}$")))
    expect(node).to_have_count(1)
    expect(node.locator("text")).to_be_visible()
    node.locator("circle").click()
    page.wait_for_url(re.compile(re.escape(CONCEPT_URL) + "$"))
    assert heading(page) == CONCEPT_TITLE
    reader.assert_no_errors()


def test_note_to_concept_through_a_wikilink_and_back_through_linked_from(reader: Reader) -> None:
    assert NOTE is not None, "docs/notes/2024-01-23-dl-study.md is missing or a draft"
    page = reader.page
    reader.goto(NOTE.url)
    assert heading(page) == NOTE.title
    page.locator("article p a", has_text=re.compile(f"^{re.escape(CONCEPT_TITLE)}$")).first.click()
    page.wait_for_url(re.compile(re.escape(CONCEPT_URL) + "$"))
    assert heading(page) == CONCEPT_TITLE

    linked = page.locator("article .kb-backlinks li").filter(has_text=NOTE.title)
    expect(linked).to_have_count(1)
    expect(linked.locator("time")).to_have_text(NOTE.date.isoformat())
    back = linked.locator("a", has_text=NOTE.title)
    expect(back).to_be_visible()
    back.click()
    page.wait_for_url(re.compile(re.escape(NOTE.url) + "$"))
    assert heading(page) == NOTE.title
    reader.assert_no_errors()


def test_search_for_double_descent_lists_the_concept_and_the_note(reader: Reader) -> None:
    assert NOTE is not None
    page = reader.page
    reader.goto("")
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially("double descent", delay=20)
    results = page.locator(".md-search-result__list > li.md-search-result__item")
    expect(results.first).to_be_visible()
    expect(page.locator(".md-search-result__meta")).to_contain_text(re.compile(r"\d+ matching documents?"))
    links = page.locator(".md-search-result__list > li.md-search-result__item > a.md-search-result__link")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    texts = [links.nth(i).locator("h1").first.inner_text() if links.nth(i).locator("h1").count() else "" for i in range(links.count())]
    paths = [urlsplit(h).path for h in hrefs]
    assert reader.path_of(CONCEPT_URL) in paths, f"no result for the concept page: {hrefs}"
    assert reader.path_of(NOTE.url) in paths, f"no result for the note: {hrefs}"
    assert CONCEPT_TITLE in texts and NOTE.title in texts, texts


def _figures_show(page, scheme: str) -> None:
    """Every demo figure on the page shows the variant of ``scheme`` and hides the other one."""
    shown, hidden = ("#only-dark", "#only-light") if scheme == "dark" else ("#only-light", "#only-dark")
    figures = page.locator("article figure.kb-demo")
    assert figures.count() > 0, "no demo figure on the page"
    for i in range(figures.count()):
        figure = figures.nth(i)
        figure.scroll_into_view_if_needed()
        frame = figure.locator(".kb-figure-frame:not([hidden])")  # an explorable figure shows one value's frame
        visible = frame.locator(f'img[src$="{shown}"]')
        invisible = frame.locator(f'img[src$="{hidden}"]')
        expect(visible).to_have_count(1)
        expect(invisible).to_have_count(1)
        expect(visible).to_be_visible()
        expect(invisible).to_be_hidden()
        loaded(visible)
        assert visible.evaluate("img => img.naturalWidth") > 0, visible.get_attribute("src")


def test_palette_toggle_switches_every_figure_to_its_dark_variant_and_back(reader: Reader) -> None:
    assert NOTE is not None
    page = reader.page
    reader.goto(NOTE.url)
    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    _figures_show(page, "light")

    light, dark = (p["toggle"]["name"] for p in mkdocs_config()["theme"]["palette"])  # "Switch to dark mode", ...
    page.locator(f'label.md-header__button[title="{light}"]').click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    _figures_show(page, "dark")

    page.locator(f'label.md-header__button[title="{dark}"]').click()
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    _figures_show(page, "light")
    reader.assert_no_errors()


def test_every_page_loads_its_images_and_logs_no_console_error(reader: Reader, built_site: Path) -> None:
    pages = html_pages(built_site)
    assert len(pages) >= 10
    broken, unsized, figures = [], [], 0
    for path in pages:
        response = reader.goto(path)
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        for img in reader.load_images():
            if not (img["complete"] and img["width"] > 0):
                broken.append(f"{path}: {img['src']}")
            elif img["figure"]:  # a figure keeps its place before it loads: its size is written on it, the file's own
                figures += 1
                box = [int(v) if v else 0 for v in img["box"]]
                if abs(box[0] - img["width"]) > 1 or abs(box[1] - img["height"]) > 1:
                    unsized.append(f"{path}: {img['src']} says {box}, the file {img['width']}x{img['height']}")
    assert not broken, "images that did not load:\n" + "\n".join(broken)
    assert figures >= 10 and not unsized, "figures whose width and height are not the file's:\n" + "\n".join(unsized)
    reader.assert_no_errors()


def test_notes_index_lists_every_note_with_its_date_newest_first(reader: Reader) -> None:
    notes = source_pages("note")
    page = reader.page
    reader.goto("notes/")
    assert heading(page) == "Notes"
    items = page.locator("article .kb-note-list li")
    expect(items).to_have_count(len(notes))
    for i, note in enumerate(notes):
        item = items.nth(i)
        expect(item.locator("time")).to_have_text(note.date.isoformat())
        expect(item.locator("time")).to_be_visible()
        link = item.locator("a").first
        expect(link).to_have_text(note.title)
        assert (link.get_attribute("href") or "").rstrip("/").endswith(note.stem)
    for year in sorted({n.date.year for n in notes}, reverse=True):
        expect(page.locator("article h2", has_text=str(year))).to_have_count(1)
    reader.assert_no_errors()


def test_the_rss_feed_lists_the_notes_with_their_dates(deployed_url: str) -> None:
    notes = source_pages("note")
    with urllib.request.urlopen(deployed_url + "feed.xml") as response:
        assert response.status == 200
        assert "xml" in response.headers.get("Content-Type", "")
        feed = feedparser.parse(response.read())
    assert not feed.bozo, feed.get("bozo_exception")
    limit = (mkdocs_config().get("extra", {}).get("notes") or {}).get("feed_items", 50)
    expected = notes[:limit]
    assert [e.title for e in feed.entries] == [n.title for n in expected]
    assert [tuple(e.published_parsed[:3]) for e in feed.entries] == [(n.date.year, n.date.month, n.date.day) for n in expected]
    assert [e.link for e in feed.entries] == [site_url_config() + n.url for n in expected]


def test_a_missing_page_gets_the_styled_404_page(reader: Reader) -> None:
    page = reader.page
    reader.expected_404.add(reader.base + "no/such/page/")
    response = reader.goto("no/such/page/")
    assert response is not None and response.status == 404
    expect(page.locator("article h1")).to_contain_text("404")
    header = page.locator("header.md-header")
    expect(header).to_be_visible()
    sheets = page.evaluate(
        """() => Array.from(document.styleSheets).filter(s => s.href).map(s => {
             let rules = -1; try { rules = s.cssRules.length } catch (e) {}
             return {href: s.href, rules};
           })"""
    )
    main = [s for s in sheets if re.search(r"/assets/stylesheets/main\.[0-9a-f]+\.min\.css$", s["href"])]
    assert main and main[0]["rules"] > 100, f"Material's stylesheet did not load: {sheets}"
    assert all(s["rules"] > 0 for s in sheets), sheets
    style = header.evaluate("h => { const s = getComputedStyle(h); return {position: s.position, bg: s.backgroundColor} }")
    assert style["position"] == "sticky" and style["bg"] not in ("rgba(0, 0, 0, 0)", "transparent"), style
    reader.assert_no_errors()
    # Its links lead back into the site: the logo goes home.
    page.locator("header.md-header a.md-header__button.md-logo").click()
    page.wait_for_url(reader.base)
    expect(page.locator("article .kb-note-list")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_home_page_the_note_and_a_concept(browser, deployed_url: str, scheme: str) -> None:
    """Full-page screenshots for a person to look at, in screenshots/ (git-ignored)."""
    assert NOTE is not None
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    try:
        reader = Reader(context, deployed_url)
        for name, path in (("home", ""), ("note", NOTE.url), ("concept-deep-double-descent", CONCEPT_URL)):
            reader.goto(path)
            expect(reader.page.locator("body")).to_have_attribute("data-md-color-scheme", "slate" if scheme == "dark" else "default")
            images = reader.load_images()
            assert all(i["width"] > 0 for i in images), images
            reader.page.wait_for_timeout(200)
            out = SCREENSHOTS / f"{name}-{scheme}.png"
            reader.page.screenshot(path=str(out), full_page=True)
            assert out.stat().st_size > 10_000
    finally:
        context.close()
