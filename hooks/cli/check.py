"""``notes check``: every problem the build would report, from the same plan (hooks.site.plan_site);
``--fidelity``: every page whose blocks differ from what Obsidian's reading view shows (hooks.kb.fidelity).
Given files or folders, only the problems in them are printed (the whole site is read all the same:
a page's links reach other pages)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Callable, Iterable

from hooks.problems import Problem, errors
from hooks.site import SitePlan, line_breaks_shown, markdown_setup, page_markdown, page_source, plan_site


def site_plan(root: Path) -> SitePlan:
    """The plan of the site in ``root`` (its mkdocs.yml), as the build and `notes check` make it."""
    from hooks.mkdocs_files import load_project

    project, files = load_project(root / "mkdocs.yml")
    return plan_site(project, files)


def check_project(root: Path) -> list[Problem]:
    """Every problem of the site in ``root`` (its mkdocs.yml), sorted by file and line."""
    return site_plan(root).problems


class SelectionError(ValueError):
    """A path given to `notes check` that is no file or folder of the project."""


def selection(root: Path, paths: Iterable[str], cwd: Path | None = None) -> Callable[[str], bool] | None:
    """Whether a path as problems name it (relative to the project root) lies in one of ``paths`` (files
    or folders, relative to ``cwd`` or else to the project root); None when no path is given."""
    cwd = cwd or Path.cwd()
    chosen: list[str] = []
    for text in paths:
        found = next((c for c in (cwd / text, root / text) if c.exists()), None)
        if found is None:
            raise SelectionError(f"'{text}' is no file or folder here or in the project ({root}); "
                                 "give pages or folders of the project, e.g. docs/notes")
        absolute = Path(os.path.abspath(found))
        inside = next((absolute.relative_to(base) for base in (root, root.resolve()) if absolute.is_relative_to(base)), None)
        if inside is None:
            raise SelectionError(f"'{text}' lies outside the project ({root}); give pages or folders inside it")
        chosen.append(inside.as_posix())
    if not chosen:
        return None
    if "." in chosen:
        return lambda path: True
    return lambda path: any(path == c or path.startswith(c + "/") for c in chosen)


def _as_json(problems: list[Problem]) -> str:
    return json.dumps([{"path": p.path, "line": p.line, "message": p.message, "severity": p.severity} for p in problems],
                      indent=2, ensure_ascii=False)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def site_markdown(plan: SitePlan, src_uri: str) -> tuple[str, int] | None:
    """The Markdown the site hands to Python-Markdown for a page of the knowledge base (front matter
    left out, wikilinks resolved, Obsidian's syntax settled), and the file line its first line is on."""
    from hooks.kb.sources import split_front_matter

    source = page_source(plan, src_uri)
    page = plan.kb.pages.get(src_uri)
    if source is None or page is None:
        return None
    _, body = split_front_matter(source)
    return page_markdown(plan, src_uri, body), page.body_line


def fidelity_problems(root: Path, keep: Callable[[str], bool] | None = None) -> tuple[list[Problem], int]:
    """A problem for each page of the site in ``root`` whose block structure differs from CommonMark's
    (Obsidian's reading view) with the file and line of the first block that differs; and the number of
    pages compared. The site's side is Python-Markdown with the site's extensions (as the build completes
    them) on the text the build hands it, callouts converted as the callouts plugin does. ``keep``: which
    pages to compare, by their path from the project root (default: all)."""
    import markdown

    from hooks.config import read_config
    from hooks.kb import fidelity
    from hooks.mkdocs_files import load_project

    project, files = load_project(root / "mkdocs.yml")
    plan = plan_site(project, files)
    raw = read_config(root / "mkdocs.yml")
    breaks = line_breaks_shown(project.docs_dir, raw.get("extra"), project.config_path)
    extensions, configs = list(project.markdown_extensions), {k: dict(v) for k, v in project.mdx_configs.items()}
    markdown_setup(extensions, configs, line_breaks=breaks)
    plugins = [next(iter(p)) if isinstance(p, dict) else str(p) for p in raw.get("plugins") or []]
    callouts = None
    if "callouts" in plugins:
        from mkdocs_callouts.utils import CalloutParser as callouts  # one parser a page, as the plugin makes it
    converter = markdown.Markdown(extensions=extensions, extension_configs=configs)
    problems, compared = [], 0
    for uri, page in sorted(plan.kb.pages.items()):
        if keep is not None and not keep(page.display_path):
            continue
        found = site_markdown(plan, uri)
        if found is None:
            continue
        text, first_line = found
        html = converter.reset().convert(callouts().parse(text) if callouts else text)
        compared += 1
        difference = fidelity.compare(html, text, line_breaks=breaks)
        if difference is not None:
            problems.append(Problem(page.display_path, first_line + difference.line - 1,
                                    f"shown unlike Obsidian's reading view: CommonMark reads {difference.oracle} here, "
                                    f"the site {difference.site}", "warning"))
    return problems, compared


def cmd_check(root: Path, *, fidelity: bool = False, paths: Iterable[str] = (), as_json: bool = False) -> int:
    """Print the problems (of the pages in ``paths`` when given), one line each or as a JSON list;
    1 when there is any, else 0; 2 when a path is no file or folder of the project."""
    try:
        keep = selection(root, paths)
    except SelectionError as exc:
        print(f"notes check: {exc}", file=sys.stderr)
        return 2
    if fidelity:
        problems, compared = fidelity_problems(root, keep)
        print(_as_json(problems) if as_json else "\n".join(map(str, problems)), end="\n" if as_json or problems else "")
        print(f"{compared} page(s) compared with Obsidian's reading view, {len(problems)} differ", file=sys.stderr)
        return 1 if problems else 0
    plan = site_plan(root)
    problems = [p for p in plan.problems if keep is None or keep(p.path)]
    pages = [f for f in plan.files if f.status != "excluded" and f.src_uri.endswith(".md") and (keep is None or keep(f.display_path))]
    print(_as_json(problems) if as_json else "\n".join(map(str, problems)), end="\n" if as_json or problems else "")
    if problems:  # no ': ' in this line, which is not a problem
        print(f"{len(problems)} problem(s), {len(errors(problems))} error(s)", file=sys.stderr)
        return 1
    print(f"notes check: {_count(len(pages), 'page')}, no problems", file=sys.stderr)
    return 0
