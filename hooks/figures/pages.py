"""HTML for demo figures, their provenance line and the "Demo runs" page; which files to publish.

Pages show what made a figure (source, seed, seconds, device, torch, date of the run), never whether
this build ran or reused it, so a rebuild from the same cache gives identical pages. Everything here
is HTML with every text escaped, written after the directive's line was parsed: captions, error
messages and every value of a manifest (which may come from a remote cache) are shown as written.
Only the figures the demo's FIGURES promise are published, and each was checked to be an SVG without
script when its entry was made or pulled (hooks.figures.validate), so "open full size" is safe.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

from hooks.figures.directive import PREFIX, FigureRef, directive_lines
from hooks.figures.model import THEMES, Result
from hooks.figures.validate import NARROW
from hooks.figures.numbers import NumberRef, PageNumbers, drift, run_anchor
from hooks.hashing import digest_of
from hooks.markdown import escape_html as esc


RUNS_PAGE = "demo-runs.md"
Href = Callable[[str], str]  # a path in the site ("demos/x/a.svg") -> URL relative to the page being written


def figure_id(raw: str) -> str:
    """The HTML id of the figure a directive line draws (a page's gallery and previews link to it)."""
    return "kb-fig-" + digest_of(raw, algorithm="sha1", length=8)  # SHA-1 as first published: links to it stay valid


def site_folder(demo: str, params_id: str) -> str:
    """Where a run is published: ``demos/NAME`` for the default parameters, ``demos/NAME/PARAMS`` else."""
    return f"demos/{demo}" if params_id == "default" else f"demos/{demo}/{params_id}"


def source_path(demo: str, params_id: str) -> str:
    """Where the source that made a run is published, beside its figures."""
    return f"{site_folder(demo, params_id)}/{demo}.py"


def published_files(results: list[Result]) -> dict[str, Path]:
    """Site path -> cached file: every figure variant the shown entry has of those the demo promises,
    its data.json and its source."""
    out: dict[str, Path] = {}
    for r in results:
        entry = r.shown
        if entry is None:
            continue
        folder = site_folder(r.job.name, r.job.params_id)
        for fig in r.job.spec.figures:
            for theme in THEMES:
                for name in (f"{fig}-{theme}.svg", f"{fig}-{NARROW}-{theme}.svg"):
                    if entry.has(name):
                        out[f"{folder}/{name}"] = entry.file(name)
        out[f"{folder}/data.json"] = entry.file("data.json")
        out[source_path(r.job.name, r.job.params_id)] = entry.file("source.py") if entry.has("source.py") else r.job.spec.path
    return out


def _date(manifest: dict) -> str:
    """The day of the run, escaped (a manifest is checked when read, but pages never trust it to be)."""
    return esc(str(manifest.get("finished_at", ""))[:10]) or "unknown date"


def _seconds(manifest: dict) -> float:
    value = manifest.get("seconds", 0)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _params(overrides: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(overrides.items()))


def provenance(result: Result, href: Href) -> str:
    """One line: source link, parameters, seed, run time, device, torch version, date, data link."""
    entry = result.shown
    assert entry is not None
    m = entry.manifest
    folder = site_folder(result.job.name, result.job.params_id)
    params = _params(m.get("overrides") or {})
    bits = [
        f'<a href="{esc(href(source_path(result.job.name, result.job.params_id)))}"><code>{esc(result.job.name)}.py</code></a>',
        f"params {esc(params)}" if params else None,
        f"seed {esc(m.get('seed'))}" if m.get("seed") is not None else None,
        f"{_seconds(m):.1f} s",
        esc(m.get("device_name") or m.get("device", "?")),
        f"torch {esc((m.get('versions') or {}).get('torch', '?'))}",
        f"run {_date(m)}",
        f"ran again as {esc('; '.join(m['reran_because']))}" if m.get("reran_because") else None,
        f'<a href="{esc(href(folder + "/data.json"))}">data</a>',
    ]
    return " · ".join(b for b in bits if b)


def _placeholder(ref: FigureRef, why: str, for_author: bool = True) -> str:
    """What stands where a figure cannot be shown: for the author (under serve), why and what to do;
    for a reader, a neutral note (the build's log and the Demo runs page tell the author)."""
    if not for_author:
        return ('<div class="kb-demo-missing kb-demo-unpublished" role="note">\n'
                f"<p><strong>Figure not published yet.</strong> {esc(ref.caption or ref.figure)}</p>\n</div>")
    return (
        '<div class="kb-demo-missing" role="note">\n'
        f"<p><strong>Figure unavailable.</strong> Demo <code>{esc(ref.demo)}</code> ({esc(ref.figure)}): {esc(why)}</p>\n"
        "</div>"
    )


def _unavailable(ref: FigureRef, result: Result | None) -> str | None:
    """Why ``result`` shows no figure for ``ref`` (None when it does)."""
    if result is None:
        return "the demo did not run"
    entry = result.shown
    if result.status == "running" and entry is None:
        return "running… (this page shows the figure when the run ends)"
    if result.status == "running" and not entry.has(f"{ref.figure}-light.svg"):
        return "running… (no earlier run made this figure; this page shows it when the run ends)"
    if result.status == "needs-gpu" and entry is None:
        return f"{result.error} (this machine has none, and no cached run was found)"
    if entry is None:
        return f"it has no successful run yet: {result.error}"
    if not entry.has(f"{ref.figure}-light.svg"):
        return f"the latest run failed ({result.error}) and no earlier run made this figure"
    return None


def figure_paths(demo: str, params_id: str, figure: str) -> dict[str, str]:
    """Site path of each palette's variant of one figure of one run."""
    return {theme: f"{site_folder(demo, params_id)}/{figure}-{theme}.svg" for theme in THEMES}


_SVG_TAG = re.compile(rb"<svg\b[^>]*>", re.S)
_LENGTH = re.compile(r'\s(width|height)="([0-9]{1,6}(?:\.[0-9]*)?)(px|pt)?"')  # anything else (%, em, 1.2.3): no size
_PX_PER = {"px": 1.0, "pt": 4 / 3, "": 1.0}  # CSS: 1pt = 4/3 px


@functools.lru_cache(maxsize=4096)
def _svg_size(path: str, digest: str) -> tuple[int, int] | None:
    """The width and height in CSS pixels that an SVG file's root element gives, or None."""
    del digest  # part of the key only: a file rewritten with other bytes is read again
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    tag = _SVG_TAG.search(head)
    if tag is None:
        return None
    sizes = {name: float(number) * _PX_PER[unit] for name, number, unit in _LENGTH.findall(tag.group().decode("utf-8", "replace"))}
    if sizes.get("width", 0) <= 0 or sizes.get("height", 0) <= 0:
        return None
    return round(sizes["width"]), round(sizes["height"])


def figure_size(result: Result, name: str) -> tuple[int, int] | None:
    """The size in CSS pixels of the figure file ``name`` of the run ``result`` shows, or None.

    Written on the ``<img>`` so the browser keeps the figure's place before a lazy image loads:
    the text below does not jump, and the figure has a box to scroll to.
    """
    entry = result.shown
    digest = (entry.manifest.get("files") or {}).get(name) if entry is not None else None
    return _svg_size(str(entry.file(name)), digest) if entry is not None and digest else None


NARROW_MEDIA = "(max-width: 44.9375em)"  # Material's breakpoint below which the content is one column (a phone)


def _frame(ref: FigureRef, result: Result, params_id: str, href: Href, alt: str, extra: str = "") -> str:
    """Both palettes' variants of one figure, each a link to the full-size SVG; where the run drew a
    narrow layout of it, a phone's screen shows that one (panels stacked, text at 11 CSS px or more)."""
    links = []
    for theme, path in figure_paths(ref.demo, params_id, ref.figure).items():
        size = figure_size(result, f"{ref.figure}-{theme}.svg")
        box = f' width="{size[0]}" height="{size[1]}"' if size else ""
        img = f'<img src="{esc(href(path))}#only-{theme}" alt="{alt}"{box} loading="lazy">'
        narrow_name = f"{ref.figure}-{NARROW}-{theme}.svg"
        if result.shown is not None and result.shown.has(narrow_name):
            narrow = path.rsplit("/", 1)[0] + "/" + narrow_name
            narrow_size = figure_size(result, narrow_name)
            narrow_box = f' width="{narrow_size[0]}" height="{narrow_size[1]}"' if narrow_size else ""
            img = (f'<picture><source media="{NARROW_MEDIA}" srcset="{esc(href(narrow))}#only-{theme}"{narrow_box}>'
                   f"{img}</picture>")
        links.append(
            f'<a class="kb-figure-open kb-only-{theme}" href="{esc(href(path))}">{img}'
            '<span class="kb-sr-only"> (open full size)</span></a>'
        )
    links = "\n".join(links)
    return f'<div class="kb-figure-frame"{extra}>\n{links}\n</div>'


def _stale(result: Result, for_author: bool = True) -> str:
    if result.status not in ("failed", "needs-gpu", "running") or result.shown is None:
        return ""
    if not for_author and result.status != "running":  # the why is the author's (the log, the Demo runs page)
        return f'<span class="kb-stale">This figure is from the run of {_date(result.shown.manifest)}; a newer run is not published yet.</span>'
    if result.status == "running":
        return (f'<span class="kb-stale kb-running">Running: a new run of this demo is in progress; this figure is from '
                f'the run of {_date(result.shown.manifest)} until it ends.</span>')
    why = f"the latest run of this demo failed ({esc(result.error)})" if result.status == "failed" else esc(result.error)
    return f'<span class="kb-stale">Stale: {why}; this figure is from the run of {_date(result.shown.manifest)}.</span>'


def _caption(ref: FigureRef, numbers: PageNumbers | None) -> tuple[str, str]:
    """The caption as alt text and as HTML, its bound numbers written (hooks.figures.numbers)."""
    text = ref.caption or f"{ref.demo}: {ref.figure}"
    numbers = numbers or PageNumbers()
    return esc(numbers.plain(text)), numbers.html(text)


def render_figure(ref: FigureRef, result: Result | None, href: Href, figure_id: str = "", numbers: PageNumbers | None = None,
                  for_author: bool = True) -> str:
    """The HTML block that replaces one directive line."""
    alt, caption = _caption(ref, numbers)
    why = _unavailable(ref, result)
    if why is not None:
        return _placeholder(ref, why, for_author)
    assert result is not None
    stale = _stale(result, for_author)
    ident = f' id="{esc(figure_id)}"' if figure_id else ""
    return (
        f'<figure class="kb-demo{" kb-demo-stale" if stale else ""}{_fits(ref, [result])}"{ident}>\n{_frame(ref, result, ref.params_id, href, alt)}\n'
        f'<figcaption>{caption}<br><span class="kb-provenance">{provenance(result, href)}</span>{"<br>" + stale if stale else ""}</figcaption>\n'
        "</figure>"
    )


def render_sweep(ref: FigureRef, results: list[Result | None], href: Href, figure_id: str, numbers: PageNumbers | None = None,
                 for_author: bool = True) -> str:
    """An explorable figure: one frame per value of the swept parameter, a slider that picks one.

    Without JavaScript the first value's figure shows (the other frames and the slider are hidden);
    docs/assets/demos.js shows the slider and swaps the frame, provenance and stale notice.
    """
    assert ref.sweep is not None and len(results) == len(ref.variants)
    alt, caption = _caption(ref, numbers)
    name = esc(ref.sweep)
    frames, notes = [], []
    any_stale = False
    for i, (variant, result) in enumerate(zip(ref.variants, results)):
        hidden = " hidden" if i else ""
        label = esc(variant.label)
        data = f' data-kb-index="{i}" data-kb-value="{label}"{hidden}'
        why = _unavailable(ref, result)
        if why is not None:
            said = esc(why) if for_author else "Not published yet."
            frames.append(f'<div class="kb-figure-frame kb-demo-missing" role="note"{data}><p><strong>Figure unavailable for '
                          f'{name} = {label}.</strong> {said}</p></div>')
            notes.append(f'<span class="kb-provenance" data-kb-index="{i}"{hidden}>{name} = {label}: no run</span>')
            continue
        assert result is not None
        frames.append(_frame(ref, result, variant.params_id, href, f"{alt} ({name} = {label})", data))
        stale = _stale(result, for_author)
        any_stale = any_stale or bool(stale)
        notes.append(f'<span class="kb-provenance" data-kb-index="{i}"{hidden}>{provenance(result, href)}'
                     f'{"<br>" + stale if stale else ""}</span>')
    first, last = esc(ref.variants[0].label), esc(ref.variants[-1].label)
    control = (
        f'<div class="kb-sweep-control" hidden>\n'
        f'<label for="{esc(figure_id)}-input"><code>{name}</code> = <output for="{esc(figure_id)}-input">{first}</output></label>\n'
        f'<span class="kb-sweep-range"><span class="kb-sweep-end" aria-hidden="true">{first}</span>'
        f'<input type="range" class="kb-sweep-input" id="{esc(figure_id)}-input" min="0" max="{len(ref.variants) - 1}" step="1" value="0" '
        f'aria-valuetext="{name} = {first}" data-kb-name="{name}">'
        f'<span class="kb-sweep-end" aria-hidden="true">{last}</span></span>\n</div>'
    )
    return (
        f'<figure class="kb-demo kb-sweep{" kb-demo-stale" if any_stale else ""}{_fits(ref, results)}" id="{esc(figure_id)}">\n'
        + "\n".join(frames) + "\n" + control + "\n"
        f'<figcaption>{caption}<br>' + "".join(notes) + "</figcaption>\n</figure>"
    )


def _fits(ref: FigureRef, results: list[Result | None]) -> str:
    """" kb-demo-fits" where every frame has a narrow variant: a phone shows it whole (no "swipe" hint)."""
    fits = all(r is not None and r.shown is not None and r.shown.has(f"{ref.figure}-{NARROW}-light.svg") for r in results)
    return " kb-demo-fits" if fits else ""


Runs = Mapping[tuple[str, str], Result]  # (demo, params_id) -> the result of this build's run


def figures_markdown(markdown: str, refs: Mapping[str, FigureRef], runs: Runs, href: Href, numbers: PageNumbers | None = None,
                     *, for_author: bool = True) -> str:
    """A page's Markdown with every figure directive line replaced by its figure's HTML, a block of
    its own (the same line twice on a page gets a second id), and every bound number by its value
    (``numbers``, hooks.figures.numbers). ``refs``: the page's directives by their line (stripped); a
    line without one had a problem, reported elsewhere, and shows a note."""
    if numbers is not None:
        markdown = numbers.replace(markdown)  # not on directive lines: a figure writes its caption's numbers
    if PREFIX not in markdown:
        return markdown
    lines = markdown.split("\n")
    used: dict[str, int] = {}
    for index, line in directive_lines(markdown):
        ref = refs.get(line.strip())
        if ref is None:  # a directive with an error: the build stopped on it, or (serve) the page lists it
            html = ('<div class="kb-demo-missing" role="note"><p><strong>Figure unavailable:</strong> '
                    f"<code>{esc(line.strip())}</code> has a problem (see the list at the top of the page).</p></div>")
        else:
            ident = figure_id(ref.raw)
            used[ident] = used.get(ident, 0) + 1
            ident += f"-{used[ident]}" if used[ident] > 1 else ""  # the same line twice on a page
            if ref.variants:
                html = render_sweep(ref, [runs.get((ref.demo, pid)) for _, _, pid in ref.runs], href, ident, numbers, for_author)
            else:
                html = render_figure(ref, runs.get((ref.demo, ref.params_id)), href, ident, numbers, for_author)
        lines[index] = "\n" + html + "\n"
    return "\n".join(lines)


@dataclass(frozen=True)
class PageLink:
    title: str
    src_uri: str


def _why(manifest: dict) -> str:
    """Why the run shown ran instead of reusing the one before it (``reran_because`` of its manifest)."""
    reasons = manifest.get("reran_because")
    return f'<br><span class="kb-why">ran because {esc("; ".join(reasons))}</span>' if reasons else ""


def render_runs_page(results: list[Result], pages: dict[str, PageLink], href: Href, numbers: Iterable[NumberRef] = ()) -> str:
    """The "Demo runs" page: every run, its status and what made it, and the pages that use it; then,
    for each run made to replace another, the numbers of its data that moved and the pages citing them.

    ``pages`` maps a page's display path to its title and src_uri; ``href`` gives URLs relative to this
    page; ``numbers``: the bound numbers of the site (hooks.figures.numbers), for who cites what.
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
        '<div class="kb-runs">',
        '<table class="kb-runs-table">',
        "<thead><tr><th>Demo</th><th>Parameters</th><th>Status</th><th>Seconds</th><th>Last run</th>"
        "<th>Made with</th><th>Used by</th></tr></thead>",
        "<tbody>",
    ]
    for r in results:
        entry = r.shown
        m = entry.manifest if entry else {}
        params = esc(_params(r.job.overrides) or "defaults")
        if r.status == "failed":
            status = f"failed: {esc(r.error)}" + (" (stale figures shown)" if entry else " (no figures)")
        elif r.status == "needs-gpu":
            status = esc(r.error) + (" (an earlier run is shown)" if entry else "")
        elif r.status == "running":
            status = "running in the background" + (" (the last good figures shown)" if entry else "")
        else:
            status = "ok"
        versions = m.get("versions") or {}
        made = [esc(m.get("device_name") or m.get("device") or "–")]
        if m.get("worker"):
            made.append(f"on {esc(m.get('host', '?'))}, worker {esc(m['worker'])}")
        made += [f"{esc(k)} {esc(versions[k])}" for k in ("torch", "numpy", "matplotlib") if k in versions]
        used = ", ".join(
            f'<a href="{esc(href(pages[p].src_uri))}">{esc(pages[p].title)}</a>' if p in pages else esc(p) for p in r.job.pages
        ) or "–"
        name = esc(r.job.name)
        demo = f'<a href="{esc(href(source_path(r.job.name, r.job.params_id)))}"><code>{name}</code></a>' if entry else f"<code>{name}</code>"
        seconds = f"{_seconds(m):.1f}" if m else "–"
        key = esc(entry.key if entry else r.job.key)
        made_lines = "".join(f'<span class="kb-made">{line}</span><br>' for line in made)[: -len("<br>")]
        lines.append(
            f'<tr id="{run_anchor(r.job.name, r.job.params_id)}"><td data-label="Demo"><div>{demo}<br><code class="kb-key" title="cache key">{key}</code></div></td>'
            f'<td data-label="Parameters"><div class="kb-params">{params}</div></td>'
            f'<td data-label="Status"><div class="kb-status">{status}</div></td>'
            f'<td class="kb-num" data-label="Seconds"><div>{seconds}</div></td>'
            f'<td data-label="Last run"><div class="kb-made">{_date(m) if m else "–"}{_why(m)}</div></td>'
            f'<td data-label="Made with"><div>{made_lines}</div></td><td data-label="Used by"><div>{used}</div></td></tr>'
        )
    lines += ["</tbody>", "</table>", "</div>", ""]
    lines += _moved_section(results, pages, href, list(numbers))
    return "\n".join(lines)


MOVED_SHOWN = 12  # numbers listed per run (the largest changes); the rest are counted


def _cited_by(pages: dict[str, PageLink], href: Href, refs: list[NumberRef]) -> str:
    """The pages citing a number, each once with the lines it does so on."""
    lines: dict[str, list[int]] = {}
    for n in refs:
        lines.setdefault(n.display_path, []).append(n.line)
    out = []
    for path, found in lines.items():
        page = pages.get(path)
        link = f'<a href="{esc(href(page.src_uri))}">{esc(page.title)}</a>' if page else esc(path)
        found = sorted(set(found))
        out.append(f"{link} ({'line' if len(found) == 1 else 'lines'} {', '.join(map(str, found))})")
    return ", ".join(out) or "–"


def _moved_section(results: list[Result], pages: dict[str, PageLink], href: Href, numbers: list[NumberRef]) -> list[str]:
    """"What moved": per run that replaced another, its numbers that changed, by how much, cited by whom."""
    rows = []
    for r in results:
        found = drift(r)
        if found is None:
            continue
        cites: dict[str, list[NumberRef]] = {}
        for n in numbers:
            if n.demo == r.job.name and any(pid == r.job.params_id for *_, pid in n.variants):
                cites.setdefault(n.key, []).append(n)
        params = esc(_params(r.job.overrides) or "defaults")
        head = (f'<h3 id="moved-{run_anchor(r.job.name, r.job.params_id)}"><code>{esc(r.job.name)}</code> ({params})</h3>\n'
                f'<p>Compared with the run of {_date({"finished_at": found.replaced.get("finished_at")})} '
                f'(<code class="kb-key">{esc(str(found.replaced.get("key", "?")))}</code>) it replaced'
                + (f', which ran again as {esc("; ".join(r.entry.manifest["reran_because"]))}' if r.entry and r.entry.manifest.get("reran_because") else "")
                + ".</p>")
        if not found.moved:
            rows.append(head + "\n<p>No number of its data moved.</p>")
            continue
        cited_first = sorted(found.moved, key=lambda m: m.key not in cites)  # cited keys first, each part by change
        body = []
        for m in cited_first[:MOVED_SHOWN]:
            where = "" if m.index is None else f"[{m.index}]"
            size = f" ({m.size[0]} → {m.size[1]} values)" if m.size else ""
            change = f"{m.change * 100:+.1f} %" if m.before else f"{m.change:+.3g}"
            cited = _cited_by(pages, href, cites.get(m.key, []))
            body.append(f'<tr><td data-label="Number"><code>{esc(m.key)}{where}</code>{size}</td>'
                        f'<td class="kb-num" data-label="Before">{m.before:.6g}</td><td class="kb-num" data-label="Now">{m.now:.6g}</td>'
                        f'<td class="kb-num" data-label="Change">{change}</td><td data-label="Cited by">{cited}</td></tr>')
        more = len(found.moved) - MOVED_SHOWN
        rows.append(head + "\n" + '<div class="kb-runs"><table class="kb-moved-table">\n'
                    "<thead><tr><th>Number</th><th>Before</th><th>Now</th><th>Change</th><th>Cited by</th></tr></thead>\n<tbody>\n"
                    + "\n".join(body) + "\n</tbody></table></div>"
                    + (f"\n<p>…and {more} more number(s) of its data moved less.</p>" if more > 0 else ""))
    if not rows:
        return []
    return ["## What moved", "",
            "Each run made to replace an earlier run of the same demo and parameters keeps that run's data; these are the "
            "numbers that differ, largest change first (numbers the pages cite come first), and the pages citing them.", "",
            *[row + "\n" for row in rows]]
