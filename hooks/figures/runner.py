"""Serve every job of a build from the cache and hand the rest to one executor: the local process pool or Dask.

Both executors are one callable, :class:`Executor`: jobs in, results out, each result handed to a
callback as it comes. Neither imports this module; this module imports the Dask one only when
``executor: dask://...`` is configured, so a local build never imports Dask.
"""
from __future__ import annotations

from typing import Callable, Iterable, Protocol

from hooks.figures import execute_local
from hooks.figures.cache import DemoCache
from hooks.figures.model import Job, Result
from hooks.figures.numbers import run_data
from hooks.figures.plan import Settings, why_rerun
from hooks.figures.remote import RemoteCache, open_remote


class Executor(Protocol):
    """Run jobs the local cache could not serve; entries pulled from or pushed to ``remote`` when set."""

    def __call__(
        self,
        jobs: list[Job],
        settings: Settings,
        cache: DemoCache,
        remote: RemoteCache | None,
        force: bool,
        on_result: Callable[[Result], None] | None,
        say: Callable[[str], None] | None = None,
    ) -> list[Result]: ...


def executor_for(settings: Settings) -> Executor:
    """The executor ``settings.executor`` names (checked by Settings.from_extra): ``local`` or ``dask://HOST:PORT``."""
    if settings.executor.startswith("dask://"):
        from hooks.figures import execute_dask  # only when configured: it needs the 'distributed' package on a cluster

        return execute_dask.execute
    return execute_local.execute


def run_jobs(
    jobs: list[Job],
    settings: Settings,
    cache: DemoCache,
    force: bool = False,
    on_result: Callable[[Result], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> list[Result]:
    """Run every job (cached ones cost a lookup) with the executor of ``settings.executor``; entries
    come from and go to the remote cache when one is set.

    The cache folder is checked, created and cleaned only when something has to run, so a build
    whose every figure is cached works from a read-only cache. ``say`` gets a line before anything
    is waited for over the network (the remote cache, a Dask scheduler).
    """
    cache.check_ownership()
    results: list[Result] = []
    todo = []
    damaged: dict[int, list[str]] = {}  # a job's local entry was unusable: said with its result
    for job in jobs:
        entry, why = (None, "") if force else cache.lookup_or_why(job.name, job.key)
        if entry is not None:
            results.append(Result(job, "cached", entry=entry))
            if on_result:
                on_result(results[-1])
        else:
            todo.append(job)
            if why:
                damaged[id(job)] = [why]

    def handed(result: Result) -> None:
        result.remote_problems[:0] = damaged.pop(id(result.job), [])
        if on_result:
            on_result(result)

    if todo:
        remote = open_remote(settings.remote, settings.remote_options, settings.remote_readonly, settings.network_timeout)
        if remote is not None and say:
            say(f"looking up {len(todo)} run(s) in the remote cache {remote.url} "
                f"(giving up on it after {settings.network_timeout:g} s without an answer)")
        if any(job.runnable for job in todo) or remote is not None:
            cache.ensure_writable()
            cache.clean_tmp()
        # Longest first (by the last known run time) keeps both cores busy to the end.
        def last_seconds(job: Job) -> float:
            prev = cache.last_good(job.name, job.params_id)
            return -(prev.manifest.get("seconds", 0) if prev else 1e9)

        todo.sort(key=last_seconds)
        for job in todo:  # what changed since the run it replaces, and its numbers, for the new entry (the Demo runs page says both)
            replaced = cache.last_good(job.name, job.params_id, exclude_key=job.key)
            job.reran_because = why_rerun(replaced.manifest.get("key_material"), job.material) if replaced is not None else []
            data = run_data(replaced) if replaced is not None else None
            job.replaces = None if data is None else {
                "key": replaced.key, "finished_at": replaced.manifest.get("finished_at"), "data": data}
        results += executor_for(settings)(todo, settings, cache, remote, force, handed, say)
    order = {id(j): i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order[id(r.job)])


def failure_summary(results: Iterable[Result]) -> list[str]:
    """One line per failed run: demo, pages, error and the traceback's last lines."""
    lines = []
    for r in results:
        if r.status != "failed":
            continue
        pages = ", ".join(r.job.pages) or "no page (default run)"
        shown = "showing the last good figure" if r.stale else "no figure to show"
        detail = f" [{r.detail}]" if r.detail and r.detail != r.error else ""
        params = f" with {r.job.params_id}" if r.job.params_id != "default" else ""
        lines.append(f"demo '{r.job.name}'{params} failed (used by {pages}): {r.error}{detail}; {shown}")
    return lines


def counts(results: Iterable[Result]) -> dict[str, int]:
    out = {"ran": 0, "cached": 0, "pulled": 0, "failed": 0, "needs-gpu": 0, "running": 0}
    for r in results:
        out[r.status] += 1
    return out

