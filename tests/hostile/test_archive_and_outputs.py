"""The build archive holds data and never code; what embeds, front matter,
titles, file names, static files and an export manifest can make a build do is bounded and reported."""
from __future__ import annotations

import datetime
import json
import logging
import os
import pickle
import time
from pathlib import Path

import pytest

from tests.hostile.conftest import build, make_project, notes


# --- 1. the archive is data ----------------------------------------------------------------------------

class _RunsCode:
    """Unpickling this calls os.system, which writes a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_at_the_archive_path_is_never_run_and_the_build_succeeds(tmp_path):
    from hooks.kb.archive import FILE

    project = make_project(tmp_path, demos=False)
    marker = tmp_path / "ran-code"
    payload = pickle.dumps({"version": "x", "sources": _RunsCode(marker)})
    for path in {project.root / FILE, project.root / ".kb-cache" / "parsed.pickle"}:  # the archive, and where it was kept
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
    assert notes(project.root, "check").rc == 0
    assert build(project).rc == 0
    assert not marker.exists(), "loading the archive ran code"
    archived = json.loads((project.root / FILE).read_bytes().split(b"\n", 1)[0])  # replaced by data: JSON, then the long texts
    assert archived["sources"] and archived["parsed"]
    assert build(project).rc == 0 and not marker.exists()


def test_an_archive_of_an_unknown_shape_is_read_as_empty_in_one_debug_line_and_replaced(tmp_path, caplog):
    from hooks.kb.archive import FILE, Archive, code_version
    from hooks.kb.graph import ParseCache, build_knowledge_base
    from hooks.kb.sources import SourceFile, SourceStore

    note = tmp_path / "docs" / "notes" / "2024-01-01-one.md"
    note.parent.mkdir(parents=True)
    note.write_text("---\ntitle: One\ndate: 2024-01-01\nwhen: 2024-01-01 10:00:00+02:00\nodd: {1: [.inf, !!binary aGk=]}\n---\n\n" + "Text long enough to be kept after the JSON. " * 20 + "\n")
    listed = [SourceFile("notes/2024-01-01-one.md", str(note), "docs/notes/2024-01-01-one.md")]

    def session():
        archive = Archive(tmp_path / FILE)
        kb = build_knowledge_base(SourceStore(archive).load(listed), cache=ParseCache(archive))
        archive.save()
        return kb, archive

    first, _ = session()
    again, archive = session()
    assert archive.hits == 2 and again.parsed["notes/2024-01-01-one.md"].source.meta == first.parsed["notes/2024-01-01-one.md"].source.meta
    assert again.parsed["notes/2024-01-01-one.md"].source.meta["when"] == datetime.datetime(2024, 1, 1, 8, tzinfo=datetime.timezone.utc)
    assert again.parsed["notes/2024-01-01-one.md"].source.meta["odd"] == {1: [float("inf"), b"hi"]}
    header, texts = (tmp_path / FILE).read_bytes().split(b"\n", 1)  # JSON, then the long texts its entries refer to
    assert texts.startswith(b"---\ntitle: One")
    data = json.loads(header)
    for damaged in ({**data, "sources": [[key, [1, 2]] for key, _ in data["sources"]]},  # entries of another shape
                    {**data, "parsed": {"no": "list"}}, ["not", "an", "object"], {**data, "version": "other"},
                    {**data, "texts": data["texts"] + 1}):  # texts cut short
        (tmp_path / FILE).write_bytes(json.dumps(damaged).encode() + b"\n" + texts)
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="hooks.kb.archive"):
            kb, archive = session()
        assert archive.hits < 2 and kb.pages["notes/2024-01-01-one.md"].title == "One"
        assert len([r for r in caplog.records if r.name == "hooks.kb.archive"]) == 1
        assert json.loads((tmp_path / FILE).read_bytes().split(b"\n", 1)[0])["version"] == code_version()  # replaced


def test_every_source_and_parse_of_the_fixture_vaults_reads_back_from_the_archive_as_it_was():
    from hooks.kb.graph import decode_parsed, encode_parsed, parse
    from hooks.kb.sources import decode_source, encode_source, parse_source
    from tests.conftest import FIXTURES

    extra = {"odd.md": "---\ntitle: Odd %%hidden%%\n---\n\n[[ a ]] [[a#b#c|d]] ![[e#^f]] %%x%%\n\n" + "long line. " * 40 + "\n"}
    texts = {str(p.relative_to(FIXTURES)): p.read_bytes() for p in sorted(FIXTURES.rglob("*.md"))}
    texts.update({uri: text.encode() for uri, text in extra.items()})
    assert len(texts) > 30
    for uri, data in texts.items():
        source = parse_source(uri, data, "docs/" + uri)
        source.digest = "d"
        again = decode_source(json.loads(json.dumps(encode_source(source))))
        assert again == source, uri
        for draft in (False, True):
            parsed = parse(source, draft)
            back = decode_parsed(source, json.loads(json.dumps(encode_parsed(parsed))))
            fields = ("page", "problems", "links", "excerpt", "has_tags_marker", "tags", "blocks")
            assert [getattr(back, f) for f in fields] == [getattr(parsed, f) for f in fields], uri


# --- 6. embeds fan out -----------------------------------------------------------------------------------

def test_notes_that_each_embed_the_next_ten_cost_a_bounded_time_and_output_with_the_cut_embed_named():
    from hooks.kb.graph import build_knowledge_base
    from hooks.kb.sources import parse_source
    page_bound, site_bound = 500_000, 10_000_000  # hooks.kb.transclude's MAX_CHARS and MAX_SITE_CHARS

    count = 30
    prose = "Prose about gradients, with a link to [[note-{next}]] and more words to read. " * 5 + "\n\n"
    sources = []
    for i in range(count):  # 30 notes of about 4 KB (120 KB in all); each embeds the next ten, 8 levels deep: 10^8 copies
        embeds = "\n\n".join(f"![[note-{j}]]" for j in range(i + 1, min(count, i + 11)))
        text = f"---\ntitle: Note {i}\n---\n\n# Note {i}\n\n{prose.format(next=(i + 1) % count) * 10}{embeds}\n"
        sources.append(parse_source(f"note-{i}.md", text.encode(), f"docs/note-{i}.md"))
    started = time.perf_counter()
    kb = build_knowledge_base(sources)
    seconds = time.perf_counter() - started
    shown = {uri: len(expansion.text) for uri, expansion in kb.expansions.items()}
    bodies = sum(len(s.body) for s in sources)
    assert seconds < 30, f"expanding the embeds took {seconds:.1f} s"
    assert max(shown.values()) <= page_bound + 10_000 and sum(shown.values()) <= site_bound + bodies, shown
    cut = [p for p in kb.problems if "is not shown" in p.message]
    first = next(p for p in cut if "docs/note-0.md would show more than 500,000 characters" in p.message)
    written = next(s for s in sources if s.display_path == first.path).text.splitlines()[first.line - 1]
    assert first.message.startswith(written + " is not shown") and "link to it instead" in first.message  # file:line of the embed cut
    assert any("would show more than 10,000,000 characters in all" in p.message for p in cut)  # the build's bound held too


# --- 10. comments in front matter; 11. characters XML forbids ---------------------------------------------

COMMENTED_NOTE = """\
---
title: "Visible title %%hidden-title%%"
date: 2030-01-02
description: "Public words %%secret-description%% and more."
aliases: ["Visible alias %%hidden-alias%%"]
---

# Visible title

The excerpt of this note. %%secret-body%%
"""

CONTROL_NOTE = """\
---
title: "Bell \\a and escape \\e in a title"
date: 2030-01-01
description: "A form feed \\f, a nul-free description"
tags: ["tag\\u0007"]
---

Body.
"""


def test_comments_in_front_matter_reach_no_meta_description_preview_or_feed(tmp_path):
    project = make_project(tmp_path, demos=False)
    project.page("notes/2030-01-02-commented.md", COMMENTED_NOTE)
    assert build(project).rc == 0
    site = project.site
    page = (site / "notes" / "2030-01-02-commented" / "index.html").read_text(encoding="utf-8")
    assert '<meta name="description" content="Public words  and more.">' in page or 'content="Public words and more."' in page
    previews = list(site.rglob("preview.json"))
    assert previews and any("Visible title" in p.read_text(encoding="utf-8") for p in previews)
    assert "Visible title" in (site / "feed.xml").read_text(encoding="utf-8")
    for path in [p for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".json", ".xml")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in ("hidden-title", "secret-description", "hidden-alias", "secret-body"):
            assert secret not in text, f"{secret} is in {path.relative_to(site)}"


def test_control_characters_in_a_title_leave_the_feed_valid_xml(tmp_path):
    import xml.etree.ElementTree as ET

    project = make_project(tmp_path, demos=False)
    project.page("notes/2030-01-01-control.md", CONTROL_NOTE)
    assert build(project, strict=False).rc == 0
    feed_text = (project.site / "feed.xml").read_text(encoding="utf-8")
    feed = ET.fromstring(feed_text.encode("utf-8"))  # a strict parser: one forbidden character fails it all
    titles = [item.findtext("title") for item in feed.iter("item")]
    assert "Bell  and escape  in a title" in titles
    assert "tag" in [c.text for c in feed.iter("category")]


# --- 12. one name in two Unicode forms ----------------------------------------------------------------

def test_the_nfc_and_nfd_forms_of_one_file_name_are_an_error_naming_both_files(tmp_path):
    import unicodedata

    project = make_project(tmp_path, demos=False)
    composed = unicodedata.normalize("NFC", "notes/2024-06-01-café.md")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    project.page(composed, "---\ntitle: Café one\ndate: 2024-06-01\n---\n\nOne.\n")
    project.page(decomposed, "---\ntitle: Café two\ndate: 2024-06-01\n---\n\nTwo.\n")
    outcome = notes(project.root, "check")
    assert outcome.rc == 1
    found = [line for line in outcome.problems() if "another Unicode form" in line]
    assert len(found) == 1 and found[0].startswith(f"docs/{composed}: ") and f"docs/{decomposed}" in found[0], outcome.text
    assert "rename or delete one of them" in found[0]
    assert build(project).rc == 1


# --- 13. a preview card of the site's own -------------------------------------------------------------------

def test_a_static_preview_json_where_the_build_writes_a_page_card_is_an_error_naming_it(tmp_path):
    project = make_project(tmp_path, demos=False)
    project.page("notes/2024-01-23-first-note/preview.json", '{"title": "not the generated card"}\n')
    expected = ("docs/notes/2024-01-23-first-note/preview.json: the build writes the preview card of "
                "docs/notes/2024-01-23-first-note.md here (notes/2024-01-23-first-note/preview.json); rename or delete this file")
    check = notes(project.root, "check")
    assert check.rc == 1 and expected in check.problems(), check.text
    built = build(project)
    assert built.rc == 1 and expected in built.problems(), built.text


# --- 14. a concept's title 10,000 characters long ---------------------------------------------------------

def test_a_very_long_concept_title_keeps_the_concept_maps_view_box_and_labels_bounded():
    from hooks.kb.fragments import concept_map_html
    from hooks.kb.graph import build_knowledge_base, concept_map
    from hooks.kb.sources import parse_source

    def site(long_title: str):
        texts = {f"concepts/c{i}.md": f"---\ntitle: Concept {i}\n---\n\nSee [[Concept {(i + 1) % 6}]].\n" for i in range(6)}
        texts["concepts/long.md"] = f"---\ntitle: {long_title}\n---\n\nSee [[Concept 1]].\n"
        kb = build_knowledge_base([parse_source(uri, text.encode(), "docs/" + uri) for uri, text in texts.items()])
        return kb, concept_map(kb, 0)

    _, usual = site("A usual title")
    title = "Long" + " word" * 2_000  # 10,004 characters
    kb, cmap = site(title)
    assert cmap.width <= usual.width * 1.25 and cmap.height <= usual.height * 1.25, (cmap.width, usual.width)
    assert cmap.narrow is not None and cmap.narrow.width <= usual.narrow.width * 1.25  # labels stay 13 px on a phone
    assert cmap.font == usual.font and cmap.narrow.font >= 13
    node = next(n for n in cmap.nodes if n.src_uri == "concepts/long.md")
    assert len(node.label) <= 40 and node.label.endswith("…") and node.title == title
    html = concept_map_html(cmap, {n.src_uri: n.src_uri for n in cmap.nodes})
    assert f"<title>{title}</title>" in html  # the full title stays on the node's link


# --- 17. an export manifest is not a licence to delete ------------------------------------------------------

@pytest.mark.parametrize("listed", [["precious.txt"], {"precious.txt": "0" * 64}], ids=["names", "wrong-hash"])
def test_notes_export_removes_only_files_whose_bytes_are_what_it_wrote(tmp_path, listed):
    from hooks.cli.export import MANIFEST, write_tree

    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"written_by": "notes export", "files": listed}))
    (out / "precious.txt").write_text("mine\n")
    done = write_tree({"docs/index.md": "# Home\n", "docs/old.md": "# Old\n"}, out)
    assert (out / "precious.txt").read_text() == "mine\n" and done.kept == ["precious.txt"] and done.removed == []
    (out / "docs" / "old.md").write_text("# Old, edited by hand\n")
    done = write_tree({"docs/index.md": "# Home\n"}, out)
    assert (out / "docs" / "old.md").is_file() and done.kept == ["docs/old.md"] and done.removed == []
    write_tree({"docs/index.md": "# Home\n", "docs/gone.md": "# Gone\n"}, out)
    done = write_tree({"docs/index.md": "# Home\n"}, out)  # what it wrote, unchanged: removed
    assert done.removed == ["docs/gone.md"] and not (out / "docs" / "gone.md").exists()


def test_notes_export_into_a_folder_whose_manifest_lists_a_precious_file_keeps_it_and_says_so(tmp_path):
    from hooks.cli.export import MANIFEST

    project = make_project(tmp_path, demos=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"written_by": "notes export", "files": ["precious.txt"]}))
    (out / "precious.txt").write_text("mine\n")
    outcome = notes(project.root, "export", str(out))
    assert outcome.rc == 0, outcome.text
    assert (out / "precious.txt").read_text() == "mine\n"
    assert f"{out / 'precious.txt'}: kept, though the previous export listed it" in outcome.text
