"""A small Obsidian vault (tests/fixtures/obsidian) built with --strict: math, private comments, highlights,
tasks, mermaid, inline tags, block references, transclusion, setext headings, indented code and callout
titles, checked in the HTML and, for math and diagrams, in Chromium with every request off 127.0.0.1 refused.

Obsidian syntax the site does not render, and broken embeds or block links, are one problem each
(tests/fixtures/obsidian-bad), from `notes check`, the CLI and the build alike.
"""
from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from mkdocs.exceptions import Abort, PluginError

from tests.conftest import FIXTURES, build_site, check_site, plan_of, serve_folder, QuietHandler, write_site

VAULT = FIXTURES / "obsidian" / "docs"
BAD = FIXTURES / "obsidian-bad"
NOTE = "notes/2024-06-01-gradients/index.html"
BASICS = "concepts/optimisation-basics/index.html"
THEME = {"name": "material", "font": False, "features": ["navigation.instant"], "palette": [
    {"media": "(prefers-color-scheme: light)", "scheme": "default"}, {"media": "(prefers-color-scheme: dark)", "scheme": "slate"}]}
SECRETS = ("PRIVATE-INLINE", "PRIVATE-BLOCK")
ALL_MATH_RENDERED = ("(() => { const all = document.querySelectorAll('article .arithmatex');"
                     " return all.length > 0 && document.querySelectorAll('article .arithmatex .katex').length === all.length; })()")


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The vault, built once with --strict; returns the site folder."""
    root = tmp_path_factory.mktemp("vault")
    config = write_site(root, VAULT, theme=THEME)
    return build_site(config, strict=True)


def page(site: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path).read_text(encoding="utf-8"), "html.parser")


def article(site: Path, path: str) -> BeautifulSoup:
    return page(site, path).find("article")


def test_the_vault_is_clean(tmp_path):
    write_site(tmp_path, VAULT)
    assert check_site(tmp_path) == []


def test_each_source_is_scanned_once(tmp_path, monkeypatch):
    """One reading of a source: planning the site scans each page's body once, whatever finds what in it
    (links, headings, tags, block ids, excerpts, embeds). Embedded sections are texts of their own."""
    import hooks.markdown

    calls: Counter[str] = Counter()
    real = hooks.markdown.scan

    def counting(text: str) -> hooks.markdown.Scan:
        calls[text] += 1
        return real(text)

    for name, module in list(sys.modules.items()):
        if (name == "hooks" or name.startswith("hooks.")) and getattr(module, "scan", None) is real:
            monkeypatch.setattr(module, "scan", counting)
    write_site(tmp_path, VAULT)
    plan = plan_of(tmp_path)
    bodies = {uri: parsed.source.body for uri, parsed in plan.kb.parsed.items()}
    assert len(bodies) >= 5 and plan.kb.expansions  # the vault embeds pages, so the transcluder reads bodies too
    assert {uri: calls[body] for uri, body in bodies.items()} == {uri: 1 for uri in bodies}


# --- math ------------------------------------------------------------------------------------------

def test_tex_reaches_the_page_untouched(vault):
    math = [m.get_text() for m in article(vault, NOTE).select(".arithmatex")]
    assert math[:7] == [
        r"$\nabla_\theta L$",
        r"$\theta \leftarrow \theta - \eta \nabla_\theta L$",
        r"$$\hat\beta = (X^\top X)^{-1}X^\top y$$",
        r"$\|x\|_2$",
        r"$a * b * c$",
        r"$\{x\}$",
        r"$w_{i,j}^{(t)}$",
    ]


def test_display_math_in_a_list_item(vault):
    item = article(vault, NOTE).select("li")[2]
    assert item.select_one(".arithmatex").get_text() == r"$$\sum_i w_i x_i$$"


def test_dollars_in_prose_and_code_stay(vault):
    body = article(vault, NOTE)
    assert "It costs $5 and $10 to print" in body.get_text()
    assert [c.get_text() for c in body.find_all("code") if "$" in c.get_text()][0] == "$not math$"


def test_display_math_in_a_callout(vault):
    callout = article(vault, NOTE).select_one(".admonition")
    assert callout.select_one("div.arithmatex").get_text().split() == ["$$", "v", "\\leftarrow", "\\mu", "v", "-", "\\eta", "g", "$$"]


def test_math_assets_are_served_by_the_site(vault):
    scripts = [s.get("src", "") for s in page(vault, NOTE).find_all("script")]
    assert "../../assets/kb/obsidian.js" in scripts
    assert not [s for s in scripts if s.startswith(("http:", "https:", "//"))]
    vendor = vault / "assets" / "vendor"
    assert (vendor / "katex" / "katex.min.js").is_file() and (vendor / "katex" / "katex.min.css").is_file()
    assert len(list((vendor / "katex" / "fonts").glob("*.woff2"))) == 20
    assert (vendor / "mermaid" / "mermaid.min.js").is_file()


# --- private comments ------------------------------------------------------------------------------

def test_private_comments_reach_nothing_in_the_site(vault):
    leaks = []
    for path in vault.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".xml", ".txt", ".md"):
            text = path.read_text(encoding="utf-8", errors="replace")
            leaks += [f"{path.relative_to(vault)}: {secret}" for secret in SECRETS if secret in text]
    assert leaks == []
    assert "The gradient" in (vault / "feed.xml").read_text(encoding="utf-8")  # the note is in the feed, its comments are not


# --- highlights, strikethrough, tasks, diagrams ---------------------------------------------------

def test_highlights_strikethrough_and_tasks(vault):
    body = article(vault, NOTE)
    assert body.find("mark").get_text() == "Highlighted idea"
    assert body.find("del").get_text() == "a wrong idea"
    assert [box.has_attr("checked") for box in body.select("li.task-list-item input[type=checkbox]")] == [False, True]


def test_mermaid_is_a_diagram_block(vault):
    diagram = article(vault, NOTE).select_one("pre.mermaid")
    assert diagram is not None and "A[Loss] --> B[Gradient]" in diagram.get_text()


# --- inline tags -----------------------------------------------------------------------------------

def test_inline_tags_link_to_the_tags_page(vault):
    body = article(vault, NOTE)
    tags = {a.get_text(): a["href"] for a in body.select("a.kb-inline-tag")}
    assert tags == {"#ml/optimisation": "../../tags/#tag-ml/optimisation", "#gradients": "../../tags/#tag-gradients",
                    "#ml/optimisation/momentum": "../../tags/#tag-ml/optimisation/momentum"}  # the last one in an embed
    assert "#123 is not a tag and not a heading." in body.get_text()
    assert [h.get_text(strip=True) for h in body.find_all("h1")] == ["Gradients in Obsidian¶"]


def test_inline_tags_join_front_matter_tags_on_the_tags_page(vault):
    tags = page(vault, "tags/index.html")
    listed = {h2["id"]: [a.get_text() for a in h2.find_next_sibling("ul").find_all("a")] for h2 in tags.select(".kb-tags-index h2")}
    assert listed["tag-optimisation"] == ["Gradients in Obsidian"]
    assert listed["tag-ml/optimisation"] == ["Gradients in Obsidian", "Optimisation basics"]  # #ML/Optimisation too
    assert listed["tag-ml/optimisation/momentum"] == ["Optimisation basics"]  # nested, kept whole
    assert "tag-123" not in listed and "tag-nottag" not in listed
    jumps = [a["href"] for a in tags.select(".kb-tag-jumps a")]  # a jump list before the long list, one link a tag
    assert jumps == [f"#{anchor}" for anchor in listed]


# --- block references, headings, code, callouts ----------------------------------------------------

def test_block_ids_are_anchors_and_their_markers_are_hidden(vault):
    body = article(vault, NOTE)
    anchor = body.find(id="^chain-rule")
    assert anchor is not None and anchor.parent.get_text() == "The key step is the chain rule."
    assert "^chain-rule" not in body.get_text().replace("See ^chain-rule", "")
    links = {a.get_text(): a["href"] for a in body.find_all("a") if a.get("href")}
    assert links["^chain-rule"] == "#^chain-rule"
    assert links["Optimisation basics › ^sgd-update"] == "../../concepts/optimisation-basics/#^sgd-update"
    assert article(vault, BASICS).find(id="^sgd-update") is not None


def test_setext_headings_indented_code_and_callout_titles(vault):
    body = article(vault, NOTE)
    links = {a.get_text(): a["href"] for a in body.find_all("a") if a.get("href")}
    assert links["Optimisation basics › Momentum"] == "../../concepts/optimisation-basics/#momentum"
    assert article(vault, BASICS).find("h2", id="momentum") is not None
    code = [pre.get_text() for pre in body.find_all("pre") if "Not a link" in pre.get_text()]
    assert code == ["[[Not a link]] and #nottag and $x$\n"]
    title = body.select_one(".admonition .admonition-title a")
    assert title["href"] == "../../concepts/optimisation-basics/"


def test_a_note_shows_its_date_and_reading_time(vault):
    meta = article(vault, NOTE).select_one("h1 + .kb-page-meta")
    assert meta.find("time")["datetime"] == "2024-06-01" and "1 min read" in meta.get_text()


# --- transclusion ----------------------------------------------------------------------------------

def test_transclusions_show_the_sections_with_links_resolved_here(vault):
    embeds = article(vault, NOTE).select(".kb-embed")
    assert len(embeds) == 3
    heading, block, whole = embeds
    assert heading.select_one(".kb-embed-source")["href"] == "../../concepts/optimisation-basics/#momentum"
    assert [h.name for h in heading.find_all(["h1", "h2", "h3", "h4"])] == ["h3"]  # under the note's h2
    hrefs = [a["href"] for a in heading.find_all("a") if "kb-embed-source" not in a.get("class", [])]
    assert "../../concepts/optimisation-basics/#learning-rate-schedules" in hrefs  # [[#...]] of the source
    assert "../../concepts/learning-rate/#warm-up" in hrefs
    assert "Learning rate schedules" not in heading.get_text(" ").split("see")[0]  # the section stops at its end
    assert block.select_one(".kb-embed-source")["href"] == "../../concepts/optimisation-basics/#^sgd-update"
    assert block.select_one(".arithmatex").get_text() == r"$\theta_{t+1} = \theta_t - \eta g_t$"
    assert "^sgd-update" not in block.get_text() and block.find(id="^sgd-update") is None
    assert [h.name for h in whole.find_all(["h1", "h2", "h3", "h4"])] == ["h3", "h4"]
    assert len(article(vault, NOTE).find_all("h1")) == 1


def test_embedded_headings_leave_the_page_its_own_ids(vault):
    ids = [h["id"] for h in article(vault, NOTE).find_all(["h2", "h3", "h4"]) if h.get("id")]
    assert ids[:5] == ["embedded", "embed-1-momentum", "embed-3-learning-rate", "embed-3-warm-up", "linked-from"]


# --- feed and search index -------------------------------------------------------------------------

def test_feed_and_search_index_get_readable_text(vault):
    feed = (vault / "feed.xml").read_text(encoding="utf-8")
    assert r"The gradient $\nabla_\theta L$ points uphill" in feed
    assert "arithmatex" not in feed and "kb-tag" not in feed
    index = json.loads((vault / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(doc["text"] for doc in index["docs"] if doc["location"].startswith("notes/2024-06-01-gradients/"))
    assert r"$\nabla_\theta L$ points uphill" in text and "It costs $5 and $10" in text  # the TeX as written
    assert "<span" not in text and "arithmatex" not in text


# --- in the browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vault_url(vault: Path):
    with serve_folder(QuietHandler, vault) as port:
        yield f"http://127.0.0.1:{port}/"


def test_math_renders_offline_in_chromium(offline, vault_url):
    offline.goto(vault_url + NOTE)
    offline.wait_for_function(ALL_MATH_RENDERED, timeout=15000)
    assert offline.locator("article .arithmatex").count() == 12
    assert offline.locator("article .katex-display").count() == 3
    assert offline.locator("article .katex-error").count() == 0
    visible = offline.inner_text("article")
    assert "$$" not in visible and "\\nabla" not in visible and "$\\" not in visible
    assert "It costs $5 and $10 to print" in visible
    assert offline.refused == []
    assert any(url.endswith("/assets/vendor/katex/katex.min.js") for url in offline.fetched)


def test_mermaid_renders_from_the_site_copy(offline, vault_url):
    offline.goto(vault_url + NOTE)
    offline.wait_for_selector("article div.mermaid svg", state="attached", timeout=20000)
    assert offline.locator("article div.mermaid svg").count() == 1
    assert "Gradient" in offline.locator("article div.mermaid svg").text_content()
    assert offline.refused == []
    assert any(url.endswith("/assets/vendor/mermaid/mermaid.min.js") for url in offline.fetched)


def test_math_and_diagrams_after_instant_navigation_and_nothing_loaded_without_them(offline, vault_url):
    offline.goto(vault_url + "tags/")
    offline.wait_for_load_state("networkidle")
    assert not [url for url in offline.fetched if "/assets/vendor/" in url]  # the tags page has no math or diagram
    offline.click("article .kb-tags-index a[href*='notes/'][href*='gradients']")
    offline.wait_for_function(ALL_MATH_RENDERED, timeout=15000)
    offline.wait_for_selector("article div.mermaid svg", state="attached", timeout=20000)
    assert offline.evaluate("performance.getEntriesByType('navigation').length") == 1  # no full reload
    assert offline.refused == []


@pytest.mark.parametrize("offline", ["dark"], indirect=True)
def test_math_follows_the_dark_palette(offline, vault_url):
    offline.goto(vault_url + NOTE)
    offline.wait_for_selector("article .arithmatex .katex", timeout=15000)
    colours = offline.evaluate("[getComputedStyle(document.querySelector('article .katex')).color,"
                               " getComputedStyle(document.querySelector('article p')).color]")
    assert colours[0] == colours[1]
    assert offline.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"


# --- what the site does not render, and broken references ------------------------------------------

# case (a folder of tests/fixtures/obsidian-bad, laid over the vault) -> (path, line, part of the message); all warnings
EXPECTED = {
    "unknown-block": ("docs/notes/2024-07-01-unknown-block.md", 8, "'Optimisation basics' has no block '^no-such-block'"),
    "self-embed": ("docs/notes/2024-07-01-mirror.md", 10, "![[Mirror]] embeds this page in itself"),
    "embed-cycle": ("docs/concepts/egg.md", 9, "![[Chicken]] closes a cycle of embeds (Chicken → Egg → Chicken)"),
    "inline-embed": ("docs/notes/2024-07-01-inline-embed.md", 8, "![[Learning rate]] inside a line of text is shown as a link"),
    "pdf-embed": ("docs/notes/2024-07-01-pdf-embed.md", 8, "embedding a PDF ([[adam-paper.pdf]]) is not supported".replace("[[", "![[")),
    "unclosed-math": ("docs/notes/2024-07-01-unclosed-math.md", 8, "display math opened here is never closed"),
}


def test_every_bad_case_has_an_expectation():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED)


def bad_site(case: str, root: Path) -> Path:
    config = write_site(root, VAULT)
    shutil.copytree(BAD / case, root / "docs", dirs_exist_ok=True)
    return config


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_case_is_one_warning_from_check_cli_and_build(case, tmp_path, monkeypatch, capsys):
    from hooks.cli.main import main

    config = bad_site(case, tmp_path)
    path, line, text = EXPECTED[case]
    problems = check_site(tmp_path)
    assert len(problems) == 1, problems
    (problem,) = problems
    assert (problem.path, problem.line, problem.severity) == (path, line, "warning")
    assert text in problem.message and "\n" not in str(problem)
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 1
    assert f"{path}:{line}: " in capsys.readouterr().out
    with pytest.raises((Abort, PluginError)):
        build_site(config, strict=True)
    build_site(config, strict=False)  # a warning: the build goes on, the embed or link shows as a link


def test_an_inline_footnote_is_a_footnote_numbered_with_the_others(tmp_path):
    """Obsidian's ``^[...]``: a footnote of the page, numbered in the order of the references, inline or
    not, its text (a wikilink, math) rendered as the page's; no warning."""
    config = write_site(tmp_path, VAULT)
    (tmp_path / "docs" / "notes" / "2024-07-01-inline-footnote.md").write_text(
        "---\ntitle: Inline footnote\ndate: 2024-07-01\n---\n\n# Inline footnote\n\n"
        "Adam is adaptive.^[Kingma and Ba, 2015, see [[Optimisation basics]]; $\\beta_1 = 0.9$.] "
        "It has a bias correction[^bias], and `^[in code]` stays.\n\n[^bias]: A regular footnote.\n",
        encoding="utf-8")
    assert check_site(tmp_path) == []
    note = article(build_site(config, strict=True), "notes/2024-07-01-inline-footnote/index.html")
    items = note.select("div.footnote li")
    assert [li.get_text(" ", strip=True)[:24] for li in items] == ["Kingma and Ba, 2015, see", "A regular footnote. ↩"[:24]]
    assert items[0].find("a", href="../../concepts/optimisation-basics/") is not None
    assert items[0].select(".arithmatex") and "^[Kingma" not in note.get_text()
    assert [a.get_text() for a in note.select("sup a.footnote-ref")] == ["1", "2"]
    assert note.find("code").get_text() == "^[in code]"


def test_a_cycle_of_embeds_renders_as_links(tmp_path):
    site = build_site(bad_site("embed-cycle", tmp_path), strict=False)
    egg = article(site, "concepts/egg/index.html")
    assert len(egg.select(".kb-embed")) == 1  # Chicken shown once, its embed of Egg a link
    assert [a.get_text() for a in egg.select(".kb-embed a")][-1] == "Egg"


# --- a transcluded section's figures ---------------------------------------------------------------

def test_a_transcluded_section_shows_its_demo_figure(tmp_path):
    root = tmp_path / "project"
    (root / "demos").mkdir(parents=True)
    for name in ("__init__.py", "_helper.py", "ok.py"):  # the one demo that succeeds (every demo gets a default run)
        shutil.copy(FIXTURES / "demo_project" / "demos" / name, root / "demos" / name)
    (root / "docs" / "concepts").mkdir(parents=True)
    (root / "docs" / "index.md").write_text("# Home\n\n![[Squares#The figure]]\n", encoding="utf-8")
    (root / "docs" / "concepts" / "squares.md").write_text(
        "---\ntitle: Squares\n---\n\n# Squares\n\n## The figure\n\n!demo[A square from the fixture demo](ok/main)\n\n## Other\n\nText.\n",
        encoding="utf-8")
    from tests.conftest import ROOT

    config = write_site(root, None, nav=None, hooks=[str(ROOT / "hooks" / "mkdocs_site.py"), str(ROOT / "hooks" / "mkdocs_demos.py")],
                        extra={"demos": {"cache_dir": ".cache/demos", "timeout": 60, "jobs": 1}})
    site = build_site(config, strict=True)
    home = page(site, "index.html")
    figures = home.select(".kb-embed figure.kb-demo")
    assert len(figures) == 1
    src = figures[0].find("img")["src"]
    assert src.startswith("demos/ok/main-light.svg") and (site / src.split("#")[0]).is_file()
