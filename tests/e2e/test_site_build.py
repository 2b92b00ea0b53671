"""The one strict end-to-end build of the real site: the note, its concepts, every demo figure and its data."""
from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup

from hooks.figures.spec import demo_names, load_spec

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
NOTE = "notes/2024-01-23-dl-study/index.html"
SEED = REPO.parent / "shared" / "seeds" / "000_2d7fba71379b3269.txt"


def page(site: Path, path: str) -> BeautifulSoup:
    return BeautifulSoup((site / path).read_text(encoding="utf-8"), "html.parser")


def test_every_demo_publishes_both_variants_of_every_figure_and_its_data(built_site: Path) -> None:
    names = demo_names(REPO / "demos")
    assert len(names) >= 6
    for name in names:
        spec = load_spec(REPO / "demos", name)
        folder = built_site / "demos" / name
        if spec.device == "cuda" and not (folder / "data.json").exists():
            continue  # needs a GPU and no run of it was found: test_gpu_demos_without_a_run_say_so
        data = json.loads((folder / "data.json").read_text())
        assert data, f"{name}: empty data.json"
        assert (folder / f"{name}.py").read_bytes() == spec.path.read_bytes()
        for fig in spec.figures:
            for theme in ("light", "dark"):
                svg = (folder / f"{fig}-{theme}.svg").read_text()
                assert svg.lstrip().startswith("<?xml") and "<svg" in svg
                assert "<dc:date>" not in svg, "figures must carry no date metadata"


def test_the_note_shows_a_figure_beside_its_paragraphs_with_provenance(built_site: Path) -> None:
    html = page(built_site, NOTE)
    figures = html.select("article figure.kb-demo")
    assert len(figures) >= 6
    for fig in figures:
        light, dark = fig.select_one(".kb-figure-frame").find_all("img")  # an explorable figure: its first value
        assert light["src"].endswith("-light.svg#only-light") and dark["src"].endswith("-dark.svg#only-dark")
        assert light["alt"] and light["alt"] == dark["alt"]
        prov = fig.select_one(".kb-provenance").get_text(" ", strip=True)
        assert re.search(r"\.py · (params [^·]+ · )?seed \d+ · \d+\.\d s · .+ · torch 2\.13\.0\S* · run \d{4}-\d\d-\d\d · (ran again as [^·]+ · )?data", prov), prov
        for a in fig.select(".kb-provenance a"):
            assert (built_site / "notes" / "2024-01-23-dl-study" / a["href"]).resolve().is_file(), a["href"]
        assert not fig.select(".kb-stale")


def test_the_note_keeps_the_authors_words(built_site: Path) -> None:
    text = page(built_site, NOTE).select_one("article").get_text()
    text = re.sub(r"\s+", " ", text.replace("\u00a0", " "))
    seed = SEED.read_text(encoding="utf-8") if SEED.exists() else ""
    if not seed:
        pytest.skip("the seed text is not beside this checkout")
    for paragraph in seed.split("\n"):
        paragraph = re.sub(r"\s+", " ", paragraph.replace("\u00a0", " ")).strip()
        if paragraph and paragraph not in ("Leave a comment", "DL study – Jan 23, 2024"):
            assert paragraph in text, paragraph[:80]


def test_concepts_list_the_note_and_each_other(built_site: Path) -> None:
    for slug in ("deep-double-descent", "trainability", "simplicity-bias", "next-token-prediction", "embodiment"):
        html = page(built_site, f"concepts/{slug}/index.html")
        linked = html.find(id="linked-from")
        assert linked is not None, slug
        section = linked.find_next("ul")
        assert "DL study – Jan 23, 2024" in section.get_text(), slug
        assert html.find(id="related-concepts") is None  # one note: no concept shares two notes with another
    runs = page(built_site, "demo-runs/index.html")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in runs.select("article table.kb-runs-table tbody tr")]
    assert {r[0].split()[0] for r in rows} >= set(demo_names(REPO / "demos"))
    gpu = {n for n in demo_names(REPO / "demos") if load_spec(REPO / "demos", n).device == "cuda"}
    assert all(r[2] == "ok" or (r[0].split()[0] in gpu and "needs a GPU run" in r[2]) for r in rows), rows


def test_gpu_demos_without_a_run_say_so(built_site: Path) -> None:
    """A demo that needs a GPU, on a machine without one and with no cached run: a placeholder, not a failure."""
    gpu = [n for n in demo_names(REPO / "demos") if load_spec(REPO / "demos", n).device == "cuda"]
    assert gpu, "the site has a demo that needs a GPU"
    for name in gpu:
        if (built_site / "demos" / name / "data.json").exists():
            continue  # a run was found (pulled, or made on a GPU here)
        runs = page(built_site, "demo-runs/index.html").get_text(" ")
        assert f"needs a GPU run: notes demos {name} --device cuda" in runs
        pages = [p for p in built_site.rglob("index.html") if "Figure not published yet." in p.read_text(encoding="utf-8")]
        assert pages, f"no page shows the placeholder of {name}"  # a neutral note for readers
        assert not [p for p in built_site.rglob("index.html") if "notes demos" in p.read_text(encoding="utf-8")
                    and "demo-runs" not in p.parent.name]  # the author's instructions: on the Demo runs page only


def test_notes_index_and_feed_list_the_note(built_site: Path) -> None:
    index = page(built_site, "notes/index.html").select_one("article").get_text(" ", strip=True)
    assert "DL study – Jan 23, 2024" in index and "2024" in index
    feed = feedparser.parse((built_site / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    [entry] = [e for e in feed.entries if e.title == "DL study – Jan 23, 2024"]
    assert entry.published_parsed[:3] == (2024, 1, 23)
    assert entry.link.endswith("/notes/2024-01-23-dl-study/")


def test_every_run_in_the_cache_used_one_torch_thread(built_site: Path) -> None:
    import os

    cache = Path(os.environ.get("DEMOS_CACHE_DIR") or REPO / ".demos-cache")
    names = demo_names(REPO / "demos")
    manifests = [json.loads(p.read_text()) for name in names for p in cache.glob(f"entries/{name}/*/manifest.json")]
    assert manifests, "the strict build should have filled the demo cache"
    assert {m["torch_threads"] for m in manifests} == {1}
    assert all(m["device"] in ("cpu", "cuda") and m["seed"] is not None for m in manifests)
