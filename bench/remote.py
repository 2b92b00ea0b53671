"""Section 5, remote: demo runs beyond one machine, against running them here.

(a) every demo's default run with an empty local cache on the local pool (2 processes), each new entry
pushed to an S3-compatible server (moto's standalone server on 127.0.0.1); (b) a second empty cache
that pulls every entry (a) pushed: nothing runs; (c) the same runs fanned out over a Dask scheduler
with two single-thread workers (each run its own process on a worker, pushed from there to a fresh
prefix of the same server). All three through the runner the build calls (``bench._run_demos``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from bench import demo_runs
from bench.budget import Budget
from bench.common import PROJECT_ROOT, BenchError, fmt_ratio, table
from bench.report import Section

BUCKET = "bench-demo-cache"
GOAL_PULL = 0.1  # pulling every entry costs at most a tenth of running them


def _kib(n: int) -> str:
    return f"{n / 1024:,.0f} KiB"


def _local_bytes(cache: Path) -> tuple[int, int]:
    """(files, bytes) of the finished entries in a local cache: what a pull had to bring."""
    files = [p for p in (cache / "entries").rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _summary(report: dict) -> tuple[dict[str, int], list[str]]:
    count: dict[str, int] = {}
    problems = list(report["problems"])
    for r in report["results"]:
        count[r["status"]] = count.get(r["status"], 0) + 1
        problems += r.get("remote_problems") or []
        if r["status"] == "failed":
            problems.append(f"{r['name']} failed: {r['error']}")
    return count, problems


def _counts(count: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(count.items()))


def run(tmp: Path, quick: bool, budget: Budget) -> Section:
    sec = Section("remote", "5. Remote: a shared cache in S3 and a Dask executor, against the local pool")
    try:
        import distributed  # noqa: F401
        import moto  # noqa: F401
        import s3fs
    except ImportError as exc:
        sec.add(f"Skipped: {exc.name} is not installed (`pip install -e '.[test]'` installs s3fs, moto and distributed).")
        return sec
    from hooks.figures.directive import SpecCache
    from hooks.figures.spec import demo_names
    from tests import services

    root = demo_runs._quick_project(tmp) if quick else PROJECT_ROOT
    names = demo_names(root / "demos")
    specs = SpecCache(root / "demos")
    timeout = sum((specs.get(n).timeout_s or 180.0) for n in names) + 120
    rows, notes = [], []
    with services.s3_server(BUCKET):
        fs = s3fs.S3FileSystem(skip_instance_cache=True)

        def variant(label: str, cache: str, **kw) -> tuple[dict, float]:
            report, r = demo_runs._runner(root, tmp / "remote" / cache, 2, [], timeout, **kw)
            count, problems = _summary(report)
            if problems:
                raise BenchError(f"{label}: " + "; ".join(problems[:5]))
            return count, r.seconds

        local, local_s = variant("(a) local pool", "a", remote=f"s3://{BUCKET}/a")
        stored = fs.find(f"{BUCKET}/a", detail=True)
        stored_bytes = sum(v["size"] for v in stored.values())
        pulled, pull_s = variant("(b) pull", "b", remote=f"s3://{BUCKET}/a", force=False)
        pull_files, pull_bytes = _local_bytes(tmp / "remote" / "b")
        if budget.fits(1.2 * local_s + 60):
            with services.dask_cluster(2) as url:
                dask, dask_s = variant("(c) Dask", "c", remote=f"s3://{BUCKET}/c", executor=url)
        else:
            dask, dask_s = None, None
            notes.append("(c) was skipped to keep within the time budget.")
    shutil.rmtree(tmp / "remote", ignore_errors=True)

    rows.append(["(a) local pool, 2 processes, push to S3", f"{local_s:.1f}", "1", _counts(local),
                 f"{_kib(stored_bytes)} pushed ({len(stored)} objects)"])
    rows.append(["(b) empty cache, pull every entry from S3", f"{pull_s:.1f}", fmt_ratio(pull_s / local_s),
                 _counts(pulled), f"{_kib(pull_bytes)} pulled ({pull_files} files with their manifests)"])
    if dask is not None:
        rows.append(["(c) Dask, scheduler + 2 single-thread workers, push to S3", f"{dask_s:.1f}",
                     fmt_ratio(dask_s / local_s), _counts(dask), "–"])
    sec.add(
        "Every demo's default run, forced, with an empty local cache, through the runner the build calls "
        "(`hooks.figures.runner.run_jobs`: each run its own process with one torch thread, CPU). Seconds: wall time "
        "of the whole runner process (interpreter, imports and transfers included). S3: moto's standalone server "
        "on 127.0.0.1, s3fs as the client (`extra.demos.remote: s3://...`, endpoint and credentials from "
        "`AWS_*`). Bytes pushed: the objects under the prefix (content-addressed files and one manifest per "
        "entry); bytes pulled: the files of the entries in the local cache afterwards. A demo that needs a GPU "
        "is `needs-gpu` in every variant (nothing to run or pull on this machine)."
        + (" **--quick: the test fixtures' tiny demos, not the real ones.**" if quick else "")
        + (" " + " ".join(notes) if notes else "")
    )
    sec.add(table(["variant", "wall s", "÷ (a)", "runs", "transferred"], rows))
    ratio = pull_s / local_s
    sec.goal(f"empty cache pulling every entry from S3 ≤ {GOAL_PULL}× running every demo here",
             f"{ratio:.3f}× ({pull_s:.1f} s vs {local_s:.1f} s)", None if quick else ratio <= GOAL_PULL and "ran" not in pulled)
    if dask is not None:
        sec.add(f"On one 2-core machine the Dask fan-out cannot beat the local pool (same cores, plus task "
                f"shipping and a push from each worker): {dask_s / local_s:.2f}× here. It is for runs spread over "
                "machines, where the pool cannot go.")
    return sec
