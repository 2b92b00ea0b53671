"""``python -m bench.science``: every demo at seeds 0-3, and whether the phenomenon it shows holds on each.

Each demo's default run is repeated with ``seed`` set to 1, 2 and 3, through the project's runner and
its cache (each run in its own process with one torch thread, two at a time), so a seed already run
costs a lookup. For every run the demo's own ``phenomenon(data)`` says what its headline numbers are
and whether each claim holds; the demo's test asks the same function at a small size. The report,
one table per demo, is written to ``bench/SCIENCE.md``. A claim that fails on any seed is a bug in the
demo: the command then exits with status 1 (after writing the report).
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = (0, 1, 2, 3)
JOBS = 2  # demo processes at once (this project's machines have two cores)
REPORT = PROJECT_ROOT / "bench" / "SCIENCE.md"


def run_seeds(names: list[str] | None, seeds: tuple[int, ...], jobs: int = JOBS) -> dict[tuple[str, int], dict[str, Any]]:
    """Run (or find in the cache) every demo at every seed; returns {(demo, seed): {"data", "seconds", "status", "error"}}.

    The one place that touches the build machinery: the same settings as the site (``extra.demos``
    of mkdocs.yml, so the same cache), on the CPU, ``jobs`` processes at once.
    """
    from hooks.config import read_config
    from hooks.figures.cache import DemoCache
    from hooks.figures.directive import SpecCache
    from hooks.figures.plan import Settings, plan_jobs
    from hooks.figures.runner import run_jobs

    config_path = PROJECT_ROOT / "mkdocs.yml"
    extra = read_config(config_path).get("extra") or {}
    settings = Settings.from_extra(PROJECT_ROOT, extra, jobs=jobs, device="cpu", config_path=config_path)
    # A generous timeout: on a machine busy with other work a run can take several times its usual
    # seconds, and a slow run is not a failed phenomenon.
    settings.timeout_s = max(settings.timeout_s, 900.0)
    specs = SpecCache(settings.demos_dir)
    from hooks.figures.spec import demo_names

    wanted = names or [name for name in demo_names(settings.demos_dir) if judged(name)]
    seeded = [(name, {"seed": s}) for name in wanted for s in seeds if s != specs.get(name).defaults()["seed"]]
    jobs_, problems = plan_jobs(settings, [], specs, only=wanted, include_defaults=True, extra_runs=seeded)
    if problems:
        raise SystemExit("\n".join(str(p) for p in problems))
    done = 0

    def progress(result) -> None:
        nonlocal done
        done += 1
        seed = result.job.params.get("seed")
        print(f"[{done}/{len(jobs_)}] {result.job.name} seed {seed}: {result.status} {result.seconds:.1f} s"
              + (f" ({result.error})" if result.error else ""), file=sys.stderr, flush=True)

    out = {}
    for r in run_jobs(jobs_, settings, DemoCache(settings.cache_dir), on_result=progress):
        data = json.loads(r.entry.file("data.json").read_text(encoding="utf-8")) if r.entry else None
        seconds = r.entry.manifest.get("seconds") if r.entry else None
        out[(r.job.name, r.job.params["seed"])] = {"data": data, "seconds": seconds, "status": r.status, "error": r.error}
    return out


def judged(name: str) -> bool:
    """Whether the demo states its phenomenon (read from its source, without importing it)."""
    import ast

    tree = ast.parse((PROJECT_ROOT / "demos" / f"{name}.py").read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == "phenomenon" for node in tree.body)


def judge(name: str, data: dict[str, Any] | None) -> list[Any]:
    """The demo's claims for one run's data (an empty list when the run failed)."""
    if data is None:
        return []
    return importlib.import_module(f"demos.{name}").phenomenon(data)


def _cell(claim) -> str:
    mark = {True: "✓", False: "✗ **fails**", None: "(reported)"}[claim.holds]
    return f"{claim.value} {mark}" if claim.holds is not None else claim.value


def report(runs: dict[tuple[str, int], dict[str, Any]], seeds: tuple[int, ...], wall_s: float) -> tuple[str, bool]:
    from bench.common import machine_table, table

    names = sorted({name for name, _ in runs})
    sections, summary, all_ok = [], [], True
    for name in names:
        per_seed = {s: runs[(name, s)] for s in seeds}
        if all(r["status"] == "needs-gpu" for r in per_seed.values()):
            summary.append([f"`{name}`", "not run: it needs a GPU, and this machine has none", "–"])
            continue
        claims = {s: judge(name, per_seed[s]["data"]) for s in seeds}
        failed_runs = [s for s in seeds if per_seed[s]["data"] is None]
        rows, holds_everywhere = [], not failed_runs
        for i, first in enumerate(claims[seeds[0]] or next((c for c in claims.values() if c), [])):
            cells = [_cell(claims[s][i]) if len(claims[s]) > i else "run failed" for s in seeds]
            results = [claims[s][i].holds for s in seeds if len(claims[s]) > i]
            values = {claims[s][i].value for s in seeds if len(claims[s]) > i}
            ok = sum(1 for h in results if h)
            if first.deterministic and len(values) > 1:
                # Marked as independent of the seed, yet it differs between seeds: a bug in the demo.
                verdict = "**differs between seeds**, though marked deterministic"
                holds_everywhere = False
            elif first.holds is None:
                verdict = "reported, deterministic" if first.deterministic else "reported"
            elif first.deterministic and ok == len(seeds):
                verdict = "deterministic"
            else:
                verdict = f"{ok}/{len(seeds)}"
                holds_everywhere &= ok == len(seeds)
            rows.append([first.what, *cells, verdict])
        rows.append(["seconds of the run (one torch thread; longer when the machine is busy)",
                     *[f"{per_seed[s]['seconds']:.1f}" if per_seed[s]["seconds"] else "–" for s in seeds], ""])
        all_ok &= holds_everywhere
        summary.append([f"[`{name}`](#{name})", "yes" if holds_everywhere else "**no**",
                        ", ".join(f"seed {s}: {per_seed[s]['error']}" for s in failed_runs) or "–"])
        sections.append(f"## {name}\n\n" + table(["claim", *[f"seed {s}" for s in seeds], "holds"], rows))
    today = dt.date.today().isoformat()
    head = (
        f"# Science: every demo at seeds {', '.join(map(str, seeds))}\n\n"
        f"Written by `make science` (`python -m bench.science`) on {today}, in {wall_s / 60:.1f} minutes. Each demo's "
        "default run and the same run with `seed` set to each other value, through the project's runner and cache "
        f"(CPU, one torch thread per process, {JOBS} processes at once). The claims and their thresholds are the "
        "demo's own `phenomenon(data)`, the function its test in `tests/demos/` also asserts at a small size. "
        "✓: the claim holds on that seed; (reported): a number shown for what it is, not claimed; "
        "deterministic: the claim does not depend on the seed (an operation count, a formula, the spectrum of a "
        "fixed kernel), so it is one check, which holds, not one per seed (the report checks that every seed "
        "gives the same value).\n\n"
        + table(["demo", "phenomenon holds on every seed", "failed runs"], summary)
        + "\n\n<details><summary>Machine</summary>\n\n" + machine_table() + "\n\n</details>\n"
    )
    return head + "\n" + "\n\n".join(sections) + "\n", all_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.science", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="demos to run (default: all)")
    parser.add_argument("--out", type=Path, default=REPORT, help=f"report file (default: {REPORT.relative_to(PROJECT_ROOT)})")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT_ROOT))
    started = time.perf_counter()
    runs = run_seeds(args.names or None, SEEDS)
    text, ok = report(runs, SEEDS, time.perf_counter() - started)
    from hooks.figures.spec import demo_names

    unjudged = [n for n in demo_names(PROJECT_ROOT / "demos") if not judged(n) and (not args.names or n in args.names)]
    if unjudged:
        text = text.replace("\n\n<details>", "\n\nNot run, because they state no `phenomenon(data)` to judge: "
                            + ", ".join(f"`{n}`" for n in unjudged) + ".\n\n<details>", 1)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.out}" + ("" if ok else "; some claim fails on some seed (see ✗ above)"), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
