"""A copy of this project's real site in a temporary folder, with a copy of its warm demo cache.

The copy holds ``docs/``, ``demos/`` and ``mkdocs.yml``; ``hooks`` is a symbolic link to the
project's ``hooks/`` (the hook files and the ``watch:`` entry keep working). Cache keys hash the
demos' sources by their path relative to the project root, so the copy's keys are the project's.

Directives the build would reject (an unknown demo or figure: pages that are still being written) are
removed from the copy and reported, as are demos whose default run fails (a failing run is retried on
every build, so no build with it would be a warm one).
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import PROJECT_ROOT, PYTHON, BenchError, env_for, run_measured

REAL_CACHE = PROJECT_ROOT / ".demos-cache"  # extra.demos.cache_dir of mkdocs.yml
NOTES = Path(PYTHON).parent / "notes"


@dataclass
class RealSite:
    root: Path
    cache: Path
    removed_directives: list[str] = field(default_factory=list)  # "path:line: why"
    removed_demos: list[str] = field(default_factory=list)  # "name: why"
    filled: str = ""  # what was done to fill the project's cache, if anything

    @property
    def config(self) -> Path:
        return self.root / "mkdocs.yml"

    def env(self, **extra: str) -> dict[str, str]:
        return env_for(DEMOS_CACHE_DIR=str(self.cache), **extra)


def _plan(root: Path, cache: Path):
    """Jobs of the site at ``root`` (every referenced run and each demo's default run) and the problems,
    from the same plan as the build (hooks.site.plan_site)."""
    import os

    from hooks.figures.cache import DemoCache
    from hooks.mkdocs_files import load_project
    from hooks.site import plan_site

    os.environ.update(DEMOS_CACHE_DIR=str(cache), DEMOS_CACHE_OUTSIDE="1")
    project, files = load_project(root / "mkdocs.yml")
    plan = plan_site(project, files)
    return plan.jobs, plan.problems, DemoCache(cache)


def missing_runs(root: Path, cache: Path) -> list[str]:
    jobs, _, dc = _plan(root, cache)
    return [f"{j.name} [{j.params_id}]" for j in jobs if j.runnable and dc.lookup(j.name, j.key) is None]  # a GPU demo stays a placeholder


def _strip_lines(path: Path, line_numbers: set[int]) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    kept = [line for i, line in enumerate(lines, start=1) if i not in line_numbers]
    path.write_text("\n".join(kept), encoding="utf-8")


def strip_directives(docs: Path, only_demos: set[str] | None = None) -> int:
    """Remove every ``!demo[...]`` line outside code (or only those of ``only_demos``); return the count."""
    from hooks.figures.directive import directive_lines

    count = 0
    for path in sorted(docs.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        hits = set()
        for index, line in directive_lines(text):
            demo = line.strip().rsplit("](", 1)[-1].split("/", 1)[0].strip()
            if only_demos is None or demo in only_demos:
                hits.add(index + 1)
        if hits:
            _strip_lines(path, hits)
            count += len(hits)
    return count


def make_copy(dest: Path, timeout_s: float = 420) -> RealSite:
    """Copy the project's site to ``dest`` and its demo cache beside it; fill the cache when it is empty."""
    if dest.exists():
        shutil.rmtree(dest)
    root = dest / "site-src"
    root.mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "docs", root / "docs")
    shutil.copytree(PROJECT_ROOT / "demos", root / "demos", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(PROJECT_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    os.symlink(PROJECT_ROOT / "hooks", root / "hooks")
    site = RealSite(root, dest / "cache")

    # Directives the build rejects (unknown demo, figure or parameter) are pages still being written.
    _, problems, _ = _plan(root, site.cache)
    bad: dict[Path, set[int]] = {}
    for p in problems:
        if p.severity == "error" and p.line and p.path.startswith("docs/"):
            bad.setdefault(root / p.path, set()).add(p.line)
            site.removed_directives.append(str(p))
    for path, lines in bad.items():
        _strip_lines(path, lines)

    # The project's cache, filled first when it lacks runs (as `make site` or `make demos` would).
    missing = missing_runs(root, REAL_CACHE)
    if missing:
        site.filled = _fill_real_cache(root, timeout_s, missing)
        _drop(site, sorted({m.split(" ", 1)[0] for m in missing_runs(root, REAL_CACHE)}),
              "its run failed when the project's cache was filled, so it would run again on every build")
    entries = REAL_CACHE / "entries"
    if entries.is_dir():
        shutil.copytree(entries, site.cache / "entries")
    else:
        (site.cache / "entries").mkdir(parents=True)
    from hooks.figures.cache import mark_as_cache

    mark_as_cache(site.cache)  # the copy is a cache folder too (the cache refuses a folder it did not make)
    return site


def _fill_real_cache(copy_root: Path, timeout_s: float, missing: list[str]) -> str:
    """``notes demos`` in the project; when its pages have errors, from the cleaned copy into the project's cache."""
    what = f"the project's demo cache lacked {len(missing)} run(s) ({', '.join(missing)})"
    r = run_measured([str(NOTES), "demos"], cwd=PROJECT_ROOT, env=env_for(), timeout_s=timeout_s, check=False)
    if r.returncode == 0:
        return f"{what}: `notes demos` in the project filled it in {r.seconds:.0f} s"
    if "failed" in r.output and "demo runs:" in r.output:
        return f"{what}: `notes demos` in the project ran for {r.seconds:.0f} s and some runs failed (exit {r.returncode})"
    r2 = run_measured([str(NOTES), "demos"], cwd=copy_root, env=env_for(DEMOS_CACHE_DIR=str(REAL_CACHE)),
                      timeout_s=timeout_s, check=False)
    return (
        f"{what}; `notes demos` in the project stopped at once (exit {r.returncode}: pages with errors), so "
        f"`notes demos` ran on the cleaned copy with DEMOS_CACHE_DIR=.demos-cache and filled it in {r2.seconds:.0f} s "
        f"(exit {r2.returncode})"
    )


_RAN_RE = re.compile(r"demos: (\d+) ran, (\d+) reused from the cache, (\d+) failed")


def warm_build(site: RealSite, site_dir: Path, config: Path | None = None) -> tuple[int, int, int, str]:
    """One unmeasured, verbose build: runs what the cache copy lacks; returns (ran, cached, failed, log)."""
    config = config or site.config
    r = run_measured(
        [PYTHON, "-m", "mkdocs", "build", "--config-file", str(config), "--site-dir", str(site_dir)],
        cwd=config.parent, env=site.env(), timeout_s=900, check=False,
    )
    m = _RAN_RE.search(r.output)
    if r.returncode != 0 or not m:
        tail = "\n".join(r.output.strip().splitlines()[-12:])
        raise BenchError(f"the real site does not build (exit {r.returncode}):\n{tail}")
    ran, cached, failed = map(int, m.groups())
    return ran, cached, failed, r.output


def _drop(site: RealSite, names: list[str], why: str) -> None:
    for name in names:
        path = site.root / "demos" / f"{name}.py"
        if path.exists():
            path.unlink()
            site.removed_demos.append(f"`{name}`: {why}")
    if names:
        strip_directives(site.root / "docs", set(names))


def drop_failing_demos(site: RealSite) -> None:
    """Remove demos whose runs are still not in the cache after a build (they failed) from the copy."""
    jobs, _, dc = _plan(site.root, site.cache)
    failing = sorted({j.name for j in jobs if dc.lookup(j.name, j.key) is None})
    _drop(site, failing, "its run failed in the warm-up build, so it would run again on every build")


def describe(site: RealSite) -> str:
    notes = []
    if site.filled:
        notes.append(site.filled + ".")
    if site.removed_directives:
        notes.append(
            f"{len(site.removed_directives)} directive(s) the build rejects were removed from the copy (pages still being "
            "written): " + "; ".join(f"`{d}`" for d in site.removed_directives) + "."
        )
    if site.removed_demos:
        notes.append("Demos removed from the copy: " + "; ".join(site.removed_demos) + ".")
    return " ".join(notes)
