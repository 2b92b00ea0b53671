"""Wikilinks: finding them outside code, heading anchors as toc makes them, resolution and safe Markdown output."""
from __future__ import annotations

import markdown
import pytest
from bs4 import BeautifulSoup

from hooks.urls import relative_path
from hooks.kb.wikilinks import (
    AssetIndex,
    Linker,
    NameIndex,
    extract_headings,
    find_wikilinks,
    heading_key,
    name_key,
    parse_wikilink,
    render_resolution,
    rewrite_wikilinks,
)
from hooks.markdown import escape_markdown, plain_text


def render(text: str) -> BeautifulSoup:
    return BeautifulSoup(markdown.markdown(text, extensions=["toc", "attr_list", "fenced_code"]), "html.parser")


# --- parsing and finding ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "inner, target, heading, label",
    [
        ("Concept", "Concept", "", None),
        ("concept|shown text", "concept", "", "shown text"),
        ("page#Heading", "page", "Heading", None),
        ("#Heading in this page", "", "Heading in this page", None),
        ("page#Part#Sub part|see", "page", "Sub part", "see"),
        ("page\\|in a table", "page", "", "in a table"),
    ],
)
def test_parse_wikilink(inner, target, heading, label):
    link = parse_wikilink(inner)
    assert (link.target, link.heading, link.label) == (target, heading, label)


def test_display_text_follows_obsidian():
    assert parse_wikilink("page#Heading").display_text == "page › Heading"
    assert parse_wikilink("#Heading").display_text == "Heading"
    assert parse_wikilink("page|Shown").display_text == "Shown"


def test_wikilinks_in_code_are_left_alone():
    text = "\n".join([
        "A [[One]] and `[[not this]]` and ``a `[[nor this]]` b`` then [[Two]].",
        "```python",
        "x = '[[inside a fence]]'",
        "```",
        "~~~~",
        "```",
        "[[still fenced: a shorter fence of another kind does not close it]]",
        "~~~~",
        "- item",
        "    ```",
        "    [[fenced in a list]]",
        "    ```",
        "> [[Three]] in a quote",
    ])
    links = find_wikilinks(text)
    assert [link.target for link in links] == ["One", "Two", "Three"]
    assert [link.line for link in links] == [0, 0, 12]


def test_rewrite_keeps_lines_and_code():
    text = "a [[X]] `[[X]]`\n```\n[[X]]\n```\nb ![[f.png|20]]\n"
    out = rewrite_wikilinks(text, lambda link: f"<{link.target}{'!' if link.embed else ''}>")
    assert out == "a <X> `[[X]]`\n```\n[[X]]\n```\nb <f.png!>\n"


def test_labels_may_contain_single_brackets():
    (link,) = find_wikilinks("see [[Page|a [b] c]] now")
    assert (link.target, link.label) == ("Page", "a [b] c")


def test_plain_text():
    assert plain_text("**Bold** [[Page|shown]], [link](x.md), `[[code]]` and <b>tag</b> &amp; \\*") == "Bold shown, link, [[code]] and tag & *"


# --- names and headings ----------------------------------------------------------------------------

def test_name_key_treats_separators_alike():
    assert name_key("Deep_double-descent") == name_key("deep double  descent") == name_key("Deep-Double-Descent.md")


def test_heading_key_ignores_case_and_punctuation():
    assert heading_key("What's next?") == heading_key("whats NEXT") == "whats next"
    assert heading_key("Self-attention") == heading_key("self attention")


def test_heading_anchors_match_what_toc_renders():
    body = "\n".join([
        "# Title",
        "## Results",
        "## Results",
        "## Results {: #custom }",
        "## Results",
        "### What's *new* in `v2`?",
        "## Résumé & notes ##",
        "```",
        "## not a heading",
        "```",
        "## [[Page|Linked]] heading",
        "#NoSpace",
    ])
    headings = extract_headings(body)
    as_built = render(rewrite_wikilinks(body, lambda link: f"[{link.display_text}](page.md)"))  # as the hook does
    rendered = {h.get_text().strip(): h["id"] for h in as_built.find_all(["h1", "h2", "h3"])}
    ids_in_page = [h["id"] for h in as_built.find_all(["h1", "h2", "h3"])]
    assert headings.anchors[heading_key("Results")] == "results"  # the first of the repeated headings
    assert headings.anchors[heading_key("whats new in v2")] == rendered["What's new in v2?"]
    assert headings.anchors[heading_key("résumé: notes")] == "resume-notes" == rendered["Résumé & notes"]
    assert headings.anchors[heading_key("Linked heading")] == rendered["Linked heading"]
    assert heading_key("NoSpace") not in headings.anchors  # '#word' at a line's start is a tag, as in Obsidian
    assert "not a heading" not in headings.titles.get(heading_key("not a heading"), "")
    assert ids_in_page[:5] == ["title", "results", "results_1", "custom", "results_2"]


def test_repeated_headings_get_suffixes_like_toc():
    body = "## A\n\n## A\n\n## Other\n\n## A_1\n"
    anchors = [h["id"] for h in render(body).find_all("h2")]
    assert anchors == ["a", "a_1", "other", "a_2"]
    headings = extract_headings(body)
    assert headings.anchors == {"a": "a", "other": "other", "a 1": "a_2"}


# --- Markdown output -------------------------------------------------------------------------------

HOSTILE = '<script>alert(1)</script> *bold* _x_ [y](z) & "q" \'s `c` \\'


def test_escaped_text_renders_as_itself():
    soup = render(f"[{escape_markdown(HOSTILE)}](page.md)")
    link = soup.find("a")
    assert link.get_text() == HOSTILE
    assert soup.find("script") is None and soup.find("em") is None and soup.find("code") is None
    assert len(soup.find_all("a")) == 1


def test_escaped_alt_text_stays_an_attribute():
    soup = render(f"![{escape_markdown(HOSTILE, entities=False)}](f.png)")
    assert soup.find("img")["alt"].replace("\\", "") == HOSTILE.replace("\\", "")
    assert soup.find("script") is None


@pytest.mark.parametrize(
    "src, dst, expected",
    [
        ("notes/2024-01-23-a.md", "concepts/b.md", "../concepts/b.md"),
        ("index.md", "concepts/b.md", "concepts/b.md"),
        ("concepts/a.md", "concepts/b c.md", "b%20c.md"),
        ("notes/x.md", "img/f (1).png", "../img/f%20%281%29.png"),
    ],
)
def test_relative_path(src, dst, expected):
    assert relative_path(src, dst) == expected


# --- resolution ------------------------------------------------------------------------------------

@pytest.fixture
def linker() -> Linker:
    names, drafts = NameIndex(), NameIndex()
    pages = {
        "concepts/deep-double-descent.md": ["Deep double descent", "DDD"],
        "concepts/momentum.md": ["Momentum in SGD"],
        "notes/2024-01-23-momentum.md": ["Thinking about momentum"],
        "notes/2024-02-01-sgd.md": ["SGD notes"],
        "concepts/sgd.md": ["Stochastic gradient descent", "SGD"],
    }
    for uri, titles in pages.items():
        for title in titles:
            names.add_name(title, uri)
        names.add_file(uri, uri.rsplit("/", 1)[-1][11:-3] if uri.startswith("notes/") else None)
    drafts.add_name("Secret plans", "notes/2024-03-01-secret.md")
    bodies = {"concepts/deep-double-descent.md": "# Deep double descent\n\n## The second descent\n\n## Why?\n"}
    return Linker(
        names,
        headings=lambda uri: extract_headings(bodies.get(uri, "")),
        titles={uri: t[0] for uri, t in pages.items()},
        display={uri: "docs/" + uri for uri in pages},
        assets=AssetIndex(["img/figure.png", "a/plot.png", "b/plot.png"]),
        hidden=drafts,
        hidden_reasons={"notes/2024-03-01-secret.md": "is a draft, which is not published"},
    )


def resolve(linker: Linker, text: str, from_uri: str = "notes/2024-05-01-x.md"):
    (link,) = find_wikilinks(text)
    return linker.resolve(link, from_uri)


@pytest.mark.parametrize("text", ["[[Deep double descent]]", "[[ddd]]", "[[deep_double-descent]]", "[[concepts/deep-double-descent]]"])
def test_resolves_by_title_alias_and_file_name(linker, text):
    assert resolve(linker, text).target == "concepts/deep-double-descent.md"


def test_a_title_wins_over_a_file_name(linker):
    # "SGD" is an alias of the concept and the slug of a note: the alias decides.
    assert resolve(linker, "[[SGD]]").target == "concepts/sgd.md"
    assert resolve(linker, "[[2024-02-01-sgd]]").target == "notes/2024-02-01-sgd.md"


def test_ambiguous_wikilink_is_an_error_listing_candidates(linker):
    result = resolve(linker, "[[momentum]]")
    assert result.target is None and result.severity == "error"
    assert "docs/concepts/momentum.md" in result.message and "docs/notes/2024-01-23-momentum.md" in result.message


def test_unresolved_wikilink_is_a_warning_with_a_suggestion(linker):
    (link,) = find_wikilinks("[[Deep doubel descent]]")
    result = linker.resolve(link, "notes/x.md", suggest=True)
    assert result.severity == "warning" and result.target is None
    assert "did you mean [[deep double descent]]" in result.message


def test_link_to_a_draft_is_unresolved_and_says_why(linker):
    result = resolve(linker, "[[Secret plans]]")
    assert result.target is None and result.severity == "warning" and "draft" in result.message


def test_heading_links(linker):
    result = resolve(linker, "[[DDD#the SECOND descent]]")
    assert (result.target, result.anchor, result.severity) == ("concepts/deep-double-descent.md", "the-second-descent", None)
    assert resolve(linker, "[[DDD#why]]").anchor == "why"
    missing = resolve(linker, "[[DDD#third descent]]")
    assert missing.severity == "warning" and "has no heading 'third descent'" in missing.message
    assert missing.target == "concepts/deep-double-descent.md" and missing.anchor == ""


def test_same_page_heading(linker):
    result = resolve(linker, "[[#The second descent|below]]", from_uri="concepts/deep-double-descent.md")
    assert render_resolution(result, "concepts/deep-double-descent.md") == "[below](#the-second-descent)"


def test_rendered_page_link_is_relative_markdown(linker):
    result = resolve(linker, "[[ddd|double *descent*]]")
    assert render_resolution(result, "notes/2024-05-01-x.md") == "[double \\*descent\\*](../concepts/deep-double-descent.md)"


def test_image_embeds(linker):
    result = resolve(linker, "![[figure.png|200]]")
    assert render_resolution(result, "notes/x.md") == '![figure.png](../img/figure.png){ width="200" }'
    sized = resolve(linker, "![[Figure.PNG|200x100]]")
    assert render_resolution(sized, "notes/x.md").endswith('{ width="200" height="100" }')
    assert render_resolution(resolve(linker, "![[figure.png|A caption]]"), "index.md") == "![A caption](img/figure.png)"
    ambiguous = resolve(linker, "![[plot.png]]")
    assert ambiguous.severity == "error" and "docs/a/plot.png" in ambiguous.message
    assert resolve(linker, "![[b/plot.png]]").target == "b/plot.png"
    assert resolve(linker, "![[nowhere.png]]").severity == "warning"


def test_unresolved_link_renders_as_marked_text(linker):
    result = resolve(linker, "[[Nothing here|<b>x</b>]]")
    out = render_resolution(result, "notes/x.md")
    soup = render(out)
    assert soup.find("span", class_="kb-unresolved").get_text() == "<b>x</b>"
    assert soup.find("b") is None and soup.find("a") is None

