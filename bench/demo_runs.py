"""Section 3, demos: each demo's default run alone and one after another, against one cold parallel run
of all of them; ``notes demos`` with nothing to do; peak memory of each demo's process.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench import realsite
from bench.budget import Budget
from bench.common import PROJECT_ROOT, PYTHON, Sample, env_for, fmt_mib, fmt_ratio, fmt_s, run_measured, table
from bench.report import Section

GOAL_PARALLEL = 0.6
GOAL_NOOP_S = 0.5
DEMO_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def _quick_project(tmp: Path) -> Path:
    """--quick: a project holding the test fixtures' fast demos instead of the real ones."""
    root = tmp / "quick-demos"
    if root.exists():
        shutil.rmtree(root)
    src = PROJECT_ROOT / "tests" / "fixtures" / "demo_project" / "demos"
    (root / "demos").mkdir(parents=True)
    for name in ("__init__.py", "_helper.py", "ok.py", "standalone.py"):
        shutil.copy2(src / name, root / "demos" / name)
    return root


def _runner(root: Path, cache: Path, jobs: int, names: list[str], timeout_s: float, force: bool = True,
            remote: str | None = None, executor: str | None = None) -> tuple[dict, object]:
    """One ``bench._run_demos`` process with an empty cache; returns its JSON report and the measured run (wall, peak RSS)."""
    if cache.exists():
        shutil.rmtree(cache)
    extra = (["--force"] if force else []) + (["--remote", remote] if remote else []) + (["--executor", executor] if executor else [])
    r = run_measured(
        [PYTHON, "-m", "bench._run_demos", "--root", str(root), "--cache", str(cache), "--jobs", str(jobs),
         *extra, "--device", "cpu", *names],
        cwd=PROJECT_ROOT, env=env_for(**DEMO_ENV), timeout_s=timeout_s, check=False,
    )
    try:
        report = json.loads(r.output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise realsite.BenchError(f"the demo runner printed no report (exit {r.returncode}):\n{r.output[-1500:]}") from None
    return report, r


def run(tmp: Path, quick: bool, budget: Budget, site: realsite.RealSite | None = None) -> Section:
    from hooks.figures.spec import demo_names
    from hooks.figures.directive import SpecCache

    sec = Section("demos", "3. Demos: serial, parallel, nothing to do, memory")
    root = _quick_project(tmp) if quick else PROJECT_ROOT
    names = demo_names(root / "demos")
    specs = SpecCache(root / "demos")
    timeout = {n: (specs.get(n).timeout_s or 180.0) for n in names}

    # Serial: each default run alone, one after another, through the runner (one process, one torch thread).
    per_demo: dict[str, Sample] = {n: Sample() for n in names}
    per_rss: dict[str, Sample] = {n: Sample() for n in names}
    status: dict[str, str] = {}
    serial_sums = Sample()
    serial_cpu = Sample()
    parallel_cpu = Sample()
    in_parallel: dict[str, Sample] = {n: Sample() for n in names}
    parallel = Sample()
    parallel_rss = Sample()
    rounds = 3
    done_rounds = 0
    for rnd in range(rounds):
        if rnd:
            # One more round costs the serial sum plus a parallel run; stop when the budget cannot hold it.
            if not budget.fits(1.1 * (serial_sums.median + parallel.median) + 30):
                break
        total = cpu = 0.0
        for name in names:
            report, r = _runner(root, tmp / "cache-serial", 1, [name], timeout[name] + 60)
            res = report["results"][0]
            status[name] = res["status"] if res["status"] != "failed" else f"failed: {res['error']}"
            per_demo[name].add(res["seconds"])
            per_rss[name].add(r.maxrss_kib)
            total += res["seconds"]
            cpu += r.cpu_s
        serial_sums.add(total)
        serial_cpu.add(cpu)
        report, r = _runner(root, tmp / "cache-parallel", 2, [], max(timeout.values()) * len(names) + 60)
        parallel.add(r.seconds)
        parallel_rss.add(r.maxrss_kib)
        parallel_cpu.add(r.cpu_s)
        for res in report["results"]:
            in_parallel[res["name"]].add(res["seconds"])
            if res["status"] == "failed":
                status[res["name"]] = f"failed in the parallel run: {res['error']}"
        done_rounds += 1

    # Peak memory of each demo run bare: `python -m demos.NAME --out DIR`, one process each.
    bare_rss: dict[str, Sample] = {n: Sample() for n in names}
    bare_s: dict[str, Sample] = {n: Sample() for n in names}
    bare_note = ""
    if budget.fits(1.1 * serial_sums.median + 40):
        for name in names:
            if status.get(name) == "needs-gpu":  # bare, it would run its GPU-sized default on the CPU until its timeout
                continue
            out = tmp / "bare" / name
            r = run_measured([PYTHON, "-m", f"demos.{name}", "--out", str(out), "--device", "cpu"], cwd=root,
                             env=env_for(PYTHONPATH=str(root), **DEMO_ENV), timeout_s=timeout[name] + 60, check=False)
            if r.returncode == 0:
                bare_rss[name].add(r.maxrss_kib)
                bare_s[name].add(r.seconds)
        shutil.rmtree(tmp / "bare", ignore_errors=True)
    else:
        bare_note = (" The bare `python -m demos.NAME` runs were skipped to keep within the time budget; the peak "
                     "memory column is then the runner's (the demo's own process is the largest in it).")

    rows = []
    for name in names:
        rows.append([
            name, per_demo[name].n, fmt_s(per_demo[name], 1), fmt_s(in_parallel[name], 1), fmt_mib(per_rss[name]),
            fmt_mib(bare_rss[name]) if bare_rss[name].n else "–",
            fmt_s(bare_s[name], 1) if bare_s[name].n else "–", status.get(name, "not run"),
        ])
    rows.append(["**serial sum**", serial_sums.n, fmt_s(serial_sums, 1), "", "", "", "", ""])
    rows.append(["**parallel, `--jobs 2`, empty cache: wall time**", parallel.n, "", fmt_s(parallel, 1), fmt_mib(parallel_rss), "", "", ""])
    ratio = Sample([p / s for p, s in zip(parallel.values, serial_sums.values) if s])
    once = " (once: three rounds would not fit the time budget)" if done_rounds < 3 else ""
    sec.add(
        "Each demo's default run through the project's runner (`hooks.runner.run_jobs`, forced, one job: its own "
        "process, one torch thread, CPU), one after another; then all of them in one cold run with `--jobs 2` into an "
        f"empty cache. Rounds: {done_rounds}{once}. Seconds: the demo process's wall time as the runner measures it "
        "(Python and torch start-up included); parallel: wall time of the whole runner process. Peak RSS (runner): "
        "ru_maxrss of the runner process, which includes the demo process it waits for (the runner alone is about 40 "
        "MiB); peak RSS (bare): ru_maxrss of `python -m demos.NAME --out DIR` run alone." + bare_note
        + (" **--quick: the test fixtures' tiny demos, not the real ones.**" if quick else "")
    )
    sec.add(table(["demo", "runs", "seconds alone", "seconds in the parallel run", "peak RSS MiB (runner)",
                   "peak RSS MiB (bare)", "seconds (bare)", "status"], rows))
    sec.add(f"CPU seconds (user+system of every demo process): serial {fmt_s(serial_cpu, 1)}, parallel run "
            f"{fmt_s(parallel_cpu, 1)}.")
    failed = [n for n, s in status.items() if s.startswith("failed")]
    sec.goal(f"cold parallel run (2 cores) ≤ {GOAL_PARALLEL}× the serial sum", fmt_ratio(ratio)
             + (f"; failed: {', '.join(failed)}" if failed else ""), ratio.median <= GOAL_PARALLEL if ratio.n and not failed else (False if failed else None))
    if ratio.n and ratio.median > GOAL_PARALLEL:
        longest = max(names, key=lambda n: per_demo[n].median)
        floor = max(per_demo[longest].median, serial_sums.median / 2) / serial_sums.median
        stretch = Sample([in_parallel[n].median / per_demo[n].median for n in names if per_demo[n].median > 0])
        busy = sum(in_parallel[n].median for n in names)
        sec.add(
            f"**Why parallel misses.** On 2 cores the best possible wall time is max(longest demo, sum ÷ 2) = "
            f"max({per_demo[longest].median:.1f} s for `{longest}`, {serial_sums.median / 2:.1f} s), i.e. {floor:.2f}× "
            f"the serial sum, and the runner's schedule reached {parallel.median / (busy / 2):.2f}× the ideal for the run "
            f"times it got (wall time ÷ (sum of the runs in the parallel run ÷ 2)). What is lost is inside the runs: "
            f"with two at once each demo took {fmt_ratio(stretch)} its time alone (median over demos), while CPU "
            f"seconds went from {serial_cpu.median:.1f} (alone, summed) to {parallel_cpu.median:.1f} (parallel run): the two processes did not get two "
            f"whole cores (the machine is shared: see the load average; and two vCPUs of a VM may share a physical "
            f"core or memory bandwidth). The runner's ordering (longest first by the last known run) has nothing to go "
            f"on in an empty cache, so demos start in name order."
        )

    # `notes demos` with nothing to do, on the cleaned copy of the real site with its warm cache.
    if quick:
        noop_root, noop_env = root, env_for(DEMOS_CACHE_DIR=str(tmp / "cache-parallel"))
        # the fixture project has no pages; give it a docs folder and mkdocs.yml so `notes` finds its root
        (root / "docs").mkdir(exist_ok=True)
        (root / "mkdocs.yml").write_text("site_name: quick\n", encoding="utf-8")
    else:
        if site is None:
            site = realsite.make_copy(tmp / "real")
        missing = realsite.missing_runs(site.root, site.cache)
        if missing:
            run_measured([str(realsite.NOTES), "demos"], cwd=site.root, env=site.env(), timeout_s=900, check=False)
        noop_root, noop_env = site.root, site.env()
    noop = Sample()
    last = ""
    for _ in range(5):
        r = run_measured([str(realsite.NOTES), "demos"], cwd=noop_root, env=noop_env, timeout_s=60, check=False)
        noop.add(r.seconds)
        last = r.output.strip().splitlines()[-1] if r.output.strip() else f"exit {r.returncode}"
    sec.add(
        f"`notes demos` with nothing to do (5 runs, in the {'fixture project' if quick else 'copy of the real site'} "
        f"with its warm cache): {fmt_s(noop, 3)} s; its last line: `{last}`."
    )
    sec.goal(f"`notes demos` with nothing to do ≤ {GOAL_NOOP_S} s", f"{noop.median:.3f} s", noop.median <= GOAL_NOOP_S and " 0 ran" in last)
    shutil.rmtree(tmp / "cache-serial", ignore_errors=True)
    shutil.rmtree(tmp / "cache-parallel", ignore_errors=True)
    return sec
