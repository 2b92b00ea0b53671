"""Every bad-input fixture gives one clear problem, from `check_site` and from a build; and `new_note` scaffolds."""
from __future__ import annotations

import datetime
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.generator import COMMAND, Abort

from hooks.cli.new import PLACEHOLDER, new_note, slugify_title
from tests.conftest import FIXTURES, TINY_DOCS, build_site, check_site, write_site

BAD = FIXTURES / "bad"
NOTE = "docs/notes/2024-05-01-{}.md"

# case (a folder of tests/fixtures/bad/, laid over the tiny site's docs/) -> (path, line, severity, part of the message)
EXPECTED = {
    "malformed-yaml": (NOTE.format("malformed-yaml"), 4, "error", "malformed YAML front matter"),
    "missing-date": (NOTE.format("missing-date"), 1, "error", "missing 'date' in front matter; add a line 'date: 2024-05-01'"),
    "impossible-date": (NOTE.format("impossible-date"), 3, "error", "date '2024-02-30' cannot be parsed"),
    "date-mismatch": (NOTE.format("date-mismatch"), 3, "error", "date 2024-05-02 disagrees with the file name (2024-05-01)"),
    "missing-title": (NOTE.format("missing-title"), 1, "error", "missing 'title' in front matter"),
    "misspelled-key": (NOTE.format("misspelled-key"), 2, "error", "unknown front matter key 'tittle'; did you mean 'title'?"),
    "duplicate-slug": ("docs/notes/2024-05-01-first-note.md", 0, "error", "two notes have the slug 'first-note': this one and docs/notes/2024-01-23-first-note.md"),
    "duplicate-alias": ("docs/concepts/deep-double-descent.md", 3, "error", "the alias 'DDD' is already the title or an alias of docs/concepts/ddd-again.md"),
    "unresolved-wikilink": (NOTE.format("unresolved-wikilink"), 8, "warning", "unresolved wikilink [[Batch normalisation]]"),
    "ambiguous-wikilink": ("docs/notes/2024-05-02-uses-momentum.md", 8, "error", "ambiguous wikilink [[momentum]]: it matches docs/concepts/momentum.md, docs/notes/2024-05-01-momentum.md"),
    "missing-heading": (NOTE.format("missing-heading"), 8, "warning", "wikilink [[Trainability#Why it fails]]: 'Trainability' has no heading 'Why it fails'"),
    "not-utf8": (NOTE.format("not-utf8"), 8, "error", "not valid UTF-8 (byte 0xe9)"),
    "empty-note": (NOTE.format("empty-note"), 0, "error", "empty note"),
    "undated-file-name": ("docs/notes/thoughts.md", 0, "error", "a note's file name must start with its date"),
}
WARNINGS = sorted(case for case, (_, _, severity, _) in EXPECTED.items() if severity == "warning")


def test_every_fixture_has_an_expectation():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED)


def site_with(case: str, root: Path) -> Path:
    config = write_site(root)
    shutil.copytree(BAD / case, root / "docs", dirs_exist_ok=True)
    return config


def where(case: str) -> str:
    path, line, _, _ = EXPECTED[case]
    return f"{path}:{line}" if line else path


def our_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "mkdocs.plugins.notes"]


def test_the_tiny_site_itself_is_clean(tmp_path):
    write_site(tmp_path)
    assert check_site(tmp_path) == []


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_check_reports_one_problem(case, tmp_path):
    site_with(case, tmp_path)
    problems = check_site(tmp_path)
    path, line, severity, text = EXPECTED[case]
    assert len(problems) == 1, problems
    (problem,) = problems
    assert (problem.path, problem.line, problem.severity) == (path, line, severity)
    assert str(problem).startswith(f"{where(case)}: ") and text in problem.message
    assert "\n" not in str(problem)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_notes_check_prints_the_problem(case, tmp_path, monkeypatch, capsys):
    from hooks.cli.main import main

    site_with(case, tmp_path)
    monkeypatch.chdir(tmp_path / "docs" / "notes")  # `notes check` finds mkdocs.yml above the current folder
    assert main(["check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith(f"{where(case)}: ") and EXPECTED[case][3] in out[0]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_build_fails_with_the_problem(case, tmp_path, caplog):
    config = site_with(case, tmp_path)
    caplog.set_level(logging.INFO)
    with pytest.raises(Abort):
        build_site(config, strict=True)
    assert our_records(caplog) == []  # not logged twice: the failure message carries it
    [failure] = [r.getMessage() for r in caplog.records if r.name == "mkdocs.commands.build"]
    header, line = failure.splitlines()
    assert header == "1 problem(s) in the notes:"
    assert line.startswith(f"{where(case)}: ") and EXPECTED[case][3] in line
    assert not (tmp_path / "site").exists()  # it stopped before writing anything


@pytest.mark.parametrize("case", WARNINGS)
def test_warnings_do_not_fail_a_build_that_is_not_strict(case, tmp_path, caplog):
    config = site_with(case, tmp_path)
    site = build_site(config, strict=False)
    assert (site / "index.html").exists()
    assert [r.levelname for r in our_records(caplog)] == ["WARNING"]


def test_a_failed_build_keeps_the_site_already_built(tmp_path):
    config = write_site(tmp_path)
    site = build_site(config)
    shutil.copytree(BAD / "missing-title", tmp_path / "docs", dirs_exist_ok=True)
    with pytest.raises(Abort):
        build_site(config)
    assert (site / "index.html").exists() and (site / "feed.xml").exists()


def test_command_line_build_prints_one_line_per_problem_and_no_traceback(tmp_path):
    config = site_with("misspelled-key", tmp_path)
    result = subprocess.run(
        [sys.executable, *COMMAND, "build", "--strict", "-f", str(config)],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problem = f"{where('misspelled-key')}: unknown front matter key 'tittle'; did you mean 'title'?"
    lines = result.stderr.splitlines()
    assert lines.count(problem) == 1, result.stderr  # one line, printed once
    assert any(line.startswith("ERROR") and "1 problem(s) in the notes:" in line for line in lines), result.stderr


def test_notes_check_does_not_load_the_site_hook(tmp_path):
    """The `notes` command lists files through hooks.mkdocs_files; the hook file (which keeps a serve
    session and is loaded by MkDocs by path) stays out of it."""
    write_site(tmp_path)
    code = ("import sys; from hooks.cli.main import main; status = main(['check']); "
            "assert not [m for m in sys.modules if 'mkdocs_site' in m], sorted(sys.modules); sys.exit(status)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert result.returncode == 0, result.stderr


# --- notes new -------------------------------------------------------------------------------------

def test_slugify_title():
    assert slugify_title("Résumé: Deep double descent!") == "resume-deep-double-descent"
    assert slugify_title("  SGD & Adam -- 2024  ") == "sgd-adam-2024"
    assert slugify_title("???") == "note"


def test_new_note_writes_a_note_that_passes_the_check(tmp_path):
    write_site(tmp_path)
    docs = tmp_path / "docs"
    path = new_note(docs, "Sharp minima: a second look", datetime.date(2024, 6, 1), tags=["theory"], concepts=["Trainability", "DDD"])
    assert path == docs / "notes" / "2024-06-01-sharp-minima-a-second-look.md"
    text = path.read_text(encoding="utf-8")
    assert "title: 'Sharp minima: a second look'" in text and "date: 2024-06-01" in text and "tags: [theory]" in text
    assert "\n# Sharp minima: a second look\n" in text and "Concepts: [[Trainability]], [[DDD]]" in text
    [placeholder] = check_site(tmp_path)  # the template's own sentence, until the writer replaces it
    assert str(placeholder) == ("docs/notes/2024-06-01-sharp-minima-a-second-look.md:11: the note still holds the placeholder "
                                "sentence of `notes new` ('Write what you learned here, ...'); replace it with the note's text")
    assert placeholder.severity == "warning"  # an error under --strict
    path.write_text(text.replace(PLACEHOLDER, "Flat minima generalise better, or so it is said."), encoding="utf-8")
    assert check_site(tmp_path) == []


def test_new_note_refuses_to_overwrite(tmp_path):
    first = new_note(tmp_path, "Same title", datetime.date(2024, 6, 1))
    first.write_text("my words", encoding="utf-8")
    with pytest.raises(FileExistsError):
        new_note(tmp_path, "Same title", datetime.date(2024, 6, 1))
    assert first.read_text(encoding="utf-8") == "my words"


def test_new_note_defaults_to_today_without_concepts(tmp_path):
    path = new_note(tmp_path, "Today")
    assert path.name.startswith(datetime.date.today().isoformat())
    assert "Concepts:" not in path.read_text(encoding="utf-8")


def test_the_notes_help_speaks_to_its_user() -> None:
    """`notes --help` and each command's help read as text for whoever runs them: no reST markup, no module paths."""
    import argparse

    from hooks.cli.main import build_parser

    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            texts += [sub.format_help() for sub in action.choices.values()]
    assert len(texts) == 8
    for text in texts:
        assert "``" not in text and "hooks." not in text, text
    for command in ("new", "today", "concept", "orphans", "check", "demos", "export"):
        assert command in texts[0]


@pytest.mark.parametrize("command", ["new", "today", "concept", "orphans", "check"])
def test_each_writing_command_has_its_own_help(command, capsys) -> None:
    """`notes COMMAND --help` prints its usage as plain text and exits 0, without touching a site."""
    from hooks.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: notes {command}") and "``" not in text and "hooks." not in text
