"""Random sequences of a writer's edits under `mkdocs serve`: after every step the served site equals a full build.

Each sequence starts from a small site (a few notes and concepts, a home page with the newest notes
and the concept map, a tags page, a theme override) and applies random edits: create, edit, retitle,
rename and delete notes, concepts and plain pages; aliases and tags; wikilinks and plain Markdown
links to pages that do not exist yet (and later do); embeds of sections, block ids and links to
them; inline tags; ``draft: true`` and ``publish: false``; the override's ``main.html``. After each
step the site is rebuilt as `mkdocs serve` rebuilds it (in this process, tests/test_serve.py's
ServeSession) and compared, file by file, with a full build of a copy of the same files.

An edit is data (:class:`Edit`), generated from a model of the site (:class:`SiteModel`) by a
seeded random generator, so a failing sequence can be replayed from its seed alone::

    NOTES_PROPERTY_SEED=1234 pytest tests/test_serve_property.py

``NOTES_PROPERTY_STEPS`` (default :data:`DEFAULT_STEPS`) is the number of steps in all, cut into
sequences of ``NOTES_PROPERTY_LENGTH`` steps (default 15), seeds 1, 2, 3, ... unless
``NOTES_PROPERTY_SEED`` names one. Variants: with edits of the theme override, without ``nav:`` in
mkdocs.yml, with the demo hook and figure directives. :data:`FOUND` keeps the shrunk sequences that
failed in earlier runs. ``python -m bench.serve_property --steps 2000 --shrink`` runs thousands.
"""
from __future__ import annotations

import difflib
import json
import logging
import os
import posixpath
import random
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_site
from tests.test_serve import ServeSession, serve_mode, site_files  # noqa: F401 (serve_mode: a fixture)

# 10 sequences of 15 steps (plus 3 with template edits, 2 without a nav, 2 with demos, and the fixed
# sequences): the file took 75 s on 2 lightly loaded cores, 2 min 40 s at 210 steps under a load of 6.
DEFAULT_STEPS = 150
STEPS = int(os.environ.get("NOTES_PROPERTY_STEPS", DEFAULT_STEPS))
LENGTH = int(os.environ.get("NOTES_PROPERTY_LENGTH", 15))
SEED = os.environ.get("NOTES_PROPERTY_SEED")
SEEDS = [int(SEED)] if SEED else list(range(1, max(1, -(-STEPS // LENGTH)) + 1))

NOTE_TITLES = ["Alpha note", "Beta note", "Gamma note", "Delta note", "Epsilon note", "Zeta note"]
CONCEPT_TITLES = ["Weight decay", "Dropout", "Momentum", "Batch norm", "Label smoothing"]
PAGE_TITLES = ["About", "Reading list"]
TAGS = ["theory", "optimisation", "regularisation", "schedules/warmup"]
DATES = ["2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10", "2024-05-01", "2024-05-02"]
BLOCK_IDS = ["claim", "proof"]
TEMPLATE = '{{% extends "base.html" %}}\n{{% block announce %}}{announce}{{% endblock %}}\n'


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


# --- the model of the site: what the files say, so that edits can be generated and described ---------

@dataclass
class Page:
    kind: str  # "note", "concept" or "page" (a plain page outside notes/ and concepts/)
    path: str  # relative to docs/
    title: str
    date: str | None = None
    tags: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    flags: dict[str, bool] = field(default_factory=dict)  # draft: true, publish: false
    paras: list[str] = field(default_factory=list)

    def text(self) -> str:
        front = [f"title: {self.title}"]
        if self.date:
            front.append(f"date: {self.date}")
        if self.tags:
            front.append(f"tags: [{', '.join(self.tags)}]")
        if self.aliases:
            front.append(f"aliases: [{', '.join(self.aliases)}]")
        if self.flags.get("draft"):
            front.append("draft: true")
        if self.flags.get("publish") is False:
            front.append("publish: false")
        body = "\n\n".join([f"# {self.title}", *self.paras])
        return "---\n" + "\n".join(front) + "\n---\n\n" + body + "\n"


@dataclass(frozen=True)
class Edit:
    """One save of the writer: ``op`` on the page at ``path`` with ``arg``."""

    op: str
    path: str = ""
    arg: Any = None

    def __str__(self) -> str:
        return f"{self.op} {self.path} {self.arg!r}".rstrip()


# What a paragraph a writer adds may hold (a kind twice is twice as likely).
PARAGRAPHS = ["text", "wikilink", "wikilink", "future wikilink", "plain link", "plain link", "heading link", "embed",
              "block id", "block link", "tag", "heading"]
# What a writer does, and how often (weights); "template" edits the theme override's main.html.
EDITS = {"create note": 3, "create concept": 2, "create page": 1, "append": 18, "drop": 3, "retitle": 2, "rename": 2,
         "redate": 1, "delete": 1, "aliases": 1, "tags": 1, "flag": 2,
         "config": 1}
WITH_TEMPLATE = {**EDITS, "template": 2}

HOME = """---
title: Home
---

# Tiny notes

It starts at [[Weight decay]].

## Newest notes

<!-- kb:newest -->

## Concept map

<!-- kb:concept-map -->
"""
TAGS_PAGE = "# Tags\n\n<!-- kb:tags -->\n"


DEMO_PROJECT = Path(__file__).parent / "fixtures" / "demo_project" / "demos"
DEMO_VALUES = ["0.5", "2", "3"]  # the scales the demo directives use: each run once before the first step
WARM_NOTE = "notes/2024-01-01-warm.md"


class SiteModel:
    def __init__(self, nav: bool = True, demos: bool = False) -> None:
        self.nav = nav  # False: no `nav:` in mkdocs.yml, so MkDocs makes the sidebar of every page not hidden
        self.demos = demos  # the demo hook too, and `!demo[...](ok/main?scale=...)` directives (tests/fixtures/demo_project)
        self.pages: dict[str, Page] = {}
        self.wanted: set[str] = set()  # paths that plain links point to
        self.announce = "Version 0"
        for title, date in zip(NOTE_TITLES[:3], DATES):
            path = f"notes/{date}-{slug(title)}.md"
            self.pages[path] = Page("note", path, title, date, ["theory"], paras=[f"On [[{CONCEPT_TITLES[0]}]].", "## Details\n\nSome details."])
        for title in CONCEPT_TITLES[:2]:
            path = f"concepts/{slug(title)}.md"
            self.pages[path] = Page("concept", path, title, tags=["optimisation"], aliases=[title.lower() + "s"],
                                    paras=["What it is.", "## Details\n\nWhy it matters. ^claim"])

    def write(self, root: Path) -> None:
        """A fresh project in ``root``: mkdocs.yml (tests.conftest.write_site's, with a theme override) and docs/."""
        root.mkdir(parents=True, exist_ok=True)
        write_site(root, docs=None, theme={"name": "material", "custom_dir": "overrides"})
        if self.demos:
            import yaml

            (root / "demos").mkdir()
            for name in ("__init__.py", "_helper.py", "ok.py"):
                shutil.copy(DEMO_PROJECT / name, root / "demos" / name)
            config = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8"))
            config["hooks"].append(str(Path(config["hooks"][0]).with_name("mkdocs_demos.py")))
            config["nav"].append({"Demo runs": "demo-runs.md"})
            config["extra"]["demos"] = {"cache_dir": ".cache/demos", "timeout": 10, "jobs": 2}
            (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            # every run the directives can ask for, made before the first step (so no page says "ran")
            warm = "\n\n".join(f"!demo[Warm](ok/main?scale={v})" for v in DEMO_VALUES)
            (root / "docs" / WARM_NOTE).parent.mkdir(parents=True, exist_ok=True)
            (root / "docs" / WARM_NOTE).write_text(f"---\ntitle: Warm\ndate: 2024-01-01\n---\n\n# Warm\n\n{warm}\n", encoding="utf-8")
        if not self.nav:
            config = root / "mkdocs.yml"
            config.write_text(re.sub(r"(?m)^nav:\n(?:- .*\n)+", "", config.read_text(encoding="utf-8")), encoding="utf-8")
            assert "nav:" not in config.read_text(encoding="utf-8")
        (root / "docs" / "index.md").write_text(HOME, encoding="utf-8")
        (root / "docs" / "tags.md").write_text(TAGS_PAGE, encoding="utf-8")
        (root / "overrides").mkdir(exist_ok=True)
        (root / "overrides" / "main.html").write_text(TEMPLATE.format(announce=self.announce), encoding="utf-8")
        for page in self.pages.values():
            self._save(root, page)

    @staticmethod
    def _save(root: Path | None, page: Page) -> None:
        if root is None:
            return
        path = root / "docs" / page.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page.text(), encoding="utf-8")

    # -- applying an edit (to the model and the files); an edit that no longer applies is skipped --------

    def apply(self, root: Path | None, edit: Edit) -> bool:
        """Apply ``edit`` to the model and (unless ``root`` is None) to the files; False if it does not apply."""
        page = self.pages.get(edit.path)
        if edit.op == "template":
            self.announce = edit.arg
            if root is not None:
                (root / "overrides" / "main.html").write_text(TEMPLATE.format(announce=self.announce), encoding="utf-8")
            return True
        if edit.op == "config":  # a setting of extra.notes in mkdocs.yml
            if root is not None:
                import yaml

                config = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8"))
                config["extra"]["notes"][edit.path] = edit.arg
                (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            return True
        if edit.op == "create":
            if page is not None:
                return False
            kind, title, date, paras = edit.arg
            page = self.pages[edit.path] = Page(kind, edit.path, title, date, paras=list(paras))
        elif page is None:
            return False
        elif edit.op == "delete":
            del self.pages[edit.path]
            if root is not None:
                (root / "docs" / edit.path).unlink()
            return True
        elif edit.op == "rename":
            to, date = edit.arg
            if to in self.pages:
                return False
            del self.pages[edit.path]
            if root is not None:
                (root / "docs" / edit.path).unlink()
            page.path, page.date = to, date or page.date
            self.pages[to] = page
        elif edit.op == "append":
            page.paras.append(edit.arg)
            self.wanted.update(posixpath.normpath(posixpath.join(posixpath.dirname(page.path), t))
                               for t in re.findall(r"\]\(([^)]+\.md)\)", edit.arg))
        elif edit.op == "drop":
            if edit.arg >= len(page.paras):
                return False
            del page.paras[edit.arg]
        elif edit.op == "retitle":
            page.title = edit.arg
        elif edit.op == "aliases":
            page.aliases = list(edit.arg)
        elif edit.op == "redate":
            page.date = edit.arg
        elif edit.op == "tags":
            page.tags = list(edit.arg)
        elif edit.op == "flag":
            name, value = edit.arg
            page.flags[name] = value
        else:
            raise ValueError(edit.op)
        self._save(root, page)
        return True

    # -- generating an edit -----------------------------------------------------------------------------

    def titles(self) -> list[str]:
        return sorted({p.title for p in self.pages.values()} | {a for p in self.pages.values() for a in p.aliases})

    def future_note(self, rng: random.Random) -> tuple[str, str, str]:
        """A note's path, title and date, of a note that may or may not exist (often one that is linked
        and missing: the writer links first and writes the note later)."""
        wanted = sorted(t for t in self.wanted if t.startswith("notes/") and t not in self.pages)
        if wanted and rng.random() < 0.6:
            path = rng.choice(wanted)
            date, name = path[len("notes/"):][:10], path[len("notes/") + 11:-3]
            return path, name.replace("-", " ").capitalize(), date
        title, date = rng.choice(NOTE_TITLES), rng.choice(DATES)
        return f"notes/{date}-{slug(title)}.md", title, date

    def future_concept(self, rng: random.Random) -> tuple[str, str]:
        title = rng.choice(CONCEPT_TITLES)
        return f"concepts/{slug(title)}.md", title

    def paragraph(self, rng: random.Random, source: str) -> str:
        """A paragraph a writer might add to the page at ``source``."""
        known = self.titles()
        anything = known + NOTE_TITLES + CONCEPT_TITLES + PAGE_TITLES
        kind = rng.choice(PARAGRAPHS + ["demo", "demo", "demo", "number", "number"] * self.demos)
        if kind == "demo":
            values = rng.sample(DEMO_VALUES, rng.choice([1, 1, 2]))
            caption = rng.choice(["Small", "Big", f"Answer `{{run}} ok?scale={values[0]} answer`"])  # a number in a caption
            return f"!demo[{caption}](ok/main?scale={'|'.join(values)})"
        if kind == "number":  # a number taken from a run: in the text, a note's excerpt and preview
            return f"The answer is `{{run}} ok?scale={rng.choice(DEMO_VALUES)} answer {rng.choice(['', ':.1f', ':.0f'])}`."
        if kind == "text":
            return rng.choice(["A plain sentence.", "Another thought, **bold**.", "Loss goes down."])
        if kind == "wikilink":
            return f"See [[{rng.choice(known)}]]."
        if kind == "future wikilink":
            return f"Later: [[{rng.choice(anything)}]]."
        if kind == "plain link":
            if rng.random() < 0.6:
                target = self.future_note(rng)[0]
            elif rng.random() < 0.7:
                target = self.future_concept(rng)[0]
            else:
                target = rng.choice(sorted(self.pages))
            return f"A [plain link]({posixpath.relpath(target, posixpath.dirname(source) or '.')})."
        if kind == "heading link":
            return f"As [[{rng.choice(anything)}#Details]] says."
        if kind == "embed":
            return f"![[{rng.choice(anything)}#Details]]"
        if kind == "block id":
            return f"A claim worth citing. ^{rng.choice(BLOCK_IDS)}"
        if kind == "block link":
            return f"Cited: [[{rng.choice(anything)}#^{rng.choice(BLOCK_IDS)}]]."
        if kind == "tag":
            return f"About #{rng.choice(TAGS)}."
        return "## Details\n\nMore details."

    def next_edit(self, rng: random.Random, kinds: dict[str, int] = EDITS) -> Edit:
        """A random edit of the site as it is, of one of ``kinds`` (edit kind -> weight)."""
        paths = sorted(self.pages)
        op = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        if op == "create note":
            path, title, date = self.future_note(rng)
            return Edit("create", path, ("note", title, date, (self.paragraph(rng, path),)))
        if op == "create concept":
            path, title = self.future_concept(rng)
            return Edit("create", path, ("concept", title, None, ("What it is.", self.paragraph(rng, path))))
        if op == "create page":
            title = rng.choice(PAGE_TITLES)
            path = f"{slug(title)}.md"
            return Edit("create", path, ("page", title, None, (self.paragraph(rng, path),)))
        if op == "template":
            return Edit("template", arg=f"Version {rng.randrange(100)}")
        if op == "config":
            return Edit("config", rng.choice(["newest_on_home", "feed_items", "map_notes"]), rng.randrange(1, 4))
        if not paths:
            return Edit("template", arg=f"Version {rng.randrange(100)}")
        path = rng.choice(paths)
        page = self.pages[path]
        if op == "append":
            return Edit("append", path, self.paragraph(rng, path))
        if op == "drop" and page.paras:
            return Edit("drop", path, rng.randrange(len(page.paras)))
        if op == "retitle":
            pool = {"note": NOTE_TITLES, "concept": CONCEPT_TITLES, "page": PAGE_TITLES}[page.kind]
            return Edit("retitle", path, rng.choice(pool))
        if op == "rename":
            if page.kind == "note":
                to, _, date = self.future_note(rng)
                return Edit("rename", path, (to, date))
            pool = CONCEPT_TITLES if page.kind == "concept" else PAGE_TITLES
            folder = "concepts/" if page.kind == "concept" else ""
            return Edit("rename", path, (f"{folder}{slug(rng.choice(pool))}.md", None))
        if op == "delete":
            return Edit("delete", path)
        if op == "redate" and page.kind == "note":  # the date in the front matter only, not in the file's name
            return Edit("redate", path, rng.choice(DATES))
        if op == "aliases":
            return Edit("aliases", path, tuple(rng.sample([t.lower() for t in NOTE_TITLES + CONCEPT_TITLES], rng.randrange(3))))
        if op == "tags":
            return Edit("tags", path, tuple(rng.sample(TAGS, rng.randrange(3))))
        if rng.random() < 0.5:
            return Edit("flag", path, ("draft", not page.flags.get("draft")))
        return Edit("flag", path, ("publish", None if page.flags.get("publish") is False else False))


def generate(seed: int, steps: int, kinds: dict[str, int] = EDITS, demos: bool = False) -> list[Edit]:
    """The edits of sequence ``seed``, one per step (generated against the model as they apply)."""
    model, rng, edits = SiteModel(demos=demos), random.Random(seed), []
    for _ in range(steps):
        edit = model.next_edit(rng, kinds)
        model.apply(None, edit)
        edits.append(edit)
    return edits


# --- running a sequence --------------------------------------------------------------------------------

def _site_hook():
    return next(m for name, m in sys.modules.items() if name.endswith("mkdocs_site.py"))


def full_build(root: Path, scratch: Path) -> dict[str, object]:
    """A full serve-mode build of a copy of ``root`` (docs/, overrides/, mkdocs.yml) in ``scratch``:
    what a restarted `mkdocs serve` shows. The hook's state for the copy is dropped afterwards, so the
    next reference build in the same folder starts from nothing again."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for name in ("docs", "overrides", "demos", ".cache"):
        if (root / name).is_dir():
            shutil.copytree(root / name, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "mkdocs.yml", scratch / "mkdocs.yml")
    ServeSession(scratch / "mkdocs.yml", scratch / "site").build()
    _site_hook().serve_session().forget(scratch / "mkdocs.yml")
    return site_files(scratch / "site")


def _text(value: object) -> list[str]:
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
    else:
        text = json.dumps(value, indent=1, sort_keys=True, default=str)
    text = re.sub(r">\s*<", ">\n<", text)  # one tag a line, so that the diff shows where
    return text.splitlines()


def difference(served: dict[str, object], reference: dict[str, object]) -> str | None:
    """None when the two sites are equal; else which files differ and a diff of the first differing page."""
    only_served, only_full = sorted(served.keys() - reference.keys()), sorted(reference.keys() - served.keys())
    different = [name for name in sorted(served.keys() & reference.keys()) if served[name] != reference[name]]
    if not (only_served or only_full or different):
        return None
    lines = []
    if only_served:
        lines.append(f"only in the served site: {only_served}")
    if only_full:
        lines.append(f"only in a full build: {only_full}")
    if different:
        lines.append(f"differ from a full build: {different}")
        first = next((n for n in different if n.endswith(".html")), different[0])
        diff = difflib.unified_diff(_text(served[first]), _text(reference[first]), f"served/{first}", f"full/{first}", n=2, lineterm="")
        lines.append("\n".join(list(diff)[:60]))
    return "\n".join(lines)


@dataclass
class Failure:
    seed: int | None
    step: int
    edits: list[Edit]
    report: str

    def __str__(self) -> str:
        done = "\n".join(f"  {i}. {e}" for i, e in enumerate(self.edits, start=1))
        return (f"{'a fixed sequence' if self.seed is None else f'seed {self.seed}'}, step {self.step}: the served site differs "
                f"from a full build\nedits so far:\n{done}\n{self.report}")


def run_edits(edits: list[Edit], workdir: Path, seed: int | None = None, nav: bool = True, demos: bool = False) -> tuple[Failure | None, int]:
    """Serve a fresh site in ``workdir``, apply ``edits`` one save at a time and compare with a full build
    after each; the first failure (or None) and the number of steps built."""
    root = workdir / "site-src"
    shutil.rmtree(workdir, ignore_errors=True)
    model = SiteModel(nav, demos)
    model.write(root)
    serve = ServeSession(root / "mkdocs.yml", root / "site")
    serve.build()
    if demos:  # the runs are cached now; the warm-up note goes before the first step
        (root / "docs" / WARM_NOTE).unlink()
        _bump_clock()
        serve.build()
    applied: list[Edit] = []
    steps = 0
    try:
        for edit in edits:
            if not model.apply(root, edit):
                continue
            applied.append(edit)
            steps += 1
            _bump_clock()
            serve.build()
            report = difference(site_files(root / "site"), full_build(root, workdir / "reference"))
            if report is not None:
                return Failure(seed, steps, applied, report), steps
        return None, steps
    finally:
        _site_hook().serve_session().forget(root / "mkdocs.yml")


def _bump_clock() -> None:
    import time

    time.sleep(0.01)  # a new modification time even on coarse clocks (as tests/test_serve.py's edit)


def run_sequence(seed: int, steps: int, workdir: Path, kinds: dict[str, int] = EDITS, nav: bool = True,
                 demos: bool = False) -> tuple[Failure | None, int]:
    return run_edits(generate(seed, steps, kinds, demos), workdir, seed, nav, demos)


def shrink(failure: Failure, workdir: Path, nav: bool = True, demos: bool = False) -> Failure:
    """A shorter sequence that still fails: drop chunks of edits (halves, then quarters, ... then single
    edits) while what is left still fails; the failing last edit is kept."""
    best = failure
    chunk = max(1, (len(best.edits) - 1) // 2)
    while True:
        start = len(best.edits) - 1 - chunk
        while start >= 0:
            trial = best.edits[:start] + best.edits[start + chunk:]
            found, _ = run_edits(trial, workdir, failure.seed, nav, demos)
            if found is not None and len(found.edits) < len(best.edits):
                best = found
                start = min(start, len(best.edits) - 1) - chunk
            else:
                start -= chunk
        if chunk == 1:
            return best
        chunk = max(1, chunk // 2)


def _check(seed: int, tmp_path: Path, test: str, kinds: dict[str, int] = EDITS, nav: bool = True, demos: bool = False) -> None:
    failure, _ = run_sequence(seed, LENGTH, tmp_path, kinds, nav, demos)
    if failure is not None:
        replay = f"NOTES_PROPERTY_SEED={seed} NOTES_PROPERTY_LENGTH={LENGTH} pytest 'tests/test_serve_property.py::{test}[{seed}]'"
        pytest.fail(f"{failure}\nreplay: {replay}", pytrace=False)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_edits_under_serve_equal_full_builds(seed: int, tmp_path: Path, serve_mode, caplog) -> None:
    caplog.set_level(logging.ERROR)  # every build warns of the sequence's unresolved links
    _check(seed, tmp_path, "test_random_edits_under_serve_equal_full_builds")


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_random_edits_and_template_edits_under_serve_equal_full_builds(seed: int, tmp_path: Path, serve_mode, caplog) -> None:
    """The same with edits of the theme override (theme.custom_dir's main.html), which every page shows."""
    caplog.set_level(logging.ERROR)
    _check(seed, tmp_path, "test_random_edits_and_template_edits_under_serve_equal_full_builds", WITH_TEMPLATE)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_random_edits_under_serve_equal_full_builds_without_a_nav(seed: int, tmp_path: Path, serve_mode, caplog) -> None:
    """The same without `nav:` in mkdocs.yml (as an Obsidian vault comes): MkDocs lists every page that
    is not a note or a concept in the sidebar of every page, a new plain page included."""
    caplog.set_level(logging.ERROR)
    _check(seed, tmp_path, "test_random_edits_under_serve_equal_full_builds_without_a_nav", nav=False)


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_random_edits_with_demo_figures_under_serve_equal_full_builds(seed: int, tmp_path: Path, serve_mode, caplog) -> None:
    """The same with the demo hook and figure directives (a tiny demo of tests/fixtures/demo_project,
    every run it can be asked for made before the first step): galleries, previews, sliders."""
    caplog.set_level(logging.ERROR)
    _check(seed, tmp_path, "test_random_edits_with_demo_figures_under_serve_equal_full_builds", demos=True)


# Sequences that failed in earlier runs, shrunk (bench.serve_property --shrink): replayed as they are, so
# they stay tested whatever the generator comes to produce for their seeds.
FOUND = {
    "plain link to a note written later": [
        Edit("append", "notes/2024-02-10-beta-note.md", "A [plain link](2024-04-10-delta-note.md)."),
        Edit("create", "notes/2024-04-10-delta-note.md", ("note", "Delta note", "2024-04-10", ("A [plain link](../concepts/momentum.md).",))),
    ],
    "plain link to a note that becomes a draft": [
        Edit("append", "concepts/dropout.md", "A [plain link](../notes/2024-02-10-beta-note.md)."),
        Edit("flag", "notes/2024-02-10-beta-note.md", ("draft", True)),
    ],
    "a plain page links back to a concept that links it": [
        Edit("create", "reading-list.md", ("page", "Reading list", None, ("Text.",))),
        Edit("append", "concepts/weight-decay.md", "See [[Reading list]]."),
        Edit("append", "reading-list.md", "See [[Weight decay]]."),
    ],
    "theme override edited": [Edit("template", arg="Version 1")],
}
FOUND_WITHOUT_A_NAV = {  # mkdocs.yml without `nav:`
    "a note's text edited": [Edit("append", "notes/2024-02-10-beta-note.md", "More.")],
    "a new plain page": [Edit("create", "about.md", ("page", "About", None, ("Text.",)))],
}


@pytest.mark.parametrize("name", list(FOUND) + [f"without a nav: {n}" for n in FOUND_WITHOUT_A_NAV])
def test_sequences_found_earlier_under_serve_equal_full_builds(name: str, tmp_path: Path, serve_mode, caplog) -> None:
    caplog.set_level(logging.ERROR)
    nav = not name.startswith("without a nav: ")
    edits = FOUND[name] if nav else FOUND_WITHOUT_A_NAV[name.removeprefix("without a nav: ")]
    failure, steps = run_edits(edits, tmp_path, nav=nav)
    assert steps == len(edits), "an edit no longer applies to the starting site"
    if failure is not None:
        pytest.fail(f"{name}: {failure}", pytrace=False)
