"""``notes check``: every problem the build would report, from the same plan (hooks.site.plan_site);
``--fidelity``: every page whose blocks differ from what Obsidian's reading view shows (hooks.kb.fidelity)."""
from __future__ import annotations

import sys
from pathlib import Path

from hooks.problems import Problem, errors
from hooks.site import SitePlan, line_breaks_shown, markdown_setup, page_markdown, page_source, plan_site


def check_project(root: Path) -> list[Problem]:
    """Every problem of the site in ``root`` (its mkdocs.yml), sorted by file and line."""
    from hooks.mkdocs_files import load_project

    project, files = load_project(root / "mkdocs.yml")
    return plan_site(project, files).problems


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


def fidelity_problems(root: Path) -> tuple[list[Problem], int]:
    """A problem for each page of the site in ``root`` whose block structure differs from CommonMark's
    (Obsidian's reading view) with the file and line of the first block that differs; and the number of
    pages compared. The site's side is Python-Markdown with the site's extensions (as the build completes
    them) on the text the build hands it, callouts converted as the callouts plugin does."""
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


def cmd_check(root: Path, *, fidelity: bool = False) -> int:
    if fidelity:
        problems, compared = fidelity_problems(root)
        for p in problems:
            print(p)
        print(f"{compared} page(s) compared with Obsidian's reading view, {len(problems)} differ", file=sys.stderr)
        return 1 if problems else 0
    problems = check_project(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s), {len(errors(problems))} error(s)", file=sys.stderr)
    return 1 if problems else 0
