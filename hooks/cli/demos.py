"""``notes demos``: run demos through the same plan, cache and runner as the build; sync the remote cache."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from hooks.figures.cache import CacheError, DemoCache
from hooks.figures.model import Job, Result
from hooks.figures.plan import Settings
from hooks.figures.remote import RemoteCache, RemoteError, Transfer, open_remote
from hooks.figures.runner import counts, failure_summary, run_jobs
from hooks.figures.spec import DemoError
from hooks.problems import errors
from hooks.site import Session, plan_site

T = TypeVar("T")


def cmd_demos(
    root: Path,
    names: list[str],
    force: bool = False,
    jobs: int | None = None,
    device: str | None = None,
    pull: bool = False,
    push: bool = False,
) -> int:
    from hooks.mkdocs_files import load_project

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
    cache = DemoCache(settings.cache_dir)
    try:
        if pull or push:
            remote = open_remote(settings.remote, settings.remote_options, settings.remote_readonly)
            if remote is None:
                print("notes demos: --pull and --push need a remote cache: set extra.demos.remote or DEMOS_REMOTE", file=sys.stderr)
                return 2
            return _sync(plan.jobs, cache, remote, pull, push)
        todo = [j for j in plan.jobs if force or cache.lookup(j.name, j.key) is None]
        results = run_jobs(plan.jobs, settings, cache) if not todo else _run_with_progress(plan.jobs, settings, cache, force, len(todo))
    except (CacheError, RemoteError, RuntimeError) as exc:
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
            print(f"{r.status:7} {where} (key {r.job.key})")
        for line in r.remote_problems:
            print(line, file=sys.stderr)
    extra = "".join(f", {c[k]} {label}" for k, label in (("pulled", "pulled"), ("needs-gpu", "need a GPU")) if c[k])
    print(f"{len(results)} demo runs: {c['ran']} ran, {c['cached']} cached, {c['failed']} failed{extra}")
    summary = failure_summary(results)
    for line in summary:
        print(line, file=sys.stderr)
    return 1 if summary or errors(plan.problems) else 0


def _progress(items: list[T], description: str, step: Callable[[T], str]) -> None:
    """Run ``step`` on each item under a progress bar; ``step`` returns a line to print, or ''."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn()) as progress:
        task = progress.add_task(description, total=len(items))
        for item in items:
            line = step(item)
            if line:
                progress.console.print(line)
            progress.advance(task)


def _sync(jobs: Iterable[Job], cache: DemoCache, remote: RemoteCache, pull: bool, push: bool) -> int:
    """``--pull``: fetch every planned run missing here; ``--push``: upload every planned run the remote lacks."""
    jobs = list(jobs)
    total = Transfer()
    if pull:
        missing = [j for j in jobs if cache.lookup(j.name, j.key) is None]

        def fetch(job: Job) -> str:
            entry, moved = remote.pull(job.name, job.key, cache, job.spec.figures)
            total.add(moved)
            return "\n".join(moved.problems) or (f"pulled  {job.name} [{job.params_id}]" if entry else f"absent  {job.name} [{job.params_id}]")

        _progress(missing, f"pulling {len(missing)} run(s) from {remote.url}", fetch)
    if push:
        if remote.readonly:
            print("notes demos: DEMOS_REMOTE_READONLY is set, so nothing is pushed", file=sys.stderr)
            return 2
        local = [(j, e) for j in jobs if (e := cache.lookup(j.name, j.key)) is not None and not remote.has(j.name, j.key)]

        def send(item: tuple[Job, object]) -> str:
            job, entry = item
            moved = remote.push(entry)
            total.add(moved)
            return "\n".join(moved.problems) or f"pushed  {job.name} [{job.params_id}]"

        _progress(local, f"pushing {len(local)} run(s) to {remote.url}", send)
    print(f"{total.entries} entries, {total.files} files, {total.bytes / 1024:.0f} KiB moved")
    return 1 if total.problems else 0


def _run_with_progress(planned: list[Job], settings: Settings, cache: DemoCache, force: bool, n_todo: int) -> list[Result]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    where = settings.executor if settings.executor != "local" else f"{settings.workers} process(es)"
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task(f"running {n_todo} demo(s) on {where}", total=len(planned))

        def advance(r: Result) -> None:
            progress.advance(task)
            if r.status != "cached":
                progress.console.print(f"{r.status:7} {r.job.name} [{r.job.params_id}] {r.seconds:.1f} s")

        return run_jobs(planned, settings, cache, force=force, on_result=advance)
