"""cProfile of one build, reduced to a few buckets that say where a build's time goes.

Used when a goal is missed: the same build of two variants is profiled and the buckets are put side
by side, so the difference shows which part of the build costs the extra time.
"""
from __future__ import annotations

import pstats
from pathlib import Path

from bench.common import PYTHON, env_for, run_measured, table


# (label, predicate on (file, line, function), use cumulative time)
_BUCKETS = [
    ("whole build (profiled)", None),
    ("this project's hooks: every on_* event (hook code only)", "hooks"),
    ("  of which on_pre_build (read sources, build the graph)", "hooks:on_pre_build"),
    ("  of which on_files (generated pages, feed)", "hooks:on_files"),
    ("  of which on_page_markdown (wikilinks, backlinks, pager)", "hooks:on_page_markdown"),
    ("  of which on_post_page (feed link)", "hooks:on_post_page"),
    ("Markdown to HTML (Page.render: Python-Markdown and extensions)", ("mkdocs/structure/pages.py", "render")),
    ("  of which md_in_html (blocks marked markdown, own time)", "md_in_html"),
    ("theme templates (Jinja2 render of every page)", ("jinja2/environment.py", "render")),
    ("search plugin (index entries and search_index.json)", "search"),
    ("tags plugin", "tags"),
    ("blog plugin", "blog"),
    ("markdown-exec plugin", "markdown_exec"),
    ("demo hook: every on_* event of hooks/mkdocs_demos.py", "demos"),
    ("  of which on_pre_build (plan, cache lookups with checksums)", "demos:on_pre_build"),
    ("  of which on_files (published figures, runs page)", "demos:on_files"),
    ("  of which on_page_markdown (figure HTML)", "demos:on_page_markdown"),
    ("writing files (mkdocs.utils.write_file, copy_file)", ("mkdocs/utils/__init__.py", ("write_file", "copy_file"))),
    ("Python imports (importlib _find_and_load)", ("<frozen importlib._bootstrap>", "_find_and_load")),
]


def _cum(stats: dict, file_part: str, fn: str | tuple[str, ...]) -> float:
    fns = (fn,) if isinstance(fn, str) else fn
    total = 0.0
    for (file, _line, name), (_cc, _nc, _tt, ct, callers) in stats.items():
        if file_part in file and name in fns:
            # count only outermost calls: skip recursive entries called from the same function
            if any(c[2] == name and file_part in c[0] for c in callers):
                continue
            total += ct
    return total


def _plugin_events(stats: dict, path_part: str) -> float:
    """Cumulative time of a plugin's ``on_*`` methods (entered from MkDocs' event loop)."""
    return sum(
        ct for (file, _l, name), (_cc, _nc, _tt, ct, _callers) in stats.items()
        if path_part in file and name.startswith("on_")
    )


def buckets(prof_path: Path) -> dict[str, float]:
    stats = pstats.Stats(str(prof_path)).stats  # type: ignore[attr-defined]
    total = max(v[3] for v in stats.values())
    out: dict[str, float] = {}
    for label, key in _BUCKETS:
        if key is None:
            value = total
        elif key == "hooks":
            value = _plugin_events(stats, "hooks/mkdocs_site.py")
        elif isinstance(key, str) and key.startswith("hooks:"):
            value = _cum(stats, "hooks/mkdocs_site.py", key.split(":", 1)[1])
        elif isinstance(key, str) and key.startswith("demos:"):
            value = _cum(stats, "hooks/mkdocs_demos.py", key.split(":", 1)[1])
        elif key == "md_in_html":
            value = sum(v[2] for k, v in stats.items() if "markdown/extensions/md_in_html" in k[0])
        elif key == "search":
            value = _plugin_events(stats, "material/plugins/search/")
        elif key == "tags":
            value = _plugin_events(stats, "material/plugins/tags/")
        elif key == "blog":
            value = _plugin_events(stats, "material/plugins/blog/")
        elif key == "markdown_exec":
            value = _plugin_events(stats, "markdown_exec/")
        elif key == "demos":
            value = _plugin_events(stats, "hooks/mkdocs_demos.py")
        else:
            value = _cum(stats, key[0], key[1])
        out[label] = value
    return out


def hotspots(prof_path: Path, under: str, limit: int = 8) -> list[tuple[str, int, float, float]]:
    """The functions under ``under`` (a path part) with the most own time: (name, calls, own s, cumulative s)."""
    stats = pstats.Stats(str(prof_path)).stats  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_cc, nc, tt, ct, _callers) in stats.items():
        if under in file:
            short = file.split(under, 1)[1].lstrip("/") if under in file else file
            rows.append((f"{short}:{line} {name}", nc, tt, ct))
    rows.sort(key=lambda r: -r[2])
    return rows[:limit]


def profile_build(config: Path, site_dir: Path, out: Path, env: dict[str, str] | None = None) -> Path:
    run_measured(
        [PYTHON, "-m", "cProfile", "-o", str(out), "-m", "mkdocs", "build", "--quiet",
         "--config-file", str(config), "--site-dir", str(site_dir)],
        cwd=config.parent, env=env or env_for(),
    )
    return out


def compare_table(profiles: dict[str, Path]) -> str:
    """Buckets of several profiled builds side by side (seconds of CPU under cProfile)."""
    data = {name: buckets(path) for name, path in profiles.items()}
    names = list(profiles)
    rows = []
    for label, _ in _BUCKETS:
        values = [data[n][label] for n in names]
        if not any(v >= 0.005 for v in values):
            continue
        row = [label] + [f"{v:.2f}" for v in values]
        if len(names) == 2:
            row.append(f"{values[0] - values[1]:+.2f}")
        rows.append(row)
    header = ["where the time goes (s, under cProfile)"] + names + (["difference"] if len(names) == 2 else [])
    return table(header, rows)
