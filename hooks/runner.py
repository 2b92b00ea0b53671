"""Run demos in isolated processes, in parallel, through the cache; nothing here imports torch.

``plan_jobs`` turns figure references (and each demo's default run) into jobs with cache keys;
``run_jobs`` serves each job from the cache or runs it in its own process with a timeout and one
torch thread, and reports what happened. The MkDocs hook and ``notes demos`` both call these.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

from filelock import FileLock

from hooks.cache import DemoCache, Entry, cache_key, detect_device, library_versions
from hooks.demo_spec import DemoError, DemoSpec, demo_names, params_id
from hooks.directive import FigureRef, SpecCache
from hooks.problems import Problem

Status = Literal["cached", "ran", "failed"]
LOG_TAIL_LINES = 6


@dataclass
class Job:
    spec: DemoSpec
    params: dict[str, Any]
    overrides: dict[str, Any]
    params_id: str
    key: str
    device: str
    timeout_s: float
    pages: list[str] = field(default_factory=list)  # display paths of pages that use this run

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class Result:
    job: Job
    status: Status
    entry: Entry | None = None  # the fresh entry (cached or ran)
    stale: Entry | None = None  # the last good entry shown when this run failed
    error: str = ""  # one line: what went wrong
    detail: str = ""  # the last lines of the traceback, paths relative to the project
    seconds: float = 0.0  # wall time spent in this call (0 when cached)

    @property
    def shown(self) -> Entry | None:
        return self.entry or self.stale


@dataclass
class Settings:
    project_root: Path
    demos_dir: Path
    cache_dir: Path
    timeout_s: float = 180.0
    jobs: int = 0  # 0: one per core
    device: str = "auto"

    @property
    def workers(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    @classmethod
    def from_extra(cls, project_root: Path, extra: dict[str, Any], jobs: int | None = None, device: str | None = None) -> "Settings":
        """Settings from ``extra.demos`` of mkdocs.yml; ``DEMOS_CACHE_DIR`` and explicit arguments win."""
        return cls(
            project_root=project_root,
            demos_dir=project_root / "demos",
            cache_dir=project_root / (os.environ.get("DEMOS_CACHE_DIR") or extra.get("cache_dir", ".cache/demos")),
            timeout_s=float(extra.get("timeout", 180)),
            jobs=int(jobs if jobs is not None else extra.get("jobs", 0)),
            device=device or str(extra.get("device", "auto")),
        )


def plan_jobs(
    settings: Settings,
    refs: Iterable[FigureRef],
    specs: SpecCache,
    only: Iterable[str] | None = None,
    include_defaults: bool = True,
) -> tuple[list[Job], list[Problem]]:
    """One job per distinct (demo, parameters): every referenced run, plus each demo's default run."""
    device = detect_device(os.environ.get("DEMOS_DEVICE") or settings.device)
    versions = library_versions()
    wanted = set(only) if only else None
    jobs: dict[tuple[str, str], Job] = {}
    problems: list[Problem] = []

    def add(spec: DemoSpec, params: dict[str, Any], overrides: dict[str, Any], page: str | None) -> None:
        pid = params_id(overrides)
        job = jobs.get((spec.name, pid))
        if job is None:
            key = cache_key(spec, params, device, versions, settings.project_root)
            timeout = spec.timeout_s or settings.timeout_s
            job = jobs[(spec.name, pid)] = Job(spec, params, overrides, pid, key, device, timeout)
        if page and page not in job.pages:
            job.pages.append(page)

    if include_defaults:
        for name in demo_names(settings.demos_dir):
            if wanted is None or name in wanted:
                try:
                    spec = specs.get(name)
                except DemoError as exc:
                    problems.append(Problem(f"demos/{name}.py", 0, str(exc).removeprefix(f"demos/{name}.py: ")))
                    continue
                add(spec, spec.defaults(), {}, None)
    for ref in refs:
        if wanted is None or ref.demo in wanted:
            add(specs.get(ref.demo), ref.params, ref.overrides, ref.display_path)
    return sorted(jobs.values(), key=lambda j: (j.name, j.params_id)), problems


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the build that started it dies (so kill -9 leaves no orphans)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _relativise(text: str, root: Path) -> str:
    for base in {str(root.resolve()), str(root)}:
        text = text.replace(base + os.sep, "").replace(base, ".")
    return text


def _tail_error(log: str, root: Path) -> tuple[str, str]:
    """The exception line and the last traceback lines of a log, with project-relative paths."""
    lines = [line for line in _relativise(log, root).splitlines() if line.strip()]
    if not lines:
        return "exited without output", ""
    tb_start = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=None)
    tail = lines[tb_start:] if tb_start is not None else lines
    frames = [line.strip() for line in tail if line.strip().startswith("File ")]
    last_line = tail[-1].strip()
    detail = "; ".join(frames[-2:] + [last_line]) if frames else "; ".join(l.strip() for l in tail[-LOG_TAIL_LINES:])
    return last_line, detail


def _run_one(job: Job, settings: Settings, cache: DemoCache) -> Result:
    tmp = cache.new_tmp_dir(job.key)
    request = {
        "project_root": str(settings.project_root),
        "demo": job.name,
        "params": job.params,
        "device": job.device,
        "out_dir": str(tmp),
    }
    request_path = tmp / "_request.json"
    request_path.write_text(json.dumps(request), encoding="utf-8")
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.project_root), env.get("PYTHONPATH", "")]))
    log_path = tmp / "log.txt"
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hooks.demo_process", str(request_path)],
            cwd=settings.project_root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        try:
            rc = proc.wait(timeout=job.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
    seconds = time.perf_counter() - started
    log_text = log_path.read_text(encoding="utf-8", errors="replace")

    def fail(error: str, detail: str = "") -> Result:
        shutil.rmtree(tmp, ignore_errors=True)
        return Result(job, "failed", error=error, detail=detail, seconds=seconds)

    if rc is None:
        return fail(f"timed out after {job.timeout_s:g} s (raise TIMEOUT_S in the demo or extra.demos.timeout)")
    if rc != 0:
        last, detail = _tail_error(log_text, settings.project_root)
        return fail(last, detail)
    missing = [
        f"{fig}-{theme}.svg"
        for fig in job.spec.figures
        for theme in ("light", "dark")
        if not (tmp / f"{fig}-{theme}.svg").is_file() or (tmp / f"{fig}-{theme}.svg").stat().st_size == 0
    ]
    if not (tmp / "data.json").is_file():
        missing.append("data.json")
    if missing:
        return fail(f"finished without writing {', '.join(missing)} (every figure in FIGURES, in light and dark, and data.json)")
    try:
        info = json.loads((tmp / "_run.json").read_text(encoding="utf-8"))
        json.loads((tmp / "data.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return fail(f"wrote unreadable output ({exc})")
    request_path.unlink()
    (tmp / "_run.json").unlink()
    manifest = {
        "demo": job.name,
        "status": "ok",
        "params": job.params,
        "overrides": job.overrides,
        "params_id": job.params_id,
        "figures": list(job.spec.figures),
        "source": job.spec.path.resolve().relative_to(settings.project_root.resolve()).as_posix(),
        "seconds": info["seconds"],
        "seed": info.get("seed"),
        "device": info["device"],
        "device_name": info["device_name"],
        "versions": info["versions"],
        "torch_threads": info.get("torch_threads"),
        "finished_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    entry = cache.commit(tmp, job.name, job.key, manifest)
    return Result(job, "ran", entry=entry, seconds=seconds)


def run_job(job: Job, settings: Settings, cache: DemoCache, force: bool = False) -> Result:
    """Serve a job from the cache, or run it under its key's lock (a second build waits, then reuses)."""
    if not force:
        entry = cache.lookup(job.name, job.key)
        if entry is not None:
            return Result(job, "cached", entry=entry)
    with FileLock(str(cache.lock_path(job.key))):
        if not force:
            entry = cache.lookup(job.name, job.key)
            if entry is not None:
                return Result(job, "cached", entry=entry)
        try:
            result = _run_one(job, settings, cache)
        except OSError as exc:
            result = Result(job, "failed", error=f"could not run: {exc}")
    if result.status == "failed":
        result.stale = cache.last_good(job.name, job.params_id, exclude_key=job.key) or cache.lookup(job.name, job.key)
    return result


def run_jobs(
    jobs: list[Job],
    settings: Settings,
    cache: DemoCache,
    force: bool = False,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run every job (cached ones cost a lookup), up to ``settings.workers`` processes at once."""
    cache.ensure_writable()
    cache.clean_tmp()
    results: list[Result] = []
    todo = []
    for job in jobs:
        entry = None if force else cache.lookup(job.name, job.key)
        if entry is not None:
            results.append(Result(job, "cached", entry=entry))
            if on_result:
                on_result(results[-1])
        else:
            todo.append(job)
    if todo:
        # Longest first (by the last known run time) keeps both cores busy to the end.
        def last_seconds(job: Job) -> float:
            prev = cache.last_good(job.name, job.params_id)
            return -(prev.manifest.get("seconds", 0) if prev else 1e9)

        todo.sort(key=last_seconds)
        with ThreadPoolExecutor(max_workers=min(settings.workers, len(todo))) as pool:
            for result in pool.map(lambda j: run_job(j, settings, cache, force), todo):
                results.append(result)
                if on_result:
                    on_result(result)
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
    out = {"ran": 0, "cached": 0, "failed": 0}
    for r in results:
        out[r.status] += 1
    return out

