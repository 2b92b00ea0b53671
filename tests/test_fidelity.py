"""Reading-view fidelity: the fixture vault, built by MkDocs with the site hook, has on every page the
blocks markdown-it (CommonMark, as Obsidian's reading view) finds in the same text; `notes check
--fidelity` names the file and line of a page that differs; the pieces (hooks.kb.commonmark_blocks,
hooks.kb.fidelity, the line-breaks setting) on their own."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import markdown
import pytest

from hooks.cli.check import site_markdown
from hooks.config import ConfigError
from hooks.kb import fidelity
from hooks.kb.commonmark_blocks import settle
from hooks.site import line_breaks_shown, markdown_setup
from tests.conftest import FIXTURES, build_site, plan_of, write_site

VAULT = FIXTURES / "vault"
STRICT = FIXTURES / "vault-strict"  # .obsidian/app.json with strictLineBreaks, and a page
EXTENSIONS = ["admonition", {"toc": {"permalink": True}}, "pymdownx.superfences", "pymdownx.details",
              "footnotes", "tables", "attr_list", "md_in_html"]
ARTICLE_RE = re.compile(r'<article class="md-content__inner md-typeset">(?P<content>.*?)</article>', re.S)
THEME_TITLE_RE = re.compile(r"\s*<h1>.*?</h1>", re.S)
GENERATED_HEADER_RE = re.compile(r'<p class="kb-page-meta">.*?</p>', re.S)
GENERATED_SECTIONS = '<h2 id="linked-from">'


def vault_site(root: Path, *, strict_vault: bool = False, **overrides) -> Path:
    config = write_site(root, VAULT, nav=None, markdown_extensions=EXTENSIONS, **overrides)
    if strict_vault:
        shutil.copytree(STRICT, root / "docs", dirs_exist_ok=True)
    return config


def page_html(site_dir: Path, src_uri: str, text: str) -> str:
    """The HTML the page's Markdown became: the theme's article, less the title the theme adds to a page
    without a `# ` heading of its own, and less what the build adds (fidelity.EXCLUSIONS: the line under
    the title, the sections from "Linked from" on)."""
    path = Path(src_uri).with_suffix("")
    path = site_dir / ("index.html" if path.name == "index" and path.parent == Path(".") else path / "index.html")
    content = ARTICLE_RE.search(path.read_text(encoding="utf-8")).group("content")
    if "<h1" not in fidelity.oracle_html(text):
        content = THEME_TITLE_RE.sub("", content, count=1)
    content = GENERATED_HEADER_RE.sub("", content, count=1)
    return content.split(GENERATED_SECTIONS, 1)[0]


def compare_built(root: Path, config: Path, line_breaks: bool) -> dict[str, fidelity.Difference | None]:
    site_dir = build_site(config)
    plan = plan_of(root)
    results = {}
    for uri in plan.kb.pages:
        text, _ = site_markdown(plan, uri)
        results[uri] = fidelity.compare(page_html(site_dir, uri, text), text, line_breaks=line_breaks)
    return results


def vault_pages(*folders: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for folder in folders for p in folder.rglob("*.md")}


def test_every_page_of_the_vault_has_obsidians_blocks(tmp_path: Path) -> None:
    config = vault_site(tmp_path)
    results = compare_built(tmp_path, config, line_breaks=True)
    assert set(results) == vault_pages(VAULT) and len(results) == 5
    assert {uri: d for uri, d in results.items() if d is not None} == {}
    html = (tmp_path / "site" / "Cours d'analyse" / "Séance 1" / "index.html").read_text(encoding="utf-8")
    assert "Remember<br />" in html  # line breaks shown, as Obsidian's default
    assert "<li>for every" in html and html.count("<ul>") >= 3  # a list under text, nested by two spaces


def test_a_vault_with_strict_line_breaks(tmp_path: Path) -> None:
    config = vault_site(tmp_path, strict_vault=True)
    results = compare_built(tmp_path, config, line_breaks=False)
    assert set(results) == vault_pages(VAULT, STRICT) and len(results) == 6
    assert {uri: d for uri, d in results.items() if d is not None} == {}
    html = (tmp_path / "site" / "Strict" / "index.html").read_text(encoding="utf-8")
    assert "<br" not in ARTICLE_RE.search(html).group("content")
    assert "<li>nested by two spaces</li>" in html


def test_mkdocs_yml_overrides_the_vaults_setting(tmp_path: Path) -> None:
    config = vault_site(tmp_path, strict_vault=True, extra={"notes": {"line_breaks": True}})
    results = compare_built(tmp_path, config, line_breaks=True)
    assert {uri: d for uri, d in results.items() if d is not None} == {}
    assert "these two lines<br" not in (tmp_path / "site" / "Strict" / "index.html").read_text(encoding="utf-8")
    assert "strict line breaks<br />" in (tmp_path / "site" / "Strict" / "index.html").read_text(encoding="utf-8")


def test_notes_check_fidelity_names_the_file_and_line_of_a_difference(tmp_path: Path, monkeypatch, capsys) -> None:
    from hooks.cli.main import main

    vault_site(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--fidelity"]) == 0
    assert "5 page(s) compared with Obsidian's reading view, 0 differ" in capsys.readouterr().err
    # Markdown inside an HTML block is a list in CommonMark, text in Python-Markdown: a difference the check must find
    (tmp_path / "docs" / "Cours d'analyse" / "Planted.md").write_text(
        "---\ntitle: Planted\n---\n<details>\n<summary>More</summary>\n\n- a hidden item\n\n</details>\n", encoding="utf-8")
    assert main(["check", "--fidelity"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "docs/Cours d'analyse/Planted.md:7: shown unlike Obsidian's reading view: "
        "CommonMark reads ul at depth 1 here, the site p[br=0] at depth 1"]
    assert "6 page(s) compared with Obsidian's reading view, 1 differ" in captured.err


# --- the pieces ------------------------------------------------------------------------------------

def site_html(text: str, *, line_breaks: bool = True) -> str:
    extensions, configs = ["admonition", "pymdownx.superfences", "footnotes", "tables"], {}
    markdown_setup(extensions, configs, line_breaks=line_breaks)
    return markdown.markdown(text, extensions=extensions, extension_configs=configs)


@pytest.mark.parametrize("text", [
    "Text\n- a\n- b\n",
    "> one quote\n\n> and another, a blank line apart\n\nText.\n\n> a third\n",
    "- a\n  - two spaces\n    - four\n- b\n",
    "- a\n\t- a tab\n\t\t- two tabs\n\t- b\n",
    "1. one\n   - three spaces under `1. `\n2. two\n",
    "- a\n  more text of a\n  - a list under it\n",
    "- a\n\n  a second paragraph\n- b\n",
    "Text\n| a | b |\n| --- | --- |\n| 1 | 2 |\n",
    "Text\n```\n- code\n```\nText under the fence\n",
    "> Text\n> - a\n>   - b\n",
    "one\ntwo\nthree\n",
    "In 2024\n2. is text\n",
    "a backslash\\\nbreaks the line\n",
    "- a\n- b\n# A heading ends the list\ntext\n",
    "- a\n\n```\na fence at the margin ends it too\n```\n",
    "- a bullet list\n\n1. and a numbered one are two lists\n",
    "Text[^1]\n\n[^1]: a footnote\n    - with a list\n    - under its first line\n",
    "Text\n-\n- an empty item does not interrupt a paragraph\n",
    "- a\n    \n    - nested after a blank line\n- b, back at the margin\n    \n    - nested\n",
    "- a\n\n    a second paragraph of a\n- b\n",
    "- a\n\t- a rate, displayed mid-line: $$\\frac{a}{b}$$\n\t- b\n",
    "Text $$x^2$$ and more text, $y$ inline\n",
    "Steps\n\n1) first\n2) second\n   - nested under `2) `\n3) third\n",
    "Steps:\n1) an ordered list written with `)` right under text\n",
    "In 2024\n2) is text\n",
])
def test_the_site_reads_these_blocks_as_commonmark(text: str) -> None:
    assert fidelity.compare(site_html(text), text) is None
    assert fidelity.compare(site_html(text, line_breaks=False), text, line_breaks=False) is None


@pytest.mark.parametrize("text, line", [
    ("Text\n- a\n- b\n", 2),
    ("Title\n\nSome text\n| a | b |\n| --- | --- |\n", 4),
    ("one\ntwo\n", 1),
    ("- a\n  - b\n", 2),
])
def test_without_the_extensions_the_comparison_finds_the_first_differing_block(text: str, line: int) -> None:
    plain = markdown.markdown(text, extensions=["tables"])  # Python-Markdown as the site had it
    difference = fidelity.compare(plain, text)
    assert difference is not None and difference.line == line


def test_a_formula_displayed_inside_text_is_a_math_block() -> None:
    # Obsidian (and markdown-it's double-dollar math) shows `$$...$$` inside a line as a display: without
    # the class that says the site's span is one, the comparison must see a block missing
    text = "- a\n\t- a rate $$\\frac{a}{b}$$\n"
    html = site_html(text)
    assert 'class="arithmatex kb-display-math"' in html
    assert fidelity.compare(html, text) is None
    difference = fidelity.compare(html.replace(" kb-display-math", ""), text)
    assert difference is not None and difference.line == 2 and difference.oracle == "math at depth 4"


def test_code_and_math_keep_their_lines() -> None:
    text = "Text\n```\n- a\n  - b\n| x | y |\n| - | - |\n```\n\n$$\n- a\n$$\n\n    - indented code\n"
    assert settle(text) == text.replace("Text\n```", "Text\n\n```")


def test_the_site_adds_on_purpose_what_the_tree_leaves_out() -> None:
    admonition = fidelity.block_tree('<div class="admonition note"><p class="admonition-title">T</p><p>x</p></div>')
    quote = fidelity.block_tree("<blockquote><p>x</p></blockquote>")
    assert admonition.outline() == quote.outline() == "blockquote\n  p[br=0]"
    tight = fidelity.block_tree("<ul><li>a<br>b<ul><li>c</li></ul></li></ul>")
    loose = fidelity.block_tree("<ul><li><p>a<br />b</p><ul><li><p>c</p></li></ul></li></ul>")
    assert tight.outline() == loose.outline() == "ul\n  li\n    p[br=1]\n    ul\n      li\n        p[br=0]"
    code = fidelity.block_tree('<div class="highlight"><pre><span></span><code>- a<br>\n</code></pre></div>')
    assert code.outline() == "pre"


def test_line_breaks_follow_the_vault_then_mkdocs_yml(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    assert line_breaks_shown(docs, {}, None) is True  # Obsidian's default
    (docs / ".obsidian").mkdir()
    (docs / ".obsidian" / "app.json").write_text(json.dumps({"strictLineBreaks": True}), encoding="utf-8")
    assert line_breaks_shown(docs, {}, None) is False
    assert line_breaks_shown(docs, {"notes": {"line_breaks": True}}, None) is True
    (docs / ".obsidian" / "app.json").write_text("{not json", encoding="utf-8")
    assert line_breaks_shown(docs, {}, None) is True  # settings Obsidian could not read either
    with pytest.raises(ConfigError, match="extra.notes.line_breaks must be true or false"):
        line_breaks_shown(docs, {"notes": {"line_breaks": "yes"}}, None)


def test_callouts_on_every_page_are_read_as_the_build_reads_them(tmp_path: Path, monkeypatch, capsys) -> None:
    """Each page's callouts are converted by a parser of its own, as the callouts plugin makes one a page:
    the parser keeps whether it is inside a code fence from one text to the next, so one parser for every
    page carried a page's unclosed fence into the next and left its callouts unconverted (a real vault of
    203 pages showed 56 differences that no build shows)."""
    from hooks.cli.main import main

    vault_site(tmp_path)
    (tmp_path / "docs" / "Alpha.md").write_text("Before.\n\n> [!INFO]\n> A fence left open:\n> ```bash\n> ls\n", encoding="utf-8")
    (tmp_path / "docs" / "Beta.md").write_text("Intro.\n\n> [!INFO]\n> #### Inside Beta\n> A line.\n\nAfter.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    main(["check", "--fidelity"])
    assert not [line for line in capsys.readouterr().out.splitlines() if "Beta.md" in line]


@pytest.mark.parametrize("text", [
    "* an item\n* the last item\n> [!INFO]\n> #### A callout right under a list\n>  * with a list of its own\n>  * of two items\n\nAfter.\n",
    "A paragraph\n> [!NOTE]\n> A callout right under it.\n\nAfter.\n",
])
def test_a_callout_right_under_a_list_or_a_paragraph_is_a_block_of_its_own(text: str) -> None:
    """A callout is a quote in the vault, and a quote interrupts a paragraph and ends a list in CommonMark;
    the callouts plugin makes it an admonition, which Python-Markdown took as more text of the item above."""
    from mkdocs_callouts.utils import CalloutParser

    assert fidelity.compare(site_html(CalloutParser().parse(text)), text) is None


def test_block_ids_after_a_quote_and_under_a_heading_keep_the_blocks(tmp_path: Path, monkeypatch, capsys) -> None:
    """A block id on its own line names the block above; its anchor must not change the blocks: after a
    quote it stands outside the quote (inside, it made a second quote), and a heading's goes into the
    heading's text (an element before it, after inline math holding '<', became a paragraph)."""
    from hooks.cli.main import main

    vault_site(tmp_path)
    (tmp_path / "docs" / "Ids.md").write_text(
        "> A quote on one line.\n\n^quote1\n\n> Another quote.\n\nText.\n\n"
        "* A set has $1<E<C/B$ lines.\n\n#### Line replacement\n^heading1\n\n* a list after it\n",
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    main(["check", "--fidelity"])
    assert not [line for line in capsys.readouterr().out.splitlines() if "Ids.md" in line]
    html = (build_site(tmp_path / "mkdocs.yml") / "Ids" / "index.html").read_text(encoding="utf-8")
    assert 'id="^quote1"' in html and 'id="^heading1"' in html  # the anchors are there, [[Ids#^quote1]] lands


def test_a_fence_left_open_in_a_callout_ends_with_the_callout(tmp_path: Path, monkeypatch, capsys) -> None:
    """CommonMark closes a fence opened in a block quote where the quote ends; the scanner read the rest of
    the page as code (its wikilinks unresolved, its headings not found) and the site showed the fence as
    text. A real vault had two such pages."""
    from hooks.cli.main import main
    from hooks.markdown import scan

    text = ("Intro.\n\n> [!INFO]\n> An id:\n> ```python\n> my_id = id(object)\n\n### After the callout\n"
            "See [[Séance 1]].\n")
    found = scan(text)
    assert found.kinds[7:9] == ["text", "text"] and [h.text for h in found.headings] == ["After the callout"]
    vault_site(tmp_path)
    (tmp_path / "docs" / "Open fence.md").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    main(["check", "--fidelity"])
    assert not [line for line in capsys.readouterr().out.splitlines() if "Open fence.md" in line]
    html = (build_site(tmp_path / "mkdocs.yml") / "Open fence" / "index.html").read_text(encoding="utf-8")
    assert "my_id" in html.split("<code>", 1)[1].split("</code>", 1)[0]  # in a code block
    assert 'href="../Cours%20d%27analyse/S%C3%A9ance%201/"' in html  # the wikilink after it resolved


def test_what_a_real_vault_writes_around_quotes_and_fences_is_read_as_commonmark(tmp_path: Path, monkeypatch, capsys) -> None:
    """Habits of a real vault that nobody wrote for the site: a callout type with a space (Obsidian takes
    any text up to the bracket), a line of text right under a callout without '>' (CommonMark's lazy
    continuation: the callouts plugin left it outside the callout), a quote right under a list item (it
    ends the list) followed by a list (it ends the quote; Python-Markdown took the list into the quote),
    a fence whose info string Python-Markdown cannot read ("```bash]": a paragraph instead of code), and
    a quote ending on an empty '> ' line (a <br> at the end of a paragraph, which shows nothing)."""
    from hooks.cli.main import main

    text = ("Intro.\n\n> [!FUN FACT]\n> The head flies on air.\n\n"
            "> [!INFO]\n> Each region is a PTE.\n> There are many regions:\nA lazy line of the callout.\n\n"
            "* Each address has two parts:\n>* the page number\n>* the offset\n* VPN 0 selects PTE 0.\n\n"
            "An example:\n\n```bash]\n> python3 tmp.py\n```\n\n"
            "> THE CRUX: A QUESTION\n> How can we build it?\n> \n\nAfter.\n")
    vault_site(tmp_path)
    (tmp_path / "docs" / "Habits.md").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    main(["check", "--fidelity"])
    assert not [line for line in capsys.readouterr().out.splitlines() if "Habits.md" in line]
    html = (build_site(tmp_path / "mkdocs.yml") / "Habits" / "index.html").read_text(encoding="utf-8")
    info = html.split('class="admonition info"', 1)[1].split("</div>", 1)[0]
    assert "A lazy line of the callout." in info  # inside the callout
    assert "tmp.py" in html.split("An example:", 1)[1].split("<pre>", 1)[1].split("</code>", 1)[0]  # code, not a paragraph
    quote = html.split("<blockquote>", 1)[1].split("</blockquote>", 1)[0]
    assert "the offset" in quote and "VPN 0" not in quote
