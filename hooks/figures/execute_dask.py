"""The Dask executor: demo runs fanned out over an existing Dask distributed cluster (``executor: dask://HOST:PORT``).

Each run becomes one task. The task carries the demo's sources (the ones its cache key was made
from) and runs them on the worker exactly as a local run does: its own process, sandbox, timeout,
memory limit and one torch thread (hooks.figures.execute_local). The worker pushes the finished entry to the
shared remote cache; this side waits with the same progress callbacks and pulls the entries. Workers
need this project's Python package and the demos' libraries installed, not a copy of the project.

Nothing here waits without a bound: the scheduler must answer a first request within
``network_timeout`` (a port that accepts and never answers would hold ``Client()`` forever), and each
next result must come within the longest run's timeout plus that; runs still out then are failures.
"""
from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from hooks.figures.cache import DemoCache
from hooks.figures.execute_local import run_job
from hooks.figures.model import Job, Result
from hooks.figures.plan import Settings, cuda_missing
from hooks.figures.remote import RemoteCache
from hooks.figures.spec import load_spec

RESULT_SLACK_S = 60.0  # beyond a run's own timeout: the task's start, its push, the scheduler's bookkeeping


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
        "network_timeout": settings.network_timeout, "material": job.material, "reran_because": job.reran_because,
        "replaces": job.replaces,
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
        timeout = payload.get("network_timeout", 20.0)
        settings = Settings(project_root=root, demos_dir=root / "demos", cache_dir=root / ".demos-cache",
                            memory_gib=payload["memory_gib"], worker=worker, network_timeout=timeout)
        job = Job(spec, payload["params"], payload["overrides"], payload["params_id"], payload["key"],
                  payload["device"], payload["timeout_s"], material=payload.get("material") or {},
                  reran_because=payload.get("reran_because") or [], replaces=payload.get("replaces"))
        remote = RemoteCache(payload["remote"], payload["remote_options"], timeout_s=timeout)
        result = run_job(job, settings, DemoCache(settings.cache_dir), force=True, remote=remote)
        return {"status": result.status, "error": result.error, "detail": result.detail, "seconds": result.seconds,
                "host": socket.gethostname(), "worker": worker, "remote_problems": result.remote_problems}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def check_scheduler(address: str, timeout_s: float) -> None:
    """Raise RuntimeError (one line) unless the scheduler at ``address`` answers a request within ``timeout_s``."""
    from distributed.comm import connect

    async def identity() -> object:
        comm = await connect(address if "://" in address else f"tcp://{address}", timeout=timeout_s)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    def probe() -> None:  # in a thread of its own: the caller may already run an event loop
        asyncio.run(asyncio.wait_for(identity(), timeout_s))

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(probe).result()
    except (asyncio.TimeoutError, TimeoutError):
        raise RuntimeError(f"the Dask scheduler at {address} did not answer within {timeout_s:g} s "
                           "(extra.demos.network_timeout); start it or set executor: local") from None
    except Exception as exc:  # refused, reset, not a Dask scheduler
        raise RuntimeError(f"the Dask scheduler at {address} cannot be reached ({type(exc).__name__}: {exc}); "
                           "start it or set executor: local") from None


def execute(
    jobs: list[Job],
    settings: Settings,
    cache: DemoCache,
    remote: RemoteCache | None,
    force: bool,
    on_result: Callable[[Result], None] | None,
    say: Callable[[str], None] | None = None,
) -> list[Result]:
    """Run ``jobs`` on the cluster; entries already in the remote cache are pulled, not rerun."""
    try:
        from distributed import Client, wait
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
        entry, moved = (None, None) if force else remote.pull(job.name, job.key, cache, job.spec.figures)
        if entry is not None:
            done(Result(job, "pulled", entry=entry))
        else:
            remaining.append((job, moved.problems if moved else []))
    if not remaining:
        return results
    address = settings.executor.removeprefix("dask://")
    if say:
        say(f"sending {len(remaining)} run(s) to the Dask scheduler at {address} "
            f"(giving up on it after {settings.network_timeout:g} s without an answer)")
    check_scheduler(address, settings.network_timeout)
    try:
        client = Client(address, timeout=f"{settings.network_timeout}s", set_as_default=False)
    except (OSError, asyncio.TimeoutError) as exc:
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
        # Each next result within the longest run's timeout (and some slack): the cluster may be gone.
        bound = max((job.timeout_s for job, _ in futures.values()), default=0.0) + settings.network_timeout + RESULT_SLACK_S
        pending = set(futures)

        def finished():
            while pending:
                started = time.monotonic()
                try:
                    with client.as_current():  # distributed.wait asks for the default client, which this one is not
                        done_now, _ = wait(list(pending), timeout=bound, return_when="FIRST_COMPLETED")
                except (TimeoutError, asyncio.TimeoutError):
                    done_now = set()
                if not done_now:
                    for future in list(pending):
                        job, problems = futures[future]
                        pending.discard(future)
                        done(Result(job, "failed", error=f"no answer from the Dask cluster at {address} within "
                                    f"{time.monotonic() - started:.0f} s", remote_problems=problems))
                    return
                for future in done_now:
                    pending.discard(future)
                    yield future

        for future in finished():
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
            entry, moved = remote.pull(job.name, job.key, cache, job.spec.figures)
            if entry is None:
                done(Result(job, "failed", error=f"ran on {out['worker'] or out['host']} but its entry could not be pulled from {remote.url}",
                            seconds=out["seconds"], remote_problems=problems + moved.problems))
                continue
            done(Result(job, "ran", entry=entry, seconds=out["seconds"], remote_problems=problems))
    finally:
        client.close()
    return results
