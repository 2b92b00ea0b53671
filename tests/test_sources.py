"""Reading sources and checking their front matter: line numbers, the schema, dates, excerpts."""
from __future__ import annotations

import datetime

import pytest

from hooks.kb.notes import check_page, excerpt, first_h1, kind_of
from hooks.kb.sources import parse_source, split_front_matter
from tests.conftest import plan_of, write_site


def page(src_uri: str, text: str | bytes):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return check_page(parse_source(src_uri, data, "docs/" + src_uri))


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


# --- hooks.sources ---------------------------------------------------------------------------------

def test_body_line_and_key_lines():
    src = parse_source("notes/a.md", b"\xef\xbb\xbf---\ntitle: A\ndate: 2024-01-23\n---\n\n# A\n")
    assert src.meta == {"title": "A", "date": datetime.date(2024, 1, 23)}
    assert src.meta_lines == {"title": 2, "date": 3}
    assert src.body_line == 5 and src.body.splitlines()[1] == "# A"


def test_not_utf8_names_the_line():
    src = parse_source("notes/a.md", b"---\ntitle: A\n---\n\ncaf\xe9\n", "docs/notes/a.md")
    assert messages(src.problems) == ["docs/notes/a.md:5: not valid UTF-8 (byte 0xe9); re-save the file as UTF-8"]


def test_malformed_yaml_points_at_the_open_construct():
    src = parse_source("notes/a.md", b'---\ntitle: A\ntags: [a, "b\n---\n', "docs/notes/a.md")
    (problem,) = src.problems
    assert problem.line == 3 and "malformed YAML front matter" in problem.message


def test_impossible_date_is_text_not_a_crash():
    src = parse_source("notes/a.md", b"---\ndate: 2024-02-30\n---\n")
    assert src.meta == {"date": "2024-02-30"} and src.problems == []


def test_unclosed_front_matter():
    src = parse_source("notes/a.md", b"---\ntitle: A\n")
    assert "never closed" in src.problems[0].message


def test_hidden_files_are_not_read(tmp_path):
    write_site(tmp_path, docs=None)
    (tmp_path / "docs" / ".obsidian").mkdir(parents=True)
    (tmp_path / "docs" / ".obsidian" / "x.md").write_text("x")
    (tmp_path / "docs" / "a.md").write_text("# A")
    assert sorted(p.display_path for p in plan_of(tmp_path).kb.pages.values()) == ["docs/a.md"]


# --- hooks.notes: the schema -----------------------------------------------------------------------

NOTE = "---\ntitle: A note\ndate: 2024-01-23\ntags: [x]\n---\n\n# A note\n\nText.\n"


def test_a_good_note():
    info, problems = page("notes/2024-01-23-a-note.md", NOTE)
    assert problems == []
    assert (info.kind, info.title, info.date, info.slug, info.tags) == ("note", "A note", datetime.date(2024, 1, 23), "a-note", ["x"])


@pytest.mark.parametrize(
    "key, meant",
    [("tittle", "title"), ("Title", "title"), ("dates", "date"), ("tag", "tags"), ("alias", "aliases"), ("drafts", "draft")],
)
def test_misspelled_keys_name_the_key_meant(key, meant):
    text = NOTE.replace("tags: [x]", f"{key}: whatever")
    _, problems = page("notes/2024-01-23-a-note.md", text)
    assert f"docs/notes/2024-01-23-a-note.md:4: unknown front matter key '{key}'; did you mean '{meant}'?" in messages(problems)


def test_unknown_keys_that_are_not_misspellings_are_allowed():
    _, problems = page("notes/2024-01-23-a-note.md", NOTE.replace("tags: [x]", "cssclasses: [wide]\npublish: true"))
    assert problems == []


@pytest.mark.parametrize(
    "date_line, message",
    [
        ("date: 2024-01-24", "3: date 2024-01-24 disagrees with the file name (2024-01-23)"),
        ("date: next tuesday", "3: date 'next tuesday' cannot be parsed; write it as YYYY-MM-DD"),
        ("date: 2024-02-30", "3: date '2024-02-30' cannot be parsed"),
        ("other: 1", "1: missing 'date' in front matter; add a line 'date: 2024-01-23'"),
    ],
)
def test_dates(date_line, message):
    _, problems = page("notes/2024-01-23-a-note.md", NOTE.replace("date: 2024-01-23", date_line))
    assert any(m.startswith(f"docs/notes/2024-01-23-a-note.md:{message}") for m in messages(problems)), problems


def test_quoted_date_and_datetime_are_accepted():
    for line in ('date: "2024-01-23"', "date: 2024-01-23 10:30:00"):
        info, problems = page("notes/2024-01-23-a-note.md", NOTE.replace("date: 2024-01-23", line))
        assert problems == [] and info.date == datetime.date(2024, 1, 23)


def test_missing_title_and_wrong_types():
    _, problems = page("notes/2024-01-23-a-note.md", "---\ndate: 2024-01-23\ntags: theory\ndraft: maybe\n---\n\nText.\n")
    assert messages(problems) == [
        "docs/notes/2024-01-23-a-note.md:1: missing 'title' in front matter; add a line 'title: ...' to this note",
        "docs/notes/2024-01-23-a-note.md:3: 'tags' must be a list, e.g. tags: [optimisation, theory]",
        "docs/notes/2024-01-23-a-note.md:4: 'draft' must be true or false",
    ]


def test_empty_notes():
    _, problems = page("notes/2024-01-23-a.md", b"")
    assert messages(problems) == ["docs/notes/2024-01-23-a.md: empty note; write its front matter and text, or delete the file"]
    _, problems = page("notes/2024-01-23-a.md", "---\ntitle: A\ndate: 2024-01-23\n---\n\n")
    assert messages(problems) == ["docs/notes/2024-01-23-a.md:5: empty note: it has front matter but no text; write something or delete the file"]


def test_concepts_need_a_title_but_no_date():
    info, problems = page("concepts/sgd.md", "---\ntitle: SGD\naliases: stochastic gradient descent\n---\n\n# SGD\n")
    assert problems == [] and info.kind == "concept" and info.aliases == ["stochastic gradient descent"]
    _, problems = page("concepts/sgd.md", "# SGD\n")
    assert "missing 'title'" in problems[0].message


def test_other_pages_take_their_title_from_the_file_name_as_obsidian_does():
    info, problems = page("Cours d'analyse/Séance 1.md", "# About *us*\n\nText.\n")
    assert problems == [] and info.kind == "page" and info.title == "Séance 1" and not info.titled and info.title_line == 0
    info, _ = page("about.md", "---\ntitle: About us\n---\n# Something else\n")
    assert info.title == "About us" and info.titled and info.title_line == 2


def test_an_index_page_takes_its_heading_then_its_folders_name():
    assert page("index.md", "Intro\n\n```\n# not this\n```\n\n# About *us*\n")[0].title == "About us"
    assert page("Cours/index.md", "No heading.\n")[0].title == "Cours"
    assert page("index.md", "No heading.\n")[0].title == "Home"


def test_undated_pages_without_front_matter_are_never_errors():
    for text in ("", "Just text.\n", "---\n---\n", "# Heading\n"):
        info, problems = page("Inbox/Loose thought.md", text)
        assert problems == [] and info.kind == "page" and info.date is None


@pytest.mark.parametrize("src_uri, text, date", [
    ("Journal/2024-05-01.md", "Text.\n", datetime.date(2024, 5, 1)),  # a date in the file name, in any folder
    ("Journal/2024-05-01 Lecture.md", "Text.\n", datetime.date(2024, 5, 1)),
    ("Lecture.md", "---\ndate: 2024-05-02\n---\nText.\n", datetime.date(2024, 5, 2)),
    ("Lecture.md", "---\ncreated: 2024-05-03T10:22\n---\nText.\n", datetime.date(2024, 5, 3)),
    ("2024-05-01 Lecture.md", "---\ndate: 2024-05-04\n---\n", datetime.date(2024, 5, 4)),  # the property first
    ("2024-05-01 Lecture.md", "---\ncreated: 2024-05-04\n---\n", datetime.date(2024, 5, 1)),  # then the name
])
def test_a_dated_page_anywhere_is_a_note(src_uri: str, text: str, date: datetime.date) -> None:
    info, problems = page(src_uri, text)
    assert problems == [] and info.kind == "note" and info.date == date
    assert info.slug == src_uri.rsplit("/", 1)[-1].removesuffix(".md")  # outside notes/ the name is kept whole


def test_an_unreadable_date_outside_notes_is_a_warning_and_the_page_stays_undated():
    info, problems = page("Lecture.md", "---\ndate: next week\n---\nText.\n")
    assert info.kind == "page" and [(p.line, p.severity) for p in problems] == [(2, "warning")]
    assert "date 'next week' cannot be parsed" in problems[0].message


def test_daily_notes_follow_the_vaults_folder_and_format():
    from hooks.kb.vault import Vault, format_pattern

    vault = Vault(daily_folder="Daily", daily_format="[Journal] DD.MM.YYYY")
    info, problems = check_page(parse_source("Daily/Journal 02.03.2024.md", b"Text.\n"), vault=vault)
    assert problems == [] and info.kind == "note" and info.date == datetime.date(2024, 3, 2)
    assert check_page(parse_source("Other/Journal 02.03.2024.md", b"Text.\n"), vault=vault)[0].kind == "page"
    assert Vault("Daily", "YYYY/MM/YYYY-MM-DD").daily_date("Daily/2024/03/2024-03-02.md") == datetime.date(2024, 3, 2)
    assert Vault("Daily", "YYYY/MM/YYYY-MM-DD").daily_date("Daily/2024/04/2024-03-02.md") is None  # the same month twice
    assert Vault("Daily", "YYYY/MM-DD").daily_date("Daily/2024/03-02.md") == datetime.date(2024, 3, 2)
    assert format_pattern("dddd, MMMM Do YYYY") is None  # names of days and months: not read back
    assert Vault("", "YYYY-MM-DD").daily_date("2024-02-30.md") is None


def test_publish_false_is_a_draft_and_cssclasses_are_read():
    info, problems = page("Private.md", "---\npublish: false\ncssclasses: [wide, cards]\ncssclass: dense\n---\nText.\n")
    assert problems == [] and info.draft and info.cssclasses == ["wide", "cards", "dense"]
    _, problems = page("Private.md", "---\npublish: no way\ncssclasses: ['a b>']\n---\nText.\n")
    assert [(p.line, p.severity) for p in problems] == [(2, "error"), (3, "warning")]


def test_kinds():
    assert [kind_of(u) for u in ("notes/2024-01-01-a.md", "notes/index.md", "concepts/a.md", "concepts/index.md", "index.md")] == [
        "note", "page", "concept", "page", "page",
    ]


def test_first_h1_skips_code():
    assert first_h1("```\n# no\n```\n## two\n# Yes\n") == ("Yes", 4)


# --- excerpts --------------------------------------------------------------------------------------

def test_excerpt_is_the_first_paragraph_as_plain_text():
    body = "\n".join([
        "# Title",
        "",
        "Concepts: [[A]], [[B]]",
        "",
        "<div>",
        "html block",
        "</div>",
        "",
        "```",
        "code",
        "```",
        "",
        "> [!note] A callout",
        "> inside",
        "",
        "The **first** real [[Page|paragraph]] with [a link](x.md)",
        "over two lines.",
        "",
        "Second paragraph.",
    ])
    assert excerpt(body) == "The first real paragraph with a link over two lines."


def test_excerpt_is_cut_at_a_word():
    text = excerpt("word " * 100, limit=50)
    assert text.endswith("…") and len(text) <= 51 and not text[:-1].endswith(" ")
    assert set(text[:-1].split()) == {"word"}


@pytest.mark.parametrize("text, front, rest", [
    ("---\ntitle: A\n---\nBody\n", "---\ntitle: A\n---\n", "Body\n"),
    ("---  \ntitle: A\n...\n\nBody", "---  \ntitle: A\n...\n", "\nBody"),  # '...' closes too; the rest keeps its lines
    ("---\n---\nText\n\n---\n\nMore\n", "---\n---\n", "Text\n\n---\n\nMore\n"),  # an empty block ends at the first '---'
    ("---\ntitle: A\nBody\n", "", "---\ntitle: A\nBody\n"),  # never closed: no front matter
    ("Body\n---\nx: 1\n---\n", "", "Body\n---\nx: 1\n---\n"),
])
def test_the_one_front_matter_splitter(text, front, rest):
    assert split_front_matter(text) == (front, rest)
    source = parse_source("page.md", text.encode())
    if front:
        assert (source.front, source.body_line) == (front, front.count("\n") + 1)
