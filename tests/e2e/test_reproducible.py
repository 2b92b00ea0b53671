"""Reproducible builds, and titles, aliases and captions that are shown as text, never run as HTML.

1. A rebuild from the same commit, SOURCE_DATE_EPOCH and demo cache is byte-identical and never
   imports torch.
2. A build from an empty cache reruns every demo: its figures and data are those of the build from
   the project's cache except the wall-clock measurement of the trainability demo, and pages differ
   only where they print run times.
3. Text with ``<b>``, ``&`` and quotes in a note's title, a concept's alias and a demo's caption is
   escaped on every page the hooks generate (tiny site, both hooks, fake demos: no torch).
"""
from __future__ import annotations

import difflib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
import yaml
from bs4 import BeautifulSoup

from tests import generator
from tests.e2e.conftest import SOURCE_DATE_EPOCH, build_site, mkdocs_config

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]  # the hooks under test, whatever site is built
FAKE_DEMOS = PROJECT / "tests" / "fixtures" / "demo_project" / "demos"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def show_difference(name: str, a: bytes, b: bytes, lines: int = 12) -> str:
    try:
        diff = difflib.unified_diff(a.decode().splitlines(), b.decode().splitlines(), "first/" + name, "second/" + name, n=0, lineterm="")
        return "\n".join(line[:300] for line in list(diff)[:lines])
    except UnicodeDecodeError:
        return f"{name}: binary, {len(a)} vs {len(b)} bytes"


def assert_same_files(first: dict[str, bytes], second: dict[str, bytes], what: str) -> None:
    assert sorted(first) == sorted(second), f"{what}: different files: only in the first {sorted(first.keys() - second.keys())}, only in the second {sorted(second.keys() - first.keys())}"
    different = [name for name in first if first[name] != second[name]]
    assert not different, f"{what}: {len(different)} files differ: {different}\n" + "\n".join(
        show_difference(n, first[n], second[n]) for n in different[:3]
    )


# --- 1. a warm rebuild ---------------------------------------------------------------------------------

def test_a_rebuild_from_the_same_cache_is_byte_identical_and_does_not_import_torch(built_site: Path, tmp_path: Path) -> None:
    second = tmp_path / "site"
    proc = build_site(second)  # same commit, same SOURCE_DATE_EPOCH, the demo cache the first build filled
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert "TORCH_IMPORTED=False" in proc.stderr, "a build with every demo cached imported torch:\n" + proc.stderr[-2000:]
    assert_same_files(tree(built_site), tree(second), "two builds from the same cache")


# --- 2. two cold builds ----------------------------------------------------------------------------------

# Wall-clock measurements (demos/trainability.py, figure "measured"): the only demo outputs that may
# differ between two runs. In data.json only the measured times and what is fitted to them may differ.
MEASURED_FILES = {
    "demos/trainability/data.json",
    "demos/trainability/measured-light.svg",
    "demos/trainability/measured-dark.svg",
    "demos/trainability/measured-narrow-light.svg",  # the same measurement, laid out for a phone
    "demos/trainability/measured-narrow-dark.svg",
}
MEASURED_KEYS = ("measured_ms", "work_predicted_ms", "fitted_gflops",  # times, the times one fitted rate predicts, that rate,
                 "measured_over_predicted", "measured_over_predicted_range")  # and how far each time is from its prediction
# Files that print how long each run took and when it ran: the "Demo runs" table, every page with a
# figure (its provenance line: "... · 12.3 s · cpu · torch ... · run 2026-01-01 · data") and the search
# index, which holds the pages' text. After masking those numbers they must be identical too.
RUN_TIME_FILES = {
    "demo-runs/index.html",
    "notes/2024-01-23-dl-study/index.html",
    "concepts/deep-double-descent/index.html",
    "concepts/embodiment/index.html",
    "concepts/gradient-descent-and-backpropagation/index.html",
    "concepts/inductive-bias/index.html",
    "concepts/learned-programs/index.html",
    "concepts/next-token-prediction/index.html",
    "concepts/overparameterization/index.html",
    "concepts/simplicity-bias/index.html",
    "concepts/simulation/index.html",
    "concepts/trainability/index.html",
    "search/search_index.json",
}
RUN_TIME_PATTERNS = [
    # a number the text takes from a wall-clock measurement (a run's @seconds, trainability's measured times)
    (re.compile(r'(<a class="kb-number"[^>]*title="[^"]*(?:@seconds|measured)[^"]*"[^>]*>)[^<]*(</a>)'), r"\1#\2"),
    # what the cache has seen, not what the build made: why a run ran again, and what moved since the run it
    # replaced (a cache that never replaced a run, as a cold build's, says neither)
    (re.compile(r" · ran again as [^·<]*?(?= ·)"), ""),
    (re.compile(r'<br><span class="kb-why">ran because [^<]*</span>'), ""),
    (re.compile(r'\s*<h2 id="what-moved">.*?(?=</article>)', re.S), "\n"),
    (re.compile(r"\s+</article>"), "\n</article>"),
    (re.compile(r'<nav class="md-nav md-nav--secondary".*?</nav>', re.S), ""),  # the table of contents lists "What moved"
    (re.compile(r"(?<![\w.])\d+\.\d s\b"), "#.# s"),  # provenance: seconds
    (re.compile(r"\brun \d{4}-\d{2}-\d{2}\b"), "run YYYY-MM-DD"),  # provenance: date of the run
    (re.compile(r'(<td class="kb-num"[^>]*>(?:<div>)?)\d+\.\d((?:</div>)?</td>)'), r"\1#.#\2"),  # runs table: Seconds
    (re.compile(r"(<td[^>]*>(?:<div[^>]*>)?)\d{4}-\d{2}-\d{2}((?:</div>)?</td>)"), r"\1YYYY-MM-DD\2"),  # runs table: Last run
]


SEARCH_INDEX = "search/search_index.json"  # the pages' text without their markup: there, every number is masked


MEASURED_NUMBER = re.compile(r'<a class="kb-number"[^>]*title="[^"]*(?:@seconds|measured)[^"]*"[^>]*>([^<]*)</a>')


def mask_run_times(data: bytes, name: str = "") -> tuple[bytes, int]:
    text, total = data.decode("utf-8"), 0
    # the values of numbers taken from wall-clock measurements that a figure's caption holds, in that
    # figure's alt texts (the caption as plain text)
    def figure(m: re.Match) -> str:
        values = sorted(set(MEASURED_NUMBER.findall(m.group(0))), key=len, reverse=True)
        if not values:
            return m.group(0)
        pattern = re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, values)) + r")(?![\w.])")
        return re.sub(r'alt="[^"]*"', lambda a: pattern.sub("#", a.group(0)), m.group(0))

    text, count = re.subn(r"<figure\b.*?</figure>", figure, text, flags=re.S)
    total += count
    for pattern, replacement in RUN_TIME_PATTERNS:
        text, count = pattern.subn(replacement, text)
        total += count
    if name == SEARCH_INDEX:  # the pages' text: the provenance's "ran again as", and every number, masked
        text, count = re.subn(r" \\u00b7 ran again as .*?(?= \\u00b7)", "", text)
        total += count
        text, count = re.subn(r"\d+(?:[.,]\d+)*", "#", text)
        total += count
    return text.encode("utf-8"), total


@pytest.mark.e2e  # slow: a cold build runs every demo (about 3 minutes on 2 cores)
def test_a_build_from_an_empty_cache_differs_from_the_session_build_only_in_measured_times(
    built_site: Path, tmp_path: Path, capsys
) -> None:
    # The session's site took its figures from the project's cache (filled by an earlier build, or by
    # this session's if it was empty); this build reruns every demo into an empty one.
    proc = build_site(tmp_path / "site", cache_dir=tmp_path / "cache")
    assert proc.returncode == 0, f"cold build failed:\n{proc.stderr[-6000:]}"
    first, second = tree(built_site), tree(tmp_path / "site")
    assert sorted(first) == sorted(second), f"only in the first {sorted(first.keys() - second.keys())}, only in the second {sorted(second.keys() - first.keys())}"
    missing = sorted((MEASURED_FILES | RUN_TIME_FILES) - first.keys())
    assert not missing, f"files named in this test are not in the site any more (update the lists): {missing}"

    figures_and_data = [n for n in first if n.startswith("demos/") and (n.endswith(".svg") or n.endswith("/data.json"))]
    assert len(figures_and_data) >= 10
    different = sorted(n for n in first if first[n] != second[n])
    with capsys.disabled():
        print(f"\nfiles that differ between the cached and the cold build: {different}")
    unexpected = [n for n in different if n not in MEASURED_FILES | RUN_TIME_FILES]
    assert not unexpected, f"files that differ between the cached and the cold build: {unexpected}\n" + "\n".join(
        show_difference(n, first[n], second[n]) for n in unexpected[:3]
    )

    a, b = (json.loads(s["demos/trainability/data.json"]) for s in (first, second))
    for key in MEASURED_KEYS:
        assert key in a, f"the trainability demo no longer records {key} (update MEASURED_KEYS)"
        a.pop(key), b.pop(key)
    assert a == b, "trainability's data.json differs outside its wall-clock measurement"
    for name in MEASURED_FILES - {"demos/trainability/data.json"}:
        assert b"<svg" in first[name] and b"<svg" in second[name]

    for name in sorted(RUN_TIME_FILES):
        (masked_a, count), (masked_b, _) = mask_run_times(first[name], name), mask_run_times(second[name], name)
        assert count > 0, f"{name} shows no run time: take it off RUN_TIME_FILES"
        assert masked_a == masked_b, f"{name} differs beyond its run times:\n" + show_difference(name, masked_a, masked_b)


# --- 3. escaping -------------------------------------------------------------------------------------------

TITLE = 'A <b>bold</b> claim: Q&A, "double" & \'single\' quotes'
ALIAS = 'Fish <b>&</b> "chips"'
CAPTION = 'The <b>square</b> & its "double" \'caption\''
CONCEPT = "Fish and chips"
NOTE_URL = "notes/2024-05-01-hostile-title/index.html"
CONCEPT_URL = "concepts/fish-and-chips/index.html"


def _escaping_site(root: Path) -> Path:
    """A tiny project with both hooks of this repository, Material, and the fake demo ``ok``."""
    real = mkdocs_config()
    hooks = [str(PROJECT / h) for h in real["hooks"]]
    assert {Path(h).name for h in hooks} == {"mkdocs_site.py", "mkdocs_demos.py"}, hooks
    root.mkdir(parents=True)
    config = {
        "site_name": "Escapes",
        "site_url": "https://example.invalid/esc/",
        "site_description": "Hostile text",
        "theme": {"name": "material", "font": False},
        "nav": [{"Home": "index.md"}, {"Notes": "notes/index.md"}, {"Concepts": "concepts/index.md"},
                {"Concept map": "concept-map.md"}, {"Demo runs": "demo-runs.md"}],
        "plugins": ["search", "tags"],
        "hooks": hooks,
        "markdown_extensions": real["markdown_extensions"],
        "extra": {"demos": {"cache_dir": ".demos-cache", "timeout": 60, "jobs": 1}},
    }
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    demos = root / "demos"
    demos.mkdir(parents=True)
    for name in ("__init__.py", "_helper.py", "ok.py"):
        shutil.copy(FAKE_DEMOS / name, demos / name)
    docs = root / "docs"
    (docs / "notes").mkdir(parents=True)
    (docs / "concepts").mkdir()
    (docs / "index.md").write_text("---\ntitle: Home\n---\n\n# Home\n\n<!-- kb:newest -->\n\n<!-- kb:concept-map -->\n", encoding="utf-8")
    # The note's title lives only in its front matter: the theme writes the page's h1 from it.
    (docs / "notes" / "2024-05-01-hostile-title.md").write_text(
        "---\n" + yaml.safe_dump({"title": TITLE, "date": "2024-05-01", "tags": ["escapes"]}, allow_unicode=True)
        + "---\n\n"
        + f"A note that links [[{ALIAS}]] through the concept's alias.\n\n"
        + f"!demo[{CAPTION}](ok/main)\n",
        encoding="utf-8",
    )
    (docs / "concepts" / "fish-and-chips.md").write_text(
        "---\n" + yaml.safe_dump({"title": CONCEPT, "aliases": [ALIAS]}, allow_unicode=True) + "---\n\n"
        + f"# {CONCEPT}\n\nA concept with a hostile alias.\n",
        encoding="utf-8",
    )
    return root


def _visible(node) -> str:
    return re.sub(r"\s+", " ", node.get_text(" ")).strip()


def test_hostile_titles_aliases_and_captions_are_shown_as_text(tmp_path: Path) -> None:
    root = _escaping_site(tmp_path / "project")
    code = f"import sys\nfrom {generator.NAME}.__main__ import cli\ncli.main(args=sys.argv[1:])\n"
    proc = subprocess.run(
        [sys.executable, "-c", code, "build", "--strict", "-f", str(root / "mkdocs.yml"), "-d", str(root / "site")],
        cwd=root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    site = root / "site"

    def page(path: str) -> BeautifulSoup:
        return BeautifulSoup((site / path).read_text(encoding="utf-8"), "html.parser")

    pages = {p.relative_to(site).as_posix(): page(p.relative_to(site).as_posix()) for p in site.rglob("*.html")}
    problems: list[str] = []

    def check(ok: bool, where: str, shown) -> None:
        if not ok:
            problems.append(f"{where}: shows {shown!r}")

    # Browsers read <title> as plain text, so only <b> elements elsewhere are injected markup.
    for path, soup in sorted(pages.items()):
        for b in soup.find_all("b"):
            if not b.find_parent("title"):
                problems.append(f"{path}: injected {b} inside <{b.parent.name} class={b.parent.get('class')}>")

    note = pages[NOTE_URL].select_one("article")
    check(_visible(note.find("h1")).rstrip("¶ ") == TITLE, "note h1", _visible(note.find("h1")))
    topic = pages[NOTE_URL].select_one(".md-header__topic[data-md-component=header-topic] .md-ellipsis")
    check(topic is not None and _visible(topic) == TITLE, "note header topic", topic and _visible(topic))
    link = note.find("a", string=ALIAS)
    check(link is not None and link["href"].rstrip("/").endswith("concepts/fish-and-chips"), "note: wikilink by alias", _visible(note))
    figure = note.select_one("figure.kb-demo")
    alts = [img["alt"] for img in figure.find_all("img")] if figure else None
    check(alts == [CAPTION, CAPTION], "note: figure alt texts", alts)
    caption = _visible(figure.find("figcaption")) if figure else None
    check(bool(caption) and caption.startswith(CAPTION), "note: figure caption", caption)

    archive = pages["notes/index.html"].select_one("article")
    check(archive.find("a", string=TITLE) is not None, "notes index", _visible(archive))
    home = pages["index.html"].select_one("article")
    newest = home.select_one(".kb-note-list")
    check(newest is not None and newest.find("a", string=TITLE) is not None, "home: newest notes", _visible(home))

    concept = pages[CONCEPT_URL].select_one("article")
    backlinks = concept.select_one(".kb-backlinks")
    check(backlinks is not None and backlinks.find("a", string=TITLE) is not None, "concept: Linked from", _visible(concept))

    for path in ("index.html", "concept-map/index.html"):
        svg = pages[path].select_one("svg.kb-map-svg")
        titles = [t.get_text() for t in svg.find_all("title")] if svg else None
        check(bool(titles) and TITLE in titles and CONCEPT in titles, f"{path}: concept map node titles", titles)

    runs = pages["demo-runs/index.html"].select_one("article")
    used_by = [_visible(tr.find_all("td")[-1]) for tr in runs.select("table tbody tr")]
    check(TITLE in used_by, "demo runs: Used by", used_by)

    raw = [t.text for t in ET.parse(site / "feed.xml").getroot().iter("title")][1:]
    # The title is HTML-escaped inside the XML (readers render RSS titles as HTML), so one more unescape gives the text.
    check([html.unescape(t) for t in raw] == [TITLE], "feed.xml <title> (XML, then HTML)", raw)
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    check(not feed.bozo, "feed.xml", feed.get("bozo_exception"))
    # RSS does not say whether a title is text or HTML; feedparser (like many readers) guesses, and
    # what a reader shows is the text of the title as rendered under the type it guessed.
    for entry in feed.entries:
        detail = entry.title_detail
        shown = _visible(BeautifulSoup(entry.title, "html.parser")) if detail.type == "text/html" else entry.title
        check(shown == TITLE, f"feed.xml entry title as a feed reader renders it ({detail.type}, {entry.title!r})", shown)
    check(len(feed.entries) == 1, "feed.xml entries", len(feed.entries))

    assert not problems, "hostile text is not shown as text:\n" + "\n".join(problems)
