"""MkDocs hook: run the demos that pages embed (through the cache) and put their figures on the pages.

Thin by design: the site hook (listed before this one) has already read and checked every page and
planned every run (hooks.site); this hook runs the plan's jobs with hooks.figures.runner and hands
the results to the plan, which writes the figures (hooks.figures.pages) and, through the site hook,
publishes the demo outputs and the Demo runs page. ``notes export`` makes the same calls.

Under `mkdocs serve` (and ``extra.demos.serve_background``, on by default) the runs leave the build:
it shows what the cache has and hands the rest to the session's :class:`BackgroundRuns`, made in
on_startup; when a run ends, the marker it writes in a watched folder makes the server rebuild.
"""
from __future__ import annotations

from dataclasses import dataclass

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger

from hooks import site
from hooks.figures.background import BackgroundRuns
from hooks.figures.cache import CacheError, DemoCache
from hooks.figures.remote import RemoteError
from hooks.figures.model import Result
from hooks.figures.runner import counts, failure_summary, run_jobs
from hooks.problems import failing

log = get_plugin_logger("demos")


@dataclass
class _Runs:
    """This build's demo runs, attached to its config as ``config.kb_demo_runs`` (a new config each
    build, so nothing of one build is left for the next under `mkdocs serve`)."""

    plan: site.SitePlan
    results: list[Result]
    summary: list[str]


# The background runs of this process under `mkdocs serve` (None otherwise): made by on_startup,
# closed by on_shutdown, as the site hook's ServeSession (hook modules are loaded once per serve).
_background: BackgroundRuns | None = None


def background_runs() -> BackgroundRuns | None:
    """The runs started beside this serve session's builds (tests wait for them through it)."""
    return _background


def on_startup(command: str, dirty: bool) -> None:
    global _background
    if _background is not None:
        _background.close()
    _background = BackgroundRuns(say=log.info) if command == "serve" else None


def on_shutdown() -> None:
    global _background
    if _background is not None:
        _background.close()
    _background = None


def on_serve(server, config, builder):
    """Rebuild when a background run ends: it writes a marker into a folder of its own, watched here."""
    if _background is not None:
        server.watch(str(_background.watch_folder()))
        _background.remind()  # a run that ended during the first build, before the folder was watched
    return server


def on_pre_build(config) -> None:
    config.kb_demo_runs = None
    build = getattr(config, "kb_build", None)  # the site hook's build of this config (hooks/mkdocs_site.py)
    plan = build.plan if build is not None else None
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
        if _background is not None and build.serving and settings.serve_background:
            results = _background.results_now(plan.jobs, settings, DemoCache(settings.cache_dir), report)
        else:
            results = run_jobs(plan.jobs, settings, DemoCache(settings.cache_dir), on_result=report, say=log.info)
    except (CacheError, RemoteError, RuntimeError) as exc:
        raise PluginError(str(exc)) from None
    summary = failure_summary(results)
    if summary and config.strict and not build.serving:
        raise PluginError("demo runs failed (strict mode):\n" + "\n".join(summary))
    found = plan.show_runs(results)  # what the figures, numbers, galleries, previews and the Demo runs page show
    stopping = failing(found, config.strict)
    if stopping and not build.serving:
        raise PluginError(f"{len(stopping)} problem(s) with the numbers the pages take from runs:\n" + "\n".join(map(str, stopping)))
    for problem in found:
        (log.warning if problem.severity == "warning" or build.serving else log.error)(str(problem))
    config.kb_demo_runs = _Runs(plan, results, summary)


def on_page_markdown(markdown: str, page, config, files) -> str:
    runs = getattr(config, "kb_demo_runs", None)
    return markdown if runs is None else runs.plan.figures_markdown(page.file.src_uri, markdown)


def on_post_build(config) -> None:
    runs = getattr(config, "kb_demo_runs", None)
    results = runs.results if runs is not None else []
    c = counts(results)
    message = f"{c['ran']} ran, {c['cached']} reused from the cache, {c['failed']} failed"
    if c["running"]:
        message += f", {c['running']} running in the background (the page is built again when they end)"
    if c["pulled"]:
        message += f", {c['pulled']} pulled from the remote cache"
    if c["needs-gpu"]:
        message += f", {c['needs-gpu']} need a GPU (notes demos NAME --device cuda on a GPU machine)"
    build = getattr(config, "kb_build", None)
    if build is not None and build.serving and not (c["ran"] or c["failed"] or c["running"] or c["pulled"]):
        log.debug(message)  # a save that ran nothing says nothing about demos (the first build said what there is)
        return
    log.info(message)
    if runs is not None and runs.summary:
        log.warning("demo runs failed; pages show the last good figures:\n" + "\n".join(runs.summary))
