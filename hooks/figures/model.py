"""The figures' data types: a job to run, a cache entry, the result of a job, the themes of a figure.

Kept apart from the code that makes them so that pages, the site plan and both executors can share
them without importing the runner or each other (and without importing psutil, filelock or Dask).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hooks.figures.spec import DemoSpec

Status = Literal["cached", "pulled", "ran", "failed", "needs-gpu", "running"]  # running: under serve, in the background
THEMES = ("light", "dark")  # every figure is written once per theme: NAME-light.svg, NAME-dark.svg


@dataclass
class Job:
    """One run to have: a demo with its full parameters, keyed by what makes its output."""

    spec: DemoSpec
    params: dict[str, Any]
    overrides: dict[str, Any]
    params_id: str
    key: str
    device: str
    timeout_s: float
    pages: list[str] = field(default_factory=list)  # display paths of pages that use this run
    runnable: bool = True  # False when the demo needs a GPU and this machine has none
    material: dict[str, Any] = field(default_factory=dict)  # what ``key`` is a hash of (hooks.figures.plan.key_material)
    reran_because: list[str] = field(default_factory=list)  # what changed since the run of these parameters it replaces
    replaces: dict[str, Any] | None = None  # that run: its key, finished_at and data, kept in the new entry (hooks.figures.numbers)

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class Entry:
    """A finished, verified cache entry."""

    path: Path
    manifest: dict[str, Any]

    @property
    def key(self) -> str:
        return self.manifest["key"]

    def file(self, name: str) -> Path:
        return self.path / name

    def has(self, name: str) -> bool:
        return name in self.manifest.get("files", {})


@dataclass
class Result:
    """What became of a job: where its figures are (fresh or stale) and, when it failed, why."""

    job: Job
    status: Status
    entry: Entry | None = None  # the fresh entry (cached or ran)
    stale: Entry | None = None  # the last good entry shown when this run failed (or while it is running)
    error: str = ""  # one line: what went wrong
    detail: str = ""  # the last lines of the traceback, paths relative to the project
    seconds: float = 0.0  # wall time spent in this call (0 when cached)
    remote_problems: list[str] = field(default_factory=list)  # what went wrong with the shared cache (or a damaged local entry), one line each

    @property
    def shown(self) -> Entry | None:
        return self.entry or self.stale
