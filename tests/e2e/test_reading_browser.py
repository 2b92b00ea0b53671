"""Reading the built site in Chromium as a reader would, at 1280 and 390 px, light and dark, by mouse,
keyboard and touch: explorable figures, link previews, local graphs, the concept map on a phone,
figures on a phone, the Demo runs page, axe-core on every kind of page, and screenshots for a person
to look at (screenshots/, git-ignored).

axe-core is the npm package pinned in package-lock.json (node_modules/, installed by make), injected
from this checkout: nothing is fetched from outside the site.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import loaded
from tests.e2e.conftest import REPO, site_prefix, source_pages

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

expect = pytest.importorskip("playwright.sync_api").expect

NOTE = next((n for n in source_pages("note") if n.stem == "2024-01-23-dl-study"), None)
CONCEPT_URL = "concepts/deep-double-descent/"
CONCEPT_TITLE = "Deep double descent"
SCREENSHOTS = REPO / "screenshots"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NARROW_FIGURE_TEXT_PT = 8.25  # the least a narrow layout may use (demos/_common.narrow_problems): 11 CSS px at its size


INSTANT_HOST = "http://kb.test"  # no port: Material's instant navigation matches its sitemap's URLs without one
TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".json": "application/json",
         ".svg": "image/svg+xml", ".xml": "application/xml", ".py": "text/plain", ".png": "image/png"}


def routed(context, site: Path) -> str:
    """Serve the built site to ``context`` at INSTANT_HOST under its published prefix, from the test itself;
    the base URL. Material's instant navigation ignores links on a host with a port (it compares its
    sitemap's URLs, whose port it drops), so the tests of instant navigation use this."""
    prefix = site_prefix()

    def fulfil(route) -> None:
        path = route.request.url[len(INSTANT_HOST):].split("?", 1)[0].split("#", 1)[0]
        rel = path[len(prefix):] if path.startswith(prefix) else None
        file = None if rel is None else site / rel
        if file is not None and file.is_dir():
            file = file / "index.html"
        if file is None or not file.is_file() or site.resolve() not in file.resolve().parents:
            route.fulfill(status=404, path=str(site / "404.html"), content_type="text/html")
            return
        route.fulfill(status=200, path=str(file), content_type=TYPES.get(file.suffix, "application/octet-stream"))

    context.route(f"{INSTANT_HOST}/**", fulfil)
    return INSTANT_HOST + prefix


def ax_links(page, group_name: str) -> list[str]:
    """Names of the links Chromium's accessibility tree (what a screen reader gets) shows inside the
    group whose name starts with ``group_name``."""
    cdp = page.context.new_cdp_session(page)
    nodes = {n["nodeId"]: n for n in cdp.send("Accessibility.getFullAXTree")["nodes"]}

    def value(node, key):
        return (node.get(key) or {}).get("value", "")

    groups = {i for i, n in nodes.items() if not n.get("ignored") and str(value(n, "name")).startswith(group_name)}
    out = []
    for node in nodes.values():
        if node.get("ignored") or value(node, "role") != "link":
            continue
        parent = node.get("parentId")
        while parent is not None and parent not in groups:
            parent = nodes.get(parent, {}).get("parentId")
        if parent is not None:
            out.append(str(value(node, "name")))
    return out


def open_page(browser, base: str, path: str, *, scheme: str = "light", viewport=DESKTOP, site: Path | None = None, **options):
    context = browser.new_context(color_scheme=scheme, viewport=viewport, **options)
    if site is not None:
        base = routed(context, site)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.goto(base + path, wait_until="load")
    page.wait_for_function("() => document.body && document.body.dataset.mdColorScheme !== undefined")
    page.errors = errors  # type: ignore[attr-defined]
    return context, page


@pytest.fixture
def note_url() -> str:
    assert NOTE is not None, "docs/notes/2024-01-23-dl-study.md is missing or a draft"
    return NOTE.url


# --- explorable figures ------------------------------------------------------------------------------

def _shown_frame(figure):
    return figure.locator(".kb-figure-frame:not([hidden])")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_slider_swaps_the_figure_and_its_provenance_by_keyboard_in_both_palettes(browser, deployed_url, note_url, scheme) -> None:
    context, page = open_page(browser, deployed_url, note_url, scheme=scheme)
    try:
        figure = page.locator("article figure.kb-sweep").first
        slider = figure.locator("input[type=range]")
        expect(slider).to_be_visible()  # shown by demos.js
        frames = figure.locator(".kb-figure-frame")
        values = [frames.nth(i).get_attribute("data-kb-value") for i in range(frames.count())]
        assert len(values) >= 2
        name = slider.get_attribute("data-kb-name")
        shown, other = ("dark", "light") if scheme == "dark" else ("light", "dark")
        label = figure.locator("label")
        for index, value in enumerate(values):
            if index:
                slider.press("ArrowRight")
            expect(_shown_frame(figure)).to_have_count(1)
            expect(_shown_frame(figure)).to_have_attribute("data-kb-value", value)
            visible = _shown_frame(figure).locator(f'img[src$="#only-{shown}"]')
            expect(visible).to_be_visible()
            expect(_shown_frame(figure).locator(f'img[src$="#only-{other}"]')).to_be_hidden()
            loaded(visible)
            assert visible.evaluate("img => img.naturalWidth") > 0
            provenance = figure.locator(".kb-provenance:not([hidden])")
            expect(provenance).to_have_count(1)
            data = provenance.locator('a[href$="data.json"]').get_attribute("href")
            assert data.rsplit("/", 1)[0] == visible.get_attribute("src").rsplit("/", 1)[0]  # the run the figure shows
            expect(label).to_have_text(f"{name} = {value}")
            expect(slider).to_have_attribute("aria-valuetext", f"{name} = {value}")
        assert page.evaluate("() => document.activeElement.type") == "range"
        slider.press("Home")
        expect(_shown_frame(figure)).to_have_attribute("data-kb-value", values[0])
        assert not page.errors, page.errors
    finally:
        context.close()


def test_without_javascript_the_first_value_shows_and_no_slider(browser, deployed_url, note_url) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(deployed_url + note_url)
        figure = page.locator("article figure.kb-sweep").first
        expect(figure.locator("input[type=range]")).to_be_hidden()
        expect(_shown_frame(figure)).to_have_count(1)
        assert _shown_frame(figure).get_attribute("data-kb-index") == "0"
        expect(_shown_frame(figure).locator("img").first).to_be_visible()
    finally:
        context.close()


def test_the_slider_works_after_instant_navigation(browser, built_site, note_url) -> None:
    context, page = open_page(browser, "", CONCEPT_URL, site=built_site)
    try:
        page.evaluate("() => { window.__kept = 1 }")  # gone if the next page is a full load
        page.locator("article .kb-backlinks a", has_text=NOTE.title).first.click()
        page.wait_for_url(re.compile(re.escape(note_url) + "(#.*)?$"))
        assert page.evaluate("() => window.__kept") == 1, "the click was not an instant navigation"
        slider = page.locator("article figure.kb-sweep input[type=range]").first
        expect(slider).to_be_visible()
        slider.focus()
        slider.press("ArrowRight")
        expect(page.locator("article figure.kb-sweep").first.locator(".kb-figure-frame:not([hidden])")).to_have_attribute("data-kb-index", "1")
        assert not page.errors, page.errors
    finally:
        context.close()


# --- link previews ---------------------------------------------------------------------------------

def _concept_link(page):
    return page.locator("article p a[data-kb-preview]", has_text=re.compile(f"^{CONCEPT_TITLE}$")).first


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_hovering_a_link_shows_its_preview_and_leaving_hides_it(browser, deployed_url, note_url, scheme) -> None:
    context, page = open_page(browser, deployed_url, note_url, scheme=scheme)
    try:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        link = _concept_link(page)
        link.hover()
        card = page.locator(".kb-preview")
        expect(card).to_be_visible()
        expect(card.locator(".kb-preview-title")).to_have_text(CONCEPT_TITLE)
        expect(card.locator(".kb-preview-text")).not_to_be_empty()
        shown = "dark" if scheme == "dark" else "light"
        thumb = card.locator(f'img[src$="#only-{shown}"]')
        expect(thumb).to_be_visible()
        expect(card.locator(f'img[src$="#only-{"light" if shown == "dark" else "dark"}"]')).to_be_hidden()
        loaded(thumb)
        assert thumb.evaluate("img => img.naturalWidth") > 0
        assert link.get_attribute("aria-describedby") == "kb-preview"
        colours = card.evaluate("c => [getComputedStyle(c).backgroundColor, getComputedStyle(c).color]")
        page_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert colours[0] == page_bg, (colours, page_bg)  # the card follows the palette
        fetched = [u for u in requests if u.endswith(".json")]
        assert fetched and all(u.endswith("/preview.json") for u in fetched), fetched  # only the page's own preview
        assert not any("search_index" in u for u in requests)
        page.mouse.move(5, 5)
        expect(card).to_be_hidden()
        assert not page.errors, page.errors
    finally:
        context.close()


def test_the_first_preview_near_the_bottom_is_placed_with_its_final_size(browser, deployed_url, note_url) -> None:
    """The card is placed once, when it is shown: before its figure has loaded (held back here), it must
    already have the size it keeps, or a card placed above a link near the window's bottom grows over it."""
    context, page = open_page(browser, deployed_url, note_url)
    try:
        held: list = []
        page.route("**/*-light.svg", lambda route: held.append(route))  # the card's figure: answered later
        link = _concept_link(page)
        link.evaluate("a => window.scrollBy(0, a.getBoundingClientRect().bottom - window.innerHeight + 40)")
        link.hover()
        card = page.locator(".kb-preview")
        expect(card).to_be_visible()
        page.wait_for_function("() => document.querySelector('.kb-preview img').getAttribute('height')")
        before = card.bounding_box()
        page.wait_for_timeout(300)
        assert held, "the card asked for its figure"
        for route in held:
            route.continue_()
        thumb = card.locator('img[src$="#only-light"]')
        loaded(thumb)
        after = card.bounding_box()
        assert abs(after["height"] - before["height"]) <= 1, (before, after)  # no growth once the figure is in
        box = link.bounding_box()
        overlap = not (after["y"] >= box["y"] + box["height"] or after["y"] + after["height"] <= box["y"])
        assert not overlap, (after, box)  # the card does not cover its own link
        assert not page.errors, page.errors
    finally:
        context.close()


def test_focusing_a_link_with_the_keyboard_shows_its_preview_and_escape_dismisses_it(browser, deployed_url, note_url) -> None:
    context, page = open_page(browser, deployed_url, note_url)
    try:
        link = _concept_link(page)
        # Tab from the element just before the link, as a keyboard user arrives at it.
        link.evaluate("a => { const s = document.createElement('a'); s.href = '#'; s.id = 'kb-test-start'; a.before(s); }")
        page.locator("#kb-test-start").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent") == CONCEPT_TITLE
        card = page.locator(".kb-preview")
        expect(card).to_be_visible()
        expect(card.locator(".kb-preview-title")).to_have_text(CONCEPT_TITLE)
        page.keyboard.press("Escape")
        expect(card).to_be_hidden()
        assert page.evaluate("() => document.activeElement.textContent") == CONCEPT_TITLE  # focus stays on the link
        page.keyboard.press("Tab")  # the card follows the focus
        following = page.evaluate("() => document.activeElement.matches('a[data-kb-preview]') && document.activeElement.textContent")
        if following:
            expect(card.locator(".kb-preview-title")).not_to_have_text(CONCEPT_TITLE)
        else:
            expect(card).to_be_hidden()
        assert not page.errors, page.errors
    finally:
        context.close()


def test_a_tap_on_a_touch_screen_opens_the_page_without_a_preview(browser, deployed_url, note_url) -> None:
    context, page = open_page(browser, deployed_url, note_url, viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url) if r.url.endswith("preview.json") else None)
        link = _concept_link(page)
        link.scroll_into_view_if_needed()
        link.tap()
        page.wait_for_url(re.compile(re.escape(CONCEPT_URL) + "(#.*)?$"))
        expect(page.locator("article h1").first).to_contain_text(CONCEPT_TITLE)
        expect(page.locator(".kb-preview:visible")).to_have_count(0)
        assert fetched == [], fetched
    finally:
        context.close()


def test_previews_work_after_instant_navigation(browser, built_site, note_url) -> None:
    context, page = open_page(browser, "", note_url, site=built_site)
    try:
        page.evaluate("() => { window.__kept = 1 }")
        _concept_link(page).click()
        page.wait_for_url(re.compile(re.escape(CONCEPT_URL) + "(#.*)?$"))
        assert page.evaluate("() => window.__kept") == 1, "the click was not an instant navigation"
        expect(page.locator(".kb-preview:visible")).to_have_count(0)  # the card of the last page is gone
        back = page.locator("article .kb-backlinks a[data-kb-preview]", has_text=NOTE.title).first
        back.hover()
        card = page.locator(".kb-preview")
        expect(card).to_be_visible()
        expect(card.locator(".kb-preview-title")).to_have_text(NOTE.title)
        expect(card.locator(".kb-preview-meta")).to_have_text(NOTE.date.isoformat())
        assert not page.errors, page.errors
    finally:
        context.close()


# --- the local graph ---------------------------------------------------------------------------------

def test_the_local_graph_names_its_links_and_its_more_link_leads_to_the_generated_linked_from(browser) -> None:
    """kb.js draws the data hooks.kb.reading writes: each link named "title (kind, relation)", the whole
    title where the label is cut; "and N more" leads to the build's Linked from heading, which is
    linked-from_1 on a page whose author wrote a "Linked from" heading too."""
    from hooks.kb import reading

    long_title = "A note whose title is far too long to be shown whole in a local graph"
    rows = [{"title": "Here", "kind": "concept"},
            {"title": "Short", "kind": "note", "date": "2024-01-02", "href": "../short/", "rel": 2},
            {"title": reading._short(long_title), "full": long_title, "kind": "note", "href": "../long/", "rel": 0}]
    data = json.dumps({"label": "Local graph of Here", "rows": rows, "edges": [0, 1, 0, 2], "more": 3})
    context = browser.new_context()
    page = context.new_page()
    try:
        page.set_content(
            '<article><h2 id="linked-from">Linked from</h2><p>The author\'s own section.</p>'
            '<h2 id="linked-from_1">Linked from</h2><div class="kb-backlinks"><ul><li>a note</li></ul></div>'
            f"<h2 id=\"local-graph\">Local graph</h2><div class=\"kb-local-graph\" data-kb-graph='{data}'></div></article>")
        page.add_script_tag(path=str(REPO / "docs/assets/kb.js"))
        names = page.locator(".kb-local-graph a.kb-local-node title").all_text_contents()
        assert names == ["Short (note, links both ways)", f"{long_title} (note, links to this page)"], names
        expect(page.locator(".kb-local-more")).to_have_attribute("href", "#linked-from_1")
    finally:
        context.close()


def test_the_local_graphs_nodes_are_links_that_open_their_pages(browser, deployed_url, note_url) -> None:
    context, page = open_page(browser, deployed_url, CONCEPT_URL)
    try:
        graph = page.locator("article .kb-local-graph svg")
        expect(graph).to_be_visible()
        names = ax_links(page, "Local graph of")  # what a screen reader gets: links, named by their page
        assert len(names) == graph.locator("a.kb-local-node").count() >= 2, names
        assert any(n.startswith(f"{NOTE.title} (note, ") for n in names), names
        note_link = graph.locator("a.kb-local-node", has=page.locator("title", has_text=f"{NOTE.title} (note, "))
        expect(note_link).to_have_count(1)
        box = note_link.bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24, box
        note_link.focus()
        assert page.evaluate("() => document.activeElement.getAttribute('class')").startswith("kb-local-node")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(re.escape(note_url) + "(#.*)?$"))
        expect(page.locator("article h1").first).to_contain_text(NOTE.title)
        expect(page.locator("article .kb-local-graph a.kb-local-node").first).to_be_visible()
        assert not page.errors, page.errors
    finally:
        context.close()


# --- the concept map on a phone ----------------------------------------------------------------------

MAP_GEOMETRY = """svg => {
  const nodes = Array.from(svg.querySelectorAll('a.kb-map-node'));
  const boxes = nodes.map(a => { const r = a.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; });
  const labels = nodes.map(a => a.querySelector('text')).filter(t => t).map(t => {
    const r = t.getBoundingClientRect(); return {h: r.height, box: [r.left, r.top, r.right, r.bottom]}; });
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const font = parseFloat(svg.querySelector('.kb-map-nodes').getAttribute('font-size')) * scale;
  return {boxes, labels, font, width: svg.getBoundingClientRect().width};
}"""


def _overlapping(boxes) -> list:
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5]


@pytest.mark.parametrize("viewport, shown, hidden", [(PHONE, "narrow", "wide"), (DESKTOP, "wide", "narrow")])
def test_the_concept_map_fits_has_large_targets_readable_labels_and_no_overlaps(browser, deployed_url, viewport, shown, hidden) -> None:
    context, page = open_page(browser, deployed_url, "concept-map/", viewport=viewport)
    try:
        svg = page.locator(f"article svg.kb-map-{shown}")
        expect(svg).to_be_visible()
        expect(page.locator(f"article svg.kb-map-{hidden}")).to_be_hidden()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"], "the page scrolls sideways"
        geometry = svg.evaluate(MAP_GEOMETRY)
        assert geometry["width"] <= viewport["width"]
        assert geometry["font"] >= 11, f"labels at {geometry['font']:.1f} px"
        small = [b for b in geometry["boxes"] if b[2] - b[0] < 24 or b[3] - b[1] < 24]
        assert not small, f"targets under 24 px: {small}"
        assert not _overlapping(geometry["boxes"]), "two nodes' targets overlap"
        assert not _overlapping([label["box"] for label in geometry["labels"]]), "two labels overlap"
        names = ax_links(page, "Concept map:")  # a screen reader gets a link per node, not one image
        assert sorted(c.title for c in source_pages("concept")) == sorted(n for n in names if n in {c.title for c in source_pages("concept")})
        assert len(names) == svg.locator("a.kb-map-node").count()
        svg.locator("a.kb-map-concept", has=page.locator("title", has_text=re.compile(f"^{CONCEPT_TITLE}$"))).click()
        page.wait_for_url(re.compile(re.escape(CONCEPT_URL) + "(#.*)?$"))
        assert not page.errors, page.errors
    finally:
        context.close()


# --- figures on a phone, and the Demo runs page ----------------------------------------------------------

def test_on_a_phone_every_figure_is_drawn_large_enough_to_read_and_opens_full_size(browser, deployed_url, note_url) -> None:
    context, page = open_page(browser, deployed_url, note_url, viewport=PHONE)
    try:
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
        scales = page.evaluate("""async () => {
          const out = [];
          for (const frame of document.querySelectorAll('article .kb-figure-frame:not([hidden])')) {
            const img = Array.from(frame.querySelectorAll('img')).find(i => i.getClientRects().length);
            img.loading = 'eager';
            if (!img.complete) await new Promise(r => img.addEventListener('load', r, {once: true}));
            out.push({src: img.currentSrc, scale: img.getBoundingClientRect().width / img.naturalWidth,
                      width: img.getBoundingClientRect().width, frame: frame.getBoundingClientRect().width});
          }
          return out;
        }""")
        assert len(scales) >= 6
        px_per_pt = 4 / 3
        wide = [s["src"] for s in scales if "-narrow-" not in s["src"]]
        assert not wide, f"a phone shows the wide layout of: {wide}"  # every demo draws a narrow one
        cut = [s for s in scales if s["width"] > s["frame"] + 0.5]
        assert not cut, f"figures wider than their frame on a phone (partly hidden): {cut}"
        small = [s for s in scales if NARROW_FIGURE_TEXT_PT * px_per_pt * s["scale"] < 11 - 1e-6]
        assert not small, f"figure text under 11 px on a phone: {small}"
        assert all(s["frame"] <= PHONE["width"] for s in scales)
        link = page.locator("article .kb-figure-frame:not([hidden]) a.kb-figure-open:visible").first
        href = link.get_attribute("href")
        assert href.endswith(".svg")
        link.click()
        page.wait_for_url(re.compile(re.escape(href.split("/")[-1]) + "$"))
        assert page.evaluate("() => document.documentElement.nodeName.toLowerCase()") == "svg"
    finally:
        context.close()


@pytest.mark.parametrize("path", ["NOTE", CONCEPT_URL, "concepts/trainability/"])
def test_on_a_laptop_every_figure_shows_at_its_own_size_so_its_text_reads_at_11_px(browser, deployed_url, note_url, path) -> None:
    """In the 688 px column of a 1280 px window every wide figure shows unscaled: its demo draws it at
    most 516 pt (688 px) wide with text at 8.25 pt and more (demos/_common.wide_problems), so 11 px."""
    context, page = open_page(browser, deployed_url, note_url if path == "NOTE" else path, viewport=DESKTOP)
    try:
        shown = page.evaluate("""async () => {
          const out = [];
          for (const frame of document.querySelectorAll('article .kb-figure-frame:not([hidden])')) {
            const img = Array.from(frame.querySelectorAll('img')).find(i => i.getClientRects().length);
            if (!img) continue;
            img.loading = 'eager';
            if (!img.complete) await new Promise(r => img.addEventListener('load', r, {once: true}));
            out.push({src: img.currentSrc, width: img.getBoundingClientRect().width, natural: img.naturalWidth});
          }
          return out;
        }""")
        assert shown, "no figure on the page"
        assert not [s for s in shown if "-narrow-" in s["src"]], "a laptop shows the wide layouts"
        scaled = [s for s in shown if s["width"] < s["natural"] - 0.5]
        assert not scaled, f"figures scaled down on a laptop, their text under 11 px: {scaled}"
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_demo_runs_page_fits_without_sideways_scrolling(browser, deployed_url, viewport) -> None:
    context, page = open_page(browser, deployed_url, "demo-runs/", viewport=viewport)
    try:
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        table = page.locator("article table.kb-runs-table")
        expect(table).to_be_visible()
        fits = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
        assert fits[0] <= fits[1], fits
        keys = table.locator("code.kb-key")
        first = keys.first.bounding_box()
        line = float(keys.first.evaluate("k => parseFloat(getComputedStyle(k).lineHeight) || 20"))
        if viewport is DESKTOP:
            assert first["height"] <= line * 1.6, "a cache key is broken over lines at 1280 px"
            names = table.locator("tbody td:first-child a code")
            assert all(names.nth(i).bounding_box()["height"] <= line * 1.6 for i in range(names.count())), "a demo's name is broken"
        assert "\\_" not in table.inner_text()
    finally:
        context.close()


# --- axe-core on every kind of page -------------------------------------------------------------------

PAGE_KINDS = {
    "home": "",
    "note": "notes/2024-01-23-dl-study/",
    "concept": CONCEPT_URL,
    "notes archive": "notes/",
    "concept index": "concepts/",
    "concept map": "concept-map/",
    "tags": "tags/",
    "demo runs": "demo-runs/",
    "missing page": "no/such/page/",
}
THEME_PARTS = (".md-header", ".md-sidebar", ".md-nav", ".md-search", ".md-top", ".md-tabs", ".md-dialog",
               ".headerlink", ".md-content__button", ".md-source")  # the footer is on every page: it must pass (kb.css)


COLOUR_RULES = ["color-contrast", "link-in-text-block", "non-text-contrast"]  # what a palette changes


def _run_axe(page, rules: list[str] | None = None) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async ([theme, rules]) => {
      const options = {resultTypes: ['violations']};
      if (rules) options.runOnly = {type: 'rule', values: rules.filter(r => axe.getRules().some(x => x.ruleId === r))};
      const r = await axe.run(document, options);
      return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => {
          const el = document.querySelector(n.target[0]);
          return {target: n.target.join(' '), html: n.html.slice(0, 160),
                  theme: !!(el && theme.some(s => el.closest(s)))};
        }),
      }));
    }""", [list(THEME_PARTS), rules])
    return result


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (make installs it with npm ci)")
def test_axe_finds_nothing_serious_in_the_projects_own_pages(browser, deployed_url) -> None:
    """Every kind of page with every rule in the light palette, and again with the rules a palette
    changes (colours) in the dark one; violations in the theme's own parts are reported, not failed."""
    ours, theirs = [], []
    report = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme, viewport=DESKTOP)
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            for kind, path in PAGE_KINDS.items():
                page.goto(deployed_url + path, wait_until="load")
                page.wait_for_function("() => document.body && document.body.dataset.mdColorScheme !== undefined")
                page.evaluate("() => { for (const i of document.images) i.loading = 'eager' }")
                violations = _run_axe(page, None if scheme == "light" else COLOUR_RULES)
                report[f"{kind} ({scheme})"] = violations
                for v in violations:
                    for node in v["nodes"]:
                        line = f"{kind} ({scheme}): {v['id']} [{v['impact']}] {v['help']}: {node['target']} {node['html']}"
                        (theirs if node["theme"] else ours).append(line)
        finally:
            context.close()
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "axe-report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    if theirs:
        print("axe: serious or critical in the theme's own parts:\n" + "\n".join(sorted(set(theirs))))
    assert not ours, "axe: serious or critical violations in the project's pages:\n" + "\n".join(ours)


# --- screenshots ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_note_a_concept_and_the_map_at_1280_and_390(browser, deployed_url, note_url, scheme) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    # test_browser.py takes the note and the concept at 1280 px (note-*.png, concept-*.png)
    for width, viewport, shots in (("1280", DESKTOP, ("map",)), ("390", PHONE, ("note", "concept", "map"))):
        context = browser.new_context(color_scheme=scheme, viewport=viewport)
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            for name, path in (("note", note_url), ("concept", CONCEPT_URL), ("map", "concept-map/")):
                if name not in shots:
                    continue
                page.goto(deployed_url + path, wait_until="load")
                page.evaluate("""async () => {
                  const imgs = Array.from(document.images).filter(i => i.getClientRects().length);
                  for (const i of imgs) i.loading = 'eager';
                  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
                    i.addEventListener('load', r, {once: true}); i.addEventListener('error', r, {once: true}); })));
                }""")
                page.wait_for_timeout(150)
                out = SCREENSHOTS / f"reading-{name}-{width}-{scheme}.png"
                page.screenshot(path=str(out), full_page=True)
                assert out.stat().st_size > 10_000
        finally:
            context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_concept_and_a_note_show_where_they_are_and_their_sections(browser, deployed_url, note_url, viewport) -> None:
    """The navigation lists Notes and Concepts, not each page: a note is shown under Notes and a concept
    under Concepts (the entry marked, breadcrumbs to it); on a phone, where the theme shows no table of
    contents beside the text, "On this page" lists the sections; a concept's notes come before its text."""
    for path, section in ((note_url, "Notes"), (CONCEPT_URL, "Concepts")):
        context, page = open_page(browser, deployed_url, path, viewport=viewport)
        try:
            crumbs = page.locator("nav.md-path .md-path__link")
            if viewport is DESKTOP:
                expect(crumbs).to_have_text(["Home", section])
                active = page.locator(".md-sidebar--primary .md-nav__item--active > .md-nav__link")
                expect(active.first).to_have_text(section)
                expect(page.locator("article .kb-contents")).to_be_hidden()  # the theme's own is beside the text
            else:
                contents = page.locator("article details.kb-contents")
                expect(contents).to_be_visible()
                contents.locator("summary").click()
                link = contents.locator("a", has_text="Linked from")
                expect(link).to_be_visible()
                link.click()
                page.wait_for_function("() => location.hash === '#linked-from'")
            if section == "Concepts":  # its notes, under its title and before its text
                notes = page.locator("article nav.kb-concept-notes")
                expect(notes).to_be_visible()
                first_paragraph = page.locator("article > p:not(.kb-page-meta)").first
                assert notes.bounding_box()["y"] < first_paragraph.bounding_box()["y"]
            assert not page.errors, page.errors
        finally:
            context.close()
