"""Every Markdown page of an Obsidian vault is a page of the knowledge base: the fixture vault
(tests/fixtures/vault, undated course notes in folders, most without front matter) with
tests/fixtures/vault-nodes over it (daily notes and templates named in .obsidian/, a wastebasket, a page
with a title property, aliases and cssclasses, a PDF linked by wikilink, a page with publish: false, a
folder note), built by MkDocs with --strict and read in its HTML, previews, feed and search index."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin

import pytest
from bs4 import BeautifulSoup

from tests.conftest import FIXTURES, build_site, check_site, write_site
from tests.test_fidelity import EXTENSIONS

SEANCE_1 = "Cours d'analyse/Séance 1/index.html"
GRADIENT = "Machine learning/Gradient descent/index.html"
ZOO = "Machine learning/Optimiser zoo/index.html"
BACKPROP = "Machine learning/Backprop notes/index.html"
SECRETS = ("PRIVATE-IDEA", "TEMPLATE-TEXT", "TRASHED-TEXT", "TRASHED-ATTACHMENT")


def vault_site(root: Path) -> Path:
    config = write_site(root, FIXTURES / "vault", nav=None, markdown_extensions=EXTENSIONS)
    shutil.copytree(FIXTURES / "vault-nodes", root / "docs", dirs_exist_ok=True)
    return config


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vault-nodes")
    return build_site(vault_site(root), strict=True)


def page(site: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path).read_text(encoding="utf-8"), "html.parser")


def section(soup: BeautifulSoup, anchor: str) -> BeautifulSoup | None:
    """What follows the heading ``anchor`` up to the next heading."""
    heading = soup.find("h2", id=anchor)
    return heading.find_next_sibling() if heading is not None else None


def linked_from(site: Path, path: str) -> list[tuple[str, str, str | None]]:
    """The "Linked from" list of a page: (text, href resolved from the site root, preview resolved)."""
    base = "http://site/" + path.removesuffix("index.html")
    out = []
    for a in section(page(site, path), "linked-from").find_all("a"):
        preview = a.get("data-kb-preview")
        out.append((a.get_text(), unquote(urljoin(base, a["href"]))[len("http://site/"):],
                    unquote(urljoin(base, preview))[len("http://site/"):] if preview else None))
    return out


def test_the_vault_is_clean(tmp_path: Path) -> None:
    vault_site(tmp_path)
    assert check_site(tmp_path) == []


def test_undated_pages_in_two_folders_link_both_ways(site: Path) -> None:
    """Gradient descent (Machine learning/) links to Séance 1 (Cours d'analyse/): Séance 1 lists it under
    "Linked from" with its preview, and the link in Gradient descent's text carries Séance 1's preview."""
    assert ("Gradient descent", "Machine learning/Gradient descent/",
            "Machine learning/Gradient descent/preview.json") in linked_from(site, SEANCE_1)
    link = page(site, GRADIENT).find("article").find("a", string="Séance 1")
    assert unquote(urljoin("http://site/Machine learning/Gradient descent/", link["data-kb-preview"])) == \
        "http://site/Cours d'analyse/Séance 1/preview.json"
    preview = json.loads((site / "Cours d'analyse" / "Séance 1" / "preview.json").read_text(encoding="utf-8"))
    assert preview["title"] == "Séance 1" and preview["kind"] == "page" and preview["text"].startswith("Limits and continuity")
    graph = json.loads(page(site, SEANCE_1).find(class_="kb-local-graph")["data-kb-graph"])
    assert {row["title"] for row in graph["rows"]} >= {"Séance 1", "Gradient descent", "Optimiser zoo", "Cours d'analyse"}


def test_titles_are_the_title_property_else_the_file_name(site: Path) -> None:
    def tab(path: str) -> str:
        return page(site, path).title.get_text()

    assert tab(SEANCE_1) == "Séance 1 - Tiny notes"  # its first line is text, its headings are ## ones
    assert tab(GRADIENT) == "Gradient descent - Tiny notes"  # front matter without a title
    assert tab(BACKPROP) == "Backpropagation, by hand - Tiny notes"  # the title property, over its "# Backprop"
    assert page(site, BACKPROP).find("article").find("h1").get_text(strip=True).startswith("Backprop")  # the body keeps it
    assert page(site, SEANCE_1).find("article").find("h1").get_text() == "Séance 1"  # the theme's h1
    assert tab("Daily/2024-05-01/index.html") == "2024-05-01 - Tiny notes"
    assert [row[0] for row in linked_from(site, GRADIENT)] == ["2024-05-01", "Backpropagation, by hand", "Momentum", "Optimiser zoo"]
    preview = json.loads((site / "Machine learning" / "Backprop notes" / "preview.json").read_text(encoding="utf-8"))
    assert preview["title"] == "Backpropagation, by hand"
    nav = [e.get_text(" ", strip=True) for e in page(site, "index.html").select("nav.md-nav--primary .md-ellipsis")]
    assert {"Séance 1", "Séance 2 — intégrales", "Backpropagation, by hand", "Optimiser zoo"} <= set(nav)
    assert "Backprop notes" not in nav


def test_wikilinks_by_file_name_path_alias_and_to_an_attachment(site: Path) -> None:
    base = "http://site/Machine learning/Optimiser zoo/"
    links = {a.get_text(): unquote(urljoin(base, a["href"])) for a in page(site, ZOO).find("article").find_all("a", href=True)
             if not a.get("class")}
    assert links["Cours d'analyse/Séance 1"] == "http://site/Cours d'analyse/Séance 1/"
    assert links["slides.pdf"] == links["the slides again"] == "http://site/attachments/slides.pdf"
    assert (site / "attachments" / "slides.pdf").read_bytes().startswith(b"%PDF")
    daily = page(site, "Daily/2024-05-02/index.html").find("article")
    assert unquote(urljoin("http://site/Daily/2024-05-02/", daily.find("a", string="backprop")["href"])) == \
        "http://site/Machine learning/Backprop notes/"


def test_daily_notes_are_notes_in_the_archive_the_feed_and_the_pager(site: Path) -> None:
    archive = page(site, "notes/index.html").find("article")
    assert [a.get_text() for a in archive.select(".kb-note-list a") if a.get_text().startswith("2024")] == ["2024-05-02", "2024-05-01"]
    feed = (site / "feed.xml").read_text(encoding="utf-8")
    assert "<link>https://example.org/kb/Daily/2024-05-02/</link>" in feed and "<link>https://example.org/kb/Daily/2024-05-01/</link>" in feed
    newer = page(site, "Daily/2024-05-01/index.html").find(class_="kb-pager-newer")
    assert newer is not None and newer.get_text() == "2024-05-02 →"
    assert page(site, "Daily/2024-05-01/index.html").find("time").get_text() == "2024-05-01"  # the line under its title


def test_the_vaults_own_folders_and_unpublished_pages_are_nowhere(site: Path) -> None:
    for gone in (".obsidian", ".trash", "Templates", "Private idea"):
        assert not (site / gone).exists(), gone
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".pdf"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not any(secret in text for secret in SECRETS), path
            assert "Private idea" not in text and "Private%20idea" not in text, path
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {unquote(e["location"]).split("#")[0] for e in index["docs"]}
    assert "Daily/2024-05-01/" in locations and not [loc for loc in locations if loc.startswith(("Templates", "Private", "."))]
    assert "Private idea" not in {row[0] for row in linked_from(site, GRADIENT)}  # publish: false links to it


def test_the_home_page_lists_nothing_and_is_not_a_backlink(site: Path) -> None:
    home = page(site, "index.html")
    assert home.find("h2", id="linked-from") is None and home.find(class_="kb-local-graph") is None
    assert "Study vault" not in {row[0] for row in linked_from(site, SEANCE_1)}  # the home links to it


def test_tags_and_cssclasses_of_any_page(site: Path) -> None:
    backprop = page(site, BACKPROP)
    assert "wide-page" in backprop.find("article")["class"]
    assert [t.get_text() for t in backprop.select(".kb-page-meta .kb-tag")] == ["optimisation"]
    assert page(site, GRADIENT).find(class_="kb-page-meta").get_text(" ", strip=True) == "optimisation"


def test_a_folder_note_is_a_page_like_any_other(site: Path) -> None:
    assert ("Cours d'analyse", "Cours d'analyse/Cours d'analyse/", "Cours d'analyse/Cours d'analyse/preview.json") in \
        linked_from(site, SEANCE_1)
    assert (site / "Cours d'analyse" / "Cours d'analyse" / "preview.json").is_file()


def test_the_map_of_a_vault_draws_its_newest_notes_and_its_most_linked_pages(site: Path) -> None:
    """extra.notes.map_notes is 2 here: the two daily notes, and of the undated pages the two that most
    pages link to (Séance 1 from four, Gradient descent from three); the others are left to their local graphs."""
    svg = page(site, "concept-map/index.html").find("svg", class_="kb-map-wide")
    nodes = {a.find("title").get_text(): a["class"] for a in svg.find_all("a")}
    assert set(nodes) == {"2024-05-02", "2024-05-01", "Séance 1", "Gradient descent"}
    assert "kb-map-page" in nodes["Séance 1"] and "kb-map-note" in nodes["2024-05-01"]
    assert svg["aria-label"] == "Concept map: 0 concepts, 2 other pages and 2 notes, joined by their links"


def test_a_folders_index_page_is_named_after_its_folder(site: Path) -> None:
    assert page(site, "Machine learning/Reading list/index.html").title.get_text() == "Reading list - Tiny notes"
    assert ("Reading list", "Machine learning/Reading list/", "Machine learning/Reading list/preview.json") in \
        linked_from(site, BACKPROP)


def test_the_vaults_settings_are_read_from_docs_or_from_the_project_around_it(tmp_path: Path) -> None:
    from hooks.kb.vault import Vault, read_vault

    docs = tmp_path / "docs"
    (docs / ".obsidian").mkdir(parents=True)
    (docs / ".obsidian" / "daily-notes.json").write_text('{"folder": "Journal/", "format": ""}', encoding="utf-8")
    (docs / ".obsidian" / "templates.json").write_text('{"folder": "Templates"}', encoding="utf-8")
    vault = read_vault(docs, tmp_path)
    assert vault == Vault(daily_folder="Journal", daily_format="YYYY-MM-DD", templates_folder="Templates")
    assert vault.is_private("Templates/Daily.md") and vault.is_private(".trash/x.md") and vault.is_private(".obsidian/app.json")
    assert not vault.is_private("Templates and more/x.md") and not vault.is_private("Notes/Templates.md")
    shutil.rmtree(docs / ".obsidian")  # the vault is the project's folder, docs/ a folder inside it
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / ".obsidian" / "daily-notes.json").write_text('{"folder": "docs/Daily"}', encoding="utf-8")
    (tmp_path / ".obsidian" / "templates.json").write_text('{"folder": "Templates"}', encoding="utf-8")  # outside docs/
    assert read_vault(docs, tmp_path) == Vault(daily_folder="Daily", templates_folder=None)
    (tmp_path / ".obsidian" / "daily-notes.json").write_text("not JSON", encoding="utf-8")
    assert read_vault(docs, tmp_path) == Vault()
    assert read_vault(tmp_path / "elsewhere", tmp_path / "elsewhere") == Vault()


def test_under_serve_a_vaults_edits_render_what_they_change_as_a_full_build_would(tmp_path: Path) -> None:
    from tests.test_serve import ServeSession, assert_same_site, edit, full_build_of

    root = tmp_path / "vault"
    root.mkdir()
    vault_site(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    try:
        serve.build()
        new = "docs/Machine learning/New page.md"
        everything = None  # a page the sidebar lists (nav: is not set) created, renamed or retitled: every page
        steps = [
            ("an undated page links to another folder's page", lambda: edit(root, new, "On [[Séance 1]].\n"),
             {"Cours d'analyse/Séance 1.md", "Machine learning/New page.md"}, everything),
            ("its text changes", lambda: edit(root, new, append="More.\n"), {"Machine learning/New page.md"}, set()),
            ("it gets a title property", lambda: edit(root, new, "---\ntitle: A newer page\n---\nOn [[Séance 1]].\n"),
             {"Cours d'analyse/Séance 1.md", "Inbox.md"}, everything),
            ("it is renamed", lambda: (root / new).rename(root / "docs/Machine learning/Renamed.md"),
             {"Cours d'analyse/Séance 1.md", "Machine learning/Renamed.md"}, everything),
            ("it is kept out of the site", lambda: edit(root, "docs/Machine learning/Renamed.md", replace=("title:", "publish: false\ntitle:")),
             {"Cours d'analyse/Séance 1.md"}, everything),
            ("a daily note is written", lambda: edit(root, "docs/Daily/2024-05-03.md", "After [[Inbox]].\n"),
             {"notes/index.md", "Daily/2024-05-02.md", "Inbox.md"}, {"Daily/2024-05-03.md", "concept-map.md", "index.md"}),
            ("a template is edited", lambda: edit(root, "docs/Templates/Daily.md", append="\nMore TEMPLATE-TEXT.\n"), set(), set()),
        ]
        for number, (step, change, must, besides) in enumerate(steps, start=1):
            change()
            rendered = serve.build()
            assert must <= rendered, f"{step}: not rebuilt: {sorted(must - rendered)}"
            if besides is not None:
                assert rendered <= must | besides, f"{step}: rebuilt without need: {sorted(rendered - must - besides)}"
            assert_same_site(root / "site", full_build_of(root, tmp_path, number), step)
    finally:
        for hook_module in [m for name, m in sys.modules.items() if name.endswith("mkdocs_site.py")]:
            hook_module.on_shutdown()


def test_the_export_built_without_hooks_shows_the_same_pages_and_titles(tmp_path: Path, site: Path) -> None:
    from hooks.cli.export import export_tree, write_tree
    from hooks.config import read_config
    from tests.articles import differences
    from tests.conftest import plan_of

    root = tmp_path / "project"
    vault_site(root)
    write_tree(export_tree(plan_of(root), read_config(root / "mkdocs.yml")).files, tmp_path / "export")
    plain = build_site(tmp_path / "export" / "mkdocs.yml")
    # Known: footnotes end the Markdown, so in the export they follow the generated sections; the hooked
    # build appends the sections after them (as in any note with footnotes).
    assert [d for d in differences(site, plain) if not d.startswith("Machine learning/Gradient descent/")] == []

    def titles(folder: Path) -> dict[str, str]:
        return {p.relative_to(folder).as_posix(): page(folder, p.relative_to(folder).as_posix()).title.get_text()
                for p in folder.rglob("index.html")}

    assert titles(plain) == titles(site)
    assert titles(site)["Machine learning/Momentum/index.html"] == "Momentum - Tiny notes"  # not its "# Heavy ball"
