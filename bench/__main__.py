"""``python -m bench [scale|rebuild|demos|serve|remote|vault|weight] [--quick]``: run the benchmarks and print a Markdown report.

With no section, all seven run (in the order rebuild, demos, serve, remote, vault, weight, scale, so that the scale section,
whose repeat counts bend most easily, gets what is left of the time budget) and the report is
written, dated, to ``bench/RESULTS.md``. One section, or ``--quick`` (reduced sizes, a smoke test),
writes ``bench/out/RESULTS-<what>.md`` instead, so a partial run never replaces the full results.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import demo_runs, rebuild, remote, scale, serve, vault, weight
from bench.budget import Budget
from bench.common import PROJECT_ROOT, BenchError, load_average, machine_table, table
from bench.report import Section, verdict

SECTIONS = ("scale", "rebuild", "demos", "serve", "remote", "vault", "weight")
ORDER = ("rebuild", "demos", "serve", "remote", "vault", "weight", "scale")
TOTAL_BUDGET_S = 55 * 60  # `make bench` plans for 55 minutes (10,000-note builds take minutes each); the last build may overrun
SHARE = {"rebuild": 170, "demos": 330, "serve": 480, "remote": 600, "vault": 360, "weight": 240}  # seconds each may plan for; scale gets the rest
HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("section", nargs="?", choices=SECTIONS, help="run one section only")
    parser.add_argument("--quick", action="store_true", help="reduced sizes and fixture demos: a smoke test")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    wanted = [s for s in ORDER if args.section in (None, s)]
    tmp = Path(tempfile.mkdtemp(prefix="dl-notes-bench-"))
    sections: dict[str, Section] = {}
    failures: list[str] = []
    load_before = load_average()
    try:
        site = None
        for name in wanted:
            left = TOTAL_BUDGET_S - (time.perf_counter() - started)
            if name == "scale" or args.section:
                share = left if args.section is None else TOTAL_BUDGET_S
            else:
                share = SHARE[name]
            budget = Budget(max(share, 0.0), name)
            t0 = time.perf_counter()
            print(f"[bench] {name}: running (plans for {share:.0f} s) ...", file=sys.stderr, flush=True)
            try:
                if name == "scale":
                    sec = scale.run(tmp, args.quick, budget)
                elif name == "rebuild":
                    sec = rebuild.run(tmp, args.quick, budget)
                    site = _site_from(tmp)
                elif name == "demos":
                    sec = demo_runs.run(tmp, args.quick, budget, site)
                elif name == "remote":
                    sec = remote.run(tmp, args.quick, budget)
                elif name == "vault":
                    sec = vault.run(tmp, args.quick, budget)
                elif name == "weight":
                    sec = weight.run(tmp, args.quick, budget)
                else:
                    sec = serve.run(tmp, args.quick, budget)
            except BenchError as exc:
                failures.append(f"{name}: {exc}")
                sec = Section(name, f"{name}: failed")
                sec.add(f"The section stopped:\n\n```\n{exc}\n```")
            sec.seconds = time.perf_counter() - t0
            sections[name] = sec
            print(f"[bench] {name}: {sec.seconds:.0f} s", file=sys.stderr, flush=True)
    finally:
        if args.keep:
            print(f"[bench] temporary files kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    total = time.perf_counter() - started
    text = _report(sections, total, args, load_before)
    print(text)
    if args.section is None and not args.quick:
        out = HERE / "RESULTS.md"
    else:
        (HERE / "out").mkdir(exist_ok=True)
        out = HERE / "out" / f"RESULTS-{args.section or 'all'}{'-quick' if args.quick else ''}.md"
    out.write_text(text, encoding="utf-8")
    print(f"[bench] written to {out.relative_to(PROJECT_ROOT)}; total {total:.0f} s", file=sys.stderr)
    return 1 if failures else 0


def _site_from(tmp: Path):
    """The real-site copy the rebuild section made (reused by the demos section for `notes demos`)."""
    from bench.realsite import RealSite

    root = tmp / "real" / "site-src"
    return RealSite(root, tmp / "real" / "cache") if root.is_dir() else None


def _report(sections: dict[str, Section], total: float, args, load_before: str) -> str:
    now = dt.datetime.now().astimezone()
    what = "all sections" if args.section is None else f"section {args.section}"
    out = [
        "# Benchmark results",
        "",
        f"Run on {now:%Y-%m-%d %H:%M %Z} with `python -m bench{' ' + args.section if args.section else ''}"
        f"{' --quick' if args.quick else ''}` ({what}{', reduced sizes' if args.quick else ''}).",
        "",
        machine_table(),
        "",
        f"Load average (1, 5, 15 min) before: {load_before}; after: {load_average()}. On a shared machine the times "
        "are noisy: every ratio is taken between builds made side by side in the same round.",
        "",
    ]
    goals = [g for name in SECTIONS if name in sections for g in sections[name].goals]
    if goals:
        out += ["## Goals", "", table(["section", "goal", "measured", "verdict"],
                                      [[g.section, g.text, g.measured, verdict(g.met)] for g in goals]), ""]
    for name in SECTIONS:
        if name in sections:
            out += [sections[name].render(), ""]
    findings = HERE / "FINDINGS.md"
    if findings.is_file() and args.section is None and not args.quick:
        out += [findings.read_text(encoding="utf-8").strip(), ""]
    out += [f"Total wall time of this run: {total:.0f} s ({total / 60:.1f} min).", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
