"""Markdown for demo figures, their provenance line and the "Demo runs" page; which files to publish.

Pages show what made a figure (source, seed, seconds, device, torch, date of the run), never whether
this build ran or reused it, so a rebuild from the same cache gives identical pages.
"""
from __future__ import annotations

import html
import posixpath
from pathlib import Path

from hooks.directive import FigureRef
from hooks.runner import Result

RUNS_PAGE = "demo-runs.md"


def site_folder(demo: str, params_id: str) -> str:
    """Where a run is published: ``demos/NAME`` for the default parameters, ``demos/NAME/PARAMS`` else."""
    return f"demos/{demo}" if params_id == "default" else f"demos/{demo}/{params_id}"


def published_files(results: list[Result]) -> dict[str, Path]:
    """Site path -> cached file, for every figure variant, data.json and the demo's source."""
    out: dict[str, Path] = {}
    for r in results:
        entry = r.shown
        if entry is None:
            continue
        folder = site_folder(r.job.name, r.job.params_id)
        for fig in entry.manifest.get("figures", []):
            for theme in ("light", "dark"):
                out[f"{folder}/{fig}-{theme}.svg"] = entry.file(f"{fig}-{theme}.svg")
        out[f"{folder}/data.json"] = entry.file("data.json")
        out[f"demos/{r.job.name}/{r.job.name}.py"] = r.job.spec.path
    return out


def _md_text(text: str) -> str:
    """Escape text for use inside Markdown link text, alt text or HTML."""
    text = html.escape(text, quote=True)
    for ch in "[]*_`\\":
        text = text.replace(ch, "\\" + ch)
    return text


def _rel(page_src_uri: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(page_src_uri) or ".")


def _date(manifest: dict) -> str:
    return str(manifest.get("finished_at", ""))[:10] or "unknown date"


def provenance(ref_page: str, result: Result) -> str:
    """One line: source link, seed, run time, device, torch version, date, data link."""
    entry = result.shown
    assert entry is not None
    m = entry.manifest
    folder = site_folder(result.job.name, result.job.params_id)
    src = _rel(ref_page, f"demos/{result.job.name}/{result.job.name}.py")
    data = _rel(ref_page, f"{folder}/data.json")
    params = ", ".join(f"{k}={v}" for k, v in sorted((m.get("overrides") or {}).items()))
    bits = [
        f"[`{result.job.name}.py`]({src})",
        f"params {_md_text(params)}" if params else None,
        f"seed {m.get('seed')}" if m.get("seed") is not None else None,
        f"{float(m.get('seconds', 0)):.1f} s",
        _md_text(str(m.get("device_name") or m.get("device", "?"))),
        f"torch {_md_text(str((m.get('versions') or {}).get('torch', '?')))}",
        f"run {_date(m)}",
        f"[data]({data})",
    ]
    return " · ".join(b for b in bits if b)


def render_figure(ref: FigureRef, result: Result | None) -> str:
    """The Markdown (md_in_html) that replaces one directive line."""
    caption = _md_text(ref.caption or f"{ref.demo}: {ref.figure}")
    if result is None or result.shown is None:
        error = _md_text(result.error if result else "the demo did not run")
        return (
            f'<div class="kb-demo-missing" markdown="span">\n'
            f"**Figure unavailable.** Demo `{ref.demo}` ({ref.figure}) has no successful run yet: {error}\n"
            f"</div>\n"
        )
    entry = result.shown
    folder = site_folder(ref.demo, ref.params_id)
    light = _rel(ref.src_uri, f"{folder}/{ref.figure}-light.svg")
    dark = _rel(ref.src_uri, f"{folder}/{ref.figure}-dark.svg")
    stale = ""
    if result.status == "failed":
        stale = (
            f'<br><span class="kb-stale">Stale: the latest run of this demo failed ({_md_text(result.error)}); '
            f"this figure is from the run of {_date(entry.manifest)}.</span>"
        )
    return (
        f'<figure class="kb-demo{" kb-demo-stale" if stale else ""}" markdown="span">\n'
        f"![{caption}]({light}#only-light){{ loading=lazy }}\n"
        f"![{caption}]({dark}#only-dark){{ loading=lazy }}\n"
        f'<figcaption markdown="span">{caption}<br><span class="kb-provenance">{provenance(ref.src_uri, result)}</span>{stale}</figcaption>\n'
        f"</figure>\n"
    )


def render_runs_page(results: list[Result], titles: dict[str, str], src_uris: dict[str, str]) -> str:
    """The "Demo runs" page: every run, its status and what made it, and the pages that use it.

    ``titles`` maps a page's display path to its title, ``src_uris`` maps it to its docs-relative path.
    """
    lines = [
        "---",
        "title: Demo runs",
        "search:",
        "  exclude: true",
        "---",
        "",
        "# Demo runs",
        "",
        "Every demo and parameter set this site uses, with what made the figures on show. "
        "A failed run keeps its last good figures, marked stale on the pages.",
        "",
        "| Demo | Parameters | Status | Seconds | Cache key | Last run | Versions | Device | Used by |",
        "| --- | --- | --- | ---: | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        entry = r.shown
        m = entry.manifest if entry else {}
        params = ", ".join(f"{k}={v}" for k, v in sorted(r.job.overrides.items())) or "defaults"
        if r.status == "failed":
            status = f"failed: {_md_text(r.error)}" + (" (stale figures shown)" if entry else " (no figures)")
        else:
            status = "ok"
        versions = m.get("versions") or {}
        vtext = ", ".join(f"{k} {versions[k]}" for k in ("torch", "numpy", "matplotlib") if k in versions) or "–"
        pages = ", ".join(
            f"[{_md_text(titles.get(p, p))}]({src_uris[p]})" if p in src_uris else _md_text(p) for p in r.job.pages
        ) or "–"
        source = f"[`{r.job.name}`](demos/{r.job.name}/{r.job.name}.py)" if entry else f"`{r.job.name}`"
        seconds = f"{float(m['seconds']):.1f}" if m else "–"
        key = entry.key if entry else r.job.key
        device = _md_text(str(m.get("device_name") or m.get("device") or "–"))
        lines.append(
            f"| {source} | {_md_text(params)} | {status} | {seconds} | `{key}` | "
            f"{_date(m) if m else '–'} | {_md_text(vtext)} | {device} | {pages} |"
        )
    lines.append("")
    return "\n".join(lines)
