"""MkDocs hook: run the demos that pages embed (through the cache) and put their figures on the pages.

Thin by design: the site hook (listed before this one) has already read and checked every page and
planned every run (hooks.site); this hook runs the plan's jobs with hooks.figures.runner and writes
figures with hooks.figures.pages.
"""
from __future__ import annotations

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files

from hooks import site
from hooks.figures.cache import CacheError, DemoCache
from hooks.figures.remote import RemoteError
from hooks.figures.directive import directive_lines
from hooks.figures.pages import (RUNS_PAGE, PageLink, figure_id, published_files, relative_href, render_figure,
                                 render_runs_page, render_sweep)
from hooks.figures.runner import Result, counts, failure_summary, run_jobs
from hooks.markdown import escape_html

log = get_plugin_logger("demos")

# Reset at the start of every build: `mkdocs serve` keeps this module loaded between builds.
_state: dict = {}
_serving = {"serve": False}


def on_startup(command: str, dirty: bool) -> None:
    _serving["serve"] = command == "serve"


def on_pre_build(config) -> None:
    _state.clear()
    plan = site.current_plan(config.config_file_path)
    if plan is None or plan.project.demos is None:
        raise PluginError("hooks/mkdocs_demos.py needs hooks/mkdocs_site.py listed before it under 'hooks:' in mkdocs.yml")
    settings = plan.project.demos

    def report(r: Result) -> None:
        if r.status in ("ran", "failed"):
            log.info(f"demo {r.job.name} [{r.job.params_id}]: {r.status} in {r.seconds:.1f} s")
        else:
            log.debug(f"demo {r.job.name} [{r.job.params_id}]: {r.status}")
        for line in r.remote_problems:
            log.info(line)

    try:
        results = run_jobs(plan.jobs, settings, DemoCache(settings.cache_dir), on_result=report)
    except (CacheError, RemoteError, RuntimeError) as exc:
        raise PluginError(str(exc)) from None
    summary = failure_summary(results)
    if summary and config.strict and not _serving["serve"]:
        raise PluginError("demo runs failed (strict mode):\n" + "\n".join(summary))
    by_key = {(r.job.name, r.job.params_id): r for r in results}
    _state.update(plan=plan, results=results, by_key=by_key, summary=summary)
    plan.published = set(published_files(results))  # what galleries and previews may show
    plan.page_extras["figures"] = _figure_inputs


def _figure_inputs(src_uri: str) -> tuple:
    """What this hook shows on a page (its figures, or the runs table), as a comparable value."""
    by_key = _state["by_key"]
    if src_uri == RUNS_PAGE:
        return tuple((r.job.name, r.job.params_id, r.status, r.shown.key if r.shown else None, r.error, tuple(r.job.pages))
                     for r in _state["results"])
    out = []
    for raw, ref in _state["plan"].refs_on(src_uri).items():
        for _, _, params_id in ref.runs:
            r = by_key.get((ref.demo, params_id))
            out.append((raw, params_id, r.status if r else None, r.shown.key if r and r.shown else None, r.error if r else ""))
    return tuple(out)


def on_files(files: Files, config) -> Files:
    plan = _state["plan"]
    for dest, path in published_files(_state["results"]).items():
        files.append(File.generated(config, dest, abs_src_path=str(path)))
    pages = {p.display_path: PageLink(p.title, uri) for uri, p in plan.kb.pages.items()}
    content = render_runs_page(_state["results"], pages, relative_href(RUNS_PAGE, plan.project.use_directory_urls))
    files.append(File.generated(config, RUNS_PAGE, content=content))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    plan = _state.get("plan")
    if plan is None or "!demo[" not in markdown:
        return markdown
    refs = plan.refs_on(page.file.src_uri)
    href = relative_href(page.file.src_uri, plan.project.use_directory_urls)
    lines = markdown.split("\n")
    used: dict[str, int] = {}
    for index, line in directive_lines(markdown):
        ref = refs.get(line.strip())
        if ref is None:  # a directive with an error: the build stopped on it, or (serve) the page lists it
            html = f'<div class="kb-demo-missing" role="note"><p><strong>Figure unavailable:</strong> <code>{escape_html(line.strip())}</code> has a problem (see the list at the top of the page).</p></div>'
        else:
            ident = figure_id(ref.raw)
            used[ident] = used.get(ident, 0) + 1
            ident += f"-{used[ident]}" if used[ident] > 1 else ""  # the same line twice on a page
            by_key = _state["by_key"]
            if ref.variants:
                html = render_sweep(ref, [by_key.get((ref.demo, pid)) for _, _, pid in ref.runs], href, ident)
            else:
                html = render_figure(ref, by_key.get((ref.demo, ref.params_id)), href, ident)
        lines[index] = "\n" + html + "\n"
    return "\n".join(lines)


def on_post_build(config) -> None:
    results = _state.get("results", [])
    c = counts(results)
    message = f"{c['ran']} ran, {c['cached']} reused from the cache, {c['failed']} failed"
    if c["pulled"]:
        message += f", {c['pulled']} pulled from the remote cache"
    if c["needs-gpu"]:
        message += f", {c['needs-gpu']} need a GPU (notes demos NAME --device cuda on a GPU machine)"
    log.info(message)
    if _state.get("summary"):
        log.warning("demo runs failed; pages show the last good figures:\n" + "\n".join(_state["summary"]))
