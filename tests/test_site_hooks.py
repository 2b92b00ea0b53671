"""The site hook on the tiny fixture site, built once: what a reader sees in the HTML, the map and the feed."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
from bs4 import BeautifulSoup

from tests.conftest import ROOT, build_site, write_site

SECOND = "notes/2024-02-10-second-note/index.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    config = write_site(root)
    before = sorted(p.relative_to(root / "docs") for p in (root / "docs").rglob("*"))
    site = build_site(config)
    after = sorted(p.relative_to(root / "docs") for p in (root / "docs").rglob("*"))
    assert before == after, "the build wrote into docs/"
    return site


def soup(site: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")


def article(site: Path, page: str) -> BeautifulSoup:
    return soup(site, page).find("article")


def follow(site: Path, page: str, href: str) -> tuple[Path, BeautifulSoup, str]:
    """The file a relative link of ``page`` leads to, parsed, and the link's fragment."""
    url, _, fragment = href.partition("#")
    target = ((site / page).parent / unquote(url)).resolve() if url else (site / page).resolve()
    if target.is_dir():
        target = target / "index.html"
    assert target.is_file(), f"{href} from {page} leads nowhere"
    return target, BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser"), fragment


def links(node) -> dict[str, str]:
    # HTML links (the local graph's SVG links carry xlink:href, and are tested on their own)
    return {a.get_text(): a["href"] for a in node.find_all("a", href=True) if not a.get("class") or "headerlink" not in a["class"]}


# --- pages the build adds, and what it leaves out --------------------------------------------------

def test_generated_pages_exist(site):
    for page in ("notes/index.html", "concepts/index.html", "concept-map/index.html", "feed.xml"):
        assert (site / page).is_file(), page


def test_drafts_are_not_built(site):
    assert not (site / "notes" / "2024-04-01-unfinished").exists()
    assert "Unfinished" not in (site / "notes" / "index.html").read_text(encoding="utf-8")


def test_notes_index(site):
    page = article(site, "notes/index.html")
    assert [h.get_text(strip=True).rstrip("¶") for h in page.find_all(["h2", "h3"])] == ["2024", "March 2024", "February 2024", "January 2024"]
    items = page.select(".kb-note-list li")
    assert [li.time["datetime"] for li in items] == ["2024-03-05", "2024-02-10", "2024-01-23"]
    first = items[-1]
    assert "Today I read about Deep double descent and inductive biases" in first.get_text()
    assert [a.get_text() for a in first.select(".kb-concepts a")] == ["Deep double descent", "Inductive bias"]
    for a in page.select(".kb-note-list a"):
        follow(site, "notes/index.html", a["href"])


def test_concepts_index_counts_notes(site):
    counts = {li.a.get_text(): li.select_one(".kb-count").get_text() for li in article(site, "concepts/index.html").find_all("li")}
    assert counts == {"Deep double descent": "3 notes", "Inductive bias": "2 notes", "Trainability": "2 notes"}


def test_sidebar_does_not_list_notes(site):
    nav = soup(site, "index.html").select_one("nav.md-nav--primary")
    hrefs = [a["href"] for a in nav.find_all("a", href=True)]
    assert any(h.endswith("notes/") for h in hrefs)
    assert not any("2024-" in h for h in hrefs)


# --- wikilinks ----------------------------------------------------------------------------------------

def test_wikilinks_become_links_to_pages_and_headings(site):
    found = links(article(site, SECOND))
    assert found["double descent"] == "../../concepts/deep-double-descent/"
    assert found["Trainability"] == "../../concepts/trainability/"
    assert found["first note › Setup details"] == "../2024-01-23-first-note/#setup-details"
    assert found["the first one"] == "../2024-01-23-first-note/"
    assert found["the results below"] == "#results"
    for text in ("first note › Setup details", "the results below"):
        _, target, fragment = follow(site, SECOND, found[text])
        assert target.find(id=fragment) is not None
    third = links(article(site, "notes/2024-03-05-third-note/index.html"))
    assert third["Trainability › Why it matters"] == "../../concepts/trainability/#why-it-matters"
    assert third["DDD"] == "../../concepts/deep-double-descent/"


def test_wikilinks_in_code_are_left_alone(site):
    page = article(site, "notes/2024-01-23-first-note/index.html")
    assert page.find("code", string="[[not a link]]") is not None
    assert "[[also not a link]]" in page.find("pre").get_text()


def test_shown_text_cannot_inject_markup(site):
    page = article(site, SECOND)
    assert page.find("script") is None
    hostile = [a for a in page.find_all("a") if "alert" in a.get_text()]
    assert [a.get_text() for a in hostile] == ['<script>alert(1)</script> *bold* _x_ [y] & "q"']
    assert hostile[0].find("em") is None


def test_image_embed_with_width(site):
    img = article(site, SECOND).find("img")
    assert img["width"] == "200" and img["alt"] == "figure.png"
    assert (site / "notes" / "2024-02-10-second-note" / img["src"]).resolve() == (site / "img" / "figure.png").resolve()


def test_callout_becomes_an_admonition(site):
    callout = article(site, "notes/2024-01-23-first-note/index.html").select_one("div.admonition.note")
    assert callout is not None
    assert callout.select_one(".admonition-title").get_text() == "A callout"


# --- backlinks, related concepts, neighbours ------------------------------------------------------

def test_concept_backlinks_newest_first_then_concepts(site):
    page = article(site, "concepts/inductive-bias/index.html")
    assert page.find("h2", id="linked-from") is not None
    items = page.select(".kb-backlinks li")
    assert [li.a.get_text() for li in items] == ["Third note", "First note", "Deep double descent"]
    assert [li.time["datetime"] if li.time else None for li in items] == ["2024-03-05", "2024-01-23", None]
    for li in items:
        follow(site, "concepts/inductive-bias/index.html", li.a["href"])


def test_generated_sections_are_in_the_table_of_contents_as_headings_of_the_page(site):
    page = soup(site, "concepts/inductive-bias/index.html")
    toc = [(a.get_text(strip=True), a["href"]) for a in page.select("nav.md-nav--secondary a.md-nav__link")]
    assert toc[-3:] == [("Linked from", "#linked-from"), ("Related concepts", "#related-concepts"), ("Local graph", "#local-graph")]
    for anchor in ("linked-from", "related-concepts", "local-graph"):
        assert page.find("article").find("h2", id=anchor) is not None


def test_related_concepts_most_co_mentions_first(site):
    related = article(site, "concepts/inductive-bias/index.html").select(".kb-related li")
    assert [(li.a.get_text(), li.select_one(".kb-count").get_text()) for li in related] == [
        ("Deep double descent", "together in 2 notes"),  # Trainability, in one note with it, is not listed
    ]


def test_notes_have_backlinks_and_neighbours(site):
    page = article(site, SECOND)
    assert [a.get_text() for a in page.select(".kb-backlinks a")] == ["Third note"]
    pager = page.select_one("nav.kb-pager")
    assert [(a.get_text(), a["href"]) for a in pager.find_all("a")] == [
        ("← First note", "../2024-01-23-first-note/"),
        ("Third note →", "../2024-03-05-third-note/"),
    ]
    oldest = article(site, "notes/2024-01-23-first-note/index.html").select_one("nav.kb-pager")
    assert [a.get_text() for a in oldest.find_all("a")] == ["Second note →"]
    newest = article(site, "notes/2024-03-05-third-note/index.html")
    assert newest.find("h2", id="linked-from").find_next("p").get_text() == "No page links here yet."


# --- home page and concept map --------------------------------------------------------------------

def test_home_lists_the_newest_notes(site):
    items = article(site, "index.html").select(".kb-note-list li")
    assert [li.a.get_text() for li in items] == ["Third note", "Second note"]  # extra.notes.newest_on_home: 2


@pytest.mark.parametrize("page", ["index.html", "concept-map/index.html"])
def test_concept_map_links_work_from_where_it_is_shown(site, page):
    svg = article(site, page).find("svg")
    assert svg["aria-label"] == "Concept map: 3 concepts and 2 notes, joined by their links"
    nodes = svg.find_all("a")
    assert [a.title.get_text() for a in nodes] == ["Deep double descent", "Inductive bias", "Trainability", "Third note", "Second note"]
    assert [a.find("circle") is not None for a in nodes] == [True, True, True, False, False]
    assert all("kb-map-note" in a["class"] for a in nodes[3:])
    for a in nodes:
        target, html, _ = follow(site, page, a["xlink:href"])
        assert html.find("h1").get_text(strip=True).rstrip("¶") == a.title.get_text()
    assert len(svg.find_all("line")) >= 5


def test_map_is_styled_with_material_variables():
    css = (ROOT / "docs" / "assets" / "kb.css").read_text(encoding="utf-8")
    for selector in (".kb-map-edge", ".kb-map-concept circle", ".kb-map-note rect", ".kb-map-node text"):
        block = css.split(selector, 1)[1].split("}", 1)[0]
        assert "var(--md-" in block, selector


def test_map_links_without_directory_urls(tmp_path):
    site = build_site(write_site(tmp_path, use_directory_urls=False))
    nodes = article(site, "concept-map.html").find("svg").find_all("a")
    assert nodes[0]["xlink:href"] == "concepts/deep-double-descent.html"
    for a in nodes:
        follow(site, "concept-map.html", a["xlink:href"])
    assert feedparser.parse((site / "feed.xml").read_bytes()).entries[0].link == "https://example.org/kb/notes/2024-03-05-third-note.html"


# --- tags, feed ------------------------------------------------------------------------------------

def test_tags_page_lists_pages_by_tag(site):
    page = article(site, "tags/index.html")
    text = page.get_text(" ")
    assert "theory" in text and "optimisation" in text
    hrefs = {a["href"] for a in page.find_all("a", href=True)}
    assert "../notes/2024-01-23-first-note/" in hrefs and "../concepts/trainability/" in hrefs


def test_feed(site):
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Tiny notes" and feed.feed.link == "https://example.org/kb/"
    assert [(e.title, e.link, e.published) for e in feed.entries] == [  # extra.notes.feed_items: 2
        ("Third note", "https://example.org/kb/notes/2024-03-05-third-note/", "Tue, 05 Mar 2024 00:00:00 +0000"),
        ("Second note", "https://example.org/kb/notes/2024-02-10-second-note/", "Sat, 10 Feb 2024 00:00:00 +0000"),
    ]
    assert all(e.id == e.link and e.summary for e in feed.entries)
    head = soup(site, "concept-map/index.html").head
    assert head.find("link", rel="alternate", type="application/rss+xml")["href"] == "../feed.xml"


# --- several builds in one process, as `mkdocs serve` does ----------------------------------------

def test_state_is_reset_between_builds_and_output_is_byte_stable(site, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    config = write_site(other, docs=None)
    (other / "docs" / "index.md").write_text("# Other\n\n<!-- kb:newest -->\n", encoding="utf-8")
    (other / "docs" / "notes").mkdir()
    (other / "docs" / "notes" / "2025-01-01-only.md").write_text("---\ntitle: Only\ndate: 2025-01-01\n---\n\nOnly note.\n", encoding="utf-8")
    other_site = build_site(config, strict=False)
    assert [e.title for e in feedparser.parse((other_site / "feed.xml").read_bytes()).entries] == ["Only"]
    assert "Third note" not in (other_site / "index.html").read_text(encoding="utf-8")

    again = tmp_path / "again"
    again.mkdir()
    shutil.copytree(site.parent / "docs", again / "docs")
    rebuilt = build_site(write_site(again, docs=None))
    for page in ("feed.xml", "concept-map/index.html", "notes/index.html"):
        assert (rebuilt / page).read_bytes() == (site / page).read_bytes(), page
