"""The `notes` commands a writer uses day to day: concept, today, new's concept warnings, orphans, and
check limited to some paths or printed as JSON. Each runs in-process on a copy of the tiny site."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from hooks.cli.main import main
from tests.conftest import write_site


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

