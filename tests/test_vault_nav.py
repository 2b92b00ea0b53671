"""A vault's navigation, built: a copy of tests/fixtures/vault (no ``nav:`` in its mkdocs.yml) with a few
pages more; the explorer in the sidebar, folder notes as their folder's page, breadcrumbs, every page
reachable from the home page by links, and `mkdocs serve`'s dirty rebuilds showing what a full build shows.
"""
from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

from tests.conftest import FIXTURES, build_site, write_site
from tests.test_serve import ServeSession, assert_same_site, edit, full_build_of, serve_mode  # noqa: F401 (a fixture)

VAULT = FIXTURES / "vault"
FEATURES = ["navigation.indexes", "navigation.path", "navigation.footer"]  # what a vault's mkdocs.yml sets (README, Navigation)
ADDED = {  # pages the shared fixture does not have, added to the copy
    "Cours d'analyse/Séance 10.md": "Tenth session, after [[Séance 2 — intégrales]].\n",
    "Cours d'analyse/Exercices/Feuille 1.md": "---\ntitle: Première feuille\n---\nExercises on limits.\n",
    "Machine learning/Machine learning.md": "# Machine learning\n\nThe folder note of this course.\n",
    "Machine learning/Adam & friends.md": "Optimisers <with> moments.\n",
    "Orphans/deep/Nobody links here.md": "No page links to this one.\n",
}


def write_vault(root: Path, features: list[str] = FEATURES) -> Path:
    """The vault with the pages of ADDED, and a mkdocs.yml with no ``nav:``; the config's path."""
    config = write_site(root, VAULT, nav=None, theme={"name": "material", "font": False, "features": features},
                        site_name="Study vault")
    for rel, text in ADDED.items():
        path = root / "docs" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert yaml.safe_load(config.read_text(encoding="utf-8"))["nav"] is None
    return config


@pytest.fixture(scope="module")
def vault_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(write_vault(tmp_path_factory.mktemp("vault-nav")))


def html(site: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((site / rel).read_text(encoding="utf-8"), "html.parser")


def explorer_rows(page: BeautifulSoup) -> list[tuple[int, str]]:
    """The primary navigation as (depth, text) rows: a folder once, as its link or label; a page by its link."""
    primary = page.select_one("nav.md-nav--primary > ul.md-nav__list")
    rows: list[tuple[int, str]] = []

    def walk(ul, depth: int) -> None:
        for li in ul.find_all("li", recursive=False):
            if "md-nav__item--nested" in li.get("class", []):
                head = li.select_one(":scope > .md-nav__container > a, :scope > label.md-nav__link")
                rows.append((depth, head.get_text(" ", strip=True) + "/"))
                walk(li.select_one(":scope > nav > ul"), depth + 1)
            else:
                rows.append((depth, li.select_one(":scope > a").get_text(" ", strip=True)))

    walk(primary, 0)
    return rows


def crumbs(page: BeautifulSoup) -> list[tuple[str, str]]:
    return [(a.get_text(" ", strip=True), a["href"]) for a in page.select("nav.md-path a.md-path__link")]


EXPECTED = [
    (0, "Study vault"),
    (0, "Concepts/"),
    (0, "Cours d'analyse/"),
    (1, "Exercices/"), (2, "Première feuille"),
    (1, "Séance 1"), (1, "Séance 2 — intégrales"), (1, "Séance 10"),
    (0, "Machine learning/"),
    (1, "Adam &amp; friends"), (1, "Gradient descent"),
    (0, "Notes/"),
    (0, "Orphans/"), (1, "Deep/"), (2, "Nobody links here"),
    (0, "Concept map"), (0, "Inbox"),
]


def _unescaped(rows):
    return [(d, t.replace("&amp;", "&")) for d, t in rows]


def test_the_explorer_lists_folders_before_notes_in_natural_order_on_every_page(vault_site: Path) -> None:
    pages = [p.relative_to(vault_site).as_posix() for p in vault_site.rglob("index.html")]
    assert len(pages) == 13
    for rel in pages:
        assert explorer_rows(html(vault_site, rel)) == _unescaped(EXPECTED), rel


def test_a_folder_note_is_its_folders_link_and_is_not_listed_again(vault_site: Path) -> None:
    page = html(vault_site, "Inbox/index.html")
    folder = next(li for li in page.select("nav.md-nav--primary li.md-nav__item--nested")
                  if li.get_text(" ", strip=True).startswith("Machine learning"))
    link = folder.select_one(":scope > .md-nav__container > a")
    assert link["href"] == "../Machine%20learning/Machine%20learning/"
    assert folder.select_one(":scope > input.md-nav__toggle") is not None  # it still folds open and shut
    inside = [a.get_text(strip=True) for a in folder.select(":scope > nav a")]
    assert inside == ["Adam & friends", "Gradient descent"]
    # a folder without one is a label that opens it
    cours = next(li for li in page.select("nav.md-nav--primary li.md-nav__item--nested")
                 if li.get_text(" ", strip=True).startswith("Cours"))
    assert cours.select_one(":scope > label.md-nav__link") is not None


def test_the_open_page_and_its_folders_are_expanded(vault_site: Path) -> None:
    page = html(vault_site, "Cours d'analyse/Exercices/Feuille 1/index.html")
    checked = [li.select_one(":scope > label, :scope > .md-nav__container").get_text(" ", strip=True)
               for li in page.select("nav.md-nav--primary li.md-nav__item--nested")
               if li.select_one(":scope > input").has_attr("checked")]
    assert checked == ["Cours d'analyse", "Exercices"]
    assert page.select_one("nav.md-nav--primary a.md-nav__link--active").get_text(strip=True) == "Première feuille"


def test_breadcrumbs_show_the_folder_path(vault_site: Path) -> None:
    assert crumbs(html(vault_site, "Cours d'analyse/Exercices/Feuille 1/index.html")) == [
        ("Study vault", "../../.."), ("Cours d'analyse", "./"), ("Exercices", "./")]  # a folder: its first page
    assert crumbs(html(vault_site, "Machine learning/Gradient descent/index.html")) == [
        ("Study vault", "../.."), ("Machine learning", "../Machine%20learning/")]  # the folder note
    # a page at the top has only the home page above it: Material shows no breadcrumbs there
    assert crumbs(html(vault_site, "Inbox/index.html")) == []


def test_titles_in_the_explorer_are_the_pages_titles(vault_site: Path) -> None:
    page = html(vault_site, "Cours d'analyse/Exercices/Feuille 1/index.html")
    assert page.select_one("article h1").get_text(strip=True) == "Première feuille"
    assert page.title.get_text().startswith("Première feuille")
    adam = html(vault_site, "Machine learning/Adam & friends/index.html")
    assert adam.title.get_text().startswith("Adam & friends")  # escaped once, as a front-matter title is


def test_previous_and_next_follow_the_explorer(vault_site: Path) -> None:
    page = html(vault_site, "Cours d'analyse/Séance 2 — intégrales/index.html")
    footer = [a.get_text(" ", strip=True) for a in page.select("nav.md-footer__inner a")]
    assert "Séance 1" in footer[0] and "Séance 10" in footer[1]


def _reachable(site: Path) -> set[str]:
    """Every HTML file reached from index.html by following <a href> (the navigation included)."""
    seen, todo = set(), ["index.html"]
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        base = "http://site/" + rel
        for a in html(site, rel).find_all("a", href=True):
            url = urlsplit(urljoin(base, a["href"]))
            if url.netloc != "site":
                continue
            path = posixpath.normpath(unquote(url.path)).lstrip("/")
            if url.path.endswith("/") or (site / path).is_dir():
                path = posixpath.join(path, "index.html") if path not in ("", ".") else "index.html"
            if path.endswith(".html") and (site / path).is_file():
                todo.append(path)
    return seen


def test_every_page_is_reachable_from_the_home_page(vault_site: Path) -> None:
    pages = {p.relative_to(vault_site).as_posix() for p in vault_site.rglob("*.html")} - {"404.html"}
    assert "Orphans/deep/Nobody links here/index.html" in pages
    assert pages - _reachable(vault_site) == set()


def test_without_the_explorer_the_orphan_is_unreachable(tmp_path: Path) -> None:
    """The crawl can fail: with MkDocs' own navigation left out (an explicit nav of the home page only),
    the page no link leads to is not reached."""
    config = write_vault(tmp_path)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["nav"] = [{"Home": "index.md"}]
    data["validation"]["omitted_files"] = "info"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    site = build_site(config)
    assert "Orphans/deep/Nobody links here/index.html" not in _reachable(site)
    assert [a.get_text(strip=True) for a in html(site, "index.html").select("nav.md-nav--primary a.md-nav__link")] == ["Home"]


def test_a_site_with_a_nav_keeps_it(tiny_site: Path) -> None:
    site = build_site(tiny_site)
    links = [a.get_text(strip=True) for a in html(site, "index.html").select("nav.md-nav--primary > ul > li > a")]
    assert links == ["Home", "Notes", "Concepts", "Concept map", "Tags"]


def test_without_navigation_indexes_a_folder_note_heads_its_folder(tmp_path: Path) -> None:
    site = build_site(write_vault(tmp_path, features=["navigation.path"]))
    rows = explorer_rows(html(site, "Inbox/index.html"))
    ml = rows.index((0, "Machine learning/"))
    assert rows[ml + 1] == (1, "Machine learning")


# --- under `mkdocs serve`: a dirty rebuild shows what a full build shows ----------------------------

def test_dirty_rebuilds_show_the_explorer_a_full_build_shows(tmp_path: Path, serve_mode) -> None:
    root = tmp_path / "vault"
    write_vault(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    steps = [
        # the explorer is unchanged: only the edited page is rendered, and the others keep their titles
        ("edit a page's text", lambda: edit(root, "docs/Inbox.md", append="\nOne more line.\n"), {"Inbox.md"}),
        ("add a page", lambda: edit(root, "docs/Cours d'analyse/Séance 3.md", "Third.\n"), None),
        ("retitle a page by its title property", lambda: edit(root, "docs/Cours d'analyse/Séance 1.md", text=(
            "---\ntitle: Limites et continuité\n---\n\n" + (root / "docs/Cours d'analyse/Séance 1.md").read_text(encoding="utf-8"))), None),
        ("add a folder note", lambda: edit(root, "docs/Cours d'analyse/Cours d'analyse.md", "The course.\n"), None),
        ("delete a page", lambda: (root / "docs/Cours d'analyse/Séance 3.md").unlink(), None),
        ("edit another page's text", lambda: edit(root, "docs/Orphans/deep/Nobody links here.md", append="More.\n"),
         {"Orphans/deep/Nobody links here.md"}),
    ]
    for number, (step, change, only) in enumerate(steps, start=1):
        change()
        rendered = serve.build()
        if only is not None:
            assert rendered == only, step
        else:  # every page shows the explorer, so every page is rendered again
            assert len(rendered) >= 13, step
        assert_same_site(root / "site", full_build_of(root, tmp_path, number), step)
    rows = explorer_rows(html(root / "site", "Inbox/index.html"))
    assert (0, "Cours d'analyse/") in rows and (1, "Limites et continuité") in rows
    assert not any("None" == text for _, text in rows)



def test_the_export_of_a_vault_writes_its_explorer_as_nav(vault_site: Path, tmp_path: Path) -> None:
    """`notes export` of a project without ``nav:``: the exported mkdocs.yml lists the explorer (folders as
    sections, each folder note first, every title as the site shows it), and plain MkDocs builds it with
    the same folders and pages in the same order as the hooked site's sidebar."""
    from tests.test_export import export

    root = tmp_path / "vault"
    write_vault(root)
    out = tmp_path / "export"
    export(root, out)
    nav = yaml.load((out / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.Loader)["nav"]

    def paths(items) -> list[str]:
        found = []
        for item in items:
            (title, value), = item.items()
            found += paths(value) if isinstance(value, list) else [value]
        return found

    listed = paths(nav)
    assert listed[0] == "index.md" and "Machine learning/Machine learning.md" in listed
    assert listed.index("Machine learning/Machine learning.md") < listed.index("Machine learning/Adam & friends.md")
    assert {"Première feuille": "Cours d'analyse/Exercices/Feuille 1.md"} in nav[2]["Cours d'analyse"][0]["Exercices"]
    plain = build_site(out / "mkdocs.yml")
    hooked_rows = [row for row in _unescaped(explorer_rows(html(vault_site, "index.html"))) if row != (1, "Machine learning")]
    plain_rows = [row for row in _unescaped(explorer_rows(html(plain, "index.html"))) if row != (1, "Machine learning")]
    assert plain_rows == hooked_rows


def test_a_page_whose_heading_differs_from_its_name_shows_its_name_above_and_in_search(vault_site: Path) -> None:
    """Obsidian shows a note's title (its file name) above its text, whose own first heading stays in the
    body: the page shows both, the name first, and the search index names the page by its name."""
    import json

    page = html(vault_site, "Cours d'analyse/Séance 2 — intégrales/index.html")
    h1s = [h.get_text(" ", strip=True).replace("¶", "").strip() for h in page.select("article h1")]
    assert h1s == ["Séance 2 — intégrales", "Intégrales"]
    assert page.select_one("article h1 + .kb-page-meta, article h1 + p.kb-page-meta") is not None  # the line under the title
    docs = json.loads((vault_site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    entry = next(d for d in docs if d["location"] == "Cours%20d%27analyse/S%C3%A9ance%202%20%E2%80%94%20int%C3%A9grales/")
    assert entry["title"] == "Séance 2 — intégrales"
    assert html(vault_site, "index.html").select("article h1.kb-title") == []  # the home page's heading is its title
