"""Section 1, scale: synthetic sites of N dated notes built three ways, side by side.

(a) ``hooks``: this project's site hook (``hooks/mkdocs_site.py``) only; the demo hook is left out
    because these pages embed no demo (with it, every build would also plan the demos' default runs).
    Built twice a round: first without ``.kb-cache/`` (``cold``: a fresh clone, every source parsed),
    then with the archive that build left (a rebuild, as when a note was added or the site is
    published again: sources whose bytes did not change are not parsed again, see hooks.kb.archive).
(b) ``plain``: the same pages as plain MkDocs pages, wikilinks pre-rendered as Markdown links.
(c) ``blog``: the notes as posts of Material's blog plugin.

Each round builds every variant once, in an order that rotates from round to round, so that a slow
spell of the machine hits all three; ratios are taken within a round and their median reported.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from bench import phases, synth
from bench.budget import Budget
from bench.common import (
    BenchError,
    Sample,
    fmt_bytes,
    fmt_mib,
    fmt_ratio,
    fmt_s,
    mkdocs_build,
    ratio_sample,
    table,
    tree_bytes,
)
from bench.profiling import compare_table, hotspots, profile_build
from bench.report import Section

LABEL = {"hooks": "(a) this project's site hook", "cold": "(a) the same, first build (no `.kb-cache/`)",
         "plain": "(b) plain MkDocs, explicit nav", "blog": "(c) Material blog plugin"}
VARIANTS = ("hooks", "cold", "plain", "blog")
ROTATION = (("cold", "hooks"), ("plain",), ("blog",))  # a first build, then a rebuild over what it archived
SITE_OF = {"cold": "hooks"}  # the site a variant builds, when not its own
GOAL_TIME = 1.3
GOAL_SIZE = 1.5
WELL_AHEAD = 1.5  # "(a) well ahead of (c)": (c) takes at least this many times as long as (a)
MIN_RUNS = 3
PROFILE_N = 300
PROFILE_N_QUICK = 40


class _Measure:
    def __init__(self) -> None:
        self.wall = Sample()
        self.cpu = Sample()
        self.rss = Sample()
        self.size = 0
        self.pages = 0
        self.rounds: list[int] = []  # round index of each run


def _site_breakdown(site: Path) -> dict[str, int]:
    """Bytes by top-level entry of site/ (folders of pages, the search index, the theme's assets)."""
    out: dict[str, int] = {}
    for entry in site.iterdir():
        if entry.is_dir():
            key = entry.name + "/" if entry.name != "search" else "search/ (search_index.json)"
            out[key] = tree_bytes(entry)
        else:
            out["other files (home, sitemap, 404, ...)"] = out.get("other files (home, sitemap, 404, ...)", 0) + entry.stat().st_size
    return out


def run(tmp: Path, quick: bool, budget: Budget, runs: int = MIN_RUNS) -> Section:
    sec = Section("scale", "1. Scale: synthetic sites of dated notes")
    sizes = (20, 100) if quick else (100, 1000, 10000)
    goal_size = 100 if quick else 1000
    sec.add(
        "Each site: N dated notes (one a day, 5 paragraphs, 2 headings, 4 wikilinks to concepts through a title, "
        "an alias or a label, up to 3 to older notes, one to an older note's heading) and 30 concept pages, plus a home "
        "page and a tags page. Same theme settings and Markdown extensions as this project's mkdocs.yml; plugins "
        "search and tags in every variant.\n\n"
        "- (a) **hooks**: this project's layout with `[[wikilinks]]` and the **site hook only** "
        "(`hooks/mkdocs_site.py`; the demo hook is left out, these pages embed no demo). It adds the notes "
        "archive, the concept index, the concept map, the feed, backlinks, related concepts and the older/newer pager. "
        "Built twice a round: first with no `.kb-cache/` (a fresh clone: every source read and parsed), then again "
        "(a rebuild, every page rendered anew, but sources whose path and bytes are unchanged taken from the archive "
        "the first build wrote, `hooks/kb/archive.py`); the goals are taken on the rebuild, the usual build "
        "(after a note is added or edited, on publishing again).\n"
        "- (b) **plain**: the same files as plain MkDocs pages; each wikilink pre-rendered as the Markdown link the "
        "hook writes; explicit nav (Home, Tags), notes and concepts not in the nav (`not_in_nav`).\n"
        "- (c) **blog**: the notes as posts of Material's blog plugin in `docs/blog/posts` with their `date` front "
        "matter (default blog settings: 10 posts a page, archive by year), links pre-rendered as in (b).\n\n"
        "Time: wall seconds of `mkdocs build` in its own process (interpreter start-up included), median (min–max) "
        "over the runs. CPU: user+system seconds of that process. Peak RSS: ru_maxrss of that process (wait4). "
        "Ratios: per round, variant over (b) built in the same round; median (min–max) of the rounds."
    )
    rows = []
    per_size: dict[int, dict[str, _Measure]] = {}
    notes_on_runs: list[str] = []
    for n in sizes:
        sites: dict[str, Path] = {}  # written when a variant is first built (a size the budget skips costs nothing)
        measures = {v: _Measure() for v in VARIANTS}
        # The blog plugin is the comparison of the goal's size; above it its build time grows faster than
        # the number of posts (10,000 posts took over 10 minutes), so only (a) and (b) are built there.
        skipped = {"blog": f"not built above {goal_size:,} notes"} if n > goal_size else {}
        for rnd in range(runs):
            units = ROTATION[rnd % len(ROTATION):] + ROTATION[: rnd % len(ROTATION)]
            order = [v for unit in units for v in unit if v not in skipped]
            # Keep to the time budget: a variant is built only when its expected time still fits
            # (the slowest is dropped first); the first round of a size is predicted from the smaller sizes.
            estimate = {v: _predict(per_size, measures, v, n) for v in order}
            while order and not budget.fits(sum(estimate[v] for v in order)):
                order.remove(max(order, key=lambda v: estimate[v]))
            if not order:
                break
            for v in order:
                kind = SITE_OF.get(v, v)
                if kind not in sites:
                    sites[kind] = synth.write_site(tmp / f"scale-{n}-{kind}", n, kind)
                cfg = sites[kind]
                site_dir = cfg.parent / "site"
                archived = cfg.parent / ".kb-cache"
                try:
                    if v == "cold":
                        shutil.rmtree(archived, ignore_errors=True)
                    elif kind == "hooks" and not archived.exists():  # the cold build was left out: make the archive
                        mkdocs_build(cfg, site_dir)
                    r = mkdocs_build(cfg, site_dir)
                except BenchError as exc:  # a build that times out or fails: said in the table, the section goes on
                    skipped[v] = f"stopped: {str(exc).splitlines()[0][-160:]}"
                    continue
                m = measures[v]
                m.wall.add(r.seconds)
                m.cpu.add(r.cpu_s)
                m.rss.add(r.maxrss_kib)
                m.rounds.append(rnd)
                if not m.size:
                    m.size = tree_bytes(site_dir)
                    m.pages = sum(1 for _ in site_dir.rglob("*.html"))
        per_size[n] = measures
        base = measures["plain"]
        for v in VARIANTS:
            m = measures[v]
            if not m.wall.n:
                if v in skipped:
                    rows.append([f"{n:,}", LABEL[v], 0, skipped[v], "", "", "", "", "", "", ""])
                    continue
                rows.append([f"{n:,}", LABEL[v], 0, "not run (time budget)", "", "", "", "", "", "", ""])
                notes_on_runs.append(f"{n:,} notes, {LABEL[v]}: not run; one build would take about "
                                     f"{_predict(per_size, measures, v, n):.0f} s, more than the time left")
                continue
            if v in skipped:
                notes_on_runs.append(f"{n:,} notes, {LABEL[v]}: {skipped[v]}")
            if v != "plain":
                paired = _paired(m, base)
                t_ratio = fmt_ratio(ratio_sample(*paired))
                cpu_ratio = fmt_ratio(ratio_sample(*_paired(m, base, cpu=True)))
                s_ratio = fmt_ratio(m.size / base.size) if base.size else "–"
            else:
                t_ratio = cpu_ratio = s_ratio = "1"
            rows.append([
                f"{n:,}", LABEL[v], m.wall.n, fmt_s(m.wall), t_ratio, fmt_s(m.cpu), cpu_ratio, fmt_mib(m.rss),
                fmt_bytes(m.size), s_ratio, m.pages,
            ])
            if m.wall.n < runs:
                expected = _predict(per_size, measures, v, n) if not m.wall.n else m.wall.median
                notes_on_runs.append(
                    f"{n:,} notes, {LABEL[v]}: {m.wall.n} run(s) instead of {runs} (one build takes about {expected:.0f} s), "
                    "to keep `make bench` within its time budget"
                )
        if n == goal_size:
            _goals(sec, n, measures)
            sec.add(_size_table(n, {v: cfg for v, cfg in sites.items() if measures[v].size}))
            if any(g.met is False for g in sec.goals):
                size = PROFILE_N_QUICK if quick else PROFILE_N if budget.fits(60) else 100
                sec.add(_profile(tmp, size))
        for cfg in sites.values():
            shutil.rmtree(cfg.parent, ignore_errors=True)
    sec.markdown.insert(1, table(
        ["notes", "variant", "runs", "time s", "time ÷ (b)", "CPU s", "CPU ÷ (b)", "peak RSS MiB", "site size", "size ÷ (b)", "HTML pages"],
        rows,
    ))
    if notes_on_runs:
        sec.markdown.insert(2, "Fewer runs: " + "; ".join(notes_on_runs) + ".")
    per_note = []
    for v in VARIANTS:
        measured = [m for m in sizes if per_size[m][v].cpu.n]
        if len(measured) < 2:
            continue
        small, big = measured[0], measured[-1]
        a, b = per_size[small][v].cpu.median, per_size[big][v].cpu.median
        ra, rb = per_size[small][v].rss.median, per_size[big][v].rss.median
        per_note.append(f"{LABEL[v]}: {(b - a) / (big - small) * 1000:.1f} ms of CPU and {(rb - ra) / (big - small):.1f} KiB "
                        f"of peak memory per added note ({small:,} → {big:,})")
        if len(measured) >= 3:  # linear growth: the slope over the upper sizes stays near the slope over the lower ones
            mid = measured[-2]
            c = per_size[mid][v].cpu.median
            low, high = (c - a) / (mid - small), (b - c) / (big - mid)
            per_note[-1] += f", CPU per note {low * 1000:.1f} ms below {mid:,} and {high * 1000:.1f} ms above"
    sec.add("Cost of one more note (slopes, so start-up cancels): " + "; ".join(per_note) + ".")
    return sec


def _predict(per_size: dict[int, dict[str, _Measure]], current: dict[str, _Measure], v: str, n: int) -> float:
    """Expected wall seconds of one build of variant ``v`` with ``n`` notes."""
    if current[v].wall.n:
        return current[v].wall.median
    known = sorted((m, per_size[m][v].wall.median) for m in per_size if per_size[m][v].wall.n)
    if not known:
        return 0.0
    if len(known) == 1:
        m, t = known[0]
        return t * n / m
    (m0, t0), (m1, t1) = known[-2], known[-1]
    return t1 + (t1 - t0) / (m1 - m0) * (n - m1)


def _paired(m: _Measure, base: _Measure, cpu: bool = False) -> tuple[Sample, Sample]:
    """The runs of ``m`` and ``base`` made in the same rounds, in round order."""
    a = dict(zip(m.rounds, (m.cpu if cpu else m.wall).values))
    b = dict(zip(base.rounds, (base.cpu if cpu else base.wall).values))
    common = sorted(a.keys() & b.keys())
    return Sample([a[r] for r in common]), Sample([b[r] for r in common])


def _goals(sec: Section, n: int, ms: dict[str, _Measure]) -> None:
    a_b = ratio_sample(*_paired(ms["hooks"], ms["plain"]))
    a_b_cpu = ratio_sample(*_paired(ms["hooks"], ms["plain"], cpu=True))
    cold = ratio_sample(*_paired(ms["cold"], ms["plain"]))
    size = ms["hooks"].size / ms["plain"].size if ms["plain"].size else float("nan")
    c_a = ratio_sample(*_paired(ms["blog"], ms["hooks"]))
    c_b = ratio_sample(*_paired(ms["blog"], ms["plain"]))
    sec.goal(f"{n:,} notes: (a) ≤ {GOAL_TIME}× (b) in time (a rebuild; a first build without .kb-cache/ in brackets)",
             f"{fmt_ratio(a_b)} (CPU {fmt_ratio(a_b_cpu)}) (first build: {fmt_ratio(cold) if cold.n else 'not run'})",
             a_b.median <= GOAL_TIME if a_b.n else None)
    sec.goal(f"{n:,} notes: (a) ≤ {GOAL_SIZE}× (b) in site size", fmt_ratio(size), size <= GOAL_SIZE if size == size else None)
    sec.goal(
        f"{n:,} notes: (a) well ahead of (c), i.e. (c) ≥ {WELL_AHEAD}× (a) in time (before: (c) at 2.8× (b))",
        f"(c) = {fmt_ratio(c_a)} (a), (c) = {fmt_ratio(c_b)} (b)",
        c_a.median >= WELL_AHEAD if c_a.n else None,
    )


def _size_table(n: int, sites: dict[str, Path]) -> str:
    parts = {v: _site_breakdown(cfg.parent / "site") for v, cfg in sites.items()}
    for v in synth.VARIANTS:
        parts.setdefault(v, {})
    keys = sorted(set().union(*parts.values()), key=lambda k: -parts["hooks"].get(k, 0))
    rows = [[k] + [fmt_bytes(parts[v].get(k, 0)) if parts[v].get(k) else "–" for v in synth.VARIANTS] for k in keys]
    rows.append(["**total**"] + [f"**{fmt_bytes(sum(parts[v].values()))}**" if parts[v] else "not built" for v in synth.VARIANTS])
    return f"Site size by folder, {n:,} notes:\n\n" + table(["site/ entry", "(a) hooks", "(b) plain", "(c) blog"], rows)


def _profile(tmp: Path, size: int) -> str:
    """Where (a) spends more than (b): CPU by build phase, then cProfile buckets and the hooks' hot functions.

    Done on smaller sites than the goal's (the ratio (a)/(b) hardly changes with the number of notes, see
    the table) to keep within the time budget.
    """
    work = tmp / "profiles"
    configs = {v: synth.write_site(tmp / f"profile-{size}-{v}", size, v) for v in ("hooks", "plain")}
    mkdocs_build(configs["hooks"], configs["hooks"].parent / "site")  # (a) profiled as a rebuild, as the goal is taken
    names = {"hooks": "(a) hooks", "plain": "(b) plain"}
    by_phase = {names[v]: phases.measure(cfg, cfg.parent / "site-phases", work) for v, cfg in configs.items()}
    profs = {names[v]: profile_build(cfg, cfg.parent / "site-prof", work / f"scale-{size}-{v}.prof") for v, cfg in configs.items()}
    hot = hotspots(profs["(a) hooks"], "hooks/", limit=8)
    hot_rows = [[name, calls, f"{own:.2f}", f"{cum:.2f}"] for name, calls, own, cum in hot]
    for cfg in configs.values():
        shutil.rmtree(cfg.parent, ignore_errors=True)
    return (
        f"**Profile of the missed goal**, sites of {size:,} notes (the ratio (a)/(b) barely moves with the size, see "
        "the table); (a) is profiled as a rebuild, after one build that wrote its `.kb-cache/`. First, CPU seconds by build phase (two timing hooks, first and last on every MkDocs event; no "
        "profiler overhead):\n\n"
        + phases.compare(by_phase)
        + "\n\nThen one cProfile'd build of each (cProfile inflates Python-heavy parts; compare columns, not absolute values):\n\n"
        + compare_table(profs)
        + "\n\nFunctions of this project's hooks with the most own time in (a):\n\n"
        + table(["function (hooks/)", "calls", "own s", "cumulative s"], hot_rows)
    )
