"""Demo runs beside the builds of `mkdocs serve`: a build shows what the cache has and starts the rest here.

MkDocs 1.6's live server answers no request while a build runs, so a demo that takes minutes (or
hangs until its timeout) must not run inside one. A serve build asks :meth:`BackgroundRuns.results_now`
for its jobs' results: an entry of the cache when there is one, else a ``running`` result (showing the
last good figure, if any) while the run goes on in a thread of this object. When a run ends a marker
file is written in :meth:`BackgroundRuns.watch_folder`, which the live server watches: the rebuild
finds the new entry in the cache.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

from hooks.figures.cache import DemoCache
from hooks.figures.model import Job, Result
from hooks.figures.plan import Settings
from hooks.figures.runner import run_jobs

Say = Callable[[str], None]


class BackgroundRuns:
    """The demo runs that serve builds started, each run (cache folder and key) at most once at a time.

    A run that ends without a cache entry (failed, needs a GPU) is remembered by its key: later builds
    show that result instead of running the same source with the same parameters again; a change
    of the demo or its parameters is a new key, which runs.
    """

    MARKER = "demo-runs-finished"

    def __init__(self, say: Say = print) -> None:
        self.say = say
        self._cond = threading.Condition()
        self._running: dict[tuple[str, str], Result] = {}  # (cache root, key) -> what builds show meanwhile
        self._ended: dict[tuple[str, str], Result] = {}  # runs that ended without an entry
        self._unseen = False  # a run ended since the latest build asked
        self._folder: Path | None = None
        self._finished = 0

    def watch_folder(self) -> Path:
        """A folder of its own where only the marker is written when a run ends (for ``server.watch``)."""
        with self._cond:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="kb-demo-runs-"))
            return self._folder

    def results_now(self, jobs: list[Job], settings: Settings, cache: DemoCache,
                    report: Callable[[Result], None] | None = None) -> list[Result]:
        """Each job's result without waiting: cached, the remembered end of a run, or ``running``
        (the jobs not yet running are started in the background; ``report`` gets their results)."""
        cache.check_ownership()
        results: list[Result] = []
        start: list[Job] = []
        with self._cond:
            self._unseen = False
            for job in jobs:
                key = (str(cache.root), job.key)
                entry = cache.lookup(job.name, job.key)
                if entry is not None:
                    results.append(Result(job, "cached", entry=entry))
                    continue
                shown = self._ended.get(key) or self._running.get(key)
                if shown is None:
                    shown = self._running[key] = Result(job, "running")
                    start.append(job)
                # the last good figure as of now, as a run in this build would find it (hooks.figures.execute_local)
                stale = cache.last_good(job.name, job.params_id, exclude_key=job.key) if shown.status != "needs-gpu" else shown.stale
                results.append(dataclasses.replace(shown, job=job, stale=stale))
        if start:
            thread = threading.Thread(target=self._run, args=(start, settings, cache, report), daemon=True,
                                      name=f"demo runs ({len(start)})")
            thread.start()
        return results

    def _run(self, jobs: list[Job], settings: Settings, cache: DemoCache, report: Callable[[Result], None] | None) -> None:
        for job in jobs:
            self.say(f"demo {job.name} [{job.params_id}]: running in the background (pages show it as running until it ends)")

        def ended(result: Result) -> None:
            if report is not None:  # said before the run counts as over, so whoever waits for it has read the line
                report(result)
            with self._cond:
                key = (str(cache.root), result.job.key)
                self._running.pop(key, None)
                if result.status not in ("ran", "pulled", "cached"):
                    self._ended[key] = result
                self._unseen = True
                self._cond.notify_all()
            self._mark()

        try:
            run_jobs(jobs, settings, cache, on_result=ended)
        except Exception as exc:  # noqa: BLE001 -- a thread has nobody to raise to: the pages say it instead
            for job in jobs:
                with self._cond:
                    if (str(cache.root), job.key) not in self._running:
                        continue
                ended(Result(job, "failed", error=f"{type(exc).__name__}: {exc}",
                             stale=cache.last_good(job.name, job.params_id)))

    def _mark(self) -> None:
        with self._cond:
            folder = self._folder
            self._finished += 1
            count = self._finished
        if folder is not None:
            try:
                (folder / self.MARKER).write_text(f"{count}\n", encoding="utf-8")
            except OSError:  # the session closed meanwhile: nobody watches any more
                pass

    def remind(self, delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)) -> None:
        """Write the marker again, a few times after each delay, until a build has shown what ended: a
        run that ended during a serve's first build left no event, as MkDocs starts watching the
        marker's folder only after that build (its ``serve`` calls ``server.serve()``, which starts the
        watcher, after the first build and ``on_serve``). In a thread of its own."""
        def again() -> None:
            for delay in delays:
                time.sleep(delay)
                with self._cond:
                    if not self._unseen or self._folder is None:
                        return
                self._mark()

        threading.Thread(target=again, daemon=True, name="demo runs reminder").start()

    def running(self) -> int:
        with self._cond:
            return len(self._running)

    def wait_for_runs(self, timeout: float | None = None) -> bool:
        """Wait until no run is going (or ``timeout`` seconds); True when a run ended that no build
        has shown yet, so the next build shows something new."""
        with self._cond:
            self._cond.wait_for(lambda: not self._running, timeout)
            return self._unseen

    def close(self) -> None:
        """The end of the session: forget what ended and remove the marker's folder. Runs still going
        end by their own timeout; their entries stay in the cache for the next build."""
        with self._cond:
            self._ended.clear()
            folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
