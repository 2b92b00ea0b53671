"""Numbers bound to runs (hooks/figures/numbers.py): the span's syntax and its problems, the value read
from data.json, and, on a tiny MkDocs site with the fake demos of tests/fixtures/demo_project, the
number in the page, its provenance, what the Demo runs page says when a run moves it, and the export."""
from __future__ import annotations

import json
import logging
import os
import re
import time
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from hooks.figures.directive import SpecCache
from hooks.figures.numbers import NumberError, Tolerance, collect_numbers, compare, format_value, lookup, parse_number, value_of
from tests.generator import Abort, build, load_config
from tests.test_demo_hooks import FIXTURE, MKDOCS_YML

SPECS = SpecCache(FIXTURE / "demos")


PAGE = """---
title: Home
---

# Home

The answer is `{run} ok answer`; scaled, `{run} ok?scale=2 answer :.1f`; over three seeds `{run} ok?seed=0..2 answer`.

!demo[The square, whose answer is `{run} ok answer`](ok/main)

Loose: `{run} ok answer ~25%`.
"""


# --- the span ----------------------------------------------------------------------------------------

def test_a_span_names_its_run_key_reducer_format_and_tolerance() -> None:
    ref = parse_number("{run} ok?scale=2&seed=0..3 curve.loss[-1] max :.2f ~10%", "a.md", "docs/a.md", 3, SPECS)
    assert (ref.demo, ref.key, ref.reducer, ref.fmt, ref.tolerance) == ("ok", "curve.loss[-1]", "max", ".2f", Tolerance(0.1, True))
    assert ref.ranged == "seed" and [params["seed"] for params, _, _ in ref.runs] == [0, 1, 2, 3]
    assert all(params["scale"] == 2.0 for params, _, _ in ref.runs)
    assert [pid for _, _, pid in ref.runs][0] == "scale-2.0"  # seed 0 is the default: the same run a figure would use
    assert "seed 0–3" in ref.describe() and "max of curve.loss[-1]" in ref.describe()


@pytest.mark.parametrize("span, message", [
    ("{run} nodemo answer", "unknown demo 'nodemo'"),
    ("{run} ok", "names no key"),
    ("{run} ok?nope=1 answer", "nope"),
    ("{run} ok?steps=many answer", "steps"),
    ("{run} ok?seed=3..1 answer", "must run upwards"),
    ("{run} ok?seed=0..1&steps=1..2 answer", "only one parameter may be a range"),
    ("{run} ok answer biggest", "'biggest' is neither a reducer"),
    ("{run} ok answer max min", "two reducers"),
    ("{run} ok answer :.2q", "is not a number format"),
    ("{run} ok answer ~lots", "is not a tolerance"),
    ("{run} ok @colour", "is not a field of a run"),
])
def test_a_span_that_cannot_be_read_is_a_problem_naming_file_and_line(span: str, message: str) -> None:
    body = f"Some text.\n\nHere: `{span}`, and on.\n"
    refs, problems = collect_numbers([("a.md", "docs/a.md", body, 4)], SPECS)
    assert refs == [] and len(problems) == 1
    assert problems[0].path == "docs/a.md" and problems[0].line == 6  # the body's third line, the page's sixth
    assert message in problems[0].message


def test_spans_in_code_are_left_alone_and_a_caption_holds_numbers() -> None:
    body = "```\n`{run} nodemo x`\n```\n\n    `{run} nodemo y`\n\n!demo[Answer `{run} ok answer`](ok/main)\n"
    refs, problems = collect_numbers([("a.md", "docs/a.md", body, 1)], SPECS)
    assert problems == [] and [r.line for r in refs] == [7]


DATA = {"a": {"b.c": [1, 2.5, None, 4]}, "n": 1234.5678, "x": 0.012345, "k": {"P=10": 623}, "flag": True, "neg": -0.5}


@pytest.mark.parametrize("key, reducer, fmt, shown", [
    ("a.b.c", "max", None, "4"),  # a key holding a dot is found
    ("a.b.c", "mean", ".3f", "2.500"),  # None is not a number: left out
    ("a.b.c", "count", None, "4"),
    ("a.b.c[1]", None, None, "2.5"),  # no trailing zeros
    ("a.b.c[-1]", None, "d", "4"),
    ("n", None, None, "1,235"),  # three significant digits, thousands separated
    ("x", None, None, "0.0123"),
    ("x", None, ".1%", "1.2%"),
    ("k.P=10", None, None, "623"),
    ("neg", None, None, "−0.5"),  # a minus sign, not a hyphen
    ("neg", None, ".2f", "−0.50"),  # a format keeps what it asks for
])
def test_the_value_is_read_reduced_and_formatted(key: str, reducer: str | None, fmt: str | None, shown: str) -> None:
    ref = parse_number(f"{{run}} ok {key}" + (f" {reducer}" if reducer else "") + (f" :{fmt}" if fmt else ""), "a.md", "docs/a.md", 1, SPECS)
    assert format_value(value_of(ref, DATA, {}), ref.fmt) == shown


@pytest.mark.parametrize("key, message", [
    ("a.b.d", "has no key 'b' under 'a' (keys there: b.c)"),
    ("a.b.c", "is a list of 4; add a reducer"),
    ("flag", "not a number"),
    ("n.deeper", "holds no keys"),
    ("a.b.c[9]", "has no item [9]"),
])
def test_a_key_the_run_does_not_have_says_what_is_there(key: str, message: str) -> None:
    ref = parse_number(f"{{run}} ok {key}", "a.md", "docs/a.md", 1, SPECS)
    with pytest.raises(NumberError, match=re.escape(message)):
        value_of(ref, DATA, {})


def test_lookup_takes_the_longest_key_first() -> None:
    assert lookup({"a.b": 1, "a": {"b": 2}}, "a.b") == 1


def test_compare_lists_every_moved_number_largest_change_first() -> None:
    before = {"s": 1.0, "same": 3, "curve": [1.0, 2.0, 4.0], "nested": {"t": 10}, "gone": 5}
    now = {"s": 1.5, "same": 3, "curve": [1.0, 2.2, 4.0, 5.0], "nested": {"t": 9}, "new": 1}
    moved = {m.key: m for m in compare(before, now)}
    assert set(moved) == {"s", "curve", "nested.t"}
    assert (moved["curve"].index, moved["curve"].size) == (1, (3, 4))
    assert [m.key for m in compare(before, now)] == ["s", "curve", "nested.t"]  # +50 %, +10 %, −10 % (by key on a tie)
    assert moved["s"].change == pytest.approx(0.5)


# --- on a site --------------------------------------------------------------------------------------

@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site-src"
    shutil.copytree(FIXTURE, root)
    for broken in ("fails", "hangs", "silent"):  # demos that fail on purpose: not what these tests are about
        (root / "demos" / f"{broken}.py").unlink()
    (root / "mkdocs.yml").write_text(MKDOCS_YML)
    (root / "docs" / "index.md").write_text(PAGE, encoding="utf-8")
    return root


def do_build(root: Path, strict: bool = False) -> None:
    build(load_config(str(root / "mkdocs.yml"), strict=strict, site_dir=str(root / "site")))


def soup(root: Path, page: str = "index.html") -> BeautifulSoup:
    return BeautifulSoup((root / "site" / page).read_text(encoding="utf-8"), "html.parser")


def test_numbers_follow_the_runs_and_a_rerun_that_moves_them_is_listed_and_flagged(site: Path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    do_build(site)
    page = soup(site)
    numbers = page.select("a.kb-number")
    assert [a.get_text() for a in numbers] == ["42", "84.0", "42", "42", "42"]  # prose, then the caption; ranges agree
    first = numbers[0]
    assert first["href"] == "demo-runs/#run-ok-default" and soup(site, "demo-runs/index.html").find(id="run-ok-default")
    assert first["title"].startswith("ok (defaults): answer, from the run of 20")  # where it came from, on hover
    assert first["data-kb-from"] == first["title"]  # and on keyboard focus (demos.css)
    assert "from the 3 runs of" in numbers[2]["title"]
    assert page.select_one("figure.kb-demo img")["alt"] == "The square, whose answer is 42"
    assert "{run}" not in page.get_text()
    assert not soup(site, "demo-runs/index.html").find(id="what-moved")  # nothing replaced yet

    demo = site / "demos" / "ok.py"
    demo.write_text(demo.read_text().replace("42 * cfg.scale", "50 * cfg.scale"))
    caplog.clear()
    do_build(site)
    page = soup(site)
    assert [a.get_text() for a in page.select("a.kb-number")] == ["50", "100.0", "50", "50", "50"]  # the numbers follow
    runs = soup(site, "demo-runs/index.html")
    moved = runs.find(id="moved-run-ok-default").find_next("table")
    row = [td.get_text(" ", strip=True) for td in moved.select("tbody tr")[0].select("td")]
    assert row == ["answer", "42", "50", "+19.0 %", "Home (lines 7, 9, 11)"]
    assert "ran again as demos/ok.py changed" in runs.find(id="moved-run-ok-default").find_next("p").get_text()
    warned = [r.getMessage() for r in caplog.records if "moved from" in r.getMessage()]
    assert any("docs/index.md:7: `{run} ok answer` moved from 42 to 50 (+19.0 %)" in w for w in warned)
    assert not any("~25%" in w for w in warned)  # within its own tolerance
    caplog.clear()
    with pytest.raises(Abort):
        do_build(site, strict=True)  # a warning under --strict stops the build
    assert "problem(s) with the numbers the pages take from runs:\ndocs/index.md:7: `{run} ok answer` moved from 42 to 50" in caplog.text
    later = time.time() + 5  # the writer reads the page again and saves it: the numbers are taken as read
    os.utime(site / "docs" / "index.md", (later, later))
    caplog.clear()
    do_build(site, strict=True)
    assert "moved from" not in caplog.text
    assert soup(site, "demo-runs/index.html").find(id="moved-run-ok-default")  # what moved is still listed


def test_a_key_the_run_lacks_fails_the_build_naming_file_and_line(site: Path, caplog) -> None:
    (site / "docs" / "index.md").write_text("# Home\n\nIt is `{run} ok answr`.\n", encoding="utf-8")
    with pytest.raises(Abort):
        do_build(site)
    assert "docs/index.md:3: `{run} ok answr`: the run's data has no key 'answr' (keys there: answer, device, steps)" in caplog.text


def test_the_export_writes_the_number(site: Path) -> None:
    from hooks import site as site_module
    from hooks.cli.export import export_tree
    from hooks.config import read_config
    from hooks.mkdocs_files import load_project

    note = site / "docs" / "notes" / "2024-01-02-answer.md"
    note.parent.mkdir()
    note.write_text("---\ntitle: Answer\ndate: 2024-01-02\n---\n\nThe demo answers `{run} ok answer` every time.\n", encoding="utf-8")
    project, files = load_project(site / "mkdocs.yml")
    plan = site_module.plan_site(project, files)
    tree = export_tree(plan, read_config(site / "mkdocs.yml"))
    text = tree.files["docs/index.md"]
    prose = BeautifulSoup(text.split("<figure")[0], "html.parser").get_text()
    assert "The answer is 42; scaled, 84.0; over three seeds 42." in prose and "{run}" not in text  # the number, linked as on the site
    assert '<a class="kb-number" href="demo-runs/#run-ok-default"' in text
    previews = {path: json.loads(text)["text"] for path, text in tree.files.items() if path.endswith("preview.json")}
    assert previews == {"docs/preview.json": "The answer is 42; scaled, 84.0; over three seeds 42.",
                        "docs/notes/2024-01-02-answer/preview.json": "The demo answers 42 every time."}  # excerpts too
    assert "The demo answers 42 every time." in tree.files["docs/notes/index.md"]  # the archive's excerpt
    assert "The demo answers 42 every time." in tree.files["docs/feed.xml"]
