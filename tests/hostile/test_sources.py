"""Hostile files under docs/: deep YAML, a FIFO, links leaving the project, pages where the build
writes its own; each one line naming the file (and line), the same from `notes check` and the build."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hostile.conftest import Project, assert_agree, assert_one_line, build, cli, notes

NOTE = "notes/2024-05-01-hostile.md"
FRONT = "---\ntitle: Hostile\ndate: 2024-05-01\n{extra}---\n\n# Hostile\n\nSome text.\n"


def agree(project: Project, expected: str) -> str:
    """`notes check` exits 1, a strict build fails, both with the line that starts with ``expected``."""
    check, built = notes(project.root, "check"), build(project)
    assert check.rc == 1 and built.rc == 1, f"{check.text}\n---\n{built.text}"
    line = assert_one_line(check, expected)
    assert line == assert_one_line(built, expected)
    assert_agree(check, built)
    return line


def test_a_list_nested_400_deep_is_one_line_and_the_previous_site_stays(project: Project) -> None:
    assert build(project).rc == 0
    home = (project.site / "index.html").read_bytes()
    project.page(NOTE, FRONT.format(extra="tags: " + "[" * 400 + "]" * 400 + "\n"))
    line = agree(project, f"docs/{NOTE}:4: ")
    assert "'tags' in front matter is nested too deeply" in line
    assert (project.site / "index.html").read_bytes() == home, "the failed build touched the previous site"


BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}' if i else 'x'] * 10)}]\n" for i in range(9))


@pytest.mark.parametrize(
    "extra, message",
    [
        ("deep: " + "{a: " * 400 + "}" * 400 + "\n", "'deep' in front matter is nested too deeply"),
        ("deep:\n" + "".join("  " * i + "- \n" for i in range(1, 400)) + "  " * 400 + "- x\n", "'deep' in front matter is nested too deeply"),
        ("loop: &loop [*loop]\n", "'loop' in front matter refers to itself"),
        (BOMB, "'l4' in front matter expands to more than 100,000 values"),
    ],
    ids=["mapping", "block-list", "self-reference", "alias-bomb"],
)
def test_front_matter_that_would_recurse_or_explode_is_one_line(project: Project, extra: str, message: str) -> None:
    project.page(NOTE, FRONT.format(extra=extra))
    assert message in agree(project, f"docs/{NOTE}:")


def test_a_fifo_named_like_a_note_does_not_hang_check_or_build(project: Project) -> None:
    os.mkfifo(project.docs / "notes" / "2024-05-01-pipe.md")
    message = "docs/notes/2024-05-01-pipe.md: is not a regular file (a pipe, socket or device); remove it from docs/"
    check = cli(project.root, "notes", "check", timeout=60)  # a hang fails here instead of blocking the suite
    assert check.returncode == 1 and message in check.stdout.splitlines(), check.stdout + check.stderr
    built = cli(project.root, "mkdocs", "build", "--strict", timeout=60)
    assert built.returncode == 1 and message in built.stderr and "Traceback" not in built.stderr
    loose = cli(project.root, "mkdocs", "build", timeout=60)
    assert loose.returncode == 1 and message in loose.stderr


@pytest.mark.parametrize(
    "rel, target, message",
    [
        ("assets/leak.png", "/etc/passwd", "is a symbolic link that leaves the project (to /etc/passwd)"),
        ("notes/2024-05-01-leak.md", "/etc/passwd", "is a symbolic link that leaves the project (to /etc/passwd)"),
        ("notes/2024-05-01-gone.md", "2024-05-02-nowhere.md", "is a symbolic link to 2024-05-02-nowhere.md, which does not exist"),
    ],
)
def test_links_that_leave_the_project_or_lead_nowhere_are_refused(project: Project, rel: str, target: str, message: str) -> None:
    link = project.docs / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    assert message in agree(project, f"docs/{rel}: ")
    loose = build(project, strict=False)
    assert loose.rc == 1 and not (project.site / rel).exists()


def test_notes_under_a_folder_linked_from_outside_are_refused(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "2024-05-01-outside.md").write_text(FRONT.format(extra="").replace("Hostile", "Outside"))
    (project.docs / "notes" / "linked").symlink_to(outside, target_is_directory=True)
    line = agree(project, "docs/notes/linked/2024-05-01-outside.md: ")
    assert "lies in a folder linked from outside the project" in line


def test_links_inside_the_project_are_fine(project: Project) -> None:
    (project.docs / "img" / "same.png").symlink_to("figure.png")
    (project.root / "shared").mkdir()
    (project.root / "shared" / "2024-05-01-shared.md").write_text(FRONT.format(extra="").replace("Hostile", "Shared"))
    (project.docs / "notes" / "shared").symlink_to(project.root / "shared", target_is_directory=True)
    assert notes(project.root, "check").rc == 0
    assert build(project).rc == 0
    assert (project.site / "img" / "same.png").read_bytes() == (project.docs / "img" / "figure.png").read_bytes()
    assert (project.site / "notes" / "shared" / "2024-05-01-shared" / "index.html").is_file()


@pytest.mark.parametrize(
    "rel, what",
    [
        ("demo-runs.md", "the Demo runs page"),
        ("notes/index.md", "the notes archive"),
        ("concepts/index.md", "the concept index"),
        ("feed.xml", "the RSS feed"),
        ("demo-runs/index.md", "the Demo runs page"),
    ],
)
def test_a_page_where_the_build_writes_its_own_is_an_error_naming_both(project: Project, rel: str, what: str) -> None:
    project.page(rel, "---\ntitle: Mine\n---\n\n# My own page\n")
    line = agree(project, f"docs/{rel}: ")
    assert what in line and "rename or delete this file" in line


def test_a_file_where_the_demo_figures_are_published_is_an_error(project: Project) -> None:
    project.page("demos/ok/main-light.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert "docs/demos/ is where the build publishes demo figures" in agree(project, "docs/demos/ok/main-light.svg: ")


@pytest.mark.parametrize("title", ["   ", "", "\t"])
def test_notes_new_with_an_empty_title_is_one_line(project: Project, title: str) -> None:
    before = sorted((project.docs / "notes").iterdir())
    out = notes(project.root, "new", title)
    assert out.rc == 2 and "Traceback" not in out.text
    assert out.text.strip().splitlines() == ["notes new: the title is empty; give the note a title, e.g. notes new \"Reading the grokking paper\""]
    assert sorted((project.docs / "notes").iterdir()) == before


def test_notes_new_with_a_title_of_only_symbols_writes_a_note_that_passes(project: Project) -> None:
    out = notes(project.root, "new", "???", "--date", "2024-06-01")
    assert out.rc == 0, out.text
    note = project.docs / "notes" / "2024-06-01-note.md"
    assert note.is_file()
    from hooks.kb.notes import PLACEHOLDER

    note.write_text(note.read_text(encoding="utf-8").replace(PLACEHOLDER, "What I learned."), encoding="utf-8")  # as its writer does
    assert notes(project.root, "check").rc == 0
