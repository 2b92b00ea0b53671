"""Issue 22, second round: the build archive holds data and never code; what embeds, front matter,
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

from tests.conftest import build_site, write_site
from tests.hostile.conftest import Project, build, make_project, notes


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
    archived = json.loads((project.root / FILE).read_bytes())  # replaced by data
    assert archived["sources"] and archived["parsed"]
    assert build(project).rc == 0 and not marker.exists()


def test_an_archive_of_an_unknown_shape_is_read_as_empty_in_one_debug_line_and_replaced(tmp_path, caplog):
    from hooks.kb.archive import FILE, Archive, code_version
    from hooks.kb.graph import ParseCache, build_knowledge_base
    from hooks.kb.sources import SourceFile, SourceStore

    note = tmp_path / "docs" / "notes" / "2024-01-01-one.md"
    note.parent.mkdir(parents=True)
    note.write_text("---\ntitle: One\ndate: 2024-01-01\nwhen: 2024-01-01 10:00:00+02:00\nodd: {1: [.inf, !!binary aGk=]}\n---\n\nText.\n")
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
    data = json.loads((tmp_path / FILE).read_bytes())
    for damaged in ({**data, "sources": [[key, [1, 2]] for key, _ in data["sources"]]},  # entries of another shape
                    {**data, "parsed": {"no": "list"}}, ["not", "an", "object"], {**data, "version": "other"}):
        (tmp_path / FILE).write_text(json.dumps(damaged))
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="hooks.kb.archive"):
            kb, archive = session()
        assert archive.hits < 2 and kb.pages["notes/2024-01-01-one.md"].title == "One"
        assert len([r for r in caplog.records if r.name == "hooks.kb.archive"]) == 1
        assert json.loads((tmp_path / FILE).read_bytes())["version"] == code_version()  # replaced
