"""``notes demos``: run demos through the same plan, cache and runner as the build."""
from __future__ import annotations

import sys
from pathlib import Path

from hooks.figures.cache import CacheError, DemoCache
from hooks.figures.runner import Result, counts, failure_summary, run_jobs
from hooks.figures.plan import Job, Settings
from hooks.figures.spec import DemoError
from hooks.problems import errors
from hooks.site import Session, plan_site


def cmd_demos(root: Path, names: list[str], force: bool = False, jobs: int | None = None, device: str | None = None) -> int:
    from hooks.mkdocs_site import load_project

    project, files = load_project(root / "mkdocs.yml", jobs=jobs, device=device)
    settings = project.demos
    if settings is None:
        print("notes demos: this site runs no demos (hooks/mkdocs_demos.py is not listed under 'hooks:' in mkdocs.yml)", file=sys.stderr)
        return 2
    session = Session(project.root, settings.demos_dir)
    for name in names:
        try:
            session.specs.get(name)
        except DemoError as exc:  # unknown name, a path, a broken module
            print(f"notes demos: {exc}", file=sys.stderr)
            return 2
    plan = plan_site(project, files, session=session, only=names or None)
    for p in plan.problems:
        print(p, file=sys.stderr)
    planned = plan.jobs
    cache = DemoCache(settings.cache_dir)
    todo = [j for j in planned if force or cache.lookup(j.name, j.key) is None]
    try:
        if not todo:
            results = run_jobs(planned, settings, cache)
        else:
            results = _run_with_progress(planned, settings, cache, force, len(todo))
    except CacheError as exc:
        print(f"notes demos: {exc}", file=sys.stderr)
        return 2
    c = counts(results)
    for r in results:
        where = f"{r.job.name} [{r.job.params_id}]"
        if r.status == "failed":
            print(f"FAILED  {where}: {r.error}")
        elif r.status == "needs-gpu":
            print(f"skipped {where}: {r.error}")
        elif r.status == "ran":
            print(f"ran     {where} in {r.seconds:.1f} s (key {r.job.key})")
        else:
            print(f"cached  {where} (key {r.job.key})")
    needs_gpu = f", {c['needs-gpu']} need a GPU" if c["needs-gpu"] else ""
    print(f"{len(results)} demo runs: {c['ran']} ran, {c['cached']} cached, {c['failed']} failed{needs_gpu}")
    summary = failure_summary(results)
    for line in summary:
        print(line, file=sys.stderr)
    return 1 if summary or errors(plan.problems) else 0


def _run_with_progress(planned: list[Job], settings: Settings, cache: DemoCache, force: bool, n_todo: int) -> list[Result]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task(f"running {n_todo} demo(s) on {settings.workers} process(es)", total=len(planned))

        def advance(r: Result) -> None:
            progress.advance(task)
            if r.status != "cached":
                progress.console.print(f"{r.status:7} {r.job.name} [{r.job.params_id}] {r.seconds:.1f} s")

        return run_jobs(planned, settings, cache, force=force, on_result=advance)
