"""Hostile demos and directives found when the site is planned: one line naming the file and line,
the same from `notes check`, `notes demos` and the build, before any demo runs."""
from __future__ import annotations

import pytest

from tests.hostile.conftest import Project, assert_agree, assert_one_line, build, fake_demo, notes

LIMITED = fake_demo(
    "A demo whose parameters have a range.",
    fields="n: int = 10  # samples\nsigma: float = 0.5  # noise\n",
    tail='LIMITS = {"n": (1, 10_000), "sigma": (0, None)}\n',
)


def agree(project: Project, expected: str) -> str:
    check, built = notes(project.root, "check"), build(project)
    assert check.rc == 1 and built.rc == 1, f"{check.text}\n---\n{built.text}"
    line = assert_one_line(check, expected)
    assert line == assert_one_line(built, expected)
    assert_agree(check, built)
    assert not (project.root / ".demos-cache").exists(), "a demo ran although the plan had an error"
    return line


@pytest.mark.parametrize(
    "tail, message",
    [
        ("TIMEOUT_S = None\n", "TIMEOUT_S must be a number of seconds between 1 and 86400, not None"),
        ("TIMEOUT_S = 'ten'\n", "TIMEOUT_S must be a number of seconds between 1 and 86400, not 'ten'"),
        ("TIMEOUT_S = -1\n", "TIMEOUT_S must be a number of seconds between 1 and 86400, not -1"),
        ("TIMEOUT_S = 60 * 2\n", "TIMEOUT_S must be a literal"),
        ("DEVICE = 'tpu'\n", "DEVICE must be one of 'cpu', 'any', 'cuda', not 'tpu'"),
        ("LIMITS = {'n': 5}\n", "LIMITS must be a dict {field: (low, high)} of numbers or None"),
        ("LIMITS = {'nope': (1, 2)}\n", "LIMITS names 'nope', which is not an int or float field of Config"),
    ],
)
def test_a_bad_module_setting_names_the_demo_and_its_line(project: Project, tail: str, message: str) -> None:
    path = project.demo("bad", fake_demo(fields="n: int = 1  # a number\n", tail=tail))
    line = project.line_of("demos/bad.py", tail.split(" =")[0] + " =")
    assert agree(project, f"demos/bad.py:{line}: ") == f"demos/bad.py:{line}: {message}"
    ran = notes(project.root, "demos", "bad")
    assert ran.rc == 2 and f"demos/bad.py:{line}: {message}" in ran.text and "Traceback" not in ran.text
    assert path.is_file()


def test_a_demo_with_a_syntax_error_that_no_page_uses(project: Project) -> None:
    project.demo("broken", fake_demo(body="    data = {'a': 1\n"))
    line = agree(project, "demos/broken.py:")
    assert line.startswith("demos/broken.py:2") and "syntax error" in line and "fix the demo's source" in line
    assert line.count("demos/broken.py") == 1


def test_a_page_using_a_broken_demo_names_the_page_and_the_demo_once_each(project: Project) -> None:
    project.demo("bad", fake_demo(tail="TIMEOUT_S = None\n"))
    line = project.line_of("demos/bad.py", "TIMEOUT_S")
    project.page("uses.md", "# Uses\n\n!demo[Bad](bad/main)\n")
    check = notes(project.root, "check")
    assert check.problems() == {
        f"demos/bad.py:{line}: TIMEOUT_S must be a number of seconds between 1 and 86400, not None",
        f"docs/uses.md:3: TIMEOUT_S must be a number of seconds between 1 and 86400, not None (demos/bad.py:{line})",
    }
    assert_agree(check, build(project))


@pytest.mark.parametrize(
    "query, message",
    [
        ("n=-5", "parameter 'n' of demo 'limited' must lie in [1, 10000] (LIMITS in demos/limited.py), not -5"),
        ("n=10000000", "parameter 'n' of demo 'limited' must lie in [1, 10000] (LIMITS in demos/limited.py), not 10000000"),
        ("sigma=-0.1", "parameter 'sigma' of demo 'limited' must lie in [0, ∞] (LIMITS in demos/limited.py), not -0.1"),
        ("n=lots", "parameter 'n' of demo 'limited' must be int, not 'lots'"),
        ("n=1e3", "parameter 'n' of demo 'limited' must be int, not '1e3'"),
        ("sigma=inf", "parameter 'sigma' of demo 'limited' must be float, not 'inf'"),
        ("trials=10", "demo 'limited' has no parameter 'trials' (known: seed, n, sigma)"),
        ("n=1&n=2", "parameter 'n' is given twice"),
        ("n", "the parameters 'n' are not key=value pairs joined with '&'"),
    ],
)
def test_a_bad_parameter_is_refused_at_plan_time_naming_page_and_line(project: Project, query: str, message: str) -> None:
    project.demo("limited", LIMITED)
    project.page("notes/2024-05-01-uses.md", f"""
        ---
        title: Uses
        date: 2024-05-01
        ---

        # Uses

        !demo[Too many](limited/main?{query})
        """)
    assert agree(project, "docs/notes/2024-05-01-uses.md:8: ") == f"docs/notes/2024-05-01-uses.md:8: {message}"
    assert not (project.root / ".demos-cache" / "entries" / "limited").exists(), "a run was made for a refused directive"


@pytest.mark.parametrize(
    "line, message",
    [
        ("!demo[x](../../etc/passwd)", "is not DEMO/FIGURE"),
        ("!demo[x](/etc/main)", "is not DEMO/FIGURE"),
        ("!demo[x](..%2F..%2Fetc/main)", "is not a demo name"),
        ("!demo[x](_helper/main)", "'_helper' is not a demo name"),
        ("!demo[x](ok/main?seed=1) trailing", "malformed"),
        ("!demo[x](ok main)", "is not DEMO/FIGURE"),
        ("!demo[x](ok/nope)", "demo 'ok' has no figure 'nope' (known: main)"),
    ],
)
def test_a_malformed_or_escaping_directive_is_one_line(project: Project, line: str, message: str) -> None:
    project.page("bad.md", f"# Bad\n\n{line}\n")
    assert message in agree(project, "docs/bad.md:3: ")


def test_a_draft_or_excluded_page_with_a_demo_is_not_planned_and_both_agree(project: Project) -> None:
    project.demo("limited", LIMITED)
    project.page("notes/2024-05-01-draft.md", """
        ---
        title: Secret draft
        date: 2024-05-01
        draft: true
        ---

        # Secret draft

        !demo[Draft figure](limited/main?n=7)
        """)
    project.page("hidden.md", "# Hidden\n\n!demo[Hidden figure](limited/main?n=8)\n")
    project.settings(exclude_docs="hidden.md\n")
    check, built = notes(project.root, "check"), build(project)
    assert check.rc == 0 and built.rc == 0, f"{check.text}\n---\n{built.text}"
    runs = (project.site / "demo-runs" / "index.html").read_text(encoding="utf-8")
    assert "Secret draft" not in runs and "n=7" not in runs and "n=8" not in runs and "hidden" not in runs.lower()
    entries = project.root / ".demos-cache" / "entries" / "limited"
    assert len(list(entries.iterdir())) == 1, "only the default run of the demo is made"
