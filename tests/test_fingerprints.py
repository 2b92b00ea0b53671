"""A page's fingerprint covers everything on it: random sequences of a writer's edits, and after each,
every page whose fingerprint did not change shows exactly what it showed before.

This is the property the live preview rests on (hooks.site.fingerprints decides which pages a save
renders again), checked on the core alone: each step plans the site again with the session a serve
keeps (only changed files are read again) and writes every page as ``notes export`` does, with the
functions the hooks call. It is fast enough for hundreds of steps; tests/test_serve_property.py checks
the same through MkDocs against full builds. A failing sequence prints its seed: replay it with
``NOTES_FINGERPRINT_SEED=<seed> pytest tests/test_fingerprints.py``.
"""
from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from hooks import site
from hooks.kb import fragments, reading
from hooks.kb.sources import split_front_matter
from tests.conftest import write_site

VAULT_FOLDER = "Vault folder"
STEPS = int(os.environ.get("NOTES_FINGERPRINT_STEPS", "60"))  # per sequence
SEEDS = [int(os.environ["NOTES_FINGERPRINT_SEED"])] if "NOTES_FINGERPRINT_SEED" in os.environ else [1, 2, 3, 4, 5]


def _load(root: Path):
    from hooks.mkdocs_files import load_project

    return load_project(root / "mkdocs.yml")


def site_pages(plan: site.SitePlan) -> tuple[dict[str, int], dict[str, str]]:
    """Every page's fingerprint and its finished Markdown (as ``notes export`` writes it)."""
    generated = {uri: text for uri, text in site.site_files(plan).items() if uri.endswith(".md") and isinstance(text, str)}
    sources = {uri: site.page_source(plan, uri) for uri in plan.kb.pages}
    sources.update(generated)
    layout = site.concept_map_of(plan)
    pages = {}
    for uri, text in sources.items():
        _, markdown = split_front_matter(text)
        pages[uri] = site.exported_page(plan, uri, markdown, layout)
    return site.fingerprints(plan, sources), pages


class Writer:
    """A writer's edits on a tiny site's docs/: notes, concepts and a vault's undated pages created,
    edited, retitled, renamed, deleted, made drafts or private; aliases, tags, embeds, block ids;
    wikilinks and plain links, also to pages that do not exist yet."""

    def __init__(self, root: Path, rng: random.Random):
        self.docs, self.rng, self.count = root / "docs", rng, 0

    def pages(self, folder: str) -> list[Path]:
        return sorted((self.docs / folder).glob("*.md"))

    def notes(self) -> list[Path]:
        return [p for p in self.pages("notes") if p.name != "index.md"]

    def vault_pages(self) -> list[Path]:
        """Pages of a vault's folder: undated, mostly without front matter, names with spaces and accents."""
        return sorted((self.docs / VAULT_FOLDER).rglob("*.md"))

    def title_of(self, path: Path) -> str:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("title: "):
                return line[len("title: "):]
        return path.stem

    def some_link(self) -> str:
        """A wikilink or plain link to a page that exists, or to one that does not (yet)."""
        rng = self.rng
        kind = rng.choice(["wiki", "wiki", "plain", "heading", "missing", "plain-missing", "block"])
        pages = self.notes() + self.pages("concepts") + self.vault_pages()
        target = rng.choice(pages) if pages else None
        if kind == "wiki" and target:
            return f"[[{self.title_of(target)}]]"
        if kind == "heading" and target:
            return f"[[{target.stem}#Why it matters]]"
        if kind == "block" and target:
            return f"[[{target.stem}#^b{rng.randint(1, 3)}]]"
        if kind == "plain" and target and target.parent.name in ("notes", "concepts"):
            return f"[a page](../{target.parent.name}/{target.name})"
        if kind == "plain-missing":
            return f"[later](../notes/2024-0{rng.randint(5, 6)}-0{rng.randint(1, 3)}-n{rng.randint(1, 3)}.md)"
        return f"[[Note {rng.randint(1, 6)}]]"

    def note_text(self, title: str, date: str) -> str:
        rng = self.rng
        front = [f"title: {title}", f"date: {date}", f"tags: [t{rng.randint(1, 3)}]"]
        if rng.random() < 0.1:
            front.append("draft: true")
        body = [f"# {title}", "", f"About {self.some_link()} and {self.some_link()}."]
        if rng.random() < 0.3:
            body += ["", f"A claim. ^b{rng.randint(1, 3)}"]
        if rng.random() < 0.2:
            body += ["", "## Why it matters", "", "Because #inline-tag says so."]
        return "---\n" + "\n".join(front) + "\n---\n\n" + "\n".join(body) + "\n"

    def step(self) -> str:
        rng, notes, concepts = self.rng, self.notes(), self.pages("concepts")
        self.count += 1
        action = rng.choice(["create", "create", "edit", "edit", "retitle", "rename", "delete", "draft", "private",
                             "alias", "concept", "embed", "link-concept", "tag", "vault", "vault"])
        if action == "create" or not notes:
            n = rng.randint(1, 6)
            date = f"2024-0{rng.randint(5, 6)}-0{rng.randint(1, 3)}"
            path = self.docs / "notes" / f"{date}-n{n}.md"
            path.write_text(self.note_text(f"Note {n}", date), encoding="utf-8")
            return f"create {path.name}"
        if action == "vault":  # a vault's page written, rewritten or deleted; now and then dated or titled
            n = rng.randint(1, 4)
            path = self.docs / VAULT_FOLDER / ("Sous-dossier" if n % 2 else "") / f"Page {n} é.md"
            if path.exists() and rng.random() < 0.2:
                path.unlink()
                return f"vault delete {path.name}"
            front = rng.choice(["", "", "", f"---\ndate: 2024-05-0{rng.randint(1, 3)}\n---\n", f"---\ntitle: Titled {n}\ntags: [t1]\n---\n"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(front + f"Undated, about {self.some_link()} and [[Page {rng.randint(1, 4)} é]].\n", encoding="utf-8")
            return f"vault {path.relative_to(self.docs)}"
        path = rng.choice(notes)
        text = path.read_text(encoding="utf-8")
        if action == "edit":
            path.write_text(text + f"\nMore on {self.some_link()}.\n", encoding="utf-8")
        elif action == "retitle":
            target = rng.choice(notes + concepts)
            old = self.title_of(target)
            target.write_text(target.read_text(encoding="utf-8").replace(f"title: {old}", f"title: {old} {self.count}", 1), encoding="utf-8")
            return f"retitle {target.name}"
        elif action == "rename":
            date = path.name[:10]
            new = path.with_name(f"{date}-r{self.count}.md")
            path.rename(new)
            return f"rename {path.name} -> {new.name}"
        elif action == "delete":
            path.unlink()
        elif action == "draft":
            path.write_text(text.replace("\n---\n\n", "\ndraft: true\n---\n\n", 1) if "draft: true" not in text
                            else text.replace("draft: true\n", ""), encoding="utf-8")
        elif action == "private":
            path.write_text(text.replace("\n---\n\n", "\npublish: false\n---\n\n", 1) if "publish: false" not in text
                            else text.replace("publish: false\n", ""), encoding="utf-8")
        elif action == "alias":
            target = rng.choice(concepts)
            ctext = target.read_text(encoding="utf-8")
            target.write_text(ctext.replace("---\n", f"---\naliases: [Note {rng.randint(1, 6)}]\n", 1) if "aliases:" not in ctext
                              else ctext.replace("aliases: [", f"aliases: [Note {rng.randint(1, 6)}, ", 1), encoding="utf-8")
            return f"alias {target.name}"
        elif action == "concept":
            name = f"idea-{rng.randint(1, 3)}"
            (self.docs / "concepts" / f"{name}.md").write_text(
                f"---\ntitle: Idea {name[-1]}\n---\n\n# Idea {name[-1]}\n\nLinks {self.some_link()}.\n", encoding="utf-8")
            return f"concept {name}"
        elif action == "embed":
            target = rng.choice(notes + concepts)
            path.write_text(text + f"\n![[{target.stem}#Why it matters]]\n", encoding="utf-8")
        elif action == "link-concept":
            target = rng.choice(concepts)
            path.write_text(text + f"\nSee [[{self.title_of(target)}]].\n", encoding="utf-8")
        elif action == "tag":
            path.write_text(text + f"\nFiled under #topic/{rng.randint(1, 3)}.\n", encoding="utf-8")
        return f"{action} {path.name}"


def write_filler(docs: Path, count: int, rng: random.Random) -> None:
    """``count`` more notes, each linking one other and one concept: a site where an edit touches a few
    pages of many, so that a page left stale by a missing input is not hidden by one rendered anyway."""
    concepts = sorted(p.stem for p in (docs / "concepts").glob("*.md") if p.name != "index.md")
    for k in range(count):
        (docs / "notes" / f"2023-01-{k % 28 + 1:02d}-filler-{k}.md").write_text(
            f"---\ntitle: Filler {k}\ndate: 2023-01-{k % 28 + 1:02d}\n---\n\n# Filler {k}\n\n"
            f"After [[Filler {rng.randrange(count)}]], on [[{rng.choice(concepts)}]].\n", encoding="utf-8")


def check_sequence(tmp_path: Path, seed: int, steps: int, filler: int = 0, **overrides) -> list[str]:
    """Run one sequence, as serve would: after each edit, a page whose fingerprint changed is written
    again from this build's reads (kept from build to build), any other is left as it was; the steps
    at which a page so shown differs from the same page of a build made anew."""
    root = tmp_path / f"site-{seed}"
    root.mkdir()
    write_site(root, **overrides)
    write_filler(root / "docs", filler, random.Random(seed))
    project, files = _load(root)
    session = site.Session(project.root, keep_reads=True)  # as under serve
    prints, shown = site_pages(site.plan_site(project, files, session=session))
    writer, done, failures = Writer(root, random.Random(seed)), [], []
    for number in range(1, steps + 1):
        done.append(writer.step())
        time.sleep(0.002)  # a new modification time even on a coarse clock
        project, files = _load(root)
        new_prints, rendered = site_pages(site.plan_site(project, files, session=session))
        _, anew = site_pages(site.plan_site(project, files))
        shown = {uri: rendered[uri] if new_prints[uri] != prints.get(uri) or uri not in shown else shown[uri] for uri in rendered}
        wrong = sorted(uri for uri in anew if shown.get(uri) != anew[uri])
        if wrong:
            kept = [uri for uri in wrong if new_prints.get(uri) == prints.get(uri)]
            failures.append(f"seed {seed}, step {number} ({done[-1]}): pages differ from a build made anew: {wrong} "
                            f"(fingerprint unchanged: {kept}); edits so far: {done}")
            break
        prints = new_prints
    return failures


@pytest.mark.parametrize("seed", SEEDS)
def test_a_page_whose_fingerprint_did_not_change_did_not_change(tmp_path: Path, seed: int) -> None:
    failures = check_sequence(tmp_path, seed, STEPS)
    assert not failures, "\n".join(failures)


# Fragments whose data is not implied by the page's own text: leaving one out of the fingerprint must be caught.
NOT_FROM_OWN_TEXT = ["linked-from", "related", "pager", "local-graph", "newest", "month", "concept-map", "tags"]


@pytest.mark.parametrize("left_out", NOT_FROM_OWN_TEXT + ["page links"])
def test_leaving_one_input_out_of_the_fingerprint_is_caught(tmp_path: Path, monkeypatch, left_out: str) -> None:
    """The property test above fails when any one fragment's data (or what the page's own links lead
    to) is left out of the fingerprint while the page still shows it."""
    real_page_data, real_links = fragments.page_data, site.page_links

    def blind_page_data(ctx, src_uri, text):
        return tuple(item for item in real_page_data(ctx, src_uri, text) if item[0] != left_out)

    if left_out == "page links":
        monkeypatch.setattr(site, "fingerprints", _fingerprints_without_links)
    else:
        monkeypatch.setattr(fragments, "page_data", blind_page_data)
    # A local graph of one neighbour: what "Linked from" lists is then not also in the local graph's rows.
    monkeypatch.setattr(reading, "MAX_NEIGHBOURS", 1)
    caught = []
    for seed in range(1, 16):  # and a map of concepts only: the newest notes are then not also on the map
        caught += check_sequence(tmp_path, seed, STEPS, extra={"notes": {"feed_items": 2, "newest_on_home": 2, "map_notes": 0}})
        if caught:
            break
    monkeypatch.setattr(fragments, "page_data", real_page_data)
    assert caught, f"no sequence noticed that {left_out} was left out of the fingerprint"
    assert real_links is site.page_links


def _fingerprints_without_links(plan, sources, present=None):
    ctx = plan.context()
    return {uri: hash((text, fragments.page_data(ctx, uri, text or ""), plan.figure_data(uri))) for uri, text in sources.items()}


@pytest.mark.parametrize("table", ["pages", "links", "backlinks", "related", "older", "tags", "resolutions", "months"])
def test_a_read_of_the_knowledge_base_left_unnoted_is_caught(tmp_path: Path, monkeypatch, table: str) -> None:
    """Under serve a page's reads are kept until an entry they looked at changes (hooks.kb.recorded): were
    one table of the knowledge base to stop noting what is looked up in it, the property test fails."""
    from hooks.kb import recorded

    real_init = recorded.Tracked.__init__

    def unnoted(self, base, reads, prefix=""):
        real_init(self, base, reads, prefix)
        if table in vars(self):
            object.__setattr__(self, table, getattr(base, table))  # the table itself: its reads go unnoted

    monkeypatch.setattr(recorded.Tracked, "__init__", unnoted)
    monkeypatch.setattr(reading, "MAX_NEIGHBOURS", 1)
    caught = []
    for seed in range(1, 16):
        caught += check_sequence(tmp_path, seed, STEPS, filler=40, extra={"notes": {"feed_items": 2, "newest_on_home": 2, "map_notes": 0}})
        if caught:
            break
    assert caught, f"no sequence noticed that reads of kb.{table} went unnoted"


def test_the_site_with_filler_passes_when_every_read_is_noted(tmp_path: Path) -> None:
    """The control of the test above: the same sites and settings, nothing left unnoted."""
    for seed in (1, 2):
        assert not check_sequence(tmp_path, seed, STEPS, filler=40, extra={"notes": {"feed_items": 2, "newest_on_home": 2, "map_notes": 0}})


def _reads_again(tmp_path: Path, monkeypatch, edit) -> dict[str, int]:
    """A site of 40 notes whose links lead to headings of one another and of a concept (so that most
    previews show a linked section), planned as serve plans it; then ``edit(docs)`` and a second plan:
    how many of each read the second plan made again (a preview, an archive month, ...)."""
    root = tmp_path / "site"
    write_site(root)
    docs = root / "docs"
    for k in range(40):
        (docs / "notes" / f"2023-{k % 12 + 1:02d}-{k % 28 + 1:02d}-reader-{k}.md").write_text(
            f"---\ntitle: Reader {k}\ndate: 2023-{k % 12 + 1:02d}-{k % 28 + 1:02d}\n---\n\n# Reader {k}\n\nOpening words.\n\n"
            f"## Why it matters\n\nBecause of [[Reader {(k + 1) % 40}#Why it matters]].\n", encoding="utf-8")
    made: dict[str, int] = {}
    real = fragments.Context.kept

    def counted(self, key, make):
        def counting():
            kind = key[1] if key[0] == "" else key[1]
            made[str(kind)] = made.get(str(kind), 0) + 1
            return make()
        return real(self, key, counting)

    session = site.Session(root, keep_reads=True)
    project, files = _load(root)
    site_pages(site.plan_site(project, files, session=session))
    edit(docs)
    time.sleep(0.002)
    project, files = _load(root)
    monkeypatch.setattr(fragments.Context, "kept", counted)
    site_pages(site.plan_site(project, files, session=session))
    return made


def test_a_saved_sentence_reads_again_only_what_shows_it(tmp_path: Path, monkeypatch) -> None:
    """Under serve a save reads again what its change can reach, not what every save makes anew: a
    sentence added to one note's section re-reads that note's preview and the previews that show its
    section, not the forty previews that show sections of other notes (nor the archive's months)."""
    def edit(docs: Path) -> None:
        note = docs / "notes" / "2023-06-06-reader-5.md"
        note.write_text(note.read_text(encoding="utf-8") + "\nOne more sentence.\n", encoding="utf-8")

    made = _reads_again(tmp_path, monkeypatch, edit)
    assert made.get("preview", 0) <= 3, str(made)
    # an archive month lists each note's date, title, excerpt and concepts, none of which changed (a
    # read looks at the fields of a page it uses, not at its whole text); nor did the pager or the
    # backlinks of any page
    assert not {"month", "pager", "linked-from"} & made.keys(), str(made)


def test_a_read_of_a_pages_fields_is_kept_until_one_of_them_changes() -> None:
    """hooks.kb.recorded hands out a record (a page's PageInfo) as a view noting the fields read: a read
    of a title is kept when the page's text changes, made again when its title changes or the page
    goes, and a read that only asked whether the page is there is made again when it goes."""
    import dataclasses as dc

    from hooks.kb.recorded import Reads, tracked_table

    @dc.dataclass
    class Page:
        title: str
        body: str

    reads, made = Reads(), []

    def title_of(table, key):
        def make():
            made.append(key)
            page = table.get(key)
            return None if page is None else page.title
        return make

    def there(table, key):
        def make():
            made.append(("there", key))
            return table.get(key) is not None
        return make

    def build(pages: dict) -> list:
        made.clear()
        reads.begin({"pages": pages})
        table = tracked_table(pages, "pages", reads)
        return [reads.get(("title", k), title_of(table, k)) for k in ("a", "b")] + [reads.get(("there", "a"), there(table, "a"))]

    assert build({"a": Page("A", "text"), "b": Page("B", "text")}) == ["A", "B", True] and len(made) == 3
    assert build({"a": Page("A", "new text"), "b": Page("B", "text")}) == ["A", "B", True] and made == []
    assert build({"a": Page("A2", "new text"), "b": Page("B", "text")}) == ["A2", "B", True] and made == ["a"]
    assert build({"b": Page("B", "text")}) == [None, "B", False] and sorted(map(str, made)) == ["('there', 'a')", "a"]
    assert build({"a": Page("A", "text"), "b": Page("B", "text")}) == ["A", "B", True] and len(made) == 2
