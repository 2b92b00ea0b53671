"""A vault's explorer and breadcrumbs in Chromium, at 1280 px (the sidebar) and 390 px (the drawer): folders
before notes in natural order, a folder that opens, a note that opens, the folder path above its title;
screenshots for a person to look at (screenshots/, git-ignored)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import QuietHandler, build_site, serve_folder
from tests.test_vault_nav import write_vault

pytestmark = [pytest.mark.browser]

expect = pytest.importorskip("playwright.sync_api").expect

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TOP = ["Study vault", "Concepts", "Cours d'analyse", "Machine learning", "Notes", "Orphans", "Concept map", "Inbox"]
COURS = ["Exercices", "Séance 1", "Séance 2 — intégrales", "Séance 10"]


@pytest.fixture(scope="module")
def vault_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = build_site(write_vault(tmp_path_factory.mktemp("vault-browser")))
    with serve_folder(QuietHandler, site) as port:
        yield f"http://127.0.0.1:{port}/"


def open_page(browser, url: str, viewport: dict):
    context = browser.new_context(viewport=viewport, color_scheme="light")
    refused: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.refused, page.errors = refused, errors  # type: ignore[attr-defined]
    return context, page


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def top_level(page) -> list[str]:
    """The explorer's first level as shown: each item's link or label text."""
    return page.eval_on_selector_all(
        "nav.md-nav--primary > ul.md-nav__list > li",
        "items => items.map(li => (li.querySelector(':scope > .md-nav__container > a, :scope > label.md-nav__link, :scope > a')"
        " || li).innerText.trim())")


def folder_items(page, folder: str) -> list[str]:
    return page.eval_on_selector_all(
        "nav.md-nav--primary li.md-nav__item--nested",
        "(items, name) => { const li = items.find(li => li.querySelector(':scope > label, :scope > .md-nav__container')"
        ".innerText.trim() === name); return [...li.querySelectorAll(':scope > nav > ul > li')]"
        ".map(c => (c.querySelector(':scope > .md-nav__container > a, :scope > label.md-nav__link, :scope > a')).innerText.trim()); }",
        folder)


def crumb_texts(page) -> list[str]:
    return [t.strip() for t in page.locator("nav.md-path a.md-path__link").all_inner_texts()]


def test_the_sidebar_explorer_at_1280(browser, vault_url) -> None:
    context, page = open_page(browser, vault_url, DESKTOP)
    try:
        sidebar = page.locator("nav.md-nav--primary")
        expect(sidebar).to_be_visible()
        assert top_level(page) == TOP
        seance_10 = sidebar.get_by_role("link", name="Séance 10", exact=True)
        expect(seance_10).to_be_hidden()  # folders start closed
        shoot(page, "vault-nav-1280-home.png")
        sidebar.locator("label.md-nav__link", has_text="Cours d'analyse").click()
        expect(seance_10).to_be_visible()
        assert folder_items(page, "Cours d'analyse") == COURS
        page.wait_for_timeout(400)  # the folder's opening
        shoot(page, "vault-nav-1280-folder-open.png")
        seance_10.click()
        page.wait_for_url("**/S%C3%A9ance%2010/")
        expect(page.locator("article h1")).to_have_text("Séance 10")
        expect(page.locator("nav.md-path")).to_be_visible()
        assert crumb_texts(page) == ["Study vault", "Cours d'analyse"]
        # the open note's folder stays open, the note marked as the current one
        expect(sidebar.locator("a.md-nav__link--active", has_text="Séance 10")).to_be_visible()
        shoot(page, "vault-nav-1280-note.png")
        # a folder note is its folder's link, and the breadcrumb leads to it
        page.goto(vault_url + "Machine%20learning/Gradient%20descent/", wait_until="load")
        assert crumb_texts(page) == ["Study vault", "Machine learning"]
        page.locator("nav.md-path a.md-path__link", has_text="Machine learning").click()
        page.wait_for_url("**/Machine%20learning/Machine%20learning/")
        expect(page.locator("article h1")).to_contain_text("Machine learning")
        # the folder's own link is the current page, its notes listed under it
        expect(page.locator("nav.md-nav--primary .md-nav__container > a.md-nav__link--active")).to_have_text("Machine learning")
        page.wait_for_timeout(400)
        shoot(page, "vault-nav-1280-folder-note.png")
        assert page.refused == [] and page.errors == []
    finally:
        context.close()


def test_the_drawer_explorer_and_breadcrumbs_at_390(browser, vault_url) -> None:
    context, page = open_page(browser, vault_url, PHONE)
    try:
        sidebar = page.locator("nav.md-nav--primary")
        expect(sidebar.get_by_role("link", name="Inbox", exact=True)).not_to_be_in_viewport()  # the drawer is shut
        page.locator("label.md-header__button[for=__drawer]").click()
        inbox = sidebar.get_by_role("link", name="Inbox", exact=True)
        expect(inbox).to_be_in_viewport()
        assert top_level(page) == TOP
        page.wait_for_timeout(400)  # the drawer's slide
        shoot(page, "vault-nav-390-drawer.png")
        sidebar.locator("label.md-nav__link", has_text="Cours d'analyse").click()
        seance_2 = sidebar.get_by_role("link", name="Séance 2 — intégrales", exact=True)
        expect(seance_2).to_be_in_viewport()  # the folder's own panel slides in
        assert folder_items(page, "Cours d'analyse") == COURS
        page.wait_for_timeout(400)
        shoot(page, "vault-nav-390-folder.png")
        seance_2.click()
        page.wait_for_url("**/S%C3%A9ance%202%20%E2%80%94%20int%C3%A9grales/")
        path = page.locator("nav.md-path")
        expect(path).to_be_in_viewport()
        assert crumb_texts(page) == ["Study vault", "Cours d'analyse"]
        boxes = [a.bounding_box() for a in page.locator("nav.md-path a.md-path__link").all()]
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] for b in boxes)  # all on screen, none cut
        centres = [(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2) for b in boxes]
        # WCAG 2.5.8: a link under 24 px is fine when 24 px circles around the targets do not overlap
        assert all(abs(a[0] - b[0]) >= 24 or abs(a[1] - b[1]) >= 24 for a, b in zip(centres, centres[1:]))
        assert all(b["height"] >= 16 for b in boxes)
        shoot(page, "vault-nav-390-note.png")
        page.locator("nav.md-path a.md-path__link", has_text="Study vault").click()
        page.wait_for_url(vault_url)
        assert page.refused == [] and page.errors == []
    finally:
        context.close()


def test_a_folder_opens_from_the_keyboard(browser, vault_url) -> None:
    context, page = open_page(browser, vault_url, DESKTOP)
    try:
        sidebar = page.locator("nav.md-nav--primary")
        folder = sidebar.locator("label.md-nav__link", has_text="Cours d'analyse")
        folder.focus()
        page.keyboard.press("Enter")
        seance_1 = sidebar.get_by_role("link", name="Séance 1", exact=True)
        expect(seance_1).to_be_visible()
        page.keyboard.press("Tab")  # into the folder, to its first entry (a folder), then its first note
        page.keyboard.press("Tab")
        expect(seance_1).to_be_focused()
        page.keyboard.press("Enter")
        page.wait_for_url("**/S%C3%A9ance%201/")
    finally:
        context.close()


@pytest.fixture(scope="module")
def vault_with_previews_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The vault with the site's own script and styles (link previews), as a vault published with this
    project's mkdocs.yml has them."""
    import shutil

    import yaml

    root = tmp_path_factory.mktemp("vault-previews")
    config = write_vault(root)
    assets = root / "docs" / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    for name in ("kb.js", "kb.css"):
        shutil.copy(REPO / "docs" / "assets" / name, assets / name)
    (root / "docs" / "Machine learning" / "Limits.md").write_text(
        "Intro to the page.\n\n## One-sided limits\n\nThe limit of $f(x)$ as $x$ tends to $a$ from the right.\n", encoding="utf-8")
    (root / "docs" / "Machine learning" / "Reading list.md").write_text(
        "Read [[Limits#One-sided limits]] first.\n", encoding="utf-8")
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data.update(extra_javascript=["assets/kb.js"], extra_css=["assets/kb.css"])
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with serve_folder(QuietHandler, build_site(config)) as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_hovering_a_link_between_two_undated_notes_shows_its_preview(browser, vault_with_previews_url, viewport) -> None:
    """Machine learning/Gradient descent links [[Séance 1]] (another folder, no date, no front matter):
    hovering the link shows the card of Séance 1, titled by its file name, with its first paragraph."""
    context, page = open_page(browser, vault_with_previews_url + "Machine%20learning/Gradient%20descent/", viewport)
    try:
        link = page.locator("article a[data-kb-preview]", has_text="Séance 1").first
        expect(link).to_be_visible()
        link.hover()
        card = page.locator(".kb-preview")
        expect(card).to_be_visible()
        expect(card.locator(".kb-preview-title")).to_have_text("Séance 1")
        expect(card.locator(".kb-preview-text")).to_contain_text("Limits and continuity")
        shoot(page, f"vault-preview-{viewport['width']}.png")
        page.mouse.move(2, 2)
        expect(card).to_be_hidden()
        assert not page.errors and not page.refused, (page.errors, page.refused)
    finally:
        context.close()


def test_a_link_to_a_heading_previews_that_section_with_its_math_drawn(browser, vault_with_previews_url) -> None:
    """[[Limits#One-sided limits]]: the card shows that section (its heading, its first paragraph), not the
    page's start, and its formulas drawn by KaTeX from the site's own copy."""
    context, page = open_page(browser, vault_with_previews_url + "Machine%20learning/Reading%20list/", DESKTOP)
    try:
        link = page.locator("article a[data-kb-preview]", has_text="Limits").first
        link.hover()
        card = page.locator(".kb-preview")
        expect(card).to_be_visible()
        expect(card.locator(".kb-preview-title")).to_have_text("Limits › One-sided limits")
        expect(card.locator(".kb-preview-text")).to_contain_text("from the right")
        expect(card.locator(".kb-preview-text .katex").first).to_be_visible()  # drawn, not $f(x)$
        assert "Intro to the page" not in card.inner_text()
        assert "$" not in card.locator(".kb-preview-text").inner_text()
        assert not page.errors and not page.refused, (page.errors, page.refused)
    finally:
        context.close()
