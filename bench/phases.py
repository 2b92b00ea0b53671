"""Where a build's CPU time goes, by phase, without a profiler's overhead.

Two hook files are added to a copy of a site's mkdocs.yml: one runs first and one last for every
MkDocs event, and both note the process's CPU time. The CPU time between two notes belongs to one
phase: e.g. from the last ``on_page_markdown`` handler to the first ``on_page_content`` handler is
Python-Markdown turning that page into HTML; from the first to the last ``on_page_markdown`` handler
is what the hooks and plugins do to the Markdown.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import yaml

from bench.common import PYTHON, env_for, run_measured, table

_SIGNATURES = {
    "config": ("config", "config"),
    "pre_build": ("config", "None"),
    "files": ("files, config", "files"),
    "nav": ("nav, config, files", "nav"),
    "env": ("env, config, files", "env"),
    "pre_page": ("page, config, files", "page"),
    "page_markdown": ("markdown, page, config, files", "markdown"),
    "page_content": ("html, page, config, files", "html"),
    "page_context": ("context, page, config, nav", "context"),
    "post_page": ("output, page, config", "output"),
    "post_build": ("config", "None"),
}

_HEADER = '''import json, os, sys, time, types
from mkdocs.plugins import event_priority
_st = sys.modules.setdefault("_bench_phases", types.ModuleType("_bench_phases"))
if not hasattr(_st, "log"):
    _st.log = []
'''

# (event, which) -> (next event, which) : phase name
PHASES = {
    ("pre_build", "first", "pre_build", "last"): "on_pre_build handlers (this project's hooks: read sources, build the graph)",
    ("pre_build", "last", "files", "first"): "MkDocs: collect files",
    ("files", "first", "files", "last"): "on_files handlers (generated pages, feed)",
    ("files", "last", "nav", "first"): "MkDocs: build the nav",
    ("pre_page", "last", "page_markdown", "first"): "MkDocs: read each page, front matter",
    ("page_markdown", "first", "page_markdown", "last"): "on_page_markdown handlers (wikilinks, backlinks, pager)",
    ("page_markdown", "last", "page_content", "first"): "Python-Markdown: Markdown to HTML",
    ("page_content", "first", "page_content", "last"): "on_page_content handlers",
    ("page_context", "first", "page_context", "last"): "on_page_context handlers (search plugin indexes the page)",
    ("page_context", "last", "post_page", "first"): "theme templates (Jinja2)",
    ("post_page", "first", "post_page", "last"): "on_post_page handlers (feed link)",
    ("post_page", "last", "page_context", "first"): "MkDocs: write each page",
    ("post_build", "first", "post_build", "last"): "on_post_build handlers (search index, tags)",
}


def write_hooks(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for which, priority in (("first", 10000), ("last", -10000)):
        src = _HEADER
        for event, (args, ret) in _SIGNATURES.items():
            src += f"\n\n@event_priority({priority})\ndef on_{event}({args}):\n"
            src += f"    _st.log.append(('{event}', '{which}', time.process_time()))\n"
            if event == "post_build" and which == "last":
                src += "    with open(os.environ['BENCH_PHASES_OUT'], 'w') as f:\n        json.dump(_st.log, f)\n"
            src += f"    return {ret}\n"
        path = folder / f"bench_phase_{which}.py"
        path.write_text(src, encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def measure(config: Path, site_dir: Path, work: Path, env: dict[str, str] | None = None) -> dict[str, float]:
    """Build ``config`` once with the phase hooks around its own; CPU seconds by phase."""
    first, last = write_hooks(work)
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    cfg["hooks"] = [str(first)] + [str(config.parent / h) if not Path(h).is_absolute() else h for h in cfg.get("hooks", [])] + [str(last)]
    timed = config.parent / "mkdocs-phases.yml"
    timed.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    out = work / f"phases-{config.parent.name}.json"
    env = dict(env or env_for(), BENCH_PHASES_OUT=str(out))
    run = run_measured(
        [PYTHON, "-m", "mkdocs", "build", "--quiet", "--config-file", str(timed), "--site-dir", str(site_dir)],
        cwd=config.parent, env=env,
    )
    log = json.loads(out.read_text(encoding="utf-8"))
    phases: dict[str, float] = defaultdict(float)
    for (e0, w0, t0), (e1, w1, t1) in zip(log, log[1:]):
        name = PHASES.get((e0, w0, e1, w1))
        phases[name or "other MkDocs work"] += t1 - t0
    start = next(t for e, w, t in log if e == "pre_build")
    phases["start-up before on_pre_build (imports, config)"] = start
    phases["whole process (CPU)"] = run.cpu_s
    return dict(phases)


def compare(results: dict[str, dict[str, float]]) -> str:
    names = list(results)
    keys = sorted(set().union(*results.values()), key=lambda k: (k != "whole process (CPU)", -results[names[0]].get(k, 0)))
    rows = []
    for k in keys:
        values = [results[n].get(k, 0.0) for n in names]
        if not any(abs(v) >= 0.01 for v in values):
            continue
        row = [k] + [f"{v:.2f}" for v in values]
        if len(names) == 2:
            row.append(f"{values[0] - values[1]:+.2f}")
        rows.append(row)
    return table(["phase (CPU s, one build each)"] + names + (["difference"] if len(names) == 2 else []), rows)
