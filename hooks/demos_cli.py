"""``notes demos``: run demos through the same planner, cache and runner as the build."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from hooks.cache import CacheError, DemoCache
from hooks.directive import SpecCache, collect_refs
from hooks.problems import errors
from hooks.runner import Result, Settings, counts, failure_summary, plan_jobs, run_jobs
from hooks.sources import read_sources


class _LenientLoader(yaml.SafeLoader):
    """Reads mkdocs.yml without knowing MkDocs' custom tags (!ENV, !!python/name)."""


_LenientLoader.add_multi_constructor("", lambda loader, suffix, node: None)
_LenientLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def load_site_config(project_root: Path) -> dict[str, Any]:
    path = project_root / "mkdocs.yml"
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LenientLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SystemExit(f"{path.name}: cannot be read ({exc}); run from the project folder") from None


def settings_for(project_root: Path, jobs: int | None = None, device: str | None = None) -> tuple[Settings, Path]:
    cfg = load_site_config(project_root)
    settings = Settings.from_extra(project_root, (cfg.get("extra") or {}).get("demos") or {}, jobs, device)
    return settings, project_root / cfg.get("docs_dir", "docs")


def cmd_demos(project_root: Path, names: list[str], force: bool = False, jobs: int | None = None, device: str | None = None) -> int:
    settings, docs_dir = settings_for(project_root, jobs, device)
    specs = SpecCache(settings.demos_dir)
    for name in names:
        try:
            specs.get(name)
        except Exception as exc:  # DemoError: unknown name, path traversal, broken module
            print(f"notes demos: {exc}", file=sys.stderr)
            return 2
    refs, problems = collect_refs(read_sources(docs_dir, project_root), specs)
    planned, spec_problems = plan_jobs(settings, refs, specs, only=names or None)
    problems += spec_problems
    for p in problems:
        print(p, file=sys.stderr)
    if errors(problems):
        return 2
    cache = DemoCache(settings.cache_dir)
    todo = [j for j in planned if force or cache.lookup(j.name, j.key) is None]
    try:
        if not todo:
            results = run_jobs(planned, settings, cache)
        else:
            results = _run_with_progress(planned, settings, cache, force, len(todo))
    except CacheError as exc:
        print(f"notes demos: {exc}", file=sys.stderr)
        return 2
    c = counts(results)
    for r in results:
        where = f"{r.job.name} [{r.job.params_id}]"
        if r.status == "failed":
            print(f"FAILED  {where}: {r.error}")
        elif r.status == "ran":
            print(f"ran     {where} in {r.seconds:.1f} s (key {r.job.key})")
        else:
            print(f"cached  {where} (key {r.job.key})")
    print(f"{len(results)} demo runs: {c['ran']} ran, {c['cached']} cached, {c['failed']} failed")
    summary = failure_summary(results)
    for line in summary:
        print(line, file=sys.stderr)
    return 1 if summary else 0


def _run_with_progress(planned, settings: Settings, cache: DemoCache, force: bool, n_todo: int) -> list[Result]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task(f"running {n_todo} demo(s) on {settings.workers} process(es)", total=len(planned))

        def advance(r: Result) -> None:
            progress.advance(task)
            if r.status != "cached":
                progress.console.print(f"{r.status:7} {r.job.name} [{r.job.params_id}] {r.seconds:.1f} s")

        return run_jobs(planned, settings, cache, force=force, on_result=advance)
