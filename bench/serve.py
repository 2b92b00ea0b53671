"""Section 4, serve: live preview under ``mkdocs serve`` on 127.0.0.1.

Sites of 1,000 and 10,000 synthetic notes (the ``hooks`` variant of section 1, both hooks this time) plus one
tiny demo (no torch: it writes its SVG itself) embedded in the newest note. Measured: seconds from
saving a note to its rebuilt page served with the new text, and from saving the demo (one constant
changed) to its new figure served. Everything is bounded in time; the server is stopped at the end.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import yaml

from bench import synth
from bench.budget import Budget
from bench.common import PYTHON, Sample, env_for, fmt_s, table
from bench.report import Section
from tests import services

START_TIMEOUT_S = 180
CHANGE_TIMEOUT_S = 60
POLL_S = 0.05

TINY_DEMO = '''\
"""A tiny demo for the serve benchmark: writes one figure whose label is the constant MARK."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MARK = "{mark}"


@dataclass
class Config:
    seed: int = 0  # random seed (unused)
    width: int = 120  # width of the figure in pixels


FIGURES = {{"main": "a labelled box"}}


def run(cfg: Config, out_dir: Path, device: str = "cpu") -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for theme, fg in (("light", "#1f2328"), ("dark", "#e6edf3")):
        (out_dir / f"main-{{theme}}.svg").write_text(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{{cfg.width}}" height="30">'
            f'<text x="4" y="20" fill="{{fg}}">{{MARK}}</text></svg>\\n',
            encoding="utf-8",
        )
    data = {{"mark": MARK, "width": cfg.width}}
    (out_dir / "data.json").write_text(json.dumps(data, sort_keys=True) + "\\n", encoding="utf-8")
    return data
'''


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def _wait_for(url: str, text: str, timeout_s: float, proc: subprocess.Popen) -> float | None:
    """Seconds until ``url`` serves a body containing ``text`` (None on timeout or when the server died)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if proc.poll() is not None:
            return None
        body = _get(url)
        if body is not None and text in body:
            return time.perf_counter() - started
        time.sleep(POLL_S)
    return None


def _write_site(root: Path, n_notes: int) -> tuple[Path, int]:
    cfg_path = synth.write_site(root, n_notes, "hooks", demo_hook=True)
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    cfg["watch"] = ["demos"]
    cfg["extra"]["demos"] = {"cache_dir": ".demos-cache", "timeout": 60, "jobs": 1, "device": "cpu"}
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (root / "demos").mkdir()
    (root / "demos" / "__init__.py").write_text("", encoding="utf-8")
    (root / "demos" / "tiny.py").write_text(TINY_DEMO.format(mark="mark-0"), encoding="utf-8")
    newest = n_notes - 1
    note = synth.note_path(root, newest)
    note.write_text(note.read_text(encoding="utf-8") + "\n!demo[A tiny figure](tiny/main)\n", encoding="utf-8")
    return cfg_path, newest


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def _unlinked_concept(root: Path, note: Path) -> tuple[Path, str]:
    """A concept page the note does not link yet, and its title."""
    text = note.read_text(encoding="utf-8").casefold()
    for concept in sorted((root / "docs" / "concepts").glob("*.md")):
        meta = yaml.safe_load(concept.read_text(encoding="utf-8").split("---")[1])
        names = [str(meta["title"])] + [str(a) for a in meta.get("aliases") or []]
        if not any(f"[[{n.casefold()}" in text for n in names):
            return concept, str(meta["title"])
    raise RuntimeError("every concept is linked from the note")


def _serve(tmp: Path, n_notes: int, budget: Budget, runs: int, demo: bool) -> dict:
    """One `mkdocs serve` of a synthetic site of ``n_notes``: the seconds of each save until served."""
    root = tmp / f"serve-{n_notes}"
    cfg, newest = _write_site(root, n_notes)
    site_url = yaml.safe_load(cfg.read_text(encoding="utf-8")).get("site_url") or "/"
    port = services.free_port()
    base = f"http://127.0.0.1:{port}{urlparse(site_url).path or '/'}"
    log_path = tmp / f"serve-{n_notes}.log"
    out = {"n": n_notes, "note": Sample(), "link": Sample(), "demo": Sample(), "start": float("nan"), "problems": [], "rebuilds": []}
    note_edit, link_edit, demo_edit, problems = out["note"], out["link"], out["demo"], out["problems"]
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [PYTHON, "-m", "mkdocs", "serve", "--config-file", str(cfg), "--dev-addr", f"127.0.0.1:{port}"],
            cwd=root, env=env_for(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            note_url = base + synth.note_url(newest)
            fig_url = base + "demos/tiny/main-light.svg"
            first = _wait_for(fig_url, "mark-0", START_TIMEOUT_S * max(1, n_notes // 1000), proc)
            out["start"] = time.perf_counter() - started
            if first is None:
                problems.append("the server did not serve the site within its start-up limit")
            else:
                time.sleep(1.0)
                note = synth.note_path(root, newest)
                demo_file = root / "demos" / "tiny.py"

                def timed(sample: Sample, what: str, url: str, text: str) -> bool:
                    t0 = time.perf_counter()
                    if _wait_for(url, text, CHANGE_TIMEOUT_S, proc) is None:
                        problems.append(f"{what}: not served within {CHANGE_TIMEOUT_S} s")
                        return False
                    sample.add(time.perf_counter() - t0)
                    time.sleep(1.0)  # let the watcher settle before the next change
                    return True

                for i in range(1, runs + 1):
                    if i > 1 and not budget.fits(note_edit.median + link_edit.median + (demo_edit.median if demo else 0) + 5):
                        break
                    token = f"edited-text-{i}-{time.time_ns()}"
                    note.write_text(note.read_text(encoding="utf-8").replace("## Takeaways", f"{token}\n\n## Takeaways", 1), encoding="utf-8")
                    if not timed(note_edit, f"note edit {i}", note_url, token):
                        break
                    linking = synth.note_path(root, max(newest - 7 * i, 0))
                    concept, title = _unlinked_concept(root, linking)
                    linking.write_text(linking.read_text(encoding="utf-8") + f"\nSee also [[{title}]].\n", encoding="utf-8")
                    concept_url = base + "concepts/" + concept.stem + "/"
                    if not timed(link_edit, f"new wikilink {i}", concept_url, f'href="../../notes/{linking.stem}/"'):
                        break
                    if demo:
                        mark = f"mark-{i}"
                        demo_file.write_text(TINY_DEMO.format(mark=mark), encoding="utf-8")
                        if not timed(demo_edit, f"demo edit {i}", fig_url, mark):
                            break
        finally:
            _stop(proc)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    out["rebuilds"] = [float(m) for m in re.findall(r"Documentation built in ([0-9.]+) seconds", text)]
    if problems:
        out["tail"] = "\n".join(text.strip().splitlines()[-8:])
    return out


def run(tmp: Path, quick: bool, budget: Budget, runs: int = 3) -> Section:
    sec = Section("serve", "4. Serve: live preview")
    sizes = [30] if quick else [1000, 10_000]
    results = []
    for n_notes in sizes:
        if results and not budget.fits(results[-1]["start"] * 12 + 60):  # the larger site's first build, about 10x
            sec.add(f"Serve of {n_notes:,} notes skipped: it would not fit the time left.")
            continue
        results.append(_serve(tmp, n_notes, budget, runs if n_notes <= 1000 else 2, demo=n_notes <= 1000))
    sec.add(
        "`mkdocs serve` of synthetic sites of " + " and ".join(f"{r['n']:,}" for r in results) + " notes (the hooks variant "
        "of section 1, both hooks) with one tiny demo (`demos/tiny.py`, no torch: it writes an SVG with a label) embedded "
        "in the newest note; server on 127.0.0.1 with a free port, polled over HTTP every 50 ms. **note saved**: a line "
        "of new text added to the newest note, until its page is served with that text. **new wikilink**: `[[Concept]]` "
        "added to an older note, until the concept's page lists the note among its backlinks. **demo saved** (1,000 "
        "notes): the constant `MARK` changed in `demos/tiny.py`, until `demos/tiny/main-light.svg` is served with the new "
        "label (the demo's cache key changes, so the build reruns it in its own process). Each time is from the file's "
        "save to the page served, so it holds the watcher's reaction, the incremental rebuild and the request."
    )
    for r in results:
        n = r["n"]
        sec.goal(f"{n:,} notes: note saved → new text served ≤ 1 s (2 s at most)", fmt_s(r["note"]),
                 r["note"].median <= 1.0 if r["note"].n else None)
        sec.goal(f"{n:,} notes: new wikilink → backlink served ≤ 1 s (2 s at most)", fmt_s(r["link"]),
                 r["link"].median <= 1.0 if r["link"].n else None)
    rows = []
    for r in results:
        n = f"{r['n']:,}"
        rows += [[n, "server start to first page and figure served (one full build)", 1, f"{r['start']:.2f}"],
                 [n, "note saved → new text served", r["note"].n, fmt_s(r["note"])],
                 [n, "new wikilink in a note → the concept's backlinks show the note", r["link"].n, fmt_s(r["link"])]]
        if r["demo"].n:
            rows.append([n, "demo saved → new figure served", r["demo"].n, fmt_s(r["demo"])])
    sec.add(table(["notes", "step", "runs", "seconds"], rows))
    for r in results:
        if len(r["rebuilds"]) > 1:
            sec.add(f"{r['n']:,} notes: rebuild times MkDocs printed after each save: {', '.join(f'{x:.2f}' for x in r['rebuilds'][1:])} s "
                    f"(the first build, of every page: {r['rebuilds'][0]:.2f} s).")
        if r["problems"]:
            sec.add(f"{r['n']:,} notes, problems: " + "; ".join(r["problems"]) + f"\n\n```\n{r.get('tail', '')}\n```")
    return sec
