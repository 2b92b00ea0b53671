"""Obsidian's syntax as pure functions: private comments, math as the scanner sees it, inline tags,
block ids, and what a page's Markdown must be told before Python-Markdown reads it."""
from __future__ import annotations

import markdown
import pytest
from bs4 import BeautifulSoup

from hooks.kb.obsidian import find_block_ids, find_tags, page_edits, unsupported
from hooks.markdown import Edit, apply_edits, plain_text, scan, strip_comments

EXTENSIONS = ["attr_list", "md_in_html", "tables", "toc", "pymdownx.arithmatex", "hooks.kb.display_math", "pymdownx.mark", "pymdownx.tilde",
              "pymdownx.tasklist", "pymdownx.superfences"]
CONFIGS = {"pymdownx.arithmatex": {"generic": True, "block_syntax": ["dollar", "square"], "tex_inline_wrap": ["$", "$"],
                                   "tex_block_wrap": ["$$", "$$"]}, "pymdownx.tilde": {"subscript": False}}


def render(text: str) -> BeautifulSoup:
    """``text`` as the site renders it: Obsidian's edits first, then Python-Markdown."""
    edits = page_edits(text, tag_href=lambda tag: f"tags.html#tag-{tag}")
    html = markdown.markdown(apply_edits(text, edits), extensions=EXTENSIONS, extension_configs=CONFIGS)
    return BeautifulSoup(html, "html.parser")


# --- private comments ------------------------------------------------------------------------------

def test_comments_are_removed_inline_and_over_lines_keeping_line_numbers():
    text = "a %%secret%% b\n%%\nhidden\nlines\n%%\nafter"
    assert strip_comments(text) == "a  b\n\n\n\n\nafter"


def test_a_fence_inside_a_comment_opens_nothing_and_comments_in_code_stay():
    text = "%%\n```\nhidden\n%%\n`%%kept%%` x\n```\n%%in code%%\n```\nend %%open\nrest"
    assert strip_comments(text) == "\n\n\n\n`%%kept%%` x\n```\n%%in code%%\n```\nend\n"


def test_comments_in_indented_code_stay():
    assert strip_comments("para\n\n    %%code%%\n") == "para\n\n    %%code%%\n"


# --- the scanner: math -----------------------------------------------------------------------------

def test_display_math_inside_a_callout_is_math():
    kinds = scan("> [!note]\n> $$\n> a_b [[Not a link]]\n> $$\nafter").kinds
    assert kinds == ["text", "math", "math", "math", "text"]


def test_unclosed_display_math_is_known():
    assert scan("text\n$$\nx\n").unclosed_math == 1
    assert scan("$$\nx\n$$").unclosed_math is None


def test_plain_text_keeps_math_and_code_as_written():
    assert plain_text(r"Grad $\nabla_\theta L$ and $x^*$ and $y^*$, `a*b*`, **bold** ==mark== ^abc") == \
        r"Grad $\nabla_\theta L$ and $x^*$ and $y^*$, a*b*, bold mark"


def test_plain_text_leaves_footnotes_out():
    """An excerpt (previews, the feed, search) reads the sentence without its notes: inline ones with
    their text, references by their label; ``^[`` in code or math, or never closed, stays."""
    assert plain_text("Adam is adaptive.^[Kingma and Ba, [2015](x.md); $b$.] It has a bias correction[^bias].") == \
        "Adam is adaptive. It has a bias correction."
    assert plain_text("`^[code]` and $x^[1]$ and ^[unclosed") == "^[code] and $x^[1]$ and ^[unclosed"


def test_apply_edits_across_lines():
    assert apply_edits("ab\ncd", [Edit(1, 1, 1, "+"), Edit(0, 0, 1, "A\nB")]) == "A\nBb\nc+d"


# --- inline tags -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "line, tags",
    [
        ("#ml/optimisation starts the line", ["ml/optimisation"]),
        ("nested #ml/optimisation/adam stays whole", ["ml/optimisation/adam"]),
        ("two #one and #two-2", ["one", "two-2"]),
        ("not #123 alone but #y1984", ["y1984"]),
        ("not in `#code` or $#math$", []),
        ("not a fragment http://x.org/page#frag or [l](#anchor) or a#b", []),
        ('not in HTML <span style="color: #fff">x</span>', []),
        ("not in [[Page#Heading]] or [[#Heading| #label]]", []),
        ("# A heading", []),
        ("a tag in a heading: ## Title #tag", ["tag"]),
        ("escaped \\#nottag", []),
        ("## A heading with an id { #my-id .wide }", []),
    ],
)
def test_inline_tags_follow_obsidian(line, tags):
    assert [t.name for t in find_tags(line)] == tags


def test_tags_in_code_blocks_are_not_tags():
    assert find_tags("```\n#incode\n```\n\n    #indented\n") == []


def test_inline_tags_become_links_and_a_hash_line_is_no_heading():
    soup = render("#ml/optimisation starts here\n\n#123 is not a tag\n\n- #listed item\n\n# Real heading")
    links = soup.select("a.kb-tag")
    assert [a.get_text() for a in links] == ["#ml/optimisation", "#listed"]
    assert links[0]["href"] == "tags.html#tag-ml/optimisation"
    assert [h.get_text() for h in soup.find_all(["h1", "h2"])] == ["Real heading"]
    assert "#123 is not a tag" in soup.get_text()


# --- block ids -------------------------------------------------------------------------------------

def test_block_ids_of_paragraphs_items_and_blocks_above():
    text = "A paragraph\nthat ends here ^para-1\n\n- item ^item-1\n  - child\n- other\n\n| a |\n|---|\n| 1 |\n\n^table-1\n\n`x ^no`\n"
    blocks = find_block_ids(text)
    assert list(blocks) == ["para-1", "item-1", "table-1"]
    assert (blocks["para-1"].start, blocks["para-1"].last) == (0, 1)
    assert (blocks["item-1"].start, blocks["item-1"].last) == (3, 4)  # with its child
    assert blocks["table-1"].standalone and (blocks["table-1"].start, blocks["table-1"].last) == (7, 9)


def test_block_ids_become_anchors_and_markers_disappear():
    soup = render("A paragraph ^para-1\n\n- [ ] task ^task-1\n- other\n\n| a |\n|---|\n| 1 |\n\n^table-1\n")
    assert "^" not in soup.get_text()
    assert soup.find(id="^para-1").parent.name == "p"
    assert soup.find(id="^task-1").find_parent("li") is not None
    assert soup.find(id="^task-1").find_parent("li").find("input")  # still a task
    assert soup.find(id="^table-1").find_next_sibling("table") is not None


# --- math through Python-Markdown ------------------------------------------------------------------

def test_tex_passes_through_untouched():
    soup = render("Inline $\\nabla_\\theta L$ and $a_i * b_i$ and $\\{x\\}$.\n\n$$\\hat\\beta = (X^\\top X)^{-1}X^\\top y$$\n\n"
                  "| norm |\n|---|\n| $\\|x\\|_2$ |\n")
    math = [m.get_text() for m in soup.select(".arithmatex")]
    assert math == ["$\\nabla_\\theta L$", "$a_i * b_i$", "$\\{x\\}$", "$$\\hat\\beta = (X^\\top X)^{-1}X^\\top y$$", "$\\|x\\|_2$"]


def test_dollars_in_prose_and_code_stay():
    soup = render("It costs $5 and $10, or $5-$10 net.\n\n`$x$` and\n\n```\n$y$\n```\n")
    assert not soup.select(".arithmatex")
    assert "It costs $5 and $10, or $5-$10 net." in soup.get_text()
    assert [c.get_text() for c in soup.find_all("code")] == ["$x$", "$y$\n"]


def test_display_math_right_under_text_and_in_a_quote_is_a_block():
    soup = render("Text above\n$$\na = b\n$$\ntext below\n\n> quoted\n> $$\n> c = d\n> $$\n")
    blocks = soup.select("div.arithmatex")
    assert [b.get_text().strip() for b in blocks] == ["$$\na = b\n$$", "$$\nc = d\n$$"]
    assert blocks[1].find_parent("blockquote") is not None


def test_two_blocks_of_display_math_one_under_the_other_are_two_blocks():
    """CommonMark ends a block of display math on its closing line: the next block, and a list right
    under it, are blocks of their own (the site made one paragraph of both formulas and the list)."""
    soup = render("* an item\n\n$$\\begin{equation}\na = b\n\\end{equation}$$\n$$c = d$$\n* a list right under the formulas\n"
                  "\n> $$e$$\n> $$f$$\n")
    blocks = soup.select("div.arithmatex")
    assert [b.get_text().strip() for b in blocks] == ["$$\\begin{equation}\na = b\n\\end{equation}$$", "$$c = d$$", "$$e$$", "$$f$$"]
    assert [li.get_text() for li in soup.select("ul > li")] == ["an item", "a list right under the formulas"]
    assert not soup.select("p .arithmatex")


def test_display_math_in_a_list_item_and_inside_a_sentence():
    soup = render("- item\n  $$\n  a = b \\\\ c < d\n  $$\n- next\n\nText $$x^2$$ more, and `$$code$$`.\n")
    math = [m.get_text() for m in soup.select(".arithmatex")]
    assert math == ["$$a = b \\\\ c < d$$", "$$x^2$$"]
    assert soup.select(".arithmatex")[0].find_parent("li") is not None
    assert soup.find("code").get_text() == "$$code$$"


def test_highlights_strikethrough_and_tasks():
    soup = render("==marked== and ~~struck~~ and ~not sub~\n\n- [ ] open\n- [x] done\n")
    assert soup.find("mark").get_text() == "marked"
    assert soup.find("del").get_text() == "struck"
    assert "~not sub~" in soup.get_text()
    assert [i.has_attr("checked") for i in soup.select("li.task-list-item input")] == [False, True]


# --- what the site does not render -----------------------------------------------------------------

def test_unsupported_syntax_is_named():
    found = unsupported("x ^[an inline note is supported]\n\n```dataview\nlist\n```\n\n```query\nx\n```\n\n$$\nopen")
    assert [line for line, _ in found] == [2, 6, 10]
    assert "dataview" in found[0][1] and "search" in found[1][1]
    assert "never closed" in found[2][1]


@pytest.mark.parametrize("text, expected", [
    ("A.^[One note.] B[^1].\n\n[^1]: Two.\n", "A.[^inline-1] B[^1].\n\n[^1]: Two.\n\n[^inline-1]: One note.\n"),
    ("^[a [link](x.md) and [b]] and ^[c]\n", "[^inline-1] and [^inline-2]\n\n[^inline-1]: a [link](x.md) and [b]\n[^inline-2]: c\n"),
    ("Taken: [^inline-1] ^[next]\n\n[^inline-1]: mine\n", "Taken: [^inline-1] [^inline-2]\n\n[^inline-1]: mine\n\n[^inline-2]: next\n"),
    ("`^[code]` and $x^[1]$ and \\^[escaped] and ^[unclosed\n", None),
    ("```\n^[in a fence]\n```\n", None),
])
def test_inline_footnotes_become_footnotes(text, expected):
    from hooks.kb.obsidian import inline_footnotes

    assert inline_footnotes(text) == (text if expected is None else expected)


# --- transclusion in the knowledge base ------------------------------------------------------------

def kb_of(*pages: tuple[str, str]):
    from hooks.kb.graph import build_knowledge_base
    from hooks.kb.sources import parse_source

    return build_knowledge_base([parse_source(uri, text.encode(), "docs/" + uri) for uri, text in pages])


def concept(slug: str, title: str, body: str) -> tuple[str, str]:
    return f"concepts/{slug}.md", f"---\ntitle: {title}\n---\n\n# {title}\n\n{body}\n"


def headings_of(markdown_text: str) -> list[tuple[int, str]]:
    return [(h.level, h.text) for h in scan(markdown_text).headings]


def test_nested_embeds_are_demoted_below_where_they_sit():
    kb = kb_of(
        concept("a", "A", "## Part\n\n![[B]]"),
        concept("b", "B", "Intro.\n\n![[C#Deep]]\n\n## B section"),
        concept("c", "C", "## Deep\n\nDeepest text with [[#Other]].\n\n## Other\n\nx"),
    )
    text = kb.body_of("concepts/a.md")
    assert [level for level, _ in headings_of(text)] == [1, 2, 3, 4, 4]  # A, Part, B (embedded), Deep, B section
    assert "Deepest text with [Other](c.md#other)" in text  # resolved where it was written, relative to A
    assert not kb.problems


def test_a_page_that_embeds_itself_or_a_cycle_is_a_problem_not_recursion():
    kb = kb_of(concept("a", "A", "![[A]]"), concept("x", "X", "![[Y]]"), concept("y", "Y", "![[X]]"))
    messages = sorted(p.message for p in kb.problems)
    assert len(messages) == 2
    assert "embeds this page in itself" in messages[0]
    assert "closes a cycle of embeds (X → Y → X)" in messages[1]
    assert "![[A]]" in kb.body_of("concepts/a.md")  # left as written: the page shows it as a link


def test_a_block_embed_shows_the_block_without_its_marker():
    kb = kb_of(concept("a", "A", "![[B#^key]]"), concept("b", "B", "Before.\n\n- the key point ^key\n  - its detail\n- another"))
    text = kb.body_of("concepts/a.md")
    content = text.split("{ .kb-embed-source }")[1]
    assert "- the key point\n  - its detail" in content and "another" not in content and "^key" not in content


# --- the syntax a page does not use is left out of its conversion ------------------------------------

DOCUMENTS = [
    "Plain text with a [link](x.md), *emphasis* and `code`.",
    "Inline $a_b^2$ and \\(x\\) and display\n\n$$\n\\sum_i x_i\n$$\n\nand \\[y\\] after.",
    "==marked== and ~~struck~~, a = b ~ c",
    "- [ ] task\n- [x] done with $$e^{i\\pi}$$ inside",
    '<div markdown>\nMath $x$ inside a block of HTML, ==and a mark==\n</div>',
    "A price of 5 dollars, a lone = sign and a tilde ~ only.",
    "```\n$not math$ in code\n```\n\nplain after",
    "Costs $5 and $6 (two dollars, no formula)",
    "> - [X] a task in a quote\n>     - [ ] and one nested under it",
    "A link [x](y.md) and [X] in brackets, no task.",
]


def test_leaving_out_unused_syntax_changes_no_output_over_a_sequence_of_documents():
    """One Markdown instance converting documents in turn (as a generator reusing it would) gives, for
    each, exactly what a fresh instance without the extension gives; and it does leave patterns out."""
    with_gate = markdown.Markdown(extensions=EXTENSIONS + ["hooks.kb.unused_syntax"], extension_configs=CONFIGS)
    left_out = set()
    for text in DOCUMENTS + DOCUMENTS[::-1]:
        expected = markdown.markdown(text, extensions=EXTENSIONS, extension_configs=CONFIGS)
        assert with_gate.reset().convert(text) == expected, text
        left_out |= {name for name in ("arithmatex-inline", "kb-display-math", "delimiter") if name not in with_gate.inlinePatterns}
        left_out |= {"task-list"} if "task-list" not in with_gate.treeprocessors else set()
        if "$" in text:
            assert "arithmatex-inline" in with_gate.inlinePatterns
        if "- [x]" in text:
            assert "task-list" in with_gate.treeprocessors
    assert left_out == {"arithmatex-inline", "kb-display-math", "delimiter", "task-list"}
