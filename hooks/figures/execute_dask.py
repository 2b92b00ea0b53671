"""The Dask executor: demo runs fanned out over an existing Dask distributed cluster (``executor: dask://HOST:PORT``).

Each run becomes one task. The task carries the demo's sources (the ones its cache key was made
from) and runs them on the worker exactly as a local run does: its own process, sandbox, timeout,
memory limit and one torch thread (hooks.figures.execute_local). The worker pushes the finished entry to the
shared remote cache; this side waits with the same progress callbacks and pulls the entries. Workers
need this project's Python package and the demos' libraries installed, not a copy of the project.
"""
from __future__ import annotations

import shutil
import socket
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable

from hooks.figures.cache import DemoCache
from hooks.figures.execute_local import run_job
from hooks.figures.model import Job, Result
from hooks.figures.plan import Settings, cuda_missing
from hooks.figures.remote import RemoteCache
from hooks.figures.spec import load_spec

CONNECT_TIMEOUT = "20s"


def _payload(job: Job, settings: Settings, force: bool) -> dict[str, Any]:
    sources = {}
    for path in job.spec.local_modules:
        sources[f"demos/{path.name}"] = path.read_text(encoding="utf-8")
    init = settings.demos_dir / "__init__.py"
    sources["demos/__init__.py"] = init.read_text(encoding="utf-8") if init.is_file() else ""
    return {
        "name": job.name, "key": job.key, "params": job.params, "overrides": job.overrides, "params_id": job.params_id,
        "device": job.device, "timeout_s": job.timeout_s, "memory_gib": settings.memory_gib, "sources": sources,
        "remote": settings.remote, "remote_options": settings.remote_options, "force": force,
    }


def run_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """On a worker: run one demo from its sources in a temporary project and push the entry."""
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = ""
    if payload["device"] == "cuda":
        why = cuda_missing()
        if why is not None:  # as a local run on a machine without a GPU: not a failure, a run still to make
            return {"status": "needs-gpu", "error": f"needs a GPU run: worker {worker or socket.gethostname()} has none ({why}); "
                    f"notes demos {payload['name']} --device cuda on a GPU machine", "detail": "", "seconds": 0.0,
                    "host": socket.gethostname(), "worker": worker, "remote_problems": []}
    root = Path(tempfile.mkdtemp(prefix="demo-project-"))
    try:
        for rel, text in payload["sources"].items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, encoding="utf-8")
        spec = load_spec(root / "demos", payload["name"])
        settings = Settings(project_root=root, demos_dir=root / "demos", cache_dir=root / ".demos-cache",
                            memory_gib=payload["memory_gib"], worker=worker)
        job = Job(spec, payload["params"], payload["overrides"], payload["params_id"], payload["key"],
                  payload["device"], payload["timeout_s"])
        remote = RemoteCache(payload["remote"], payload["remote_options"])
        result = run_job(job, settings, DemoCache(settings.cache_dir), force=True, remote=remote)
        return {"status": result.status, "error": result.error, "detail": result.detail, "seconds": result.seconds,
                "host": socket.gethostname(), "worker": worker, "remote_problems": result.remote_problems}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def execute(
    jobs: list[Job],
    settings: Settings,
    cache: DemoCache,
    remote: RemoteCache | None,
    force: bool,
    on_result: Callable[[Result], None] | None,
) -> list[Result]:
    """Run ``jobs`` on the cluster; entries already in the remote cache are pulled, not rerun."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError("the executor dask:// needs the 'distributed' package; install the project with its 'dask' extra") from None
    if remote is None:
        raise RuntimeError("a Dask executor needs a remote cache (extra.demos.remote or DEMOS_REMOTE)")
    results: list[Result] = []

    def done(result: Result) -> None:
        results.append(result)
        if on_result:
            on_result(result)

    remaining = []
    for job in jobs:
        entry, moved = (None, None) if force else remote.pull(job.name, job.key, cache)
        if entry is not None:
            done(Result(job, "pulled", entry=entry))
        else:
            remaining.append((job, moved.problems if moved else []))
    if not remaining:
        return results
    address = settings.executor.removeprefix("dask://")
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError as exc:
        raise RuntimeError(f"the Dask scheduler at {address} cannot be reached ({exc}); start it or set executor: local") from None
    try:
        futures = {}
        for job, problems in remaining:
            if not job.runnable:
                done(Result(job, "needs-gpu", error=f"needs a GPU run: notes demos {job.name} --device cuda", remote_problems=problems))
                continue
            future = client.submit(run_payload, _payload(job, settings, force), key=f"demo-{job.name}-{job.key}-{uuid.uuid4().hex[:6]}",
                                   pure=False, retries=0)
            futures[future] = (job, problems)
        for future in as_completed(list(futures), loop=client.loop):
            job, problems = futures[future]
            try:
                out = future.result()
            except Exception as exc:  # the task itself broke on the worker (not the demo: that is reported in out)
                done(Result(job, "failed", error=f"the Dask task failed on its worker: {type(exc).__name__}: {exc}", remote_problems=problems))
                continue
            problems = problems + list(out.get("remote_problems", []))
            if out["status"] == "needs-gpu":
                done(Result(job, "needs-gpu", stale=cache.last_good(job.name, job.params_id), error=out["error"], remote_problems=problems))
                continue
            if out["status"] != "ran":
                stale = cache.last_good(job.name, job.params_id, exclude_key=job.key)
                done(Result(job, "failed", stale=stale, error=out["error"], detail=out["detail"], seconds=out["seconds"], remote_problems=problems))
                continue
            entry, moved = remote.pull(job.name, job.key, cache)
            if entry is None:
                done(Result(job, "failed", error=f"ran on {out['worker'] or out['host']} but its entry could not be pulled from {remote.url}",
                            seconds=out["seconds"], remote_problems=problems + moved.problems))
                continue
            done(Result(job, "ran", entry=entry, seconds=out["seconds"], remote_problems=problems))
    finally:
        client.close()
    return results
