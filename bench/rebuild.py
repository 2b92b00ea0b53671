"""Section 2, rebuild: the real site with every demo cached, against the same site without the demo hook,
and one demo run by markdown-exec on every build against the same page served from the cache by the hook.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from bench import phases, realsite
from bench.budget import Budget
from bench.common import PROJECT_ROOT, Sample, fmt_mib, fmt_ratio, fmt_s, mkdocs_build, ratio_sample, table
from bench.profiling import compare_table, profile_build
from bench.report import Section

GOAL_WARM = 1.15
GOAL_EXEC = 10.0


def _without_demo_hook(site: realsite.RealSite, dest: Path) -> Path:
    """A copy of the site with the demo hook line and the 'Demo runs' nav entry removed and `!demo` lines stripped."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(site.root, dest, symlinks=True)
    cfg = dest / "mkdocs.yml"
    lines = cfg.read_text(encoding="utf-8").split("\n")
    kept = [line for line in lines if "mkdocs_demos.py" not in line and "demo-runs.md" not in line]
    cfg.write_text("\n".join(kept), encoding="utf-8")
    realsite.strip_directives(dest / "docs")
    return cfg


def _fastest_demo(cache: Path) -> tuple[str, str, float] | None:
    """The demo whose cached default run took the fewest seconds: (name, first figure, seconds)."""
    best = None
    for manifest in (cache / "entries").glob("*/*/manifest.json"):
        m = json.loads(manifest.read_text(encoding="utf-8"))
        if m.get("params_id") != "default" or m.get("status") != "ok":
            continue
        if not (PROJECT_ROOT / "demos" / f"{m['demo']}.py").is_file():
            continue
        if best is None or m["seconds"] < best[2]:
            best = (m["demo"], m["figures"][0], float(m["seconds"]))
    return best


def _one_page_site(root: Path, page: str, plugins: list, hooks: list[str], demo: str) -> Path:
    """A one-page site with the project's theme and extensions, and of demos/ only ``demo`` and the shared
    modules (``__init__.py``, ``_*.py``): same relative paths, so the same cache keys; the demo hook plans
    every demo's default run, so other demos must not be there."""
    if root.exists():
        shutil.rmtree(root)
    (root / "docs").mkdir(parents=True)
    (root / "demos").mkdir()
    for path in (PROJECT_ROOT / "demos").glob("*.py"):
        if path.name.startswith("_") or path.stem == demo:
            shutil.copy2(path, root / "demos" / path.name)
    (root / "docs" / "index.md").write_text(page, encoding="utf-8")
    base = yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    cfg = {
        "site_name": "One demo",
        "site_url": base.get("site_url"),
        "theme": base["theme"],
        "markdown_extensions": base["markdown_extensions"],
        "plugins": plugins,
        "extra": {"demos": dict(base.get("extra", {}).get("demos", {}), jobs=1)},
    }
    if hooks:
        cfg["hooks"] = hooks
    path = root / "mkdocs.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


EXEC_PAGE = '''\
# {demo}

```python exec="on" html="on"
import sys, tempfile
from pathlib import Path
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads(1)  # as the demo runner does
from demos.{demo} import Config, run
cfg = Config()
torch.manual_seed(cfg.seed)
out = Path(tempfile.mkdtemp(prefix="run-", dir={root!r}))
run(cfg, out, "cpu")
for theme in ("light", "dark"):
    svg = (out / "{figure}-" + theme + ".svg").read_text(encoding="utf-8")
    print('<figure class="demo-' + theme + '">' + svg[svg.index("<svg"):] + "</figure>")
```
'''

PLAIN_PAGE = """\
# {demo}

The {demo} demo's {figure} figure would be here.
"""

HOOK_PAGE = """\
# {demo}

!demo[The {demo} demo's {figure} figure, served from the cache.]({demo}/{figure})
"""


def run(tmp: Path, quick: bool, budget: Budget, runs: int = 3) -> Section:
    sec = Section("rebuild", "2. Rebuild: the real site with every demo cached")
    site = realsite.make_copy(tmp / "real")
    ran, cached, failed, _ = realsite.warm_build(site, tmp / "real" / "site-warmup")
    warmup = f"An unmeasured first build of the copy ran {ran} demo run(s) the cache copy lacked ({failed} failed), reused {cached}."
    if failed:
        realsite.drop_failing_demos(site)
        ran, cached, failed, _ = realsite.warm_build(site, tmp / "real" / "site-warmup")
    missing = realsite.missing_runs(site.root, site.cache)
    off_cfg = _without_demo_hook(site, tmp / "real" / "site-src-nodemos")
    sec.add(
        "The real site (`docs/`, `demos/`, `mkdocs.yml`, `hooks` linked) copied to a temporary folder; the demo cache is "
        "a copy of `.demos-cache/` given through `DEMOS_CACHE_DIR`. **with demo hook**: the project's mkdocs.yml as it "
        "is, every demo run served from the cache. **without demo hook**: the same copy with the `hooks/mkdocs_demos.py` "
        "line and the 'Demo runs' nav entry removed from mkdocs.yml and the `!demo[...]` lines **stripped** from the pages "
        "(kept, they would render as text and links to missing pages). Both builds with the site hook. "
        + warmup + " " + realsite.describe(site)
    )
    on, off = Sample(), Sample()
    on_rss, off_rss = Sample(), Sample()
    for rnd in range(max(runs, 5) if not quick else runs):
        if rnd >= runs and not budget.fits(on.median + off.median + 100):
            break
        pair = [("on", site.config), ("off", off_cfg)]
        if rnd % 2:
            pair.reverse()
        for which, cfg in pair:
            r = mkdocs_build(cfg, cfg.parent / "site-bench", env=site.env())
            (on if which == "on" else off).add(r.seconds)
            (on_rss if which == "on" else off_rss).add(r.maxrss_kib)
    warm_ratio = ratio_sample(on, off)
    rows = [
        ["real site, with demo hook, every demo cached", on.n, fmt_s(on), fmt_ratio(warm_ratio), fmt_mib(on_rss)],
        ["real site, without demo hook", off.n, fmt_s(off), "1", fmt_mib(off_rss)],
    ]
    ok = warm_ratio.median <= GOAL_WARM and not missing
    sec.goal(f"warm rebuild with the demo hook ≤ {GOAL_WARM}× without it", fmt_ratio(warm_ratio)
             + (f" (not every run cached: {', '.join(missing)})" if missing else ""), ok)

    # markdown-exec runs the demo on every build; the hook serves the same figure from the cache.
    pick = _fastest_demo(site.cache)
    exec_rows: list[list[object]] = []
    if pick is None:
        sec.goal(f"cached page through the hook ≥ {GOAL_EXEC}× faster than markdown-exec", "no cached demo run to compare", None)
    else:
        demo, figure, seconds = pick
        ex_cfg = _one_page_site(
            tmp / "exec", EXEC_PAGE.format(demo=demo, figure=figure, root=str(tmp / "exec")), ["search", "tags", "markdown-exec"], [], demo
        )
        hk_cfg = _one_page_site(
            tmp / "hookpage", HOOK_PAGE.format(demo=demo, figure=figure), ["search", "tags"],
            [str(PROJECT_ROOT / "hooks" / "mkdocs_site.py"), str(PROJECT_ROOT / "hooks" / "mkdocs_demos.py")], demo,  # the demo hook plans through the site hook
        )
        pl_cfg = _one_page_site(tmp / "plainpage", PLAIN_PAGE.format(demo=demo, figure=figure), ["search", "tags"], [], demo)
        realsite.warm_build(site, tmp / "hookpage" / "site-warmup", config=hk_cfg)
        samples = {k: (Sample(), Sample()) for k in ("exec", "hook", "plain")}
        configs = {"exec": ex_cfg, "hook": hk_cfg, "plain": pl_cfg}
        for rnd in range(1 if quick else runs):
            if rnd and not budget.fits(sum(t.median for t, _ in samples.values()) + 10):
                break
            for which in ("exec", "hook", "plain") if rnd % 2 == 0 else ("plain", "hook", "exec"):
                cfg = configs[which]
                r = mkdocs_build(cfg, cfg.parent / "site-bench", env=site.env())
                samples[which][0].add(r.seconds)
                samples[which][1].add(r.maxrss_kib)
            html = (ex_cfg.parent / "site-bench" / "index.html").read_text(encoding="utf-8")
            if "<svg" not in html:
                raise realsite.BenchError("the markdown-exec page has no figure; the code block did not run")
        (ex, ex_rss), (hk, hk_rss), (pl, pl_rss) = samples["exec"], samples["hook"], samples["plain"]
        speed = ratio_sample(ex, hk)
        exec_rows = [
            [f"markdown-exec: `{demo}` run in a `python exec=\"on\"` block, SVG inlined", ex.n, fmt_s(ex), fmt_ratio(speed), fmt_mib(ex_rss)],
            ["this project's demo hook: the same figure from the cache", hk.n, fmt_s(hk), "1", fmt_mib(hk_rss)],
            ["floor: the same one-page site with neither (text instead of the figure)", pl.n, fmt_s(pl),
             fmt_ratio(ratio_sample(pl, hk)), fmt_mib(pl_rss)],
        ]
        sec.add(
            f"One-page sites, same theme, plugins search and tags: the page runs the fastest real demo, `{demo}` "
            f"(its cached default run took {seconds:.1f} s), with its default Config and one torch thread, and shows "
            f"its `{figure}` figure (light and dark); through markdown-exec the demo runs in every build, through "
            f"the demo hook (`!demo[...]({demo}/{figure})`, demo hook only) the figure comes from the cache copy. "
            "The floor row is MkDocs alone on the same page, so markdown-exec ÷ hook cannot exceed "
            "(demo + floor) ÷ floor.\n\n"
            + table(["build", "runs", "time s", "÷ hook", "peak RSS MiB"], exec_rows)
        )
        met = speed.median >= GOAL_EXEC if speed.n else None
        sec.goal(f"cached page through the hook ≥ {GOAL_EXEC:g}× faster than markdown-exec", fmt_ratio(speed), met)
        if met is False:
            work = tmp / "profiles"
            by_phase = {
                "hook, cached": phases.measure(hk_cfg, tmp / "hookpage" / "site-phases", work, env=site.env()),
                "floor": phases.measure(pl_cfg, tmp / "plainpage" / "site-phases", work, env=site.env()),
            }
            profs = {
                "hook, cached": profile_build(hk_cfg, tmp / "hookpage" / "site-prof", work / "hookpage.prof", env=site.env()),
                "floor": profile_build(pl_cfg, tmp / "plainpage" / "site-prof", work / "plainpage.prof", env=site.env()),
            }
            hook_cpu = by_phase["hook, cached"]["whole process (CPU)"]
            floor_cpu = by_phase["floor"]["whole process (CPU)"]
            demo_s = max(ex.median - pl.median, 0.0)  # the demo's share of the markdown-exec build
            need = GOAL_EXEC * hk.median - pl.median
            sec.add(
                f"**Why markdown-exec ÷ hook is {speed.median:.1f}×, not {GOAL_EXEC:g}×.** markdown-exec costs the demo's "
                f"run (here about {demo_s:.1f} s: its build minus the floor) plus the floor; the cached page costs the "
                f"floor ({pl.median:.2f} s: MkDocs and Material on the same page, no hook) plus the demo hook's own "
                f"{hk.median - pl.median:.2f} s (CPU: {hook_cpu:.2f} s against {floor_cpu:.2f} s). So the ratio is "
                f"(demo + floor) ÷ (floor + hook), and {GOAL_EXEC:g}× needs a demo of at least {need:.1f} s with these "
                f"costs; `{demo}`, the fastest demo of the site, is shorter. "
                "By build phase (CPU s):\n\n" + phases.compare(by_phase)
                + "\n\nOne cProfile'd build each:\n\n" + compare_table(profs)
            )
    sec.markdown.insert(1, table(["build", "runs", "time s", "with ÷ without", "peak RSS MiB"], rows))
    if not ok and not missing:
        work = tmp / "profiles"
        by_phase = {
            "with demo hook": phases.measure(site.config, tmp / "real" / "phases-on", work, env=site.env()),
            "without": phases.measure(off_cfg, tmp / "real" / "phases-off", work, env=site.env()),
        }
        profs = {
            "with demo hook": profile_build(site.config, tmp / "real" / "prof-on", work / "real-on.prof", env=site.env()),
            "without": profile_build(off_cfg, tmp / "real" / "prof-off", work / "real-off.prof", env=site.env()),
        }
        sec.add(
            "**Profile of the missed goal.** CPU seconds by build phase (timing hooks first and last on every MkDocs "
            "event), one build each:\n\n" + phases.compare(by_phase)
            + "\n\nOne cProfile'd build each:\n\n" + compare_table(profs)
        )
    shutil.rmtree(tmp / "exec", ignore_errors=True)
    shutil.rmtree(tmp / "hookpage", ignore_errors=True)
    shutil.rmtree(tmp / "plainpage", ignore_errors=True)
    return sec

