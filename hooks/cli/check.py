"""``notes check``: every problem the build would report, from the same plan (hooks.site.plan_site)."""
from __future__ import annotations

import sys
from pathlib import Path

from hooks.problems import Problem, errors
from hooks.site import plan_site


def check_project(root: Path) -> list[Problem]:
    """Every problem of the site in ``root`` (its mkdocs.yml), sorted by file and line."""
    from hooks.mkdocs_files import load_project

    project, files = load_project(root / "mkdocs.yml")
    return plan_site(project, files).problems


def cmd_check(root: Path) -> int:
    problems = check_project(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s), {len(errors(problems))} error(s)", file=sys.stderr)
    return 1 if problems else 0
