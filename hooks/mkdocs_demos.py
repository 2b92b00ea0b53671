"""MkDocs hook: run the demos that pages embed (through the cache) and put their figures on the pages.

Thin by design: every decision lives in hooks.directive, hooks.runner and hooks.demo_pages.
"""
from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files

from hooks.cache import CacheError, DemoCache
from hooks.demo_pages import RUNS_PAGE, published_files, render_figure, render_runs_page
from hooks.directive import FigureRef, SpecCache, collect_refs, directive_lines
from hooks.problems import errors
from hooks.runner import Result, Settings, counts, failure_summary, plan_jobs, run_jobs
from hooks.sources import read_sources

log = get_plugin_logger("demos")

# Reset at the start of every build: `mkdocs serve` keeps this module loaded between builds.
_state: dict = {}


def settings_from(config) -> Settings:
    extra = (config.extra or {}).get("demos", {}) or {}
    return Settings.from_extra(Path(config.config_file_path).parent, extra)


def on_pre_build(config) -> None:
    _state.clear()
    settings = settings_from(config)
    sources = read_sources(config.docs_dir, settings.project_root)
    specs = SpecCache(settings.demos_dir)
    refs, problems = collect_refs(sources, specs)
    jobs, spec_problems = plan_jobs(settings, refs, specs)
    problems += spec_problems
    if errors(problems) or (config.strict and problems):
        raise PluginError("demo figures cannot be built:\n" + "\n".join(str(p) for p in problems))
    for p in problems:
        log.warning(str(p))

    def report(r: Result) -> None:
        if r.status == "ran":
            log.info(f"demo {r.job.name} [{r.job.params_id}]: ran in {r.seconds:.1f} s")
        elif r.status == "failed":
            log.info(f"demo {r.job.name} [{r.job.params_id}]: failed after {r.seconds:.1f} s")
        else:
            log.debug(f"demo {r.job.name} [{r.job.params_id}]: cached")

    try:
        results = run_jobs(jobs, settings, DemoCache(settings.cache_dir), on_result=report)
    except CacheError as exc:
        raise PluginError(str(exc)) from None
    summary = failure_summary(results)
    if summary and config.strict:
        raise PluginError("demo runs failed (strict mode):\n" + "\n".join(summary))
    by_key = {(r.job.name, r.job.params_id): r for r in results}
    page_refs: dict[str, list[FigureRef]] = {}
    for ref in refs:
        page_refs.setdefault(ref.src_uri, []).append(ref)
    titles = {s.display_path: str(s.meta.get("title") or s.src_uri) for s in sources}
    src_uris = {s.display_path: s.src_uri for s in sources}
    _state.update(results=results, by_key=by_key, page_refs=page_refs, summary=summary, titles=titles, src_uris=src_uris)


def on_files(files: Files, config) -> Files:
    for dest, path in published_files(_state["results"]).items():
        files.append(File.generated(config, dest, abs_src_path=str(path)))
    content = render_runs_page(_state["results"], _state["titles"], _state["src_uris"])
    files.append(File.generated(config, RUNS_PAGE, content=content))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    refs = _state.get("page_refs", {}).get(page.file.src_uri)
    if not refs:
        return markdown
    lines = markdown.split("\n")
    found = list(directive_lines(markdown, 0))
    for (index, _match), ref in zip(found, refs):
        lines[index] = render_figure(ref, _state["by_key"].get((ref.demo, ref.params_id)))
    return "\n".join(lines)


def on_post_build(config) -> None:
    results = _state.get("results", [])
    c = counts(results)
    log.info(f"{c['ran']} ran, {c['cached']} reused from the cache, {c['failed']} failed")
    if _state.get("summary"):
        log.warning("demo runs failed; pages show the last good figures:\n" + "\n".join(_state["summary"]))
