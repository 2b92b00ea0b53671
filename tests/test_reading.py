"""What helps a reader: explorable figures (a swept parameter), local graphs, a concept's gallery, link
previews and a concept map whose labels and targets never overlap, at desktop and phone widths.

Pure functions first, then the hooks on a tiny site with the fake demos of tests/fixtures/demo_project.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from hooks.figures.directive import MAX_SWEEP_VALUES, SpecCache, collect_refs, parse_ref
from hooks.figures.plan import Settings, plan_jobs
from hooks.figures.spec import DemoError
from hooks.kb import fragments, reading, render
from hooks.kb.graph import concept_map
from tests.generator import Abort, build, load_config
from tests.test_demo_hooks import MKDOCS_YML
from tests.test_graph import concept, kb_of, note

FIXTURE = Path(__file__).parent / "fixtures" / "demo_project"
DEMOS = FIXTURE / "demos"


# --- a swept parameter ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def specs() -> SpecCache:
    return SpecCache(DEMOS)


def ref_of(line: str, specs: SpecCache):
    return parse_ref(line, "index.md", "docs/index.md", 3, specs)


def test_a_swept_parameter_gives_one_typed_run_per_value_in_the_pages_order(specs: SpecCache) -> None:
    ref = ref_of("!demo[Square](ok/main?scale=2|0.5|1&label=big)", specs)
    assert ref.sweep == "scale"
    assert [v.value for v in ref.variants] == [2.0, 0.5, 1.0]
    assert [v.label for v in ref.variants] == ["2", "0.5", "1"]
    assert [v.params_id for v in ref.variants] == ["label-big_scale-2.0", "label-big_scale-0.5", "label-big"]
    assert all(v.params["label"] == "big" for v in ref.variants)
    assert (ref.params_id, ref.overrides) == ("label-big_scale-2.0", {"label": "big", "scale": 2.0})  # the first value is the figure without JS
    assert [pid for _, _, pid in ref.runs] == [v.params_id for v in ref.variants]
    plain = ref_of("!demo[Square](ok/main?scale=2)", specs)
    assert plain.sweep is None and plain.variants == [] and [pid for _, _, pid in plain.runs] == ["scale-2.0"]


def test_a_text_value_may_hold_an_escaped_pipe(specs: SpecCache) -> None:
    ref = ref_of(r"!demo[Square](ok/main?label=a\|b)", specs)
    assert ref.sweep is None and ref.params["label"] == "a|b"
    swept = ref_of(r"!demo[Square](ok/main?label=a\|b|c)", specs)
    assert [v.value for v in swept.variants] == ["a|b", "c"]


@pytest.mark.parametrize("query, message", [
    ("scale=1|2&steps=1|2", "only one parameter may list values with '|' (here 'scale', 'steps')"),
    ("scale=1||2", "parameter 'scale' lists an empty value in '1||2'"),
    ("scale=" + "|".join(str(i) for i in range(MAX_SWEEP_VALUES + 1)), f"parameter 'scale' sweeps {MAX_SWEEP_VALUES + 1} values; at most {MAX_SWEEP_VALUES}"),
    ("scale=1|1.0", "parameter 'scale' lists the value 1.0 twice"),
    ("steps=1|many", "parameter 'steps' of demo 'ok' must be int, not 'many'"),
    ("nope=1|2", "demo 'ok' has no parameter 'nope'"),
])
def test_a_bad_sweep_is_one_error_naming_what_to_fix(specs: SpecCache, query: str, message: str) -> None:
    with pytest.raises(DemoError) as info:
        ref_of(f"!demo[Square](ok/main?{query})", specs)
    assert message in str(info.value)
    refs, problems = collect_refs([("index.md", "docs/index.md", f"# Home\n\n!demo[Square](ok/main?{query})\n", 1)], specs)
    assert refs == [] and [str(p).split(": ", 1)[0] for p in problems] == ["docs/index.md:3"]


def test_twelve_values_are_allowed_and_each_is_one_job(specs: SpecCache, tmp_path: Path) -> None:
    values = "|".join(str(i) for i in range(1, MAX_SWEEP_VALUES + 1))
    ref = ref_of(f"!demo[Square](ok/main?steps={values})", specs)
    other = ref_of("!demo[Again](ok/main?steps=3)", specs)  # steps=3 is the default: the same run as the default one
    settings = Settings(project_root=tmp_path, demos_dir=DEMOS, cache_dir=tmp_path / "cache", device="cpu")
    jobs, problems = plan_jobs(settings, [ref, other], specs, only=["ok"])
    assert problems == []
    ids = sorted(j.params_id for j in jobs)
    assert ids == sorted(["default"] + [f"steps-{i}" for i in range(1, MAX_SWEEP_VALUES + 1) if i != 3])
    assert len({j.key for j in jobs}) == len(jobs)
    assert next(j for j in jobs if j.params_id == "steps-12").pages == ["docs/index.md"]


# --- the hooks on a tiny site with demos ---------------------------------------------------------------

# MKDOCS_YML: the tiny site with both hooks of tests/test_demo_hooks.py

NOTE_OLD = """---
title: Older note
date: 2024-01-02
---

# Older note

On [[Squares]], the first look.

!demo[The older square](ok/main?scale=3)
"""

NOTE_NEW = """---
title: Newer note
date: 2024-02-03
---

# Newer note

Squares, explored: see [[Squares]], [[Squares#Details|its details]] and [[Older note]].

!demo[The square against its scale](ok/main?scale=0.5|1|2&label=swept)

!demo[A second figure](ok/main?steps=5)

## Aside

Nothing about that concept here.

!demo[An unrelated figure](standalone/main)
"""

CONCEPT = """---
title: Squares
---

# Squares

A square is a [[Newer note|thing]] with four equal sides.

!demo[The concept's own square](ok/main)

## Details

The area is $s^2$ for a side $s$.
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reading") / "site-src"
    shutil.copytree(FIXTURE, root)
    (root / "mkdocs.yml").write_text(MKDOCS_YML)
    (root / "docs" / "notes").mkdir()
    (root / "docs" / "concepts").mkdir()
    (root / "docs" / "notes" / "2024-01-02-older-note.md").write_text(NOTE_OLD)
    (root / "docs" / "notes" / "2024-02-03-newer-note.md").write_text(NOTE_NEW)
    (root / "docs" / "concepts" / "squares.md").write_text(CONCEPT)
    build(load_config(str(root / "mkdocs.yml"), strict=False, site_dir=str(root / "site")))  # the fixture has failing demos
    return root / "site"


def soup(site: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")


def test_a_swept_figure_has_one_frame_per_value_the_first_shown_and_a_hidden_labelled_slider(built: Path) -> None:
    page = soup(built, "notes/2024-02-03-newer-note/index.html")
    figure = page.select_one("figure.kb-sweep")
    frames = figure.select(".kb-figure-frame")
    assert [f["data-kb-value"] for f in frames] == ["0.5", "1", "2"]
    assert [f.has_attr("hidden") for f in frames] == [False, True, True]  # without JavaScript: the first value
    for frame, folder in zip(frames, ["label-swept_scale-0.5", "label-swept", "label-swept_scale-2.0"]):
        srcs = [img["src"] for img in frame.find_all("img")]
        assert srcs == [f"../../demos/ok/{folder}/main-light.svg#only-light", f"../../demos/ok/{folder}/main-dark.svg#only-dark"]
        assert [a["href"] for a in frame.select("a.kb-figure-open")] == [s.split("#")[0] for s in srcs]  # opens full size
        for src in srcs:
            assert (built / "notes/2024-02-03-newer-note" / src.split("#")[0]).resolve().is_file()
        data = (built / "notes/2024-02-03-newer-note" / f"../../demos/ok/{folder}/data.json").resolve()
        assert data.is_file()  # each value's numbers are published like any run with overrides
    provenance = figure.select(".kb-provenance")
    assert [p.has_attr("hidden") for p in provenance] == [False, True, True]
    assert "params label=swept, scale=0.5" in provenance[0].get_text(" ", strip=True)
    assert "params label=swept, scale=2.0" in provenance[2].get_text(" ", strip=True)
    control = figure.select_one(".kb-sweep-control")
    assert control.has_attr("hidden")  # shown by demos.js
    slider = control.select_one("input[type=range]")
    assert (slider["min"], slider["max"], slider["value"]) == ("0", "2", "0")
    label = control.find("label")
    assert label["for"] == slider["id"] and label.get_text(" ", strip=True) == "scale = 0.5"
    assert slider["aria-valuetext"] == "scale = 0.5"
    assert figure["id"] == page.select("figure.kb-demo")[0]["id"] and figure["id"].startswith("kb-fig-")
    runs = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in soup(built, "demo-runs/index.html").select("tbody tr")]
    assert {r[1] for r in runs if r[0].startswith("ok")} >= {"label=swept, scale=0.5", "label=swept", "label=swept, scale=2.0"}


def test_a_concepts_gallery_shows_the_figures_of_its_notes_newest_first(built: Path) -> None:
    page = soup(built, "concepts/squares/index.html")
    headings = [h.get_text(strip=True).rstrip("¶") for h in page.select("article h2")]
    assert headings[:3] == ["Details", "Figures in linked notes", "Linked from"]  # its own sections, then the generated ones
    items = page.select(".kb-gallery-item")
    captions = [i.select_one(".kb-gallery-caption").get_text() for i in items]
    assert captions == ["The square against its scale (shown at scale = 0.5; the slider is on the page)",  # no slider here
                        "A second figure", "The older square"]  # newest note first, page order
    # "An unrelated figure" of the newer note: a demo the concept's page does not show, under a section that does
    # not link the concept (the others: under text that links it, or of a demo the concept's page shows)
    first = items[0]
    assert [img["src"] for img in first.find_all("img")] == [
        "../../demos/ok/label-swept_scale-0.5/main-light.svg#only-light", "../../demos/ok/label-swept_scale-0.5/main-dark.svg#only-dark"]
    link = first.select_one(".kb-gallery-source a")
    assert link.get_text() == "Newer note" and first.select_one("time").get_text() == "2024-02-03"
    url, fragment = link["href"].split("#")
    target = soup(built, "notes/2024-02-03-newer-note/index.html")
    assert url == "../../notes/2024-02-03-newer-note/" and target.find(id=fragment).name == "figure"
    assert first.select_one(".kb-gallery-thumb")["tabindex"] == "-1"  # one stop per item for the keyboard: the note's link
    assert "The concept's own square" not in captions  # its own figure is on the page already


def test_previews_are_small_json_beside_each_page_and_article_links_point_to_them(built: Path) -> None:
    concept_preview = json.loads((built / "concepts/squares/preview.json").read_text())
    assert concept_preview["title"] == "Squares" and concept_preview["kind"] == "concept" and concept_preview["date"] is None
    assert concept_preview["text"].startswith("A square is a thing with four equal sides")
    assert concept_preview["figure"] == {"alt": "The concept's own square", "light": "../../demos/ok/main-light.svg",
                                         "dark": "../../demos/ok/main-dark.svg", "width": 40, "height": 20}  # its final size
    # [[Squares#Details]] in a note: the card shows that section, its formulas as TeX pieces for KaTeX
    assert concept_preview["sections"] == {"details": {"title": "Details", "text": "The area is $s^2$ for a side $s$.", "parts": [
        ["text", "The area is "], ["math", "$s^2$"], ["text", " for a side "], ["math", "$s$"], ["text", "."]]}}
    note_preview = json.loads((built / "notes/2024-02-03-newer-note/preview.json").read_text())
    assert (note_preview["kind"], note_preview["date"]) == ("note", "2024-02-03")
    assert note_preview["figure"]["light"] == "../../demos/ok/label-swept_scale-0.5/main-light.svg"
    assert (built / "notes/2024-02-03-newer-note" / note_preview["figure"]["light"]).resolve().is_file()
    assert len((built / "notes/2024-02-03-newer-note/preview.json").read_bytes()) < 2000
    page = soup(built, "notes/2024-02-03-newer-note/index.html")
    marked = {a["href"]: a["data-kb-preview"] for a in page.select("article a[data-kb-preview]")}
    assert marked["../../concepts/squares/"] == "../../concepts/squares/preview.json"
    assert marked["../2024-01-02-older-note/"] == "../2024-01-02-older-note/preview.json"
    assert not page.select(".md-nav a[data-kb-preview], .md-header a[data-kb-preview]")  # only the article's links
    home = soup(built, "index.html")
    assert not home.select("a[data-kb-preview]")  # the home page links to no note


def local_graph(html: BeautifulSoup) -> dict:
    """The rows and links a page's local graph shows (the JSON docs/assets/kb.js draws)."""
    return json.loads(html.select_one(".kb-local-graph")["data-kb-graph"])


def test_every_note_and_concept_has_a_local_graph_of_links(built: Path) -> None:
    page = soup(built, "concepts/squares/index.html")
    graph = local_graph(page)
    assert "Local graph of Squares" in graph["label"]
    assert graph["rows"][0] == {"title": "Squares", "kind": "concept"}  # the page itself, not a link
    assert [(r["title"], r["kind"], reading.RELATIONS[r["rel"]]) for r in graph["rows"][1:]] == [
        ("Newer note", "note", "links both ways"), ("Older note", "note", "links to this page")]
    for row in graph["rows"][1:]:
        assert (built / "concepts/squares" / row["href"] / "index.html").resolve().is_file()
    pairs = list(zip(graph["edges"][::2], graph["edges"][1::2]))
    assert (0, 1) in pairs and all(0 <= i < j < len(graph["rows"]) for i, j in pairs)
    assert local_graph(soup(built, "notes/2024-01-02-older-note/index.html"))["rows"][1:]


# --- local graphs, previews and the map without a build ----------------------------------------------

@pytest.fixture
def kb():
    return kb_of(
        concept("a", "Alpha", "See [[Beta]]."),
        concept("b", "Beta"),
        concept("c", "Gamma"),
        note("2024-01-01", "one", "[[Alpha]] and [[Beta]]."),
        note("2024-02-01", "two", "[[Alpha]], [[Gamma]] and [[one]]."),
        note("2024-03-01", "three", "[[Alpha]] alone."),
    )


def test_local_graph_rows_and_edges(kb) -> None:
    assert reading.neighbours(kb, "concepts/a.md") == ["concepts/b.md", "notes/2024-03-01-three.md", "notes/2024-02-01-two.md",
                                                        "notes/2024-01-01-one.md"]
    rows, more, edges = reading._local_rows(kb, "notes/2024-02-01-two.md")
    assert rows == ["notes/2024-02-01-two.md", "concepts/a.md", "concepts/c.md", "notes/2024-01-01-one.md"]
    assert more == 0
    assert (1, 3) in edges and (0, 1) in edges and (0, 2) in edges  # one -> Alpha among the neighbours
    lonely = kb_of(concept("z", "Zeta"))
    assert "No page links" in fragments.render(fragments.Context(lonely), "concepts/z.md", "local-graph")


def test_a_local_graph_is_capped_and_says_how_many_more() -> None:
    many = kb_of(concept("a", "Alpha"), *[note(f"2024-01-{d:02d}", f"n{d}", "[[Alpha]]") for d in range(1, 29)])
    graph = local_graph(BeautifulSoup(fragments.render(fragments.Context(many), "concepts/a.md", "local-graph"), "html.parser"))
    assert len(graph["rows"]) == 1 + reading.MAX_NEIGHBOURS and graph["more"] == 4
    assert graph["label"].endswith("4 more listed under Linked from")


def test_local_graph_data_cannot_leave_its_attribute() -> None:
    hostile = kb_of(concept("a", "'</div><script>alert(1)</script> & <!-- [[x]]'"), note("2024-01-01", "n", "[[a]]"))
    html = fragments.render(fragments.Context(hostile), "notes/2024-01-01-n.md", "local-graph")
    raw = re.search(r"data-kb-graph='([^']*)'", html).group(1)
    assert not set(raw) & set("<>&'") and "[[" not in raw
    graph = local_graph(BeautifulSoup(html, "html.parser"))
    assert graph == json.loads(raw) and graph["rows"][1]["title"].startswith("</div><script>alert(1)")


def test_local_graph_and_gallery_enter_what_a_page_shows(kb) -> None:
    def shows(kb, uri, figures=reading.no_figures):
        return fragments.page_data(fragments.Context(kb, figures=figures), uri, kb.pages[uri].body)

    def graph(kb, uri):
        return fragments.Context(kb).read(uri, "local-graph")

    before = shows(kb, "concepts/c.md")
    figure = reading.PageFigure("A figure", "demos/x/f-light.svg", "demos/x/f-dark.svg", "kb-fig-1",
                                frozenset({"concepts/b.md", "concepts/c.md"}))  # about Beta and Gamma
    with_figure = shows(kb, "concepts/c.md", lambda uri: (figure,) if uri == "notes/2024-02-01-two.md" else ())
    assert with_figure != before  # the gallery shows the note's figure
    assert shows(kb, "concepts/b.md", lambda uri: (figure,) if uri == "notes/2024-02-01-two.md" else ()) == \
        shows(kb, "concepts/b.md")  # Beta is not linked from note two
    renamed = kb_of(
        concept("a", "Alpha", "See [[Beta]]."), concept("b", "Beta"), concept("c", "Gamma"),
        note("2024-01-01", "one", "[[Alpha]] and [[Beta]].", title="One, renamed"),
        note("2024-02-01", "two", "[[Alpha]], [[Gamma]] and [[one]]."),
        note("2024-03-01", "three", "[[Alpha]] alone."),
    )
    assert graph(renamed, "concepts/a.md") != graph(kb, "concepts/a.md")  # a neighbour's title
    # a page shows only its own neighbours: a title two steps away does not enter it
    assert graph(renamed, "concepts/c.md") == graph(kb, "concepts/c.md")


def test_what_a_page_links_to_and_marking_its_links(kb) -> None:
    links = render.read_page_links(kb, "notes/2024-02-01-two.md", kb.pages["notes/2024-02-01-two.md"].body
                                   + "\n[one](2024-01-01-one.md) [gone](2024-05-01-later.md) [home](../index.md) [out](https://example.org/x.md)\n",
                                   {"index.md": "./", "notes/2024-01-01-one.md": "notes/2024-01-01-one/"})
    assert [uri for uri, _, _ in links.previews] == ["concepts/a.md", "concepts/c.md", "notes/2024-01-01-one.md"]
    assert dict(links.files) == {"2024-01-01-one.md": "notes/2024-01-01-one/", "2024-05-01-later.md": None, "../index.md": "./"}
    html = ('<p><a href="../../concepts/a/#x">Alpha</a> '
            '<a class="y" href="../2024-01-01-one/">one</a> <a href="https://example.org/concepts/a/">out</a> '
            '<a href="#self">here</a> <a href="../../">home</a> <a href="../2024-02-01-two/">itself</a></p>')
    marked = BeautifulSoup(reading.mark_links(html, "notes/2024-02-01-two.md", kb.urls["notes/2024-02-01-two.md"], links.previews), "html.parser")
    assert [a.get("data-kb-preview") for a in marked.select("a")] == [
        "../../concepts/a/preview.json", "../2024-01-01-one/preview.json", None, None, None, None]
    # a generated list marks its own links the same way (hooks.kb.fragments.Context.link)
    ctx = fragments.Context(kb)
    assert ctx.preview("concepts/a.md", "concept", "notes/2024-02-01-two.md", "../../concepts/a/") == "../../concepts/a/preview.json"
    assert ctx.preview("notes/2024-02-01-two.md", "note", "notes/2024-02-01-two.md", "./") is None  # the page itself
    data = json.loads(reading.preview_json(kb, "notes/2024-02-01-two.md"))
    assert data == {"date": "2024-02-01", "figure": None, "kind": "note", "text": "Alpha, Gamma and one.", "title": "Two"}


def _overlaps(nodes) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            if a.box[0] < b.box[2] and b.box[0] < a.box[2] and a.box[1] < b.box[3] and b.box[1] < a.box[3]:
                out.append((a.title, b.title))
    return out


def test_the_concept_maps_labels_and_targets_never_overlap_and_the_phone_layout_keeps_its_width() -> None:
    titles = ["Deep double descent", "Gradient descent and backpropagation", "Reliability and controllability",
              "Simulation (sim-to-real)", "Next-token prediction", "Overparameterization", "Inductive bias", "Trainability"]
    concepts = [concept(f"c{i}", t, " ".join(f"[[{o}]]" for o in titles if o != t)) for i, t in enumerate(titles)]
    notes = [note(f"2024-01-{d:02d}", f"n{d}", " ".join(f"[[{t}]]" for t in titles[d % 3::2])) for d in range(1, 12)]
    cmap = concept_map(kb_of(*concepts, *notes), map_notes=40)
    for layout, target in ((cmap, 36), (cmap.narrow, 28)):
        assert _overlaps(layout.nodes) == []
        for node in layout.nodes:
            x0, y0, x1, y1 = node.box
            assert x1 - x0 >= target and y1 - y0 >= target
            assert 0 <= x0 and x1 <= layout.width and 0 <= y0 and y1 <= layout.height
    assert cmap.narrow.width == 360 and cmap.narrow.font == 13
    svg = BeautifulSoup(fragments.concept_map_html(cmap, {n.src_uri: n.src_uri for n in cmap.nodes}), "html.parser")
    wide, narrow = svg.select("svg")
    assert "kb-map-wide" in wide["class"] and "kb-map-narrow" in narrow["class"]
    assert wide.get("role") != "img" and narrow.get("role") != "img"  # a screen reader reaches each node's link
    assert len(narrow.select("a.kb-map-node")) == len(concepts) + len(notes)
    assert all(a.select_one(".kb-map-hit") for a in narrow.select("a.kb-map-node"))


def test_the_map_layout_is_the_same_on_every_build() -> None:
    kb = kb_of(concept("a", "Alpha", "[[Beta]]"), concept("b", "Beta"), note("2024-01-01", "one", "[[Alpha]]"))
    assert concept_map(kb, 5) == concept_map(kb, 5)


def test_a_sweep_line_with_an_error_stops_a_strict_build_naming_its_line(tmp_path: Path, caplog) -> None:
    root = tmp_path / "site-src"
    shutil.copytree(FIXTURE, root)
    (root / "mkdocs.yml").write_text(MKDOCS_YML)
    values = "|".join(str(i) for i in range(13))
    (root / "docs" / "bad.md").write_text(f"# Bad\n\n!demo[Too many](ok/main?steps={values})\n")
    with pytest.raises(Abort):
        build(load_config(str(root / "mkdocs.yml"), site_dir=str(root / "site")))
    assert "docs/bad.md:3: parameter 'steps' sweeps 13 values; at most 12 are allowed" in caplog.text
