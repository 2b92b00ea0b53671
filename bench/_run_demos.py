"""Run demos' default runs through the project's runner:
``python -m bench._run_demos --cache DIR [--jobs N] [--force] [--remote URL] [--executor dask://HOST:PORT] [NAME ...]``.

The same planner, cache and runner as ``notes demos`` and the build (each run in its own process with
one torch thread), without reading the pages: only each demo's default run. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=".", help="project root (holds demos/)")
    parser.add_argument("--cache", required=True)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--remote", default=None, help="fsspec URL of a shared cache: pull before running, push after")
    parser.add_argument("--executor", default="local", help="local, or dask://HOST:PORT")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)

    root = Path(args.root).resolve()
    sys.path.insert(0, str(root))
    from hooks.figures.cache import DemoCache
    from hooks.figures.directive import SpecCache
    from hooks.figures.plan import Settings, plan_jobs
    from hooks.figures.runner import run_jobs

    settings = Settings(project_root=root, demos_dir=root / "demos", cache_dir=Path(args.cache),
                        timeout_s=args.timeout, jobs=args.jobs, device=args.device,
                        remote=args.remote, executor=args.executor)
    jobs, problems = plan_jobs(settings, [], SpecCache(settings.demos_dir), only=args.names or None)  # default runs only
    results = run_jobs(jobs, settings, DemoCache(settings.cache_dir), force=args.force)
    out = {
        "problems": [str(p) for p in problems],
        "results": [
            {"name": r.job.name, "status": r.status, "seconds": r.seconds, "error": r.error, "timeout_s": r.job.timeout_s,
             "worker": (r.entry.manifest.get("worker") if r.entry else None), "remote_problems": r.remote_problems}
            for r in results
        ],
        "wall_s": time.perf_counter() - started,
    }
    print(json.dumps(out))
    return 0 if all(r.status != "failed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
