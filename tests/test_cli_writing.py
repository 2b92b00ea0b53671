"""The `notes` commands a writer uses day to day: concept, today, new's concept warnings, orphans, and
check limited to some paths or printed as JSON. Each runs in-process on a copy of the tiny site."""
from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from hooks.cli.main import main
from hooks.kb.notes import CONCEPT_PLACEHOLDER, PLACEHOLDER
from tests.conftest import check_site, write_site


@dataclass
class Ran:
    rc: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


@pytest.fixture
def site(tmp_path: Path, monkeypatch, capsys):
    """A copy of the tiny site, and a function running `notes ARGS` in it (from ``cwd``, default its root)."""
    write_site(tmp_path)

    def run(*args: str, cwd: Path | None = None) -> Ran:
        monkeypatch.chdir(cwd or tmp_path)
        capsys.readouterr()
        rc = main(list(args))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return Ran(rc, captured.out, captured.err)

    run.root = tmp_path
    return run


def page(root: Path, path: str, text: str) -> Path:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def docs_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "docs").rglob("*")) if p.is_file()}


# --- notes check: paths, JSON, a quiet line on success ----------------------------------------------------

TWO_PROBLEMS = {
    "docs/notes/2024-05-01-a.md": "---\ntitle: A\ndate: 2024-05-01\n---\n\n# A\n\nSee [[Nowhere]].\n",
    "docs/concepts/b.md": "---\ntitle: B\ntittle: B\n---\n\n# B\n\nText.\n",
}
PROBLEM_A = "docs/notes/2024-05-01-a.md:8: unresolved wikilink [[Nowhere]]: no page has that title, alias or file name"
PROBLEM_B = "docs/concepts/b.md:3: unknown front matter key 'tittle'; did you mean 'title'?"


def test_check_prints_one_quiet_line_when_there_is_no_problem(site):
    ran = site("check")
    assert (ran.rc, ran.out, ran.err_lines) == (0, "", ["notes check: 9 pages, no problems"])


def test_check_prints_only_the_problems_of_the_paths_given(site):
    for path, text in TWO_PROBLEMS.items():
        page(site.root, path, text)
    everything = site("check")
    assert everything.rc == 1 and everything.out.splitlines() == [PROBLEM_B, PROBLEM_A]
    only_a = site("check", "docs/notes/2024-05-01-a.md")
    assert only_a.rc == 1 and only_a.out.splitlines() == [PROBLEM_A]
    from_below = site("check", "2024-05-01-a.md", "../concepts", cwd=site.root / "docs" / "notes")  # relative to here
    assert from_below.rc == 1 and from_below.out.splitlines() == [PROBLEM_B, PROBLEM_A]
    clean = site("check", "docs/notes/2024-01-23-first-note.md", "docs/index.md")
    assert (clean.rc, clean.out, clean.err_lines) == (0, "", ["notes check: 2 pages, no problems"])
    folder = site("check", "docs/notes")  # relative to the project, from its root
    assert folder.rc == 1 and folder.out.splitlines() == [PROBLEM_A]


def test_check_as_json(site):
    for path, text in TWO_PROBLEMS.items():
        page(site.root, path, text)
    ran = site("check", "--json")
    assert ran.rc == 1 and json.loads(ran.out) == [
        {"path": "docs/concepts/b.md", "line": 3, "message": "unknown front matter key 'tittle'; did you mean 'title'?",
         "severity": "error"},
        {"path": "docs/notes/2024-05-01-a.md", "line": 8, "severity": "warning",
         "message": "unresolved wikilink [[Nowhere]]: no page has that title, alias or file name"},
    ]
    clean = site("check", "--json", "docs/index.md")
    assert clean.rc == 0 and json.loads(clean.out) == []


def test_check_of_a_path_that_is_not_there_is_one_line(site):
    ran = site("check", "docs/nothere.md")
    assert ran.rc == 2 and ran.out == ""
    assert ran.err_lines == [f"notes check: 'docs/nothere.md' is no file or folder here or in the project ({site.root}); "
                             "give pages or folders of the project, e.g. docs/notes"]


def test_check_fidelity_of_some_paths(site):
    ran = site("check", "--fidelity", "docs/notes/2024-01-23-first-note.md")
    assert ran.rc == 0 and ran.out == ""
    assert "1 page(s) compared with Obsidian's reading view, 0 differ" in ran.err



# --- notes concept ----------------------------------------------------------------------------------

def test_concept_writes_a_page_whose_placeholder_the_check_warns_about(site):
    ran = site("concept", "Grokking", "--alias", "delayed generalisation", "--alias", "grokking late", "--tag", "dynamics")
    assert (ran.rc, ran.out, ran.err) == (0, "docs/concepts/grokking.md\n", "")
    path = site.root / "docs/concepts/grokking.md"
    assert path.read_text(encoding="utf-8") == (
        "---\ntitle: Grokking\naliases: [delayed generalisation, grokking late]\ntags: [concept, dynamics]\n---\n\n"
        f"# Grokking\n\n{CONCEPT_PLACEHOLDER}\n")
    [problem] = check_site(site.root)
    assert (problem.path, problem.line, problem.severity) == ("docs/concepts/grokking.md", 9, "warning")
    assert "placeholder sentence of `notes concept`" in problem.message and "\n" not in str(problem)
    path.write_text(path.read_text(encoding="utf-8").replace(CONCEPT_PLACEHOLDER, "Generalising long after fitting."),
                    encoding="utf-8")
    assert check_site(site.root) == []


def test_concept_without_options_is_tagged_concept_and_has_no_aliases(site):
    assert site("concept", "Weight decay").rc == 0
    text = (site.root / "docs/concepts/weight-decay.md").read_text(encoding="utf-8")
    assert "title: Weight decay\naliases: []\ntags: [concept]\n" in text and "\n# Weight decay\n" in text


@pytest.mark.parametrize("args, message", [
    (["trainability"], "notes concept: 'trainability' is already the title of docs/concepts/trainability.md; "
                       "link that page, or choose another name"),
    (["ddd"], "notes concept: 'ddd' is already an alias of docs/concepts/deep-double-descent.md ('Deep double descent'); "
              "link that page, or choose another name"),
    (["Trainability!"], "notes concept: 'Trainability!' (file name trainability.md) is already the title of "
                        "docs/concepts/trainability.md; link that page, or choose another name"),
    (["Priors", "--alias", "Inductive BIAS"], "notes concept: the alias 'Inductive BIAS' is already the title of "
                                              "docs/concepts/inductive-bias.md; link that page, or choose another name"),
    (["Latest note"], "notes concept: 'Latest note' is already an alias of docs/notes/2024-03-05-third-note.md "
                      "('Third note'); link that page, or choose another name"),
])
def test_concept_refuses_a_name_a_page_already_has(site, args, message):
    before = docs_files(site.root)
    ran = site("concept", *args)
    assert ran.rc == 1 and ran.out == "" and ran.err_lines == [message]
    assert docs_files(site.root) == before


def test_concept_refuses_the_name_of_a_draft_concept(site):
    page(site.root, "docs/concepts/lottery.md", "---\ntitle: Lottery tickets\ndraft: true\n---\n\n# Lottery tickets\n\nSoon.\n")
    ran = site("concept", "lottery TICKETS")
    assert ran.rc == 1 and ran.err_lines == ["notes concept: 'lottery TICKETS' is already the title of docs/concepts/lottery.md; "
                                             "link that page, or choose another name"]


def test_concept_never_overwrites_a_file(site):
    unreadable = site.root / "docs/concepts/grokking.md"
    unreadable.write_bytes(b"---\ntitle: caf\xe9\n---\n")  # not UTF-8: no page claims the name, the file is there
    ran = site("concept", "Grokking")
    assert ran.rc == 1 and ran.err_lines == ["notes concept: docs/concepts/grokking.md already exists; "
                                             "choose another name, or edit that page"]
    assert unreadable.read_bytes() == b"---\ntitle: caf\xe9\n---\n"


def test_concept_with_an_empty_name_is_one_line(site):
    ran = site("concept", "  ")
    assert ran.rc == 2 and len(ran.err_lines) == 1 and ran.err.startswith("notes concept: the name is empty")


# --- notes today -------------------------------------------------------------------------------------

def test_today_writes_the_daily_note_then_opens_it(site):
    today = datetime.date.today().isoformat()
    ran = site("today", "--tag", "daily")
    expected = f"docs/notes/{today}-notes-of-{today}.md"
    assert (ran.rc, ran.out, ran.err) == (0, expected + "\n", "")
    path = site.root / expected
    text = path.read_text(encoding="utf-8")
    assert f"title: Notes of {today}\ndate: {today}\ntags: [daily]\n" in text and f"\n# Notes of {today}\n" in text
    path.write_text(text.replace(PLACEHOLDER, "Read about grokking."), encoding="utf-8")
    assert check_site(site.root) == []
    before = docs_files(site.root)
    again = site("today", cwd=site.root / "docs")  # found from a folder below the project
    assert (again.rc, again.out, again.err) == (0, expected + "\n", "")
    assert docs_files(site.root) == before


def test_today_opens_a_note_of_today_written_by_notes_new(site):
    today = datetime.date.today()
    assert site("new", "Reading Adam", "--date", today.isoformat()).rc == 0
    before = docs_files(site.root)
    ran = site("today", "--tag", "daily", "--concept", "Trainability")
    assert ran.rc == 0 and ran.out == f"docs/notes/{today.isoformat()}-reading-adam.md\n"
    assert ran.err_lines == ["notes today: today's note exists, so nothing was written; add the tags and concepts to it yourself"]
    assert docs_files(site.root) == before


def test_today_takes_a_title(site):
    today = datetime.date.today().isoformat()
    ran = site("today", "--title", "Sharp minima", "--concept", "DDD")
    assert ran.rc == 0 and ran.out == f"docs/notes/{today}-sharp-minima.md\n" and ran.err == ""
    assert "Concepts: [[DDD]]" in (site.root / f"docs/notes/{today}-sharp-minima.md").read_text(encoding="utf-8")


# --- notes new / today --concept: a name no concept page has -------------------------------------------

@pytest.mark.parametrize("name", ["Trainability", "trainability", "ddd", "Double Descent", "inductive-bias", "deep_double_descent"])
def test_a_concept_found_as_wikilinks_find_it_is_not_warned_about(site, name):
    ran = site("new", "Fine", "--date", "2024-06-01", "--concept", name)
    assert (ran.rc, ran.out, ran.err) == (0, "docs/notes/2024-06-01-fine.md\n", "")


@pytest.mark.parametrize("name, warning", [
    ("Trainabilty", "no concept page is named 'Trainabilty'; did you mean 'Trainability'?"),
    ("inductive biases!", "no concept page is named 'inductive biases!'; did you mean 'Inductive bias'?"),
    ("double descend", "no concept page is named 'double descend'; did you mean 'Deep double descent'?"),
    ("Lottery tickets", "no concept page named 'Lottery tickets' exists yet; write it with notes concept \"Lottery tickets\" "
                        "(the link works once it exists)"),
    ("First note", "'First note' names docs/notes/2024-01-23-first-note.md, which is not a concept page"),
    ("Unfinished thoughts", "'Unfinished thoughts' names docs/notes/2024-04-01-unfinished.md; that page is a draft, "
                            "which is not published"),
])
def test_new_writes_the_note_and_warns_about_a_concept_without_a_page(site, name, warning):
    ran = site("new", "Odd links", "--date", "2024-06-01", "--concept", "DDD", "--concept", name)
    assert ran.rc == 0 and ran.out == "docs/notes/2024-06-01-odd-links.md\n"
    assert ran.err_lines == [f"notes new: warning: {warning}"]
    assert f"Concepts: [[DDD]], [[{name}]]" in (site.root / "docs/notes/2024-06-01-odd-links.md").read_text(encoding="utf-8")


def test_today_warns_about_a_concept_without_a_page_too(site):
    ran = site("today", "--concept", "Trainabilty")
    assert ran.rc == 0 and ran.err_lines == ["notes today: warning: no concept page is named 'Trainabilty'; did you mean 'Trainability'?"]


def test_new_refuses_to_overwrite_in_one_line(site):
    assert site("new", "Twice", "--date", "2024-06-01").rc == 0
    ran = site("new", "Twice", "--date", "2024-06-01", "--concept", "Nothing")
    assert ran.rc == 1 and ran.out == ""
    assert ran.err_lines == ["notes new: docs/notes/2024-06-01-twice.md already exists; pick another title or date"]



# --- notes orphans -------------------------------------------------------------------------------------

def orphan_site(root: Path) -> None:
    page(root, "docs/notes/2024-05-01-loose.md", "---\ntitle: Loose thoughts\ndate: 2024-05-01\n---\n\n# Loose thoughts\n\n"
         "After the [[Second note]], nothing; `[[Trainability]]` in code is no link.\n")
    page(root, "docs/notes/2024-05-02-by-alias.md", "---\ntitle: By alias\ndate: 2024-05-02\n---\n\n# By alias\n\nOnly [[ddd]].\n")
    page(root, "docs/concepts/lonely.md", "---\ntitle: Lonely\n---\n\n# Lonely\n\nIt links [[Zeta function]], nobody links it.\n")
    page(root, "docs/concepts/zeta.md", "---\ntitle: Zeta function\n---\n\n# Zeta function\n\nA concept links it, no note does.\n")
    page(root, "docs/concepts/drafty.md", "---\ntitle: Drafty\ndraft: true\n---\n\n# Drafty\n\nNot published.\n")


def test_orphans_lists_notes_without_concepts_and_concepts_without_notes(site):
    orphan_site(site.root)
    ran = site("orphans")
    assert (ran.rc, ran.err) == (0, "")
    assert ran.out.splitlines() == [
        "Notes that link no concept (1):",
        "docs/notes/2024-05-01-loose.md",
        "Concepts no note links (2):",
        "docs/concepts/lonely.md",
        "docs/concepts/zeta.md",
    ]


def test_orphans_as_json(site):
    orphan_site(site.root)
    ran = site("orphans", "--json")
    assert ran.rc == 0 and json.loads(ran.out) == {
        "notes_linking_no_concept": [{"path": "docs/notes/2024-05-01-loose.md", "title": "Loose thoughts"}],
        "concepts_no_note_links": [{"path": "docs/concepts/lonely.md", "title": "Lonely"},
                                   {"path": "docs/concepts/zeta.md", "title": "Zeta function"}],
    }


def test_orphans_of_a_site_where_everything_is_linked(site):
    ran = site("orphans")
    assert ran.rc == 0 and ran.out.splitlines() == ["Notes that link no concept (0):", "Concepts no note links (0):"]

